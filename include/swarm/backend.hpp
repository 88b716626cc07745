#pragma once
// The boundary between the controller and whatever runs task instances: in this process
// (InProcessBackend), in a simulated world (sim/), or on real nodes (deploy/). The controller
// starts instances and consumes completions; it never assumes they arrive in start order,
// promptly, or successfully.

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "swarm/error.hpp"
#include "swarm/state.hpp"
#include "swarm/time.hpp"
#include "swarm/types.hpp"

namespace swarm {

// One task instance to run: which task, where, in which iteration.
struct InstanceSpec {
  uint64_t id = 0;  // unique in a run, increasing in start order
  int task = -1;    // index in the SwarmGraph
  std::string alias;
  std::string module;
  NodeId node = 0;
  int iteration = 0;
  uint64_t seed = 0;  // seed of the instance's RNG stream
};

enum class InstanceStatus {
  Ok,      // ran to the end; its output is applied
  Failed,  // the task code threw; `error` says why
  Lost,    // the node crashed, left, or the instance was dropped (deadline, straggler policy)
};

const char* to_string(InstanceStatus s);

// Why an instance was lost (InstanceStatus::Lost).
enum class LossCause : uint8_t {
  Crash,       // the node crashed while computing
  Transfer,    // the node dropped during a transfer
  Offline,     // the node became unavailable
  Deadline,    // dropped by a round deadline
  Overcommit,  // not needed once enough finished
  Cancelled,   // still running when the run ended
};
inline constexpr size_t kLossCauseCount = 6;

// "crash", "transfer", "offline", "deadline", "overcommit", "cancelled": the names traces and
// results files use.
const char* to_string(LossCause c);

// Instances lost, counted by cause.
class LossCounts {
 public:
  int& operator[](LossCause c) { return n_[static_cast<size_t>(c)]; }
  int operator[](LossCause c) const { return n_[static_cast<size_t>(c)]; }
  bool operator==(const LossCounts&) const = default;

 private:
  std::array<int, kLossCauseCount> n_{};
};

// A backend broke its contract (see docs/engine.md, "Writing a backend"): a completion for an
// instance that is not running, a node it never listed, a clock that went backwards... The
// controller checks what a backend returns and throws this instead of trusting it.
class BackendError : public Error {
 public:
  using Error::Error;
};

struct Completion {
  InstanceSpec spec;
  InstanceStatus status = InstanceStatus::Ok;
  InstanceOutput output;  // meaningful only when status == Ok
  LossCause loss = LossCause::Crash;  // meaningful only when status == Lost
  std::string error;      // Failed: the exception's message
  bool diverged = false;  // Failed because the task's numbers were not finite (swarm::Diverged)
  Nanos start_ns = 0;     // backend clock (wall or virtual nanoseconds since the run began)
  Nanos end_ns = 0;
  Nanos wall_ns = 0;      // host nanoseconds spent running the task's code
};

// Something that happened to a node, as a backend reports it from wait().
struct NodeEvent {
  enum class Kind : uint8_t {
    Joined,   // a node the backend did not list before (the controller asks node_ids() again)
    Left,     // the node went away in good order; it may come back
    Died,     // the node stopped answering (missed heartbeats, crash); its instances in flight
              // come back as Lost completions
    Changed,  // the node came on, went off, or its resources changed
  };
  Kind kind = Kind::Changed;
  NodeId node = 0;
};

// "joined", "left", "died", "changed".
const char* to_string(NodeEvent::Kind k);

// The backend clock reached WaitFor::until_ns with nothing else to report.
struct Timeout {};

// Nothing is in flight and nothing the controller waits for will ever happen: no instance to
// complete and no node to come on. A normal answer, not an error.
struct Idle {};

// What Backend::wait() returns: the first of these to happen.
using BackendEvent = std::variant<Completion, NodeEvent, Timeout, Idle>;

// What the controller waits for, besides completions and node events.
struct WaitFor {
  // Return Timeout once the backend clock reaches this time (a straggler deadline). A
  // virtual clock then reads exactly this; a wall clock may return Timeout earlier (it is
  // asked again).
  std::optional<Nanos> until_ns;
  // Set only when nothing is in flight and a task has no node: return a NodeEvent once one
  // of these nodes (sorted ids; empty: any node) that is off now comes on, or Idle if none
  // ever will.
  std::optional<std::span<const NodeId>> node_on;
};

// What a node declares beyond its resources: the datasets it holds (placement gives a module
// only nodes that hold every dataset in Module::datasets), the image it runs, free-form labels.
// Owned by the backend; unchanged, at the same address, for as long as the backend lives.
struct NodeTraits {
  std::vector<std::string> datasets;  // sorted, unique
  std::string image;                  // container image the node runs; "" if none
  std::map<std::string, std::string> labels;

