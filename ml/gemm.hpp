#pragma once
// The single-precision matrix products of the MLP: c = alpha op(a) op(b) + beta c, column-major.
//
// They go through Debian's OpenBLAS (libopenblas-pthread-dev, set to one thread per product)
// when the project is built with SWARM_OPENBLAS (the default), else through Eigen's own GEMM
// kernel. On the project machine OpenBLAS's kernel runs a training step at batch 64 about
// 1.4x faster (bench/README.md). Either way a product runs on the calling thread (the
// engine's parallelism is across task instances), several threads may run products at once,
// and the same operands give the same bits, so results do not depend on the thread count.

#include <Eigen/Core>
#include <memory>

namespace swarm::ml {

enum class Op { Plain, Transposed };

class Gemm {
 public:
  // A product of at most max_rows x max_depth times max_depth x max_cols. With Eigen, its
  // packing buffers are allocated here, once: Eigen's public products allocate them on every
  // call once they exceed EIGEN_STACK_ALLOCATION_LIMIT, which the first layer's do.
  Gemm(Eigen::Index max_rows, Eigen::Index max_cols, Eigen::Index max_depth);
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

 private:
  struct Packing;
  std::unique_ptr<Packing> packing_;  // Eigen's buffers; unused with OpenBLAS
};

// Which kernel Gemm uses, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64"
// or "Eigen 3.4.0".
const char* gemm_backend();

}  // namespace swarm::ml
