// Checkpoints of whole runs (scenario/checkpoint.hpp): a run that stops after any round goes on
// from its checkpoint to the very numbers of a run that never stopped; a damaged, foreign or
// missing checkpoint is refused with what is wrong, and left as it was.

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "scenario/checkpoint.hpp"
#include "scenario/runner.hpp"
#include "swarm/error.hpp"

using namespace swarm;
using namespace swarm::scenario;
namespace fs = std::filesystem;

namespace {

const char* kRun = R"(name: resumable
seed: 11
backend: inprocess
swarm: {rounds: 5, clients_per_round: 4}
model: {hidden: [16]}
training: {batch_size: 16}
data: {dataset: synthetic, samples: 2400, features: 16, classes: 4, separation: 1.0}
population: {nodes: 6}
)";

// Stands for a process killed at the end of a round: throws once `rounds` rounds are done,
// after the checkpoint of the last one is written (observers added after the runner's own).
struct CrashAfter : ControllerObserver {
  explicit CrashAfter(int rounds) : rounds(rounds) {}
  void on_iteration_end(const IterationReport& r, const SwarmState&) override {
    if (r.iteration + 1 == rounds) throw std::runtime_error("crash");
  }
  int rounds;
};

std::shared_ptr<spdlog::logger> quiet() {
  return std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
}

Scenario load(const std::string& text = kRun) {
  std::vector<Scenario> runs = load_runs(text, "resumable.yaml");
  REQUIRE(runs.size() == 1);
  return runs[0];
}

RunContext context(const fs::path& checkpoint, bool resume) {
  RunContext ctx{2, quiet(), {}, "test"};
  ctx.checkpoint = checkpoint;
  ctx.resume = resume;
  return ctx;
}

fs::path fresh(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A checkpoint of kRun after `rounds` rounds, at `path`.
void interrupted_run(const fs::path& path, int rounds) {
  DataCache cache;
  CrashAfter crash(rounds);
  RunContext ctx = context(path, false);
  ctx.observers.push_back(&crash);
  REQUIRE_THROWS_WITH(run_scenario(load(), ctx, cache), "crash");
  REQUIRE(fs::exists(path));
}

// The message of the E that `f` throws ("" and a failed check when it throws nothing or another).
template <class E, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("another exception: " << e.what());
  }
  FAIL("no exception");
  return "";
}

}  // namespace

TEST_CASE("a run resumed from its checkpoint after any round ends as one that never stopped", "[runner][checkpoint]") {
  DataCache cache;
  const results::RunResult whole = run_scenario(load(), {2, quiet(), {}, "test"}, cache);
  REQUIRE(whole.rounds.size() == 5);
  const fs::path dir = fresh("swarm_checkpoint_resume");
  for (int after : {1, 3, 4}) {
    INFO("interrupted after round " << after);
    const fs::path path = dir / ("after-" + std::to_string(after) + ".checkpoint");
    interrupted_run(path, after);
    size_t restored = 0;
    RunContext ctx = context(path, true);
    ctx.on_resume = [&](const std::vector<results::RoundRow>& rows) { restored = rows.size(); };
    const results::RunResult resumed = run_scenario(load(), ctx, cache);
    CHECK(restored == static_cast<size_t>(after));
    REQUIRE(resumed.rounds.size() == whole.rounds.size());
    for (size_t i = 0; i < whole.rounds.size(); ++i) {
      CHECK(resumed.rounds[i].round == whole.rounds[i].round);
      CHECK(resumed.rounds[i].accuracy == whole.rounds[i].accuracy);
      CHECK(resumed.rounds[i].loss == whole.rounds[i].loss);
      CHECK(resumed.rounds[i].participants == whole.rounds[i].participants);
      if (i > 0) CHECK(resumed.rounds[i].t_end_s >= resumed.rounds[i - 1].t_end_s);  // the clock goes on
    }
    CHECK(resumed.final_model == whole.final_model);
    REQUIRE(resumed.nodes.size() == whole.nodes.size());
    for (size_t i = 0; i < whole.nodes.size(); ++i) CHECK(resumed.nodes[i].rounds_participated == whole.nodes[i].rounds_participated);
  }
}

TEST_CASE("a damaged, foreign or missing checkpoint is refused and left as it was", "[runner][checkpoint]") {
  const fs::path dir = fresh("swarm_checkpoint_refused");
  const fs::path path = dir / "run.checkpoint";
  interrupted_run(path, 2);
  const std::string good = bytes_of(path);
  DataCache cache;
  const auto resume = [&](const std::string& text) { return run_scenario(load(text), context(path, true), cache); };

  SECTION("one byte of its body changed") {
    std::string bad = good;
    bad[bad.size() - 40] ^= 0x20;
    std::ofstream(path, std::ios::binary) << bad;
    CHECK_THAT(error_of<DataError>([&] { resume(kRun); }), Catch::Matchers::Contains("damaged checkpoint (its crc32 does not match)"));
    CHECK(bytes_of(path) == bad);
  }
  SECTION("cut short") {
    std::ofstream(path, std::ios::binary) << good.substr(0, good.size() / 2);
    CHECK_THAT(error_of<DataError>([&] { resume(kRun); }), Catch::Matchers::Contains("not a swarmsim checkpoint"));
  }
  SECTION("another file") {
    std::ofstream(path, std::ios::binary) << "name: not a checkpoint\n";
    CHECK_THAT(error_of<DataError>([&] { resume(kRun); }), Catch::Matchers::Contains("not a swarmsim checkpoint"));
  }
  SECTION("of another scenario or seed") {
    std::string other = kRun;
    other.replace(other.find("seed: 11"), 8, "seed: 12");
    CHECK_THAT(error_of<UsageError>([&] { resume(other); }), Catch::Matchers::Contains("a checkpoint of another run"));
    std::string lr = std::string(kRun) + "strategy: {name: fedmedian}\n";
    CHECK_THAT(error_of<UsageError>([&] { resume(lr); }), Catch::Matchers::Contains("a checkpoint of another run"));
    CHECK(bytes_of(path) == good);
  }
  SECTION("missing") {
    fs::remove(path);
    CHECK_THAT(error_of<DataError>([&] { resume(kRun); }), Catch::Matchers::Contains("cannot read the checkpoint"));
  }
}

TEST_CASE("where a run happens is not part of what it is: run_identity", "[runner][checkpoint]") {
  const std::string a = run_identity("name: x\nseed: 1\nbackend: nodes\nbackend_options: {bind: 'tcp://127.0.0.1:1'}\n");
  const std::string b = run_identity("name: x\nseed: 1\nbackend: inprocess\n");
  CHECK(a == b);
  CHECK(run_identity("name: x\nseed: 1\ndeploy: {launcher: none, heartbeat_ms: 50}\n") == b);
  CHECK(run_identity("name: x\nseed: 1\n") != run_identity("name: x\nseed: 2\n"));
}

TEST_CASE("a simulated run takes no checkpoint", "[runner][checkpoint]") {
  std::string sim = kRun;
  sim.replace(sim.find("backend: inprocess"), 18, "backend: sim");
  DataCache cache;
  const fs::path dir = fresh("swarm_checkpoint_sim");
  REQUIRE_THROWS_AS(run_scenario(load(sim), context(dir / "c", false), cache), UsageError);
  CHECK_FALSE(fs::exists(dir / "c"));
}
