#include "swarm/ml/mlp.hpp"

#include "ml/gemm.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>
#include <memory>
#include <string>

#include "swarm/error.hpp"

// Floating-point operations, counted from the shapes.
//
// n_0 .. n_L are the layer sizes (L layers of weights), B the batch size, P = num_params() =
// sum_l n_l (n_{l-1} + 1). Conventions:
//  - a matrix product (m x k) times (k x n) costs 2mnk: k multiplies and k adds per entry;
//  - a sum of B terms costs B;
//  - any other add, subtract, multiply, divide, max, compare, exp or log of an element costs 1;
//  - arithmetic on scalars done once per layer or per batch (lr * wd, 1 / B) is not counted;
//  - the SGD update costs the operations of its textbook form, per parameter:
//      g += wd * w      2, only when weight_decay != 0
//      g += mu (w - w0) 3, only when prox_mu != 0 (FedProx: subtract, multiply, add)
//      v = m * v + g    2, only when momentum != 0
//      w -= lr * v      2 (lr * g without momentum)
//    The code fuses these passes (and folds g into v inside the product) without changing the
//    count.
//
// forward_flops(B) = B * [ sum_{l=1..L} (2 n_{l-1} n_l + n_l)   product W_l A_{l-1}, bias add
//                        + sum_{l=1..L-1} n_l                    ReLU
//                        + 4 n_L + 4 ]                           softmax cross-entropy
//   where the softmax cross-entropy of a sample is: max of the logits (n_L compares), the
//   label's logit minus the max (1), exp(z - max) (2 n_L), their sum (n_L), then the log of
//   the sum, minus the shifted label logit, added to the batch loss (3).
//
// train_flops(B) = forward_flops(B)
//   + B (n_L + 2)                                   logit gradient: s = (1/B) / sum (1),
//                                                   each exp times s (n_L), label entry - 1/B (1)
//   + sum_{l=1..L} (2 n_l B n_{l-1} + n_l B)        dW_l = dZ_l A_{l-1}^T, db_l = row sums of dZ_l
//   + sum_{l=2..L} (2 n_{l-1} n_l B + n_{l-1} B)    dA_{l-1} = W_l^T dZ_l, ReLU mask
//   + P * (2 + 2 [momentum != 0] + 2 [weight_decay != 0] + 3 [prox_mu != 0])   SGD update
//
// No dA_0 is computed: nothing needs the gradient with respect to the input.

namespace swarm::ml {
namespace {

using MatMap = Eigen::Map<Matrix>;
using ConstVecMap = Eigen::Map<const Vector>;

// Per-sample softmax cross-entropy FLOPs beyond the per-logit ones (see the formula above).
constexpr uint64_t kLossFlopsPerLogit = 4;
constexpr uint64_t kLossFlopsPerSample = 4;
constexpr uint64_t kLogitGradFlopsPerSample = 2;

// Softmax cross-entropy of each column of the logits z against labels y. Returns the summed
// loss and counts the columns whose largest logit (the first, on ties) is the label.
// With grad_scale != 0 leaves grad_scale * (softmax(z) - onehot(y)) in z, the gradient of
// grad_scale times the summed loss; otherwise z is left holding exp(z - max).
double softmax_cross_entropy(MatMap z, std::span<const uint8_t> y, float grad_scale,
                             int64_t* correct) {
  const Eigen::Index n = z.rows();
  double loss = 0;
  int64_t right = 0;
  for (Eigen::Index j = 0; j < z.cols(); ++j) {
    float* c = z.col(j).data();
    const int label = y[j];
    float max = -std::numeric_limits<float>::infinity();
    int arg = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      if (c[i] > max) {
        max = c[i];
        arg = static_cast<int>(i);
      }
    }
    right += (arg == label);
    const float shifted_label = c[label] - max;
    float sum = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      c[i] = std::exp(c[i] - max);
      sum += c[i];
    }
    loss += static_cast<double>(std::log(sum) - shifted_label);
    if (grad_scale != 0) {
      const float s = grad_scale / sum;
      for (Eigen::Index i = 0; i < n; ++i) c[i] *= s;
      c[label] -= grad_scale;
    }
  }
  if (correct != nullptr) *correct += right;
  return loss;
}

