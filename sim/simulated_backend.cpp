#include "sim/simulated_backend.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "swarm/seed.hpp"
#include "sim/huge_pages.hpp"

namespace swarm::sim {
namespace {

// Domain of the per-instance fault and noise streams under the instance seed.
constexpr uint64_t kSimStream = 0x73696dULL;  // "sim"

std::unique_ptr<NetworkModel> make_network(const SimOptions& o) {
  return o.network == NetworkKind::Constant ? make_constant_network(o.server)
                                            : make_maxmin_network(o.server, o.tcp);
}

void check_probability(double p, const char* name) {
  if (!(p >= 0 && p <= 1)) {
    throw UsageError(std::string(name) + " must be in [0, 1], got " + std::to_string(p));
  }
}

}  // namespace

SimulatedBackend::SimulatedBackend(const ModuleRegistry& registry, const Population& population,
                                   DataProvider data, SimOptions options,
                                   std::shared_ptr<spdlog::logger> logger)
    : registry_(registry),
      population_(population),
      data_(std::move(data)),
      options_(options),
      logger_(std::move(logger)),
      network_(make_network(options)),
      availability_(population.profiles(), population.profile_assignment(), options.seed) {
  if (options_.threads < 1) throw UsageError("threads must be >= 1");
  if (!(options_.server_flops > 0)) throw UsageError("server_flops must be > 0");
  check_probability(options_.crash_probability, "crash probability");
  check_probability(options_.transfer_failure_probability, "transfer failure probability");
  network_->reserve_nodes(population_.size());
  for (uint32_t i = 0; i < population_.size(); ++i) {
    network_->set_node_links(i, {population_.up_bytes_per_s(i), population_.down_bytes_per_s(i),
                                 SimTime::from_seconds(population_.latency_s(i))});
  }
}

SimulatedBackend::~SimulatedBackend() = default;

std::vector<NodeId> SimulatedBackend::node_ids() {
  std::vector<NodeId> out;
  reserve_huge(out, population_.size());  // placement draws from it at random
  out.resize(population_.size());
  for (uint32_t i = 0; i < out.size(); ++i) out[i] = i;
  return out;
}

void SimulatedBackend::add_if_available(uint32_t node, SimTime now, std::vector<NodeDescriptor>& out) {
  if (availability_.is_on(node, now)) out.push_back({node, population_.flops(node)});
}

std::vector<NodeDescriptor> SimulatedBackend::available_nodes() {
  std::vector<NodeDescriptor> out;
  const SimTime now = sim_.now();
  for (uint32_t i = 0; i < population_.size(); ++i) {
    add_if_available(i, now, out);
  }
  return out;
}

std::vector<NodeDescriptor> SimulatedBackend::available_among(std::span<const NodeId> ids) {
  std::vector<NodeDescriptor> out;
  const SimTime now = sim_.now();
  for (NodeId id : ids) {
    if (id >= population_.size()) continue;
    add_if_available(static_cast<uint32_t>(id), now, out);
  }
  return out;
}

std::vector<NodeDescriptor> SimulatedBackend::fastest_available(size_t count) {
  if (by_speed_.size() != population_.size()) {
    // Sorted as (id, flops) pairs side by side: sorting ids that look their speed up is
    // several times slower on millions of nodes (a cache miss per comparison).
    struct Speed {
      uint32_t id;
      double flops;
    };
    std::vector<Speed> all(population_.size());
    for (uint32_t i = 0; i < all.size(); ++i) all[i] = {i, population_.flops(i)};
    std::sort(all.begin(), all.end(), [](const Speed& a, const Speed& b) {
      return a.flops != b.flops ? a.flops > b.flops : a.id < b.id;  // Backend::faster
    });
    by_speed_.resize(all.size());
    for (size_t k = 0; k < all.size(); ++k) by_speed_[k] = all[k].id;
  }
  std::vector<NodeDescriptor> out;
  const SimTime now = sim_.now();
  for (size_t k = 0; k < by_speed_.size() && out.size() < count; ++k) {
    const uint32_t i = by_speed_[k];
    add_if_available(i, now, out);
  }
  std::sort(out.begin(), out.end(), [](const NodeDescriptor& a, const NodeDescriptor& b) { return a.id < b.id; });
  return out;
}

void SimulatedBackend::start(const InstanceSpec& spec, std::shared_ptr<const StateReader> state) {
  pending_.push_back({spec, std::move(state)});
  pending_start_.push_back(sim_.now());
}

double SimulatedBackend::uniform(InFlight& f) {
  const uint64_t bits = mix64(derive_seed(f.completion.spec.seed, {kSimStream, f.draws++}));
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

void SimulatedBackend::record(const InFlight& f, const char* event, uint64_t bytes) {
  if (!options_.record_trace) return;
  const InstanceSpec& s = f.completion.spec;
  trace_.push_back({sim_.now().seconds(), s.node, event, s.alias, s.id, bytes});
}

void SimulatedBackend::schedule_batch() {
  std::vector<Completion> done = run_batch(registry_, pending_, data_, options_.threads, *logger_);
  for (size_t i = 0; i < done.size(); ++i) {
    const uint64_t id = done[i].spec.id;
    InFlight& f = in_flight_[id];
    f.completion = std::move(done[i]);
    f.started = pending_start_[i];
    f.completion.start_ns = f.started.ns();
    f.faulty = options_.fault_tasks.empty() ||
               std::find(options_.fault_tasks.begin(), options_.fault_tasks.end(),
                         f.completion.spec.alias) != options_.fault_tasks.end();
    record(f, "start");
    if (f.completion.status != InstanceStatus::Ok) {  // the code threw: report at once
      finish(id);
      continue;
    }
    const NodeId node = f.completion.spec.node;
    if (node == kServerNode) {
      f.faulty = false;
      begin_compute(id);
      continue;
    }
    if (!availability_.is_on(node, sim_.now())) {
      lose(id, LossCause::Offline);
      continue;
    }
    const SimTime off = availability_.next_change(node, sim_.now());
    if (off != SimTime::max()) {
      f.events.push_back(sim_.schedule_at(off, [this, id] { lose(id, LossCause::Offline); }));
    }
    begin_transfer(id, Direction::Download, static_cast<double>(f.completion.output.bytes_read));
  }
  pending_.clear();
  pending_start_.clear();
}

void SimulatedBackend::begin_transfer(uint64_t id, Direction dir, double bytes) {
  InFlight& f = in_flight_.at(id);
  f.phase = dir == Direction::Download ? Phase::Download : Phase::Upload;
  sync_network();
  f.flow = network_->start_flow(sim_.now(), f.completion.spec.node, dir, bytes);
  flow_owner_[f.flow] = id;
  if (f.faulty && options_.transfer_failure_probability > 0 && uniform(f) < options_.transfer_failure_probability) {
    const NodeId node = f.completion.spec.node;
    const double bw = dir == Direction::Download ? population_.down_bytes_per_s(node)
                                                 : population_.up_bytes_per_s(node);
    const double nominal = population_.latency_s(node) + options_.server.latency.seconds() + bytes / bw;
    const SimTime at = sim_.now() + SimTime::from_seconds(uniform(f) * nominal);
    const FlowId flow = f.flow;
    f.events.push_back(sim_.schedule_at(at, [this, id, flow] {
      if (in_flight_.at(id).flow == flow) lose(id, LossCause::Transfer);  // else: already done
    }));
  }
  sync_network();
}

void SimulatedBackend::begin_compute(uint64_t id) {
  InFlight& f = in_flight_.at(id);
  f.phase = Phase::Compute;
  f.flow = 0;
  const NodeId node = f.completion.spec.node;
  const bool on_server = node == kServerNode;
  if (!on_server) record(f, "download_done", f.completion.output.bytes_read);
  double seconds = static_cast<double>(f.completion.output.flops) /
                   (on_server ? options_.server_flops : population_.flops(node));
  const double sigma = on_server ? 0.0 : population_.profile(node).compute_noise;
  if (sigma > 0) {
    // Box-Muller from two draws of the instance's stream.
    const double u1 = 1.0 - uniform(f), u2 = uniform(f);
    seconds *= std::exp(sigma * std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2));
  }
  const SimTime duration = SimTime::from_seconds(seconds);
  if (f.faulty && options_.crash_probability > 0 && uniform(f) < options_.crash_probability) {
    const SimTime at = sim_.now() + SimTime::from_seconds(uniform(f) * duration.seconds());
    f.events.push_back(sim_.schedule_at(at, [this, id] { lose(id, LossCause::Crash); }));
    return;
  }
  f.events.push_back(sim_.schedule_at(sim_.now() + duration, [this, id, on_server] {
    InFlight& g = in_flight_.at(id);
    record(g, "compute_done");
    if (on_server) {
      finish(id);
    } else {
      begin_transfer(id, Direction::Upload, static_cast<double>(g.completion.output.bytes_written()));
    }
  }));
}

void SimulatedBackend::clear_events(InFlight& f) {
  for (EventId e : f.events) sim_.cancel(e);  // those that already ran are no-ops
  f.events.clear();
  if (f.flow) {
    sync_network();
    network_->cancel_flow(sim_.now(), f.flow);
    flow_owner_.erase(f.flow);
    f.flow = 0;
    sync_network();
  }
}

void SimulatedBackend::finish(uint64_t id) {
  auto it = in_flight_.find(id);
  InFlight& f = it->second;
  clear_events(f);
  f.completion.end_ns = sim_.now().ns();
  record(f, f.completion.status == InstanceStatus::Ok ? "complete" : "failed",
         f.completion.status == InstanceStatus::Ok ? f.completion.output.bytes_written() : 0);
  ready_.push_back(std::move(f.completion));
  in_flight_.erase(it);
}

void SimulatedBackend::lose(uint64_t id, LossCause cause) {
  auto it = in_flight_.find(id);
  if (it == in_flight_.end()) return;
  InFlight& f = it->second;
  clear_events(f);
  record(f, to_string(cause));
  Completion c;
  c.spec = f.completion.spec;
  c.status = InstanceStatus::Lost;
  c.loss = cause;
  c.start_ns = f.started.ns();
  c.end_ns = sim_.now().ns();
  c.wall_ns = f.completion.wall_ns;
  ready_.push_back(std::move(c));
  in_flight_.erase(it);
}

void SimulatedBackend::sync_network() {
  if (network_event_) {
    sim_.cancel(*network_event_);
    network_event_.reset();
  }
  for (std::optional<SimTime> t = network_->next_event_time(); t && *t <= sim_.now();
       t = network_->next_event_time()) {
    for (FlowId done : network_->advance(*t)) {
      auto owner = flow_owner_.find(done);
      if (owner == flow_owner_.end()) continue;
      const uint64_t id = owner->second;
      flow_owner_.erase(owner);
      InFlight& f = in_flight_.at(id);
      f.flow = 0;
      if (f.phase == Phase::Download) {
        begin_compute(id);
      } else {
        finish(id);
      }
    }
  }
  if (std::optional<SimTime> t = network_->next_event_time()) {
    network_event_ = sim_.schedule_at(*t, [this] {
      network_event_.reset();
      sync_network();
    });
  }
}

BackendEvent SimulatedBackend::wait(const WaitFor& w) {
  if (!pending_.empty()) schedule_batch();
  const std::optional<SimTime> until =
      w.until_ns ? std::optional(SimTime::from_ns(*w.until_ns)) : std::nullopt;
  if (w.node_on && in_flight_.empty() && ready_.empty()) {
    const std::optional<std::pair<SimTime, NodeId>> on = next_on(*w.node_on);
    if (!on) return Idle{};
    if (until && *until < on->first) {
      sim_.run_until(std::max(*until, sim_.now()));
      return Timeout{};
    }
    sim_.run_until(on->first);
    return NodeEvent{NodeEvent::Kind::Changed, on->second};
  }
  while (ready_.empty()) {
    std::optional<SimTime> t = sim_.next_event_time();
    if (!t && in_flight_.empty()) return Idle{};
    if (until && (!t || *t > *until)) {
      sim_.run_until(std::max(*until, sim_.now()));
      return Timeout{};
    }
    if (!t) return Idle{};
    sim_.step();
  }
  Completion c = std::move(ready_.front());
  ready_.pop_front();
  return c;
}

std::optional<std::pair<SimTime, NodeId>> SimulatedBackend::next_on(std::span<const NodeId> candidates) {
  const SimTime now = sim_.now();
  std::optional<std::pair<SimTime, NodeId>> first;
  auto consider = [&](uint32_t i) {
    if (availability_.is_on(i, now)) return;
    const SimTime t = availability_.next_change(i, now);
    if (t != SimTime::max() && (!first || t < first->first)) first = {t, i};  // ids ascend: lowest on a tie
  };
  if (candidates.empty()) {
    for (uint32_t i = 0; i < population_.size(); ++i) consider(i);
  } else {
    for (NodeId id : candidates) {
      if (id < population_.size()) consider(static_cast<uint32_t>(id));
    }
  }
  return first;
}

void SimulatedBackend::cancel(uint64_t instance_id) {
  std::erase_if(ready_, [instance_id](const Completion& c) { return c.spec.id == instance_id; });
  for (size_t i = 0; i < pending_.size(); ++i) {
    if (pending_[i].spec.id == instance_id) {
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
      pending_start_.erase(pending_start_.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }
  auto it = in_flight_.find(instance_id);
  if (it == in_flight_.end()) return;
  clear_events(it->second);
  record(it->second, "cancelled");
  in_flight_.erase(it);
}

}  // namespace swarm::sim
