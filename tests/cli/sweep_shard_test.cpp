// Issue 12 item 4: `swarm sweep --shard I/N` and `swarm merge`, as a user runs them: the shards
// of a sweep merged are the one-machine sweep, and every mistake is refused with a message.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "results/results.hpp"
#include "tests/cli/run_cli.hpp"
#include "tests/results/run_equality.hpp"

namespace fs = std::filesystem;
using swarm::testing::fresh_dir;
using swarm::testing::swarm_cli;
using swarm::testing::write_file;

namespace {

// 3 points x 2 replicates of a small synthetic swarm: 6 runs of well under a second each.
std::string tiny_sweep(int seed = 5) {
  return "name: shards\nseed: " + std::to_string(seed) +
         "\nreplicates: 2\nswarm: {rounds: 2}\nmodel: {hidden: [8]}\n"
         "data: {dataset: synthetic, samples: 1200, features: 8, classes: 3, separation: 1.0}\n"
         "population: {nodes: 4}\nsweep:\n  strategy.name: [fedavg, fedmedian, trimmed_mean]\n";
}

// The runs of two files equal as docs/results.md ("Sweeps and shards") defines it: the same
// sweep record, the same runs in the same order, every attribute, row and value equal except
// the host's wall-clock column `wall_s` of `rounds`.
void require_identical_but_wall(const fs::path& a, const fs::path& b) {
  const swarm::results::ResultsFile x = swarm::results::read_results_file(a);
  const swarm::results::ResultsFile y = swarm::results::read_results_file(b);
  REQUIRE(x.sweep.has_value());
  REQUIRE(y.sweep.has_value());
  CHECK(*x.sweep == *y.sweep);
  REQUIRE(x.runs.size() == y.runs.size());
  for (size_t i = 0; i < x.runs.size(); ++i) swarm::testing::check_same_run(x.runs[i], y.runs[i], swarm::testing::WallClock::Ignore);
}

std::vector<std::string> run_names(const fs::path& file) {
  std::vector<std::string> names;
  for (const auto& r : swarm::results::read_results(file)) names.push_back(r.name);
  return names;
}

}  // namespace

TEST_CASE("shards of a sweep merged equal the one-machine sweep, split in 2 and in 3", "[cli][shard]") {
  const fs::path dir = fresh_dir("swarm_cli_shards");
  const fs::path scenario = write_file(dir, "s.yaml", tiny_sweep());
  const fs::path plain = dir / "plain.h5";
  // One job: the plain sweep writes its runs in the sweep's order, which merge writes.
  auto r = swarm_cli("sweep " + scenario.string() + " --jobs 1 --threads 2 --out " + plain.string());
  INFO(r.out);
  REQUIRE(r.code == 0);
  const std::vector<std::string> order = run_names(plain);
  REQUIRE(order.size() == 6);
  CHECK(order.front() == "strategy.name=fedavg,rep0");
  CHECK(order.back() == "strategy.name=trimmed_mean,rep1");

  for (int shards : {2, 3}) {
    INFO(shards << " shards");
    std::string parts;
    for (int shard = 1; shard <= shards; ++shard) {
      const fs::path part = dir / ("part-" + std::to_string(shards) + "-" + std::to_string(shard) + ".h5");
      r = swarm_cli("sweep " + scenario.string() + " --shard " + std::to_string(shard) + "/" + std::to_string(shards) +
                    " --jobs 2 --threads 2 --out " + part.string());
      INFO(r.out);
      REQUIRE(r.code == 0);
      CHECK_THAT(r.out, Catch::Contains(std::to_string(6 / shards) + " runs of shard " + std::to_string(shard) + "/" +
                                        std::to_string(shards)));
      // Round-robin: shard I holds the runs at positions k with k % N == I - 1.
      std::vector<std::string> held = run_names(part), expected;
      for (size_t k = static_cast<size_t>(shard - 1); k < order.size(); k += static_cast<size_t>(shards)) {
        expected.push_back(order[k]);
      }
      std::sort(held.begin(), held.end());
      std::sort(expected.begin(), expected.end());
      CHECK(held == expected);
      const auto record = swarm::results::read_results_file(part).sweep;
      REQUIRE(record.has_value());
      CHECK(record->shard == shard);
      CHECK(record->shards == shards);
      CHECK(record->runs == order);
      parts += ' ';  // apart: GCC 12 warns falsely (-Wrestrict) on " " + string
      parts += part.string();
    }
    const fs::path all = dir / ("all-" + std::to_string(shards) + ".h5");
    r = swarm_cli("merge" + parts + " --out " + all.string());
    INFO(r.out);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("merge: 6 runs of " + std::to_string(shards) + " shard(s) into " + all.string()));
    require_identical_but_wall(all, plain);
    // The report of the merged file is the plain sweep's, character for character.
    CHECK(swarm_cli("report " + all.string() + " --format csv").out ==
          swarm_cli("report " + plain.string() + " --format csv").out);
  }
}

