#include "deploy/coordinator.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "deploy/wire.hpp"
#include "swarm/state.hpp"

namespace swarm::deploy {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";

std::string z85(const void* key32) {
  char out[41];
  zmq_z85_encode(out, static_cast<const uint8_t*>(key32), 32);
  return out;
}

// A poll's timeout for `ns`, rounded up: a poll never wakes before what it waits for is due.
std::chrono::milliseconds poll_timeout(Nanos ns) { return std::chrono::milliseconds((ns + 999'999) / 1'000'000); }

std::string describe(NodeId id) { return id == kServerNode ? "the server" : "node " + std::to_string(id); }

}  // namespace

struct Coordinator::Sockets {
  zmq::context_t context{1};
  zmq::socket_t router{context, zmq::socket_type::router};
  zmq::socket_t zap{context, zmq::socket_type::rep};
  // The thread of the server's tasks says it is done (see run_server_batch).
  zmq::socket_t server_done_in{context, zmq::socket_type::pull}, server_done_out{context, zmq::socket_type::push};
  std::thread zap_thread;
  std::atomic<bool> stop{false};
};

Coordinator::Coordinator(const ModuleRegistry& modules, CoordinatorOptions options,
                         std::shared_ptr<spdlog::logger> logger, LocalData server_data)
    : modules_(modules),
      options_(std::move(options)),
      logger_(std::move(logger)),
      server_data_(std::move(server_data)),
      epoch_(std::chrono::steady_clock::now()),
      zmq_(std::make_unique<Sockets>()),
      nodes_(static_cast<size_t>(std::max<int64_t>(0, options_.nodes))) {
  if (options_.nodes < 1) throw UsageError("a deployment needs at least one node");
  if (!(options_.heartbeat_ns > 0) || !(options_.dead_after_ns > options_.heartbeat_ns)) {
    throw UsageError("the heartbeat interval must be > 0 and shorter than the time after which a node is dead");
  }
  const std::string done = "inproc://swarm-server-done-" + std::to_string(reinterpret_cast<uintptr_t>(this));
  zmq_->server_done_in.set(zmq::sockopt::linger, 0);
  zmq_->server_done_out.set(zmq::sockopt::linger, 0);
  zmq_->server_done_in.bind(done);
  zmq_->server_done_out.connect(done);
  zmq::socket_t& r = zmq_->router;
  r.set(zmq::sockopt::linger, 1000);
  r.set(zmq::sockopt::router_mandatory, 1);
  r.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options_.max_message_bytes));
  if (options_.curve) {
    if (!zmq_has("curve")) throw Error("this libzmq has no CURVE security");
    // The ZAP handler answers the handshake of every connecting node: allowed keys only.
    std::sort(options_.allowed_keys.begin(), options_.allowed_keys.end());
    zmq_->zap.bind(kZapEndpoint);
    zmq_->zap_thread = std::thread([this, allowed = options_.allowed_keys] {
      zmq::socket_t& zap = zmq_->zap;
      while (!zmq_->stop) {
        zmq::pollitem_t item{zap.handle(), 0, ZMQ_POLLIN, 0};
        if (!poll_interruptible(&item, 1, std::chrono::milliseconds(100)) || !(item.revents & ZMQ_POLLIN)) continue;
        std::vector<zmq::message_t> req;
        if (!zmq::recv_multipart(zap, std::back_inserter(req), zmq::recv_flags::dontwait)) continue;
        std::string status = "400", text = "malformed ZAP request", user;
        if (req.size() >= 7 && req[5].to_string() == "CURVE" && req[6].size() == 32) {
          const std::string key = z85(req[6].data());
          if (std::binary_search(allowed.begin(), allowed.end(), key)) {
            status = "200", text = "OK", user = key;
          } else {
            text = "key not allowed";
            logger_->warn("refused a connection from {} with a key not in the allowed folder: {}", req[3].to_string(), key);
          }
        }
        const std::string version = req.empty() ? "1.0" : req[0].to_string();
        const std::string request = req.size() > 1 ? req[1].to_string() : "";
        zap.send(zmq::buffer(version), zmq::send_flags::sndmore);
        zap.send(zmq::buffer(request), zmq::send_flags::sndmore);
        zap.send(zmq::buffer(status), zmq::send_flags::sndmore);
        zap.send(zmq::buffer(text), zmq::send_flags::sndmore);
        zap.send(zmq::buffer(user), zmq::send_flags::sndmore);
        zap.send(zmq::str_buffer(""), zmq::send_flags::none);
      }
    });
    r.set(zmq::sockopt::curve_server, 1);
    r.set(zmq::sockopt::curve_secretkey, options_.server_keys.secret_key);
    r.set(zmq::sockopt::zap_domain, "swarmsim");
  }
  try {
    r.bind(options_.bind);
  } catch (const zmq::error_t& e) {
    zmq_->stop = true;
    if (zmq_->zap_thread.joinable()) zmq_->zap_thread.join();
    throw Error("cannot bind " + options_.bind + ": " + e.what());
  }
  endpoint_ = r.get(zmq::sockopt::last_endpoint);
  logger_->info("coordinator listening on {} ({}), waiting for {} node(s)", endpoint_,
                options_.curve ? "CURVE" : "plain TCP", options_.nodes);
}

Coordinator::~Coordinator() { shutdown(); }

void Coordinator::shutdown() {
  if (!zmq_ || zmq_->stop) return;
  for (Node& n : nodes_) {
    if (!n.alive) continue;
    try {
      send(n, Bye{});
    } catch (const std::exception&) {  // the node is gone already
    }
  }
  zmq_->router.close();
  zmq_->stop = true;
  if (zmq_->zap_thread.joinable()) zmq_->zap_thread.join();
  for (Node& n : nodes_) n.alive = false;
}

Nanos Coordinator::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - epoch_).count();
}