// z = max(z, 0), elementwise.
void relu(MatMap z) {
  float* p = z.data();
  const Eigen::Index size = z.size();
  for (Eigen::Index i = 0; i < size; ++i) p[i] = std::max(p[i], 0.0f);
}

// out += sum of the columns of d (the bias gradient, n_l B adds).
void add_row_sums(const MatMap& d, float* out) {
  const Eigen::Index n = d.rows();
  for (Eigen::Index j = 0; j < d.cols(); ++j) {
    const float* c = d.col(j).data();
    for (Eigen::Index i = 0; i < n; ++i) out[i] += c[i];
  }
}

// d = 0 where the ReLU output a is 0 (its input was <= 0), elementwise.
void relu_mask(MatMap d, const MatMap& a) {
  float* dp = d.data();
  const float* ap = a.data();
  const Eigen::Index size = d.size();
  for (Eigen::Index i = 0; i < size; ++i) dp[i] = ap[i] > 0.0f ? dp[i] : 0.0f;
}

}  // namespace

// The matrix products of a training step, each shape with its own Gemm (see gemm.hpp).
struct Mlp::Products {
  // Per layer l = 1..L: z_l = W_l a_{l-1}; da_{l-1} = W_l^T dz_l; dW_l = dz_l a_{l-1}^T.
  std::vector<std::unique_ptr<Gemm>> forward, input_grad, weight_grad;
};

Mlp::Workspace::Workspace() = default;
Mlp::Workspace::~Workspace() = default;
Mlp::Workspace::Workspace(const Workspace&) : Workspace() {}
Mlp::Workspace& Mlp::Workspace::operator=(const Workspace& other) {
  if (this != &other) *this = Workspace();
  return *this;
}
Mlp::Workspace::Workspace(Workspace&&) noexcept = default;
Mlp::Workspace& Mlp::Workspace::operator=(Workspace&&) noexcept = default;

int64_t Mlp::param_count(const std::vector<int>& sizes) {
  if (sizes.size() < 2) {
    throw UsageError("an MLP needs at least an input and an output layer, got " +
                     std::to_string(sizes.size()) + " layer size(s)");
  }
  for (int n : sizes) {
    if (n < 1) throw UsageError("MLP layer sizes must be >= 1, got " + std::to_string(n));
  }
  int64_t count = 0;
  for (size_t l = 1; l < sizes.size(); ++l) count += int64_t{sizes[l]} * sizes[l - 1] + sizes[l];
  return count;
}

Mlp::Mlp(std::vector<int> layer_sizes, uint64_t seed) : sizes_(std::move(layer_sizes)) {
  lay_out();
  std::mt19937_64 rng(seed);
  init(rng);
}

Mlp::Mlp(std::vector<int> layer_sizes, std::span<const float> params) : sizes_(std::move(layer_sizes)) {
  lay_out();
  set_params(params);
}

void Mlp::lay_out() {
  param_count(sizes_);  // validates
  const int L = num_layers();
  weight_offset_.assign(L + 1, 0);
  bias_offset_.assign(L + 1, 0);
  int64_t offset = 0;
  for (int l = 1; l <= L; ++l) {
    weight_offset_[l] = offset;
    offset += int64_t{sizes_[l]} * sizes_[l - 1];
    bias_offset_[l] = offset;
    offset += sizes_[l];
  }
  params_.assign(static_cast<size_t>(offset), 0.0f);
  velocity_.assign(params_.size(), 0.0f);
}

void Mlp::init(std::mt19937_64& rng) {
  // Uniform in [-bound, bound) from the raw 64-bit draws (the same on every standard library),
  // bound = sqrt(6 / fan_in) (He et al. 2015, for ReLU).
  for (int l = 1; l <= num_layers(); ++l) {
    const float bound = std::sqrt(6.0f / static_cast<float>(sizes_[l - 1]));
    float* w = params_.data() + weight_offset_[l];
    const int64_t count = int64_t{sizes_[l]} * sizes_[l - 1];
    for (int64_t i = 0; i < count; ++i) {
      const float u = static_cast<float>(rng() >> 40) * 0x1p-24f;  // [0, 1)
      w[i] = (2.0f * u - 1.0f) * bound;
    }
    std::fill_n(params_.data() + bias_offset_[l], sizes_[l], 0.0f);
  }
  std::fill(velocity_.begin(), velocity_.end(), 0.0f);
}

