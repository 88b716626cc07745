// Real nodes on loopback (deploy/, docs/protocol.md): moving a model, detecting a dead node,
// and the coordinator's share of a round.
//
//   BM_ModelRoundTrip/<case>     the coordinator sends a `run` carrying a model (as a global)
//                                over a ROUTER, the node's DEALER decodes it and answers a
//                                `done` carrying an update of the same size, which the
//                                coordinator decodes: the project's encode, send_message,
//                                receive_frames and decode on both sides.
//   BM_ZmqReference/<case>       libzmq's own pair on the same sockets and security: the same
//                                bytes as one frame there and back, received and sent again
//                                from a buffer (zmq_send copies it, as the project's sends do).
//                                <case>: curve_model / plain_model (199,210 floats, the
//                                784-200-200-10 MLP, 797 KB), curve_16MB / plain_16MB.
//   BM_DeathDetection/<how>      a raw node registers with a Coordinator (heartbeat 50 ms, dead
//                                after 100 ms), heartbeats, then at a random moment is killed
//                                (its socket closed: the coordinator finds it unreachable at
//                                its next heartbeat) or frozen (silent: dead 100 ms after its
//                                last message); the time from the failure to NodeEvent::Died.
//                                Counters heartbeats (mean) and max_heartbeats = that time / 50 ms.
//   BM_RoundOverhead             the same scenario (synthetic 784-feature data, 784-200-200-10
//                                MLP, 4 nodes, 6 rounds) in-process (2 threads) and on 4 node
//                                agents over CURVE (threads of this process, each with its own
//                                ZeroMQ context and socket, as separate processes would have):
//                                counters inprocess_round_ms, nodes_round_ms (rounds 2-6) and
//                                overhead = 1 - inprocess / nodes, the share of a real-node
//                                round spent neither training nor aggregating: the coordinator,
//                                encoding, the wire and the nodes' decoding together; and
//                                coordinator_share, the coordinator's own work measured in
//                                it (RoundRow::coordinator_s: neither waiting for the nodes
//                                nor running server tasks) over the round's wall time.
//
// Counters: bytes/s = model payload bytes moved per second (there and back), shared by each
// benchmark and its reference, so their ratio is the project's speed relative to libzmq's.
//
// Run with --benchmark_min_time=0.2.

#include <benchmark/benchmark.h>
#include <spdlog/sinks/null_sink.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "deploy/coordinator.hpp"
#include "deploy/keys.hpp"
#include "deploy/node_agent.hpp"
#include "deploy/protocol.hpp"
#include "deploy/shard.hpp"
#include "deploy/wire.hpp"
#include "tests/deploy/raw_node.hpp"
#include "scenario/runner.hpp"
#include "scenario/scenario.hpp"
#include "swarm/registries.hpp"

namespace {

using namespace swarm;
using namespace swarm::deploy;
namespace fs = std::filesystem;

constexpr size_t kModelFloats = 199'210;           // 784*200+200 + 200*200+200 + 200*10+10
constexpr size_t kLargeFloats = 16'000'000 / 4;    // 16 MB

std::shared_ptr<spdlog::logger> quiet() {
  return std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
}

// A ROUTER bound on loopback (the coordinator's side) and a DEALER connected to it (a node's),
// with CURVE or without; the router knows the dealer's routing id once the pair is built.
struct Pair {
  zmq::context_t context{1};
  zmq::socket_t router{context, zmq::socket_type::router}, dealer{context, zmq::socket_type::dealer};
  std::string routing_id;

  explicit Pair(bool curve) {
    for (zmq::socket_t* s : {&router, &dealer}) {
      s->set(zmq::sockopt::linger, 0);
      s->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kDefaultMaxMessageBytes));
    }
    if (curve) {
      // No ZAP handler: libzmq's CURVE server then admits any client key (the key check is
      // the coordinator's, not what is measured here).
      const KeyPair server = make_key_pair(), client = make_key_pair();
      router.set(zmq::sockopt::curve_server, 1);
      router.set(zmq::sockopt::curve_secretkey, server.secret_key);
      dealer.set(zmq::sockopt::curve_serverkey, server.public_key);
      dealer.set(zmq::sockopt::curve_publickey, client.public_key);
      dealer.set(zmq::sockopt::curve_secretkey, client.secret_key);
    }
    router.bind("tcp://127.0.0.1:0");
    dealer.connect(router.get(zmq::sockopt::last_endpoint));
    dealer.send(zmq::str_buffer("hello"), zmq::send_flags::none);
    zmq::message_t id, hello;
    (void)router.recv(id);
    (void)router.recv(hello);
    routing_id = id.to_string();
  }
};

