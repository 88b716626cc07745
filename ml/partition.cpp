#include "swarm/ml/partition.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include "swarm/error.hpp"

namespace swarm::ml {
namespace {

// How many times partition_dirichlet draws the proportions before giving up on min_samples.
constexpr int kMaxDirichletAttempts = 1000;

void check_num_parts(const DatasetView& data, int num_parts, const char* partitioner) {
  if (num_parts < 1) {
    throw UsageError(std::string(partitioner) + " partition: num_parts must be >= 1, got " +
                     std::to_string(num_parts));
  }
  if (num_parts > data.size()) {
    throw UsageError(std::string(partitioner) + " partition: num_parts (" +
                     std::to_string(num_parts) + ") exceeds the " + std::to_string(data.size()) +
                     " samples; every part needs at least one");
  }
}

// Splits `total` into counts proportional to `weights` (>= 0, positive sum): count k is the
// difference of the rounded cumulative quotas, so the counts sum to `total` exactly and each
// differs from its exact quota by less than one.
std::vector<int64_t> apportion(int64_t total, std::span<const double> weights) {
  double sum = 0;
  for (double w : weights) sum += w;
  assert(sum > 0 && std::isfinite(sum));
  std::vector<int64_t> counts(weights.size());
  double cumulative = 0;
  int64_t previous = 0;
  for (size_t k = 0; k < weights.size(); ++k) {
    cumulative += weights[k];
    const int64_t boundary =
        k + 1 == weights.size()
            ? total
            : std::min<int64_t>(total, std::llround(static_cast<double>(total) * (cumulative / sum)));
    counts[k] = boundary - previous;
    previous = boundary;
  }
  return counts;
}

// Storage positions of `data` grouped by label; a label >= num_classes is a broken storage.
std::vector<std::vector<uint32_t>> by_label(const DatasetView& data) {
  std::vector<std::vector<uint32_t>> groups(static_cast<size_t>(data.num_classes()));
  for (int64_t i = 0; i < data.size(); ++i) {
    assert(data.label(i) < groups.size());
    groups[data.label(i)].push_back(data.indices()[i]);
  }
  return groups;
}

// Views over data's storage, one per group, each sorted by storage position.
std::vector<DatasetView> to_views(const DatasetView& data,
                                  std::vector<std::vector<uint32_t>> groups) {
  std::vector<DatasetView> parts;
  parts.reserve(groups.size());
  for (auto& group : groups) {
    std::sort(group.begin(), group.end());
    parts.emplace_back(data.storage_ptr(), std::move(group));
  }
  return parts;
}

// A draw of Dir(alpha, ..., alpha) over `out.size()` coordinates, unnormalized: independent
// Gamma(alpha, 1) draws. For tiny alpha every draw may underflow to zero; the limit of the
// Dirichlet as alpha -> 0 puts all mass on one uniformly chosen coordinate, and so does this.
void draw_dirichlet(double alpha, std::span<double> out, std::mt19937_64& rng) {
  std::gamma_distribution<double> gamma(alpha, 1.0);
  double sum = 0;
  for (double& x : out) sum += (x = gamma(rng));
  if (!(sum > 0)) {
    std::fill(out.begin(), out.end(), 0.0);
    out[std::uniform_int_distribution<size_t>(0, out.size() - 1)(rng)] = 1.0;
  }
}

}  // namespace

std::vector<DatasetView> partition_iid(const DatasetView& data, int num_parts, uint64_t seed) {
  check_num_parts(data, num_parts, "IID");
  std::vector<uint32_t> shuffled = data.indices();
  std::mt19937_64 rng(seed);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);

  // The first (size % num_parts) parts take one sample more than the others.
  const int64_t base = data.size() / num_parts;
  const int64_t extra = data.size() % num_parts;
  std::vector<DatasetView> parts;
  parts.reserve(num_parts);
  auto begin = shuffled.begin();
  for (int p = 0; p < num_parts; ++p) {
    const int64_t n = base + (p < extra ? 1 : 0);
    parts.emplace_back(data.storage_ptr(), std::vector<uint32_t>(begin, begin + n));
    begin += n;
  }
  return parts;
}

std::vector<DatasetView> partition_dirichlet(const DatasetView& data, int num_parts, double alpha,
                                             uint64_t seed, int64_t min_samples) {
  check_num_parts(data, num_parts, "Dirichlet");
  if (!(alpha > 0) || !std::isfinite(alpha)) {
    throw UsageError("Dirichlet partition: alpha must be a finite number > 0, got " +
                     std::to_string(alpha));
  }
  if (min_samples < 0) {
    throw UsageError("Dirichlet partition: min_samples must be >= 0, got " +
                     std::to_string(min_samples));
  }
  if (min_samples > data.size() / num_parts) {
    throw UsageError("Dirichlet partition: min_samples (" + std::to_string(min_samples) +
                     ") times num_parts (" + std::to_string(num_parts) + ") exceeds the " +
                     std::to_string(data.size()) + " samples");
  }
  std::mt19937_64 rng(seed);
  // Which samples of a class go to which part is random: shuffle each class once.
  std::vector<std::vector<uint32_t>> classes = by_label(data);
  for (auto& members : classes) std::shuffle(members.begin(), members.end(), rng);

  std::vector<double> proportions(static_cast<size_t>(num_parts));
  std::vector<std::vector<int64_t>> counts(classes.size());  // [c][p]
  std::vector<int64_t> totals(static_cast<size_t>(num_parts));
  for (int attempt = 0;; ++attempt) {
    if (attempt == kMaxDirichletAttempts) {
      throw UsageError("Dirichlet partition: no draw in " + std::to_string(kMaxDirichletAttempts) +
                       " gave each of the " + std::to_string(num_parts) + " parts at least " +
                       std::to_string(min_samples) + " samples with alpha " +
                       std::to_string(alpha) + "; raise alpha or lower min_samples");
    }
    std::fill(totals.begin(), totals.end(), 0);
    for (size_t c = 0; c < classes.size(); ++c) {
      draw_dirichlet(alpha, proportions, rng);
      counts[c] = apportion(static_cast<int64_t>(classes[c].size()), proportions);
      for (int p = 0; p < num_parts; ++p) totals[p] += counts[c][p];
    }
    if (*std::min_element(totals.begin(), totals.end()) >= min_samples) break;
  }

  std::vector<std::vector<uint32_t>> groups(static_cast<size_t>(num_parts));
  for (int p = 0; p < num_parts; ++p) groups[p].reserve(static_cast<size_t>(totals[p]));
  for (size_t c = 0; c < classes.size(); ++c) {
    auto begin = classes[c].begin();
    for (int p = 0; p < num_parts; ++p) {
      groups[p].insert(groups[p].end(), begin, begin + counts[c][p]);
      begin += counts[c][p];
    }
  }
  return to_views(data, std::move(groups));
}

