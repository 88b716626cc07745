#include "swarm/inprocess_backend.hpp"

#include <algorithm>

namespace swarm {

InProcessBackend::InProcessBackend(const ModuleRegistry& registry, std::vector<LocalNode> nodes,
                                   int threads, std::shared_ptr<spdlog::logger> logger, LocalData server_data)
    : registry_(registry),
      nodes_(std::move(nodes)),
      server_data_(std::move(server_data)),
      threads_(threads),
      logger_(std::move(logger)),
      epoch_(std::chrono::steady_clock::now()) {
  if (threads_ < 1) throw UsageError("threads must be >= 1, got " + std::to_string(threads_));
  if (nodes_.empty()) throw UsageError("a swarm needs at least one node");
  std::sort(nodes_.begin(), nodes_.end(), [](const LocalNode& a, const LocalNode& b) { return a.id < b.id; });
  for (size_t i = 1; i < nodes_.size(); ++i) {
    if (nodes_[i].id == nodes_[i - 1].id) {
      throw UsageError("two nodes have the id " + std::to_string(nodes_[i].id));
    }
  }
  if (nodes_.back().id == kServerNode) {
    throw UsageError("node id " + std::to_string(kServerNode) + " is the server's");
  }
  traits_.resize(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    for (const auto& entry : nodes_[i].data) traits_[i].datasets.push_back(entry.first);  // a map: sorted
  }
}

const LocalNode* InProcessBackend::find(NodeId id) const {
  auto it = std::lower_bound(nodes_.begin(), nodes_.end(), id,
                             [](const LocalNode& a, NodeId v) { return a.id < v; });
  return it != nodes_.end() && it->id == id ? &*it : nullptr;
}

std::vector<NodeId> InProcessBackend::node_ids() {
  std::vector<NodeId> out;
  out.reserve(nodes_.size());
  for (const LocalNode& n : nodes_) out.push_back(n.id);
  return out;
}

std::vector<NodeDescriptor> InProcessBackend::available_nodes() {
  std::vector<NodeDescriptor> out;
  out.reserve(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const LocalNode& n = nodes_[i];
    out.push_back({n.id, n.flops, n.cores, n.memory_bytes, &traits_[i]});
  }
  return out;
}

void InProcessBackend::start(const InstanceSpec& spec, std::shared_ptr<const StateReader> state) {
  pending_.push_back({spec, std::move(state)});
}

void InProcessBackend::cancel(uint64_t instance_id) {
  auto is = [instance_id](const auto& x) { return x.spec.id == instance_id; };
  std::erase_if(pending_, is);
  std::erase_if(done_, is);
}

Nanos InProcessBackend::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - epoch_).count();
}

BackendEvent InProcessBackend::wait(const WaitFor&) {
  if (done_.empty() && !pending_.empty()) {
    const Nanos start = now_ns();
    DataProvider data = [this](NodeId id) {
      if (id == kServerNode) return server_data_;
      const LocalNode* n = find(id);
      if (!n) throw UsageError("node " + std::to_string(id) + " does not exist");
      return n->data;
    };
    std::vector<Completion> batch = run_batch(registry_, pending_, data, threads_, *logger_);
    pending_.clear();
    for (Completion& c : batch) {
      c.start_ns = start;
      c.end_ns = start + c.wall_ns;
      done_.push_back(std::move(c));
    }
  }
  if (done_.empty()) return Idle{};
  Completion c = std::move(done_.front());
  done_.pop_front();
  return c;
}

}  // namespace swarm
