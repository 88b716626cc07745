// Throughput of one MLP training step (784-200-200-10, the Fashion-MNIST model) against the
// bare matrix products of the same shapes, to show how much of the step is overhead.
//
//   BM_MlpTrainStep/B   Mlp::train_batch on a preallocated random batch of B samples, on the
//                       kernel a run would choose (ml::choose_kernel, auto; the label names it).
//                       Counters: samples/s; FLOP/s (Mlp::train_flops, which counts 2mnk per
//                       product plus the elementwise work); gemm_ratio = that FLOP/s divided by
//                       the FLOP/s of the step's products alone on the same kernel, and
//                       best_ratio = divided by the fastest kernel's products (every built-in
//                       kernel timed right after, on the same thread, as many iterations).
//   BM_MlpTrainStepOn/B/K  The same step on kernel K (0 OpenBLAS, 1 Eigen's), whichever is faster.
//   BM_GemmReference/B/K  Only the products a step does: forward W_l A_{l-1} for each layer,
//                       backward dW_l = dZ_l A_{l-1}^T for each layer and dA_{l-1} = W_l^T dZ_l
//                       for l >= 2, through ml::Gemm on kernel K. FLOP/s counts 2mnk.
//   BM_EigenGemmReference/B  The same products written as Eigen expressions, as a user of
//                       Eigen would.
//
// Run with --benchmark_min_time=0.2; all single-threaded.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <random>
#include <vector>

#include "ml/gemm.hpp"
#include "swarm/ml/mlp.hpp"

namespace swarm::ml {
namespace {

const std::vector<int> kLayers{784, 200, 200, 10};

Matrix random_matrix(Eigen::Index rows, Eigen::Index cols, std::mt19937_64& rng) {
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    m.data()[i] = static_cast<float>(rng() >> 40) * 0x1p-24f;  // [0, 1)
  }
  return m;
}

// The matrix products of one training step on a batch, on preallocated operands.
class GemmWorkload {
 public:
  GemmWorkload(const std::vector<int>& sizes, int batch, Kernel kernel = default_kernel())
      : sizes_(sizes), kernel_(kernel) {
    std::mt19937_64 rng(1);
    const size_t L = sizes.size() - 1;
    w_.resize(L + 1);
    a_.resize(L + 1);
    dz_.resize(L + 1);
    dw_.resize(L + 1);
    da_.resize(L + 1);
    a_[0] = random_matrix(sizes[0], batch, rng);
    for (size_t l = 1; l <= L; ++l) {
      w_[l] = random_matrix(sizes[l], sizes[l - 1], rng) * 0.01f;
      a_[l].resize(sizes[l], batch);
      dz_[l] = random_matrix(sizes[l], batch, rng);
      dw_[l].resize(sizes[l], sizes[l - 1]);
      da_[l - 1].resize(sizes[l - 1], batch);
      flops_ += 2 * uint64_t(sizes[l]) * sizes[l - 1] * batch * (l >= 2 ? 3 : 2);
    }
  }

  // Through the MLP's kernel (ml::Gemm).
  void run() {
    const size_t L = sizes_.size() - 1;
    if (gemm_.empty()) {
      for (size_t l = 0; l <= 3 * L; ++l) gemm_.push_back(std::make_unique<Gemm>(kernel_, 1000, 1000, 1000));
    }
    for (size_t l = 1; l <= L; ++l) {
      gemm_[l]->run(Op::Plain, Op::Plain, w_[l].rows(), a_[l].cols(), w_[l].cols(), 1.0f, w_[l].data(),
                    w_[l].rows(), a_[l - 1].data(), a_[l - 1].rows(), 0.0f, a_[l].data(), a_[l].rows());
    }
    for (size_t l = L; l >= 1; --l) {
      if (l >= 2) {
        gemm_[L + l]->run(Op::Transposed, Op::Plain, w_[l].cols(), dz_[l].cols(), w_[l].rows(), 1.0f,
                          w_[l].data(), w_[l].rows(), dz_[l].data(), dz_[l].rows(), 0.0f,
                          da_[l - 1].data(), da_[l - 1].rows());
      }
      gemm_[2 * L + l]->run(Op::Plain, Op::Transposed, dz_[l].rows(), a_[l - 1].rows(), dz_[l].cols(), 1.0f,
                            dz_[l].data(), dz_[l].rows(), a_[l - 1].data(), a_[l - 1].rows(), 0.0f,
                            dw_[l].data(), dw_[l].rows());
    }
    benchmark::ClobberMemory();
  }
  // As Eigen expressions.
  void run_eigen() {
    const size_t L = sizes_.size() - 1;
    for (size_t l = 1; l <= L; ++l) a_[l].noalias() = w_[l] * a_[l - 1];
    for (size_t l = L; l >= 1; --l) {
      if (l >= 2) da_[l - 1].noalias() = w_[l].transpose() * dz_[l];
      dw_[l].noalias() = dz_[l] * a_[l - 1].transpose();
    }
    benchmark::ClobberMemory();
  }
  uint64_t flops() const { return flops_; }

