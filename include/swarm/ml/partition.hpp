#pragma once
// Splitting a dataset among nodes. Every partitioner is seeded (same seed, same parts) and
// returns views into the same storage (no sample is copied). Unless stated otherwise every
// sample of `data` goes to exactly one part, and the parts come out in node order.
//
// Bad parameter values throw UsageError naming the parameter: num_parts < 1 or
// num_parts > data.size(), alpha <= 0, min_samples < 0, shards_per_part < 1, sigma < 0.

#include <cstdint>
#include <span>
#include <vector>

#include "swarm/ml/dataset.hpp"

namespace swarm::ml {

// IID: a seeded shuffle cut into `num_parts` parts whose sizes differ by at most one.
std::vector<DatasetView> partition_iid(const DatasetView& data, int num_parts, uint64_t seed);

// Label skew by a Dirichlet prior (Hsu, Qi and Brown, 2019, "Measuring the Effects of
// Non-Identical Data Distribution for Federated Visual Classification"), in the per-class form
// of Yurochkin et al. (2019) and Wang et al. (2020, FedMA): for each class c the proportions
// p_c ~ Dir(alpha, ..., alpha) over the parts split that class's samples (rounded so the
// counts of a class sum to its size). Small alpha: each part sees few classes; large alpha:
// close to IID. If some part gets fewer than `min_samples` samples, every p_c is drawn again,
// a bounded number of times; throws UsageError when the bound is reached or when
// num_parts * min_samples > data.size(). Within a part, samples are in storage order.
std::vector<DatasetView> partition_dirichlet(const DatasetView& data, int num_parts, double alpha,
                                             uint64_t seed, int64_t min_samples = 1);

// Pathological non-IID (McMahan et al., 2017, "Communication-Efficient Learning of Deep
// Networks from Decentralized Data", Section 3): the samples sorted by label (in a seeded
// order within a label) are cut into num_parts * shards_per_part shards whose sizes differ by
// at most one, and each part gets shards_per_part shards chosen at random. When no class is
// smaller than a shard, a part holds at most 2 * shards_per_part classes; when moreover every
// class size is a multiple of the shard size, at most shards_per_part. Throws UsageError if data.size() < num_parts * shards_per_part.
// Within a part, samples are in storage order.
std::vector<DatasetView> partition_shards(const DatasetView& data, int num_parts,
                                          int shards_per_part, uint64_t seed);

// Quantity skew: IID labels, but part sizes proportional to log-normal weights
// exp(N(0, sigma^2)) (sigma = 0 gives sizes differing by at most one). Every part has at least
// one sample and the sizes sum to data.size() exactly.
std::vector<DatasetView> partition_quantity_skew(const DatasetView& data, int num_parts,
                                                 double sigma, uint64_t seed);

// What a partition gives each node, for reports and tests. Index p is parts[p].
struct PartitionSummary {
  std::vector<int64_t> samples;                   // samples of part p
  std::vector<int> classes;                       // distinct labels in part p
  std::vector<std::vector<int64_t>> class_counts;  // [p][c]: samples of label c in part p
};

// REQUIRES nothing of the parts; throws UsageError if num_classes < 1 or a label is
// >= num_classes.
PartitionSummary summarize(std::span<const DatasetView> parts, int num_classes);

}  // namespace swarm::ml
