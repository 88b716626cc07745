#include "swarm/ml/kernel.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <vector>

#include "ml/gemm.hpp"
#include "swarm/error.hpp"
#include "swarm/ml/mlp.hpp"
#include "swarm/ml/synthetic.hpp"

namespace swarm::ml {
namespace {

// The product by its definition, in float, summing in order: right within rounding.
void plain_product(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
                   float beta, float* c, int ldc) {
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < m; ++i) {
      float sum = 0;
      for (int p = 0; p < k; ++p) sum += (ta ? a[p + i * lda] : a[i + p * lda]) * (tb ? b[j + p * ldb] : b[p + j * ldb]);
      c[i + j * ldc] = alpha * sum + (beta == 0 ? 0.0f : beta * c[i + j * ldc]);
    }
  }
}

std::vector<float> trained_params(Kernel kernel, uint64_t seed) {
  SyntheticOptions data_options;
  data_options.num_samples = 300;
  data_options.num_features = 40;
  data_options.num_classes = 5;
  const DatasetView data(make_synthetic(data_options));
  Mlp model({40, 24, 5}, seed);
  model.set_kernel(kernel);
  std::mt19937_64 rng(seed);
  SgdOptions options;
  options.epochs = 2;
  options.batch_size = 16;
  model.train(data, options, rng);
  const auto p = model.params();
  return {p.begin(), p.end()};
}

}  // namespace

TEST_CASE("kernel names round-trip and unknown names are none", "[ml][kernel]") {
  for (Kernel k : {Kernel::OpenBlas, Kernel::Eigen}) CHECK(parse_kernel(kernel_name(k)) == k);
  CHECK_FALSE(parse_kernel("auto").has_value());
  CHECK_FALSE(parse_kernel("OpenBLAS").has_value());
  CHECK(default_kernel() == available_kernels().front());
}

TEST_CASE("the self-check accepts a right product and names what a wrong one got wrong", "[ml][kernel]") {
  CHECK(check_products(plain_product) == "");
  // Ignores beta: c's old values are lost where beta is 0.75.
  const std::string no_beta = check_products([](bool ta, bool tb, int m, int n, int k, float alpha, const float* a,
                                                int lda, const float* b, int ldb, float, float* c, int ldc) {
    plain_product(ta, tb, m, n, k, alpha, a, lda, b, ldb, 0.0f, c, ldc);
  });
  CHECK_THAT(no_beta, Catch::Contains("beta 0.75"));
  // Drops the last term of every sum: off by one product, far above float rounding.
  const std::string short_sum = check_products([](bool ta, bool tb, int m, int n, int k, float alpha, const float* a,
                                                  int lda, const float* b, int ldb, float beta, float* c, int ldc) {
    plain_product(ta, tb, m, n, k - 1, alpha, a, lda, b, ldb, beta, c, ldc);
  });
  CHECK_THAT(short_sum, Catch::Contains("of a b with beta 0:"));
  // Reads a transposed operand as a plain one.
  const std::string ignores_transpose = check_products([](bool, bool tb, int m, int n, int k, float alpha,
                                                          const float* a, int lda, const float* b, int ldb, float beta,
                                                          float* c, int ldc) {
    plain_product(false, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  });
  CHECK_THAT(ignores_transpose, Catch::Contains("a^T"));
  // Writes the padding rows below m, which belong to someone else.
  const std::string writes_padding = check_products([](bool ta, bool tb, int m, int n, int k, float alpha,
                                                       const float* a, int lda, const float* b, int ldb, float beta,
                                                       float* c, int ldc) {
    plain_product(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    for (int j = 0; j < n; ++j) c[m + j * ldc] = 0.0f;
  });
  CHECK_THAT(writes_padding, Catch::Contains("c(37,0)"));
}

TEST_CASE("every kernel of the build passes the self-check", "[ml][kernel]") {
  for (Kernel k : available_kernels()) {
    INFO(kernel_identity(k));
    CHECK(check_kernel(k) == "");
  }
}

TEST_CASE("a named kernel is taken as named; auto takes a built-in one and keeps its choice", "[ml][kernel]") {
  const std::vector<int> layers{64, 32, 10};
  for (Kernel k : available_kernels()) {
    const KernelChoice named = choose_kernel(KernelRequest{k}, layers, 16);
    CHECK(named.kernel == k);
    CHECK(named.reason == "named");
  }
  const KernelChoice first = choose_kernel(KernelRequest{}, layers, 16);
  const std::vector<Kernel>& built = available_kernels();
  CHECK(std::find(built.begin(), built.end(), first.kernel) != built.end());
  if (built.size() > 1) CHECK_THAT(first.reason, Catch::Contains("GFLOP/s") && Catch::Contains("64-32-10 at batch 16"));
  // The same model again (another run of a sweep): the same kernel, without timing again.
  for (int i = 0; i < 5; ++i) {
    const KernelChoice again = choose_kernel(KernelRequest{}, layers, 16);
    CHECK(again.kernel == first.kernel);
    CHECK(again.reason == first.reason);
  }
}

TEST_CASE("each kernel trains to the same bits every time, and the kernels agree to rounding", "[ml][kernel]") {
  std::vector<std::vector<float>> by_kernel;
  for (Kernel k : available_kernels()) {
    INFO(kernel_identity(k));
    const std::vector<float> once = trained_params(k, 7);
    CHECK(trained_params(k, 7) == once);
    by_kernel.push_back(once);
  }
  // Two epochs of SGD on the same data from the same start: kernels summing in another order
  // drift by rounding only (float epsilon 1.2e-7 per operation, a few hundred steps).
  for (size_t k = 1; k < by_kernel.size(); ++k) {
    double worst = 0;
    for (size_t i = 0; i < by_kernel[0].size(); ++i) worst = std::max(worst, double(std::abs(by_kernel[k][i] - by_kernel[0][i])));
    CHECK(worst < 1e-3);
  }
}

TEST_CASE("a model refuses a kernel the build lacks only when it lacks it", "[ml][kernel]") {
  Mlp model({4, 3, 2});
  for (Kernel k : available_kernels()) {
    model.set_kernel(k);
    CHECK(model.kernel() == k);
  }
  if (available_kernels().size() == 1) CHECK_THROWS_AS(model.set_kernel(Kernel::OpenBlas), UsageError);
}

}  // namespace swarm::ml
