#pragma once
// A multi-layer perceptron on Eigen: dense layers, ReLU between them, softmax cross-entropy
// at the end, trained by mini-batch SGD with momentum, weight decay and an optional FedProx
// proximal term. All parameters live
// in one flat float vector (layer by layer: W as a column-major out x in matrix, then b),
// so a model travels and aggregates as a single tensor.
//
// Every call that computes reports the exact number of floating-point operations it did,
// counted from the shapes (see mlp.cpp for the formula): the simulator turns FLOPs into time.
//
// Thread-safety: an Mlp is not shared between threads; distinct Mlp objects are independent.

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "swarm/ml/dataset.hpp"
#include "swarm/ml/kernel.hpp"

namespace swarm::ml {

struct SgdOptions {
  int epochs = 1;
  int batch_size = 32;
  float lr = 0.05f;
  float momentum = 0.9f;
  float weight_decay = 0.0f;
  // FedProx (Li et al. 2020, "Federated Optimization in Heterogeneous Networks", eq. 2): the
  // local objective becomes loss(w) + prox_mu / 2 ||w - prox_center||^2, so every step's
  // gradient gets + prox_mu (w - prox_center). prox_center is the global model the round
  // started from (params() layout), read on every step: it must outlive the training call.
  // REQUIRES: prox_mu >= 0; when prox_mu != 0, prox_center.size() == num_params().
  float prox_mu = 0.0f;
  std::span<const float> prox_center;
};

struct TrainStats {
  double mean_loss = 0;  // mean training cross-entropy over the samples seen
  int64_t samples = 0;   // samples processed (epochs x data size)
  uint64_t flops = 0;
};

struct EvalStats {
  double accuracy = 0;  // share of correctly classified samples
  double loss = 0;      // mean cross-entropy
  int64_t samples = 0;
  uint64_t flops = 0;
};

class Mlp {
 public:
  static constexpr uint64_t kDefaultSeed = 1;

  // layer_sizes = {inputs, hidden..., classes}; at least two entries, all >= 1 (else
  // UsageError). The parameters start He-uniform from `seed`: init() with
  // std::mt19937_64(seed).
  explicit Mlp(std::vector<int> layer_sizes, uint64_t seed = kDefaultSeed);
  // With the given parameters (params() layout), drawing nothing. Throws UsageError unless
  // params.size() == param_count(layer_sizes).
  Mlp(std::vector<int> layer_sizes, std::span<const float> params);

  // The number of parameters of an MLP of these layer sizes; UsageError as the constructor.
  static int64_t param_count(const std::vector<int>& layer_sizes);

  const std::vector<int>& layer_sizes() const { return sizes_; }
  int64_t num_params() const { return static_cast<int64_t>(params_.size()); }

  // He-uniform weights and zero biases, from `rng` (re-initialisation). Resets the momentum.
  void init(std::mt19937_64& rng);

  // The GEMM kernel its products run on (default_kernel() until set). Kernels give different
  // numbers: every model of a run should use the run's kernel (choose_kernel()).
  // Throws swarm::UsageError for a kernel this build lacks.
  void set_kernel(Kernel kernel);
  Kernel kernel() const { return kernel_; }

  std::span<const float> params() const { return params_; }
  // REQUIRES: p.size() == num_params(). Also resets the momentum buffer.
  void set_params(std::span<const float> p);

  // Mini-batch SGD over `data` for options.epochs epochs; the sample order of each epoch is a
  // shuffle drawn from `rng`. The last batch of an epoch may be smaller.
  TrainStats train(const DatasetView& data, const SgdOptions& options, std::mt19937_64& rng);

  // One SGD step on a batch already in memory (x: inputs x B, y: B labels). Returns the
  // batch's summed loss (without the proximal term); adds the step's FLOPs to *flops.
  // Throws UsageError when the FedProx options are inconsistent (see SgdOptions).
  double train_batch(const Matrix& x, std::span<const uint8_t> y, const SgdOptions& options,
                     uint64_t* flops);

  // Mean loss over a batch and the gradient of it with respect to every parameter (same layout
  // as params()). For gradient checks.
  double loss_and_gradient(const Matrix& x, std::span<const uint8_t> y, std::vector<float>& grad);

