#include "scenario/declared_swarm.hpp"

#include <set>

#include "engine/error.hpp"

namespace swarm::scenario {

DeclaredSwarm::DeclaredSwarm(std::vector<TaskDecl> tasks, std::vector<EdgeDecl> edges,
                             std::map<std::string, Blob> globals, const std::string& image)
    : decls_(std::move(tasks)), edges_(std::move(edges)) {
  for (const TaskDecl& t : decls_) tasks_[t.alias] = task(Module{t.module, image}, t.options);
  for (auto& [key, value] : globals) set_global(key, std::move(value));
}

TaskRef DeclaredSwarm::execute() {
  std::map<std::string, std::vector<Dependency>> inputs;
  std::set<std::string> has_successor;
  for (const EdgeDecl& e : edges_) {
    auto from = tasks_.find(e.from), to = tasks_.find(e.to);
    if (from == tasks_.end() || to == tasks_.end()) {
      throw GraphError("edge '" + e.from + "' -> '" + e.to + "': no task has the alias '" +
                       (from == tasks_.end() ? e.from : e.to) + "'");
    }
    inputs[e.to].emplace_back(from->second, e.edge);
    has_successor.insert(e.from);
  }
  TaskRef last;
  for (const TaskDecl& d : decls_) {
    TaskRef t = tasks_.at(d.alias);
    const std::vector<Dependency>& deps = inputs[d.alias];
    if (deps.empty()) t();
    for (const Dependency& dep : deps) t(dep);
    if (!has_successor.count(d.alias)) last = t;
  }
  return last;
}

}  // namespace swarm::scenario
