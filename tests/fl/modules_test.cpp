#include "swarm/fl/modules.hpp"

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "swarm/controller.hpp"
#include "swarm/fl/fl_swarm.hpp"
#include "tests/synthetic_split.hpp"

using namespace swarm;

namespace {

// FLSwarm with global "hyperparameters" replaced (an empty dict: FLSwarm's own, flat).
class HyperparameterSwarm : public fl::FLSwarm {
 public:
  HyperparameterSwarm(const fl::FlConfig& config, const Dict& hyperparameters) : FLSwarm(config) {
    if (!hyperparameters.is_null()) set_global("hyperparameters", hyperparameters);
  }
};

fl::FlConfig small_config() {
  fl::FlConfig cfg;
  cfg.layers = {16, 8, 4};
  cfg.max_rounds = 2;
  cfg.batch_size = 16;
  cfg.lr = 0.05;
  cfg.momentum = 0.9;
  return cfg;
}

// The final global model of a 2-round run on 3 nodes.
std::vector<float> final_model(const Dict& hyperparameters) {
  const auto [train, test] = testing::synthetic_split(600, 5, 2);
  ModuleRegistry reg;
  fl::register_modules(reg);
  HyperparameterSwarm s(small_config(), hyperparameters);
  SwarmGraph g = s.build(reg);
  auto logger = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
  InProcessBackend backend(reg, fl::make_iid_nodes(train, test, 3, 1), 1, logger, LocalData{{"test", test}});
  Controller c(g, backend, {.seed = 1, .max_iterations = 10});
  c.run();
  const Tensor t = to_tensor(*c.state().global("global_model_params"));
  return t.values;
}

// The seed page's layout (docs of Manta, FLSwarm), with FlConfig's numbers.
Dict seed_layout() {
  return Dict{{"epochs", 1},
              {"batch_size", 16},
              {"loss", "CrossEntropyLoss"},
              {"loss_params", {}},  // null, as `{}` is in a Dict initializer: read as {}
              {"optimizer", "SGD"},
              {"optimizer_params", {{"lr", 0.05}, {"momentum", 0.9}}}};
}

}  // namespace

TEST_CASE("fl.worker reads the seed page's hyperparameters with the same numbers as the flat ones", "[fl][modules]") {
  const std::vector<float> flat = final_model(Dict{});
  const std::vector<float> explicit_flat = final_model(
      Dict{{"epochs", 1}, {"batch_size", 16}, {"lr", 0.05}, {"momentum", 0.9}});
  const std::vector<float> seed = final_model(seed_layout());
  REQUIRE(flat == explicit_flat);
  REQUIRE(seed == flat);  // bit for bit
  // And the settings matter: another lr trains another model.
  Dict other = seed_layout();
  other["optimizer_params"]["lr"] = 0.1;
  REQUIRE(final_model(other) != flat);
}

TEST_CASE("fl.worker refuses other losses, optimizers and a conflicting mix of layouts", "[fl][modules]") {
  auto refused = [](const std::function<void(Dict&)>& edit, const std::string& message) {
    Dict hp = seed_layout();
    edit(hp);
    INFO(hp.dump());
    REQUIRE_THROWS_AS(final_model(hp), TaskFailed);
    REQUIRE_THROWS_WITH(final_model(hp), Catch::Contains(message));
  };
  refused([](Dict& hp) { hp["lr"] = 0.05; }, "'lr' is given both in optimizer_params and beside it");
  refused([](Dict& hp) { hp["momentum"] = 0.5; }, "'momentum' is given both");
  refused([](Dict& hp) { hp["loss"] = "MSELoss"; }, "loss \"MSELoss\" is not supported");
  refused([](Dict& hp) { hp["optimizer"] = "Adam"; }, "optimizer \"Adam\" is not supported");
  refused([](Dict& hp) { hp["optimizer_params"]["nesterov"] = true; }, "optimizer_params: unknown entry 'nesterov'");
  refused([](Dict& hp) { hp["loss_params"] = Dict{{"weight", 1}}; }, "loss_params must be empty");
  refused([](Dict& hp) { hp["optimizer_params"] = 0.1; }, "entry 'optimizer_params' must be a dict");
  refused([](Dict& hp) { hp["optimizer_params"].erase("lr"); }, "global 'hyperparameters' has no entry 'lr'");
}
