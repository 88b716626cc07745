#pragma once
// Private to swarm::strategies: comparator networks that sort many columns of values at once,
// for the coordinate-wise rules (median, trimmed mean, Bulyan). A network is data-independent:
// every column goes through the same min/max steps, so one pass over rows of adjacent
// coordinates sorts all of them with vector instructions and no branch to mispredict, which
// is what a per-coordinate std::nth_element spends most of its time on.

#include <cstdint>
#include <span>
#include <vector>

namespace swarm::strategies {

// Puts the smaller of wires a and b on a, the larger on b. a < b.
struct Comparator {
  uint32_t a, b;
};

// A sorting network for n wires: Batcher's odd-even merge sort (Knuth, TAOCP vol. 3, 5.3.4,
// Algorithm M) for the next power of two, restricted to the first n wires. Restricting is
// exact: think of the missing wires as holding +inf; a comparator between a real wire and one
// of them leaves both alone. About n log2(n)^2 / 4 comparators.
std::vector<Comparator> sorting_network(size_t n);

// The comparators of `network` (over n wires) that the final values on the wires where
// needed[w] is true depend on, in their order: what is left is a network that puts on those
// wires exactly what the full network puts there (a selection network).
std::vector<Comparator> prune(std::span<const Comparator> network, std::vector<bool> needed);

// Columns sorted by one pass of a network: adjacent coordinates, 4 AVX2 vectors per row.
constexpr size_t kLanes = 32;

// Applies `network` to kLanes independent columns: rows[w * kLanes + j] is wire w of column j.
// REQUIRES: no NaN (min and max would not be a permutation); n x kLanes values.
void apply_network(std::span<const Comparator> network, float* rows);

}  // namespace swarm::strategies
