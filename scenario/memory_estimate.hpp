#pragma once
// How much memory a run will take, estimated from its scenario before anything is allocated,
// so that a run too large for the machine is refused with the numbers instead of dying of
// std::bad_alloc. The terms are upper-end estimates, documented in scenarios/README.md
// ("Memory").

#include <cstdint>
#include <optional>
#include <string>

#include "scenario/scenario.hpp"

namespace swarm::scenario {

struct MemoryEstimate {
  double model_bytes = 0;    // one copy of the model's parameters (float)
  double model_copies = 0;   // global model, server state, per training thread, updates held
  double data_bytes = 0;     // the dataset (features as float) and its split
  double node_bytes = 0;     // per node of the population: profile, state, link, results row
  double result_bytes = 0;   // per-round rows and the trace
  double total() const { return model_bytes * model_copies + data_bytes + node_bytes + result_bytes; }
  // "model 1.2 GB x 14 copies, data 220 MB, 1000000 nodes 300 MB, results 1 MB"
  std::string describe(int64_t nodes) const;
};

// The estimate for `scenario` trained with up to `threads` threads at once.
MemoryEstimate estimate_memory(const Scenario& scenario, int threads);

// Bytes this machine can give a run: MemAvailable from /proc/meminfo (MemTotal if the kernel
// has no MemAvailable); nullopt where /proc/meminfo cannot be read (no check then).
std::optional<double> available_memory();

// "1.5 GB", "320 MB", "12 kB".
std::string human_bytes(double bytes);

}  // namespace swarm::scenario
