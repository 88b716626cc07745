#include "sim/availability.hpp"

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "swarm/error.hpp"

using namespace swarm;
using namespace swarm::sim;

namespace {

constexpr int64_t kSecond = 1'000'000'000;

NodeProfile markov(double mean_on_s, double mean_off_s) {
  return {.name = "m",
          .availability = {.kind = Availability::Kind::Markov,
                           .mean_on_s = mean_on_s,
                           .mean_off_s = mean_off_s}};
}

NodeProfile always() { return {.name = "a"}; }

NodeProfile traced(const std::string& file) {
  return {.name = "t",
          .availability = {.kind = Availability::Kind::Trace, .trace_file = file}};
}

AvailabilityModel markov_model(uint32_t nodes, uint64_t seed, double on_s = 1800,
                               double off_s = 600) {
  return AvailabilityModel({markov(on_s, off_s)}, std::vector<uint16_t>(nodes, 0), seed);
}

// A file under the temp directory holding `text`, removed when the object dies.
class TempFile {
 public:
  TempFile(const std::string& tag, const std::string& text)
      : path_(std::filesystem::temp_directory_path() /
              ("swarmsim_availability_" + tag + "_" + std::to_string(::getpid()) + ".txt")) {
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// The change times of `node` in (0, horizon], walking next_change from 0.
std::vector<int64_t> changes(AvailabilityModel& m, uint32_t node, int64_t horizon) {
  std::vector<int64_t> out;
  for (SimTime t = m.next_change(node, SimTime::zero()); t.ns() <= horizon;
       t = m.next_change(node, t)) {
    out.push_back(t.ns());
  }
  return out;
}

// what() of the DataError thrown when loading a model with a trace file holding `text`.
std::string trace_error(const std::string& tag, const std::string& text, std::string* path) {
  TempFile f(tag, text);
  *path = f.path();
  try {
    AvailabilityModel m({traced(f.path())}, {0, 0}, 1);
  } catch (const DataError& e) {
    return e.what();
  }
  return "no DataError";
}

}  // namespace

TEST_CASE("always-on nodes are on at every time and never change", "[availability]") {
  AvailabilityModel m({always()}, {0, 0, 0}, 7);
  CHECK(m.is_on(1, SimTime::zero()));
  CHECK(m.is_on(2, SimTime::from_seconds(1e6)));
  CHECK(m.next_change(0, SimTime::from_seconds(3)) == SimTime::max());
}

TEST_CASE("Markov long-run on share and mean period durations match the means",
          "[availability]") {
  // mean_on = 30 min, mean_off = 10 min: long-run on share p = 30 / 40 = 0.75.
  const double on_s = 1800, off_s = 600, p = on_s / (on_s + off_s);
  const uint32_t nodes = 200;
  const int64_t horizon = int64_t{400} * 3600 * kSecond;  // 400 h = 600 cycles of 40 min
  AvailabilityModel m = markov_model(nodes, 42, on_s, off_s);

  double on_time = 0;
  double on_sum = 0, off_sum = 0;
  int64_t on_periods = 0, off_periods = 0;
  for (uint32_t node = 0; node < nodes; ++node) {
    int64_t t = 0;
    bool on = m.is_on(node, SimTime::zero());
    bool first = true;
    while (t < horizon) {
      const int64_t next = m.next_change(node, SimTime::from_ns(t)).ns();
      const int64_t end = std::min(next, horizon);
      if (on) on_time += static_cast<double>(end - t);
      // Period 0 starts at 0 and the last one is cut at the horizon: count whole periods only.
      if (!first && next <= horizon) {
        (on ? on_sum : off_sum) += static_cast<double>(next - t) * 1e-9;
        ++(on ? on_periods : off_periods);
      }
      first = false;
      t = next;
      on = !on;
    }
  }
  // On share of a two-state Markov process over time T: variance ~ 2 p (1-p) tau / T with
  // tau = on * off / (on + off) = 450 s the correlation time. T = 1.44e6 s gives sd 0.0108 per
  // node, 0.00077 over 200 independent nodes: 0.005 is > 6 sd.
  CHECK(on_time / (static_cast<double>(horizon) * nodes) == Approx(p).margin(0.005));
  // ~120,000 on periods, exponential (sd = mean): the sample mean has sd mean / sqrt(120,000)
  // = 0.3% of the mean; 2% is > 6 sd. Same for the ~120,000 off periods.
  REQUIRE(on_periods > 100000);
  REQUIRE(off_periods > 100000);
  CHECK(on_sum / on_periods == Approx(on_s).epsilon(0.02));
  CHECK(off_sum / off_periods == Approx(off_s).epsilon(0.02));
}

TEST_CASE("Markov initial state follows the stationary distribution", "[availability]") {
  // P(on at 0) = 0.75; over 20,000 nodes the share has sd sqrt(0.75 * 0.25 / 20,000) = 0.0031;
  // 0.02 is > 6 sd.
  const uint32_t nodes = 20000;
  AvailabilityModel m = markov_model(nodes, 3);
  int on = 0;
  for (uint32_t i = 0; i < nodes; ++i) on += m.is_on(i, SimTime::zero());
  CHECK(on / double(nodes) == Approx(0.75).margin(0.02));
}

TEST_CASE("Markov trajectories depend only on the seed and the node", "[availability]") {
  const int64_t horizon = int64_t{100} * 3600 * kSecond;
  AvailabilityModel a = markov_model(10, 11), b = markov_model(10, 11), c = markov_model(10, 12);
  // b queries another node first: streams do not depend on query order.
  changes(b, 9, horizon);
  const auto a5 = changes(a, 5, horizon);
  CHECK(a5.size() > 100);  // 100 h of 40 min cycles: ~300 changes
  CHECK(changes(b, 5, horizon) == a5);
  CHECK(changes(a, 6, horizon) != a5);
  CHECK(changes(c, 5, horizon) != a5);
}

TEST_CASE("Markov queries going backwards in time give the same answers", "[availability]") {
  AvailabilityModel forward = markov_model(4, 5), shuffled = markov_model(4, 5);
  std::vector<int64_t> times;
  std::mt19937_64 rng(1);
  const uint64_t span = uint64_t{50} * 3600 * kSecond;  // 50 h
  for (int i = 0; i < 2000; ++i) times.push_back(static_cast<int64_t>(rng() % span));
  std::vector<int64_t> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  for (uint32_t node = 0; node < 4; ++node) {
    std::vector<bool> on(sorted.size());
    std::vector<int64_t> next(sorted.size());
    for (size_t i = 0; i < sorted.size(); ++i) {
      on[i] = forward.is_on(node, SimTime::from_ns(sorted[i]));
      next[i] = forward.next_change(node, SimTime::from_ns(sorted[i])).ns();
    }
    for (int64_t t : times) {  // random order
      const size_t i = std::lower_bound(sorted.begin(), sorted.end(), t) - sorted.begin();
      REQUIRE(shuffled.is_on(node, SimTime::from_ns(t)) == on[i]);
      REQUIRE(shuffled.next_change(node, SimTime::from_ns(t)).ns() == next[i]);
    }
  }
  // A negative time is answered as time 0.
  CHECK(forward.is_on(0, SimTime::from_ns(-5)) == forward.is_on(0, SimTime::zero()));
}

TEST_CASE("Markov next_change is consistent with is_on", "[availability]") {
  AvailabilityModel m = markov_model(3, 9, 60, 30);
  for (uint32_t node = 0; node < 3; ++node) {
    SimTime t = SimTime::from_seconds(0.5);
    for (int i = 0; i < 500; ++i) {
      const bool on = m.is_on(node, t);
      const SimTime c = m.next_change(node, t);
      REQUIRE(c > t);
      // Constant on [t, c), flipped at c.
      REQUIRE(m.is_on(node, c - SimTime::from_ns(1)) == on);
      REQUIRE(m.is_on(node, t + SimTime::from_ns((c - t).ns() / 2)) == on);
      REQUIRE(m.is_on(node, c) == !on);
      t = c + SimTime::from_ns((c - t).ns() / 3);  // somewhere in the next period or later
    }
  }
}

TEST_CASE("Markov model memory per node is small", "[availability]") {
  AvailabilityModel m = markov_model(1000, 1);
  // One 16-byte record: the cached period (8 + 4 bytes) and the profile index (2) in what was
  // padding (18 bytes when the index had an array of its own).
  CHECK(m.bytes_per_node() == 16);
  CHECK(m.bytes_per_node() < 64);
}

TEST_CASE("trace intervals answer is_on and next_change exactly", "[availability]") {
  TempFile f("good",
             "# node start end\n"
             "0 10 20\n"
             "\n"
             "2 0 5      # node 2 starts on\n"
             "0 30 40.5\n"
             "0 40.5 50  # touches the previous one: merged into [30, 50)\n"
             "3 1 2      # node 3 is always-on: ignored\n"
             "99 1 2     # not in the population: ignored\n");
  // Nodes 0, 1, 2 have the trace profile (node 1 is absent from the file), node 3 is always on.
  AvailabilityModel m({traced(f.path()), always()}, {0, 0, 0, 1}, 1);
  auto s = [](double x) { return SimTime::from_seconds(x); };
  auto ns = [](int64_t x) { return SimTime::from_ns(x); };

  CHECK_FALSE(m.is_on(0, s(0)));
  CHECK_FALSE(m.is_on(0, ns(10 * kSecond - 1)));
  CHECK(m.is_on(0, s(10)));
  CHECK(m.is_on(0, ns(20 * kSecond - 1)));
  CHECK_FALSE(m.is_on(0, s(20)));
  CHECK(m.is_on(0, s(40.5)));
  CHECK(m.is_on(0, ns(50 * kSecond - 1)));
  CHECK_FALSE(m.is_on(0, s(50)));
  CHECK_FALSE(m.is_on(0, s(1e6)));
  CHECK(m.next_change(0, s(0)) == s(10));
  CHECK(m.next_change(0, s(10)) == s(20));
  CHECK(m.next_change(0, s(15)) == s(20));
  CHECK(m.next_change(0, s(20)) == s(30));
  CHECK(m.next_change(0, s(35)) == s(50));  // merged: no change at 40.5
  CHECK(m.next_change(0, s(50)) == SimTime::max());
  // Backwards after forwards.
  CHECK(m.is_on(0, s(12)));

  CHECK_FALSE(m.is_on(1, s(0)));
  CHECK_FALSE(m.is_on(1, s(15)));
  CHECK(m.next_change(1, s(0)) == SimTime::max());

  CHECK(m.is_on(2, s(0)));
  CHECK(m.is_on(2, ns(-1)));  // before 0: as at 0
  CHECK(m.next_change(2, s(0)) == s(5));
  CHECK_FALSE(m.is_on(2, s(5)));

  CHECK(m.is_on(3, s(1.5)));
  CHECK(m.next_change(3, s(0)) == SimTime::max());
}

TEST_CASE("each malformed trace file throws DataError naming FILE:LINE", "[availability]") {
  struct Case {
    const char* tag;
    const char* text;
    int line;
    const char* what;
  };
  const Case cases[] = {
      {"fields", "0 1 2\n# ok\n1 2\n", 3, "expected 3 fields"},
      {"extra", "0 1 2 3\n", 1, "expected 3 fields"},
      {"node", "x 1 2\n", 1, "NODE"},
      {"node_negative", "-1 1 2\n", 1, "NODE"},
      {"start", "0 abc 2\n", 1, "START_S"},
      {"end", "\n0 1 2s\n", 2, "END_S"},
      {"empty_interval", "0 2 2\n", 1, "END_S must be > START_S"},
      {"reversed", "0 3 2\n", 1, "END_S must be > START_S"},
      {"overlap", "0 1 5\n1 0 1\n0 4 6\n", 3, "sorted and not overlap"},
      {"unsorted", "0 10 20\n0 1 2\n", 2, "sorted and not overlap"},
      {"negative", "0 -1 2\n", 1, "START_S must be >= 0"},
      {"nan", "0 nan 2\n", 1, "START_S"},
  };
  for (const Case& c : cases) {
    INFO(c.tag);
    std::string path;
    const std::string what = trace_error(c.tag, c.text, &path);
    CHECK_THAT(what, Catch::StartsWith(path + ":" + std::to_string(c.line) + ": "));
    CHECK_THAT(what, Catch::Contains(c.what));
  }
  // An unreadable file.
  const std::string missing =
      (std::filesystem::temp_directory_path() / "swarmsim_no_such_trace.txt").string();
  CHECK_THROWS_AS(AvailabilityModel({traced(missing)}, {0}, 1), DataError);
  try {
    AvailabilityModel m({traced(missing)}, {0}, 1);
  } catch (const DataError& e) {
    CHECK_THAT(std::string(e.what()), Catch::StartsWith(missing + ": "));
  }
}
