#pragma once
// The native federated-learning modules. Globals they use are listed in docs/formats.md.
//
//  fl.worker     trains a copy of the global model ("model" architecture,
//                "global_model_params") on its dataset "train" with "hyperparameters";
//                adds result "update" (trained - global parameters, a tensor) and "stats"
//                ({"samples", "loss", "iteration" it started in}).
//  fl.aggregator selects "update" and "stats" from its predecessors and moves the global
//                model with the strategy named in global "aggregation" ({"strategy": a name
//                of the strategy registry it was registered with, parameters...});
//                sets "aggregate" ({"updates", "mean_staleness", "samples"}).
//  fl.scheduler  evaluates the global model on its dataset "test"; sets "metrics" ({"round",
//                "accuracy", "loss", "participants", "mean_staleness"}); stops the swarm once
//                accuracy >= target_accuracy or after max_rounds; else samples the next
//                round's workers (clients_per_round x overcommit) with schedule_next_iter.
//                Settings: global "schedule" ({"max_rounds", "target_accuracy",
//                "clients_per_round" (count, fraction in (0, 1), or -1 = no sampling),
//                "overcommit" (>= 1), "worker_alias"}).
//
// Timing only (training.mode: timing): on a node whose datasets are ml::DataShape (sizes, no
// samples), the worker reports the FLOPs train() would and adds a zero "update" of the model's
// size and "stats" with loss NaN; the aggregator counts its FLOPs, leaves the model as it is
// and writes it back, without running the strategy; the scheduler reports the evaluation's
// FLOPs and NaN accuracy and loss. Every read and write is the real path's, so the bytes
// moved are the same (docs/formats.md).
//
// The worker and the scheduler compute on the GEMM kernel (swarm/ml/kernel.hpp) the node holds
// as its local entry kGemmKernel (an ml::Kernel), the build's default when it holds none.

#include <memory>

#include "swarm/fl/strategy.hpp"
#include "swarm/registry.hpp"

namespace swarm::fl {

inline constexpr const char* kWorker = "fl.worker";
inline constexpr const char* kAggregator = "fl.aggregator";
inline constexpr const char* kScheduler = "fl.scheduler";
// The local entry (TaskContext::local()) naming the GEMM kernel a node computes with.
inline constexpr const char* kGemmKernel = "gemm_kernel";

// Adds fl.worker, fl.aggregator and fl.scheduler to `registry`. The aggregator builds its
// strategies from `strategies`, which it shares: strategies added to it later (a user's) are
// found too. Throws UsageError if a name is taken or `strategies` is null.
void register_modules(ModuleRegistry& registry, std::shared_ptr<const strategies::StrategyRegistry> strategies);
// Same, with the project's strategies only (strategies::builtin_strategies()).
void register_modules(ModuleRegistry& registry);

}  // namespace swarm::fl
