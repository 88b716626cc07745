#pragma once
// Small swarms, modules and a silent logger shared by the engine tests.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include "swarm/backend.hpp"
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

// A logger that drops everything, for backends and task contexts under test.
inline std::shared_ptr<spdlog::logger> quiet_logger() {
  return std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
}
inline spdlog::logger& quiet() {
  static const std::shared_ptr<spdlog::logger> logger = quiet_logger();
  return *logger;
}

// The completion a backend's wait() returned, or nullopt if it returned something else.
inline std::optional<Completion> completion(BackendEvent e) {
  if (Completion* c = std::get_if<Completion>(&e)) return std::move(*c);
  return std::nullopt;
}

}  // namespace swarm::testing
