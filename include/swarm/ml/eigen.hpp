#pragma once
// Eigen's core, as every file of the project includes it.
//
// GCC 12 warns falsely (-Wmaybe-uninitialized, its bug 105593) inside its own AVX-512
// intrinsics once Eigen's products and reductions inline them: about 280 warnings a build on
// an AVX-512 machine, enough to hide a real one. The warning is turned off for the text of
// these headers only (GCC judges it by the location of the use, which lies in them); the
// project's own code keeps it.

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <Eigen/Core>
#pragma GCC diagnostic pop
#else
#include <Eigen/Core>
#endif