bool Coordinator::send_to_peer(const std::string& routing_id, const Message& m, uint64_t* bytes) {
  uint64_t sent = 0;
  try {
    sent = send_message(zmq_->router, m, &routing_id);
  } catch (const zmq::error_t& e) {
    // The router is mandatory: a peer whose connection has closed (a killed node) is
    // unreachable. A node that comes back connects anew, under a new routing id.
    if (e.num() != EHOSTUNREACH) throw;
    return false;
  }
  wire_.bytes_sent += sent;
  ++wire_.messages_sent;
  if (bytes) *bytes = sent;
  return true;
}

bool Coordinator::send(Node& n, const Message& m, uint64_t* bytes) {
  uint64_t sent = 0;
  if (!send_to_peer(n.routing_id, m, &sent)) return false;
  n.bytes_sent += sent;
  if (bytes) *bytes = sent;
  return true;
}

void Coordinator::trace(const InstanceSpec& spec, Nanos at, std::string event, uint64_t bytes) {
  trace_.push_back({static_cast<double>(at) * 1e-9, spec.node, std::move(event), spec.alias, spec.id, bytes});
}

void Coordinator::describe_node(NodeId id, results::NodeRow& row) const {
  if (id >= nodes_.size()) return;
  const Node& n = nodes_[id];
  row.profile = "";
  row.flops_per_s = n.info.flops;
  // The run's kernel, which the node had to have to join; without a run kernel, what it offered.
  row.kernel = !options_.kernel.empty() ? options_.kernel : fmt::format("{}", fmt::join(n.info.kernels, "; "));
  row.wire_bytes_up = n.bytes_received;
  row.wire_bytes_down = n.bytes_sent;
}

void Coordinator::append_trace(std::vector<results::TraceRow>& out) const {
  out.insert(out.end(), trace_.begin(), trace_.end());
}

std::optional<results::WireTotals> Coordinator::wire_totals() const {
  return results::WireTotals{wire_.bytes_received, wire_.bytes_sent};
}

std::optional<results::DriverTimes> Coordinator::driver_times() const {
  return results::DriverTimes{now_ns(), waiting_ns_, server_ns_};
}

void Coordinator::poll_router(Nanos timeout) {
  const Nanos began = now_ns();
  zmq::pollitem_t item{zmq_->router.handle(), 0, ZMQ_POLLIN, 0};
  poll_interruptible(&item, 1, poll_timeout(timeout));
  waiting_ns_ += now_ns() - began;
}

Coordinator::Node* Coordinator::node_of(const std::string& routing_id) {
  for (Node& n : nodes_) {
    if (n.alive && n.routing_id == routing_id) return &n;
  }
  return nullptr;
}

