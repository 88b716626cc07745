#pragma once
// Time at the engine's interfaces: integer nanoseconds, as in the simulator (sim/time.hpp).
// An int64_t of nanoseconds spans about 292 years either side of zero, exact to the
// nanosecond, so that the order of events never depends on floating-point rounding.
// Seconds (double) appear only at the edges: scenario files, reports, results.

#include <cmath>
#include <cstdint>
#include <string>

#include "swarm/error.hpp"

namespace swarm {

// Nanoseconds on a backend's clock (since the run began) or a duration.
using Nanos = int64_t;

inline double to_seconds(Nanos ns) { return static_cast<double>(ns) * 1e-9; }

// `s` seconds rounded to the nearest nanosecond (halfway cases away from zero). Throws
// UsageError if `s` is not finite or does not fit in an int64_t of nanoseconds.
inline Nanos nanos_from_seconds(double s) {
  // 2^63 is exactly representable; every double strictly below it (and >= -2^63) fits.
  constexpr double kLimit = 9223372036854775808.0;
  if (!std::isfinite(s)) throw UsageError("time of " + std::to_string(s) + " seconds is not a finite number");
  const double ns = std::round(s * 1e9);
  if (!(ns >= -kLimit && ns < kLimit)) {
    throw UsageError("time of " + std::to_string(s) + " seconds is out of range (at most about 292 years)");
  }
  return static_cast<Nanos>(ns);
}

}  // namespace swarm
