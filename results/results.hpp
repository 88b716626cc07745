#pragma once
// Results of runs and sweeps, stored in HDF5: one file per `swarm run` or `swarm sweep`, one
// group per run. The layout, key by key, is in docs/results.md; analysis/ reads it from Python.
//
// A file is written under a temporary name (`PATH.partial`) and renamed to PATH by finish(),
// so a crash never leaves a file that looks complete. Each run is marked complete only once
// all of it is on disk, so an interrupted sweep can be resumed: the runs already complete are
// kept and listed by completed(), a half-written one is deleted.
//
// Not thread-safe: Debian's HDF5 library is not, so at most one thread of the process may
// call into this header (or HDF5) at a time.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace swarm::results {

// One round (controller iteration). Times are backend clock seconds: virtual seconds in
// simulation, wall seconds since the run began on real nodes; wall_s is host wall-clock time.
struct RoundRow {
  int32_t round = 0;  // 1-based
  double t_start_s = 0, t_end_s = 0, wall_s = 0;
  double accuracy = 0, loss = 0;  // of the global model on the test set, after the round
  int32_t participants = 0;       // updates aggregated into the global model
  int32_t instances = 0;          // task instances started in the round
  int32_t failed = 0;             // instances whose task threw
  int32_t lost_crash = 0, lost_transfer = 0, lost_offline = 0, lost_deadline = 0,
          lost_overcommit = 0;  // instances lost, by cause (see swarm::LossCause)
  uint64_t bytes_up = 0, bytes_down = 0, flops = 0;
  int32_t stale = 0, max_staleness = 0;  // completions started in an earlier round
  double mean_staleness = 0;             // mean over stale completions, in rounds
  int32_t unplaced = 0;  // workers (instances) wanted but not started: fewer nodes on than asked
  // Bytes that crossed a real network in the round, ZeroMQ framing included (real nodes;
  // 0 on backends without a wire of their own: simulated transfers are bytes_up/bytes_down).
  uint64_t wire_bytes_up = 0, wire_bytes_down = 0;
  // Wall seconds the coordinator spent on its own work since the previous round ended:
  // neither waiting for nodes (their training, the wire) nor running server tasks; the
  // bookkeeping between rounds (results, checkpoint) included. Real nodes only; 0 elsewhere.
  double coordinator_s = 0;
};

struct NodeRow {
  uint32_t id = 0;
  std::string profile;  // device profile name ("phone", ...); empty for real nodes
  int64_t samples = 0;  // training samples held
  int32_t classes = 0;  // distinct labels among them
  int32_t rounds_participated = 0;
  int32_t failures = 0;  // instances of the node that failed or were lost
  bool byzantine = false;
  double flops_per_s = 0;  // the speed placement used: the profile's, or the real node's measured one (0: not said)
  std::string kernel;      // the GEMM kernel a real node computed with (the run's, "NAME: IDENTITY"); empty elsewhere
  uint64_t wire_bytes_up = 0, wire_bytes_down = 0;  // real bytes from and to the node, framed
};

// One event of the simulated backend's trace (sim::TraceEvent).
struct TraceRow {
  double time_s = 0;
  uint32_t node = 0;
  std::string event;  // "start", "download_done", "compute_done", "complete", or a loss cause
  std::string task;
  uint64_t instance = 0;
  uint64_t bytes = 0;
};

struct RunResult {
  // Unique in a file, e.g. "strategy.name=krum,data.partition=dirichlet,rep0": the group name
  // /runs/<name> as is, so any non-empty text without '/' or NUL, other than "." and "..".
  std::string name;
  std::string scenario_text;                 // the full scenario as run (YAML after overrides)
  std::map<std::string, std::string> point;  // sweep point: key path -> value as text; empty
                                             // for a single run. Stored typed (numbers as
                                             // numbers), so read back in their shortest text
                                             // ("0.10" comes back "0.1").
  int replicate = 0;
  uint64_t seed = 0;
  std::string version;  // program version
  std::vector<RoundRow> rounds;
  std::vector<NodeRow> nodes;
  std::vector<float> final_model;
  std::vector<TraceRow> trace;  // optional (empty = not recorded)
  double noise_multiplier = 0;  // differential-privacy runs, else 0
  // training.mode of the run: "real", or "timing" (no training: accuracy and loss are NaN).
  std::string training_mode = "real";
  // How the run ended: "complete" (every round it was to run), "diverged" (non-finite model
  // or loss), "no_nodes" (no node could ever take part); outcome_message says more.
  std::string outcome = "complete";
  std::string outcome_message;
  // The GEMM kernel the models computed with, "NAME: IDENTITY" (swarm/ml/kernel.hpp: kernels
  // give different numbers); "" when not recorded (files written before it was).
  std::string kernel;
};

// What identifies a complete run of a file, to check it is the run a resumed sweep would run.
struct CompletedRun {
  std::string scenario_text;
  uint64_t seed = 0;
  std::string outcome = "complete", outcome_message;  // as in RunResult
};

