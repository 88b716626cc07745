// The files a run writes: results, metrics and traces, and what happens when writing them fails.

#include <catch2/catch.hpp>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "results/results.hpp"
#include "swarm/ml/kernel.hpp"
#include "tests/cli/run_cli.hpp"

using swarm::testing::fresh_dir;
using swarm::testing::swarm_cli;
using swarm::testing::write_file;
namespace fs = std::filesystem;

namespace {

// The rows of a CSV file (header first), split at commas.
std::vector<std::vector<std::string>> read_csv(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream cells_in(line);
    std::string cell;
    while (std::getline(cells_in, cell, ',')) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

double parse_double(const std::string& text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  REQUIRE(ec == std::errc());
  REQUIRE(end == text.data() + text.size());
  return value;
}

}  // namespace

// Issue 9 item 10: the CSVs printed 6 significant digits (10 ms lost past 1000 s). Every time
// parsed back from them must be the very double the results file holds.
TEST_CASE("times in --metrics and --trace CSVs round-trip to the same double", "[cli][output]") {
  const fs::path dir = fresh_dir("swarm_output_csv_round_trip");
  const swarm::testing::CliResult r =
      swarm_cli("run --synthetic --nodes 3 --hidden 16 --rounds 2 --threads 1 --out " + (dir / "run.h5").string() +
                " --metrics " + (dir / "m.csv").string() + " --trace " + (dir / "t.csv").string());
  INFO(r.out);
  REQUIRE(r.code == 0);
  const std::vector<swarm::results::RunResult> runs = swarm::results::read_results(dir / "run.h5");
  REQUIRE(runs.size() == 1);
  const swarm::results::RunResult& run = runs[0];

  const auto metrics = read_csv(dir / "m.csv");
  REQUIRE(metrics.size() == run.rounds.size() + 1);
  REQUIRE(metrics[0][1] == "t_start_s");
  REQUIRE(metrics[0][2] == "t_end_s");
  REQUIRE(metrics[0][4] == "accuracy");
  for (size_t i = 0; i < run.rounds.size(); ++i) {
    CHECK(parse_double(metrics[i + 1][1]) == run.rounds[i].t_start_s);
    CHECK(parse_double(metrics[i + 1][2]) == run.rounds[i].t_end_s);
    CHECK(parse_double(metrics[i + 1][4]) == run.rounds[i].accuracy);
    CHECK(parse_double(metrics[i + 1][5]) == run.rounds[i].loss);
  }

  const auto trace = read_csv(dir / "t.csv");
  REQUIRE(run.trace.size() > 10);
  REQUIRE(trace.size() == run.trace.size() + 1);
  size_t beyond_six_digits = 0;  // times that 6 significant digits would have rounded
  for (size_t i = 0; i < run.trace.size(); ++i) {
    const double t = parse_double(trace[i + 1][0]);
    CHECK(t == run.trace[i].time_s);
    char six[32];
    std::snprintf(six, sizeof six, "%g", run.trace[i].time_s);
    if (parse_double(six) != run.trace[i].time_s) ++beyond_six_digits;
  }
  CHECK(beyond_six_digits > 0);  // the run's times do need more than 6 digits
}

namespace {

// A two-point sweep small enough to run in a second or two.
std::string small_sweep(int rounds) {
  return "name: small\nseed: 3\nswarm: {graph: fl, rounds: " + std::to_string(rounds) +
         "}\nmodel: {hidden: [16]}\ndata: {dataset: synthetic}\npopulation: {nodes: 3}\n"
         "sweep:\n  training.lr: [0.05, 0.1]\n";
}

}  // namespace

// Issue 9 item 6: a sweep silently reopened an old .partial with the same --out (without
// --resume, and after the scenario was edited), mixing old runs and new ones.
TEST_CASE("sweep refuses a leftover .partial without --resume, and runs that changed with it", "[cli][output]") {
  const fs::path dir = fresh_dir("swarm_output_sweep_resume");
  const fs::path scenario = write_file(dir, "s.yaml", small_sweep(2));
  const std::string out = (dir / "s.h5").string();
  swarm::testing::CliResult r = swarm_cli("sweep " + scenario.string() + " --threads 2 --out " + out);
  INFO(r.out);
  REQUIRE(r.code == 0);
  const auto original = swarm::results::read_results(out);
  REQUIRE(original.size() == 2);

  // As if interrupted: the file is back to its .partial name.
  fs::rename(out, out + ".partial");
  r = swarm_cli("sweep " + scenario.string() + " --threads 2 --out " + out);
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains(out + ".partial") && Catch::Contains("--resume"));
  CHECK(fs::exists(out + ".partial"));

