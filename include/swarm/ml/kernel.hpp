#pragma once
// The GEMM kernels the MLP's matrix products can run on, and the choice between them.
//
// Two kernels are built in: OpenBLAS's (Debian's libopenblas-pthread, one thread per product)
// and Eigen's own. Which is faster depends on the CPU (on one AVX-512 machine Eigen's runs
// the 64x784x200 product 1.4x faster, on an AVX2 one OpenBLAS's is the faster), so a run
// picks at start: choose_kernel() times a training step of the model on each kernel and takes
// the faster, unless the scenario (training.kernel) or --kernel names one. Kernels sum in
// different orders and give different numbers: a run records its kernel, and the same kernel,
// seed and scenario give the same numbers on any thread count.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace swarm::ml {

enum class Kernel { OpenBlas, Eigen };

// "openblas" or "eigen": the names of the scenario key and the --kernel flag.
std::string_view kernel_name(Kernel kernel);
// The kernel of that name; none for another text.
std::optional<Kernel> parse_kernel(std::string_view name);

// The kernels this build has, the default first: OpenBLAS's and Eigen's, or only Eigen's in a
// build configured with -DSWARM_OPENBLAS=OFF.
const std::vector<Kernel>& available_kernels();
// The kernel products use when nothing chose one: the first of available_kernels().
Kernel default_kernel();

// What the kernel's numbers depend on, for records and for real nodes, which must compute as
// the coordinator does: "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64" (its
// core type follows the CPU and OPENBLAS_CORETYPE) or "Eigen 3.4.0 (AVX2, FMA, ...)" (the
// instruction sets this build was compiled for).
std::string kernel_identity(Kernel kernel);

// A single-precision product as Gemm::run computes it (column-major, BLAS's sgemm arguments),
// for the self-check; `transpose_a`/`transpose_b` select op(a) = a^T / op(b) = b^T.
using ProductFn = std::function<void(bool transpose_a, bool transpose_b, int rows, int cols, int depth, float alpha,
                                     const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc)>;

// Compares small products of `product` (every transposition, beta 0 and not, leading
// dimensions larger than the shapes) with a double-precision reference. Returns "" when every
// value is within float rounding of the reference, else what was wrong ("c(3,5) of a^T b with
// beta 0: 12.5, expected 0.73").
std::string check_products(const ProductFn& product);
// check_products() of the kernel's own products; run once per kernel and process (cached).
std::string check_kernel(Kernel kernel);

// What a run asks for: a kernel by name, or the faster one here.
struct KernelRequest {
  std::optional<Kernel> kernel;  // none: choose the faster
};

struct KernelChoice {
  Kernel kernel = Kernel::Eigen;
  // How it was chosen, for the run header: "named", or "fastest: 143 vs 102 GFLOP/s (eigen vs
  // openblas, a training step of 784-200-200-10 at batch 64)".
  std::string reason;
};

// The kernel a run of an MLP of `layers` trained at `batch` uses. A named kernel is checked
// (check_kernel) and refused with a UsageError when it computes wrong products or is not built
// in. Otherwise every kernel that passes the check is timed on a training step of the model
// (interleaved, best of several, a few ms in all) and the fastest is taken, keeping the default
// unless another is at least 10% faster, so that near-ties do not flip between invocations.
// The choice is remembered per (layers, batch) for the process: runs of one sweep with the
// same model agree. Thread-safe. Throws swarm::Error when no kernel computes right.
KernelChoice choose_kernel(const KernelRequest& request, const std::vector<int>& layers, int batch);

}  // namespace swarm::ml
