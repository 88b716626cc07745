// merge_shards: checks that shard files are exactly the runs of one sweep, then writes them.

#include "results/merge.hpp"

#include <map>
#include <optional>
#include <string>
#include <system_error>

#include "results/results.hpp"
#include "swarm/error.hpp"

namespace swarm::results {
namespace {

namespace fs = std::filesystem;

// "a, b, c and 4 more": at most `shown` of `names`, quoted.
std::string some_names(const std::vector<std::string>& names, size_t shown = 5) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < shown; ++i) out += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " more";
  return out;
}

struct Input {
  fs::path path;
  SweepRecord record;
  std::vector<RunResult> runs;
};

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  const bool same = fs::equivalent(a, b, ec);
  return !ec && same;
}

}  // namespace

MergeSummary merge_shards(const std::vector<fs::path>& inputs, const fs::path& out) {
  if (inputs.empty()) throw UsageError("merge: no shard files given");
  fs::path partial = out;
  partial += ".partial";
  std::error_code ec;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (same_file(inputs[i], out)) {
      throw UsageError(inputs[i].string() + " is both an input and --out: merge never writes over an input");
    }
    for (size_t j = 0; j < i; ++j) {
      if (same_file(inputs[i], inputs[j])) {
        throw UsageError(inputs[i].string() + " is given twice (as " + inputs[j].string() + ")");
      }
    }
  }
  if (fs::exists(out, ec)) throw UsageError(out.string() + " exists; merge never replaces a file: use another --out");
  if (fs::exists(partial, ec)) {
    throw UsageError(partial.string() + " exists (left by an interrupted merge or sweep?): remove it or use another --out");
  }

  // Every input, read and verified, with its sweep record.
  std::vector<Input> shards;
  std::map<int, size_t> by_shard;  // shard index -> input
  for (const fs::path& path : inputs) {
    ResultsFile file = read_results_file(path);
    if (!file.sweep) {
      throw UsageError(path.string() + ": has no sweep record, so it is not a file of `swarm sweep` (a `swarm run`, " +
                       "or a sweep of an older swarm): merge takes the files of `swarm sweep --shard I/N`");
    }
    Input in{path, std::move(*file.sweep), std::move(file.runs)};
    if (!shards.empty()) {
      const Input& first = shards.front();
      if (!in.record.same_sweep(first.record)) {
        throw UsageError(path.string() + ": a shard of another sweep than " + first.path.string() + " (" +
                         std::to_string(in.record.runs.size()) + " runs, digest " + in.record.digest + ", against " +
                         std::to_string(first.record.runs.size()) + " runs, digest " + first.record.digest +
                         "): merge the shards of one sweep, run with the same scenario file and --set");
      }
      if (in.record.shards != first.record.shards) {
        throw UsageError(path.string() + ": shard " + shard_label(in.record.shard, in.record.shards) +
                         ", but " + first.path.string() + " is shard " +
                         shard_label(first.record.shard, first.record.shards) +
                         ": merge the shards of one split (the same N)");
      }
    }
    if (auto it = by_shard.find(in.record.shard); it != by_shard.end()) {
      throw UsageError(path.string() + " and " + shards[it->second].path.string() + " are both shard " +
                       shard_label(in.record.shard, in.record.shards) + " (their runs overlap): merge one of them");
    }
    by_shard[in.record.shard] = shards.size();
    shards.push_back(std::move(in));
  }

  // Each run must be one of its shard's, and in no other input.
  const SweepRecord& sweep = shards.front().record;
  const int n = sweep.shards;
  std::map<std::string, size_t> index;  // run name -> position in the sweep
  for (size_t k = 0; k < sweep.runs.size(); ++k) index.emplace(sweep.runs[k], k);
  std::vector<const RunResult*> found(sweep.runs.size(), nullptr);
  std::vector<const Input*> found_in(sweep.runs.size(), nullptr);
  for (const Input& in : shards) {
    for (const RunResult& run : in.runs) {
      auto it = index.find(run.name);
      if (it == index.end()) {
        throw UsageError(in.path.string() + ": holds run '" + run.name + "', which is not a run of its sweep");
      }
      const size_t k = it->second;
      if (found[k] != nullptr) {
        throw UsageError("run '" + run.name + "' is in both " + found_in[k]->path.string() + " and " +
                         in.path.string() + ": merge refuses overlapping shards");
      }
      if (!in_shard(k, in.record.shard, n)) {
        throw UsageError(in.path.string() + ": holds run '" + run.name + "', which is not a run of its shard " +
                         shard_label(in.record.shard, n) + " (it belongs to shard " +
                         shard_label(static_cast<int>(k % static_cast<size_t>(n)) + 1, n) + ")");
      }
      found[k] = &run;
      found_in[k] = &in;
    }
  }

  // Every run of the sweep must be there: name the missing shards, and what unfinished ones lack.
  std::map<int, std::vector<std::string>> missing;  // shard -> its missing runs
  size_t missing_runs = 0;
  for (size_t k = 0; k < sweep.runs.size(); ++k) {
    if (found[k] != nullptr) continue;
    missing[static_cast<int>(k % static_cast<size_t>(n)) + 1].push_back(sweep.runs[k]);
    ++missing_runs;
  }
  if (!missing.empty()) {
    std::string absent, unfinished;
    for (const auto& [shard, names] : missing) {
      auto it = by_shard.find(shard);
      if (it == by_shard.end()) {
        absent += (absent.empty() ? "" : ", ") + shard_label(shard, n);
      } else {
        unfinished += "; " + shards[it->second].path.string() + " (shard " + shard_label(shard, n) + ") lacks " +
                      std::to_string(names.size()) + " of its runs (" + some_names(names) +
                      "): finish it with `swarm sweep FILE --shard " + shard_label(shard, n) + " --resume`";
      }
    }
    std::string message = "the files hold " + std::to_string(sweep.runs.size() - missing_runs) + " of the sweep's " +
                          std::to_string(sweep.runs.size()) + " runs";
    if (!absent.empty()) message += "; missing shard(s) " + absent + ": run them with `swarm sweep FILE --shard I/" +
                                    std::to_string(n) + "` and merge all " + std::to_string(n);
    throw UsageError(message + unfinished);
  }

  // The runs themselves must be those the record's digest names (the same scenario texts and
  // seeds as the sweep that wrote the records).
  std::vector<SweepRun> identity;
  for (const RunResult* run : found) identity.push_back({run->name, run->scenario_text, run->seed});
  if (sweep_digest(identity) != sweep.digest) {
    throw UsageError("the runs of these files are not those of the sweep their records name (digest " +
                     sweep.digest + ", the runs give " + sweep_digest(identity) +
                     "): a shard was run with another scenario text, seed or --set");
  }

  MergeSummary summary{sweep.runs.size(), n, 0};
  try {
    ResultWriter writer(out, false);
    SweepRecord whole = sweep;
    whole.shard = whole.shards = 1;
    writer.set_sweep(whole);
    for (const RunResult* run : found) {
      writer.write(*run);
      if (run->outcome != "complete") ++summary.stopped;
    }
    writer.finish();
  } catch (...) {
    fs::remove(partial, ec);  // never leave half a merge behind
    throw;
  }
  return summary;
}

}  // namespace swarm::results
