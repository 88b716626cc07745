#include "ml/gemm.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <vector>

namespace swarm::ml {
namespace {

std::vector<float> random_values(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng() >> 40) * 0x1p-24f - 0.5f;
  return v;
}

// c = alpha op(a) op(b) + beta c by the definition, in double (rows of c below m unchanged).
std::vector<double> naive(Op op_a, Op op_b, int m, int n, int k, float alpha, const std::vector<float>& a,
                          int lda, const std::vector<float>& b, int ldb, float beta,
                          const std::vector<float>& c, int ldc) {
  std::vector<double> out(c.begin(), c.end());
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < m; ++i) out[i + j * ldc] *= beta;
  }
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < m; ++i) {
      double sum = 0;
      for (int p = 0; p < k; ++p) {
        const double x = op_a == Op::Plain ? a[i + p * lda] : a[p + i * lda];
        const double y = op_b == Op::Plain ? b[p + j * ldb] : b[j + p * ldb];
        sum += x * y;
      }
      out[i + j * ldc] += alpha * sum;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("Gemm computes c = alpha op(a) op(b) + beta c for every transposition", "[ml][gemm]") {
  const Kernel kernel = GENERATE(from_range(available_kernels()));
  INFO("kernel: " << kernel_identity(kernel));
  const int m = 37, n = 11, k = 53;
  for (Op op_a : {Op::Plain, Op::Transposed}) {
    for (Op op_b : {Op::Plain, Op::Transposed}) {
      // Leading dimensions larger than needed, as for products on the first columns of a buffer.
      const int lda = (op_a == Op::Plain ? m : k) + 3, ldb = (op_b == Op::Plain ? k : n) + 2, ldc = m + 1;
      const auto a = random_values(static_cast<size_t>(lda) * (op_a == Op::Plain ? k : m), 1);
      const auto b = random_values(static_cast<size_t>(ldb) * (op_b == Op::Plain ? n : k), 2);
      for (float beta : {1.0f, 0.9f, 0.0f}) {
        auto c = random_values(static_cast<size_t>(ldc) * n, 3);
        const auto expected = naive(op_a, op_b, m, n, k, 0.5f, a, lda, b, ldb, beta, c, ldc);
        Gemm gemm(kernel, m, n, k);
        gemm.run(op_a, op_b, m, n, k, 0.5f, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
        for (int j = 0; j < n; ++j) {
          for (int i = 0; i < ldc; ++i) {
            // Padding rows below m are left alone.
            CHECK(c[i + j * ldc] == Approx(expected[i + j * ldc]).margin(1e-4));
          }
        }
      }
    }
  }
}

TEST_CASE("Gemm gives the same bits when several threads run products at once", "[ml][gemm]") {
  const Kernel kernel = GENERATE(from_range(available_kernels()));
  INFO("kernel: " << kernel_identity(kernel));
  // The shapes of an MLP step at batch 10 and 64 and of an evaluation batch. A library whose
  // buffers are not locked mixes concurrent products up (Debian's serial OpenBLAS did).
  struct Shape {
    int m, n, k;
  };
  const std::vector<Shape> shapes{{200, 10, 784}, {10, 64, 200}, {200, 784, 64}, {16, 1000, 64}};
  std::vector<std::vector<float>> a, b, expected;
  for (size_t s = 0; s < shapes.size(); ++s) {
    const auto [m, n, k] = shapes[s];
    a.push_back(random_values(static_cast<size_t>(m) * k, 10 + s));
    b.push_back(random_values(static_cast<size_t>(k) * n, 20 + s));
    std::vector<float> c(static_cast<size_t>(m) * n, 0.0f);
    Gemm(kernel, m, n, k).run(Op::Plain, Op::Plain, m, n, k, 1.0f, a[s].data(), m, b[s].data(), k, 0.0f, c.data(), m);
    expected.push_back(std::move(c));
  }
  int mismatches = 0;
#pragma omp parallel num_threads(4) reduction(+ : mismatches)
  for (int rep = 0; rep < 40; ++rep) {
    for (size_t s = 0; s < shapes.size(); ++s) {
      const auto [m, n, k] = shapes[s];
      std::vector<float> c(static_cast<size_t>(m) * n, 0.0f);
      Gemm(kernel, m, n, k).run(Op::Plain, Op::Plain, m, n, k, 1.0f, a[s].data(), m, b[s].data(), k, 0.0f, c.data(), m);
      mismatches += c != expected[s];
    }
  }
  CHECK(mismatches == 0);
}

}  // namespace swarm::ml

#include "swarm/ml/mlp.hpp"
#include "swarm/ml/synthetic.hpp"

namespace swarm::ml {

TEST_CASE("models trained on several threads at once come out as when trained one by one", "[ml][gemm]") {
  // Small shapes, many products: the pattern of simulated workers. (Debian's serial OpenBLAS
  // failed this: its unlocked buffers mixed concurrent products up.)
  SyntheticOptions data_options;
  data_options.num_samples = 600;
  data_options.num_features = 64;
  data_options.num_classes = 10;
  const DatasetView data(make_synthetic(data_options));
  auto train = [&](int k) {
    Mlp model({64, 16, 10});
    std::mt19937_64 rng(static_cast<uint64_t>(k));
    model.init(rng);
    SgdOptions options;
    options.epochs = 3;
    model.train(data, options, rng);
    const auto p = model.params();
    return std::vector<float>(p.begin(), p.end());
  };
  constexpr int kModels = 8;
  std::vector<std::vector<float>> one_by_one, side_by_side(kModels);
  for (int k = 0; k < kModels; ++k) one_by_one.push_back(train(k));
#pragma omp parallel for num_threads(4) schedule(dynamic, 1)
  for (int k = 0; k < kModels; ++k) side_by_side[k] = train(k);
  for (int k = 0; k < kModels; ++k) CHECK(side_by_side[k] == one_by_one[k]);
}

}  // namespace swarm::ml