void Mlp::set_kernel(Kernel kernel) {
  if (kernel == kernel_) return;
  const std::vector<Kernel>& built = available_kernels();
  if (std::find(built.begin(), built.end(), kernel) == built.end()) {
    throw UsageError("kernel " + std::string(kernel_name(kernel)) + " is not in this build");
  }
  kernel_ = kernel;
  train_ws_ = Workspace();  // its products were made for the other kernel
}

void Mlp::set_params(std::span<const float> p) {
  if (static_cast<int64_t>(p.size()) != num_params()) {
    throw UsageError("parameter vector has " + std::to_string(p.size()) +
                     " values, the model has " + std::to_string(num_params()));
  }
  std::copy(p.begin(), p.end(), params_.begin());
  std::fill(velocity_.begin(), velocity_.end(), 0.0f);
}

uint64_t Mlp::forward_flops(const std::vector<int>& sizes, int64_t batch) {
  param_count(sizes);  // checks the sizes
  const int L = static_cast<int>(sizes.size()) - 1;
  uint64_t per_sample = 0;
  for (int l = 1; l <= L; ++l) {
    per_sample += 2 * uint64_t(sizes[l - 1]) * sizes[l] + sizes[l];
    if (l < L) per_sample += sizes[l];
  }
  per_sample += kLossFlopsPerLogit * sizes[L] + kLossFlopsPerSample;
  return per_sample * uint64_t(batch);
}

uint64_t Mlp::train_flops(const std::vector<int>& sizes, int64_t batch, const SgdOptions& options) {
  const int L = static_cast<int>(sizes.size()) - 1;
  const uint64_t forward = forward_flops(sizes, batch);
  uint64_t per_sample = sizes[L] + kLogitGradFlopsPerSample;
  for (int l = 1; l <= L; ++l) {
    per_sample += 2 * uint64_t(sizes[l]) * sizes[l - 1] + sizes[l];
    if (l >= 2) per_sample += 2 * uint64_t(sizes[l - 1]) * sizes[l] + sizes[l - 1];
  }
  const uint64_t per_param = 2 + (options.momentum != 0 ? 2 : 0) +
                             (options.weight_decay != 0 ? 2 : 0) + (options.prox_mu != 0 ? 3 : 0);
  return forward + per_sample * uint64_t(batch) + per_param * uint64_t(param_count(sizes));
}

uint64_t Mlp::train_total_flops(const std::vector<int>& sizes, int64_t samples, const SgdOptions& options) {
  if (samples <= 0 || options.epochs <= 0 || options.batch_size < 1) return 0;
  const int64_t full = samples / options.batch_size, rest = samples % options.batch_size;
  uint64_t epoch = uint64_t(full) * train_flops(sizes, options.batch_size, options);
  if (rest > 0) epoch += train_flops(sizes, rest, options);
  return epoch * uint64_t(options.epochs);
}

uint64_t Mlp::evaluate_total_flops(const std::vector<int>& sizes, int64_t samples, int batch_size) {
  if (samples <= 0 || batch_size < 1) return 0;
  // forward_flops is linear in the batch: the batches add up to the whole set.
  return forward_flops(sizes, samples);
}

void Mlp::reserve(Workspace& ws, int64_t batch) const {
  if (batch <= ws.capacity) return;
  const int L = num_layers();
  ws.act.resize(L + 1);
  ws.delta.resize(L);
  ws.products = std::make_unique<Products>();
  ws.products->forward.resize(L + 1);
  for (int l = 1; l <= L; ++l) {
    ws.act[l].resize(sizes_[l], batch);
    if (l < L) ws.delta[l].resize(sizes_[l], batch);
    ws.products->forward[l] = std::make_unique<Gemm>(kernel_, sizes_[l], batch, sizes_[l - 1]);
  }
  ws.bias_grad.resize(*std::max_element(sizes_.begin(), sizes_.end()));
  ws.capacity = batch;
}

