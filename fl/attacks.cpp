#include "swarm/fl/attacks.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <unordered_set>
#include <utility>

#include "swarm/error.hpp"

namespace swarm::fl {
namespace {

constexpr std::array<std::pair<std::string_view, AttackKind>, 5> kAttackNames = {{
    {"none", AttackKind::None},
    {"label_flip", AttackKind::LabelFlip},
    {"sign_flip", AttackKind::SignFlip},
    {"gaussian", AttackKind::GaussianNoise},
    {"scaling", AttackKind::Scaling},
}};

}  // namespace

AttackKind parse_attack(std::string_view name) {
  for (const auto& [known, kind] : kAttackNames) {
    if (name == known) return kind;
  }
  std::string names;
  for (const auto& [known, kind] : kAttackNames) {
    names += names.empty() ? "" : ", ";
    names += known;
  }
  throw UsageError("unknown attack '" + std::string(name) + "' (expected one of: " + names + ")");
}

std::string to_string(AttackKind kind) {
  for (const auto& [name, known] : kAttackNames) {
    if (kind == known) return std::string(name);
  }
  return "unknown";  // only reachable with a value cast from outside the enum
}

void apply_update_attack(const AttackConfig& attack, std::span<float> delta, std::mt19937_64& rng) {
  if (!std::isfinite(attack.scale)) {
    throw UsageError("attack scale must be finite, got " + std::to_string(attack.scale));
  }
  if (!(attack.noise_std >= 0) || !std::isfinite(attack.noise_std)) {
    throw UsageError("attack noise_std must be a finite number >= 0, got " +
                     std::to_string(attack.noise_std));
  }
  switch (attack.kind) {
    case AttackKind::SignFlip:
    case AttackKind::Scaling: {
      const auto factor =
          static_cast<float>(attack.kind == AttackKind::SignFlip ? -attack.scale : attack.scale);
      for (float& x : delta) x *= factor;
      return;
    }
    case AttackKind::GaussianNoise: {
      if (attack.noise_std == 0) {  // N(0, 0); normal_distribution requires stddev > 0
        std::fill(delta.begin(), delta.end(), 0.0f);
        return;
      }
      std::normal_distribution<double> normal(0.0, attack.noise_std);
      for (float& x : delta) x = static_cast<float>(normal(rng));
      return;
    }
    case AttackKind::LabelFlip:
    case AttackKind::None:
      return;
  }
}

ml::DatasetView flip_labels(const ml::DatasetView& data) {
  if (data.storage_ptr() == nullptr) return {};
  const ml::DatasetStorage& source = data.storage();
  auto flipped = std::make_shared<ml::DatasetStorage>();
  flipped->num_classes = source.num_classes;
  flipped->name = source.name + "/label-flipped";
  flipped->features.resize(source.features.rows(), data.size());
  flipped->labels.resize(static_cast<size_t>(data.size()));
  for (int64_t i = 0; i < data.size(); ++i) {
    flipped->features.col(i) = data.features(i);
    flipped->labels[i] = static_cast<uint8_t>(source.num_classes - 1 - data.label(i));
  }
  return ml::DatasetView(std::move(flipped));
}

std::vector<uint32_t> choose_byzantine(int64_t num_nodes, double share, uint64_t seed) {
  if (!(share >= 0 && share <= 1)) {
    throw UsageError("Byzantine share must be in [0, 1], got " + std::to_string(share));
  }
  if (num_nodes < 0 || num_nodes > (int64_t{1} << 32)) {
    throw UsageError("number of nodes must be in [0, 2^32], got " + std::to_string(num_nodes));
  }
  const int64_t count = std::llround(share * static_cast<double>(num_nodes));
  // Floyd's algorithm: a uniform count-subset of 0..num_nodes-1 in O(count) memory, so a
  // few Byzantine nodes among millions cost little.
  std::mt19937_64 rng(seed);
  std::unordered_set<uint32_t> chosen;
  chosen.reserve(static_cast<size_t>(count));
  for (int64_t j = num_nodes - count; j < num_nodes; ++j) {
    const auto t = static_cast<uint32_t>(std::uniform_int_distribution<int64_t>(0, j)(rng));
    if (!chosen.insert(t).second) chosen.insert(static_cast<uint32_t>(j));
  }
  std::vector<uint32_t> ids(chosen.begin(), chosen.end());
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace swarm::fl
