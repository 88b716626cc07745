#include "swarm/ml/mlp.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "swarm/error.hpp"
#include "swarm/ml/partition.hpp"
#include "swarm/ml/synthetic.hpp"

namespace swarm::ml {
namespace {

// A batch of `batch` samples with features uniform in [-1, 1] and labels uniform in
// [0, classes), from a fixed seed.
void random_batch(int features, int classes, int batch, uint64_t seed, Matrix& x,
                  std::vector<uint8_t>& y) {
  std::mt19937_64 rng(seed);
  x.resize(features, batch);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    x.data()[i] = static_cast<float>(rng() >> 40) * 0x1p-23f - 1.0f;
  }
  y.resize(batch);
  for (auto& label : y) label = static_cast<uint8_t>(rng() % classes);
}

// Mean softmax cross-entropy of an MLP with flat parameters p (params() layout: per layer
// W column-major out x in, then b) in double precision, written independently of mlp.cpp.
double reference_loss(const std::vector<int>& sizes, const std::vector<double>& p,
                      const Matrix& x, const std::vector<uint8_t>& y) {
  const size_t L = sizes.size() - 1;
  double total = 0;
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    std::vector<double> a(x.rows());
    for (Eigen::Index i = 0; i < x.rows(); ++i) a[i] = x(i, j);
    size_t offset = 0;
    for (size_t l = 1; l <= L; ++l) {
      const size_t n_in = sizes[l - 1], n_out = sizes[l];
      std::vector<double> z(n_out);
      for (size_t o = 0; o < n_out; ++o) {
        double s = p[offset + n_in * n_out + o];
        for (size_t i = 0; i < n_in; ++i) s += p[offset + i * n_out + o] * a[i];
        z[o] = (l < L) ? std::max(s, 0.0) : s;
      }
      offset += n_in * n_out + n_out;
      a = std::move(z);
    }
    const double max = *std::max_element(a.begin(), a.end());
    double sum = 0;
    for (double v : a) sum += std::exp(v - max);
    total += max + std::log(sum) - a[y[j]];
  }
  return total / static_cast<double>(x.cols());
}

Mlp initialised(std::vector<int> sizes, uint64_t seed) {
  Mlp model(std::move(sizes));
  std::mt19937_64 rng(seed);
  model.init(rng);
  return model;
}

std::vector<float> to_vector(std::span<const float> s) { return {s.begin(), s.end()}; }

TEST_CASE("Mlp lays out W then b for each layer", "[ml][mlp]") {
  Mlp model({5, 4, 3});
  // (4 x 5 + 4) + (3 x 4 + 3) = 24 + 15.
  REQUIRE(model.num_params() == 39);
  REQUIRE(model.layer_sizes() == std::vector<int>{5, 4, 3});
  REQUIRE_THROWS_AS(Mlp({5}), UsageError);
  REQUIRE_THROWS_AS(Mlp({5, 0, 3}), UsageError);
}

TEST_CASE("An Mlp starts initialised from its seed, as init() with that seed", "[ml][mlp]") {
  // Issue 10 (API frictions): parameters used to be zero until init().
  const std::vector<int> sizes = {5, 4, 3};
  std::mt19937_64 rng(7);
  Mlp by_hand({5, 4, 3}, 99);
  by_hand.init(rng);
  const Mlp seeded(sizes, 7);
  REQUIRE(to_vector(seeded.params()) == to_vector(by_hand.params()));
  // He-uniform: weights non-zero, biases (after each layer's weights) zero.
  const std::vector<float> p = to_vector(seeded.params());
  CHECK(std::count(p.begin(), p.begin() + 20, 0.0f) == 0);  // layer 1's 4 x 5 weights
  CHECK(std::all_of(p.begin() + 20, p.begin() + 24, [](float v) { return v == 0.0f; }));
  // The default seed is kDefaultSeed, and another seed gives other weights.
  REQUIRE(to_vector(Mlp(sizes).params()) == to_vector(Mlp(sizes, Mlp::kDefaultSeed).params()));
  REQUIRE(to_vector(Mlp(sizes, 8).params()) != to_vector(seeded.params()));
}

