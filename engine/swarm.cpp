#include "swarm/swarm.hpp"

#include <algorithm>
#include <functional>
#include <cmath>
#include <set>
#include <sstream>

#include <boost/graph/adjacency_list.hpp>

#include "swarm/error.hpp"

namespace swarm {

// ---- Maximum ----

Maximum::Maximum(int count) {
  if (count == -1) return;  // unlimited
  kind_ = Kind::Count;
  count_ = count;
}

Maximum::Maximum(double fraction) : kind_(Kind::Fraction), fraction_(fraction) {}

int64_t Maximum::resolve(int64_t eligible) const {
  switch (kind_) {
    case Kind::Unlimited:
      return eligible;
    case Kind::Count:
      return std::min(count_, eligible);
    case Kind::Fraction:
      if (eligible == 0) return 0;
      return std::clamp<int64_t>(std::llround(fraction_ * static_cast<double>(eligible)), 1,
                                 eligible);
  }
  return eligible;
}

std::string Maximum::check() const {
  if (kind_ == Kind::Count && count_ < 1) {
    return "maximum must be a count >= 1, a fraction in (0, 1], or -1 for no cap; got " +
           std::to_string(count_);
  }
  if (kind_ == Kind::Fraction && !(fraction_ > 0.0 && fraction_ <= 1.0)) {
    std::ostringstream s;
    s << "maximum as a fraction must be in (0, 1]; got " << fraction_;
    return s.str();
  }
  return {};
}

std::string Maximum::to_string() const {
  std::ostringstream s;
  switch (kind_) {
    case Kind::Unlimited: s << "-1"; break;
    case Kind::Count: s << count_; break;
    case Kind::Fraction: s << fraction_; break;
  }
  return s.str();
}

// ---- edges ----

Dependency::Dependency(const TaskRef& from) : swarm(from.swarm_), from(from.index()) {}
Dependency::Dependency(const TaskRef& from, EdgeSpec edge)
    : swarm(from.swarm_), from(from.index()), edge(std::move(edge)) {}

Dependency on_result(const TaskRef& from, std::string tag, int min_results) {
  return Dependency(from, EdgeSpec{Condition::Result, std::move(tag), min_results});
}

TaskRef TaskRef::call(std::vector<Dependency> deps) const {
  if (!swarm_) throw GraphError("a task handle was called before task() created it");
  for (const Dependency& d : deps) {
    if (d.from < 0) throw GraphError("task '" + swarm_->tasks_[index_].alias() +
                                     "' was given an empty task handle as input");
    if (d.swarm != swarm_) {
      throw GraphError("task '" + swarm_->tasks_[index_].alias() + "' was given task '" +
                       d.swarm->tasks_[d.from].alias() +
                       "' of another swarm as input; a swarm's tasks take only its own tasks' handles");
    }
    swarm_->edges_.push_back({d.from, index_, d.edge});
  }
  return *this;
}

// ---- SwarmGraph ----

struct SwarmGraph::Impl {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, TaskSpec, EdgeSpec>;
  Graph graph;
  int terminal = -1;
  std::vector<int> order;
  std::map<std::string, Blob> globals;
};

int SwarmGraph::num_tasks() const { return impl_ ? static_cast<int>(boost::num_vertices(impl_->graph)) : 0; }
const TaskSpec& SwarmGraph::task(int i) const { return impl_->graph[static_cast<size_t>(i)]; }
int SwarmGraph::terminal() const { return impl_ ? impl_->terminal : -1; }

const std::vector<int>& SwarmGraph::topological_order() const {
  static const std::vector<int> kNone;
  return impl_ ? impl_->order : kNone;
}

const std::map<std::string, Blob>& SwarmGraph::initial_globals() const {
  static const std::map<std::string, Blob> kNone;
  return impl_ ? impl_->globals : kNone;
}

std::vector<std::pair<int, EdgeSpec>> SwarmGraph::in_edges(int i) const {
  std::vector<std::pair<int, EdgeSpec>> out;
  const Impl::Graph& g = impl_->graph;
  for (auto [it, end] = boost::in_edges(static_cast<size_t>(i), g); it != end; ++it) {
    out.emplace_back(static_cast<int>(boost::source(*it, g)), g[*it]);
  }
  return out;
}

std::vector<int> SwarmGraph::predecessors(int i) const {
  std::vector<int> out;
  for (auto& [p, e] : in_edges(i)) out.push_back(p);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<int> SwarmGraph::find(const std::string& alias) const {
  for (int i = 0; i < num_tasks(); ++i) {
    if (task(i).alias() == alias) return i;
  }
  return std::nullopt;
}

// ---- Swarm ----

TaskRef Swarm::task(Module module, TaskOptions options) {
  if (options.alias.empty()) options.alias = module.name;
  tasks_.push_back(TaskSpec{std::move(module), std::move(options)});
  return TaskRef(this, static_cast<int>(tasks_.size()) - 1);
}

void Swarm::set_global(const std::string& key, Blob value) { globals_[key] = std::move(value); }

void Swarm::set_global(const std::string& key, const Dict& value) {
  globals_[key] = dict_blob(value.is_null() ? Dict::object() : value);
}

namespace {

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

// Depth-first search for a cycle; returns its tasks in order (first repeated at the end).
std::vector<int> find_cycle(int n, const std::vector<std::vector<int>>& succ) {
  std::vector<int> colour(static_cast<size_t>(n), 0);  // 0 new, 1 on stack, 2 done
  std::vector<int> stack;
  std::vector<int> cycle;
  std::function<bool(int)> visit = [&](int v) {
    colour[v] = 1;
    stack.push_back(v);
    for (int w : succ[v]) {
      if (colour[w] == 1) {
        auto start = std::find(stack.begin(), stack.end(), w);
        cycle.assign(start, stack.end());
        cycle.push_back(w);
        return true;
      }
      if (colour[w] == 0 && visit(w)) return true;
    }
    stack.pop_back();
    colour[v] = 2;
    return false;
  };
  for (int v = 0; v < n; ++v) {
    if (colour[v] == 0 && visit(v)) return cycle;
  }
  return {};
}

}  // namespace

SwarmGraph Swarm::build(const ModuleRegistry& registry) {
  edges_.clear();
  TaskRef last = execute();
  const int n = static_cast<int>(tasks_.size());
  if (n == 0) throw GraphError("the swarm declares no task");
  if (!last.valid()) {
    throw GraphError("execute() must return the last task of an iteration (got an empty handle)");
  }
  if (last.swarm_ != this) {
    throw GraphError("execute() returned task '" + last.swarm_->tasks_[last.index()].alias() +
                     "' of another swarm; it must return the last task of this one");
  }

  std::map<std::string, int> seen;
  for (int i = 0; i < n; ++i) {
    const TaskSpec& t = tasks_[i];
    if (!registry.find(t.module.name)) {
      throw GraphError("task " + in_quotes(t.alias()) + ": " + registry.unknown_message(t.module.name));
    }
    if (auto [it, fresh] = seen.emplace(t.alias(), i); !fresh) {
      throw GraphError("two tasks have the alias " + in_quotes(t.alias()) +
                       " (modules " + in_quotes(tasks_[it->second].module.name) + " and " +
                       in_quotes(t.module.name) + "); give each task its own alias");
    }
    if (std::string why = t.options.maximum.check(); !why.empty()) {
      throw GraphError("task " + in_quotes(t.alias()) + ": " + why);
    }
  }

  std::vector<std::vector<int>> succ(static_cast<size_t>(n));
  std::vector<bool> touched(static_cast<size_t>(n), false);
  touched[last.index()] = true;
  for (const RecordedEdge& e : edges_) {
    if (e.edge.condition == Condition::Result) {
      if (e.edge.tag.empty()) {
        throw GraphError("edge " + in_quotes(tasks_[e.from].alias()) + " -> " +
                         in_quotes(tasks_[e.to].alias()) + ": a result condition needs a tag");
      }
      if (e.edge.min_results < 1) {
        throw GraphError("edge " + in_quotes(tasks_[e.from].alias()) + " -> " +
                         in_quotes(tasks_[e.to].alias()) + ": min_results must be >= 1");
      }
    }
    succ[e.from].push_back(e.to);
    touched[e.from] = touched[e.to] = true;
  }
  for (int i = 0; i < n; ++i) {
    if (!touched[i]) {
      throw GraphError("task " + in_quotes(tasks_[i].alias()) +
                       " is declared but execute() never calls it");
    }
  }
  if (std::vector<int> cycle = find_cycle(n, succ); !cycle.empty()) {
    std::string path;
    for (int v : cycle) path += (path.empty() ? "" : " -> ") + tasks_[v].alias();
    throw GraphError("cycle inside an iteration: " + path +
                     " (an iteration must be acyclic; it repeats by itself)");
  }
  std::vector<std::string> sinks;
  for (int i = 0; i < n; ++i) {
    if (succ[i].empty()) sinks.push_back(tasks_[i].alias());
  }
  if (!succ[last.index()].empty()) {
    throw GraphError("execute() returned " + in_quotes(tasks_[last.index()].alias()) +
                     ", which has successors; it must return the last task of the iteration");
  }
  if (sinks.size() != 1) {
    std::string names;
    for (const auto& s : sinks) names += (names.empty() ? "" : ", ") + in_quotes(s);
    throw GraphError("an iteration must end in one terminal task, but " + names +
                     " have no successor");
  }

  auto g = std::make_shared<SwarmGraph::Impl>();
  for (const TaskSpec& t : tasks_) boost::add_vertex(t, g->graph);
  for (const RecordedEdge& e : edges_) {
    boost::add_edge(static_cast<size_t>(e.from), static_cast<size_t>(e.to), e.edge, g->graph);
  }
  g->terminal = last.index();
  // Kahn's algorithm, smallest index first, so the order is the declaration order where the
  // graph allows it.
  std::vector<int> indegree(static_cast<size_t>(n), 0);
  for (const RecordedEdge& e : edges_) ++indegree[e.to];
  std::set<int> ready;
  for (int i = 0; i < n; ++i) if (indegree[i] == 0) ready.insert(i);
  while (!ready.empty()) {
    int v = *ready.begin();
    ready.erase(ready.begin());
    g->order.push_back(v);
    for (int w : succ[v]) if (--indegree[w] == 0) ready.insert(w);
  }
  g->globals = globals_;
  SwarmGraph graph;
  graph.impl_ = std::move(g);
  return graph;
}

}  // namespace swarm