TEST_CASE("sweep --shard takes I/N with 1 <= I <= N <= runs and refuses anything else before writing", "[cli][shard]") {
  const fs::path dir = fresh_dir("swarm_cli_shard_flags");
  const fs::path scenario = write_file(dir, "s.yaml", tiny_sweep());
  const fs::path out = dir / "part.h5";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"0/2", "I must be in [1, 2]"},
      {"3/2", "I must be in [1, 2]"},
      {"1/0", "N must be at least 1"},
      {"2", "no '/'"},
      {"a/2", "'a' is not a whole number"},
      {"1/-2", "'-2' is not a whole number"},
      {"1/", "'' is not a whole number"},
      {"1/99999999999", "'99999999999' is not a whole number"},
      {"''", "got '': no '/'"},
      {"1/7", "defines 6 run(s), fewer than 7 shards"},
  };
  for (const auto& [value, message] : bad) {
    auto r = swarm_cli("sweep " + scenario.string() + " --shard " + value + " --out " + out.string());
    INFO("--shard " << value << ": " << r.out);
    CHECK(r.code == 2);
    CHECK_THAT(r.out, Catch::Contains(message));
    if (value != "1/7") CHECK_THAT(r.out, Catch::Contains("--shard: expected I/N"));
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(out.string() + ".partial"));
  }
}

TEST_CASE("a shard resumes its own runs and refuses a file of another shard", "[cli][shard]") {
  const fs::path dir = fresh_dir("swarm_cli_shard_resume");
  const fs::path scenario = write_file(dir, "s.yaml", tiny_sweep());
  const std::string part = (dir / "part-1.h5").string();
  auto r = swarm_cli("sweep " + scenario.string() + " --shard 1/3 --threads 2 --out " + part);
  REQUIRE(r.code == 0);
  r = swarm_cli("sweep " + scenario.string() + " --shard 1/3 --threads 2 --out " + part + " --resume");
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("2 runs of shard 1/3, 2 already in") && Catch::Contains("running 0"));
  // Shard 2's runs into shard 1's file: refused, naming a run that is not shard 2's.
  r = swarm_cli("sweep " + scenario.string() + " --shard 2/3 --threads 2 --out " + part + " --resume");
  INFO(r.out);
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("holds run 'strategy.name=fedavg,rep0'") && Catch::Contains("in shard 2/3"));
  CHECK(fs::exists(part));  // left as it was
  CHECK(swarm::results::read_results_file(part).sweep->shard == 1);
}

TEST_CASE("merge refuses other sweeps, other splits, overlaps, missing shards and damaged files", "[cli][shard]") {
  const fs::path dir = fresh_dir("swarm_cli_merge_refusals");
  const fs::path scenario = write_file(dir, "s.yaml", tiny_sweep());
  const fs::path other = write_file(dir, "other.yaml", tiny_sweep(6));  // another seed: another sweep
  auto shard = [&](const fs::path& file, const std::string& which, const std::string& name) {
    const std::string out = (dir / name).string();
    auto r = swarm_cli("sweep " + file.string() + " --shard " + which + " --threads 2 --out " + out);
    INFO(r.out);
    REQUIRE(r.code == 0);
    return out;
  };
  const std::string p1 = shard(scenario, "1/2", "p1.h5"), p2 = shard(scenario, "2/2", "p2.h5");
  const std::string q2 = shard(other, "2/2", "q2.h5");
  const std::string t2 = shard(scenario, "2/3", "t2.h5");
  const std::string out = (dir / "all.h5").string();
  auto refused = [&](const std::string& args, const std::string& message) {
    auto r = swarm_cli("merge " + args + " --out " + out);
    INFO("merge " << args << ": " << r.out);
    CHECK(r.code == 2);
    CHECK_THAT(r.out, Catch::Contains(message));
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(out + ".partial"));
  };
  refused(p1 + " " + q2, q2 + ": a shard of another sweep than " + p1);
  refused(p1 + " " + t2, t2 + ": shard 2/3, but " + p1 + " is shard 1/2");
  fs::copy_file(p2, dir / "p2-again.h5");
  refused(p1 + " " + p2 + " " + (dir / "p2-again.h5").string(), "are both shard 2/2 (their runs overlap)");
  refused(p1 + " " + p1, p1 + " is given twice");
  refused(p1, "the files hold 3 of the sweep's 6 runs; missing shard(s) 2/2");
  const std::string single = (dir / "single.h5").string();
  REQUIRE(swarm_cli("run --synthetic --rounds 1 --nodes 2 --hidden 4 --threads 2 --out " + single).code == 0);
  refused(p1 + " " + single, single + ": has no sweep record");
  refused(p1 + " " + scenario.string(), "results file " + scenario.string() + ": not an HDF5 file");
  // A damaged shard: one character of a run's scenario text changed.
  {
    std::ifstream in(p2, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    const size_t at = bytes.find("name: shards");
    REQUIRE(at != std::string::npos);
    bytes[at + 6] = 'S';
    std::ofstream(p2, std::ios::binary | std::ios::trunc) << bytes;
  }
  refused(p1 + " " + p2, "results file " + p2 + ": run '");
  refused(p1 + " " + p2, "is damaged");
  // Never over a file: an existing --out is kept.
  std::ofstream(out) << "mine";
  auto r = swarm_cli("merge " + p1 + " " + (dir / "p2-again.h5").string() + " --out " + out);
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains(out + " exists; merge never replaces a file"));
  CHECK(fs::file_size(out) == 4);
  fs::remove(out);
  r = swarm_cli("merge " + p1 + " " + (dir / "p2-again.h5").string() + " --out " + out);
  INFO(r.out);
  CHECK(r.code == 0);
}