void Mlp::reserve_backward(Workspace& ws) const {
  Products& p = *ws.products;
  if (!p.weight_grad.empty()) return;
  const int L = num_layers();
  const int64_t batch = ws.capacity;
  p.input_grad.resize(L + 1);
  p.weight_grad.resize(L + 1);
  for (int l = 1; l <= L; ++l) {
    if (l > 1) p.input_grad[l] = std::make_unique<Gemm>(kernel_, sizes_[l - 1], batch, sizes_[l]);
    p.weight_grad[l] = std::make_unique<Gemm>(kernel_, sizes_[l], sizes_[l - 1], batch);
  }
}

void Mlp::forward(Eigen::Map<const Matrix> x, Workspace& ws) const {
  assert(x.rows() == sizes_[0]);
  const int L = num_layers();
  const Eigen::Index B = x.cols();
  reserve(ws, B);
  for (int l = 1; l <= L; ++l) {
    const int n_out = sizes_[l];
    const int n_in = sizes_[l - 1];
    const float* w = params_.data() + weight_offset_[l];
    ConstVecMap b(params_.data() + bias_offset_[l], n_out);
    const float* in = l == 1 ? x.data() : ws.act[l - 1].data();
    MatMap z(ws.act[l].data(), n_out, B);
    // z = b + W a, the product accumulated onto the broadcast bias, then the ReLU.
    z.colwise() = b;
    ws.products->forward[l]->run(Op::Plain, Op::Plain, n_out, B, n_in, 1.0f, w, n_out, in, n_in,
                                 1.0f, z.data(), n_out);
    if (l < L) relu(z);
  }
}

void Mlp::backward(const Matrix& x, Workspace& ws, const SgdOptions& options, float* grad) {
  const int L = num_layers();
  const Eigen::Index B = x.cols();
  const float lr = options.lr;
  const float m = options.momentum;
  const float wd = options.weight_decay;
  const float mu = options.prox_mu;  // the proximal term's branches run only when mu != 0
  reserve_backward(ws);
  Products& products = *ws.products;
  for (int l = L; l >= 1; --l) {
    const int n_out = sizes_[l];
    const int n_in = sizes_[l - 1];
    const int64_t weights = int64_t{n_out} * n_in;
    float* w = params_.data() + weight_offset_[l];
    float* b = params_.data() + bias_offset_[l];
    MatMap dz(l == L ? ws.act[L].data() : ws.delta[l].data(), n_out, B);
    const float* in = l == 1 ? x.data() : ws.act[l - 1].data();
    // dst = alpha dz a^T + beta dst, a being n_in x B: the weight gradient, scaled.
    auto add_weight_grad = [&](float* dst, float alpha, float beta) {
      products.weight_grad[l]->run(Op::Plain, Op::Transposed, n_out, n_in, B, alpha, dz.data(),
                                   n_out, in, n_in, beta, dst, n_out);
    };

    // The gradient flowing down uses this layer's weights before the update:
    // da = W^T dz, W being n_out x n_in.
    if (l > 1) {
      products.input_grad[l]->run(Op::Transposed, Op::Plain, n_in, B, n_out, 1.0f, w, n_out,
                                  dz.data(), n_out, 0.0f, ws.delta[l - 1].data(), n_in);
    }

    if (grad != nullptr) {
      float* gw = grad + weight_offset_[l];
      float* gb = grad + bias_offset_[l];
      add_weight_grad(gw, 1.0f, 0.0f);
      std::fill_n(gb, n_out, 0.0f);
      add_row_sums(dz, gb);
    } else if (m != 0) {
      // v = m v + wd w + g, with g accumulated by the product itself (which also scales v by
      // m when there is nothing else to add: one pass over v fewer); then w -= lr v.
      float* v = velocity_.data() + weight_offset_[l];
      float* vb = velocity_.data() + bias_offset_[l];
      if (mu != 0) {
        // v = m v + wd w + mu (w - w0) + g.
        const float* cw = options.prox_center.data() + weight_offset_[l];
        const float* cb = options.prox_center.data() + bias_offset_[l];
        for (int64_t i = 0; i < weights; ++i) v[i] = m * v[i] + wd * w[i] + mu * (w[i] - cw[i]);
        for (int i = 0; i < n_out; ++i) vb[i] = m * vb[i] + wd * b[i] + mu * (b[i] - cb[i]);
      } else if (wd != 0) {
        for (int64_t i = 0; i < weights; ++i) v[i] = m * v[i] + wd * w[i];
        for (int i = 0; i < n_out; ++i) vb[i] = m * vb[i] + wd * b[i];
      } else {
        for (int i = 0; i < n_out; ++i) vb[i] *= m;
      }
      add_weight_grad(v, 1.0f, mu == 0 && wd == 0 ? m : 1.0f);
      add_row_sums(dz, vb);
      for (int64_t i = 0; i < weights; ++i) w[i] -= lr * v[i];
      for (int i = 0; i < n_out; ++i) b[i] -= lr * vb[i];
    } else {
      // w -= lr (g + wd w + mu (w - w0)): the decay and proximal term first, then the
      // product scaled by -lr onto w.
      if (mu != 0) {
        const float* cw = options.prox_center.data() + weight_offset_[l];
        const float* cb = options.prox_center.data() + bias_offset_[l];
        for (int64_t i = 0; i < weights; ++i) w[i] -= lr * (wd * w[i] + mu * (w[i] - cw[i]));
        for (int i = 0; i < n_out; ++i) b[i] -= lr * (wd * b[i] + mu * (b[i] - cb[i]));
      } else if (wd != 0) {
        const float decay = lr * wd;
        for (int64_t i = 0; i < weights; ++i) w[i] -= decay * w[i];
        for (int i = 0; i < n_out; ++i) b[i] -= decay * b[i];
      }
      add_weight_grad(w, -lr, 1.0f);
      float* gb = ws.bias_grad.data();
      std::fill_n(gb, n_out, 0.0f);
      add_row_sums(dz, gb);
      for (int i = 0; i < n_out; ++i) b[i] -= lr * gb[i];
    }

    if (l > 1) {
      relu_mask(MatMap(ws.delta[l - 1].data(), n_in, B), MatMap(ws.act[l - 1].data(), n_in, B));
    }
  }
}

