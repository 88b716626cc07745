#pragma once
// What a simulated node is: its compute speed, its links and when it is reachable. A profile
// describes a class of devices (phones, laptops, servers); a Population (sim/population.hpp)
// instantiates it into many nodes, each with its own seeded deviation from the class.

#include <string>
#include <string_view>
#include <vector>

namespace swarm::sim {

// When a node of a profile is on (reachable and willing to run tasks).
struct Availability {
  enum class Kind {
    Always,  // on for the whole run
    Markov,  // two-state on/off process with exponential periods (sim/availability.hpp)
    Trace,   // intervals read from `trace_file` (format in sim/availability.hpp)
  };
  Kind kind = Kind::Always;
  double mean_on_s = 0, mean_off_s = 0;  // Markov: mean on and off period, seconds
  std::string trace_file;                // Trace: path of the interval file
};

struct NodeProfile {
  std::string name;
  double flops = 1e9;                                         // compute speed, FLOP/s
  double up_bytes_per_s = 1.25e6, down_bytes_per_s = 1.25e7;  // link bandwidths
  double latency_s = 0.05;                                    // one-way network latency
  // Sigma of the per-node log-normal factor exp(N(0, speed_spread)) applied to flops (one draw)
  // and to both bandwidths (another draw). 0 = all nodes of the profile identical.
  double speed_spread = 0;
  // Sigma of a per-task log-normal factor on compute time (applied by the backend).
  double compute_noise = 0;
  Availability availability;
};

// Empty if `p` is valid, else one message naming the profile, the field and what was expected,
// e.g. "profile 'phone': up_bytes_per_s must be > 0 (got -1)". Rejects zero, negative or
// non-finite flops and bandwidths, negative or non-finite latency and spreads, Markov means
// that are not > 0, a Trace without a file name. Reports the first problem found.
std::string check(const NodeProfile& p);

// Built-in profiles: "phone", "laptop", "server" (the table and its sources in profile.cpp).
// Throws UsageError with a "did you mean" and the known names if `name` is not one of them.
const NodeProfile& builtin_profile(std::string_view name);
// Their names, in the table's order.
std::vector<std::string> builtin_profile_names();

// Bytes per second of a link of `mbps` megabits (10^6 bits) per second.
constexpr double mbit_per_s(double mbps) { return mbps * 1e6 / 8.0; }

}  // namespace swarm::sim