  // Whether every name in `wanted` is in datasets.
  bool holds(const std::vector<std::string>& wanted) const {
    return std::all_of(wanted.begin(), wanted.end(), [this](const std::string& d) {
      return std::binary_search(datasets.begin(), datasets.end(), d);
    });
  }
};

// What the controller knows of a node when placing instances.
struct NodeDescriptor {
  NodeId id = 0;
  double flops = 1e9;         // compute speed, used by Method::BestResources
  uint32_t cores = 1;
  uint64_t memory_bytes = 0;  // 0: not known
  // nullptr: the node declares nothing and serves whatever dataset a module reads (a simulated
  // node, whose data the run provides).
  const NodeTraits* traits = nullptr;

  // Whether the node can run a module that reads `datasets`.
  bool holds(const std::vector<std::string>& datasets) const {
    return datasets.empty() || traits == nullptr || traits->holds(datasets);
  }
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Every node the backend knows, available now or not, sorted by id.
  virtual std::vector<NodeId> node_ids() = 0;
  // Whether node_ids() may have changed since it was last called (nodes joining or leaving).
  // The controller asks for the list again at each iteration only when it may have: a fixed
  // population of millions answers false and saves building the list every round.
  virtual bool node_ids_may_change() const { return true; }
  // Nodes that can take an instance now, sorted by id.
  virtual std::vector<NodeDescriptor> available_nodes() = 0;
  // available_nodes() restricted to `ids` (sorted ascending, unique; unknown ids are left
  // out). The controller asks this when a scheduler or specified_ids already narrowed a task
  // to a few nodes, so a backend with a large population overrides it to cost O(ids.size()).
  virtual std::vector<NodeDescriptor> available_among(std::span<const NodeId> ids) {
    std::vector<NodeDescriptor> out;
    for (const NodeDescriptor& n : available_nodes()) {
      if (std::binary_search(ids.begin(), ids.end(), n.id)) out.push_back(n);
    }
    return out;
  }
  // The `count` fastest available nodes (most flops first, the lowest id on a tie), sorted
  // by id. Best-resources placement needs no more than these, so a backend with a large
  // population overrides it to walk its nodes from the fastest down.
  virtual std::vector<NodeDescriptor> fastest_available(size_t count) {
    std::vector<NodeDescriptor> out = available_nodes();
    if (out.size() > count) {
      std::nth_element(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(count), out.end(), faster);
      out.resize(count);
    }
    std::sort(out.begin(), out.end(), [](const NodeDescriptor& a, const NodeDescriptor& b) { return a.id < b.id; });
    return out;
  }
  // The order of fastest_available: most flops first, the lowest id on a tie.
  static bool faster(const NodeDescriptor& a, const NodeDescriptor& b) {
    return a.flops != b.flops ? a.flops > b.flops : a.id < b.id;
  }

  // Starts an instance that reads `state`: a frozen snapshot of the swarm's state (see
  // StateSnapshot), valid for as long as the backend holds it and unchanged by later
  // completions, so the backend may run or send the instance whenever it likes. Instances
  // started together share one snapshot.
  virtual void start(const InstanceSpec& spec, std::shared_ptr<const StateReader> state) = 0;

  // Blocks until the first of: an instance started earlier completes (Completion), a node
  // joins, leaves, dies or changes (NodeEvent), the clock reaches `w.until_ns` (Timeout), or
  // one of `w.node_on` comes on (a NodeEvent). Returns Idle when nothing is in flight and
  // nothing it is asked to wait for will happen. See docs/engine.md, "Writing a backend".
  virtual BackendEvent wait(const WaitFor& w) = 0;

  // Abandons a started instance: no completion is delivered for it afterwards.
  virtual void cancel(uint64_t instance_id) = 0;

  // Nanoseconds since the run began on this backend's clock. Never decreases.
  virtual Nanos now_ns() const = 0;

  // Whether now_ns() is virtual (simulated) or wall-clock time.
  virtual ClockKind clock() const = 0;
};

}  // namespace swarm
