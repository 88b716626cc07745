#include "sim/population.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <string>

#include "swarm/error.hpp"
#include "swarm/seed.hpp"
#include "sim/huge_pages.hpp"

namespace swarm::sim {

namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

// A uniform in [0, 1) from 64 random bits.
double to_unit(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

// SplitMix64 stream: portable, unlike the standard distributions, whose results differ between
// standard libraries.
class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  uint64_t next() { return mix64(state_++ * 0x9e3779b97f4a7c15ULL); }
  // Uniform in [0, bound), bound > 0: rejects the lowest 2^64 mod bound values so that the
  // rest split evenly (unbiased).
  uint64_t below(uint64_t bound) {
    const uint64_t threshold = (0 - bound) % bound;
    for (;;) {
      const uint64_t r = next();
      if (r >= threshold) return r % bound;
    }
  }

 private:
  uint64_t state_;
};

std::string entry_name(const ProfileShare& e, size_t i) {
  return "population profile " + std::to_string(i) + " ('" + e.profile.name + "')";
}

// Number of nodes of each entry (see Population's contract).
std::vector<int64_t> resolve_counts(const PopulationSpec& spec) {
  const auto& entries = spec.profiles;
  if (entries.empty()) throw UsageError("population: no node profiles given");
  if (entries.size() > UINT16_MAX) {
    throw UsageError("population: at most 65535 node profiles, got " +
                     std::to_string(entries.size()));
  }
  if (spec.num_nodes < 0) {
    throw UsageError("population: num_nodes must be >= 0, got " + std::to_string(spec.num_nodes));
  }
  int64_t counted = 0;
  double share_sum = 0;
  bool any_share_entry = false;
  for (size_t i = 0; i < entries.size(); ++i) {
    const ProfileShare& e = entries[i];
    if (std::string msg = check(e.profile); !msg.empty()) throw UsageError(msg);
    if (e.count < -1) {
      throw UsageError(entry_name(e, i) + ": count must be >= 0 (or -1 for a share), got " +
                       std::to_string(e.count));
    }
    if (e.count >= 0) {
      if (e.share != 0) {
        throw UsageError(entry_name(e, i) + ": give a count or a share, not both");
      }
      if (e.count > INT64_MAX - counted) throw UsageError("population: counts overflow");
      counted += e.count;
      continue;
    }
    if (!std::isfinite(e.share) || e.share < 0) {
      std::ostringstream msg;
      msg << entry_name(e, i) << ": share must be >= 0 and finite, got " << e.share;
      throw UsageError(msg.str());
    }
    any_share_entry = true;
    share_sum += e.share;
  }

  int64_t num_nodes = spec.num_nodes;
  if (!any_share_entry && num_nodes == 0) num_nodes = counted;
  if (counted > num_nodes) {
    throw UsageError("population: the counts sum to " + std::to_string(counted) +
                     ", more than num_nodes " + std::to_string(num_nodes));
  }
  if (!any_share_entry && counted != num_nodes) {
    throw UsageError("population: the counts sum to " + std::to_string(counted) +
                     " but num_nodes is " + std::to_string(num_nodes) +
                     " (give shares for the rest, or num_nodes 0)");
  }
  const int64_t rest = num_nodes - counted;
  if (rest > 0 && !(share_sum > 0)) {
    throw UsageError("population: " + std::to_string(rest) +
                     " nodes are left after the counts but the shares sum to 0");
  }
  if (num_nodes < 1) throw UsageError("population: no nodes (num_nodes resolves to 0)");
  if (num_nodes > int64_t{UINT32_MAX}) {
    throw UsageError("population: at most 4294967295 nodes, got " + std::to_string(num_nodes));
  }

  std::vector<int64_t> counts(entries.size(), 0);
  if (rest > 0) {
    // Largest remainder: floors of the exact quotas, then one more node to the entries with
    // the largest fractional parts (ties to the earlier entry).
    std::vector<long double> fraction(entries.size(), -1);
    int64_t given = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].count >= 0) continue;
      const long double quota = static_cast<long double>(rest) * entries[i].share / share_sum;
      const int64_t whole = std::min<int64_t>(rest - given, static_cast<int64_t>(quota));
      counts[i] = whole;
      given += whole;
      fraction[i] = quota - whole;
    }
    std::vector<size_t> order(entries.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return fraction[a] > fraction[b]; });
    // rest - given < number of share entries, up to rounding of the quotas; cycle to be safe.
    for (size_t j = 0; given < rest; j = (j + 1) % order.size()) {
      if (entries[order[j]].count >= 0 || entries[order[j]].share <= 0) continue;
      ++counts[order[j]];
      ++given;
    }
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].count >= 0) counts[i] = entries[i].count;
  }
  return counts;
}

}  // namespace

