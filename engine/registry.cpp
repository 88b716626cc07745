#include "swarm/registry.hpp"

#include "engine/text.hpp"
#include "swarm/error.hpp"

namespace swarm {

std::string unknown_name_message(std::string_view kind, std::string_view name,
                                 const std::vector<std::string>& names) {
  return "unknown " + std::string(kind) + " '" + std::string(name) + "'" + did_you_mean(name, names) +
         " (known: " + (names.empty() ? std::string("none") : join(names)) + ")";
}

void throw_registry_error(const std::string& message) { throw UsageError(message); }

}  // namespace swarm
