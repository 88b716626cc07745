#include "sim/event_queue.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

using namespace swarm::sim;

namespace {

SimTime ns(int64_t n) { return SimTime::from_ns(n); }

// Pops everything, returning the payloads in pop order.
template <typename P>
std::vector<P> drain(EventQueue<P>& q) {
  std::vector<P> out;
  while (!q.empty()) out.push_back(q.pop().payload);
  return out;
}

}  // namespace

TEST_CASE("events pop in time order with their time and id", "[event_queue]") {
  EventQueue<std::string> q;
  CHECK(q.empty());
  const EventId c = q.schedule(ns(30), "c");
  const EventId a = q.schedule(ns(10), "a");
  const EventId b = q.schedule(ns(20), "b");
  CHECK(q.size() == 3);
  CHECK(q.next_time() == ns(10));
  auto e = q.pop();
  CHECK(e.time == ns(10));
  CHECK(e.id == a);
  CHECK(e.payload == "a");
  e = q.pop();
  CHECK((e.time == ns(20) && e.id == b && e.payload == "b"));
  CHECK(q.next_time() == ns(30));
  e = q.pop();
  CHECK((e.time == ns(30) && e.id == c && e.payload == "c"));
  CHECK(q.empty());
  CHECK(q.size() == 0);
}

TEST_CASE("equal times pop first-in first-out", "[event_queue]") {
  EventQueue<int> q;
  // Interleave two times so that schedule order differs from any order of insertion into
  // one container: expected is 0..4 at t=5 in schedule order, then 100..104 at t=7.
  for (int i = 0; i < 5; ++i) {
    q.schedule(ns(7), 100 + i);
    q.schedule(ns(5), i);
  }
  CHECK(drain(q) == std::vector<int>{0, 1, 2, 3, 4, 100, 101, 102, 103, 104});
}

TEST_CASE("a large batch at one time keeps schedule order", "[event_queue]") {
  // 20000 events at t=1 (one bucket that cannot be split: the heap holds them all) mixed
  // with 20000 spread events, to cover both paths of the queue.
  EventQueue<int> q;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    q.schedule(ns(1), i);
    q.schedule(ns(2 + static_cast<int64_t>(rng() % 1000000)), -1);
  }
  int expected = 0;
  int64_t last = 0;
  while (!q.empty()) {
    auto e = q.pop();
    REQUIRE(e.time.ns() >= last);
    last = e.time.ns();
    if (e.time == ns(1)) REQUIRE(e.payload == expected++);
  }
  CHECK(expected == 20000);
}

TEST_CASE("a cancelled event never pops", "[event_queue]") {
  EventQueue<int> q;
  const EventId a = q.schedule(ns(10), 1);
  const EventId b = q.schedule(ns(20), 2);
  const EventId c = q.schedule(ns(30), 3);
  CHECK(q.cancel(b));
  CHECK(q.size() == 2);  // a and c
  CHECK_FALSE(q.cancel(b));  // already cancelled
  CHECK(q.size() == 2);

  SECTION("cancelling the earliest moves next_time") {
    CHECK(q.cancel(a));
    CHECK(q.next_time() == ns(30));
    CHECK(drain(q) == std::vector<int>{3});
  }
  SECTION("cancelling a popped event returns false") {
    CHECK(q.pop().id == a);
    CHECK_FALSE(q.cancel(a));
    CHECK(q.size() == 1);
    CHECK(drain(q) == std::vector<int>{3});
    CHECK_FALSE(q.cancel(c));
  }
  SECTION("cancelling everything empties the queue and frees every slot") {
    CHECK(q.cancel(a));
    CHECK(q.cancel(c));
    CHECK(q.empty());
    CHECK(q.stored() == 0);
  }
  SECTION("unknown ids are rejected") {
    CHECK_FALSE(q.cancel(0));  // ids are never 0
    CHECK_FALSE(q.cancel(std::numeric_limits<EventId>::max()));
    CHECK(q.size() == 2);
  }
}

TEST_CASE("an id is not reused by the event that takes its slot", "[event_queue]") {
  EventQueue<int> q;
  const EventId a = q.schedule(ns(1), 1);
  q.pop();
  const EventId b = q.schedule(ns(2), 2);  // reuses a's slot with a new generation
  CHECK(a != b);
  CHECK_FALSE(q.cancel(a));
  CHECK(q.size() == 1);
  CHECK(q.cancel(b));
}

TEST_CASE("cancel destroys the payload at once", "[event_queue]") {
  EventQueue<std::shared_ptr<int>> q;
  auto p = std::make_shared<int>(42);
  const EventId id = q.schedule(ns(5), p);
  CHECK(p.use_count() == 2);  // ours and the queue's
  CHECK(q.cancel(id));
  CHECK(p.use_count() == 1);
}