TEST_CASE("An Mlp built from parameters holds them; a wrong count is refused", "[ml][mlp]") {
  // (4 x 5 + 4) + (3 x 4 + 3) = 39 parameters.
  REQUIRE(Mlp::param_count({5, 4, 3}) == 39);
  REQUIRE_THROWS_AS(Mlp::param_count({5}), UsageError);
  std::vector<float> p(39);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<float>(i);
  REQUIRE(to_vector(Mlp({5, 4, 3}, p).params()) == p);
  p.pop_back();
  REQUIRE_THROWS_AS(Mlp({5, 4, 3}, p), UsageError);
}

TEST_CASE("Mlp parameters round-trip through set_params", "[ml][mlp]") {
  Mlp model = initialised({5, 4, 3}, 1);
  std::vector<float> p(39);
  for (size_t i = 0; i < p.size(); ++i) p[i] = 0.25f * static_cast<float>(i) - 3.0f;
  model.set_params(p);
  REQUIRE(to_vector(model.params()) == p);
  REQUIRE_THROWS_AS(model.set_params(std::vector<float>(38)), UsageError);
}

TEST_CASE("Mlp gradient matches central finite differences", "[ml][mlp]") {
  const std::vector<int> sizes{5, 4, 3};
  Mlp model = initialised(sizes, 7);
  // Non-zero biases, so that their gradients are exercised away from the initial state.
  std::vector<float> p = to_vector(model.params());
  for (size_t i = 0; i < p.size(); ++i) p[i] += 0.05f * static_cast<float>(i % 5) - 0.1f;
  model.set_params(p);
  Matrix x;
  std::vector<uint8_t> y;
  random_batch(5, 3, 6, 11, x, y);

  std::vector<float> grad;
  const double loss = model.loss_and_gradient(x, y, grad);
  std::vector<double> pd(p.begin(), p.end());
  // The reference computes the same function as the model: only float rounding (~1e-7
  // relative on a loss of order 1) separates them.
  REQUIRE(loss == Approx(reference_loss(sizes, pd, x, y)).epsilon(1e-5));

  // Central differences of the double-precision reference with h = 1e-6: the truncation
  // error is h^2/6 |f'''| ~ 1e-13 and the rounding error ~ 1e-16 |f| / h ~ 1e-10, so fd is the
  // exact gradient to ~1e-9 (unless a ReLU input lies within ~h of 0, which a seeded batch
  // avoids). The model's float gradient sums at most 6 x 4 products per entry, each with a
  // relative error of a few float epsilons (6e-8), on entries of order <= 1: its error is
  // below 1e-5. Hence the tolerance 1e-5 absolute plus 1e-4 relative.
  const double h = 1e-6;
  for (size_t i = 0; i < pd.size(); ++i) {
    std::vector<double> plus = pd, minus = pd;
    plus[i] += h;
    minus[i] -= h;
    const double fd = (reference_loss(sizes, plus, x, y) - reference_loss(sizes, minus, x, y)) /
                      (2 * h);
    INFO("parameter " << i << ": analytic " << grad[i] << ", finite difference " << fd);
    REQUIRE(std::abs(grad[i] - fd) <= 1e-5 + 1e-4 * std::abs(fd));
  }
}

