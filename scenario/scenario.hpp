#pragma once
// Scenario files: one YAML file describes a whole experiment (swarm, model, data and
// partition, population, network, faults and attackers, strategy, stopping rule, seed,
// replicates and a sweep). The schema, key by key, is in scenarios/README.md; this header
// turns a file into the list of runs it asks for, checked before any of them starts.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "swarm/blob.hpp"
#include "swarm/fl/fl_swarm.hpp"
#include "swarm/ml/kernel.hpp"
#include "swarm/registries.hpp"
#include "swarm/swarm.hpp"
#include "scenario/yaml_reader.hpp"
#include "sim/population.hpp"
#include "sim/simulated_backend.hpp"

namespace swarm::scenario {

struct DataSpec {
  std::string dataset = "fashion-mnist";  // or "synthetic"
  std::string path;                        // fashion-mnist: folder of the IDX files
  int64_t samples = 12000;                 // synthetic: total samples (1/6 held out for test)
  int features = 64, classes = 10;         // synthetic
  double separation = 0.35;                // synthetic: distance scale of class centres
  std::string partition = "iid";           // iid | dirichlet | shards | quantity_skew | sampled
  double alpha = 0.5;                      // dirichlet
  int shards_per_node = 2;                 // shards
  double sigma = 1.0;                      // quantity_skew
  int64_t samples_per_node = 600;          // sampled
};

struct AttackSpec {
  std::string kind = "none";  // none | label_flip | sign_flip | gaussian | scaling
  double share = 0;           // of the nodes, chosen at random (seeded)
  double scale = 1.0;         // sign_flip, scaling
  double noise_std = 1.0;     // gaussian
};

// training.mode: `real` trains and evaluates; `timing` runs the same graph, placement,
// availability, faults and network with the exact FLOPs and message sizes of a real run, but
// no data is held (nodes get ml::DataShape), nothing is trained or evaluated, and accuracy
// and loss are NaN (not computed). For systems questions at scale (docs/simulator.md).
enum class TrainingMode { Real, Timing };
const char* to_string(TrainingMode mode);

// A task or an edge of a graph declared in the file (swarm.graph: custom).
struct TaskDecl {
  std::string alias, module;
  TaskOptions options;
};
struct EdgeDecl {
  std::string from, to;
  EdgeSpec edge;
};

// One run, fully resolved.
struct Scenario {
  std::string name, description;
  uint64_t seed = 1;
  int replicates = 1;
  int replicate = 0;                         // which replicate this run is
  std::map<std::string, std::string> point;  // sweep values of this run (key path -> YAML text)
  std::string backend = "sim";               // a name of the backend registry: sim | inprocess | a user's
  ClockKind clock = ClockKind::Virtual;      // the backend's (BackendEntry::clock)
  Dict backend_options = Dict::object();     // backend_options: the keys the backend declares
  std::string graph = "fl";                  // fl | fl-async | custom
  std::vector<TaskDecl> tasks;
  std::vector<EdgeDecl> edges;
  fl::FlConfig fl;                           // rounds, target, sampling, model, training
  TrainingMode training_mode = TrainingMode::Real;
  std::optional<ml::Kernel> kernel;  // training.kernel; none for auto (scenario::run_kernel)
  std::optional<double> max_virtual_time_s;
  double deadline_s = 0;                     // 0: none
  DataSpec data;
  sim::PopulationSpec population;
  sim::SimOptions sim;
  AttackSpec attack;
  Dict strategy;                             // {"strategy": name, parameters...}
  std::string text;                          // the scenario as run, as YAML
  std::string file;                          // where it came from

  // A short label of the run, its group name in a results file: "strategy.name=krum,data.alpha=0.1,rep1"
  // (or the scenario's name), with any '/' written '_'.
  std::string run_name() const;
};

// A value for a scenario key from the command line: `assignment` is "key.path=value" (the
// value read as YAML); `flag` names the flag that gave it, for messages ("--rounds"), and is
// empty for --set (messages then say "--set key.path").
struct Override {
  Override(const char* assignment) : assignment(assignment) {}  // NOLINT: implicit, a plain --set
  Override(std::string assignment, std::string flag = "")        // NOLINT: implicit, a plain --set
      : assignment(std::move(assignment)), flag(std::move(flag)) {}
  std::string assignment, flag;
};

// The most runs (points x replicates) one scenario may ask for.
constexpr int64_t kMaxRunsPerSweep = 100000;

// What is valid but likely not what the user meant (e.g. an asynchronous swarm whose buffer
// holds every node, which runs exactly as a synchronous one), one sentence each.
std::vector<std::string> warnings(const Scenario& scenario);

// Reads `text` (from `file`), applies the `overrides` in order (a later one wins), expands the
// sweep and the replicates (at most kMaxRunsPerSweep runs, counted before any is made), and
// checks every resulting run: values, the names it gives (backend, strategy.name, custom
// graphs' modules) against `registries`, custom graphs against the population, the strategy
// against the updates a round gives, keys the backend would ignore, and the run's memory
// against this machine's. Throws ScenarioError ("FILE:LINE:COLUMN: key: message", naming the
// sweep point if there is a sweep) on the first fault, before anything runs.
std::vector<Scenario> load_runs(const std::string& text, const std::string& file,
                                const std::vector<Override>& overrides, const Registries& registries);
// Same, from a file on disk.
std::vector<Scenario> load_runs_from_file(const std::string& path, const std::vector<Override>& overrides,
                                          const Registries& registries);
// The same with the project's names only (builtin_registries()).
std::vector<Scenario> load_runs(const std::string& text, const std::string& file,
                                const std::vector<Override>& overrides = {});
std::vector<Scenario> load_runs_from_file(const std::string& path,
                                          const std::vector<Override>& overrides = {});

}  // namespace swarm::scenario
