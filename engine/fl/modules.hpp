#pragma once
// The native federated-learning modules.
//
//  fl.worker     reads globals "model" ({"layers": [...]}), "hyperparameters" ({"epochs",
//                "batch_size", "lr", "momentum", "weight_decay"}) and "global_model_params"
//                (a rank-1 tensor); trains a copy of the global model on its dataset "train";
//                adds result "update" (its parameters, tensor) and "stats"
//                ({"samples": n, "loss": mean training loss}).
//  fl.aggregator selects "update" and "stats" from its predecessors and sets
//                "global_model_params" to their FedAvg (weighted by samples).
//  fl.scheduler  evaluates "global_model_params" on its dataset "test"; sets global "metrics"
//                ({"round", "accuracy", "loss", "participants"}); stops the swarm once
//                accuracy >= target_accuracy or the round cap is reached; otherwise samples
//                the next round's workers with schedule_next_iter. Its settings are the global
//                "schedule" ({"max_rounds", "target_accuracy", "clients_per_round",
//                "worker_alias"}); clients_per_round is a count, a fraction in (0, 1), or -1
//                for every node.

#include "engine/module_registry.hpp"

namespace swarm::fl {

inline constexpr const char* kWorker = "fl.worker";
inline constexpr const char* kAggregator = "fl.aggregator";
inline constexpr const char* kScheduler = "fl.scheduler";

void register_modules(ModuleRegistry& registry);

}  // namespace swarm::fl
