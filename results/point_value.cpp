#include "results/point_value.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace swarm::results::detail {

nlohmann::json typed_point_value(const std::string& text) {
  if (text == "true" || text == "false") return text == "true";
  if (text.empty()) return text;
  const char* end = text.data() + text.size();
  int64_t integer = 0;
  if (auto [at, ec] = std::from_chars(text.data(), end, integer); ec == std::errc() && at == end) return integer;
  double real = 0;
  if (auto [at, ec] = std::from_chars(text.data(), end, real); ec == std::errc() && at == end && std::isfinite(real)) {
    return real;
  }
  return text;
}

std::string point_value_text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

}  // namespace swarm::results::detail
