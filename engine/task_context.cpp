#include "swarm/task_context.hpp"

#include <algorithm>

namespace swarm {

TaskContext::TaskContext(const InstanceSpec& spec, const StateReader& state,
                         const LocalData& local, spdlog::logger& logger, int threads)
    : spec_(spec), state_(state), local_(local), logger_(logger), threads_(std::max(1, threads)),
      rng_(spec.seed) {}

void TaskContext::count_read(const std::string& key, const Blob& blob) {
  if (read_keys_.insert(key).second) output_.bytes_read += blob.size();
}

Blob TaskContext::Globals::get(const std::string& key) {
  auto& writes = ctx_.output_.global_writes;
  for (auto it = writes.rbegin(); it != writes.rend(); ++it) {
    if (it->first == key) return it->second;
  }
  std::optional<Blob> value = ctx_.state_.global(key);
  if (!value) throw TaskError("global '" + key + "' is not set");
  ctx_.count_read("global:" + key, *value);
  return *value;
}

Dict TaskContext::Globals::get_dict(const std::string& key) {
  try {
    Dict value = to_dict(get(key));
    if (value.is_null()) return Dict::object();
    return value;
  } catch (const FormatError& e) {
    throw TaskError("global '" + key + "': " + e.what());
  }
}

bool TaskContext::Globals::contains(const std::string& key) const {
  const auto& writes = ctx_.output_.global_writes;
  return std::any_of(writes.begin(), writes.end(), [&](const auto& w) { return w.first == key; }) ||
         ctx_.state_.global(key).has_value();
}

void TaskContext::Globals::set(const std::string& key, Blob value) {
  ctx_.output_.global_writes.emplace_back(key, std::move(value));
}

void TaskContext::Globals::set(const std::string& key, const Dict& value) {
  set(key, dict_blob(value.is_null() ? Dict::object() : value));
}

void TaskContext::Results::add(const std::string& tag, Blob value) {
  ctx_.output_.results.emplace_back(tag, std::move(value));
}

void TaskContext::Results::add(const std::string& tag, const Dict& value) {
  add(tag, dict_blob(value.is_null() ? Dict::object() : value));
}

std::map<NodeId, Blob> TaskContext::Results::select(const std::string& tag, Scope scope) {
  std::map<NodeId, Blob> out = ctx_.state_.select(tag, scope, ctx_.spec_.task);
  for (const auto& [node, blob] : out) {
    ctx_.count_read("result:" + tag + "@" + std::to_string(node), blob);
  }
  return out;
}

void TaskContext::schedule_next_iter(std::vector<NodeId> node_ids, const std::string& alias) {
  if (!state_.has_alias(alias)) {
    throw TaskError("schedule_next_iter: no task has the alias '" + alias + "'");
  }
  output_.schedule.emplace_back(alias, std::move(node_ids));
}

std::string TaskContext::where() const {
  return spec_.node == kServerNode ? std::string("the server") : "node " + std::to_string(spec_.node);
}

const std::any& TaskContext::find_dataset(const std::string& name) const {
  auto it = local_.find(name);
  if (it == local_.end()) throw TaskError(where() + " holds no dataset '" + name + "'");
  return it->second;
}

Completion run_instance(const ModuleFn& fn, const InstanceSpec& spec, const StateReader& state,
                        const LocalData& local, spdlog::logger& logger, int threads) {
  Completion c;
  c.spec = spec;
  TaskContext ctx(spec, state, local, logger, threads);
  try {
    fn(ctx);
    c.status = InstanceStatus::Ok;
    c.output = std::move(ctx.output());
  } catch (const Diverged& e) {
    c.status = InstanceStatus::Failed;
    c.diverged = true;
    c.error = e.what();
  } catch (const std::exception& e) {
    c.status = InstanceStatus::Failed;
    c.error = e.what();
  } catch (...) {
    c.status = InstanceStatus::Failed;
    c.error = "unknown exception";
  }
  return c;
}

}  // namespace swarm