TEST_CASE("Mlp SGD follows the PyTorch update", "[ml][mlp]") {
  const std::vector<int> sizes{5, 4, 3};
  Matrix x;
  std::vector<uint8_t> y;
  random_batch(5, 3, 8, 3, x, y);
  Mlp probe(sizes);  // computes gradients at given parameters
  auto gradient_at = [&](const std::vector<double>& p) {
    probe.set_params(std::vector<float>(p.begin(), p.end()));
    std::vector<float> g;
    probe.loss_and_gradient(x, y, g);
    return std::vector<double>(g.begin(), g.end());
  };

  SgdOptions options;
  options.lr = 0.1f;
  options.weight_decay = 0.01f;
  Mlp model = initialised(sizes, 5);
  std::vector<double> p0(model.params().begin(), model.params().end());

  SECTION("without momentum: w -= lr (g + wd w)") {
    options.momentum = 0;
    auto g0 = gradient_at(p0);
    model.train_batch(x, y, options, nullptr);
    for (size_t i = 0; i < p0.size(); ++i) {
      const double expected = p0[i] - options.lr * (g0[i] + options.weight_decay * p0[i]);
      REQUIRE(model.params()[i] == Approx(expected).margin(1e-6));
    }
  }
  SECTION("with momentum: v = m v + g + wd w; w -= lr v, over two steps") {
    options.momentum = 0.9f;
    const double m = options.momentum, lr = options.lr, wd = options.weight_decay;
    auto g0 = gradient_at(p0);
    std::vector<double> v1(p0.size()), p1(p0.size()), v2(p0.size()), p2(p0.size());
    for (size_t i = 0; i < p0.size(); ++i) {
      v1[i] = g0[i] + wd * p0[i];  // the velocity starts at zero
      p1[i] = p0[i] - lr * v1[i];
    }
    auto g1 = gradient_at(p1);
    for (size_t i = 0; i < p0.size(); ++i) {
      v2[i] = m * v1[i] + g1[i] + wd * p1[i];
      p2[i] = p1[i] - lr * v2[i];
    }
    model.train_batch(x, y, options, nullptr);
    model.train_batch(x, y, options, nullptr);
    for (size_t i = 0; i < p0.size(); ++i) {
      REQUIRE(model.params()[i] == Approx(p2[i]).margin(1e-5));
    }
  }
}

TEST_CASE("Mlp FedProx step follows the gradient of loss + mu/2 ||w - w0||^2", "[ml][mlp]") {
  // Li et al. 2020, "Federated Optimization in Heterogeneous Networks", eq. 2: the local
  // objective is h(w) = F(w) + mu/2 ||w - w0||^2, w0 the global model. With weight decay wd
  // (the L2 term wd/2 ||w||^2) the objective a step descends is
  //   J(w) = loss(w) + wd/2 ||w||^2 + mu/2 ||w - w0||^2.
  const std::vector<int> sizes{5, 4, 3};
  Matrix x;
  std::vector<uint8_t> y;
  random_batch(5, 3, 6, 13, x, y);
  Mlp model = initialised(sizes, 9);
  const std::vector<float> p0 = to_vector(model.params());
  // A center away from p0 in every coordinate, so that w - w0 is not zero.
  std::vector<float> center(p0.size());
  for (size_t i = 0; i < p0.size(); ++i) {
    center[i] = p0[i] + 0.1f * static_cast<float>(i % 7) - 0.35f;
  }
  const double mu = 0.5, wd = 0.01;
  auto objective = [&](const std::vector<double>& p) {
    double reg = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      reg += wd / 2 * p[i] * p[i] + mu / 2 * (p[i] - center[i]) * (p[i] - center[i]);
    }
    return reference_loss(sizes, p, x, y) + reg;
  };

  SgdOptions options;
  options.lr = 1.0f;
  options.weight_decay = static_cast<float>(wd);
  options.prox_mu = static_cast<float>(mu);
  options.prox_center = center;
  // One step from a fresh velocity is w1 = w0 - lr grad J(w0) with or without momentum
  // (v starts at 0), so (w0 - w1) / lr is the gradient the step used. With lr = 1 the float
  // rounding of w1 (|w| < 4: < 5e-7) stays below the tolerance of the plain gradient check
  // above (1e-5 absolute + 1e-4 relative), whose reasoning applies to J unchanged: the added
  // quadratic terms have a zero third derivative, so central differences are exact on them.
  const float momentum = GENERATE(0.0f, 0.9f);
  options.momentum = momentum;
  model.train_batch(x, y, options, nullptr);
  std::vector<double> pd(p0.begin(), p0.end());
  const double h = 1e-6;
  for (size_t i = 0; i < pd.size(); ++i) {
    std::vector<double> plus = pd, minus = pd;
    plus[i] += h;
    minus[i] -= h;
    const double fd = (objective(plus) - objective(minus)) / (2 * h);
    const double step = (pd[i] - model.params()[i]) / options.lr;
    INFO("momentum " << momentum << ", parameter " << i << ": step gradient " << step
                     << ", finite difference " << fd);
    REQUIRE(std::abs(step - fd) <= 1e-5 + 1e-4 * std::abs(fd));
  }
}

