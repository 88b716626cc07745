// Adaptive server optimizers: FedAdagrad, FedAdam, FedYogi (Reddi et al. 2021, "Adaptive
// Federated Optimization", Algorithm 2). With the round's aggregate mean (below), per coordinate:
//   m = beta1 m + (1 - beta1) mean
//   v = v + mean^2                                         FedAdagrad
//   v = beta2 v + (1 - beta2) mean^2                       FedAdam
//   v = v - (1 - beta2) mean^2 sign(v - mean^2)            FedYogi
//   params += server_lr * m / (sqrt(v) + tau)
// Algorithm 2 starts from m = 0 and v >= tau^2; we start v at exactly tau^2. There is no bias
// correction in the paper's algorithm and none here.
//
// mean is the FedAvg aggregate sum_k n_k delta_k / sum_k n_k (n_k = samples). Algorithm 2 writes
// the uniform mean over the sampled clients, which this is when they hold equally many samples;
// weighting by samples as FedAvg does keeps fedavg, fedavgm and these three comparable.
//
// State: [m, v], 2 x params.size() values. Parameters and defaults, from the paper's
// experiments (Section 5 and its learning-rate grids in the appendix): beta1 = 0.9,
// beta2 = 0.99 (not for FedAdagrad), tau = 1e-3; server_lr = 0.01 for FedAdam and FedYogi,
// 0.1 for FedAdagrad (whose v only grows, so its steps shrink faster).

#include <cmath>

#include "fl/strategies/common.hpp"

namespace swarm::strategies {
namespace {

enum class Variant { kAdagrad, kAdam, kYogi };

struct AdaptiveOptions {
  double server_lr, beta1, beta2, tau;
};

template <Variant kVariant>
class Adaptive final : public Strategy {
 public:
  explicit Adaptive(AdaptiveOptions options) : o_(options) {}

  std::string name() const override {
    switch (kVariant) {
      case Variant::kAdagrad: return "fedadagrad";
      case Variant::kAdam: return "fedadam";
      case Variant::kYogi: return "fedyogi";
    }
    return "";
  }

  AggregateReport aggregate(std::span<float> params, std::span<const ClientUpdate> updates,
                            std::vector<float>& state, std::mt19937_64& /*rng*/) override {
    check_updates(name(), params, updates);
    AggregateReport report;
    if (updates.empty()) return report;
    const size_t size = params.size();
    const auto tau = static_cast<float>(o_.tau);
    if (state.empty()) {
      state.assign(2 * size, 0.0f);
      std::fill(state.begin() + static_cast<std::ptrdiff_t>(size), state.end(), tau * tau);
    }
    prepare_state(name(), state, 2 * size, 0.0f);  // checks the size of a carried state

    std::vector<float> mean(size);
    sample_weighted_mean(name(), updates, mean);
    const auto b1 = static_cast<float>(o_.beta1), b2 = static_cast<float>(o_.beta2);
    const auto lr = static_cast<float>(o_.server_lr);
    float* __restrict p = params.data();
    float* __restrict m = state.data();
    float* __restrict v = state.data() + size;
    const float* __restrict d = mean.data();
    for (size_t i = 0; i < size; ++i) {
      const float g = d[i], g2 = g * g;
      m[i] = b1 * m[i] + (1 - b1) * g;
      if constexpr (kVariant == Variant::kAdagrad) {
        v[i] += g2;
      } else if constexpr (kVariant == Variant::kAdam) {
        v[i] = b2 * v[i] + (1 - b2) * g2;
      } else {
        const float diff = v[i] - g2;
        const float sign = static_cast<float>((diff > 0) - (diff < 0));
        v[i] -= (1 - b2) * g2 * sign;
      }
      p[i] += lr * m[i] / (std::sqrt(v[i]) + tau);
    }
    report.used = static_cast<int>(updates.size());
    return report;
  }

 private:
  AdaptiveOptions o_;
};

AdaptiveOptions read(Params& params, double default_lr, bool has_beta2) {
  AdaptiveOptions o{};
  o.server_lr = params.server_lr(default_lr);
  o.beta1 = params.number("beta1", 0.9, {0, 1, false, /*hi_open=*/true});
  o.beta2 = has_beta2 ? params.number("beta2", 0.99, {0, 1, false, /*hi_open=*/true}) : 0.0;
  o.tau = params.number("tau", 1e-3, {0, Params::kInfinity, /*lo_open=*/true});
  return o;
}

}  // namespace

std::unique_ptr<Strategy> make_fedadagrad(Params& params) {
  return std::make_unique<Adaptive<Variant::kAdagrad>>(read(params, 0.1, false));
}

std::unique_ptr<Strategy> make_fedadam(Params& params) {
  return std::make_unique<Adaptive<Variant::kAdam>>(read(params, 0.01, true));
}

std::unique_ptr<Strategy> make_fedyogi(Params& params) {
  return std::make_unique<Adaptive<Variant::kYogi>>(read(params, 0.01, true));
}

}  // namespace swarm::strategies
