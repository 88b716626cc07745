#include "ml/gemm.hpp"

#include "swarm/error.hpp"

#include <string>

#ifdef SWARM_OPENBLAS
#include <mutex>

#include <cblas.h>
extern "C" char* openblas_get_config(void);
extern "C" int openblas_get_parallel(void);
extern "C" void openblas_set_num_threads(int);
#endif

// Eigen's internal GEMM entry point, the one its own products call, as of Eigen 3.4.
static_assert(EIGEN_VERSION_AT_LEAST(3, 4, 0) && !EIGEN_VERSION_AT_LEAST(3, 4, 90),
              "written against Eigen 3.4's internal general_matrix_matrix_product::run");

namespace swarm::ml {

struct Gemm::Packing {
  Packing(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth)
      : blocking(rows, cols, depth, /*num_threads=*/1, /*l3_blocking=*/true) {
    blocking.allocateAll();
  }
  Eigen::internal::gemm_blocking_space<Eigen::ColMajor, float, float, Eigen::Dynamic,
                                       Eigen::Dynamic, Eigen::Dynamic>
      blocking;
};

namespace {

#ifdef SWARM_OPENBLAS
// One thread per product, whatever the library's default: the engine runs instances side by
// side, and a product split over threads could sum in another order.
void prepare_openblas() {
  static std::once_flag once;
  std::call_once(once, [] {
    // A single-threaded build (Debian's "serial" flavour) does not lock its buffers, and
    // products run by several threads at once come out wrong: refuse it rather than compute
    // garbage (the build links the pthread flavour; this catches a library swapped at run time).
    if (openblas_get_parallel() == 0) {
      throw UsageError(std::string("the OpenBLAS loaded (") + openblas_get_config() +
                       ") is single-threaded and not safe to call from several threads; "
                       "use the pthread flavour (libopenblas0-pthread)");
    }
    openblas_set_num_threads(1);
  });
}
#endif

// A transposed column-major operand is the same memory read row-major.
template <int OrderA, int OrderB, typename Blocking>
void eigen_gemm(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth, float alpha,
                const float* a, Eigen::Index lda, const float* b, Eigen::Index ldb, float* c,
                Eigen::Index ldc, Blocking& blocking) {
  Eigen::internal::general_matrix_matrix_product<Eigen::Index, float, OrderA, false, float, OrderB,
                                                 false, Eigen::ColMajor, 1>::
      run(rows, cols, depth, a, lda, b, ldb, c, /*resIncr=*/1, ldc, alpha, blocking, nullptr);
}

}  // namespace

Gemm::Gemm(Kernel kernel, Eigen::Index max_rows, Eigen::Index max_cols, Eigen::Index max_depth)
    : kernel_(kernel) {
  if (kernel == Kernel::Eigen) {
    packing_ = std::make_unique<Packing>(max_rows, max_cols, max_depth);
    return;
  }
#ifdef SWARM_OPENBLAS
  prepare_openblas();
#else
  throw UsageError("this build has no OpenBLAS kernel (configured with -DSWARM_OPENBLAS=OFF); use kernel eigen");
#endif
}

void Gemm::run(Op op_a, Op op_b, Eigen::Index rows, Eigen::Index cols, Eigen::Index depth,
               float alpha, const float* a, Eigen::Index lda, const float* b, Eigen::Index ldb,
               float beta, float* c, Eigen::Index ldc) {
#ifdef SWARM_OPENBLAS
  if (kernel_ == Kernel::OpenBlas) {
    auto trans = [](Op op) { return op == Op::Plain ? CblasNoTrans : CblasTrans; };
    cblas_sgemm(CblasColMajor, trans(op_a), trans(op_b), static_cast<int>(rows),
                static_cast<int>(cols), static_cast<int>(depth), alpha, a, static_cast<int>(lda), b,
                static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
    return;
  }
#endif
  // Eigen's kernel only accumulates: scale c first.
  if (beta != 1.0f) {
    Eigen::Map<Eigen::MatrixXf, 0, Eigen::OuterStride<>> out(c, rows, cols, Eigen::OuterStride<>(ldc));
    if (beta == 0.0f) {
      out.setZero();
    } else {
      out *= beta;
    }
  }
  constexpr int kCol = Eigen::ColMajor, kRow = Eigen::RowMajor;
  auto& k = packing_->blocking;
  if (op_a == Op::Plain && op_b == Op::Plain) {
    eigen_gemm<kCol, kCol>(rows, cols, depth, alpha, a, lda, b, ldb, c, ldc, k);
  } else if (op_a == Op::Plain) {
    eigen_gemm<kCol, kRow>(rows, cols, depth, alpha, a, lda, b, ldb, c, ldc, k);
  } else if (op_b == Op::Plain) {
    eigen_gemm<kRow, kCol>(rows, cols, depth, alpha, a, lda, b, ldb, c, ldc, k);
  } else {
    eigen_gemm<kRow, kRow>(rows, cols, depth, alpha, a, lda, b, ldb, c, ldc, k);
  }
}

Gemm::~Gemm() = default;

const std::vector<Kernel>& available_kernels() {
#ifdef SWARM_OPENBLAS
  static const std::vector<Kernel> kernels{Kernel::OpenBlas, Kernel::Eigen};
#else
  static const std::vector<Kernel> kernels{Kernel::Eigen};
#endif
  return kernels;
}

std::string kernel_identity(Kernel kernel) {
  if (kernel == Kernel::Eigen) {
    return "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
           std::to_string(EIGEN_MINOR_VERSION) + " (" + Eigen::SimdInstructionSetsInUse() + ")";
  }
#ifdef SWARM_OPENBLAS
  return openblas_get_config();
#else
  return "OpenBLAS (not in this build)";
#endif
}

}  // namespace swarm::ml