// Blocks for one multipart message.
std::vector<zmq::message_t> receive(zmq::socket_t& s) {
  std::vector<zmq::message_t> frames;
  (void)zmq::recv_multipart(s, std::back_inserter(frames));
  return frames;
}

std::vector<float> model_values(size_t floats) {
  std::vector<float> v(floats);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 101) * 0.01f;
  return v;
}

void set_bytes(benchmark::State& state, size_t payload) {
  state.counters["bytes/s"] = benchmark::Counter(2.0 * static_cast<double>(payload),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void BM_ModelRoundTrip(benchmark::State& state, bool curve, size_t floats) {
  Pair pair(curve);
  const Blob model = tensor_blob(model_values(floats));
  // The node: decode the run, answer its model as the update, until bye.
  std::thread node([&pair] {
    for (;;) {
      std::vector<zmq::message_t> frames = receive(pair.dealer);
      Message m = decode_frames(frames, 0, kDefaultMaxMessageBytes);
      const Run* run = std::get_if<Run>(&m);
      if (run == nullptr) return;
      Done done;
      done.instance = run->spec.id;
      done.output.results.emplace_back("update", run->globals.at(0).second);
      send_message(pair.dealer, done);
    }
  });
  Run run;
  run.spec.task = 0;
  run.spec.node = 0;
  run.spec.alias = "worker";
  run.spec.module = "fl.worker";
  run.node_ids = {0};
  run.aliases = {"worker"};
  run.globals.emplace_back("model", model);
  for (auto _ : state) {
    ++run.spec.id;
    send_message(pair.router, run, &pair.routing_id);
    std::vector<zmq::message_t> frames = receive(pair.router);
    Message m = decode_frames(frames, 1, kDefaultMaxMessageBytes);
    const Done& done = std::get<Done>(m);
    if (done.instance != run.spec.id || done.output.results.at(0).second.size() != model.size()) {
      state.SkipWithError("the update that came back is not the model sent");
      break;
    }
  }
  send_message(pair.router, Bye{}, &pair.routing_id);
  node.join();
  set_bytes(state, floats * sizeof(float));
}

void BM_ZmqReference(benchmark::State& state, bool curve, size_t floats) {
  Pair pair(curve);
  const std::vector<float> values = model_values(floats);
  const size_t bytes = values.size() * sizeof(float);
  std::thread node([&pair] {
    for (;;) {
      zmq::message_t m;
      (void)pair.dealer.recv(m);
      if (m.size() == 0) return;
      pair.dealer.send(zmq::const_buffer(m.data(), m.size()), zmq::send_flags::none);
    }
  });
  for (auto _ : state) {
    pair.router.send(zmq::buffer(pair.routing_id), zmq::send_flags::sndmore);
    pair.router.send(zmq::const_buffer(values.data(), bytes), zmq::send_flags::none);
    std::vector<zmq::message_t> frames = receive(pair.router);
    if (frames.size() != 2 || frames[1].size() != bytes) {
      state.SkipWithError("the echo is not the bytes sent");
      break;
    }
  }
  pair.router.send(zmq::buffer(pair.routing_id), zmq::send_flags::sndmore);
  pair.router.send(zmq::const_buffer(nullptr, 0), zmq::send_flags::none);
  node.join();
  set_bytes(state, bytes);
}

BENCHMARK_CAPTURE(BM_ModelRoundTrip, curve_model, true, kModelFloats)->UseRealTime();
BENCHMARK_CAPTURE(BM_ZmqReference, curve_model, true, kModelFloats)->UseRealTime();
BENCHMARK_CAPTURE(BM_ModelRoundTrip, curve_16MB, true, kLargeFloats)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ZmqReference, curve_16MB, true, kLargeFloats)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ModelRoundTrip, plain_model, false, kModelFloats)->UseRealTime();
BENCHMARK_CAPTURE(BM_ZmqReference, plain_model, false, kModelFloats)->UseRealTime();
BENCHMARK_CAPTURE(BM_ModelRoundTrip, plain_16MB, false, kLargeFloats)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ZmqReference, plain_16MB, false, kLargeFloats)->UseRealTime()->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------------------------

