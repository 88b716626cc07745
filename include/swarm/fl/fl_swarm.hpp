#pragma once
// The federated-learning swarm (the Manta docs' FLSwarm) and the nodes it runs on.
//
//   +--------+     +------------+     +-----------+  accuracy >= target or last round
//   | worker | --> | aggregator | --> | scheduler | --------------------------------> end
//   +--------+     +------------+     +-----------+
//    on nodes      on the server (or the fastest node)  | else: the next round
//       ^                                               |
//       +-----------------------------------------------+

#include <cstdint>
#include <vector>

#include "swarm/blob.hpp"
#include "swarm/batch_runner.hpp"
#include "swarm/inprocess_backend.hpp"
#include "swarm/ml/dataset.hpp"
#include "swarm/swarm.hpp"

namespace swarm::fl {

// Synchronous FL (FedAvg): every round, the sampled workers train, the aggregator waits for
// all of them (or what the straggler policy keeps), the scheduler evaluates.
// Asynchronous FL (FedBuff): `concurrency` workers train at any time; the aggregator runs as
// soon as `buffer_size` updates are in (on_result edge); slower workers carry over into the
// next rounds and their updates count as stale.
struct FlConfig {
  std::vector<int> layers = {784, 200, 200, 10};
  int epochs = 1;
  int batch_size = 32;
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 0.0;
  int max_rounds = 20;
  double target_accuracy = 1.1;   // > 1: never stop early
  double clients_per_round = -1;  // count, fraction in (0, 1), or -1 for every node
  double overcommit = 1.0;        // each round samples clients_per_round x overcommit
  bool async = false;
  int buffer_size = 10;           // async: updates per aggregation (K)
  int concurrency = 20;           // async: workers training at once
  double server_lr = 1.0;
  double prox_mu = 0;             // FedProx proximal term (0: plain local SGD)
  // Where the aggregator and the scheduler run: on the server (classic FL: updates go up
  // once and are combined where they arrive), or Manta-style on the fastest node that is on.
  enum class ServerTasks { OnServer, OnFastestNode } server_tasks = ServerTasks::OnServer;
  Dict strategy;                  // aggregation strategy; empty: fedavg (sync) or fedbuff (async)
  Dict attack;                    // global "attack" ({"kind", "nodes", "scale", "noise_std"}); empty: none
  uint64_t seed = 1;              // initial model
  std::string image = "swarmsim-node:latest";
};

// Who draws each round's clients (clients_per_round x overcommit of them).
enum class ClientSampling {
  Placement,  // the worker task's placement (method any, maximum K), among the nodes that are
              // on when the round starts: FLSwarm
  Scheduler,  // the scheduler, among every node of the swarm, with schedule_next_iter: swarms
              // declared in scenario files, whose worker task may be placed any way
};

// The globals of the FL modules for a configuration (model, hyperparameters, schedule,
// aggregation, attack, initial parameters), for FLSwarm and for swarms declared in scenario
// files that use the same modules.
std::map<std::string, Blob> fl_globals(const FlConfig& config, ClientSampling sampling);

class FLSwarm : public Swarm {
 public:
  explicit FLSwarm(const FlConfig& config);
  TaskRef execute() override;

 private:
  TaskRef worker_, aggregator_, scheduler_;
  bool async_ = false;
  int buffer_size_ = 0;
};

// `num_nodes` nodes, each holding an IID shard of `train` as "train" and a view of the whole
// `test` set as "test" (views: the samples exist once). Node ids are 0..num_nodes-1. The
// data providers below give the server (kServerNode) the test set alone.
// Throws UsageError if num_nodes < 1 or exceeds the training samples.
std::vector<LocalNode> make_iid_nodes(const ml::DatasetView& train, const ml::DatasetView& test,
                                      int num_nodes, uint64_t seed);

// The same split as make_iid_nodes, as a DataProvider (for populations of virtual nodes).
DataProvider iid_data(const ml::DatasetView& train, const ml::DatasetView& test, int64_t num_nodes,
                      uint64_t seed);

// For populations larger than the dataset: node i's "train" is a uniform sample of
// `samples_per_node` training samples drawn, when asked for, from node i's own seeded stream
// (shards of different nodes may overlap). Holds nothing per node.
DataProvider sampled_data(const ml::DatasetView& train, const ml::DatasetView& test,
                          int64_t samples_per_node, uint64_t seed);

}  // namespace swarm::fl