  // The scenario edited: resuming would mix runs of 2 rounds with runs of 3.
  write_file(dir, "s.yaml", small_sweep(3));
  r = swarm_cli("sweep " + scenario.string() + " --threads 2 --resume --out " + out);
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("training.lr=0.05") && Catch::Contains("different scenario"));

  // The scenario as it was: the runs are kept, none run again.
  write_file(dir, "s.yaml", small_sweep(2));
  r = swarm_cli("sweep " + scenario.string() + " --threads 2 --resume --out " + out);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("2 already in"));
  CHECK(swarm::results::read_results(out).size() == 2);

  // A finished file resumed with an edited scenario is refused and left where it was.
  write_file(dir, "s.yaml", small_sweep(3));
  r = swarm_cli("sweep " + scenario.string() + " --threads 2 --resume --out " + out);
  CHECK(r.code == 2);
  CHECK(fs::exists(out));
  CHECK_FALSE(fs::exists(out + ".partial"));
}

// Issue 9 items 16, 18: `report --format csv` said "File does not exist: csv".
TEST_CASE("report prints markdown, csv or json", "[cli][output]") {
  const fs::path dir = fresh_dir("swarm_output_report_formats");
  const fs::path scenario = write_file(dir, "s.yaml", small_sweep(2));
  const std::string out = (dir / "s.h5").string();
  REQUIRE(swarm_cli("sweep " + scenario.string() + " --threads 2 --out " + out).code == 0);

  swarm::testing::CliResult md = swarm_cli("report " + out);
  CHECK(md.code == 0);
  CHECK_THAT(md.out, Catch::StartsWith("| training.lr | replicates | final accuracy"));

  swarm::testing::CliResult csv = swarm_cli("report --format csv " + out);
  INFO(csv.out);
  CHECK(csv.code == 0);
  CHECK_THAT(csv.out, Catch::StartsWith("training.lr,replicates,final_accuracy_mean,final_accuracy_std,"));
  CHECK_THAT(csv.out, Catch::Contains("\n0.05,1,") && Catch::Contains("\n0.1,1,"));

  swarm::testing::CliResult json = swarm_cli("report --format json --target 0.2 " + out);
  CHECK(json.code == 0);
  CHECK_THAT(json.out, Catch::Contains("\"training.lr\": 0.05") && Catch::Contains("\"target_accuracy\": 0.2"));

  swarm::testing::CliResult bad = swarm_cli("report --format xml " + out);
  CHECK(bad.code == 2);
  CHECK_THAT(bad.out, Catch::Contains("--format"));
}

// Issue 9 item 11, through the binary: damaged files give exit 2 naming the file, or the very
// report of the intact file; never a crash.
TEST_CASE("report on a damaged results file exits 2 naming it, never crashes", "[cli][output]") {
  const fs::path dir = fresh_dir("swarm_output_report_damaged");
  const std::string good = (dir / "good.h5").string();
  REQUIRE(swarm_cli("run --synthetic --nodes 3 --hidden 16 --rounds 2 --threads 1 --out " + good).code == 0);
  const swarm::testing::CliResult intact = swarm_cli("report --format csv " + good);
  REQUIRE(intact.code == 0);
  std::ifstream in(good, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  const std::string damaged = (dir / "damaged.h5").string();
  int refused = 0;
  for (size_t i = 0; i < 12; ++i) {
    std::vector<char> mutated = bytes;
    const size_t at = (i * 2 + 1) * bytes.size() / 25;
    mutated[at] ^= static_cast<char>(0x10);
    std::ofstream(damaged, std::ios::binary | std::ios::trunc).write(mutated.data(), static_cast<std::streamsize>(mutated.size()));
    const swarm::testing::CliResult r = swarm_cli("report --format csv " + damaged);
    INFO("bit 4 of byte " << at << ": " << r.out);
    if (r.code == 2) {
      ++refused;
      CHECK_THAT(r.out, Catch::Contains(damaged));
    } else {
      CHECK(r.code == 0);
      CHECK(r.out == intact.out);
    }
  }
  CHECK(refused > 0);
}

// Issue 9 item 18: `swarm partition` of a million-node scenario quietly wrote 7.6 GB.
TEST_CASE("partition estimates the CSV's size and refuses more than 1 GB without --force", "[cli][output]") {
  const fs::path dir = fresh_dir("swarm_output_partition_size");
  const std::string csv = (dir / "p.csv").string();
  // 200000 nodes x 500 samples: 10^8 lines of about 13 bytes (100 clients a round, so that
  // the scenario itself fits in memory: it is checked as one that would run).
  const swarm::testing::CliResult r =
      swarm_cli("partition --synthetic --nodes 200000 --clients-per-round 100 --set data.partition=sampled "
                "--set data.samples_per_node=500 "
                "-o " + csv);
  INFO(r.out);
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("MB") && Catch::Contains("--force"));
  CHECK_FALSE(fs::exists(csv));

  const swarm::testing::CliResult small = swarm_cli("partition --synthetic --nodes 4 -o " + csv);
  CHECK(small.code == 0);
  CHECK_THAT(small.out, Catch::Contains("writing about"));
  CHECK(fs::exists(csv));
}

