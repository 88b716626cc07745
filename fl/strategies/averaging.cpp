// Averaging strategies: FedAvg, FedAvgM (server momentum) and FedBuff (staleness-weighted).

#include <cmath>

#include "fl/strategies/weighted_average.hpp"
#include "fl/strategies/common.hpp"

namespace swarm::strategies {
namespace {

// FedAvg (McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks from
// Decentralized Data", Algorithm 1), on deltas:
//   mean = sum_k n_k delta_k / sum_k n_k   (n_k = samples)
//   params += server_lr * mean
// Parameters: server_lr (> 0, default 1: plain FedAvg).
class FedAvg final : public Strategy {
 public:
  explicit FedAvg(double server_lr) : server_lr_(server_lr) {}
  std::string name() const override { return "fedavg"; }

  AggregateReport aggregate(std::span<float> params, std::span<const ClientUpdate> updates,
                            std::vector<float>& /*state*/, std::mt19937_64& /*rng*/) override {
    check_updates(name(), params, updates);
    AggregateReport report;
    if (updates.empty()) return report;
    std::vector<float> mean(params.size());
    sample_weighted_mean(name(), updates, mean);
    add_scaled(params, mean, static_cast<float>(server_lr_));
    report.used = static_cast<int>(updates.size());
    return report;
  }

 private:
  double server_lr_;
};

// FedAvgM (Hsu, Qi & Brown 2019, "Measuring the Effects of Non-Identical Data Distribution
// for Federated Visual Classification", Section 3): server momentum on the FedAvg mean,
//   v = beta * v + mean;  params += server_lr * v.
// State: v (params.size() values, zero at first). Parameters: server_lr (> 0, default 1),
// beta (in [0, 1), default 0.9; 0 is FedAvg).
class FedAvgM final : public Strategy {
 public:
  FedAvgM(double server_lr, double beta) : server_lr_(server_lr), beta_(beta) {}
  std::string name() const override { return "fedavgm"; }

  AggregateReport aggregate(std::span<float> params, std::span<const ClientUpdate> updates,
                            std::vector<float>& state, std::mt19937_64& /*rng*/) override {
    check_updates(name(), params, updates);
    AggregateReport report;
    if (updates.empty()) return report;
    prepare_state(name(), state, params.size(), 0.0f);
    std::vector<float> mean(params.size());
    sample_weighted_mean(name(), updates, mean);
    const float beta = static_cast<float>(beta_), lr = static_cast<float>(server_lr_);
    float* __restrict p = params.data();
    float* __restrict v = state.data();
    const float* __restrict d = mean.data();
    for (size_t i = 0; i < params.size(); ++i) {
      v[i] = beta * v[i] + d[i];
      p[i] += lr * v[i];
    }
    report.used = static_cast<int>(updates.size());
    return report;
  }

 private:
  double server_lr_, beta_;
};

// FedBuff (Nguyen et al. 2022, "Federated Learning with Buffered Asynchronous Aggregation",
// Algorithm 1 with the staleness scaling of Section 5): each update is weighted by
// s(tau_k) = (1 + tau_k)^-a, tau_k its staleness, and the buffer of K updates is divided by K:
//   mean = sum_k s(tau_k) delta_k / K;  params += server_lr * mean.
// Computed as weighted_average (which divides by sum_k s_k) scaled by sum_k s_k / K, exactly
// as the aggregator's original inline implementation (fl/modules.cpp) did, so that a run
// gives the same bits. Parameters: server_lr (> 0, default 1), staleness_exponent a (>= 0,
// default 0.5: s = 1 / sqrt(1 + tau); 0 weighs every update alike).
class FedBuff final : public Strategy {
 public:
  FedBuff(double server_lr, double exponent) : server_lr_(server_lr), exponent_(exponent) {}
  std::string name() const override { return "fedbuff"; }

  AggregateReport aggregate(std::span<float> params, std::span<const ClientUpdate> updates,
                            std::vector<float>& /*state*/, std::mt19937_64& /*rng*/) override {
    check_updates(name(), params, updates);
    AggregateReport report;
    if (updates.empty()) return report;
    std::vector<double> weights;
    weights.reserve(updates.size());
    for (const ClientUpdate& u : updates) {
      const double age = 1.0 + u.staleness;
      weights.push_back(exponent_ == 0.5 ? 1.0 / std::sqrt(age) : std::pow(age, -exponent_));
    }
    std::vector<float> mean(params.size());
    weighted_average(deltas_of(updates), weights, mean);
    double wsum = 0;
    for (double w : weights) wsum += w;
    double scale = server_lr_;
    scale *= wsum / static_cast<double>(weights.size());
    add_scaled(params, mean, static_cast<float>(scale));
    report.used = static_cast<int>(updates.size());
    return report;
  }

 private:
  double server_lr_, exponent_;
};

}  // namespace

std::unique_ptr<Strategy> make_fedavg(Params& params) {
  return std::make_unique<FedAvg>(params.server_lr(1.0));
}

std::unique_ptr<Strategy> make_fedavgm(Params& params) {
  const double lr = params.server_lr(1.0);
  const double beta = params.number("beta", 0.9, {0, 1, false, /*hi_open=*/true});
  return std::make_unique<FedAvgM>(lr, beta);
}

std::unique_ptr<Strategy> make_fedbuff(Params& params) {
  const double lr = params.server_lr(1.0);
  const double exponent = params.number("staleness_exponent", 0.5, {0, Params::kInfinity});
  return std::make_unique<FedBuff>(lr, exponent);
}

}  // namespace swarm::strategies