constexpr Nanos kHeartbeat = 50'000'000;

// A node that heartbeats every kHeartbeat, as an agent does, then fails at a moment drawn
// uniformly within a heartbeat interval (a failure does not wait for a heartbeat to be due):
// killed (its socket closed) or frozen (silent). Detection is timed from the failure, the
// delay a user sees; a frozen node is dead 2 intervals after its last message, so between 1
// and 2 intervals after it froze.
void BM_DeathDetection(benchmark::State& state, bool killed) {
  const ModuleRegistry modules;
  std::mt19937_64 rng(7);
  double sum = 0, worst = 0;
  for (auto _ : state) {
    CoordinatorOptions o;
    o.curve = false;
    o.nodes = 1;
    o.heartbeat_ns = kHeartbeat;
    o.dead_after_ns = 2 * kHeartbeat;
    o.register_timeout_ns = 10'000'000'000;
    Coordinator coordinator(modules, o, quiet(), {});
    const auto beats = std::chrono::nanoseconds(kHeartbeat);
    const auto failure_offset = std::chrono::nanoseconds(std::uniform_int_distribution<Nanos>(0, kHeartbeat - 1)(rng));
    std::atomic<int64_t> failed_at{0};  // steady_clock ns; 0 while the node lives
    std::thread node([&] {
      zmq::context_t context(1);
      zmq::socket_t socket = testing::registered_raw_node(context, coordinator.endpoint());
      auto next = std::chrono::steady_clock::now();
      for (int i = 0; i < 4; ++i) {  // alive for 4 heartbeats
        next += beats;
        std::this_thread::sleep_until(next);  // the heartbeat's own schedule, not a wait for an event
        send_message(socket, Heartbeat{0});
      }
      std::this_thread::sleep_until(next + failure_offset);
      const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
      failed_at = now;
      if (killed) {
        socket.close();
      } else {
        failed_at.wait(now);  // frozen: open and silent until the coordinator gave up on it
      }
    });
    coordinator.wait_for_nodes();
    const std::vector<NodeId> any;
    WaitFor w;
    w.node_on = std::span<const NodeId>(any);
    bool died = false;
    while (!died) {
      BackendEvent e = coordinator.wait(w);
      const auto* n = std::get_if<NodeEvent>(&e);
      if (n != nullptr && n->kind == NodeEvent::Kind::Died) died = true;
      if (std::holds_alternative<Idle>(e)) break;
    }
    const int64_t died_at = std::chrono::steady_clock::now().time_since_epoch().count();
    const int64_t failed = failed_at.exchange(0);
    failed_at.notify_all();
    node.join();
    if (!died || failed == 0) {
      state.SkipWithError(died ? "declared dead before it failed" : "the node was never declared dead");
      break;
    }
    const double seconds = static_cast<double>(died_at - failed) * 1e-9;
    state.SetIterationTime(seconds);
    const double heartbeats = seconds / to_seconds(kHeartbeat);
    sum += heartbeats;
    worst = std::max(worst, heartbeats);
  }
  state.counters["heartbeats"] = sum / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.counters["max_heartbeats"] = worst;
}

BENCHMARK_CAPTURE(BM_DeathDetection, killed, true)->UseManualTime()->Iterations(10)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DeathDetection, frozen, false)->UseManualTime()->Iterations(10)->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------------------------

const char* kRoundScenario = R"(name: overhead
seed: 7
swarm: {rounds: 6, clients_per_round: 4}
model: {hidden: [200, 200]}
training: {epochs: 1, batch_size: 64, lr: 0.05}
data: {dataset: synthetic, samples: 12000, features: 784, classes: 10}
population: {nodes: 4}
)";

