#include "sim/profile.hpp"

#include <cmath>
#include <sstream>
#include <vector>

#include "swarm/error.hpp"
#include "engine/text.hpp"

namespace swarm::sim {

namespace {

// Appends "profile 'NAME': FIELD must be EXPECTED (got VALUE)" to `out` if `ok` is false and
// `out` is still empty (only the first problem is reported).
void require(std::string& out, bool ok, const NodeProfile& p, const char* field,
             const char* expected, double value) {
  if (ok || !out.empty()) return;
  std::ostringstream msg;
  msg << "profile '" << p.name << "': " << field << " must be " << expected << " (got " << value
      << ")";
  out = msg.str();
}

bool positive(double x) { return std::isfinite(x) && x > 0; }
bool non_negative(double x) { return std::isfinite(x) && x >= 0; }

// The built-in device classes. The values are round figures of the right order of magnitude,
// not fits to one data set; a study that depends on them should give its own profiles.
//
// Compute: sustained FP32 training throughput, well below the chips' peak. Phones: a few
// GFLOP/s (AI Benchmark, Ignatov et al. 2019, whose per-device measurements FedScale uses for
// its client compute traces, spread over about an order of magnitude across devices). Laptops:
// tens of GFLOP/s from a few vectorized cores. Servers: hundreds of GFLOP/s from many cores.
//
// Network: phones on cellular or shared Wi-Fi get a few Mbit/s up and tens down with 50-100 ms
// latency (the range of the MobiPerf measurements behind FedScale's client bandwidth traces,
// and of Ookla Speedtest mobile medians); laptops on home broadband get tens of Mbit/s up and
// about 100 down (Ookla fixed-broadband medians); servers sit on a 1 Gbit/s datacenter link.
//
// Availability: phones are eligible (charging, idle, unmetered network) in sessions of tens of
// minutes (cf. the device availability traces of Yang et al., WWW 2021, used by FedScale);
// here 30 min on / 10 min off, i.e. on 75% of the time over the hours a run simulates, not
// the daily average. Laptops: sessions of hours (2 h on / 1 h off). Servers: always on.
//
// Spreads: devices of one class differ (speed_spread = sigma of the log-normal per-node
// factor: 0.3 gives a 10th-90th percentile ratio of exp(2 * 1.28 * 0.3) ~ 2.2), servers less
// so; per-task compute noise models background load and thermal throttling.
//
// The table is the whole definition: one row per class, in the units the sources use.
struct BuiltinRow {
  const char* name;
  double flops;                    // FLOP/s
  double up_mbps, down_mbps;       // link, Mbit/s
  double latency_s;                // one way
  double speed_spread, compute_noise;
  double mean_on_s, mean_off_s;    // Markov availability; 0 and 0: always on
};
constexpr BuiltinRow kBuiltinRows[] = {
    // name     FLOP/s  up    down  latency spread noise  on s    off s
    {"phone",   2e9,    5,    20,   0.08,   0.3,   0.2,   1800,   600},
    {"laptop",  2e10,   20,   100,  0.03,   0.3,   0.1,   7200,   3600},
    {"server",  2e11,   1000, 1000, 0.01,   0.1,   0.05,  0,      0},
};

NodeProfile from_row(const BuiltinRow& row) {
  NodeProfile p;
  p.name = row.name;
  p.flops = row.flops;
  p.up_bytes_per_s = mbit_per_s(row.up_mbps);
  p.down_bytes_per_s = mbit_per_s(row.down_mbps);
  p.latency_s = row.latency_s;
  p.speed_spread = row.speed_spread;
  p.compute_noise = row.compute_noise;
  if (row.mean_on_s > 0) p.availability = {Availability::Kind::Markov, row.mean_on_s, row.mean_off_s, ""};
  return p;
}

const std::vector<NodeProfile>& builtins() {
  static const std::vector<NodeProfile> kBuiltins = [] {  // immutable once built
    std::vector<NodeProfile> out;
    for (const BuiltinRow& row : kBuiltinRows) out.push_back(from_row(row));
    return out;
  }();
  return kBuiltins;
}

}  // namespace

std::string check(const NodeProfile& p) {
  std::string out;
  require(out, positive(p.flops), p, "flops", "> 0 and finite", p.flops);
  require(out, positive(p.up_bytes_per_s), p, "up_bytes_per_s", "> 0 and finite",
          p.up_bytes_per_s);
  require(out, positive(p.down_bytes_per_s), p, "down_bytes_per_s", "> 0 and finite",
          p.down_bytes_per_s);
  require(out, non_negative(p.latency_s), p, "latency_s", ">= 0 and finite", p.latency_s);
  require(out, non_negative(p.speed_spread), p, "speed_spread", ">= 0 and finite",
          p.speed_spread);
  require(out, non_negative(p.compute_noise), p, "compute_noise", ">= 0 and finite",
          p.compute_noise);
  const Availability& a = p.availability;
  switch (a.kind) {
    case Availability::Kind::Always:
      break;
    case Availability::Kind::Markov:
      require(out, positive(a.mean_on_s), p, "availability.mean_on_s", "> 0 and finite",
              a.mean_on_s);
      require(out, positive(a.mean_off_s), p, "availability.mean_off_s", "> 0 and finite",
              a.mean_off_s);
      break;
    case Availability::Kind::Trace:
      if (out.empty() && a.trace_file.empty()) {
        out = "profile '" + p.name + "': availability.trace_file must name a file (got '')";
      }
      break;
  }
  return out;
}

std::vector<std::string> builtin_profile_names() {
  std::vector<std::string> names;
  for (const BuiltinRow& row : kBuiltinRows) names.emplace_back(row.name);
  return names;
}

const NodeProfile& builtin_profile(std::string_view name) {
  for (const NodeProfile& p : builtins()) {
    if (p.name == name) return p;
  }
  throw UsageError("unknown node profile '" + std::string(name) + "'" + did_you_mean(name, builtin_profile_names()) +
                   " (known: " + join(builtin_profile_names()) + ")");
}

}  // namespace swarm::sim
