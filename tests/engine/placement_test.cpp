#include "engine/placement.hpp"
#include "swarm/sampling.hpp"

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

namespace {

// Nodes 0..n-1, of which those with on[i] are available; counts the nodes it was asked about.
class OnOffBackend : public Backend {
 public:
  explicit OnOffBackend(std::vector<bool> on) : on_(std::move(on)) {}
  std::vector<NodeId> node_ids() override {
    std::vector<NodeId> out(on_.size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<NodeId>(i);
    return out;
  }
  std::vector<NodeDescriptor> available_nodes() override {
    return available_among(node_ids());
  }
  std::vector<NodeDescriptor> available_among(std::span<const NodeId> ids) override {
    asked += ids.size();
    std::vector<NodeDescriptor> out;
    for (NodeId id : ids) {
      if (id < on_.size() && on_[id]) out.push_back({id, 1e9});
    }
    return out;
  }
  void start(const InstanceSpec&, std::shared_ptr<const StateReader>) override {}
  BackendEvent wait(const WaitFor&) override { return Idle{}; }
  void cancel(uint64_t) override {}
  Nanos now_ns() const override { return 0; }
  ClockKind clock() const override { return ClockKind::Virtual; }
  size_t asked = 0;

 private:
  std::vector<bool> on_;
};

std::vector<NodeId> ids_of(const std::vector<NodeDescriptor>& nodes) {
  std::vector<NodeId> out;
  for (const NodeDescriptor& n : nodes) out.push_back(n.id);
  return out;
}

}  // namespace

TEST_CASE("sample_available draws only available nodes, uniformly, sorted, same for a seed", "[placement]") {
  // 1,000 nodes, every third one off; samples of 10 over 3,000 seeds.
  std::vector<bool> on(1000);
  for (size_t i = 0; i < on.size(); ++i) on[i] = i % 3 != 0;
  OnOffBackend backend(on);
  const std::vector<NodeId> all = backend.node_ids();
  std::vector<int> hits(on.size(), 0);
  for (uint64_t seed = 0; seed < 3000; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<NodeId> s = ids_of(sample_available(backend, all, 10, rng));
    REQUIRE(s.size() == 10);
    REQUIRE(std::is_sorted(s.begin(), s.end()));
    REQUIRE(std::adjacent_find(s.begin(), s.end()) == s.end());
    for (NodeId id : s) {
      REQUIRE(on[id]);
      ++hits[id];
    }
  }
  // Each of the 666 available nodes is drawn 3000 x 10 / 666 = 45 times on average; a node
  // the sampler favoured or never drew would stand out (binomial sd ~6.7, so [10, 90] is
  // more than 5 sd either side).
  for (size_t i = 0; i < on.size(); ++i) {
    if (on[i]) CHECK((hits[i] >= 10 && hits[i] <= 90));
  }
  std::mt19937_64 a(5), b(5);
  CHECK(ids_of(sample_available(backend, all, 10, a)) == ids_of(sample_available(backend, all, 10, b)));
}

TEST_CASE("sample_available asks about drawn nodes only when most are on", "[placement]") {
  OnOffBackend backend(std::vector<bool>(1000000, true));
  const std::vector<NodeId> all = backend.node_ids();
  std::mt19937_64 rng(3);
  CHECK(sample_available(backend, all, 50, rng).size() == 50);
  CHECK(backend.asked == 50);  // every drawn node is on: one batch of 50
}

TEST_CASE("sample_available lists the rest when few nodes are on, and returns what there is", "[placement]") {
  std::vector<bool> on(10000, false);
  on[17] = on[4242] = on[9999] = true;
  OnOffBackend backend(on);
  const std::vector<NodeId> all = backend.node_ids();
  std::mt19937_64 rng(1);
  CHECK(ids_of(sample_available(backend, all, 5, rng)) == std::vector<NodeId>{17, 4242, 9999});
  std::mt19937_64 rng2(1);
  CHECK(sample_available(backend, all, 2, rng2).size() == 2);
  CHECK(sample_available(backend, all, 0, rng2).empty());
}

TEST_CASE("sample_available counts only the nodes `admits` takes, drawing for those alone", "[placement]") {
  // 1,000,000 nodes all on, 90 of them busy: a sample of 10 asks about 10 nodes (a busy one
  // among the drawn is one more), none of them busy.
  OnOffBackend backend(std::vector<bool>(1000000, true));
  const std::vector<NodeId> all = backend.node_ids();
  std::vector<NodeId> busy;
  for (NodeId id = 5; id < 5 + 90 * 1111; id += 1111) busy.push_back(id);
  auto not_busy = [&](const NodeDescriptor& n) { return !std::binary_search(busy.begin(), busy.end(), n.id); };
  for (uint64_t seed = 0; seed < 200; ++seed) {
    backend.asked = 0;
    std::mt19937_64 rng(seed);
    const std::vector<NodeId> s = ids_of(sample_available(backend, all, 10, rng, not_busy));
    REQUIRE(s.size() == 10);
    for (NodeId id : s) REQUIRE(!std::binary_search(busy.begin(), busy.end(), id));
    REQUIRE(backend.asked <= 12);
  }
  // A small population where most nodes are not admitted, and one large enough to draw from:
  // every admitted node is found (the rest is listed once draws run out), samples uniform.
  for (int n : {60, 300}) {
    OnOffBackend small(std::vector<bool>(static_cast<size_t>(n), true));
    const std::vector<NodeId> few = small.node_ids();
    auto free_only = [](const NodeDescriptor& d) { return d.id % 10 == 0; };  // n / 10 nodes
    std::vector<int> hits(static_cast<size_t>(n), 0);
    for (uint64_t seed = 0; seed < 600; ++seed) {
      std::mt19937_64 rng(seed);
      const std::vector<NodeId> s = ids_of(sample_available(small, few, 3, rng, free_only));
      REQUIRE(s.size() == 3);
      for (NodeId id : s) ++hits[id];
    }
    const double expected = 600.0 * 3 / (n / 10);  // 300 (n = 60), 60 (n = 300)
    for (NodeId id = 0; id < static_cast<NodeId>(n); ++id) {
      INFO("n " << n << " node " << id << " drawn " << hits[id] << " times, " << expected << " expected");
      if (id % 10 == 0) {
        CHECK((hits[id] > expected * 0.6 && hits[id] < expected * 1.4));
      } else {
        CHECK(hits[id] == 0);
      }
    }
    std::mt19937_64 rng(1);
    CHECK(sample_available(small, few, 100, rng, free_only).size() == static_cast<size_t>(n / 10));
  }
}

TEST_CASE("a count maximum counts instances still running (carried over)", "[placement]") {
  TaskSpec spec{Module{"m"}, {.method = Method::Any, .maximum = 5}};
  auto available = nodes(20);
  std::mt19937_64 rng(1);
  PlacementRequest request{&spec, available};
  request.running = 3;
  CHECK(place(request, rng).size() == 2);
  request.running = 7;
  CHECK(place(request, rng).empty());
}

TEST_CASE("method server places one instance on the server, none while one runs there", "[placement]") {
  TaskSpec spec{Module{"m"}, {.method = Method::Server}};
  auto available = nodes(5);
  std::mt19937_64 rng(1);
  PlacementRequest request{&spec, available};
  CHECK(place(request, rng) == std::vector<NodeId>{kServerNode});
  request.running = 1;
  CHECK(place(request, rng).empty());
}

TEST_CASE("placement gives a module only nodes that hold every dataset it reads", "[placement][datasets]") {
  const NodeTraits train{{"train"}, "", {}};
  const NodeTraits both{{"test", "train"}, "", {}};
  const NodeTraits none{};
  // Node 0 holds train, 1 train and test, 2 nothing, 3 declares nothing (serves any dataset).
  std::vector<NodeDescriptor> available{{0, 1e9, 1, 0, &train}, {1, 1e9, 1, 0, &both}, {2, 1e9, 1, 0, &none}, {3, 1e9}};
  std::mt19937_64 rng(1);
  auto place_module = [&](std::vector<std::string> datasets, TaskOptions options = {}) {
    TaskSpec spec{Module{"m", "", std::move(datasets)}, options};
    return place({&spec, available}, rng);
  };
  CHECK(place_module({}) == std::vector<NodeId>{0, 1, 2, 3});
  CHECK(place_module({"train"}) == std::vector<NodeId>{0, 1, 3});
  CHECK(place_module({"train", "test"}) == std::vector<NodeId>{1, 3});
  CHECK(place_module({"labels"}) == std::vector<NodeId>{3});
  // The filter comes before the cap: BestResources and All pick among holders only.
  CHECK(place_module({"test"}, {.maximum = 1}) == std::vector<NodeId>{1});
}
