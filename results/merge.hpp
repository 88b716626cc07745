#pragma once
// `swarm merge`: the files of a sweep's shards (`swarm sweep --shard I/N`) combined into one
// file equal to the whole sweep's (docs/results.md, "Sweeps and shards").

#include <cstddef>
#include <filesystem>
#include <vector>

namespace swarm::results {

struct MergeSummary {
  size_t runs = 0;     // runs written
  int shards = 0;      // the split the inputs are shards of (N)
  size_t stopped = 0;  // runs whose outcome is not "complete" (diverged, no nodes), written as they are
};

// Reads every input (each verified as read_results_file() does), checks that together they
// are exactly the runs of one sweep, and writes those runs to `out` in sweep order with the
// sweep record of the whole sweep (shard 1 of 1), under `out.partial` renamed when complete.
// Throws UsageError, naming the file(s) and the reason, before anything is written if: an
// input has no sweep record (not a file of `swarm sweep`), is given twice, or is `out`; two
// inputs are shards of different sweeps, of different splits (N), or the same shard; a run is
// in two inputs or not in its input's shard; runs are missing (naming the missing shards, or
// the runs an unfinished shard lacks); `out` or `out.partial` exists. Throws DataError (from the
// reader) for a file that is not a results file or is damaged. On a failure while writing,
// `out.partial` is removed: nothing is left half-written, and no input is ever changed.
MergeSummary merge_shards(const std::vector<std::filesystem::path>& inputs, const std::filesystem::path& out);

}  // namespace swarm::results
