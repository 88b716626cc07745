#pragma once
// Private to results/: how a sweep point's value (YAML text) is typed when stored or reported.

#include <string>

#include <nlohmann/json.hpp>

namespace swarm::results::detail {

// `text` as a JSON value: an integer or a finite number when all of it parses as one
// ("20", "0.1", "1e-3"), a boolean for "true" / "false", else the text itself ("krum",
// "[64, 64]", "0x10").
nlohmann::json typed_point_value(const std::string& text);

// Back to text: a string as it is, anything else in its shortest JSON form ("0.1", "20").
std::string point_value_text(const nlohmann::json& value);

}  // namespace swarm::results::detail