std::vector<DatasetView> partition_shards(const DatasetView& data, int num_parts,
                                          int shards_per_part, uint64_t seed) {
  check_num_parts(data, num_parts, "shards");
  if (shards_per_part < 1) {
    throw UsageError("shards partition: shards_per_part must be >= 1, got " +
                     std::to_string(shards_per_part));
  }
  const int64_t num_shards = int64_t{num_parts} * shards_per_part;
  if (data.size() < num_shards) {
    throw UsageError("shards partition: " + std::to_string(data.size()) +
                     " samples cannot fill num_parts * shards_per_part = " +
                     std::to_string(num_shards) + " shards");
  }
  std::mt19937_64 rng(seed);
  // Sorted by label; the order within a label is a seeded shuffle.
  std::vector<uint32_t> sorted;
  sorted.reserve(static_cast<size_t>(data.size()));
  for (auto& members : by_label(data)) {
    std::shuffle(members.begin(), members.end(), rng);
    sorted.insert(sorted.end(), members.begin(), members.end());
  }
  // Shard s starts at s * size / num_shards: sizes differ by at most one.
  auto shard_start = [&](int64_t s) { return s * data.size() / num_shards; };
  std::vector<int64_t> shard_order(static_cast<size_t>(num_shards));
  std::iota(shard_order.begin(), shard_order.end(), 0);
  std::shuffle(shard_order.begin(), shard_order.end(), rng);

  std::vector<std::vector<uint32_t>> groups(static_cast<size_t>(num_parts));
  for (int64_t i = 0; i < num_shards; ++i) {
    const int64_t s = shard_order[i];
    auto& group = groups[i / shards_per_part];
    group.insert(group.end(), sorted.begin() + shard_start(s), sorted.begin() + shard_start(s + 1));
  }
  return to_views(data, std::move(groups));
}

std::vector<DatasetView> partition_quantity_skew(const DatasetView& data, int num_parts,
                                                 double sigma, uint64_t seed) {
  check_num_parts(data, num_parts, "quantity-skew");
  if (!(sigma >= 0) || !std::isfinite(sigma)) {
    throw UsageError("quantity-skew partition: sigma must be a finite number >= 0, got " +
                     std::to_string(sigma));
  }
  std::mt19937_64 rng(seed);
  // Weights exp(z_p), z_p ~ N(0, sigma^2), taken relative to the largest (exp(z_p - max z))
  // so that no weight overflows and the largest is exactly 1.
  std::vector<double> weights(static_cast<size_t>(num_parts), 1.0);
  if (sigma > 0) {
    std::normal_distribution<double> normal(0.0, sigma);
    for (double& w : weights) w = normal(rng);
    const double top = *std::max_element(weights.begin(), weights.end());
    for (double& w : weights) w = std::exp(w - top);
  }
  // One sample per part first; the rest in proportion to the weights.
  std::vector<int64_t> sizes = apportion(data.size() - num_parts, weights);

  std::vector<uint32_t> shuffled = data.indices();
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  std::vector<std::vector<uint32_t>> groups(static_cast<size_t>(num_parts));
  auto begin = shuffled.begin();
  for (int p = 0; p < num_parts; ++p) {
    const int64_t n = sizes[p] + 1;
    groups[p].assign(begin, begin + n);
    begin += n;
  }
  assert(begin == shuffled.end());
  return to_views(data, std::move(groups));
}

PartitionSummary summarize(std::span<const DatasetView> parts, int num_classes) {
  if (num_classes < 1) {
    throw UsageError("partition summary: num_classes must be >= 1, got " +
                     std::to_string(num_classes));
  }
  PartitionSummary summary;
  summary.samples.reserve(parts.size());
  summary.classes.reserve(parts.size());
  summary.class_counts.reserve(parts.size());
  for (size_t p = 0; p < parts.size(); ++p) {
    std::vector<int64_t> counts(static_cast<size_t>(num_classes), 0);
    for (int64_t i = 0; i < parts[p].size(); ++i) {
      const int label = parts[p].label(i);
      if (label >= num_classes) {
        throw UsageError("partition summary: part " + std::to_string(p) + " holds label " +
                         std::to_string(label) + " but num_classes is " +
                         std::to_string(num_classes));
      }
      ++counts[label];
    }
    summary.samples.push_back(parts[p].size());
    summary.classes.push_back(
        static_cast<int>(std::count_if(counts.begin(), counts.end(), [](int64_t n) { return n > 0; })));
    summary.class_counts.push_back(std::move(counts));
  }
  return summary;
}

}  // namespace swarm::ml