double Mlp::train_batch(const Matrix& x, std::span<const uint8_t> y, const SgdOptions& options,
                        uint64_t* flops) {
  assert(static_cast<Eigen::Index>(y.size()) == x.cols() && x.cols() >= 1);
  validate_prox(options);
  const int L = num_layers();
  const Eigen::Index B = x.cols();
  forward(x, train_ws_);
  const double loss = softmax_cross_entropy(MatMap(train_ws_.act[L].data(), sizes_[L], B), y,
                                            1.0f / static_cast<float>(B), nullptr);
  backward(x, train_ws_, options, nullptr);
  if (flops != nullptr) *flops += train_flops(B, options);
  return loss;
}

double Mlp::loss_and_gradient(const Matrix& x, std::span<const uint8_t> y,
                              std::vector<float>& grad) {
  assert(static_cast<Eigen::Index>(y.size()) == x.cols() && x.cols() >= 1);
  const int L = num_layers();
  const Eigen::Index B = x.cols();
  forward(x, train_ws_);
  const double loss = softmax_cross_entropy(MatMap(train_ws_.act[L].data(), sizes_[L], B), y,
                                            1.0f / static_cast<float>(B), nullptr);
  grad.resize(params_.size());
  backward(x, train_ws_, SgdOptions{}, grad.data());
  return loss / static_cast<double>(B);
}

void Mlp::validate_data(const DatasetView& data) const {
  if (data.empty()) return;
  if (data.num_features() != sizes_.front()) {
    throw UsageError("dataset " + data.storage().name + " has " +
                     std::to_string(data.num_features()) + " features, the model takes " +
                     std::to_string(sizes_.front()));
  }
  if (data.num_classes() > sizes_.back()) {
    throw UsageError("dataset " + data.storage().name + " has " +
                     std::to_string(data.num_classes()) + " classes, the model outputs " +
                     std::to_string(sizes_.back()));
  }
}

void Mlp::validate_prox(const SgdOptions& options) const {
  if (!(options.prox_mu >= 0)) {
    throw UsageError("FedProx prox_mu must be >= 0, got " + std::to_string(options.prox_mu));
  }
  if (options.prox_mu != 0 && static_cast<int64_t>(options.prox_center.size()) != num_params()) {
    throw UsageError("FedProx center has " + std::to_string(options.prox_center.size()) +
                     " values, the model has " + std::to_string(num_params()));
  }
}

