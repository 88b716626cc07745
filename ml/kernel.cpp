#include "swarm/ml/kernel.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <utility>

#include "ml/gemm.hpp"
#include "swarm/error.hpp"
#include "swarm/ml/mlp.hpp"

namespace swarm::ml {

std::string_view kernel_name(Kernel kernel) { return kernel == Kernel::OpenBlas ? "openblas" : "eigen"; }

std::optional<Kernel> parse_kernel(std::string_view name) {
  if (name == "openblas") return Kernel::OpenBlas;
  if (name == "eigen") return Kernel::Eigen;
  return std::nullopt;
}

Kernel default_kernel() { return available_kernels().front(); }

namespace {

std::vector<float> uniform_values(size_t n, std::mt19937_64& rng) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng() >> 40) * 0x1p-24f - 0.5f;
  return v;
}

}  // namespace

std::string check_products(const ProductFn& product) {
  // Shapes past a kernel's register blocks in every direction and odd leading dimensions, as
  // in the MLP's products on the first columns of a buffer.
  constexpr int m = 37, n = 19, k = 53;
  std::mt19937_64 rng(0x6b65726eULL);
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      const int lda = (ta ? k : m) + 3, ldb = (tb ? n : k) + 2, ldc = m + 1;
      const std::vector<float> a = uniform_values(static_cast<size_t>(lda) * (ta ? m : k), rng);
      const std::vector<float> b = uniform_values(static_cast<size_t>(ldb) * (tb ? k : n), rng);
      for (float beta : {0.0f, 0.75f}) {
        std::vector<float> c = uniform_values(static_cast<size_t>(ldc) * n, rng);
        const std::vector<float> before = c;
        constexpr float alpha = 0.5f;
        product(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
        for (int j = 0; j < n; ++j) {
          for (int i = 0; i < ldc; ++i) {
            const size_t at = static_cast<size_t>(i) + static_cast<size_t>(j) * ldc;
            double expected = before[at];  // padding rows below m stay as they were
            double scale = std::abs(expected);
            if (i < m) {
              double sum = 0, magnitude = 0;
              for (int p = 0; p < k; ++p) {
                const double x = ta ? a[p + static_cast<size_t>(i) * lda] : a[i + static_cast<size_t>(p) * lda];
                const double y = tb ? b[j + static_cast<size_t>(p) * ldb] : b[p + static_cast<size_t>(j) * ldb];
                sum += x * y;
                magnitude += std::abs(x * y);
              }
              expected = alpha * sum + beta * before[at];
              scale = alpha * magnitude + std::abs(beta * before[at]);
            }
            // A float sum of k terms is within about k ulps of its magnitude; allow 4x that.
            const double tolerance = 4.0 * (k + 2) * 0x1p-24 * scale + 1e-30;
            if (!(std::abs(c[at] - expected) <= tolerance)) {
              std::ostringstream what;
              what << "c(" << i << "," << j << ") of " << (ta ? "a^T" : "a") << " " << (tb ? "b^T" : "b")
                   << " with beta " << beta << ": " << c[at] << ", expected " << expected;
              return what.str();
            }
          }
        }
      }
    }
  }
  return "";
}

std::string check_kernel(Kernel kernel) {
  static std::mutex mutex;
  static std::map<Kernel, std::string> checked;
  std::lock_guard lock(mutex);
  if (auto it = checked.find(kernel); it != checked.end()) return it->second;
  Gemm gemm(kernel, 64, 64, 64);
  const std::string verdict = check_products([&gemm](bool ta, bool tb, int rows, int cols, int depth, float alpha,
                                                     const float* a, int lda, const float* b, int ldb, float beta,
                                                     float* c, int ldc) {
    gemm.run(ta ? Op::Transposed : Op::Plain, tb ? Op::Transposed : Op::Plain, rows, cols, depth, alpha, a, lda, b,
             ldb, beta, c, ldc);
  });
  checked.emplace(kernel, verdict);
  return verdict;
}

