#include "swarm/registry.hpp"

#include "swarm/error.hpp"

namespace swarm {

void ModuleRegistry::add(const std::string& name, ModuleFn fn) {
  if (!modules_.emplace(name, std::move(fn)).second) {
    throw GraphError("module '" + name + "' is registered twice");
  }
}

const ModuleFn* ModuleRegistry::find(std::string_view name) const {
  auto it = modules_.find(name);
  return it == modules_.end() ? nullptr : &it->second;
}

std::vector<std::string> ModuleRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, fn] : modules_) out.push_back(name);
  return out;
}

}  // namespace swarm
