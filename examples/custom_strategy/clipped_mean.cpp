// A `swarm` command line that knows one more aggregation strategy, clipped_mean: every update
// is scaled down to an L2 norm of at most `clip`, then the updates are averaged weighted by
// their samples. A scenario file names it as any built-in (strategy.name: clipped_mean), with
// the same checks: a misspelt name gets a "did you mean", an out-of-range `clip` is refused.
//
//   ./custom_swarm run clipped_mean.yaml
//   ./custom_swarm validate clipped_mean.yaml --set strategy.clip=0

#include <cmath>
#include <memory>
#include <vector>

#include <swarm/cli.hpp>
#include <swarm/swarm.hpp>

namespace {

class ClippedMean : public swarm::strategies::Strategy {
 public:
  ClippedMean(double clip, double server_lr) : clip_(clip), server_lr_(server_lr) {}
  std::string name() const override { return "clipped_mean"; }

  swarm::strategies::AggregateReport aggregate(std::span<float> params,
                                               std::span<const swarm::strategies::ClientUpdate> updates,
                                               std::vector<float>& /*state*/,
                                               std::mt19937_64& /*rng*/) override {
    swarm::strategies::AggregateReport report;
    double total_samples = 0;
    for (const auto& u : updates) total_samples += u.samples;
    if (updates.empty() || !(total_samples > 0)) return report;
    std::vector<double> sum(params.size(), 0.0);
    for (const auto& u : updates) {
      double norm2 = 0;
      for (float x : u.delta) norm2 += double(x) * x;
      const double norm = std::sqrt(norm2);
      const double scale = norm > clip_ ? clip_ / norm : 1.0;
      const double weight = scale * u.samples / total_samples;
      for (size_t i = 0; i < params.size(); ++i) sum[i] += weight * u.delta[i];
    }
    for (size_t i = 0; i < params.size(); ++i) params[i] += static_cast<float>(server_lr_ * sum[i]);
    report.used = static_cast<int>(updates.size());
    return report;
  }

 private:
  double clip_, server_lr_;
};

}  // namespace

int main(int argc, char** argv) {
  swarm::Registries registries = swarm::builtin_registries();
  registries.strategies->add("clipped_mean", [](swarm::strategies::StrategyParams& p) {
    using Range = swarm::strategies::StrategyParams::Range;
    const double clip = p.number("clip", 1.0, Range{0, swarm::strategies::StrategyParams::kInfinity, /*lo_open=*/true});
    return std::make_unique<ClippedMean>(clip, p.server_lr(1.0));
  });
  return swarm::cli::main(argc, argv, registries);
}
