#pragma once
// Federated averaging (McMahan et al., 2017, "Communication-Efficient Learning of Deep
// Networks from Decentralized Data", Algorithm 1): the new global model is the mean of the
// client models weighted by their sample counts,  w = sum_k (n_k / n) w_k,  n = sum_k n_k.

#include <span>
#include <vector>

namespace swarm::strategies {

// out = sum_k weights[k] * updates[k] / sum_k weights[k].
// REQUIRES: updates non-empty, every update and `out` of the same size, weights >= 0 with a
// positive sum (else throws std::invalid_argument).
void weighted_average(std::span<const std::span<const float>> updates,
                      std::span<const double> weights, std::span<float> out);

}  // namespace swarm::strategies
