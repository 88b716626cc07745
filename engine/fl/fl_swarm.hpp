#pragma once
// The federated-learning swarm (the Manta docs' FLSwarm) and the nodes it runs on.
//
//   +--------+     +------------+     +-----------+  accuracy >= target or last round
//   | worker | --> | aggregator | --> | scheduler | --------------------------------> end
//   +--------+     +------------+     +-----------+
//       ^                                   | else: sample the next round's workers
//       +-----------------------------------+

#include <cstdint>
#include <vector>

#include "engine/inprocess_backend.hpp"
#include "engine/ml/dataset.hpp"
#include "engine/swarm.hpp"

namespace swarm::fl {

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
  uint64_t seed = 1;              // initial model
  std::string image = "swarmsim-node:latest";
};

class FLSwarm : public Swarm {
 public:
  explicit FLSwarm(const FlConfig& config);
  TaskRef execute() override;

 private:
  TaskRef worker_, aggregator_, scheduler_;
};

// `num_nodes` nodes, each holding an IID shard of `train` as "train" and a view of the whole
// `test` set as "test" (views: the samples exist once). Node ids are 0..num_nodes-1.
// Throws UsageError if num_nodes < 1 or exceeds the training samples.
std::vector<LocalNode> make_iid_nodes(const ml::DatasetView& train, const ml::DatasetView& test,
                                      int num_nodes, uint64_t seed);

}  // namespace swarm::fl
