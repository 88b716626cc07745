// DP-FedAvg with fixed-size rounds (McMahan, Ramage, Talwar & Zhang 2018, "Learning
// Differentially Private Recurrent Language Models", Algorithm 1: flat clipping, every client
// of weight 1, the fixed-denominator estimator with the round's n updates as denominator):
//   clip:   delta_k <- delta_k * min(1, S / ||delta_k||_2)
//   mean:   mean = sum_k clipped_k / n                  (unweighted; n = updates this round)
//   noise:  mean_i += N(0, sigma^2),  sigma = z S / n   (each clipped update has sensitivity S/n)
//   step:   params += server_lr * mean
// Parameters: clip_norm S (> 0, default 1), noise_multiplier z (>= 0, default 1; 0 adds no noise
// and draws nothing from the generator), server_lr (> 0, default 1).
//
// The noise is drawn from the generator passed to aggregate() by the polar method on its raw
// 64-bit outputs (a pair of normals per accepted draw, coordinates in order), so that a seed
// gives the same model on every standard library, which std::normal_distribution does not
// promise.

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "swarm/ml/eigen.hpp"
#include "fl/strategies/weighted_average.hpp"
#include "fl/strategies/common.hpp"

namespace swarm::strategies {
namespace {

// Two independent standard normals by Marsaglia's polar method (Marsaglia & Bray 1964,
// "A Convenient Method for Generating Normal Variables"): (u, v) uniform in the square from
// the two 32-bit halves of one draw, kept when s = u^2 + v^2 < 1 (probability pi/4); then
// u sqrt(-2 ln s / s) and v sqrt(-2 ln s / s). No sine or cosine, ~1.27 draws per pair.
struct NormalPair {
  double a, b;
};
NormalPair polar(std::mt19937_64& rng) {
  for (;;) {
    const uint64_t r = rng();
    // (k + 0.5) 2^-31 - 1 for k < 2^32: symmetric in (-1, 1), never 0, so s > 0.
    const double u = (static_cast<double>(r >> 32) + 0.5) * 0x1p-31 - 1.0;
    const double v = (static_cast<double>(r & 0xffffffffu) + 0.5) * 0x1p-31 - 1.0;
    const double s = u * u + v * v;
    if (s >= 1.0) continue;
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    return {u * f, v * f};
  }
}

// ||x||^2: Eigen's vectorized float sum over blocks of 4096 values (relative error ~1e-6),
// the blocks summed in double.
double squared_norm(std::span<const float> x) {
  constexpr size_t kBlock = 4096;
  double sum = 0;
  for (size_t begin = 0; begin < x.size(); begin += kBlock) {
    const size_t count = std::min(kBlock, x.size() - begin);
    sum += Eigen::Map<const Eigen::VectorXf>(x.data() + begin, static_cast<Eigen::Index>(count))
               .squaredNorm();
  }
  return sum;
}

class DpFedAvg final : public Strategy {
 public:
  DpFedAvg(double server_lr, double clip_norm, double noise_multiplier)
      : server_lr_(server_lr), clip_(clip_norm), z_(noise_multiplier) {}
  std::string name() const override { return "dp_fedavg"; }

  AggregateReport aggregate(std::span<float> params, std::span<const ClientUpdate> updates,
                            std::vector<float>& /*state*/, std::mt19937_64& rng) override {
    check_updates(name(), params, updates);
    AggregateReport report;
    if (updates.empty()) return report;
    const size_t n = updates.size();
    std::vector<double> scale(n);
    double scale_sum = 0;
    int clipped = 0;
    for (size_t k = 0; k < n; ++k) {
      const double norm = std::sqrt(squared_norm(updates[k].delta));
      scale[k] = norm > clip_ ? clip_ / norm : 1.0;
      clipped += norm > clip_;
      scale_sum += scale[k];
    }
    // weighted_average divides by sum_k scale_k; the estimator divides by n.
    std::vector<float> mean(params.size());
    weighted_average(deltas_of(updates), scale, mean);
    const auto rescale = static_cast<float>(scale_sum / static_cast<double>(n));
    const double sigma = z_ * clip_ / static_cast<double>(n);
    const auto lr = static_cast<float>(server_lr_);
    float* __restrict p = params.data();
    const float* __restrict d = mean.data();
    const size_t size = params.size();
    if (sigma == 0) {
      for (size_t i = 0; i < size; ++i) p[i] += lr * (rescale * d[i]);
    } else {
      const auto s = static_cast<float>(sigma);
      size_t i = 0;
      for (; i + 1 < size; i += 2) {
        const NormalPair g = polar(rng);
        p[i] += lr * (rescale * d[i] + s * static_cast<float>(g.a));
        p[i + 1] += lr * (rescale * d[i + 1] + s * static_cast<float>(g.b));
      }
      if (i < size) p[i] += lr * (rescale * d[i] + s * static_cast<float>(polar(rng).a));
    }
    report.used = static_cast<int>(n);
    report.noise_stddev = sigma;
    report.clipped_share = static_cast<double>(clipped) / static_cast<double>(n);
    return report;
  }

 private:
  double server_lr_, clip_, z_;
};

}  // namespace

std::unique_ptr<Strategy> make_dp_fedavg(Params& params) {
  const double lr = params.server_lr(1.0);
  const double clip = params.number("clip_norm", 1.0, {0, Params::kInfinity, /*lo_open=*/true});
  const double z = params.number("noise_multiplier", 1.0, {0, Params::kInfinity});
  return std::make_unique<DpFedAvg>(lr, clip, z);
}

}  // namespace swarm::strategies