// Mean over rounds 2.. (round 1 warms caches and allocators) of a round's wall time, or of
// the coordinator's own work in it.
double mean_round_s(const results::RunResult& r, double results::RoundRow::*field = &results::RoundRow::wall_s) {
  double sum = 0;
  for (size_t i = 1; i < r.rounds.size(); ++i) sum += r.rounds[i].*field;
  return sum / static_cast<double>(r.rounds.size() - 1);
}

// A free loopback TCP port (bound then released, for the nodes to be told in advance).
int free_port() {
  zmq::context_t context(1);
  zmq::socket_t s(context, zmq::socket_type::router);
  s.set(zmq::sockopt::linger, 0);
  s.bind("tcp://127.0.0.1:0");
  const std::string endpoint = s.get(zmq::sockopt::last_endpoint);
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

void BM_RoundOverhead(benchmark::State& state) {
  const Registries registries = builtin_registries();
  scenario::DataCache cache;
  const fs::path dir = fs::temp_directory_path() / ("swarm-deploy-bench-" + std::to_string(::getpid()));
  double inprocess_s = 0, nodes_s = 0, own_s = 0;
  for (auto _ : state) {
    fs::remove_all(dir);
    const KeyPair server = make_key_pair();
    std::vector<KeyPair> node_keys(4);
    for (size_t i = 0; i < node_keys.size(); ++i) {
      node_keys[i] = make_key_pair();
      write_key_pair(dir / "allow", "node-" + std::to_string(i), node_keys[i]);  // only the .key is read
    }
    write_key_pair(dir / "keys", "server", server);
    const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(free_port());

    scenario::Scenario local = scenario::load_runs(std::string(kRoundScenario) + "backend: inprocess\n",
                                                   "overhead.yaml", {}, registries)[0];
    const std::string nodes_text = std::string(kRoundScenario) + "backend: nodes\nbackend_options: {launcher: none, bind: \"" +
                                   endpoint + "\", keys: \"" + (dir / "keys").string() + "\", allow: \"" +
                                   (dir / "allow").string() + "\"}\n";
    scenario::Scenario remote = scenario::load_runs(nodes_text, "overhead.yaml", {}, registries)[0];
    const scenario::RunContext context{2, quiet(), {}, "bench"};
    const results::RunResult a = scenario::run_scenario(local, context, cache, registries);

    // The nodes' shards, as the coordinator's --shards would write them.
    const scenario::NodeData data = scenario::node_data(remote, cache.get(remote.data, remote.seed));
    std::vector<std::thread> agents;
    for (size_t i = 0; i < node_keys.size(); ++i) {
      const fs::path shard = dir / ("node-" + std::to_string(i));
      write_shard(shard, static_cast<NodeId>(i), data.provider(static_cast<NodeId>(i)));
      NodeAgentOptions o;
      o.connect = endpoint;
      o.server_key = server.public_key;
      o.keys = node_keys[i];
      o.data = shard;
      agents.emplace_back([&registries, o] { run_node_agent(registries.modules, o, *quiet()); });
    }
    const results::RunResult b = scenario::run_scenario(remote, context, cache, registries);
    for (std::thread& t : agents) t.join();  // the coordinator said bye
    if (a.rounds.size() != 6 || b.rounds.size() != 6 || a.rounds.back().accuracy != b.rounds.back().accuracy) {
      state.SkipWithError("the real-node run did not end as the in-process one");
      break;
    }
    inprocess_s += mean_round_s(a);
    nodes_s += mean_round_s(b);
    own_s += mean_round_s(b, &results::RoundRow::coordinator_s);
    state.SetIterationTime(mean_round_s(b));
  }
  fs::remove_all(dir);
  const auto n = static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.counters["inprocess_round_ms"] = 1e3 * inprocess_s / n;
  state.counters["nodes_round_ms"] = 1e3 * nodes_s / n;
  state.counters["overhead"] = nodes_s > 0 ? 1.0 - inprocess_s / nodes_s : 0;
  state.counters["coordinator_share"] = nodes_s > 0 ? own_s / nodes_s : 0;
}

BENCHMARK(BM_RoundOverhead)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
