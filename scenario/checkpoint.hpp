#pragma once
// Checkpoints of a run: after every round the runner can save what the run needs to go on
// (the controller's state, the rounds recorded so far) to a file, atomically, and a later
// process can resume from it with the same per-round numbers as a run that never stopped.
// The format is described in docs/results.md ("Checkpoints").

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "swarm/controller.hpp"
#include "results/results.hpp"

namespace swarm::scenario {

struct RunCheckpoint {
  std::string scenario_text;  // run_identity() of the run's scenario: a resume must run the same one
  uint64_t seed = 0;
  ControllerCheckpoint controller;
  std::vector<results::RoundRow> rounds;
  std::vector<int32_t> participated, failures;  // per node
  double noise_stddev = 0;
};

// What a run is, for a resume: the scenario as run, less where it runs (`backend`,
// `backend_options`, `deploy`), which does not change its numbers: a run of real nodes can go on with
// other ports or keys, or in-process.
std::string run_identity(const std::string& scenario_text);

// Writes `c` to `path` (through path.tmp, flushed to disk, then renamed). Throws DataError.
void write_checkpoint(const std::filesystem::path& path, const RunCheckpoint& c);

// Reads a checkpoint written by write_checkpoint. Throws DataError naming the file and what is
// wrong when it is missing, not a checkpoint, of another format version, or damaged (its
// checksum does not match).
RunCheckpoint read_checkpoint(const std::filesystem::path& path);

}  // namespace swarm::scenario
