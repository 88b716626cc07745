#pragma once
// Task implementations registered by name ("fl.worker"), so that a graph refers to modules by
// name and any binary built with a module can run it. A registry is an object the program
// builds; there is no process-wide registry.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace swarm {

class TaskContext;

// The body of a task instance. It reads and writes through the context only; throwing fails
// the instance with the exception's message.
using ModuleFn = std::function<void(TaskContext&)>;

class ModuleRegistry {
 public:
  // Throws GraphError if `name` is already registered.
  void add(const std::string& name, ModuleFn fn);
  // nullptr when unknown.
  const ModuleFn* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, ModuleFn, std::less<>> modules_;
};

}  // namespace swarm