bool Coordinator::receive() {
  bool any = false;
  while (std::optional<Received> r = receive_frames(zmq_->router)) {
    any = true;
    ++wire_.messages_received;
    if (r->frames.size() < 2) {
      ++wire_.messages_dropped;
      continue;
    }
    const uint64_t bytes = r->wire_bytes - framed_size(r->frames[0].size());
    wire_.bytes_received += bytes;
    const std::string routing_id = r->frames[0].to_string();
    std::string key;
    if (options_.curve) {
      try {
        key = r->frames[1].gets("User-Id");
      } catch (const zmq::error_t&) {
      }
    }
    Node* from = node_of(routing_id);
    const std::string who = from ? describe(from->info.node) : "an unregistered peer";
    try {
      handle(routing_id, key, decode_frames(r->frames, 1, options_.max_message_bytes), bytes);
    } catch (const ProtocolError& e) {
      ++wire_.messages_dropped;
      logger_->warn("dropped a message from {}: {}", who, e.what());
    }
    // A registration counts for the node it made.
    if (Node* n = from ? from : node_of(routing_id)) n->bytes_received += bytes;
  }
  return any;
}

void Coordinator::handle(const std::string& routing_id, const std::string& key, Message m, uint64_t bytes) {
  const Nanos now = now_ns();
  if (Register* reg = std::get_if<Register>(&m)) {
    auto refuse = [&](const std::string& why) {
      logger_->warn("refused node {}: {}", reg->node, why);
      send_to_peer(routing_id, Refused{why});
    };
    if (reg->node >= nodes_.size()) {
      return refuse("node id " + std::to_string(reg->node) + " is not one of this run's nodes (0 to " +
                    std::to_string(nodes_.size() - 1) + ")");
    }
    Node& n = nodes_[reg->node];
    if (n.alive && n.routing_id == routing_id) {  // a repeated registration: welcome again
      send(n, Welcome{static_cast<uint32_t>(options_.heartbeat_ns / 1'000'000), options_.kernel});
      return;
    }
    if (n.alive) return refuse("node id " + std::to_string(reg->node) + " is in use by another connection");
    if (options_.curve) {
      for (const Node& other : nodes_) {
        if (other.alive && other.key == key) {
          return refuse("its key is in use by node " + std::to_string(other.info.node) + "'s connection");
        }
      }
      if (!n.key.empty() && n.key != key) {
        return refuse("node " + std::to_string(reg->node) + " registered before with another key");
      }
    }
    if (!options_.kernel.empty() &&
        std::find(reg->kernels.begin(), reg->kernels.end(), options_.kernel) == reg->kernels.end()) {
      return refuse("the run computes on the GEMM kernel '" + options_.kernel + "' and the node has " +
                    (reg->kernels.empty() ? std::string("none") : "'" + fmt::format("{}", fmt::join(reg->kernels, "', '")) + "'") +
                    " (kernels give different numbers: build the node as the coordinator, set OPENBLAS_CORETYPE alike)");
    }
    const bool rejoin = n.last_seen > 0;
    n.alive = true;
    n.routing_id = routing_id;
    n.key = key;
    n.last_seen = now;
    n.info = *reg;
    n.traits.datasets = reg->datasets;
    send(n, Welcome{static_cast<uint32_t>(options_.heartbeat_ns / 1'000'000), options_.kernel});
    logger_->info("node {} {} ({} cores, {:.1f} GFLOP/s, kernels {}, datasets {})", reg->node,
                  rejoin ? "rejoined" : "registered", reg->cores, reg->flops / 1e9, fmt::join(reg->kernels, "; "),
                  fmt::join(reg->datasets, ","));
    if (rejoin) events_.push_back({NodeEvent::Kind::Changed, reg->node});
    return;
  }
  Node* n = node_of(routing_id);
  if (n == nullptr) {
    ++wire_.messages_dropped;
    logger_->debug("dropped a '{}' message from an unregistered peer", type_name(m));
    return;
  }
  n->last_seen = now;
  if (Done* d = std::get_if<Done>(&m)) {
    auto it = flights_.find(d->instance);
    if (it == flights_.end() || it->second.spec.node != n->info.node || it->second.done) {
      ++wire_.messages_dropped;
      logger_->warn("dropped a result from node {} for instance {}, which it is not running", n->info.node, d->instance);
      return;
    }
    Completion c;
    c.spec = it->second.spec;
    c.status = d->status;
    c.error = std::move(d->error);
    c.diverged = d->diverged;
    c.output = std::move(d->output);
    c.wall_ns = d->wall_ns;
    c.start_ns = it->second.started;
    c.end_ns = std::max(now, c.start_ns);
    trace(c.spec, c.end_ns, c.status == InstanceStatus::Ok ? "complete" : "failed", bytes);
    it->second.done = std::move(c);
  } else if (const ErrorReport* e = std::get_if<ErrorReport>(&m)) {
    logger_->warn("node {} refused a message: {}", n->info.node, e->reason);
  } else if (!std::holds_alternative<Heartbeat>(m)) {
    ++wire_.messages_dropped;
    logger_->warn("dropped a '{}' message from node {}: nodes do not send those", type_name(m), n->info.node);
  }
}

