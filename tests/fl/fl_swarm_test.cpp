#include "swarm/fl/fl_swarm.hpp"

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "swarm/controller.hpp"
#include "swarm/fl/modules.hpp"
#include "swarm/ml/synthetic.hpp"
#include "tests/synthetic_split.hpp"

using namespace swarm;

namespace {

struct Metrics : ControllerObserver {
  std::vector<Dict> rounds;
  void on_iteration_end(const IterationReport&, const SwarmState& state) override {
    rounds.push_back(to_dict(*state.global("metrics")));
  }
};

struct FlRun {
  std::vector<Dict> rounds;
  std::vector<std::vector<NodeId>> workers;  // per round
  Blob final_model;
};

FlRun run_fl(const fl::FlConfig& cfg, int nodes, int threads, uint64_t seed = 3) {
  const auto [train, test] = testing::synthetic_split(3000, 5, 11);

  ModuleRegistry reg;
  fl::register_modules(reg);
  fl::FLSwarm s(cfg);
  SwarmGraph g = s.build(reg);
  auto logger = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
  InProcessBackend backend(reg, fl::make_iid_nodes(train, test, nodes, seed), threads, logger,
                          LocalData{{"test", test}});  // the server evaluates
  Controller c(g, backend, {.seed = seed, .max_iterations = 100});
  Metrics m;
  struct Workers : ControllerObserver {
    FlRun* run;
    void on_instance_start(const InstanceSpec& s) override {
      if (s.alias != "worker") return;
      if (run->workers.size() <= static_cast<size_t>(s.iteration)) run->workers.resize(s.iteration + 1);
      run->workers[s.iteration].push_back(s.node);
    }
  } w;
  FlRun out;
  w.run = &out;
  c.add_observer(&m);
  c.add_observer(&w);
  c.run();
  out.rounds = m.rounds;
  out.final_model = *c.state().global("global_model_params");
  return out;
}

fl::FlConfig small_config() {
  fl::FlConfig cfg;
  cfg.layers = {16, 32, 4};
  cfg.max_rounds = 5;
  cfg.batch_size = 16;
  cfg.lr = 0.05;
  return cfg;
}

}  // namespace

TEST_CASE("federated learning on synthetic data learns well above chance", "[fl]") {
  FlRun r = run_fl(small_config(), 6, 2);
  REQUIRE(r.rounds.size() == 5);
  const double first = r.rounds.front()["accuracy"], last = r.rounds.back()["accuracy"];
  CHECK(last > 0.8);  // chance is 0.25 with 4 classes
  CHECK(last >= first);
  CHECK(r.rounds.back()["round"] == 5);
  CHECK(r.rounds.back()["participants"] == 6);
}

TEST_CASE("the run is identical with 1 and 2 threads", "[fl]") {
  FlRun one = run_fl(small_config(), 4, 1), two = run_fl(small_config(), 4, 2);
  CHECK(one.final_model == two.final_model);
  REQUIRE(one.rounds.size() == two.rounds.size());
  for (size_t i = 0; i < one.rounds.size(); ++i) CHECK(one.rounds[i] == two.rounds[i]);
}

TEST_CASE("the scheduler stops at the target accuracy", "[fl]") {
  fl::FlConfig cfg = small_config();
  cfg.max_rounds = 50;
  cfg.target_accuracy = 0.7;
  FlRun r = run_fl(cfg, 4, 2);
  REQUIRE(r.rounds.size() < 50);
  CHECK(r.rounds.back()["accuracy"].get<double>() >= 0.7);
  for (size_t i = 0; i + 1 < r.rounds.size(); ++i) CHECK(r.rounds[i]["accuracy"].get<double>() < 0.7);
}

TEST_CASE("every round samples clients_per_round workers", "[fl]") {
  fl::FlConfig cfg = small_config();
  cfg.clients_per_round = 3;
  FlRun r = run_fl(cfg, 8, 2);
  REQUIRE(r.workers.size() == 5);
  CHECK(r.workers[0].size() == 3);  // the first round is sampled too
  std::set<std::vector<NodeId>> distinct;
  for (size_t i = 1; i < r.workers.size(); ++i) {
    CHECK(r.workers[i].size() == 3);
    CHECK(r.rounds[i]["participants"] == 3);
    distinct.insert(r.workers[i]);
  }
  CHECK(distinct.size() > 1);
}

TEST_CASE("IID nodes hold views of one shared copy", "[fl]") {
  ml::SyntheticOptions so;
  so.num_samples = 100;
  auto data = ml::make_synthetic(so);
  ml::DatasetView all(data);
  auto nodes = fl::make_iid_nodes(all, all, 7, 1);
  REQUIRE(nodes.size() == 7);
  int64_t total = 0;
  for (const auto& n : nodes) {
    CHECK(&std::any_cast<const ml::DatasetView&>(n.data.at("train")).storage() == data.get());
    CHECK(&std::any_cast<const ml::DatasetView&>(n.data.at("test")).storage() == data.get());
    total += std::any_cast<const ml::DatasetView&>(n.data.at("train")).size();
  }
  CHECK(total == 100);
  CHECK_THROWS_AS(fl::make_iid_nodes(all, all, 0, 1), UsageError);
}

TEST_CASE("a fractional clients_per_round gives the same count every round", "[fl]") {
  // Regression: 0.2 of 20 nodes gave 4 workers in round 1, then 0.2 of the scheduler's 4 (1)
  // in every later round: the fraction was applied twice.
  fl::FlConfig cfg = small_config();
  cfg.clients_per_round = 0.2;
  FlRun r = run_fl(cfg, 20, 2);
  REQUIRE(r.workers.size() == 5);
  for (const auto& round : r.workers) CHECK(round.size() == 4);
}

TEST_CASE("a diverged model stops the run naming the round and the task", "[fl]") {
  // Regression: lr 1e30 trained to NaN and the run went on, reporting "loss -nan" as a result.
  fl::FlConfig cfg = small_config();
  cfg.lr = 1e30;
  try {
    run_fl(cfg, 4, 1);
    FAIL("the run did not stop");
  } catch (const RunDiverged& e) {
    const std::string what = e.what();
    CHECK(what.find("round 1") != std::string::npos);
    CHECK(what.find("task 'worker'") != std::string::npos);
    CHECK(what.find("diverged") != std::string::npos);
  }
}

TEST_CASE("an attack that blows the update up is caught at the worker that sent it", "[fl]") {
  // A scale of 1e39 is infinite in float: node 1's update is, and it is named.
  fl::FlConfig cfg = small_config();
  cfg.attack = Dict{{"kind", "scaling"}, {"nodes", std::vector<NodeId>{1}}, {"scale", 1e39}};
  try {
    run_fl(cfg, 4, 1);
    FAIL("the run did not stop");
  } catch (const RunDiverged& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find("task 'worker' on node 1") != std::string::npos);
  }
  // 1e37 is finite in float, and so is the update; the model it makes is not, and the
  // evaluation that finds it says so.
  cfg.attack["scale"] = 1e37;
  try {
    run_fl(cfg, 4, 1);
    FAIL("the run did not stop");
  } catch (const RunDiverged& e) {
    CHECK(std::string(e.what()).find("diverged") != std::string::npos);
  }
}
