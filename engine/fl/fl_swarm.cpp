#include "engine/fl/fl_swarm.hpp"

#include <random>

#include "engine/error.hpp"
#include "engine/fl/modules.hpp"
#include "engine/ml/mlp.hpp"
#include "engine/ml/partition.hpp"
#include "engine/seed.hpp"

namespace swarm::fl {

FLSwarm::FLSwarm(const FlConfig& c) {
  worker_ = task(Module{kWorker, c.image, {"train"}}, {.alias = "worker"});
  aggregator_ = task(Module{kAggregator, c.image}, {.method = Method::Any, .maximum = 1, .alias = "aggregator"});
  scheduler_ = task(Module{kScheduler, c.image, {"test"}}, {.maximum = 1, .alias = "scheduler"});

  set_global("model", Dict{{"layers", c.layers}});
  set_global("hyperparameters", Dict{{"epochs", c.epochs},
                                     {"batch_size", c.batch_size},
                                     {"lr", c.lr},
                                     {"momentum", c.momentum},
                                     {"weight_decay", c.weight_decay}});
  set_global("schedule", Dict{{"max_rounds", c.max_rounds},
                              {"target_accuracy", c.target_accuracy},
                              {"clients_per_round", c.clients_per_round},
                              {"worker_alias", "worker"}});
  ml::Mlp model(c.layers);
  std::mt19937_64 rng(derive_seed(c.seed, {static_cast<uint64_t>(SeedDomain::kInit)}));
  model.init(rng);
  set_global("global_model_params", tensor_blob(model.params()));
}

TaskRef FLSwarm::execute() {
  auto m = worker_();
  m = aggregator_(m);
  return scheduler_(m);
}

std::vector<LocalNode> make_iid_nodes(const ml::DatasetView& train, const ml::DatasetView& test,
                                      int num_nodes, uint64_t seed) {
  if (num_nodes < 1) throw UsageError("the number of nodes must be >= 1");
  std::vector<ml::DatasetView> shards = ml::partition_iid(
      train, num_nodes, derive_seed(seed, {static_cast<uint64_t>(SeedDomain::kPartition)}));
  std::vector<LocalNode> nodes;
  nodes.reserve(shards.size());
  for (size_t i = 0; i < shards.size(); ++i) {
    LocalNode n;
    n.id = static_cast<NodeId>(i);
    n.data.emplace("train", std::move(shards[i]));
    n.data.emplace("test", test);
    nodes.push_back(std::move(n));
  }
  return nodes;
}

}  // namespace swarm::fl
