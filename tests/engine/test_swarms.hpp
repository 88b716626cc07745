#pragma once
// Small swarms and modules shared by the engine tests.

#include <functional>
#include <string>
#include <vector>

#include "swarm/registry.hpp"
#include "swarm/swarm.hpp"
#include "swarm/task_context.hpp"

namespace swarm::testing {

// A swarm whose graph is written by a lambda, for tests of graph building.
class LambdaSwarm : public Swarm {
 public:
  using Body = std::function<TaskRef(LambdaSwarm&)>;
  explicit LambdaSwarm(Body body) : body_(std::move(body)) {}
  TaskRef execute() override { return body_(*this); }
  TaskRef add(const std::string& module, TaskOptions options = {}) {
    return task(Module{module, "test:latest"}, std::move(options));
  }
  template <typename... Options>
  TaskRef named(const std::string& module, const Options&... options) {
    return task(Module{module, "test:latest"}, options...);
  }
  void global(const std::string& key, const Dict& value) { set_global(key, value); }

 private:
  Body body_;
};

// A registry with modules "noop", "a", "b", "c" that do nothing, plus whatever is added.
inline ModuleRegistry noop_registry() {
  ModuleRegistry r;
  for (const char* name : {"noop", "a", "b", "c"}) r.add(name, [](TaskContext&) {});
  return r;
}

}  // namespace swarm::testing
