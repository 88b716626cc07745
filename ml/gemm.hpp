#pragma once
// The single-precision matrix products of the MLP: c = alpha op(a) op(b) + beta c, column-major.
//
// Each Gemm runs on one kernel (swarm/ml/kernel.hpp): Debian's OpenBLAS (libopenblas-pthread,
// set to one thread per product; built with SWARM_OPENBLAS, the default) or Eigen's own GEMM
// kernel. Either way a product runs on the calling thread (the engine's parallelism is across
// task instances), several threads may run products at once, and the same operands on the
// same kernel give the same bits, so results do not depend on the thread count.

#include <memory>

#include "swarm/ml/eigen.hpp"
#include "swarm/ml/kernel.hpp"

namespace swarm::ml {

enum class Op { Plain, Transposed };

class Gemm {
 public:
  // A product of at most max_rows x max_depth times max_depth x max_cols on `kernel`. With
  // Eigen, its packing buffers are allocated here, once: Eigen's public products allocate them
  // on every call once they exceed EIGEN_STACK_ALLOCATION_LIMIT, which the first layer's do.
  // Throws swarm::UsageError for a kernel this build lacks.
  Gemm(Kernel kernel, Eigen::Index max_rows, Eigen::Index max_cols, Eigen::Index max_depth);
  // On default_kernel().
  Gemm(Eigen::Index max_rows, Eigen::Index max_cols, Eigen::Index max_depth)
      : Gemm(default_kernel(), max_rows, max_cols, max_depth) {}
  ~Gemm();
  Gemm(const Gemm&) = delete;
  Gemm& operator=(const Gemm&) = delete;

  // c = alpha * op_a(a) * op_b(b) + beta * c, c rows x cols with leading dimension ldc, as
  // BLAS's sgemm: op_a(a) is rows x depth, a itself (lda >= rows) or the transpose of a
  // depth x rows a (lda >= depth); likewise op_b(b) is depth x cols. With beta = 0, c is only
  // written (its old values, even NaNs, do not matter).
  // REQUIRES: rows, cols, depth at most the constructor's.
  void run(Op op_a, Op op_b, Eigen::Index rows, Eigen::Index cols, Eigen::Index depth, float alpha,
           const float* a, Eigen::Index lda, const float* b, Eigen::Index ldb, float beta, float* c,
           Eigen::Index ldc);

  Kernel kernel() const { return kernel_; }

 private:
  struct Packing;
  Kernel kernel_;
  std::unique_ptr<Packing> packing_;  // Eigen's buffers; null with OpenBLAS
};

}  // namespace swarm::ml