  // Accuracy and mean loss over `data`, batch by batch, the batches shared among `threads`
  // OpenMP threads. The sums are taken in batch order: the result does not depend on `threads`.
  EvalStats evaluate(const DatasetView& data, int batch_size = 1000, int threads = 1) const;

  // FLOPs of one train_batch with `options` on a batch of `batch` samples. The SGD update's
  // share depends on whether momentum, weight decay and the proximal term are on (see mlp.cpp).
  uint64_t train_flops(int64_t batch, const SgdOptions& options) const { return train_flops(sizes_, batch, options); }
  // train_flops(batch, SgdOptions{}): momentum on, no weight decay.
  uint64_t train_flops(int64_t batch) const { return train_flops(batch, SgdOptions{}); }
  // FLOPs of one evaluation forward pass (logits, softmax, loss) on `batch` samples.
  uint64_t forward_flops(int64_t batch) const { return forward_flops(sizes_, batch); }

  // The same counts from the layer sizes alone, without a model (timing-only runs: what a real
  // run would report, to the FLOP). UsageError on bad sizes, as the constructor.
  static uint64_t train_flops(const std::vector<int>& layer_sizes, int64_t batch, const SgdOptions& options);
  static uint64_t forward_flops(const std::vector<int>& layer_sizes, int64_t batch);
  // What train() reports for `samples` samples: options.epochs epochs of full batches of
  // options.batch_size and a smaller last one.
  static uint64_t train_total_flops(const std::vector<int>& layer_sizes, int64_t samples, const SgdOptions& options);
  // What evaluate() reports for `samples` samples in batches of `batch_size`.
  static uint64_t evaluate_total_flops(const std::vector<int>& layer_sizes, int64_t samples, int batch_size);

 private:
  // Packing buffers of the matrix products; defined in mlp.cpp.
  struct Products;

  // Scratch for batches of up to `capacity` samples; a smaller batch uses the first columns.
  // act[l] (l = 1..L) holds layer l's output, and after the loss, act[L] holds the gradient of
  // the loss with respect to the logits. delta[l] (l = 1..L-1) holds the gradient with respect
  // to layer l's pre-activation. Index 0 is unused (the input is the batch itself).
  // A copy starts empty: scratch is never shared between models.
  struct Workspace {
    Workspace();
    ~Workspace();
    Workspace(const Workspace&);
    Workspace& operator=(const Workspace&);
    Workspace(Workspace&&) noexcept;
    Workspace& operator=(Workspace&&) noexcept;

    std::vector<Matrix> act, delta;
    std::vector<float> bias_grad;  // a layer's bias gradient, for SGD without momentum
    std::unique_ptr<Products> products;
    int64_t capacity = 0;
  };

  int num_layers() const { return static_cast<int>(sizes_.size()) - 1; }
  // Checks sizes_ and lays out the (zero) parameters; the constructors' common part.
  void lay_out();
  // Grows `ws` to hold `batch` samples for the forward pass; allocates only when the batch is
  // larger than ever. reserve_backward adds what backward() needs, once per capacity.
  void reserve(Workspace& ws, int64_t batch) const;
  void reserve_backward(Workspace& ws) const;
  // Leaves the logits of x (inputs x batch, column-major, x.cols() samples) in ws.act[L] and
  // hidden activations in ws.act[1..L-1].
  void forward(Eigen::Map<const Matrix> x, Workspace& ws) const;
  void forward(const Matrix& x, Workspace& ws) const { forward(Eigen::Map<const Matrix>(x.data(), x.rows(), x.cols()), ws); }
  // Backpropagates from the logit gradient in ws.act[L]. With `grad` non-null, writes the
  // gradient there (params() layout); otherwise applies the SGD step of `options`.
  void backward(const Matrix& x, Workspace& ws, const SgdOptions& options, float* grad);
  void validate_data(const DatasetView& data) const;
  void validate_prox(const SgdOptions& options) const;

  std::vector<int> sizes_;
  std::vector<int64_t> weight_offset_, bias_offset_;  // per layer l = 1..L, into params_
  std::vector<float> params_;
  std::vector<float> velocity_;
  Kernel kernel_ = default_kernel();
  // Kept between calls so that training does not allocate after the first batch of a size.
  Workspace train_ws_;
  Matrix batch_x_, tail_x_;  // full batches, and an epoch's smaller last batch
  std::vector<uint8_t> batch_y_;
  std::vector<uint32_t> order_;
};

}  // namespace swarm::ml