// One run of a sweep as it identifies the sweep: its name, scenario text and seed.
struct SweepRun {
  std::string name;
  std::string scenario_text;
  uint64_t seed = 0;
};

// Which runs of which sweep a file of `swarm sweep` holds (docs/results.md, "Sweeps and
// shards"). The sweep's runs, in the order the scenario defines them, are split into `shards`
// shards by position: run k (from 0) belongs to shard k % shards + 1, so shard indices go from
// 1 (as Slurm's array task ids do) and a sweep's replicates and neighbouring points spread over
// the shards. A whole sweep is shard 1 of 1.
struct SweepRecord {
  std::vector<std::string> runs;  // the names of every run of the sweep, in sweep order
  std::string digest;             // sweep_digest() of those runs
  int shard = 1, shards = 1;      // 1 <= shard <= shards

  bool same_sweep(const SweepRecord& other) const { return runs == other.runs && digest == other.digest; }
  bool operator==(const SweepRecord&) const = default;
};

// The record of shard `shard` of `shards` of the sweep `runs` (in sweep order).
// REQUIRES: 1 <= shard <= shards.
SweepRecord sweep_record(const std::vector<SweepRun>& runs, int shard, int shards);

// The CRC-32 (zlib's, 8 hex digits) of the runs' names, scenario texts and seeds in order: two
// sweeps with the same digest ran the same runs (up to CRC-32 collisions).
std::string sweep_digest(const std::vector<SweepRun>& runs);

// Whether the run at position `index` (from 0) of a sweep belongs to shard `shard` (from 1) of
// `shards`.
inline bool in_shard(size_t index, int shard, int shards) {
  return index % static_cast<size_t>(shards) == static_cast<size_t>(shard - 1);
}

// "I/N", as --shard takes it.
std::string shard_label(int shard, int shards);

// Writes the runs of one `swarm run` or `swarm sweep` to one file.
class ResultWriter {
 public:
  // Opens (creating) `path`. Writes go to `path.partial`; finish() renames it to `path`.
  // - `path.partial` exists (an interrupted sweep): throws UsageError unless `resume`; then it
  //   is reopened, its complete runs are verified and kept (completed() lists them) and
  //   incomplete ones are deleted.
  // - `path` exists: throws UsageError ("exists; use --resume or another --out") unless
  //   `resume`, in which case it is moved back to `path.partial` and reopened, so a finished
  //   sweep can be extended. Both existing at once is a UsageError too.
  // Throws DataError naming the file if it cannot be created, or if the file to reopen is not
  // a swarmsim results file.
  ResultWriter(std::filesystem::path path, bool resume);
  // Closes without renaming: an exception mid-sweep leaves `path.partial` to resume. A
  // finished `path` reopened with `resume` and not written to is moved back to `path`.
  ~ResultWriter();
  ResultWriter(const ResultWriter&) = delete;
  ResultWriter& operator=(const ResultWriter&) = delete;

  // Names of the complete runs in the file.
  std::set<std::string> completed() const;
  // The same runs, with their scenario text and seed.
  const std::map<std::string, CompletedRun>& completed_runs() const;

  // The sweep record of the file (read when reopened, or as last set); nullopt when it has none
  // (a new file, a `swarm run`, a sweep of an older swarm).
  const std::optional<SweepRecord>& sweep() const;
  // Records which shard of which sweep the file holds (root attributes `sweep`, `sweep_crc32`),
  // replacing any record it had, and flushes. A sweep sets it before writing runs.
  // REQUIRES: finish() not called.
  void set_sweep(const SweepRecord& record);

  // Writes one run as a group and flushes the file; the group is marked complete (attribute
  // complete=1, flushed again) only after everything else, its checksum included, is on disk.
  // Throws UsageError if the file already holds a complete run of that name or the name is
  // not a valid group name (empty, '/' or NUL in it, "." or ".."), DataError on an HDF5
  // error. REQUIRES: finish() not called.
  void write(const RunResult& run);

  // Flushes, closes and renames `path.partial` to `path`. REQUIRES: not called before.
  void finish();

  const std::filesystem::path& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Every complete run of the file, in the order they were written, each verified against its
// checksum. Throws DataError naming the file if it is missing, not HDF5, not a swarmsim
// results file of format_version 2 (a missing group or attribute, a dataset of the wrong type
// or shape), or damaged (an HDF5 checksum or a run's checksum does not match, a table declares
// more rows than the file holds). Never returns data that differs from what was written.
std::vector<RunResult> read_results(const std::filesystem::path& path);

// A results file as read_results() reads it, with its sweep record (verified against its
// checksum, `sweep_crc32`; nullopt if the file has none). Same errors as read_results().
struct ResultsFile {
  std::optional<SweepRecord> sweep;
  std::vector<RunResult> runs;
};
ResultsFile read_results_file(const std::filesystem::path& path);

}  // namespace swarm::results