void Coordinator::declare_dead(NodeId id, const std::string& why) {
  Node& n = nodes_[id];
  n.alive = false;
  logger_->warn("node {} is dead: {}", id, why);
  events_.push_back({NodeEvent::Kind::Died, id});
  for (auto& [instance, f] : flights_) {
    if (f.spec.node != id || f.done) continue;
    Completion c;
    c.spec = f.spec;
    c.status = InstanceStatus::Lost;
    c.loss = LossCause::Crash;
    c.start_ns = f.started;
    c.end_ns = std::max(now_ns(), f.started);
    trace(c.spec, c.end_ns, to_string(LossCause::Crash));
    f.done = std::move(c);
  }
}

void Coordinator::heartbeat_and_reap() {
  const Nanos now = now_ns();
  if (now - last_heartbeat_ >= options_.heartbeat_ns) {
    last_heartbeat_ = now;
    for (Node& n : nodes_) {
      if (n.alive && !send(n, Heartbeat{})) declare_dead(n.info.node, "its connection closed");
    }
  }
  for (Node& n : nodes_) {
    if (n.alive && now - n.last_seen > options_.dead_after_ns) {
      declare_dead(n.info.node, "silent for " + std::to_string((now - n.last_seen) / 1'000'000) + " ms");
    }
  }
}

Nanos Coordinator::next_check_in(Nanos now) const {
  Nanos next = options_.heartbeat_ns - (now - last_heartbeat_);
  for (const Node& n : nodes_) {
    if (n.alive) next = std::min(next, n.last_seen + options_.dead_after_ns + 1 - now);
  }
  return std::max<Nanos>(next, 0);
}

void Coordinator::wait_for_nodes(const std::function<bool()>& give_up) {
  const Nanos deadline = now_ns() + options_.register_timeout_ns;
  for (;;) {
    if (std::all_of(nodes_.begin(), nodes_.end(), [](const Node& n) { return n.alive; })) return;
    std::string missing;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i].alive) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
    }
    if (give_up && give_up()) throw Error("gave up waiting for nodes " + missing + " to register");
    if (options_.interrupted && *options_.interrupted) throw Error("interrupted while waiting for nodes " + missing);
    const Nanos now = now_ns();
    if (now >= deadline) {
      throw Error(fmt::format("nodes {} did not register within {:g} s at {}", missing,
                              to_seconds(options_.register_timeout_ns), endpoint_));
    }
    poll_router(std::min({next_check_in(now), deadline - now, Nanos{100'000'000}}));
    receive();
    heartbeat_and_reap();
  }
}

std::vector<NodeId> Coordinator::node_ids() {
  std::vector<NodeId> out(nodes_.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<NodeId>(i);
  return out;
}

std::vector<NodeDescriptor> Coordinator::available_nodes() {
  std::vector<NodeDescriptor> out;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (n.alive) out.push_back({static_cast<NodeId>(i), n.info.flops, n.info.cores, n.info.memory_bytes, &n.traits});
  }
  return out;
}

void Coordinator::start(const InstanceSpec& spec, std::shared_ptr<const StateReader> state) {
  Flight& f = flights_[spec.id];
  f.spec = spec;
  f.started = now_ns();
  if (spec.node == kServerNode) {
    trace(spec, f.started, "start");
    server_pending_.push_back({spec, std::move(state)});
    return;
  }
  if (spec.node >= nodes_.size() || !nodes_[spec.node].alive) {
    Completion c;
    c.spec = spec;
    c.status = InstanceStatus::Lost;
    c.loss = LossCause::Offline;
    c.start_ns = c.end_ns = f.started;
    trace(spec, f.started, to_string(LossCause::Offline));
    f.done = std::move(c);
    return;
  }
  const auto* snapshot = dynamic_cast<const StateSnapshot*>(state.get());
  if (snapshot == nullptr) throw BackendError("the real-node backend ships StateSnapshots only");
  Run run;
  run.spec = spec;
  const std::span<const NodeId> ids = snapshot->node_ids();
  run.node_ids.assign(ids.begin(), ids.end());
  run.aliases = snapshot->aliases();
  run.predecessors = snapshot->predecessors(spec.task);
  run.globals = snapshot->globals();
  for (const auto& r : snapshot->results()) run.results.push_back({r.task, r.node, r.tag, r.value});
  uint64_t bytes = 0;
  const bool sent = send(nodes_[spec.node], run, &bytes);
  trace(spec, f.started, "start", bytes);
  if (!sent) declare_dead(spec.node, "its connection closed");
}