 private:
  std::vector<int> sizes_;
  Kernel kernel_;
  std::vector<Matrix> w_, a_, dz_, dw_, da_;
  std::vector<std::unique_ptr<Gemm>> gemm_;
  uint64_t flops_ = 0;
};

// FLOP/s of the step's products alone on `kernel`, timed for `iterations`.
double products_rate(Kernel kernel, int batch, benchmark::IterationCount iterations) {
  GemmWorkload gemm(kLayers, batch, kernel);
  gemm.run();
  const auto start = std::chrono::steady_clock::now();
  for (benchmark::IterationCount i = 0; i < iterations; ++i) gemm.run();
  const std::chrono::duration<double> time = std::chrono::steady_clock::now() - start;
  return static_cast<double>(gemm.flops()) * static_cast<double>(iterations) / time.count();
}

void train_step(benchmark::State& state, Kernel kernel) {
  const int batch = static_cast<int>(state.range(0));
  Mlp model(kLayers);
  model.set_kernel(kernel);
  std::mt19937_64 rng(1);
  model.init(rng);
  Matrix x = random_matrix(kLayers.front(), batch, rng);
  std::vector<uint8_t> y(batch);
  for (auto& label : y) label = static_cast<uint8_t>(rng() % kLayers.back());
  SgdOptions options;  // momentum 0.9, no weight decay
  options.lr = 0.01f;
  model.train_batch(x, y, options, nullptr);  // sizes the workspaces

  uint64_t flops = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    benchmark::DoNotOptimize(model.train_batch(x, y, options, &flops));
  }
  const std::chrono::duration<double> train_time = std::chrono::steady_clock::now() - start;
  const double train_rate = static_cast<double>(flops) / train_time.count();

  // The reference products of every kernel, timed now on the same thread for as many iterations.
  double own = 0, best = 0;
  for (Kernel k : available_kernels()) {
    const double rate = products_rate(k, batch, state.iterations());
    if (k == kernel) own = rate;
    best = std::max(best, rate);
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * batch,
                         benchmark::Counter::kIsRate);
  state.counters["FLOP/s"] =
      benchmark::Counter(static_cast<double>(flops), benchmark::Counter::kIsRate);
  state.counters["gemm_ratio"] = train_rate / own;
  state.counters["best_ratio"] = train_rate / best;
  state.SetLabel(std::string(kernel_name(kernel)));
}

void BM_MlpTrainStep(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  train_step(state, choose_kernel(KernelRequest{}, kLayers, batch).kernel);
}
BENCHMARK(BM_MlpTrainStep)->Arg(10)->Arg(32)->Arg(64);

// Kernel K of the benchmark's arguments, or skips when the build lacks it.
std::optional<Kernel> kernel_arg(benchmark::State& state) {
  const Kernel k = state.range(1) == 0 ? Kernel::OpenBlas : Kernel::Eigen;
  const std::vector<Kernel>& built = available_kernels();
  if (std::find(built.begin(), built.end(), k) == built.end()) {
    state.SkipWithError("kernel not in this build");
    return std::nullopt;
  }
  return k;
}

void BM_MlpTrainStepOn(benchmark::State& state) {
  if (const std::optional<Kernel> k = kernel_arg(state)) train_step(state, *k);
}
BENCHMARK(BM_MlpTrainStepOn)->ArgsProduct({{10, 32, 64}, {0, 1}});

void BM_GemmReference(benchmark::State& state) {
  const std::optional<Kernel> k = kernel_arg(state);
  if (!k) return;
  GemmWorkload gemm(kLayers, static_cast<int>(state.range(0)), *k);
  gemm.run();
  for (auto _ : state) gemm.run();
  state.counters["FLOP/s"] =
      benchmark::Counter(static_cast<double>(gemm.flops()) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.SetLabel(std::string(kernel_name(*k)));
}
BENCHMARK(BM_GemmReference)->ArgsProduct({{10, 32, 64}, {0, 1}});

void BM_EigenGemmReference(benchmark::State& state) {
  GemmWorkload gemm(kLayers, static_cast<int>(state.range(0)));
  gemm.run_eigen();
  for (auto _ : state) gemm.run_eigen();
  state.counters["FLOP/s"] =
      benchmark::Counter(static_cast<double>(gemm.flops()) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EigenGemmReference)->Arg(10)->Arg(32)->Arg(64);

}  // namespace
}  // namespace swarm::ml

BENCHMARK_MAIN();