TrainStats Mlp::train(const DatasetView& data, const SgdOptions& options, std::mt19937_64& rng) {
  if (options.batch_size < 1) {
    throw UsageError("batch size must be >= 1, got " + std::to_string(options.batch_size));
  }
  if (options.epochs < 0) {
    throw UsageError("epochs must be >= 0, got " + std::to_string(options.epochs));
  }
  validate_prox(options);
  validate_data(data);
  TrainStats stats;
  const int64_t n = data.size();
  if (n == 0) return stats;
  order_.resize(static_cast<size_t>(n));
  std::iota(order_.begin(), order_.end(), 0u);
  double loss = 0;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    std::shuffle(order_.begin(), order_.end(), rng);
    for (int64_t begin = 0; begin < n; begin += options.batch_size) {
      const int64_t end = std::min(n, begin + options.batch_size);
      // Two buffers so that an epoch's short last batch does not reallocate the full one.
      Matrix& x = (end - begin == options.batch_size) ? batch_x_ : tail_x_;
      data.gather(order_, begin, end, x, batch_y_);
      loss += train_batch(x, batch_y_, options, &stats.flops);
      stats.samples += end - begin;
    }
  }
  stats.mean_loss = stats.samples > 0 ? loss / static_cast<double>(stats.samples) : 0.0;
  return stats;
}

EvalStats Mlp::evaluate(const DatasetView& data, int batch_size, int threads) const {
  if (batch_size < 1) {
    throw UsageError("batch size must be >= 1, got " + std::to_string(batch_size));
  }
  validate_data(data);
  EvalStats stats;
  const int64_t n = data.size();
  if (n == 0) return stats;
  const int L = num_layers();
  std::vector<uint32_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0u);
  const int64_t batches = (n + batch_size - 1) / batch_size;
  std::vector<double> batch_loss(static_cast<size_t>(batches));
  std::vector<int64_t> batch_correct(static_cast<size_t>(batches));
  // An exception must not leave a parallel region: the first one is kept and rethrown after.
  std::exception_ptr error;
#pragma omp parallel num_threads(std::max(1, threads))
  {
    Workspace ws;
    Matrix x;
    std::vector<uint8_t> y;
    try {
      reserve(ws, std::min<int64_t>(n, batch_size));  // every thread sized alike
    } catch (...) {
#pragma omp critical(swarm_mlp_evaluate_error)
      if (!error) error = std::current_exception();
    }
#pragma omp for schedule(static)
    for (int64_t b = 0; b < batches; ++b) {
      try {
      const int64_t begin = b * batch_size;
      const int64_t end = std::min(n, begin + int64_t{batch_size});
      // A run of consecutive samples (a whole test set) is read in place, not copied.
      const std::vector<uint32_t>& index = data.indices();
      bool consecutive = true;
      for (int64_t j = begin + 1; j < end && consecutive; ++j) consecutive = index[j] == index[j - 1] + 1;
      if (consecutive) {
        const DatasetStorage& st = data.storage();
        forward(Eigen::Map<const Matrix>(st.features.col(index[begin]).data(), st.features.rows(), end - begin), ws);
        y.assign(st.labels.begin() + index[begin], st.labels.begin() + index[begin] + (end - begin));
      } else {
        data.gather(order, begin, end, x, y);
        forward(x, ws);
      }
      batch_loss[b] = softmax_cross_entropy(MatMap(ws.act[L].data(), sizes_[L], end - begin), y,
                                            0.0f, &batch_correct[b]);
      } catch (...) {
#pragma omp critical(swarm_mlp_evaluate_error)
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
  double loss = 0;
  int64_t correct = 0;
  for (int64_t b = 0; b < batches; ++b) {
    loss += batch_loss[b];
    correct += batch_correct[b];
    stats.flops += forward_flops(std::min(n - b * batch_size, int64_t{batch_size}));
  }
  stats.samples = n;
  stats.loss = loss / static_cast<double>(n);
  stats.accuracy = static_cast<double>(correct) / static_cast<double>(n);
  return stats;
}

}  // namespace swarm::ml
