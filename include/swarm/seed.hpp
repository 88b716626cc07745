#pragma once
// Seed derivation. One run seed makes the whole run: every consumer (a task instance, the
// sampler of a task, a partitioner) derives its own stream from the run seed and a path of
// integers naming it, so no stream depends on the order in which others are drawn.

#include <cstdint>
#include <initializer_list>

namespace swarm {

// SplitMix64 finalizer: a bijective mix of 64 bits.
uint64_t mix64(uint64_t x);

// A seed for the stream named by `path` under `seed`. Distinct paths give unrelated seeds.
uint64_t derive_seed(uint64_t seed, std::initializer_list<uint64_t> path);

// Domains of derived streams, first element of a path.
enum class SeedDomain : uint64_t { kInstance = 1, kPlacement = 2, kPartition = 3, kInit = 4, kData = 5 };

}  // namespace swarm
