#pragma once
// Simulated time. A SimTime counts nanoseconds in an int64_t: about 292 years either side of
// zero, exact to the nanosecond, so that event order never depends on floating-point rounding.
// Conversions from seconds happen once, at the boundary (scenario files, bandwidth divisions).

#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>

#include "swarm/time.hpp"

namespace swarm::sim {

class SimTime {
 public:
  constexpr SimTime() = default;  // zero

  static constexpr SimTime from_ns(int64_t ns) { return SimTime(ns); }
  // `s` seconds rounded to the nearest nanosecond (halfway cases away from zero).
  // Throws UsageError if `s` is not finite or does not fit in an int64_t of nanoseconds.
  static SimTime from_seconds(double s);
  static constexpr SimTime zero() { return SimTime(0); }
  // The largest representable time; useful as "never". Adding to it overflows.
  static constexpr SimTime max() { return SimTime(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t ns() const { return ns_; }
  double seconds() const { return to_seconds(ns_); }

  friend constexpr auto operator<=>(SimTime, SimTime) = default;
  friend constexpr bool operator==(SimTime, SimTime) = default;

  // REQUIRES: the result fits in an int64_t (not checked).
  friend constexpr SimTime operator+(SimTime a, SimTime b) { return SimTime(a.ns_ + b.ns_); }
  friend constexpr SimTime operator-(SimTime a, SimTime b) { return SimTime(a.ns_ - b.ns_); }
  constexpr SimTime& operator+=(SimTime d) {
    ns_ += d.ns_;
    return *this;
  }
  constexpr SimTime& operator-=(SimTime d) {
    ns_ -= d.ns_;
    return *this;
  }

  // Seconds with the nanoseconds written out exactly and trailing zeros dropped: "1.25s",
  // "-0.000000001s", "3s".
  std::string to_string() const;

 private:
  constexpr explicit SimTime(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

inline SimTime SimTime::from_seconds(double s) { return SimTime(nanos_from_seconds(s)); }

inline std::string SimTime::to_string() const {
  // Work on the magnitude as unsigned so that min() prints too.
  const bool negative = ns_ < 0;
  const uint64_t mag = negative ? 0 - static_cast<uint64_t>(ns_) : static_cast<uint64_t>(ns_);
  std::string out = negative ? "-" : "";
  out += std::to_string(mag / 1000000000u);
  uint64_t frac = mag % 1000000000u;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 9 - digits.size(), '0');
    digits.erase(digits.find_last_not_of('0') + 1);
    out += "." + digits;
  }
  return out + "s";
}

// a + b, or SimTime::max() if that overflows. REQUIRES: b >= 0.
constexpr SimTime add_saturated(SimTime a, SimTime b) {
  return b > SimTime::max() - a ? SimTime::max() : a + b;
}

inline std::ostream& operator<<(std::ostream& os, SimTime t) { return os << t.to_string(); }

}  // namespace swarm::sim
