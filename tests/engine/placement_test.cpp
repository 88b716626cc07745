#include "engine/placement.hpp"
#include "engine/sampling.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdlib>
#include <set>

using namespace swarm;

namespace {

std::vector<NodeDescriptor> nodes(int n) {
  std::vector<NodeDescriptor> out;
  for (int i = 0; i < n; ++i) out.push_back({static_cast<NodeId>(i), 1e9 * (1 + i % 3)});
  return out;
}

std::vector<NodeId> place_with(const TaskOptions& options, int n, uint64_t seed = 1,
                               const std::vector<NodeId>* scheduled = nullptr,
                               const std::vector<NodeId>* fixed = nullptr) {
  TaskSpec spec{Module{"m"}, options};
  auto available = nodes(n);
  std::mt19937_64 rng(seed);
  return place({&spec, available, scheduled, fixed}, rng);
}

}  // namespace

TEST_CASE("method all runs on every eligible node, lowest ids first under a cap", "[placement]") {
  CHECK(place_with({}, 4) == std::vector<NodeId>{0, 1, 2, 3});
  CHECK(place_with({.maximum = 2}, 4) == std::vector<NodeId>{0, 1});
  CHECK(place_with({.maximum = 0.5}, 10).size() == 5);
}

TEST_CASE("method any draws a seeded uniform sample", "[placement]") {
  TaskOptions any{.method = Method::Any, .maximum = 3};
  auto a = place_with(any, 20, 7);
  CHECK(a.size() == 3);
  CHECK(std::set<NodeId>(a.begin(), a.end()).size() == 3);
  CHECK(std::is_sorted(a.begin(), a.end()));
  CHECK(place_with(any, 20, 7) == a);  // same seed, same nodes
  // Different seeds explore the population: over 50 seeds every node is drawn at least once.
  std::set<NodeId> seen;
  for (uint64_t s = 0; s < 50; ++s) {
    for (NodeId id : place_with(any, 20, s)) seen.insert(id);
  }
  CHECK(seen.size() == 20);
}

TEST_CASE("method best_resources takes the fastest nodes, ties by id", "[placement]") {
  // flops = 1e9 * (1 + id % 3): ids 2, 5, 8 are fastest (3e9), then 1, 4, 7.
  CHECK(place_with({.method = Method::BestResources, .maximum = 2}, 9) == std::vector<NodeId>{2, 5});
  CHECK(place_with({.method = Method::BestResources, .maximum = 4}, 9) == std::vector<NodeId>{1, 2, 5, 8});
}

TEST_CASE("specified and excepted ids filter the eligible nodes", "[placement]") {
  CHECK(place_with({.specified_ids = {1, 3, 9}}, 5) == std::vector<NodeId>{1, 3});
  CHECK(place_with({.excepted_ids = {0, 2}}, 4) == std::vector<NodeId>{1, 3});
  CHECK(place_with({.specified_ids = {1, 2}, .excepted_ids = {2}}, 4) == std::vector<NodeId>{1});
  CHECK(place_with({.specified_ids = {42}}, 4).empty());
}

TEST_CASE("schedule_next_iter restricts and fixed keeps earlier nodes", "[placement]") {
  std::vector<NodeId> scheduled = {4, 6, 7};
  CHECK(place_with({}, 10, 1, &scheduled) == scheduled);
  CHECK(place_with({.maximum = 2}, 10, 1, &scheduled) == std::vector<NodeId>{4, 6});

  std::vector<NodeId> earlier = {3, 8};
  TaskOptions fixed_any{.method = Method::Any, .maximum = 2, .fixed = true};
  CHECK(place_with(fixed_any, 10, 99, nullptr, &earlier) == earlier);
  // Node 8 is gone: the fixed task keeps what is left of its nodes.
  CHECK(place_with(fixed_any, 6, 99, nullptr, &earlier) == std::vector<NodeId>{3});
  // All its nodes are gone: it is placed anew.
  std::vector<NodeId> gone = {50, 51};
  CHECK(place_with(fixed_any, 6, 99, nullptr, &gone).size() == 2);
}

TEST_CASE("sample_positions draws k distinct positions uniformly, in O(k)", "[placement][sampling]") {
  std::mt19937_64 rng(3);
  // More than there are: all of them, once each.
  std::vector<uint64_t> all = sample_positions(5, 9, rng);
  std::sort(all.begin(), all.end());
  CHECK(all == std::vector<uint64_t>{0, 1, 2, 3, 4});
  CHECK(sample_positions(0, 3, rng).empty());
  // A huge range costs nothing: no list of candidates is built.
  const std::vector<uint64_t> few = sample_positions(uint64_t{1} << 40, 4, rng);
  CHECK(few.size() == 4);
  CHECK(std::set<uint64_t>(few.begin(), few.end()).size() == 4);
  // Uniform: 3 of 10 positions, 20,000 times; each position is drawn ~6,000 times.
  std::vector<int> hits(10, 0);
  for (int i = 0; i < 20000; ++i) {
    const std::vector<uint64_t> s = sample_positions(10, 3, rng);
    REQUIRE(std::set<uint64_t>(s.begin(), s.end()).size() == 3);
    for (uint64_t p : s) ++hits[p];
  }
  for (int h : hits) CHECK(std::abs(h - 6000) < 400);  // > 5 standard deviations (~65)
  // The same seed, the same sample.
  std::mt19937_64 a(7), b(7);
  CHECK(sample_positions(1000, 10, a) == sample_positions(1000, 10, b));
}