TEST_CASE("Mlp FedProx with momentum carries the proximal term in the velocity", "[ml][mlp]") {
  const std::vector<int> sizes{5, 4, 3};
  Matrix x;
  std::vector<uint8_t> y;
  random_batch(5, 3, 8, 3, x, y);
  Mlp probe(sizes);
  auto gradient_at = [&](const std::vector<double>& p) {
    probe.set_params(std::vector<float>(p.begin(), p.end()));
    std::vector<float> g;
    probe.loss_and_gradient(x, y, g);
    return std::vector<double>(g.begin(), g.end());
  };
  Mlp model = initialised(sizes, 5);
  std::vector<double> p0(model.params().begin(), model.params().end());
  std::vector<float> center(p0.size());
  for (size_t i = 0; i < p0.size(); ++i) center[i] = static_cast<float>(p0[i]) + 0.2f;
  SgdOptions options;
  options.lr = 0.1f;
  options.momentum = 0.9f;
  options.prox_mu = 0.3f;
  options.prox_center = center;
  const double m = options.momentum, lr = options.lr, mu = options.prox_mu;
  // v1 = g(p0) + mu (p0 - c); p1 = p0 - lr v1; v2 = m v1 + g(p1) + mu (p1 - c); p2 = p1 - lr v2.
  auto g0 = gradient_at(p0);
  std::vector<double> v1(p0.size()), p1(p0.size()), p2(p0.size());
  for (size_t i = 0; i < p0.size(); ++i) {
    v1[i] = g0[i] + mu * (p0[i] - center[i]);
    p1[i] = p0[i] - lr * v1[i];
  }
  auto g1 = gradient_at(p1);
  for (size_t i = 0; i < p0.size(); ++i) {
    p2[i] = p1[i] - lr * (m * v1[i] + g1[i] + mu * (p1[i] - center[i]));
  }
  model.train_batch(x, y, options, nullptr);
  model.train_batch(x, y, options, nullptr);
  for (size_t i = 0; i < p0.size(); ++i) REQUIRE(model.params()[i] == Approx(p2[i]).margin(1e-5));

  // A proximal term needs a center of the model's size and a non-negative mu.
  options.prox_center = std::span<const float>(center).first(center.size() - 1);
  REQUIRE_THROWS_AS(model.train_batch(x, y, options, nullptr), UsageError);
  options.prox_center = center;
  options.prox_mu = -0.1f;
  REQUIRE_THROWS_AS(model.train_batch(x, y, options, nullptr), UsageError);
  // mu = 0 needs no center.
  options.prox_mu = 0;
  options.prox_center = {};
  REQUIRE_NOTHROW(model.train_batch(x, y, options, nullptr));
}

TEST_CASE("A zero model predicts uniformly", "[ml][mlp]") {
  Mlp model({2, 3, 2}, std::vector<float>(Mlp::param_count({2, 3, 2}), 0.0f));
  Matrix x;
  std::vector<uint8_t> y;
  random_batch(2, 2, 4, 1, x, y);
  SgdOptions options;
  uint64_t flops = 0;
  // All logits are 0: each sample's loss is log 2, and train_batch returns the sum.
  REQUIRE(model.train_batch(x, y, options, &flops) == Approx(4 * std::log(2.0)));
}

TEST_CASE("A training step lowers the loss on its batch", "[ml][mlp]") {
  Mlp model = initialised({20, 16, 4}, 3);
  Matrix x;
  std::vector<uint8_t> y;
  random_batch(20, 4, 32, 8, x, y);
  std::vector<float> grad;
  const double before = model.loss_and_gradient(x, y, grad);
  SgdOptions options;
  options.lr = 0.05f;
  model.train_batch(x, y, options, nullptr);
  const double after = model.loss_and_gradient(x, y, grad);
  REQUIRE(after < before);
}

