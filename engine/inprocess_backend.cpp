#include "engine/inprocess_backend.hpp"

#include <algorithm>

#include <omp.h>

namespace swarm {

InProcessBackend::InProcessBackend(const ModuleRegistry& registry, std::vector<LocalNode> nodes,
                                   int threads, std::shared_ptr<spdlog::logger> logger)
    : registry_(registry),
      nodes_(std::move(nodes)),
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
}

std::vector<NodeDescriptor> InProcessBackend::available_nodes() {
  std::vector<NodeDescriptor> out;
  out.reserve(nodes_.size());
  for (const LocalNode& n : nodes_) out.push_back({n.id, n.flops});
  return out;
}

void InProcessBackend::start(const InstanceSpec& spec, const StateReader& state) {
  pending_.push_back({spec, &state});
}

double InProcessBackend::now_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_).count();
}

void InProcessBackend::run_batch() {
  std::vector<Completion> batch(pending_.size());
  const auto n = static_cast<int64_t>(pending_.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_)
  for (int64_t i = 0; i < n; ++i) {
    const Pending& p = pending_[i];
    auto node = std::lower_bound(nodes_.begin(), nodes_.end(), p.spec.node,
                                 [](const LocalNode& a, NodeId id) { return a.id < id; });
    const double start = now_s();
    const ModuleFn* fn = registry_.find(p.spec.module);
    if (!fn || node == nodes_.end() || node->id != p.spec.node) {
      batch[i].spec = p.spec;
      batch[i].status = InstanceStatus::Failed;
      batch[i].error = !fn ? "module '" + p.spec.module + "' is not registered"
                           : "node " + std::to_string(p.spec.node) + " does not exist";
    } else {
      batch[i] = run_instance(*fn, p.spec, *p.state, node->data, *logger_);
    }
    batch[i].start_s = start;
    batch[i].end_s = now_s();
  }
  pending_.clear();
  for (Completion& c : batch) done_.push_back(std::move(c));
}

std::optional<Completion> InProcessBackend::next_completion() {
  if (done_.empty() && !pending_.empty()) run_batch();
  if (done_.empty()) return std::nullopt;
  Completion c = std::move(done_.front());
  done_.pop_front();
  return c;
}

}  // namespace swarm
