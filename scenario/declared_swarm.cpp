#include "scenario/declared_swarm.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include "swarm/error.hpp"

namespace swarm::scenario {

DeclaredSwarm::DeclaredSwarm(std::vector<TaskDecl> tasks, std::vector<EdgeDecl> edges,
                             std::map<std::string, Blob> globals, const std::string& image)
    : decls_(std::move(tasks)), edges_(std::move(edges)) {
  for (const TaskDecl& t : decls_) tasks_[t.alias] = task(Module{t.module, image}, t.options);
  for (auto& [key, value] : globals) set_global(key, std::move(value));
}

namespace {

// The first cycle of the edges, as "a -> b -> a", or "" if they form none (depth-first
// search in declaration order, so the message is the same every time).
std::string find_cycle(const std::vector<TaskDecl>& decls, const std::vector<EdgeDecl>& edges) {
  std::map<std::string, std::vector<std::string>> next;
  for (const EdgeDecl& e : edges) next[e.from].push_back(e.to);
  enum class Mark { New, Open, Done };
  std::map<std::string, Mark> mark;
  std::vector<std::string> path;
  std::string cycle;
  std::function<bool(const std::string&)> visit = [&](const std::string& at) {
    mark[at] = Mark::Open;
    path.push_back(at);
    for (const std::string& to : next[at]) {
      if (mark[to] == Mark::Open) {
        auto start = std::find(path.begin(), path.end(), to);
        for (auto it = start; it != path.end(); ++it) cycle += *it + " -> ";
        cycle += to;
        return true;
      }
      if (mark[to] == Mark::New && visit(to)) return true;
    }
    path.pop_back();
    mark[at] = Mark::Done;
    return false;
  };
  for (const TaskDecl& d : decls) {
    if (mark[d.alias] == Mark::New && visit(d.alias)) return cycle;
  }
  return "";
}

}  // namespace

TaskRef DeclaredSwarm::execute() {
  if (std::string cycle = find_cycle(decls_, edges_); !cycle.empty()) {
    throw GraphError("the edges form a cycle (" + cycle + "): a round's tasks must run in an order where every "
                     "edge goes forward");
  }
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
