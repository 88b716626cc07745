#pragma once
// The nodes of a simulated world: which profile each node has and its own compute and network
// speed. Built once from a PopulationSpec; immutable afterwards (safe to read from any thread).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/profile.hpp"

namespace swarm::sim {

// First elements of the seed paths of the population's streams: the profile shuffle uses
// derive_seed(seed, {kAssignmentSeedDomain}), node i's speed factors derive_seed(seed,
// {kSpeedSeedDomain, i}). Distinct from the engine's SeedDomain values.
inline constexpr uint64_t kAssignmentSeedDomain = 0x61737369676eULL;  // "assign"
inline constexpr uint64_t kSpeedSeedDomain = 0x7370656564ULL;         // "speed"

// A profile and how many nodes get it: an absolute `count` (>= 0), or else (count == -1) a
// `share` of the nodes left once the counts are taken.
struct ProfileShare {
  NodeProfile profile;
  double share = 0;
  int64_t count = -1;
};

struct PopulationSpec {
  std::vector<ProfileShare> profiles;
  int64_t num_nodes = 0;  // 0 with only counts = the sum of the counts
  uint64_t seed = 1;
  // false: nodes take the profiles in list order (the first count nodes the first profile...),
  // as a calibrated population lists each real node's own profile by node id.
  bool shuffle = true;
};

// Resolution: counts are taken as given; the remaining num_nodes - sum(counts) nodes are split
// among the share entries in proportion to their shares, by largest remainder (ties to the
// earlier entry), so the total is exactly num_nodes. Node i's profile is given by a seeded
// shuffle of the resolved counts (not blocks by profile), or by blocks in list order when
// spec.shuffle is false. Node i's flops is the profile's
// times exp(speed_spread * z1), its two bandwidths the profile's times exp(speed_spread * z2),
// with z1, z2 independent standard normals (Box-Muller) from node i's own stream; latency is
// the profile's. Memory per node: bytes_per_node() (a profile index and two float factors).
class Population {
 public:
  // Throws UsageError on: no profiles, more than 65535 profiles, an invalid profile (check()),
  // a negative or non-finite share, a count < -1, an entry with both a count and a non-zero
  // share, shares summing to 0 while nodes remain to be split, counts exceeding num_nodes,
  // only counts whose sum differs from a non-zero num_nodes, num_nodes < 0, or fewer than 1 or
  // more than 2^32 - 1 nodes after resolution.
  explicit Population(const PopulationSpec& spec);

  size_t size() const { return nodes_.size(); }
  const std::vector<NodeProfile>& profiles() const { return profiles_; }
  // Number of nodes of each profile, by profile index.
  const std::vector<int64_t>& counts() const { return counts_; }

  // REQUIRES for the per-node accessors: node < size().
  uint16_t profile_index(uint32_t node) const { return nodes_[node].profile; }
  const NodeProfile& profile(uint32_t node) const { return profiles_[nodes_[node].profile]; }
  double flops(uint32_t node) const;
  double up_bytes_per_s(uint32_t node) const;
  double down_bytes_per_s(uint32_t node) const;
  double latency_s(uint32_t node) const { return profile(node).latency_s; }

  // profile_of[i] = profile index of node i, as AvailabilityModel takes it.
  std::vector<uint16_t> profile_assignment() const;
  size_t bytes_per_node() const;

 private:
  std::vector<NodeProfile> profiles_;
  std::vector<int64_t> counts_;
  // One record a node, packed to 10 bytes: a node's speed is one cache miss, not two, in a
  // population of millions (placement looks nodes up at random).
#pragma pack(push, 2)
  struct Node {
    float compute = 1.0f;  // exp(speed_spread * z1)
    float network = 1.0f;  // exp(speed_spread * z2)
    uint16_t profile = 0;
  };
#pragma pack(pop)
  static_assert(sizeof(Node) == 10);
  std::vector<Node> nodes_;  // by node
};

// The default heterogeneous population of `swarm run`: 60% "phone", 30% "laptop", 10%
// "server" built-in profiles (speed_spread 0.3, 0.3, 0.1).
PopulationSpec default_population(int64_t num_nodes, uint64_t seed);

}  // namespace swarm::sim
