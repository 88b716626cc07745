#pragma once
// Byzantine nodes: which nodes misbehave and what they send. An update attack rewrites the
// delta (trained - global parameters) a Byzantine node sends in place of its honest one; a
// data attack (label flipping) changes the samples it trains on. Nothing here holds state:
// randomness comes from the caller's generator or seed.

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "swarm/ml/dataset.hpp"

namespace swarm::fl {

enum class AttackKind { None, LabelFlip, SignFlip, GaussianNoise, Scaling };

struct AttackConfig {
  AttackKind kind = AttackKind::None;
  double scale = 1.0;      // SignFlip and Scaling: the factor applied to the honest delta
  double noise_std = 1.0;  // GaussianNoise: standard deviation of each coordinate, >= 0
};

// "none", "label_flip", "sign_flip", "gaussian", "scaling"; throws UsageError listing these
// names otherwise.
AttackKind parse_attack(std::string_view name);
// The name parse_attack reads.
std::string to_string(AttackKind kind);

// Replaces `delta`, the honest update of a Byzantine node, by the one it sends:
//   SignFlip:      delta = -scale * delta. The sign-flipping attack of Li et al. (2019, "RSA:
//                  Byzantine-Robust Stochastic Aggregation Methods for Distributed Learning
//                  from Heterogeneous Datasets") and Allen-Zhu et al. (2021, "Byzantine-
//                  Resilient Non-Convex Stochastic Gradient Descent"); with a small scale it
//                  is the inner-product manipulation of Xie et al. (2019, "Fall of Empires").
//   GaussianNoise: delta_i ~ N(0, noise_std^2), independent of the honest delta: the
//                  Gaussian Byzantine of Blanchard et al. (2017, "Machine Learning with
//                  Adversaries: Byzantine Tolerant Gradient Descent").
//   Scaling:       delta = scale * delta: model replacement of Bagdasaryan et al. (2020,
//                  "How To Backdoor Federated Learning"), boosting by n / eta so that the
//                  update survives averaging over n clients with server rate eta.
//   LabelFlip, None: unchanged (label flipping acts on the data: see flip_labels).
// Only GaussianNoise draws from `rng`. Throws UsageError if scale is not finite or noise_std
// is negative or not finite.
void apply_update_attack(const AttackConfig& attack, std::span<float> delta, std::mt19937_64& rng);

// Label flipping (Fang et al., 2020, "Local Model Poisoning Attacks to Byzantine-Robust
// Federated Learning"; Tolpegin et al., 2020, "Data Poisoning Attacks Against Federated
// Learning Systems"): a new view over a new storage holding a copy of data's samples, in
// view order, with label y replaced by num_classes - 1 - y. `data` and its storage are left
// untouched. An empty view gives an empty view.
ml::DatasetView flip_labels(const ml::DatasetView& data);

// The Byzantine nodes: round(share * num_nodes) distinct ids drawn uniformly from
// 0..num_nodes-1 by a generator seeded with `seed`, sorted ascending. Throws UsageError if
// share is outside [0, 1] or num_nodes is negative or above 2^32.
std::vector<uint32_t> choose_byzantine(int64_t num_nodes, double share, uint64_t seed);

}  // namespace swarm::fl
