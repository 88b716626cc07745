#include "swarm/fl/attacks.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <set>
#include <vector>

#include "swarm/error.hpp"

namespace swarm::fl {
namespace {

TEST_CASE("Sign flip negates and scales the update", "[attacks]") {
  std::vector<float> delta = {1.0f, -2.0f, 0.5f, 0.0f};
  std::mt19937_64 rng(1);
  apply_update_attack({.kind = AttackKind::SignFlip, .scale = 3.0}, delta, rng);
  // -3 * {1, -2, 0.5, 0}
  REQUIRE(delta == std::vector<float>{-3.0f, 6.0f, -1.5f, 0.0f});
  apply_update_attack({.kind = AttackKind::SignFlip}, delta, rng);  // scale 1: plain negation
  REQUIRE(delta == std::vector<float>{3.0f, -6.0f, 1.5f, 0.0f});
}

TEST_CASE("Scaling multiplies the update by the boost factor", "[attacks]") {
  // Model replacement with n = 10 clients and server rate eta = 0.5: boost n / eta = 20.
  std::vector<float> delta = {1.0f, -2.0f, 0.25f};
  std::mt19937_64 rng(1);
  apply_update_attack({.kind = AttackKind::Scaling, .scale = 20.0}, delta, rng);
  REQUIRE(delta == std::vector<float>{20.0f, -40.0f, 5.0f});
}

TEST_CASE("None and label flip leave the update alone", "[attacks]") {
  const std::vector<float> honest = {1.0f, -2.0f, 0.25f};
  for (AttackKind kind : {AttackKind::None, AttackKind::LabelFlip}) {
    std::vector<float> delta = honest;
    std::mt19937_64 rng(1);
    apply_update_attack({.kind = kind, .scale = 7.0}, delta, rng);
    REQUIRE(delta == honest);
  }
}

TEST_CASE("Gaussian noise replaces the update by N(0, noise_std^2) draws", "[attacks]") {
  // n = 100,000 draws of N(0, s^2), s = 2.5. The sample mean has standard error
  // s / sqrt(n) = 2.5 / 316 = 0.0079: |mean| < 0.04 is a 5-sigma bound. The sample variance
  // has standard error s^2 * sqrt(2 / n) = 6.25 * 0.00447 = 0.028, so the sample std is within
  // ~0.0056 of s per sigma: |std - s| < 0.03 is again beyond 5 sigma.
  const double s = 2.5;
  const size_t n = 100000;
  std::vector<float> delta(n, 1000.0f);  // a huge honest update must leave no trace
  std::mt19937_64 rng(42);
  apply_update_attack({.kind = AttackKind::GaussianNoise, .noise_std = s}, delta, rng);
  double sum = 0, sum_sq = 0;
  for (float x : delta) {
    sum += x;
    sum_sq += static_cast<double>(x) * x;
  }
  const double mean = sum / n;
  const double stddev = std::sqrt(sum_sq / n - mean * mean);
  CHECK(std::abs(mean) < 0.04);
  CHECK(std::abs(stddev - s) < 0.03);

  // Independent of the input: the same generator state gives the same vector from any delta.
  std::vector<float> a(1000, 0.0f), b(1000, -7.0f);
  std::mt19937_64 rng_a(9), rng_b(9), rng_c(10);
  apply_update_attack({.kind = AttackKind::GaussianNoise}, a, rng_a);
  apply_update_attack({.kind = AttackKind::GaussianNoise}, b, rng_b);
  REQUIRE(a == b);
  // Seeded: another seed, other draws.
  std::vector<float> c(1000, 0.0f);
  apply_update_attack({.kind = AttackKind::GaussianNoise}, c, rng_c);
  REQUIRE(a != c);

  // noise_std 0 sends zeros; a negative one is a usage error.
  std::vector<float> d = {1.0f, 2.0f};
  apply_update_attack({.kind = AttackKind::GaussianNoise, .noise_std = 0.0}, d, rng);
  REQUIRE(d == std::vector<float>{0.0f, 0.0f});
  REQUIRE_THROWS_AS(
      apply_update_attack({.kind = AttackKind::GaussianNoise, .noise_std = -1.0}, d, rng), UsageError);
}

TEST_CASE("flip_labels maps label y to C-1-y on a copy", "[attacks]") {
  auto storage = std::make_shared<ml::DatasetStorage>();
  storage->num_classes = 4;
  storage->name = "tiny";
  storage->labels = {0, 1, 2, 3, 2};
  storage->features.resize(2, 5);
  for (int i = 0; i < 5; ++i) {
    storage->features(0, i) = static_cast<float>(i);
    storage->features(1, i) = static_cast<float>(10 * i);
  }
  // A view of samples 3, 0, 1, 2 (not 4): the copy keeps this order and only these.
  ml::DatasetView honest(storage, {3, 0, 1, 2});
  ml::DatasetView flipped = flip_labels(honest);

  REQUIRE(flipped.size() == 4);
  REQUIRE(flipped.storage_ptr() != honest.storage_ptr());  // a new storage
  REQUIRE(flipped.storage().size() == 4);                  // holding only the view's samples
  REQUIRE(flipped.num_classes() == 4);
  // Labels 3, 0, 1, 2 become 0, 3, 2, 1; the features are those of samples 3, 0, 1, 2.
  const std::vector<uint8_t> expected = {0, 3, 2, 1};
  for (int64_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    REQUIRE(flipped.label(i) == expected[i]);
    REQUIRE(flipped.features(i)(0) == honest.features(i)(0));
    REQUIRE(flipped.features(i)(1) == honest.features(i)(1));
  }
  // The honest data is untouched.
  REQUIRE(storage->labels == std::vector<uint8_t>{0, 1, 2, 3, 2});
  REQUIRE(honest.indices() == std::vector<uint32_t>{3, 0, 1, 2});
  REQUIRE(honest.label(0) == 3);

  REQUIRE(flip_labels(ml::DatasetView()).empty());
}

TEST_CASE("choose_byzantine picks round(share * n) sorted distinct ids, seeded", "[attacks]") {
  // round(0.3 * 25) = round(7.5) = 8 (llround rounds halves away from zero).
  auto ids = choose_byzantine(25, 0.3, 4);
  REQUIRE(ids.size() == 8);
  REQUIRE(std::is_sorted(ids.begin(), ids.end()));
  REQUIRE(std::set<uint32_t>(ids.begin(), ids.end()).size() == ids.size());
  for (uint32_t id : ids) REQUIRE(id < 25);

  REQUIRE(choose_byzantine(25, 0.3, 4) == ids);
  REQUIRE(choose_byzantine(25, 0.3, 5) != ids);

  REQUIRE(choose_byzantine(25, 0.0, 4).empty());
  REQUIRE(choose_byzantine(0, 0.5, 4).empty());
  auto all = choose_byzantine(6, 1.0, 4);
  REQUIRE(all == std::vector<uint32_t>{0, 1, 2, 3, 4, 5});

  // Uniform: over many seeds, each of 10 nodes is chosen for share 0.2 about 20% of the time.
  // 2000 seeds: expected 400 per node, std sqrt(2000 * 0.2 * 0.8) = 17.9; 400 +- 90 is 5 sigma.
  std::vector<int> hits(10, 0);
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    for (uint32_t id : choose_byzantine(10, 0.2, seed)) ++hits[id];
  }
  for (int h : hits) CHECK(std::abs(h - 400) < 90);
}

TEST_CASE("choose_byzantine rejects a share outside [0, 1]", "[attacks]") {
  REQUIRE_THROWS_AS(choose_byzantine(10, -0.1, 1), UsageError);
  REQUIRE_THROWS_AS(choose_byzantine(10, 1.5, 1), UsageError);
  REQUIRE_THROWS_AS(choose_byzantine(10, std::numeric_limits<double>::quiet_NaN(), 1), UsageError);
  REQUIRE_THROWS_AS(choose_byzantine(-1, 0.5, 1), UsageError);
}

TEST_CASE("parse_attack round-trips the names and lists them on an unknown one", "[attacks]") {
  for (AttackKind kind : {AttackKind::None, AttackKind::LabelFlip, AttackKind::SignFlip,
                          AttackKind::GaussianNoise, AttackKind::Scaling}) {
    REQUIRE(parse_attack(to_string(kind)) == kind);
  }
  REQUIRE(parse_attack("gaussian") == AttackKind::GaussianNoise);
  REQUIRE(to_string(AttackKind::LabelFlip) == "label_flip");
  REQUIRE_THROWS_AS(parse_attack("flip"), UsageError);
  REQUIRE_THROWS_WITH(parse_attack("flip"),
                      Catch::Contains("'flip'") && Catch::Contains("none") &&
                          Catch::Contains("label_flip") && Catch::Contains("sign_flip") &&
                          Catch::Contains("gaussian") && Catch::Contains("scaling"));
}

}  // namespace
}  // namespace swarm::fl
