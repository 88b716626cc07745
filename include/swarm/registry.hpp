#pragma once
// Things registered by name so that a scenario file, a graph or a command line can name them:
// task implementations ("fl.worker"), aggregation strategies ("fedavg"), backends ("sim"). One
// class template serves all three, so that every kind is added, looked up, listed and
// misspelt the same way. A registry is an object the program builds (swarm::Registries holds
// one of each, see registries.hpp); there is no process-wide registry.
//
// Thread safety: add() must not run concurrently with anything else; once filled, a registry
// is read-only and may be read from any number of threads.

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace swarm {

class TaskContext;

// The message for a name that `names` (of things of kind `kind`) lacks:
// "unknown aggregation strategy 'fedadm' (did you mean 'fedadam'?) (known: fedavg, ...)",
// the suggestion by swarm::did_you_mean (engine/text.hpp), as every "did you mean" of the
// project. Shared by every Registry.
std::string unknown_name_message(std::string_view kind, std::string_view name,
                                 const std::vector<std::string>& names);

// Entries of type `Entry` (a factory, a function, or a struct holding one) keyed by name.
template <typename Entry>
class Registry {
 public:
  // `kind` names what is registered, for messages: "module", "aggregation strategy".
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  // Throws UsageError if `name` is empty or already registered.
  void add(const std::string& name, Entry entry);
  // The entry, or nullptr when unknown. The pointer stays valid as more entries are added.
  const Entry* find(std::string_view name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &entries_[it->second].second;
  }
  bool contains(std::string_view name) const { return find(name) != nullptr; }
  // The entry; throws UsageError(unknown_message(name)) when unknown.
  const Entry& get(std::string_view name) const;
  // Registered names in registration order (the order help texts list them in).
  std::vector<std::string> names() const;
  // unknown_name_message for this registry's kind and names.
  std::string unknown_message(std::string_view name) const { return unknown_name_message(kind_, name, names()); }
  const std::string& kind() const { return kind_; }
  size_t size() const { return entries_.size(); }

 private:
  std::string kind_;
  std::deque<std::pair<std::string, Entry>> entries_;  // registration order; stable addresses
  std::map<std::string, size_t, std::less<>> index_;   // name -> position in entries_
};

// Throws UsageError with `message` (out of line: keeps error.hpp out of this header's users).
[[noreturn]] void throw_registry_error(const std::string& message);

template <typename Entry>
void Registry<Entry>::add(const std::string& name, Entry entry) {
  if (name.empty()) throw_registry_error("a " + kind_ + " needs a non-empty name");
  if (index_.count(name)) throw_registry_error(kind_ + " '" + name + "' is registered twice");
  index_.emplace(name, entries_.size());
  entries_.emplace_back(name, std::move(entry));
}

template <typename Entry>
const Entry& Registry<Entry>::get(std::string_view name) const {
  if (const Entry* e = find(name)) return *e;
  throw_registry_error(unknown_message(name));
}

template <typename Entry>
std::vector<std::string> Registry<Entry>::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& [name, entry] : entries_) out.push_back(name);
  return out;
}

// The body of a task instance. It reads and writes through the context only; throwing fails
// the instance with the exception's message.
using ModuleFn = std::function<void(TaskContext&)>;

// Task implementations by name; a graph names its tasks' modules from it (Swarm::build).
class ModuleRegistry : public Registry<ModuleFn> {
 public:
  ModuleRegistry() : Registry("module") {}
};

}  // namespace swarm