Population::Population(const PopulationSpec& spec) : counts_(resolve_counts(spec)) {
  profiles_.reserve(spec.profiles.size());
  for (const ProfileShare& e : spec.profiles) profiles_.push_back(e.profile);
  const int64_t n = std::accumulate(counts_.begin(), counts_.end(), int64_t{0});

  // Blocks by profile, then a seeded Fisher-Yates shuffle.
  reserve_huge(nodes_, static_cast<size_t>(n));
  nodes_.resize(static_cast<size_t>(n));
  size_t at = 0;
  for (size_t p = 0; p < counts_.size(); ++p) {
    for (int64_t k = 0; k < counts_[p]; ++k) nodes_[at++].profile = static_cast<uint16_t>(p);
  }
  SplitMix rng(derive_seed(spec.seed, {kAssignmentSeedDomain}));
  for (size_t i = nodes_.size(); spec.shuffle && i > 1; --i) {
    std::swap(nodes_[i - 1].profile, nodes_[rng.below(i)].profile);
  }

  for (size_t i = 0; i < nodes_.size(); ++i) {
    const double sigma = profiles_[nodes_[i].profile].speed_spread;
    if (sigma == 0) continue;  // exactly the profile's speeds
    const uint64_t s = derive_seed(spec.seed, {kSpeedSeedDomain, i});
    // Box-Muller: two independent standard normals from two uniforms, u1 in (0, 1].
    const double u1 = 1.0 - to_unit(mix64(s));
    const double u2 = to_unit(mix64(s ^ 0xd1b54a32d192ed03ULL));
    const double r = std::sqrt(-2.0 * std::log(u1));
    nodes_[i].compute = static_cast<float>(std::exp(sigma * r * std::cos(kTwoPi * u2)));
    nodes_[i].network = static_cast<float>(std::exp(sigma * r * std::sin(kTwoPi * u2)));
  }
}

double Population::flops(uint32_t node) const {
  const Node& n = nodes_[node];
  return profiles_[n.profile].flops * n.compute;
}

double Population::up_bytes_per_s(uint32_t node) const {
  const Node& n = nodes_[node];
  return profiles_[n.profile].up_bytes_per_s * n.network;
}

double Population::down_bytes_per_s(uint32_t node) const {
  const Node& n = nodes_[node];
  return profiles_[n.profile].down_bytes_per_s * n.network;
}

std::vector<uint16_t> Population::profile_assignment() const {
  std::vector<uint16_t> out(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) out[i] = nodes_[i].profile;
  return out;
}

size_t Population::bytes_per_node() const {
  const size_t n = std::max<size_t>(1, nodes_.size());
  return (nodes_.capacity() * sizeof(Node) + n - 1) / n;
}

PopulationSpec default_population(int64_t num_nodes, uint64_t seed) {
  PopulationSpec spec;
  spec.num_nodes = num_nodes;
  spec.seed = seed;
  spec.profiles = {{builtin_profile("phone"), 0.6, -1},
                   {builtin_profile("laptop"), 0.3, -1},
                   {builtin_profile("server"), 0.1, -1}};
  return spec;
}

}  // namespace swarm::sim