void Coordinator::run_server_batch() {
  DataProvider data = [this](NodeId id) {
    if (id != kServerNode) throw UsageError(describe(id) + " runs remotely");
    return server_data_;
  };
  const Nanos start = now_ns();
  // The tasks run on a thread of their own while this one keeps the nodes' connections alive
  // (their heartbeats read, ours sent): a long aggregation or evaluation must not make the
  // nodes take the coordinator for dead, nor the coordinator them.
  std::vector<Completion> batch;
  std::exception_ptr error;
  std::thread tasks([&] {
    try {
      batch = run_batch(modules_, server_pending_, data, options_.threads, *logger_);
    } catch (...) {
      error = std::current_exception();
    }
    zmq_->server_done_out.send(zmq::str_buffer("!"), zmq::send_flags::dontwait);
  });
  for (bool finished = false; !finished;) {
    zmq::pollitem_t items[] = {{zmq_->router.handle(), 0, ZMQ_POLLIN, 0}, {zmq_->server_done_in.handle(), 0, ZMQ_POLLIN, 0}};
    poll_interruptible(items, 2, poll_timeout(next_check_in(now_ns())));
    zmq::message_t signal;
    finished = zmq_->server_done_in.recv(signal, zmq::recv_flags::dontwait).has_value();
    receive();
    heartbeat_and_reap();
  }
  tasks.join();
  server_pending_.clear();
  server_ns_ += now_ns() - start;
  if (error) std::rethrow_exception(error);
  for (Completion& c : batch) {
    auto it = flights_.find(c.spec.id);
    if (it == flights_.end()) continue;  // cancelled meanwhile
    c.start_ns = start;
    c.end_ns = start + c.wall_ns;
    trace(c.spec, c.end_ns, c.status == InstanceStatus::Ok ? "complete" : "failed");
    it->second.done = std::move(c);
  }
}

BackendEvent Coordinator::wait(const WaitFor& w) {
  if (!server_pending_.empty()) run_server_batch();
  const Nanos began = now_ns();
  for (;;) {
    if (!flights_.empty() && flights_.begin()->second.done) {
      Completion c = std::move(*flights_.begin()->second.done);
      flights_.erase(flights_.begin());
      return c;
    }
    if (!events_.empty()) {
      const NodeEvent e = events_.front();
      events_.pop_front();
      return e;
    }
    if (options_.interrupted && *options_.interrupted) throw Error("interrupted");
    const Nanos now = now_ns();
    if (flights_.empty()) {
      // Waiting for a node to come back, for as long as nodes are given to register.
      if (!w.node_on || now - began > options_.register_timeout_ns) return Idle{};
    }
    if (w.until_ns && now >= *w.until_ns) return Timeout{};
    // Wake for the next heartbeat or the moment a silent node becomes dead, whichever first.
    Nanos timeout = next_check_in(now);
    if (w.until_ns) timeout = std::max<Nanos>(std::min(timeout, *w.until_ns - now), 0);
    poll_router(timeout);
    receive();
    heartbeat_and_reap();
  }
}

void Coordinator::cancel(uint64_t instance_id) {
  auto it = flights_.find(instance_id);
  if (it == flights_.end()) return;
  const NodeId node = it->second.spec.node;
  const bool running = !it->second.done;
  if (running) trace(it->second.spec, now_ns(), "cancelled");
  flights_.erase(it);
  std::erase_if(server_pending_, [instance_id](const PendingInstance& p) { return p.spec.id == instance_id; });
  if (running && node < nodes_.size() && nodes_[node].alive) send(nodes_[node], Cancel{instance_id});
}

}  // namespace swarm::deploy