TEST_CASE("Mlp learns the synthetic dataset well above chance", "[ml][mlp]") {
  SyntheticOptions data_options;  // 2000 samples, 20 features, 4 classes
  auto parts = partition_iid(DatasetView(make_synthetic(data_options)), 2, 1);
  Mlp model = initialised({20, 32, 4}, 1);
  const EvalStats initial = model.evaluate(parts[1]);

  SgdOptions options;
  options.epochs = 5;
  std::mt19937_64 rng(2);
  const TrainStats trained = model.train(parts[0], options, rng);
  REQUIRE(trained.samples == 5 * 1000);
  REQUIRE(trained.mean_loss < std::log(4.0));

  const EvalStats held_out = model.evaluate(parts[1]);
  REQUIRE(held_out.samples == 1000);
  REQUIRE(held_out.accuracy > 0.9);  // chance is 0.25
  REQUIRE(held_out.loss < initial.loss);
}

TEST_CASE("Mlp training is deterministic given the seeds", "[ml][mlp]") {
  SyntheticOptions data_options;
  data_options.num_samples = 300;
  DatasetView data(make_synthetic(data_options));
  auto run = [&] {
    Mlp model = initialised({20, 8, 4}, 4);
    std::mt19937_64 rng(5);
    SgdOptions options;
    options.epochs = 2;
    model.train(data, options, rng);
    return to_vector(model.params());
  };
  REQUIRE(run() == run());
}

TEST_CASE("Mlp evaluation does not depend on the thread count or the batch size", "[ml][mlp]") {
  SyntheticOptions data_options;
  data_options.num_samples = 1003;  // batches of 100 leave a short last one
  DatasetView data(make_synthetic(data_options));
  Mlp model = initialised({20, 16, 4}, 6);
  const EvalStats one = model.evaluate(data, 100, 1);
  for (int threads : {2, 3, 8}) {
    const EvalStats many = model.evaluate(data, 100, threads);
    CHECK(many.loss == one.loss);  // bit for bit: batch sums are added in batch order
    CHECK(many.accuracy == one.accuracy);
    CHECK(many.flops == one.flops);
  }
  // Another batch size groups the sums differently (and the products may block differently):
  // the same figures up to float rounding.
  const EvalStats whole = model.evaluate(data, 2000, 2);
  CHECK(whole.accuracy == one.accuracy);
  CHECK(whole.loss == Approx(one.loss).epsilon(1e-6));
  CHECK(whole.samples == 1003);
  // The whole dataset is read in place; the same samples in another order are gathered.
  std::vector<uint32_t> reversed(1003);
  for (uint32_t i = 0; i < 1003; ++i) reversed[i] = 1002 - i;
  const EvalStats gathered = model.evaluate(DatasetView(data.storage_ptr(), reversed), 100, 2);
  CHECK(gathered.accuracy == one.accuracy);
  CHECK(gathered.loss == Approx(one.loss).epsilon(1e-6));
  CHECK(one.accuracy > 0.1);
  CHECK(one.accuracy < 0.9);  // an untrained model: a figure in between, not a constant
}

