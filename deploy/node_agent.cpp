#include "deploy/node_agent.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "deploy/shard.hpp"
#include "deploy/wire.hpp"
#include "ml/gemm.hpp"
#include "swarm/fl/modules.hpp"
#include "swarm/task_context.hpp"

namespace swarm::deploy {
namespace {

using Clock = std::chrono::steady_clock;

// The state an instance reads, as the coordinator shipped it (a StateSnapshot's content).
class ShippedState final : public StateReader {
 public:
  explicit ShippedState(Run run) : run_(std::move(run)) {}
  std::optional<Blob> global(const std::string& key) const override {
    for (const auto& [k, v] : run_.globals) {
      if (k == key) return v;
    }
    return std::nullopt;
  }
  std::map<NodeId, Blob> select(const std::string& tag, Scope scope, int /*reader_task*/) const override {
    std::map<NodeId, Blob> out;  // later values replace earlier ones, as in SwarmState
    for (const ShippedResult& r : run_.results) {
      if (r.tag != tag) continue;
      if (scope == Scope::Last && !std::binary_search(run_.predecessors.begin(), run_.predecessors.end(), r.task)) continue;
      out[r.node] = r.value;
    }
    return out;
  }
  std::span<const NodeId> node_ids() const override { return run_.node_ids; }
  bool has_alias(const std::string& alias) const override {
    return std::find(run_.aliases.begin(), run_.aliases.end(), alias) != run_.aliases.end();
  }
  const InstanceSpec& spec() const { return run_.spec; }

 private:
  Run run_;
};

// Instances running on task threads; the agent's loop collects what they finished.
class Tasks {
 public:
  explicit Tasks(zmq::context_t& context) : wake_out_(context, zmq::socket_type::push), wake_in_(context, zmq::socket_type::pull) {
    wake_in_.bind("inproc://swarm-node-wake");
    wake_out_.connect("inproc://swarm-node-wake");
  }
  ~Tasks() {
    for (std::thread& t : threads_) t.join();
  }
  zmq::socket_t& wake() { return wake_in_; }
  size_t busy() const {
    std::lock_guard lock(mutex_);
    return running_;
  }
  // Runs an instance for the connection `generation` (see take()).
  void run(const ModuleFn* fn, std::shared_ptr<ShippedState> state, const LocalData& data, int threads,
           spdlog::logger& logger, uint64_t generation) {
    {
      std::lock_guard lock(mutex_);
      ++running_;
    }
    threads_.emplace_back([this, fn, state, &data, threads, &logger, generation] {
      Done d;
      d.instance = state->spec().id;
      if (fn == nullptr) {
        d.status = InstanceStatus::Failed;
        d.error = "module '" + state->spec().module + "' is not registered on this node";
      } else {
        const Clock::time_point start = Clock::now();
        Completion c = run_instance(*fn, state->spec(), *state, data, logger, threads);
        d.wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
        d.status = c.status;
        d.error = std::move(c.error);
        d.diverged = c.diverged;
        d.output = std::move(c.output);
      }
      {
        std::lock_guard lock(mutex_);
        done_.emplace_back(generation, std::move(d));
        --running_;
        wake_out_.send(zmq::str_buffer("!"), zmq::send_flags::dontwait);
      }
    });
  }
  // What finished, with the generation it was started in.
  std::deque<std::pair<uint64_t, Done>> take() {
    zmq::message_t m;
    while (wake_in_.recv(m, zmq::recv_flags::dontwait)) {
    }
    std::lock_guard lock(mutex_);
    return std::exchange(done_, {});
  }

