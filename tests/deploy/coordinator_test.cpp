// deploy/coordinator.*: the coordinator's side of real nodes, against a raw node on loopback.

#include "deploy/coordinator.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>
#include <zmq.hpp>

#include "deploy/node_agent.hpp"
#include "deploy/protocol.hpp"
#include "deploy/wire.hpp"
#include "tests/deploy/raw_node.hpp"

using namespace swarm;
using namespace swarm::deploy;

namespace {

// What a server instance reads when it reads nothing.
class NoState final : public StateReader {
 public:
  std::optional<Blob> global(const std::string&) const override { return std::nullopt; }
  std::map<NodeId, Blob> select(const std::string&, Scope, int) const override { return {}; }
  std::span<const NodeId> node_ids() const override { return {}; }
  bool has_alias(const std::string&) const override { return false; }
};

}  // namespace

TEST_CASE("the coordinator heartbeats its nodes while the server's tasks run", "[deploy][coordinator]") {
  // A server task that runs until the node has seen 3 heartbeats from the coordinator (or 10 s):
  // were the coordinator silent while it runs, a long aggregation would make nodes take it for dead.
  std::mutex mutex;
  std::condition_variable changed;
  bool task_running = false;
  int heartbeats_during_task = 0;
  bool saw_enough = false;
  ModuleRegistry modules;
  modules.add("slow", [&](TaskContext&) {
    std::unique_lock lock(mutex);
    task_running = true;
    saw_enough = changed.wait_for(lock, std::chrono::seconds(10), [&] { return heartbeats_during_task >= 3; });
    task_running = false;
  });
  CoordinatorOptions o;
  o.curve = false;
  o.nodes = 1;
  o.heartbeat_ns = 20'000'000;
  o.dead_after_ns = 5'000'000'000;
  o.register_timeout_ns = 10'000'000'000;
  auto quiet = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  Coordinator coordinator(modules, o, quiet, {});

  std::atomic<bool> stop{false};
  std::thread node([&] {
    zmq::context_t context(1);
    zmq::socket_t socket = testing::registered_raw_node(context, coordinator.endpoint());
    while (!stop) {
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      poll_interruptible(&item, 1, std::chrono::milliseconds(20));
      while (std::optional<Received> r = receive_frames(socket)) {
        if (!std::holds_alternative<Heartbeat>(decode_frames(r->frames, 0, kDefaultMaxMessageBytes))) continue;
        send_message(socket, Heartbeat{0});
        std::lock_guard lock(mutex);
        if (task_running) ++heartbeats_during_task;
        changed.notify_all();
      }
    }
  });
  coordinator.wait_for_nodes();
  InstanceSpec spec;
  spec.id = 1;
  spec.task = 0;
  spec.alias = "aggregator";
  spec.module = "slow";
  spec.node = kServerNode;
  coordinator.start(spec, std::make_shared<NoState>());
  const BackendEvent e = coordinator.wait(WaitFor{});
  stop = true;
  node.join();
  const auto* done = std::get_if<Completion>(&e);
  REQUIRE(done != nullptr);
  CHECK(done->status == InstanceStatus::Ok);
  CHECK(saw_enough);
  CHECK(heartbeats_during_task >= 3);
}

TEST_CASE("the coordinator refuses a node that lacks the run's kernel, naming both", "[deploy][coordinator][kernel]") {
  CoordinatorOptions o;
  o.curve = false;
  o.nodes = 1;
  o.kernel = gemm_kernel(ml::default_kernel());
  o.register_timeout_ns = 10'000'000'000;
  auto quiet = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  const ModuleRegistry modules;
  Coordinator coordinator(modules, o, quiet, {});

  // The same kernel name from another build (another version or instruction sets), then the run's,
  // on one connection.
  const std::vector<std::vector<std::string>> offers{
      {std::string(ml::kernel_name(ml::default_kernel())) + ": another build"}, gemm_kernels()};
  zmq::context_t context(1);
  zmq::socket_t socket = testing::registered_raw_node(context, coordinator.endpoint(), offers[0]);
  std::vector<std::string> answers;
  std::thread coordinator_side([&] {
    try {
      coordinator.wait_for_nodes();
    } catch (const std::exception&) {
    }
  });
  for (size_t i = 0; i < offers.size(); ++i) {
    if (i > 0) testing::send_register(socket, offers[i]);
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::optional<Message> answer;
    while (!answer && std::chrono::steady_clock::now() < deadline) {
      poll_interruptible(&item, 1, std::chrono::milliseconds(20));
      while (std::optional<Received> r = receive_frames(socket)) {
        Message m = decode_frames(r->frames, 0, kDefaultMaxMessageBytes);
        if (std::holds_alternative<Heartbeat>(m)) continue;
        answer = std::move(m);
        break;
      }
    }
    REQUIRE(answer.has_value());
    if (const auto* refused = std::get_if<Refused>(&*answer)) {
      answers.push_back("refused: " + refused->reason);
    } else {
      answers.push_back(std::holds_alternative<Welcome>(*answer) ? "welcome" : "other");
    }
  }
  coordinator_side.join();
  REQUIRE(answers.size() == 2);
  CHECK_THAT(answers[0], Catch::StartsWith("refused: ") && Catch::Contains("GEMM kernel '" + o.kernel + "'") &&
                             Catch::Contains("another build"));
  CHECK(answers[1] == "welcome");
}