namespace {

// A kernel's speed on a training step of the model, in FLOP/s: the best of a few timings.
class StepTimer {
 public:
  StepTimer(Kernel kernel, const std::vector<int>& layers, int batch)
      : model_(layers), x_(layers.front(), batch), y_(static_cast<size_t>(batch)) {
    model_.set_kernel(kernel);
    std::mt19937_64 rng(0x7374657000ULL + static_cast<uint64_t>(batch));
    for (Eigen::Index i = 0; i < x_.size(); ++i) x_.data()[i] = static_cast<float>(rng() >> 40) * 0x1p-24f;
    for (uint8_t& label : y_) label = static_cast<uint8_t>(rng() % static_cast<uint64_t>(layers.back()));
    options_.lr = 1e-3f;  // small steps: the weights stay in range however many steps run
    flops_per_step_ = static_cast<double>(model_.train_flops(batch, options_));
    time(1);  // the first step allocates and warms the caches
  }
  // Runs `steps` steps; returns the seconds they took.
  double time(int steps) {
    const auto start = std::chrono::steady_clock::now();
    uint64_t flops = 0;
    for (int s = 0; s < steps; ++s) model_.train_batch(x_, y_, options_, &flops);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  double flops_per_step() const { return flops_per_step_; }

 private:
  Mlp model_;
  Matrix x_;
  std::vector<uint8_t> y_;
  SgdOptions options_;
  double flops_per_step_ = 0;
};

std::string layers_text(const std::vector<int>& layers) {
  std::string out;
  for (int n : layers) {
    if (!out.empty()) out += '-';
    out += std::to_string(n);
  }
  return out;
}

KernelChoice measure(const std::vector<Kernel>& candidates, const std::vector<int>& layers, int batch) {
  std::vector<std::unique_ptr<StepTimer>> timers;
  for (Kernel k : candidates) timers.push_back(std::make_unique<StepTimer>(k, layers, batch));
  // Steps per timing: about 1 ms of work each, from the first kernel's warm step.
  const double one = std::max(timers.front()->time(1), 1e-7);
  const int steps = std::clamp(static_cast<int>(1e-3 / one), 1, 1000);
  const int rounds = one > 0.01 ? 2 : 5;
  std::vector<double> best(candidates.size(), 1e300);
  for (int r = 0; r < rounds; ++r) {  // interleaved: a busy moment costs every kernel alike
    for (size_t i = 0; i < timers.size(); ++i) best[i] = std::min(best[i], timers[i]->time(steps) / steps);
  }
  size_t pick = 0;  // the default, unless another is at least 10% faster
  for (size_t i = 1; i < candidates.size(); ++i) {
    if (best[i] * 1.1 <= best[pick]) pick = i;
  }
  std::ostringstream reason;
  reason.precision(3);
  reason << "fastest here: ";
  for (size_t i = 0; i < candidates.size(); ++i) {
    reason << (i ? ", " : "") << kernel_name(candidates[i]) << " "
           << timers[i]->flops_per_step() / best[i] / 1e9 << " GFLOP/s";
  }
  reason << " on a training step of " << layers_text(layers) << " at batch " << batch;
  return KernelChoice{candidates[pick], reason.str()};
}

}  // namespace

KernelChoice choose_kernel(const KernelRequest& request, const std::vector<int>& layers, int batch) {
  const std::vector<Kernel>& built = available_kernels();
  if (request.kernel) {
    const Kernel k = *request.kernel;
    if (std::find(built.begin(), built.end(), k) == built.end()) {
      throw UsageError("kernel " + std::string(kernel_name(k)) + " is not in this build (configured with "
                       "-DSWARM_OPENBLAS=OFF); use kernel eigen");
    }
    if (std::string wrong = check_kernel(k); !wrong.empty()) {
      throw UsageError("kernel " + std::string(kernel_name(k)) + " (" + kernel_identity(k) +
                       ") computes wrong products on this machine (" + wrong + "); choose another kernel");
    }
    return KernelChoice{k, "named"};
  }
  static std::mutex mutex;
  static std::map<std::pair<std::vector<int>, int>, KernelChoice> chosen;
  std::lock_guard lock(mutex);
  const auto key = std::make_pair(layers, batch);
  if (auto it = chosen.find(key); it != chosen.end()) return it->second;
  std::vector<Kernel> right;
  std::string refused;
  for (Kernel k : built) {
    if (std::string wrong = check_kernel(k); wrong.empty()) {
      right.push_back(k);
    } else {
      refused += "; " + std::string(kernel_name(k)) + " refused, it computes wrong products (" + wrong + ")";
    }
  }
  if (right.empty()) throw Error("no GEMM kernel computes right on this machine" + refused);
  KernelChoice choice = right.size() == 1 ? KernelChoice{right.front(), "the only one built in"}
                                          : measure(right, layers, batch);
  choice.reason += refused;
  chosen.emplace(key, choice);
  return choice;
}

}  // namespace swarm::ml