 private:
  mutable std::mutex mutex_;
  zmq::socket_t wake_out_, wake_in_;  // wake_out_ is used under mutex_
  std::vector<std::thread> threads_;
  std::deque<std::pair<uint64_t, Done>> done_;
  size_t running_ = 0;
};

// The speed an instance computes at here, the one placement ranks nodes by (as a simulated
// profile's FLOP/s): the GEMM kernel the model trains with, timed on one thread over the
// MLP's largest product (a batch of 64 through a 784 x 200 layer) for about 20 ms, after
// one product to warm the caches. Rounded to 2 significant digits: a figure, not noise.
double measured_flops() {
  constexpr Eigen::Index kRows = 200, kCols = 64, kDepth = 784;
  std::vector<float> a(kRows * kDepth, 0.01f), b(kDepth * kCols, 0.5f), c(kRows * kCols);
  ml::Gemm gemm(kRows, kCols, kDepth);
  auto product = [&] {
    gemm.run(ml::Op::Plain, ml::Op::Plain, kRows, kCols, kDepth, 1.0f, a.data(), kRows, b.data(), kDepth, 0.0f,
             c.data(), kRows);
  };
  product();
  using clock = std::chrono::steady_clock;
  const clock::time_point start = clock::now();
  int64_t products = 0;
  double seconds = 0;
  do {
    product();
    ++products;
    seconds = std::chrono::duration<double>(clock::now() - start).count();
  } while (seconds < 0.02 || products < 3);
  const double flops = 2.0 * kRows * kCols * kDepth * static_cast<double>(products) / seconds;
  const double scale = std::pow(10.0, std::floor(std::log10(flops)) - 1);
  return std::round(flops / scale) * scale;
}

// A cgroup file's first numbers (v1 and v2 controllers); none when it is missing or says "max".
std::vector<double> cgroup_numbers(const char* path) {
  std::ifstream in(path);
  std::vector<double> out;
  std::string word;
  while (in >> word) {
    char* end = nullptr;
    const double v = std::strtod(word.c_str(), &end);
    if (end == word.c_str() || *end != '\0') break;
    out.push_back(v);
  }
  return out;
}

// The cores this process may use: the machine's, fewer under a CPU quota (a container's
// --cpus, rounded up), from cgroup v2's cpu.max or v1's cfs files.
unsigned usable_cores() {
  const unsigned machine = std::max(1u, std::thread::hardware_concurrency());
  std::vector<double> v2 = cgroup_numbers("/sys/fs/cgroup/cpu.max");
  double quota = v2.size() == 2 ? v2[0] : -1, period = v2.size() == 2 ? v2[1] : 0;
  if (v2.empty()) {
    const std::vector<double> q = cgroup_numbers("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
                              p = cgroup_numbers("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
    if (q.size() == 1 && p.size() == 1) quota = q[0], period = p[0];
  }
  if (quota <= 0 || period <= 0) return machine;
  return std::clamp(static_cast<unsigned>(std::ceil(quota / period)), 1u, machine);
}

// The memory this process may use: the machine's, less under a memory limit (a container's
// --memory), from cgroup v2's memory.max or v1's limit_in_bytes.
uint64_t usable_memory() {
  const uint64_t machine = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGE_SIZE));
  std::vector<double> limit = cgroup_numbers("/sys/fs/cgroup/memory.max");
  if (limit.empty()) limit = cgroup_numbers("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  if (limit.size() != 1 || limit[0] <= 0 || limit[0] >= static_cast<double>(machine)) return machine;
  return static_cast<uint64_t>(limit[0]);
}

}  // namespace

std::string gemm_kernel(ml::Kernel kernel) {
  return std::string(ml::kernel_name(kernel)) + ": " + ml::kernel_identity(kernel);
}

std::vector<std::string> gemm_kernels() {
  std::vector<std::string> out;
  for (ml::Kernel k : ml::available_kernels()) out.push_back(gemm_kernel(k));
  return out;
}

int run_node_agent(const ModuleRegistry& modules, const NodeAgentOptions& o, spdlog::logger& logger) {
  const Shard shard = read_shard(o.data);
  Register reg;
  reg.node = shard.node;
  reg.cores = usable_cores();  // a container's limits, when it has some
  reg.memory_bytes = usable_memory();
  reg.flops = measured_flops();
  reg.kernels = gemm_kernels();
  for (const auto& [name, value] : shard.data) reg.datasets.push_back(name);
  // What the tasks hold: the shard's datasets, and the run's GEMM kernel once welcomed. Set
  // before any task runs, and only read after (tasks read it from their threads).
  LocalData data = shard.data;

  zmq::context_t context(1);
  Tasks tasks(context);
  std::unique_ptr<zmq::socket_t> socket;
  Nanos heartbeat_ns = 200'000'000;
  auto now = [start = Clock::now()] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
  };
  Nanos last_heard = 0, last_sent = 0, retry_at = 0;
  bool registered = false;
  int refusals = 0;
  // Bumped at every connection: results of instances a previous connection started go
  // nowhere (the coordinator that asked for them is gone, or restarted and may reuse ids).
  uint64_t generation = 0;
  std::set<uint64_t> cancelled;