TEST_CASE("Mlp FLOP counts follow the formula", "[ml][mlp]") {
  Mlp model = initialised({2, 3, 2}, 1);
  // Per sample, forward (mlp.cpp): layer 1 2*2*3 + 3 = 15, ReLU 3, layer 2 2*3*2 + 2 = 14,
  // softmax cross-entropy 4*2 + 4 = 12: 44.
  REQUIRE(model.forward_flops(1) == 44);
  REQUIRE(model.forward_flops(4) == 176);
  // Per sample, backward: logit gradient 2 + 2 = 4; layer 2 dW 2*2*3 + db 2 = 14; dA_1
  // 2*3*2 + mask 3 = 15; layer 1 dW 2*3*2 + db 3 = 15: 48. Parameters P = 3*2+3 + 2*3+2 = 17.
  // Update per parameter: 2, + 2 with momentum, + 2 with weight decay.
  SgdOptions plain;
  plain.momentum = 0;
  SgdOptions full;
  full.weight_decay = 1e-4f;
  REQUIRE(model.train_flops(4, plain) == 176 + 4 * 48 + 17 * 2);          // 402
  REQUIRE(model.train_flops(4) == 176 + 4 * 48 + 17 * 4);                 // 436, default SGD
  REQUIRE(model.train_flops(4, full) == 176 + 4 * 48 + 17 * 6);           // 470
  REQUIRE(model.train_flops(2) == 2 * 44 + 2 * 48 + 17 * 4);              // 252
  // FedProx adds g += mu (w - w0): 3 per parameter.
  SgdOptions prox;
  prox.prox_mu = 0.01f;
  REQUIRE(model.train_flops(4, prox) == 176 + 4 * 48 + 17 * (4 + 3));     // 487

  // 10 samples in batches of 4: 4, 4, 2 per epoch, over 2 epochs.
  SyntheticOptions data_options;
  data_options.num_samples = 10;
  data_options.num_features = 2;
  data_options.num_classes = 2;
  DatasetView data(make_synthetic(data_options));
  SgdOptions options;
  options.batch_size = 4;
  options.epochs = 2;
  std::mt19937_64 rng(1);
  const TrainStats stats = model.train(data, options, rng);
  REQUIRE(stats.samples == 20);
  REQUIRE(stats.flops == 2 * (2 * model.train_flops(4) + model.train_flops(2)));  // 2248
  REQUIRE(stats.flops == 2248);

  options.momentum = 0;
  options.weight_decay = 0.1f;
  REQUIRE(model.train(data, options, rng).flops ==
          2 * (2 * model.train_flops(4, options) + model.train_flops(2, options)));

  uint64_t flops = 7;
  Matrix x;
  std::vector<uint8_t> y;
  random_batch(2, 2, 3, 1, x, y);
  model.train_batch(x, y, options, &flops);
  REQUIRE(flops == 7 + model.train_flops(3, options));

  // Evaluation in batches of 4: 44 per sample.
  REQUIRE(model.evaluate(data, 4).flops == 440);
}

TEST_CASE("Mlp FLOP counts from the layer sizes alone equal what training reports", "[ml][mlp]") {
  // The static counts (timing-only runs) against real calls, with an epoch's short last batch.
  const std::vector<int> sizes = {2, 3, 2};
  Mlp model = initialised(sizes, 1);
  CHECK(Mlp::forward_flops(sizes, 4) == model.forward_flops(4));  // 176
  SgdOptions prox;
  prox.prox_mu = 0.01f;
  CHECK(Mlp::train_flops(sizes, 4, prox) == 487);
  SyntheticOptions data_options;
  data_options.num_samples = 10;
  data_options.num_features = 2;
  data_options.num_classes = 2;
  DatasetView data(make_synthetic(data_options));
  std::mt19937_64 rng(1);
  for (int batch : {1, 3, 4, 10, 32}) {
    for (int epochs : {1, 3}) {
      SgdOptions options;
      options.batch_size = batch;
      options.epochs = epochs;
      options.weight_decay = batch == 3 ? 0.01f : 0.0f;
      INFO("batch " << batch << ", epochs " << epochs);
      CHECK(Mlp::train_total_flops(sizes, 10, options) == model.train(data, options, rng).flops);
    }
    CHECK(Mlp::evaluate_total_flops(sizes, 10, batch) == model.evaluate(data, batch).flops);
  }
  // 10 samples, batch 4, 2 epochs: 2 x (2 x 436 + 252) = 2248, as in the test above.
  SgdOptions options;
  options.batch_size = 4;
  options.epochs = 2;
  CHECK(Mlp::train_total_flops(sizes, 10, options) == 2248);
  CHECK(Mlp::train_total_flops(sizes, 0, options) == 0);
  CHECK_THROWS_AS(Mlp::forward_flops({2}, 1), UsageError);
}

TEST_CASE("Mlp rejects data of the wrong shape", "[ml][mlp]") {
  SyntheticOptions data_options;  // 20 features, 4 classes
  DatasetView data(make_synthetic(data_options));
  std::mt19937_64 rng(1);
  Mlp wrong_inputs({10, 4});
  REQUIRE_THROWS_AS(wrong_inputs.train(data, SgdOptions{}, rng), UsageError);
  Mlp too_few_classes({20, 3});
  REQUIRE_THROWS_AS(too_few_classes.evaluate(data), UsageError);
}

}  // namespace
}  // namespace swarm::ml