TEST_CASE("cancelled entries are reclaimed, not leaked", "[event_queue]") {
  EventQueue<int> q;
  std::vector<EventId> ids;
  for (int i = 0; i < 100000; ++i) ids.push_back(q.schedule(ns(1000 + i * 7 % 100000), i));
  // Cancel all but every 10th: compaction keeps stored() <= 2 * size() + 65.
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i % 10 != 0) REQUIRE(q.cancel(ids[i]));
    REQUIRE(q.stored() <= 2 * q.size() + 65);
  }
  CHECK(q.size() == 10000);
  // Repeated schedule/cancel cycles must not grow the storage either.
  for (int round = 0; round < 100000; ++round) {
    const EventId id = q.schedule(ns(500 + round % 5000), -1);
    REQUIRE(q.cancel(id));
  }
  CHECK(q.stored() <= 2 * q.size() + 65);
  const auto left = drain(q);
  CHECK(left.size() == 10000);
  CHECK(q.stored() == 0);
}

TEST_CASE("randomized against a std::multimap reference", "[event_queue]") {
  // A multimap keeps equal keys in insertion order, which is the queue's contract. Times
  // mix ties, near and far future, the past (before the last pop) and the extremes of the
  // range; the proportion of schedules varies so the pending count grows and shrinks.
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    std::mt19937_64 rng(seed);
    EventQueue<uint64_t> q;
    std::multimap<int64_t, std::pair<EventId, uint64_t>> ref;
    std::unordered_map<EventId, decltype(ref)::iterator> where;
    std::vector<EventId> ids;
    int64_t now = 0;
    const int schedule_pct = 40 + static_cast<int>(seed % 4) * 7;
    for (int op = 0; op < 40000; ++op) {
      const int r = static_cast<int>(rng() % 100);
      if (r < schedule_pct) {
        int64_t t = now;
        switch (rng() % 6) {
          case 0: t = now + static_cast<int64_t>(rng() % 4); break;
          case 1: t = now + static_cast<int64_t>(rng() % 1000000); break;
          case 2: t = static_cast<int64_t>(rng() % 100000) - 50000; break;
          case 3: t = now + static_cast<int64_t>(rng() % 1000000000000); break;
          case 4:
            t = rng() % 2 ? std::numeric_limits<int64_t>::max() - static_cast<int64_t>(rng() % 2)
                          : std::numeric_limits<int64_t>::min() + static_cast<int64_t>(rng() % 2);
            break;
          default: break;
        }
        const uint64_t payload = rng();
        const EventId id = q.schedule(ns(t), payload);
        REQUIRE(where.count(id) == 0);
        where[id] = ref.emplace(t, std::make_pair(id, payload));
        ids.push_back(id);
      } else if (r < schedule_pct + 15 && !ids.empty()) {
        const EventId id = ids[rng() % ids.size()];
        const bool pending = where.count(id) > 0;
        REQUIRE(q.cancel(id) == pending);
        if (pending) {
          ref.erase(where[id]);
          where.erase(id);
        }
      } else if (!ref.empty()) {
        const auto it = ref.begin();
        REQUIRE(q.next_time() == ns(it->first));
        const auto e = q.pop();
        REQUIRE(e.time == ns(it->first));
        REQUIRE(e.id == it->second.first);
        REQUIRE(e.payload == it->second.second);
        if (it->first > now && it->first < 1000000000000000) now = it->first;
        where.erase(it->second.first);
        ref.erase(it);
      }
      REQUIRE(q.size() == ref.size());
      REQUIRE(q.empty() == ref.empty());
      REQUIRE(q.stored() <= 2 * q.size() + 65);
    }
    while (!ref.empty()) {
      const auto e = q.pop();
      REQUIRE(e.id == ref.begin()->second.first);
      ref.erase(ref.begin());
    }
    CHECK(q.empty());
    CHECK(q.stored() == 0);
  }
}

TEST_CASE("hold model keeps order over many rounds", "[event_queue]") {
  // The benchmark's workload, checked: 10000 pending, each pop schedules one later event.
  EventQueue<uint32_t> q;
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> exp(1e-6);
  for (uint32_t i = 0; i < 10000; ++i) q.schedule(ns(static_cast<int64_t>(exp(rng))), i);
  int64_t last = 0;
  for (int i = 0; i < 300000; ++i) {
    auto e = q.pop();
    REQUIRE(e.time.ns() >= last);
    last = e.time.ns();
    q.schedule(e.time + ns(static_cast<int64_t>(exp(rng))), e.payload);
  }
  CHECK(q.size() == 10000);
}