  auto send = [&](const Message& m) {
    send_message(*socket, m);
    last_sent = now();
  };
  auto connect = [&] {
    if (socket) socket->set(zmq::sockopt::linger, 0);  // what it still queues is for a gone coordinator
    socket = std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer);
    socket->set(zmq::sockopt::linger, 1000);
    socket->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(o.max_message_bytes));
    if (o.curve) {
      socket->set(zmq::sockopt::curve_serverkey, o.server_key);
      socket->set(zmq::sockopt::curve_publickey, o.keys.public_key);
      socket->set(zmq::sockopt::curve_secretkey, o.keys.secret_key);
    }
    socket->connect(o.connect);
    ++generation;
    cancelled.clear();
    registered = false;
    last_heard = now();
    send(reg);
    logger.info("node {}: registering with {}", reg.node, o.connect);
  };
  connect();

  for (;;) {
    if (o.stop && *o.stop) {
      logger.info("node {}: stopping (signal)", reg.node);
      return 0;
    }
    zmq::pollitem_t items[] = {{socket->handle(), 0, ZMQ_POLLIN, 0}, {tasks.wake().handle(), 0, ZMQ_POLLIN, 0}};
    poll_interruptible(items, 2, std::chrono::milliseconds(heartbeat_ns / 1'000'000));
    while (std::optional<Received> r = receive_frames(*socket)) {
      last_heard = now();
      Message m;
      try {
        m = decode_frames(r->frames, 0, o.max_message_bytes);
      } catch (const ProtocolError& e) {
        logger.warn("node {}: dropped a message: {}", reg.node, e.what());
        send(ErrorReport{e.what()});
        continue;
      }
      if (const Welcome* w = std::get_if<Welcome>(&m)) {
        registered = true;
        heartbeat_ns = Nanos{w->heartbeat_ms} * 1'000'000;
        logger.info("node {}: registered", reg.node);
        if (!w->kernel.empty() && data.count(fl::kGemmKernel) == 0) {
          for (ml::Kernel k : ml::available_kernels()) {
            if (gemm_kernel(k) == w->kernel) data.emplace(fl::kGemmKernel, k);
          }
          if (data.count(fl::kGemmKernel) == 0) {
            logger.warn("node {}: the coordinator asks for the GEMM kernel '{}', which this node lacks", reg.node, w->kernel);
          }
        }
      } else if (const Refused* f = std::get_if<Refused>(&m)) {
        logger.warn("node {}: refused by the coordinator: {}", reg.node, f->reason);
        if (++refusals >= o.max_refusals) return 3;
        retry_at = now() + 1'000'000'000;
      } else if (Run* run = std::get_if<Run>(&m)) {
        if (!registered || run->spec.node != reg.node) {
          const std::string why = "instance " + std::to_string(run->spec.id) + " is for node " +
                                  std::to_string(run->spec.node) + (registered ? "" : " and this node is not registered");
          logger.warn("node {}: dropped a run: {}", reg.node, why);
          send(ErrorReport{why});
          continue;
        }
        logger.info("node {}: running instance {} (task '{}', iteration {})", reg.node, run->spec.id, run->spec.alias,
                     run->spec.iteration);
        const ModuleFn* fn = modules.find(run->spec.module);  // before the run is moved
        tasks.run(fn, std::make_shared<ShippedState>(std::move(*run)), data, o.threads, logger, generation);
      } else if (const Cancel* c = std::get_if<Cancel>(&m)) {
        cancelled.insert(c->instance);
      } else if (std::holds_alternative<Bye>(m)) {
        logger.info("node {}: the coordinator said bye", reg.node);
        return 0;
      } else if (!std::holds_alternative<Heartbeat>(m)) {
        send(ErrorReport{std::string("a node does not take '") + type_name(m) + "' messages"});
      }
    }
    for (auto& [started_in, d] : tasks.take()) {
      if (cancelled.erase(d.instance) || started_in != generation) continue;
      logger.info("node {}: instance {} done ({})", reg.node, d.instance, to_string(d.status));
      send(d);
    }
    const Nanos t = now();
    if (retry_at > 0 && t >= retry_at) {
      retry_at = 0;
      send(reg);
    }
    if (t - last_heard > o.dead_after_ns && !registered) {
      // Nobody answered on this connection yet (a coordinator still starting or restarting):
      // ask again on it. A new connection now would leave this one's registration in flight,
      // to be taken by the coordinator for a node it would then wait on in vain.
      logger.info("node {}: no answer from {} yet; registering again", reg.node, o.connect);
      last_heard = t;
      send(reg);
    } else if (t - last_heard > o.dead_after_ns) {
      logger.warn("node {}: the coordinator is silent for {} ms; reconnecting", reg.node, (t - last_heard) / 1'000'000);
      connect();
    } else if (registered && t - last_sent >= heartbeat_ns) {
      send(Heartbeat{static_cast<uint32_t>(tasks.busy())});
    }
  }
}

}  // namespace swarm::deploy
