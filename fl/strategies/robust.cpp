// Byzantine-robust rules: coordinate-wise FedMedian and TrimmedMean, Krum and Multi-Krum,
// Bulyan. Every one moves the model by server_lr (> 0, default 1) times its aggregate.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "swarm/error.hpp"
#include "swarm/ml/eigen.hpp"
#include "fl/strategies/weighted_average.hpp"
#include "fl/strategies/common.hpp"

namespace swarm::strategies {
namespace {

// The reductions below run on columns of sorted rows (see sorted_columns) with Eigen's packet
// primitives, one packet of adjacent columns at a time: explicit vector code where plain loops
// with selects compile to scalar or masked-store code.
namespace simd = Eigen::internal;
using Packet = simd::packet_traits<float>::type;
constexpr size_t kPacket = sizeof(Packet) / sizeof(float);
static_assert(kLanes % kPacket == 0);

Packet load(const float* rows, size_t row, size_t column) {
  return simd::ploadu<Packet>(rows + row * kLanes + column);
}

// The median of columns [j, j + kPacket) of n sorted rows: the middle row, or the mean of the
// two middle rows for an even n.
Packet middle(const float* rows, size_t n, size_t j) {
  const Packet upper = load(rows, n / 2, j);
  if (n % 2 == 1) return upper;
  const Packet half = simd::pset1<Packet>(0.5f);
  return simd::padd(simd::pmul(half, load(rows, n / 2 - 1, j)), simd::pmul(half, upper));
}

// A network that leaves the values of the given ranks [first, last) of n where a sort would.
std::vector<Comparator> selection_network(size_t n, size_t first, size_t last) {
  std::vector<bool> needed(n, false);
  for (size_t w = first; w < last; ++w) needed[w] = true;
  return prune(sorting_network(n), std::move(needed));
}

// Sums of (x_i - x_j)^2 over the first `rows` values (a multiple of kPacket) of columns
// i = i0 .. i0 + TI and j = j0 .. j0 + TJ of a column-major block with leading dimension ld:
// TI x TJ pairs per pass, so that each loaded packet serves several pairs and the pass is
// bound by arithmetic rather than by loads.
template <size_t TI, size_t TJ>
void distance_tile(const float* x, size_t ld, size_t rows, size_t i0, size_t j0,
                   float (&out)[3][3]) {
  Packet acc[TI][TJ];
  for (auto& row : acc) {
    for (Packet& p : row) p = simd::pset1<Packet>(0.0f);
  }
  for (size_t r = 0; r < rows; r += kPacket) {
    Packet xi[TI], xj[TJ];
    for (size_t a = 0; a < TI; ++a) xi[a] = simd::ploadu<Packet>(x + (i0 + a) * ld + r);
    for (size_t b = 0; b < TJ; ++b) xj[b] = simd::ploadu<Packet>(x + (j0 + b) * ld + r);
    for (size_t a = 0; a < TI; ++a) {
      for (size_t b = 0; b < TJ; ++b) {
        const Packet d = simd::psub(xi[a], xj[b]);
        acc[a][b] = simd::pmadd(d, d, acc[a][b]);
      }
    }
  }
  for (size_t a = 0; a < TI; ++a) {
    for (size_t b = 0; b < TJ; ++b) out[a][b] = simd::predux(acc[a][b]);
  }
}

using DistanceTile = void (*)(const float*, size_t, size_t, size_t, size_t, float (&)[3][3]);
constexpr DistanceTile kDistanceTiles[3][3] = {
    {distance_tile<1, 1>, distance_tile<1, 2>, distance_tile<1, 3>},
    {distance_tile<2, 1>, distance_tile<2, 2>, distance_tile<2, 3>},
    {distance_tile<3, 1>, distance_tile<3, 2>, distance_tile<3, 3>}};

// Squared Euclidean distance between every pair of deltas: n x n, row-major, in double.
// Coordinates go in blocks copied side by side into one matrix that stays in L2 (zero-padded
// to whole packets; reading the n updates in place instead is slower, their equal offsets
// competing for the same cache sets); each block's distances are summed in float by 3 x 3
// tiles of pairs, the blocks' sums in double. Differences rather than the Gram trick
// |a|^2 + |b|^2 - 2ab, which cancels catastrophically when an outlier is far from updates close
// to each other, as Byzantine updates are. A distance that is not a number (a NaN in an
// update) counts as infinite.
std::vector<double> pairwise_sq_distances(std::span<const std::span<const float>> deltas) {
  const size_t n = deltas.size();
  const size_t size = deltas.front().size();
  std::vector<double> dist(n * n, 0.0);
  const size_t block = std::clamp<size_t>((size_t{64} << 10) / n / 16 * 16, 64, 4096);
  Eigen::MatrixXf x = Eigen::MatrixXf::Zero(static_cast<Eigen::Index>(block),
                                            static_cast<Eigen::Index>(n));
  float tile[3][3];
  for (size_t begin = 0; begin < size; begin += block) {
    const size_t count = std::min(block, size - begin);
    if (count < block) x.setZero();  // the padding of the last block
    for (size_t k = 0; k < n; ++k) {
      std::memcpy(x.col(static_cast<Eigen::Index>(k)).data(), deltas[k].data() + begin,
                  count * sizeof(float));
    }
    const size_t rows = (count + kPacket - 1) / kPacket * kPacket;
    for (size_t i0 = 0; i0 < n; i0 += 3) {
      const size_t ti = std::min<size_t>(3, n - i0);
      for (size_t j0 = i0; j0 < n; j0 += 3) {
        const size_t tj = std::min<size_t>(3, n - j0);
        kDistanceTiles[ti - 1][tj - 1](x.data(), block, rows, i0, j0, tile);
        for (size_t a = 0; a < ti; ++a) {
          for (size_t b = 0; b < tj; ++b) {
            if (i0 + a < j0 + b) dist[(i0 + a) * n + j0 + b] += tile[a][b];
          }
        }
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      double& d = dist[i * n + j];
      if (std::isnan(d)) d = std::numeric_limits<double>::infinity();
      dist[j * n + i] = d;
    }
  }
  return dist;
}

// The candidate with the lowest Krum score among `candidates` (indices into the n x n `dist`),
// the first of them on a tie: score(i) = the sum of the squared distances from i to its
// `neighbours` nearest other candidates (Blanchard et al. 2017, Section 4).
// Returns the position in `candidates`, and fills `scores` (one per candidate).
size_t krum_scores(const std::vector<double>& dist, size_t n, std::span<const size_t> candidates,
                   size_t neighbours, std::vector<double>& scores) {
  scores.assign(candidates.size(), 0.0);
  std::vector<double> row;
  row.reserve(candidates.size());
  for (size_t a = 0; a < candidates.size(); ++a) {
    row.clear();
    for (size_t b = 0; b < candidates.size(); ++b) {
      if (b != a) row.push_back(dist[candidates[a] * n + candidates[b]]);
    }
    const size_t take = std::min(neighbours, row.size());
    if (take == 0) continue;
    std::nth_element(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(take - 1), row.end());
    scores[a] = std::accumulate(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(take), 0.0);
  }
  return static_cast<size_t>(std::min_element(scores.begin(), scores.end()) - scores.begin());
}

// FedMedian: the coordinate-wise median of the deltas (Yin et al. 2018, "Byzantine-Robust
// Distributed Learning: Towards Optimal Statistical Rates", Section 3, median-based GD):
//   params_i += server_lr * median_k delta_k,i.
class FedMedian final : public Strategy {
 public:
  explicit FedMedian(double server_lr) : server_lr_(server_lr) {}
  std::string name() const override { return "fedmedian"; }

  AggregateReport aggregate(std::span<float> params, std::span<const ClientUpdate> updates,
                            std::vector<float>& /*state*/, std::mt19937_64& /*rng*/) override {
    check_updates(name(), params, updates);
    AggregateReport report;
    if (updates.empty()) return report;
    const size_t n = updates.size();
    // Only the middle rank(s) need to be right.
    const auto network = selection_network(n, (n - 1) / 2, n / 2 + 1);
    sorted_columns(params, deltas_of(updates), static_cast<float>(server_lr_), network,
                   [n](const float* rows, float* out) {
                     for (size_t j = 0; j < kLanes; j += kPacket) {
                       simd::pstoreu(out + j, middle(rows, n, j));
                     }
                   });
    report.used = static_cast<int>(n);
    return report;
  }

 private:
  double server_lr_;
};

// TrimmedMean (Yin et al. 2018, Section 3, trimmed-mean-based GD): per coordinate, drop the
// b = floor(trim_ratio * n) largest and b smallest of the n values and average the n - 2b left:
//   params_i += server_lr * mean(sorted_k delta_k,i [b .. n - b)).
// Parameters: trim_ratio (the paper's beta, in [0, 0.5), default 0.1).
class TrimmedMean final : public Strategy {
 public:
  TrimmedMean(double server_lr, double trim_ratio)
      : server_lr_(server_lr), trim_ratio_(trim_ratio) {}
  std::string name() const override { return "trimmed_mean"; }

  AggregateReport aggregate(std::span<float> params, std::span<const ClientUpdate> updates,
                            std::vector<float>& /*state*/, std::mt19937_64& /*rng*/) override {
    check_updates(name(), params, updates);
    AggregateReport report;
    if (updates.empty()) return report;
    const size_t n = updates.size();
    // trim_ratio < 0.5 makes 2b < n: at least one value is left.
    const auto b = static_cast<std::ptrdiff_t>(std::floor(trim_ratio_ * static_cast<double>(n)));
    const auto keep = static_cast<std::ptrdiff_t>(n) - 2 * b;
    // Ranks [b, n - b) must hold the right values (in any order); with b = 0, no sort at all.
    const auto network =
        b > 0 ? selection_network(n, static_cast<size_t>(b), n - static_cast<size_t>(b))
              : std::vector<Comparator>{};
    sorted_columns(params, deltas_of(updates), static_cast<float>(server_lr_), network,
                   [b, keep](const float* rows, float* out) {
                     const Packet scale = simd::pset1<Packet>(1.0f / static_cast<float>(keep));
                     for (size_t j = 0; j < kLanes; j += kPacket) {
                       Packet sum = simd::pset1<Packet>(0.0f);
                       for (auto k = b; k < b + keep; ++k) {
                         sum = simd::padd(sum, load(rows, static_cast<size_t>(k), j));
                       }
                       simd::pstoreu(out + j, simd::pmul(sum, scale));
                     }
                   });
    report.used = static_cast<int>(n);
    return report;
  }

 private:
  double server_lr_, trim_ratio_;
};

// Krum and Multi-Krum (Blanchard et al. 2017, "Machine Learning with Adversaries: Byzantine
// Tolerant Gradient Descent", Section 4): with n updates of which at most f are Byzantine
// (n > 2f + 2), score(k) = sum of the squared distances from delta_k to its n - f - 2 nearest
// other updates. Krum moves by the update of lowest score; Multi-Krum by the unweighted mean
// of the m updates of lowest scores:
//   params += server_lr * delta_k*            (krum)
//   params += server_lr * (1/m) sum_{k in M} delta_k   (multi_krum)
// Parameters: num_byzantine f (integer >= 0, default 0); num_selected m (multi_krum only,
// integer >= 1, default n - f, at most n). Ties go to the update that comes first.
class Krum final : public Strategy {
 public:
  Krum(double server_lr, int f, int m, bool multi)
      : server_lr_(server_lr), f_(f), m_(m), multi_(multi) {}
  std::string name() const override { return multi_ ? "multi_krum" : "krum"; }

  AggregateReport aggregate(std::span<float> params, std::span<const ClientUpdate> updates,
                            std::vector<float>& /*state*/, std::mt19937_64& /*rng*/) override {
    check_updates(name(), params, updates);
    AggregateReport report;
    if (updates.empty()) return report;
    const size_t n = updates.size(), f = static_cast<size_t>(f_);
    if (n <= 2 * f + 2) {
      throw UsageError(name() + ": needs more than 2f + 2 = " + std::to_string(2 * f + 2) +
                       " updates for num_byzantine f = " + std::to_string(f) + ", got " +
                       std::to_string(n));
    }
    const size_t m = multi_ ? (m_ < 0 ? n - f : static_cast<size_t>(m_)) : 1;
    if (m > n) {
      throw UsageError(name() + ": num_selected = " + std::to_string(m) + " but only " +
                       std::to_string(n) + " updates");
    }
    const std::vector<std::span<const float>> deltas = deltas_of(updates);
    const std::vector<double> dist = pairwise_sq_distances(deltas);
    std::vector<size_t> all(n);
    std::iota(all.begin(), all.end(), size_t{0});
    std::vector<double> scores;
    krum_scores(dist, n, all, n - f - 2, scores);
    // The m lowest scores, ties by position.
    std::stable_sort(all.begin(), all.end(),
                     [&](size_t a, size_t b) { return scores[a] < scores[b]; });
    all.resize(m);
    std::vector<std::span<const float>> chosen;
    for (size_t k : all) {
      chosen.push_back(deltas[k]);
      report.selected.push_back(updates[k].node);
    }
    const auto lr = static_cast<float>(server_lr_);
    if (m == 1) {
      add_scaled(params, chosen.front(), lr);
    } else {
      std::vector<float> avg(params.size());
      const std::vector<double> ones(m, 1.0);
      weighted_average(chosen, ones, avg);
      add_scaled(params, avg, lr);
    }
    report.used = static_cast<int>(m);
    return report;
  }

 private:
  double server_lr_;
  int f_, m_;
  bool multi_;
};

// Bulyan (El Mhamdi, Guerraoui & Rouault 2018, "The Hidden Vulnerability of Distributed
// Learning in Byzantium", Section 4), with Krum as the selection rule; n >= 4f + 3:
//  1. select theta = n - 2f updates by iterated Krum: pick the Krum winner of the remaining
//     updates (scores over their |R| - f - 2 nearest remaining neighbours, at least 1), move it
//     to the selection, repeat;
//  2. per coordinate, average the beta = theta - 2f selected values closest to their median:
//     params_i += server_lr * mean(beta values of {delta_k,i : k selected} nearest the median).
// Parameters: num_byzantine f (integer >= 0, default 0).
class Bulyan final : public Strategy {
 public:
  Bulyan(double server_lr, int f) : server_lr_(server_lr), f_(f) {}
  std::string name() const override { return "bulyan"; }

  AggregateReport aggregate(std::span<float> params, std::span<const ClientUpdate> updates,
                            std::vector<float>& /*state*/, std::mt19937_64& /*rng*/) override {
    check_updates(name(), params, updates);
    AggregateReport report;
    if (updates.empty()) return report;
    const size_t n = updates.size(), f = static_cast<size_t>(f_);
    if (n < 4 * f + 3) {
      throw UsageError("bulyan: needs at least 4f + 3 = " + std::to_string(4 * f + 3) +
                       " updates for num_byzantine f = " + std::to_string(f) + ", got " +
                       std::to_string(n));
    }
    const size_t theta = n - 2 * f, beta = theta - 2 * f;
    const std::vector<std::span<const float>> deltas = deltas_of(updates);
    const std::vector<double> dist = pairwise_sq_distances(deltas);
    std::vector<size_t> remaining(n);
    std::iota(remaining.begin(), remaining.end(), size_t{0});
    std::vector<std::span<const float>> selected;
    std::vector<double> scores;
    while (selected.size() < theta) {
      const size_t r = remaining.size();
      const size_t neighbours = std::max<size_t>(r > f + 2 ? r - f - 2 : 0, 1);
      const size_t best = krum_scores(dist, n, remaining, neighbours, scores);
      selected.push_back(deltas[remaining[best]]);
      report.selected.push_back(updates[remaining[best]].node);
      remaining.erase(remaining.begin() + static_cast<std::ptrdiff_t>(best));
    }
    // The beta values nearest the median of theta sorted values are the window
    // [a, a + beta) of least max distance |value - median| for some a in [0, theta - beta]
    // (2f + 1 candidates); the first such window on a tie.
    const auto network = beta < theta ? sorting_network(theta) : std::vector<Comparator>{};
    sorted_columns(params, selected, static_cast<float>(server_lr_), network,
                   [theta, beta](const float* rows, float* out) {
                     const Packet width = simd::pset1<Packet>(static_cast<float>(beta));
                     for (size_t j = 0; j < kLanes; j += kPacket) {
                       const Packet med = middle(rows, theta, j);
                       Packet best = simd::pset1<Packet>(std::numeric_limits<float>::infinity());
                       Packet start = simd::pset1<Packet>(0.0f);
                       for (size_t a = 0; a + beta <= theta; ++a) {
                         const Packet d = simd::pmax(simd::psub(med, load(rows, a, j)),
                                                     simd::psub(load(rows, a + beta - 1, j), med));
                         const Packet better = simd::pcmp_lt(d, best);
                         best = simd::pselect(better, d, best);
                         const Packet at = simd::pset1<Packet>(static_cast<float>(a));
                         start = simd::pselect(better, at, start);
                       }
                       const Packet end = simd::padd(start, width);
                       Packet sum = simd::pset1<Packet>(0.0f);
                       for (size_t k = 0; k < theta; ++k) {
                         const Packet rank = simd::pset1<Packet>(static_cast<float>(k));
                         const Packet inside =
                             simd::pand(simd::pcmp_le(start, rank), simd::pcmp_lt(rank, end));
                         sum = simd::padd(sum, simd::pand(inside, load(rows, k, j)));
                       }
                       simd::pstoreu(out + j, simd::pdiv(sum, width));
                     }
                   });
    report.used = static_cast<int>(theta);
    return report;
  }

 private:
  double server_lr_;
  int f_;
};

}  // namespace

std::unique_ptr<Strategy> make_fedmedian(Params& params) {
  return std::make_unique<FedMedian>(params.server_lr(1.0));
}

std::unique_ptr<Strategy> make_trimmed_mean(Params& params) {
  const double lr = params.server_lr(1.0);
  const double ratio = params.number("trim_ratio", 0.1, {0, 0.5, false, /*hi_open=*/true});
  return std::make_unique<TrimmedMean>(lr, ratio);
}

std::unique_ptr<Strategy> make_krum(Params& params) {
  const double lr = params.server_lr(1.0);
  return std::make_unique<Krum>(lr, params.integer("num_byzantine", 0, 0), 1, false);
}

std::unique_ptr<Strategy> make_multi_krum(Params& params) {
  const double lr = params.server_lr(1.0);
  const int f = params.integer("num_byzantine", 0, 0);
  const int m = params.integer("num_selected", -1, 1);  // -1: n - f
  return std::make_unique<Krum>(lr, f, m, true);
}

std::unique_ptr<Strategy> make_bulyan(Params& params) {
  const double lr = params.server_lr(1.0);
  return std::make_unique<Bulyan>(lr, params.integer("num_byzantine", 0, 0));
}

}  // namespace swarm::strategies