// Issue 13 item 1: the kernel is chosen at run time, printed, recorded, and a named kernel
// gives the same numbers on every run.
TEST_CASE("a run prints and records its GEMM kernel; a named one repeats its numbers", "[cli][output][kernel]") {
  const fs::path dir = fresh_dir("swarm_output_kernel");
  const std::string common = "run --synthetic --nodes 3 --hidden 16 --rounds 2 --threads 1 --seed 5 ";
  std::vector<std::vector<float>> models;
  for (swarm::ml::Kernel k : swarm::ml::available_kernels()) {
    const std::string name(swarm::ml::kernel_name(k));
    for (int rep = 0; rep < 2; ++rep) {
      const fs::path out = dir / (name + std::to_string(rep) + ".h5");
      const swarm::testing::CliResult r = swarm_cli(common + "--kernel " + name + " --out " + out.string());
      INFO(r.out);
      REQUIRE(r.code == 0);
      CHECK_THAT(r.out, Catch::Contains("# GEMM kernel " + name + " (" + swarm::ml::kernel_identity(k) + "): named"));
      const std::vector<swarm::results::RunResult> runs = swarm::results::read_results(out);
      REQUIRE(runs.size() == 1);
      CHECK(runs[0].kernel == name + ": " + swarm::ml::kernel_identity(k));
      CHECK_THAT(runs[0].scenario_text, Catch::Contains("kernel: " + name));
      models.push_back(runs[0].final_model);
    }
    CHECK(models[models.size() - 1] == models[models.size() - 2]);  // same kernel, same seed: same bits
  }
  // auto: one of the built-in kernels, with the speeds it chose by when there are two.
  const swarm::testing::CliResult a = swarm_cli(common + "--out " + (dir / "auto.h5").string());
  INFO(a.out);
  REQUIRE(a.code == 0);
  const std::string recorded = swarm::results::read_results(dir / "auto.h5")[0].kernel;
  CHECK((recorded.rfind("openblas: ", 0) == 0 || recorded.rfind("eigen: ", 0) == 0));
  if (swarm::ml::available_kernels().size() > 1) CHECK_THAT(a.out, Catch::Contains("GFLOP/s on a training step of"));
  // Another invocation takes the choice remembered for the model: the same kernel, the same bits.
  const swarm::testing::CliResult b = swarm_cli(common + "--out " + (dir / "auto2.h5").string());
  INFO(b.out);
  REQUIRE(b.code == 0);
  const swarm::results::RunResult second = swarm::results::read_results(dir / "auto2.h5")[0];
  CHECK(second.kernel == recorded);
  CHECK(second.final_model == swarm::results::read_results(dir / "auto.h5")[0].final_model);
  if (swarm::ml::available_kernels().size() > 1) CHECK_THAT(b.out, Catch::Contains("(remembered in "));
}

TEST_CASE("an unknown kernel is refused where it is given", "[cli][output][kernel]") {
  const swarm::testing::CliResult flag = swarm_cli("run --synthetic --rounds 1 --kernel fastest");
  CHECK(flag.code == 2);
  CHECK_THAT(flag.out, Catch::Contains("--kernel") && Catch::Contains("auto"));
  const fs::path dir = fresh_dir("swarm_output_kernel_file");
  std::ofstream(dir / "k.yaml") << "data:\n  dataset: synthetic\ntraining:\n  kernel: blas\n";
  const swarm::testing::CliResult file = swarm_cli("validate " + (dir / "k.yaml").string());
  CHECK(file.code == 2);
  CHECK_THAT(file.out, Catch::Contains("k.yaml:4") && Catch::Contains("training.kernel") && Catch::Contains("eigen"));
}
