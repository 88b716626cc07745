#include "results/results.hpp"

#include <hdf5.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <fstream>
#include <string>

#include "swarm/error.hpp"
#include "results/merge.hpp"
#include "results/report.hpp"
#include "tests/results/run_equality.hpp"

#include <nlohmann/json.hpp>

using namespace swarm;
using namespace swarm::results;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test, removed at the end.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    dir_ = fs::temp_directory_path() /
           ("swarm_results_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path operator/(const std::string& name) const { return dir_ / name; }

 private:
  fs::path dir_;
};

fs::path partial_of(const fs::path& path) { return fs::path(path.string() + ".partial"); }

RoundRow round_row(int32_t round, double accuracy, double t_start, double t_end) {
  RoundRow r;
  r.round = round;
  r.t_start_s = t_start;
  r.t_end_s = t_end;
  r.accuracy = accuracy;
  return r;
}

// A run with every field set to something distinct.
RunResult full_run(const std::string& name, int replicate, bool with_trace) {
  RunResult run;
  run.name = name;
  run.scenario_text = "swarm: fl\nrounds: 2\n# a comment with ünïcödé\n";
  run.point = {{"strategy", "krum"}, {"partition.alpha", "0.5"}};
  run.replicate = replicate;
  run.seed = 0xFEDCBA9876543210ull + replicate;  // above 2^63: needs an unsigned attribute
  run.version = "0.1.0";
  for (int i = 0; i < 2; ++i) {
    RoundRow r;
    r.round = i + 1;
    r.t_start_s = 10.0 * i;
    r.t_end_s = 10.0 * i + 9.5;
    r.wall_s = 0.25 + i;
    r.accuracy = 0.5 + 0.1 * i;
    r.loss = 1.5 - 0.2 * i;
    r.participants = 7 + i;
    r.instances = 10 + i;
    r.failed = 1 + i;
    r.lost_crash = 2 + i;
    r.lost_transfer = 3 + i;
    r.lost_offline = 4 + i;
    r.lost_deadline = 5 + i;
    r.lost_overcommit = 6 + i;
    r.bytes_up = 5'000'000'000ull + i;  // above 2^32
    r.bytes_down = 123456789ull * (i + 1);
    r.flops = 1ull << 50;
    r.stale = 3 * i;
    r.max_staleness = 2 * i;
    r.mean_staleness = 1.25 * i;
    r.unplaced = i;
    r.wire_bytes_up = 7'000'000'000ull + i;
    r.wire_bytes_down = i == 0 ? 0 : 99;  // 0: as a run without a wire writes
    run.rounds.push_back(r);
  }
  run.nodes = {{0, "phone", 600, 10, 2, 0, false, 2e9, "", 0, 0},
               {1, "laptop", 1200, 3, 1, 1, true, 0, "Haswell", 1, 5'000'000'000ull},
               {2, "", 0, 0, 0, 0, false, 1.5e10, "SkylakeX", 812, 44}};
  run.final_model = {1.5f, -2.25f, 0.0f, 3.0e-8f};
  if (with_trace) {
    run.trace = {{0.0, 1, "start", "worker", 7, 0},
                 {1.25, 1, "download_done", "worker", 7, 4096},
                 {2.5, 2, "crash", "worker", 8, 0}};
  }
  run.noise_multiplier = replicate == 0 ? 1.1 : 0.0;
  if (replicate == 1) {
    run.outcome = "diverged";
    run.outcome_message = "round 2: task worker produced a non-finite update";
  }
  return run;
}

// A run read back equals the run written, every field (the wall-clock column included).
void require_equal(const RunResult& a, const RunResult& b) { testing::check_same_run(a, b, testing::WallClock::Compare); }

std::set<std::string> names_of(const std::vector<RunResult>& runs) {
  std::set<std::string> names;
  for (const RunResult& r : runs) names.insert(r.name);
  return names;
}

// Raw HDF5 helpers, to build files the writer never writes.
void add_int_attribute(hid_t object, const char* name, int32_t value) {
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(object, name, H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(a >= 0);
  H5Awrite(a, H5T_NATIVE_INT32, &value);
  H5Aclose(a);
  H5Sclose(space);
}

void add_string_attribute(hid_t object, const char* name, const char* value) {
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(a >= 0);
  H5Awrite(a, type, &value);
  H5Aclose(a);
  H5Sclose(space);
  H5Tclose(type);
}

// File access properties for HDF5's latest format, as the writer uses (shared, never closed).
hid_t latest_format() {
  static const hid_t fapl = [] {
    hid_t p = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(p, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    return p;
  }();
  return fapl;
}

void add_double_dataset(hid_t group, const char* name, int rows) {
  std::vector<double> values(rows, 0.5);
  const hsize_t dims[1] = {static_cast<hsize_t>(rows)};
  hid_t space = H5Screate_simple(1, dims, nullptr);
  hid_t ds = H5Dcreate2(group, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(ds >= 0);
  H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  H5Dclose(ds);
  H5Sclose(space);
}

}  // namespace

TEST_CASE("runs round-trip through an HDF5 file, every field", "[results]") {
  TempDir dir;
  const fs::path path = dir / "sweep.h5";
  // Names are group names as they are, '%' and spaces included.
  const RunResult a = full_run("strategy=krum,partition.alpha=0.5,rep0", 0, true);
  RunResult b = full_run("100% IID,rep1", 1, false);
  b.point.clear();
  {
    ResultWriter writer(path, false);
    CHECK(writer.completed().empty());
    writer.write(a);
    writer.write(b);
    CHECK(writer.completed() == std::set<std::string>{a.name, b.name});
    writer.finish();
  }
  const std::vector<RunResult> runs = read_results(path);
  REQUIRE(runs.size() == 2);
  // In the order they were written, not by name ("1..." < "s...").
  require_equal(runs[0], a);
  require_equal(runs[1], b);
  CHECK(runs[1].trace.empty());  // not recorded: no trace dataset
}

TEST_CASE("a timing-only run keeps its mode, and its empty accuracy and loss as NaN", "[results]") {
  TempDir dir;
  const fs::path path = dir / "timing.h5";
  RunResult run = full_run("timing", 0, false);
  run.training_mode = "timing";
  for (RoundRow& r : run.rounds) r.accuracy = r.loss = std::numeric_limits<double>::quiet_NaN();
  {
    ResultWriter writer(path, false);
    writer.write(run);
    writer.finish();
  }
  const std::vector<RunResult> runs = read_results(path);  // the checksum covers the mode
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].training_mode == "timing");
  REQUIRE(runs[0].rounds.size() == run.rounds.size());
  for (const RoundRow& r : runs[0].rounds) {
    CHECK(std::isnan(r.accuracy));
    CHECK(std::isnan(r.loss));
  }
  // A real run's file has the attribute too, and one without it (older) reads as real.
  CHECK(RunResult{}.training_mode == "real");
}

// Issue 13: kernels give different numbers, so a run records its kernel, under the checksum.
TEST_CASE("a run's GEMM kernel is recorded under the checksum; older files read none", "[results][kernel]") {
  TempDir dir;
  const fs::path path = dir / "kernel.h5";
  RunResult run = full_run("k", 0, false);
  run.kernel = "eigen: Eigen 3.4.0 (AVX2, FMA)";
  RunResult older = full_run("old", 1, false);  // as written before the attribute existed
  {
    ResultWriter writer(path, false);
    writer.write(run);
    writer.write(older);
    writer.finish();
  }
  std::vector<RunResult> back = read_results(path);
  REQUIRE(back.size() == 2);
  CHECK(back[0].kernel == run.kernel);
  CHECK(back[1].kernel.empty());
  // The attribute removed, as if lost: the run's checksum no longer holds.
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(file >= 0);
  REQUIRE(H5Adelete_by_name(file, "/runs/k", "kernel", H5P_DEFAULT) >= 0);
  H5Fclose(file);
  CHECK_THROWS_WITH(read_results(path), Catch::Contains("k") && Catch::Contains("checksum"));
}

TEST_CASE("a report gives a timing-only run's accuracy as NaN, not 0", "[results][report]") {
  RunResult run;
  run.name = "timing";
  run.training_mode = "timing";
  for (int i = 0; i < 3; ++i) {
    RoundRow r{};
    r.round = i + 1;
    r.accuracy = r.loss = std::numeric_limits<double>::quiet_NaN();
    r.bytes_up = 1'000'000;
    run.rounds.push_back(r);
  }
  const std::vector<PointSummary> points = summarize({run}, {});
  REQUIRE(points.size() == 1);
  CHECK(std::isnan(points[0].final_accuracy_mean));
  CHECK(std::isnan(points[0].best_accuracy_mean));
  CHECK(points[0].megabytes_mean == Approx(3.0));  // what a timing run is for stays a number
}

TEST_CASE("a run with no rounds, nodes or model round-trips", "[results]") {
  TempDir dir;
  const fs::path path = dir / "empty.h5";
  RunResult run;
  run.name = "empty";
  {
    ResultWriter writer(path, false);
    writer.write(run);
    writer.finish();
  }
  const std::vector<RunResult> runs = read_results(path);
  REQUIRE(runs.size() == 1);
  require_equal(runs[0], run);
}

namespace {

// Rewrites table `name` of `group` without `dropped` columns, as a writer that did not know
// them wrote it.
void drop_columns(hid_t group, const char* name, const std::set<std::string>& dropped) {
  hid_t ds = H5Dopen2(group, name, H5P_DEFAULT);
  REQUIRE(ds >= 0);
  hid_t type = H5Dget_type(ds);
  size_t size = 0;
  std::vector<std::pair<std::string, hid_t>> kept;
  for (int i = 0; i < H5Tget_nmembers(type); ++i) {
    char* member = H5Tget_member_name(type, static_cast<unsigned>(i));
    if (dropped.count(member) == 0) {
      kept.emplace_back(member, H5Tget_member_type(type, static_cast<unsigned>(i)));
      size += H5Tget_size(kept.back().second);
    }
    H5free_memory(member);
  }
  REQUIRE(kept.size() + dropped.size() == static_cast<size_t>(H5Tget_nmembers(type)));
  hid_t smaller = H5Tcreate(H5T_COMPOUND, size);
  size_t offset = 0;
  for (const auto& [member, t] : kept) {
    H5Tinsert(smaller, member.c_str(), offset, t);
    offset += H5Tget_size(t);
  }
  hid_t space = H5Dget_space(ds);
  const auto rows = static_cast<size_t>(H5Sget_simple_extent_npoints(space));
  std::vector<char> buffer(std::max<size_t>(1, rows * size));
  REQUIRE(H5Dread(ds, smaller, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) >= 0);
  H5Dclose(ds);
  REQUIRE(H5Ldelete(group, name, H5P_DEFAULT) >= 0);
  hid_t again = H5Dcreate2(group, name, smaller, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(again >= 0);
  REQUIRE(H5Dwrite(again, smaller, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) >= 0);
  H5Dvlen_reclaim(smaller, space, H5P_DEFAULT, buffer.data());
  H5Dclose(again);
  H5Sclose(space);
  H5Tclose(smaller);
  for (auto& member : kept) H5Tclose(member.second);
  H5Tclose(type);
}

}  // namespace

TEST_CASE("a file written before the wire and node-speed columns reads with them 0, verified", "[results]") {
  TempDir dir;
  const fs::path path = dir / "older.h5";
  RunResult run = full_run("older", 0, true);
  for (RoundRow& r : run.rounds) r.wire_bytes_up = r.wire_bytes_down = 0;
  for (NodeRow& n : run.nodes) {
    n.flops_per_s = 0;
    n.kernel.clear();
    n.wire_bytes_up = n.wire_bytes_down = 0;
  }
  {
    ResultWriter writer(path, false);
    writer.write(run);
    writer.finish();
  }
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, latest_format());
  REQUIRE(file >= 0);
  hid_t group = H5Gopen2(file, "/runs/older", H5P_DEFAULT);
  drop_columns(group, "rounds", {"wire_bytes_up", "wire_bytes_down"});
  drop_columns(group, "nodes", {"flops_per_s", "kernel", "wire_bytes_up", "wire_bytes_down"});
  H5Gclose(group);
  H5Fclose(file);
  const std::vector<RunResult> runs = read_results(path);  // the checksum holds
  REQUIRE(runs.size() == 1);
  require_equal(runs[0], run);

  // A value of an added column that was there and is gone is a changed file.
  const fs::path newer = dir / "newer.h5";
  run = full_run("newer", 0, true);
  {
    ResultWriter writer(newer, false);
    writer.write(run);
    writer.finish();
  }
  file = H5Fopen(newer.c_str(), H5F_ACC_RDWR, latest_format());
  group = H5Gopen2(file, "/runs/newer", H5P_DEFAULT);
  drop_columns(group, "nodes", {"kernel"});
  H5Gclose(group);
  H5Fclose(file);
  CHECK_THROWS_WITH(read_results(newer), Catch::Contains("is damaged"));
}

TEST_CASE("a node table of more than a million rows is written in slices and read back whole", "[results]") {
  TempDir dir;
  const fs::path path = dir / "many.h5";
  RunResult run;
  run.name = "many";
  const uint32_t n = (1u << 20) + 3;  // one full slice of 2^20 rows and a short one
  run.nodes.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    NodeRow row;
    row.id = i;
    row.profile = i % 3 == 0 ? "phone" : "server";
    row.samples = i;
    row.classes = static_cast<int32_t>(i % 10);
    row.rounds_participated = static_cast<int32_t>(i % 7);
    row.failures = static_cast<int32_t>(i % 2);
    row.byzantine = i % 5 == 0;
    run.nodes.push_back(row);
  }
  {
    ResultWriter writer(path, false);
    writer.write(run);
    writer.finish();
  }
  const std::vector<RunResult> runs = read_results(path);
  REQUIRE(runs.size() == 1);
  REQUIRE(runs[0].nodes.size() == n);
  for (uint32_t i : {0u, 1u, (1u << 20) - 1, 1u << 20, n - 1}) {
    const NodeRow& got = runs[0].nodes[i];
    CHECK(got.id == i);
    CHECK(got.profile == run.nodes[i].profile);
    CHECK(got.samples == i);
    CHECK(got.classes == static_cast<int32_t>(i % 10));
    CHECK(got.rounds_participated == static_cast<int32_t>(i % 7));
    CHECK(got.byzantine == (i % 5 == 0));
  }
}

// Issue 9 items 17, 18: names were percent-escaped into group names (`%2F`) that h5py users
// could not write by hand. A run's group is now /runs/<name> exactly; a name that cannot be a
// group name is refused.
TEST_CASE("a run's group is named exactly as the run, and impossible names are refused", "[results]") {
  TempDir dir;
  const fs::path path = dir / "names.h5";
  ResultWriter writer(path, false);
  for (const char* name : {"strategy.name=krum,rep0", "100%", "%2F", "a b"}) {
    writer.write(full_run(name, 0, false));
  }
  for (const std::string& name : {std::string(""), std::string("a/b"), std::string("."), std::string(".."),
                                  std::string("nul\0in", 6)}) {
    INFO(name);
    CHECK_THROWS_AS(writer.write(full_run(name, 0, false)), UsageError);
  }
  writer.finish();
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  for (const char* link : {"/runs/strategy.name=krum,rep0", "/runs/100%", "/runs/%2F", "/runs/a b"}) {
    INFO(link);
    CHECK(H5Lexists(file, link, H5P_DEFAULT) > 0);
  }
  H5Fclose(file);
  CHECK(names_of(read_results(path)) == std::set<std::string>{"strategy.name=krum,rep0", "100%", "%2F", "a b"});
}

TEST_CASE("a file is written as PATH.partial and renamed by finish()", "[results]") {
  TempDir dir;
  const fs::path path = dir / "run.h5";
  ResultWriter writer(path, false);
  CHECK(fs::exists(partial_of(path)));
  CHECK_FALSE(fs::exists(path));
  writer.write(full_run("r", 0, false));
  CHECK(fs::exists(partial_of(path)));
  CHECK_FALSE(fs::exists(path));
  writer.finish();
  CHECK(fs::exists(path));
  CHECK_FALSE(fs::exists(partial_of(path)));
  CHECK(read_results(path).size() == 1);
  CHECK_THROWS_AS(writer.write(full_run("s", 0, false)), std::logic_error);
}

TEST_CASE("an interrupted sweep is resumed from PATH.partial with its complete runs", "[results]") {
  TempDir dir;
  const fs::path path = dir / "sweep.h5";
  {
    ResultWriter writer(path, false);
    writer.write(full_run("p=1,rep0", 0, true));
    // Destroyed without finish(), as by an exception mid-sweep.
  }
  CHECK(fs::exists(partial_of(path)));
  CHECK_FALSE(fs::exists(path));
  CHECK(names_of(read_results(partial_of(path))) == std::set<std::string>{"p=1,rep0"});

  ResultWriter writer(path, true);
  CHECK(writer.completed() == std::set<std::string>{"p=1,rep0"});
  CHECK(writer.completed_runs().at("p=1,rep0").scenario_text == full_run("p=1,rep0", 0, true).scenario_text);
  CHECK(writer.completed_runs().at("p=1,rep0").seed == full_run("p=1,rep0", 0, true).seed);
  CHECK_THROWS_AS(writer.write(full_run("p=1,rep0", 0, true)), UsageError);  // already complete
  writer.write(full_run("p=2,rep0", 0, false));
  writer.finish();
  const std::vector<RunResult> runs = read_results(path);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].name == "p=1,rep0");
  CHECK(runs[1].name == "p=2,rep0");
}

// Issue 9 item 6: a leftover PATH.partial was silently reopened by a new sweep (or run) with
// the same --out, mixing old runs with new ones.
TEST_CASE("a leftover PATH.partial is refused unless resuming", "[results]") {
  TempDir dir;
  const fs::path path = dir / "sweep.h5";
  {
    ResultWriter writer(path, false);
    writer.write(full_run("old", 0, false));
  }
  try {
    ResultWriter writer(path, false);
    FAIL("no exception");
  } catch (const UsageError& e) {
    CHECK_THAT(e.what(), Catch::Contains(partial_of(path).string()) && Catch::Contains("--resume"));
  }
  CHECK(names_of(read_results(partial_of(path))) == std::set<std::string>{"old"});  // untouched
}

TEST_CASE("resuming drops a run group left incomplete", "[results]") {
  TempDir dir;
  const fs::path path = dir / "sweep.h5";
  {
    ResultWriter writer(path, false);
    writer.write(full_run("done", 0, false));
  }
  // A crash in the middle of write("half"): its group exists with some of its data and
  // complete=0 (write() sets it first); "bare" is a group without even that attribute.
  {
    hid_t file = H5Fopen(partial_of(path).c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(file >= 0);
    hid_t half = H5Gcreate2(file, "/runs/half", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(half >= 0);
    add_string_attribute(half, "name", "half");
    add_int_attribute(half, "complete", 0);
    add_string_attribute(half, "scenario", "swarm: fl\n");
    H5Gclose(half);
    hid_t bare = H5Gcreate2(file, "/runs/bare", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(bare);
    H5Fclose(file);
  }
  // Readers skip incomplete runs.
  CHECK(names_of(read_results(partial_of(path))) == std::set<std::string>{"done"});

  {
    ResultWriter writer(path, true);
    CHECK(writer.completed() == std::set<std::string>{"done"});
    writer.write(full_run("half", 0, true));
    writer.finish();
  }
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  CHECK(H5Lexists(file, "/runs/bare", H5P_DEFAULT) == 0);  // deleted on reopening
  H5Fclose(file);
  const std::vector<RunResult> runs = read_results(path);
  REQUIRE(runs.size() == 2);
  require_equal(runs[1], full_run("half", 0, true));
}

TEST_CASE("a process killed after write() leaves its runs complete in PATH.partial", "[results]") {
  TempDir dir;
  const fs::path path = dir / "killed.h5";
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // No destructor, no H5Fclose: only what write() flushed is on disk.
    try {
      auto* writer = new ResultWriter(path, false);
      writer->write(full_run("a", 0, true));
      writer->write(full_run("b", 1, false));
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  ResultWriter writer(path, true);
  CHECK(writer.completed() == std::set<std::string>{"a", "b"});
  writer.finish();
  const std::vector<RunResult> runs = read_results(path);
  REQUIRE(runs.size() == 2);
  require_equal(runs[0], full_run("a", 0, true));
}

TEST_CASE("an existing results file is kept unless resuming, which extends it", "[results]") {
  TempDir dir;
  const fs::path path = dir / "done.h5";
  {
    ResultWriter writer(path, false);
    writer.write(full_run("first", 0, false));
    writer.finish();
  }
  try {
    ResultWriter writer(path, false);
    FAIL("no exception");
  } catch (const UsageError& e) {
    CHECK_THAT(e.what(), Catch::Contains(path.string()) && Catch::Contains("--resume"));
  }
  CHECK(fs::exists(path));

  {
    ResultWriter writer(path, true);
    CHECK(writer.completed() == std::set<std::string>{"first"});
    CHECK(fs::exists(partial_of(path)));  // moved back while being extended
    CHECK_FALSE(fs::exists(path));
    writer.write(full_run("second", 0, false));
    writer.finish();
  }
  CHECK(names_of(read_results(path)) == std::set<std::string>{"first", "second"});

  // Both names at once: ambiguous, refused.
  fs::copy_file(path, partial_of(path));
  CHECK_THROWS_AS(ResultWriter(path, true), UsageError);
}

TEST_CASE("reading a file that is not ours throws DataError naming it", "[results]") {
  TempDir dir;
  auto require_data_error = [](const fs::path& path, const std::string& detail) {
    INFO(path.string());
    try {
      read_results(path);
      FAIL("no exception");
    } catch (const DataError& e) {
      CHECK_THAT(e.what(), Catch::Contains(path.string()) && Catch::Contains(detail));
    }
  };

  require_data_error(dir / "missing.h5", "no such file");

  const fs::path text = dir / "text.h5";
  std::ofstream(text) << "round,accuracy\n1,0.5\n";
  require_data_error(text, "not an HDF5 file");

  // Someone else's HDF5 file.
  const fs::path other = dir / "other.h5";
  hid_t file = H5Fcreate(other.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, latest_format());
  add_double_dataset(file, "data", 4);
  H5Fclose(file);
  require_data_error(other, "no attribute 'format'");
  // ... which the writer refuses to extend too, and leaves where it was.
  fs::copy_file(other, partial_of(dir / "other2.h5"));
  CHECK_THROWS_AS(ResultWriter(dir / "other2.h5", true), DataError);
  CHECK_THROWS_AS(ResultWriter(other, true), DataError);
  CHECK(fs::exists(other));

  // Ours by its attributes, but a run whose tables have the wrong types.
  const fs::path wrong = dir / "wrong.h5";
  file = H5Fcreate(wrong.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, latest_format());
  add_string_attribute(file, "format", "swarmsim-results");
  add_int_attribute(file, "format_version", 2);
  hid_t runs = H5Gcreate2(file, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t run = H5Gcreate2(runs, "r", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  for (const char* name : {"scenario", "version"}) add_string_attribute(run, name, "x");
  add_string_attribute(run, "point", "{}");
  add_string_attribute(run, "name", "r");
  add_int_attribute(run, "seed", 1);
  add_int_attribute(run, "replicate", 0);
  add_int_attribute(run, "complete", 1);
  add_double_dataset(run, "rounds", 3);
  H5Gclose(run);
  H5Gclose(runs);
  H5Fclose(file);
  require_data_error(wrong, "/runs/r/rounds is not a table");

  // A newer format.
  const fs::path newer = dir / "newer.h5";
  file = H5Fcreate(newer.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, latest_format());
  add_string_attribute(file, "format", "swarmsim-results");
  add_int_attribute(file, "format_version", 3);
  H5Fclose(file);
  require_data_error(newer, "format_version 3");

  // Files of format_version 1 (swarm 0.1: HDF5's oldest superblock, no checksums) are refused.
  const fs::path old = dir / "old.h5";
  file = H5Fcreate(old.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  add_string_attribute(file, "format", "swarmsim-results");
  add_int_attribute(file, "format_version", 1);
  H5Fclose(file);
  require_data_error(old, "cannot be verified");
}

namespace {

bool same_runs(const std::vector<RunResult>& a, const std::vector<RunResult>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!testing::same_run(a[i], b[i])) return false;
  }
  return true;
}

std::vector<char> file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

void put_bytes(const fs::path& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A sweep of three runs with a trace and a few hundred nodes, as a real file would hold.
fs::path write_sample_file(const fs::path& path) {
  ResultWriter writer(path, false);
  std::vector<SweepRun> sweep;
  for (int rep = 0; rep < 3; ++rep) sweep.push_back({"strategy=krum,rep" + std::to_string(rep), "text", 0});
  writer.set_sweep(sweep_record(sweep, 1, 1));
  for (int rep = 0; rep < 3; ++rep) {
    RunResult run = full_run("strategy=krum,rep" + std::to_string(rep), rep, rep != 1);
    for (uint32_t n = 3; n < 300; ++n) {
      run.nodes.push_back({n, n % 2 ? "phone" : "laptop", 100 + n, static_cast<int32_t>(n % 10), 1, 0, n % 7 == 0});
    }
    run.final_model.resize(500, 0.25f);
    writer.write(run);
  }
  writer.finish();
  return path;
}

}  // namespace

// Issue 9 item 11: `swarm report` crashed inside libhdf5 on 27 of 950 mutated files, and 6 of
// 300 single-bit flips changed numbers silently. Files now carry HDF5's metadata checksums,
// a Fletcher-32 checksum per table chunk and a CRC-32 of each run's content. Every mutation,
// spread over the whole file, must read back exactly the original runs or throw DataError.
TEST_CASE("a damaged results file is refused or read unchanged, never a crash or other numbers",
          "[results][corrupt]") {
  TempDir dir;
  const fs::path good = write_sample_file(dir / "good.h5");
  const ResultsFile original_file = read_results_file(good);
  const std::vector<RunResult>& original = original_file.runs;
  REQUIRE(original.size() == 3);
  REQUIRE(original_file.sweep.has_value());
  const std::vector<char> bytes = file_bytes(good);
  REQUIRE(bytes.size() > 10000);
  const fs::path damaged = dir / "damaged.h5";
  size_t refused = 0, unchanged = 0, changed = 0;
  auto try_read = [&](const std::vector<char>& mutated, const std::string& what) {
    put_bytes(damaged, mutated);
    try {
      const ResultsFile read = read_results_file(damaged);
      if (same_runs(read.runs, original) && read.sweep == original_file.sweep) {
        ++unchanged;
      } else {
        ++changed;
        FAIL_CHECK("read different data after " << what);
      }
    } catch (const DataError& e) {
      ++refused;
      if (std::string(e.what()).find(damaged.string()) == std::string::npos) {
        FAIL_CHECK("the error does not name the file: " << e.what());
      }
    }
  };
  // Single-bit flips at 1200 positions spread evenly over the file (a different bit each).
  const size_t flips = 1200;
  for (size_t i = 0; i < flips; ++i) {
    const size_t at = i * bytes.size() / flips + i % 7;
    std::vector<char> mutated = bytes;
    mutated[at % bytes.size()] ^= static_cast<char>(1 << (i % 8));
    try_read(mutated, "flipping bit " + std::to_string(i % 8) + " of byte " + std::to_string(at % bytes.size()));
  }
  // Whole bytes overwritten (0x00, 0xff, and an arbitrary value) at 400 other positions, and
  // runs of 16 bytes zeroed (a torn sector).
  for (size_t i = 0; i < 400; ++i) {
    const size_t at = (i * 7919 + 13) % bytes.size();
    std::vector<char> mutated = bytes;
    mutated[at] = static_cast<char>(i % 3 == 0 ? 0x00 : i % 3 == 1 ? 0xff : 0x5a);
    try_read(mutated, "overwriting byte " + std::to_string(at));
    mutated = bytes;
    for (size_t k = at; k < std::min(bytes.size(), at + 16); ++k) mutated[k] = 0;
    try_read(mutated, "zeroing 16 bytes at " + std::to_string(at));
  }
  // Cut short anywhere.
  for (size_t i = 1; i <= 50; ++i) {
    std::vector<char> mutated(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(i * bytes.size() / 51));
    try_read(mutated, "cutting to " + std::to_string(mutated.size()) + " bytes");
  }
  INFO(refused << " refused, " << unchanged << " read unchanged, " << changed << " changed");
  CHECK(changed == 0);
  CHECK(refused > 1000);  // most of the file is metadata or data under a checksum
}

// Issue 9 item 12: a 10 KB results file declaring 2^25 rows made the reader allocate
// gigabytes before finding the rows missing. Declared rows are checked against the file size.
TEST_CASE("a results table declaring more rows than the file holds is refused before allocating", "[results]") {
  TempDir dir;
  const fs::path path = dir / "liar.h5";
  {
    ResultWriter writer(path, false);
    writer.write(full_run("r", 0, false));
    writer.finish();
  }
  // Replace final_model by a chunked dataset of 2^25 floats of which no chunk is written: the
  // file stays small, and HDF5 would read fill values for the missing chunks.
  {
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, latest_format());
    REQUIRE(file >= 0);
    REQUIRE(H5Ldelete(file, "/runs/r/final_model", H5P_DEFAULT) >= 0);
    const hsize_t dims[1] = {hsize_t{1} << 25}, chunk[1] = {1 << 16};
    hid_t space = H5Screate_simple(1, dims, nullptr);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, chunk);
    hid_t ds = H5Dcreate2(file, "/runs/r/final_model", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    REQUIRE(ds >= 0);
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(file);
  }
  REQUIRE(fs::file_size(path) < 100'000);
  try {
    read_results(path);
    FAIL("no exception");
  } catch (const DataError& e) {
    CHECK_THAT(e.what(), Catch::Contains(path.string()) && Catch::Contains("declares 33554432 rows"));
  }
}

TEST_CASE("report_table aggregates replicates per sweep point", "[results][report]") {
  std::vector<RunResult> runs;
  auto add = [&runs](const std::string& strategy, int replicate, std::vector<double> accuracy, double round_s,
                     uint64_t bytes_per_round) {
    RunResult run;
    run.name = "strategy=" + strategy + ",rep" + std::to_string(replicate);
    run.point = {{"strategy", strategy}};
    run.replicate = replicate;
    for (size_t i = 0; i < accuracy.size(); ++i) {
      RoundRow r = round_row(static_cast<int32_t>(i + 1), accuracy[i], round_s * i, round_s * (i + 1));
      r.bytes_up = bytes_per_round / 2;
      r.bytes_down = bytes_per_round / 2;
      run.rounds.push_back(r);
    }
    runs.push_back(run);
  };
  // fedavg rep0: accuracy 0.5, 0.8, 0.7 over rounds of 10 s, 3 MB a round; 1 failed and 2
  // crashed instances in round 2.
  add("fedavg", 0, {0.5, 0.8, 0.7}, 10.0, 3'000'000);
  runs.back().rounds[1].failed = 1;
  runs.back().rounds[1].lost_crash = 2;
  // fedavg rep1: 0.6, 0.7, 0.9 over rounds of 5 s, 2 MB a round.
  add("fedavg", 1, {0.6, 0.7, 0.9}, 5.0, 2'000'000);
  // krum, one replicate that never reaches 0.75, listed first in the input.
  runs.insert(runs.begin(), RunResult{});
  runs.front().name = "strategy=krum,rep0";
  runs.front().point = {{"strategy", "krum"}};
  for (int i = 0; i < 3; ++i) runs.front().rounds.push_back(round_row(i + 1, 0.3 + 0.1 * i, 4.0 * i, 4.0 * (i + 1)));

  const std::vector<PointSummary> points = summarize(runs, {.target_accuracy = 0.75});
  REQUIRE(points.size() == 2);
  const PointSummary& fedavg = points[0];  // sorted by point: "fedavg" < "krum"
  CHECK(fedavg.replicates == 2);
  // Final accuracies 0.7 and 0.9: mean 0.8, sample std sqrt((0.1^2 + 0.1^2) / (2 - 1)) = 0.141421.
  CHECK(fedavg.final_accuracy_mean == Approx(0.8));
  CHECK(fedavg.final_accuracy_std == Approx(std::sqrt(0.02)));
  CHECK(fedavg.best_accuracy_mean == Approx(0.85));  // (0.8 + 0.9) / 2
  // rep0 first reaches 0.75 in round 2 (ends at 20 s), rep1 in round 3 (ends at 15 s).
  CHECK(fedavg.reached == 2);
  CHECK(fedavg.rounds_to_target_mean == Approx(2.5));
  CHECK(fedavg.time_to_target_mean == Approx(17.5));
  CHECK(fedavg.megabytes_mean == Approx(7.5));  // (3 x 3 MB + 3 x 2 MB) / 2
  CHECK(fedavg.failures_mean == Approx(1.5));   // (1 + 2 + 0) / 2
  const PointSummary& krum = points[1];
  CHECK(krum.reached == 0);
  CHECK(std::isnan(krum.rounds_to_target_mean));
  CHECK(krum.final_accuracy_mean == Approx(0.5));
  CHECK(krum.final_accuracy_std == 0);  // one replicate

  CHECK(report_table(runs, {.target_accuracy = 0.75}) ==
        "| strategy | replicates | final accuracy | best accuracy | rounds to 0.75 | time to 0.75 (s) | MB moved | "
        "failures |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        "| fedavg | 2 | 0.8000 ± 0.1414 | 0.8500 | 2.5 (2/2 reached) | 17.5 | 7.5 | 1.5 |\n"
        "| krum | 1 | 0.5000 ± 0.0000 | 0.5000 | - (0/1 reached) | - | 0.0 | 0.0 |\n");

  // Without a target the time-to-target columns are left out; a noise multiplier adds one.
  runs.front().noise_multiplier = 1.1;
  CHECK(report_table(runs, {}) ==
        "| strategy | replicates | final accuracy | best accuracy | MB moved | failures | noise multiplier |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        "| fedavg | 2 | 0.8000 ± 0.1414 | 0.8500 | 7.5 | 1.5 | 0 |\n"
        "| krum | 1 | 0.5000 ± 0.0000 | 0.5000 | 0.0 | 0.0 | 1.1 |\n");
}

TEST_CASE("report points sort numerically by value, and a single run has no point", "[results][report]") {
  std::vector<RunResult> runs(3);
  runs[0].point = {{"clients", "10"}};
  runs[1].point = {{"clients", "2"}};
  runs[2].point = {{"clients", "2.5"}};
  const std::vector<PointSummary> points = summarize(runs, {});
  REQUIRE(points.size() == 3);
  CHECK(points[0].point.at("clients") == "2");
  CHECK(points[1].point.at("clients") == "2.5");
  CHECK(points[2].point.at("clients") == "10");

  RunResult single;
  single.rounds.push_back(round_row(1, 0.25, 0, 1));
  CHECK(report_table({single}, {}) ==
        "| point | replicates | final accuracy | best accuracy | MB moved | failures |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: |\n"
        "| (none) | 1 | 0.2500 ± 0.0000 | 0.2500 | 0.0 | 0.0 |\n");
}

// Issue 9 items 16, 18 and the run outcome: `report --format` had no csv or json, and a run
// that did not complete looked like one that did.
TEST_CASE("report shows runs that did not complete, as markdown, csv and json", "[results][report]") {
  std::vector<RunResult> runs(3);
  for (int i = 0; i < 3; ++i) {
    runs[i].name = "lr=" + std::string(i < 2 ? "0.1" : "1e308") + ",rep" + std::to_string(i % 2);
    runs[i].point = {{"lr", i < 2 ? "0.1" : "1e308"}};
    runs[i].rounds.push_back(round_row(1, 0.25 * (i + 1), 0, 1.5));
  }
  runs[2].outcome = "diverged";
  runs[2].outcome_message = "round 1: loss is nan";
  CHECK(report_table(runs, {}) ==
        "| lr | replicates | final accuracy | best accuracy | MB moved | failures | outcomes |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        "| 0.1 | 2 | 0.3750 ± 0.1768 | 0.3750 | 0.0 | 0.0 | 2 complete |\n"
        "| 1e308 | 1 | 0.7500 ± 0.0000 | 0.7500 | 0.0 | 0.0 | 1 diverged |\n"
        "\n"
        "Runs that did not complete:\n"
        "- lr=1e308,rep0: diverged: round 1: loss is nan\n");
  // Mean of 0.25 and 0.5 = 0.375; sample std sqrt(2 x 0.125^2 / 1) = sqrt(0.03125), shortest
  // form 0.1767766952966369. rep1 (0.5) reaches 0.4 in round 1, at 1.5 s; rep0 (0.25) does not.
  CHECK(report(runs, {.target_accuracy = 0.4, .format = ReportFormat::Csv}) ==
        "lr,replicates,final_accuracy_mean,final_accuracy_std,best_accuracy_mean,target_accuracy,reached,"
        "rounds_to_target_mean,time_to_target_mean_s,megabytes_mean,failures_mean,noise_multiplier_mean,outcomes\n"
        "0.1,2,0.375,0.1767766952966369,0.375,0.4,1,1,1.5,0,0,0,2 complete\n"
        "1e308,1,0.75,0,0.75,0.4,1,1,1.5,0,0,0,1 diverged\n");
  const nlohmann::json json = nlohmann::json::parse(report(runs, {.format = ReportFormat::Json}));
  CHECK(json["target_accuracy"].is_null());
  REQUIRE(json["points"].size() == 2);
  CHECK(json["points"][0]["point"]["lr"] == 0.1);  // a number, not "0.1"
  CHECK(json["points"][0]["replicates"] == 2);
  CHECK(json["points"][1]["outcomes"]["diverged"] == 1);
  CHECK_FALSE(json["points"][0].contains("reached"));
  REQUIRE(json["incomplete_runs"].size() == 1);
  CHECK(json["incomplete_runs"][0]["name"] == "lr=1e308,rep0");
  CHECK(json["incomplete_runs"][0]["message"] == "round 1: loss is nan");
}

// Issue 9 item 18: point values were stored as strings ('0.1' in pandas).
TEST_CASE("sweep point values are stored typed and read back as their text", "[results]") {
  TempDir dir;
  const fs::path path = dir / "typed.h5";
  RunResult run = full_run("typed", 0, false);
  run.point = {{"a.int", "20"}, {"b.real", "0.1"}, {"c.text", "krum"}, {"d.flag", "true"}, {"e.list", "[64, 64]"},
               {"f.exp", "1e-3"}};
  {
    ResultWriter writer(path, false);
    writer.write(run);
    writer.finish();
  }
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  hid_t a = H5Aopen_by_name(file, "/runs/typed", "point", H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(a >= 0);
  hid_t type = H5Aget_type(a);
  char* text = nullptr;
  REQUIRE(H5Aread(a, type, &text) >= 0);
  const nlohmann::json point = nlohmann::json::parse(text);
  H5free_memory(text);
  H5Tclose(type);
  H5Aclose(a);
  H5Fclose(file);
  CHECK(point["a.int"] == 20);
  CHECK(point["a.int"].is_number_integer());
  CHECK(point["b.real"] == 0.1);
  CHECK(point["c.text"] == "krum");
  CHECK(point["d.flag"] == true);
  CHECK(point["e.list"] == "[64, 64]");
  CHECK(point["f.exp"] == 0.001);
  const std::vector<RunResult> back = read_results(path);
  REQUIRE(back.size() == 1);
  CHECK(back[0].point == std::map<std::string, std::string>{{"a.int", "20"}, {"b.real", "0.1"}, {"c.text", "krum"},
                                                            {"d.flag", "true"}, {"e.list", "[64, 64]"},
                                                            {"f.exp", "0.001"}});
}

// Not run by ctest (hidden): writes a realistic sweep to $SWARM_RESULTS_SAMPLE for trying the
// scripts of analysis/ (see analysis/README.md).
TEST_CASE("write a sample sweep for analysis/", "[.][sample]") {
  const char* out = std::getenv("SWARM_RESULTS_SAMPLE");
  if (out == nullptr) return;
  fs::remove(out);
  fs::remove(std::string(out) + ".partial");
  ResultWriter writer(out, false);
  uint64_t state = 42;
  auto noise = [&state] {  // a tiny LCG: uniform in [-0.5, 0.5)
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) / 9007199254740992.0 - 0.5;
  };
  for (const char* strategy : {"fedavg", "krum", "median"}) {
    for (const char* alpha : {"0.1", "1.0"}) {
      for (int rep = 0; rep < 3; ++rep) {
        RunResult run;
        run.point = {{"strategy", strategy}, {"partition.alpha", alpha}};
        run.name = std::string("strategy=") + strategy + ",partition.alpha=" + alpha + ",rep" + std::to_string(rep);
        run.replicate = rep;
        run.seed = 1000 + rep;
        run.version = "sample";
        run.scenario_text = std::string("strategy: ") + strategy + "\npartition: {alpha: " + alpha + "}\n";
        const double ceiling = (std::string(strategy) == "fedavg" ? 0.88 : 0.84) - (alpha[2] == '1' ? 0.08 : 0.0);
        const double speed = std::string(strategy) == "krum" ? 0.12 : 0.2;
        double t = 0;
        for (int r = 0; r < 40; ++r) {
          RoundRow row;
          row.round = r + 1;
          row.t_start_s = t;
          t += 30 + 10 * noise() + (std::string(strategy) == "median" ? 8 : 0);
          row.t_end_s = t;
          row.wall_s = 0.5;
          row.accuracy = ceiling * (1 - std::exp(-speed * (r + 1))) + 0.02 * noise();
          row.loss = 2.3 * std::exp(-speed * (r + 1)) + 0.3;
          row.participants = 10;
          row.instances = 12;
          row.lost_offline = noise() > 0.3 ? 1 : 0;
          row.bytes_up = 10 * 800'000;
          row.bytes_down = 12 * 800'000;
          row.flops = 1'000'000'000;
          run.rounds.push_back(row);
        }
        for (uint32_t n = 0; n < 12; ++n) run.nodes.push_back({n, n % 3 ? "phone" : "laptop", 500, 4, 30, 1, false});
        run.final_model.assign(100, 0.5f);
        writer.write(run);
      }
    }
  }
  writer.finish();
}

// ---------------------------------------------------------------------------------------------
// Issue 12 item 4: shards of a sweep (swarm sweep --shard I/N) merged into the whole sweep.

namespace {

// The runs of a sweep of `count` runs, each distinct (name, scenario text, seed, numbers).
std::vector<RunResult> sweep_of(int count, const std::string& scenario = "sweep-a") {
  std::vector<RunResult> runs;
  for (int k = 0; k < count; ++k) {
    RunResult run = full_run("x=" + std::to_string(k / 2) + ",rep" + std::to_string(k % 2), k % 2, k % 3 == 0);
    run.scenario_text = scenario + " point " + std::to_string(k);
    run.seed = 100 + static_cast<uint64_t>(k);
    run.rounds[0].accuracy = 0.01 * k;
    run.rounds[1].wall_s = 1.0 + k;
    runs.push_back(std::move(run));
  }
  return runs;
}

std::vector<SweepRun> identity_of(const std::vector<RunResult>& runs) {
  std::vector<SweepRun> out;
  for (const RunResult& r : runs) out.push_back({r.name, r.scenario_text, r.seed});
  return out;
}

// Writes shard `shard` of `shards` of `runs` as `swarm sweep --shard` does: the record, then
// the shard's runs, here last first (a sweep with several jobs writes them as they finish).
// `skip` names a run of the shard to leave out (an unfinished shard).
fs::path write_shard(const fs::path& path, const std::vector<RunResult>& runs, int shard, int shards,
                     const std::string& skip = "") {
  ResultWriter writer(path, false);
  writer.set_sweep(sweep_record(identity_of(runs), shard, shards));
  for (size_t k = runs.size(); k-- > 0;) {
    if (in_shard(k, shard, shards) && runs[k].name != skip) writer.write(runs[k]);
  }
  writer.finish();
  return path;
}

std::string merge_error(const std::vector<fs::path>& inputs, const fs::path& out) {
  try {
    merge_shards(inputs, out);
  } catch (const UsageError& e) {
    return std::string("UsageError: ") + e.what();
  } catch (const DataError& e) {
    return std::string("DataError: ") + e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("shard membership partitions a sweep's runs exactly, round-robin from shard 1", "[results][merge]") {
  for (int shards = 1; shards <= 7; ++shards) {
    for (size_t k = 0; k < 20; ++k) {
      int owners = 0;
      for (int shard = 1; shard <= shards; ++shard) owners += in_shard(k, shard, shards) ? 1 : 0;
      CHECK(owners == 1);
      CHECK(in_shard(k, static_cast<int>(k % static_cast<size_t>(shards)) + 1, shards));
    }
  }
  CHECK(in_shard(0, 1, 3));
  CHECK(in_shard(4, 2, 3));
  CHECK_FALSE(in_shard(4, 1, 3));
}

TEST_CASE("merged shards are the whole sweep: every run once, in sweep order, with its record", "[results][merge]") {
  TempDir dir;
  const std::vector<RunResult> runs = sweep_of(7);
  const SweepRecord whole = sweep_record(identity_of(runs), 1, 1);
  for (int shards : {1, 2, 3, 7}) {
    INFO(shards << " shards");
    std::vector<fs::path> parts;
    for (int shard = 1; shard <= shards; ++shard) {
      parts.push_back(write_shard(dir / ("part-" + std::to_string(shards) + "-" + std::to_string(shard) + ".h5"), runs,
                                  shard, shards));
    }
    std::vector<std::vector<char>> before;
    for (const fs::path& p : parts) before.push_back(file_bytes(p));
    std::reverse(parts.begin(), parts.end());  // the order of the inputs does not matter
    const fs::path out = dir / ("all-" + std::to_string(shards) + ".h5");
    const MergeSummary summary = merge_shards(parts, out);
    CHECK(summary.runs == 7);
    CHECK(summary.shards == shards);
    CHECK(summary.stopped == 3);  // full_run's replicate 1 diverged: runs 1, 3, 5
    const ResultsFile merged = read_results_file(out);
    REQUIRE(merged.sweep.has_value());
    CHECK(*merged.sweep == whole);
    CHECK(same_runs(merged.runs, runs));  // wall_s too: merge copies runs as they are
    CHECK_FALSE(fs::exists(partial_of(out)));
    std::reverse(parts.begin(), parts.end());
    for (size_t i = 0; i < parts.size(); ++i) CHECK(file_bytes(parts[i]) == before[i]);  // inputs untouched
  }
}

TEST_CASE("merge refuses inputs that are not exactly one sweep's runs, naming the file, and writes nothing",
          "[results][merge]") {
  TempDir dir;
  const std::vector<RunResult> runs = sweep_of(6);
  const fs::path p1 = write_shard(dir / "p1.h5", runs, 1, 3);
  const fs::path p2 = write_shard(dir / "p2.h5", runs, 2, 3);
  const fs::path p3 = write_shard(dir / "p3.h5", runs, 3, 3);
  const fs::path out = dir / "all.h5";
  std::string error;
  SECTION("a shard of another sweep") {
    const fs::path other = write_shard(dir / "other.h5", sweep_of(6, "sweep-b"), 3, 3);
    error = merge_error({p1, p2, other}, out);
    CHECK_THAT(error, Catch::Contains("UsageError: " + other.string() + ": a shard of another sweep than " + p1.string()));
  }
  SECTION("shards of another split") {
    const fs::path half = write_shard(dir / "half.h5", runs, 2, 2);
    error = merge_error({p1, half}, out);
    CHECK_THAT(error, Catch::Contains(half.string() + ": shard 2/2, but " + p1.string() + " is shard 1/3") &&
                          Catch::Contains("one split"));
  }
  SECTION("the same shard twice (overlapping runs)") {
    fs::copy_file(p2, dir / "p2-copy.h5");
    error = merge_error({p1, p2, p3, dir / "p2-copy.h5"}, out);
    CHECK_THAT(error, Catch::Contains((dir / "p2-copy.h5").string() + " and " + p2.string() + " are both shard 2/3"));
  }
  SECTION("a missing shard") {
    error = merge_error({p3, p1}, out);
    CHECK_THAT(error, Catch::Contains("hold 4 of the sweep's 6 runs; missing shard(s) 2/3") &&
                          Catch::Contains("--shard I/3"));
  }
  SECTION("an unfinished shard") {
    const fs::path partly = write_shard(dir / "partly.h5", runs, 2, 3, runs[4].name);
    error = merge_error({p1, partly, p3}, out);
    CHECK_THAT(error, Catch::Contains(partly.string() + " (shard 2/3) lacks 1 of its runs ('" + runs[4].name + "')") &&
                          Catch::Contains("--shard 2/3 --resume"));
  }
  SECTION("a run outside its file's shard") {
    const fs::path wrong = dir / "wrong.h5";
    {
      ResultWriter writer(wrong, false);
      writer.set_sweep(sweep_record(identity_of(runs), 2, 3));
      writer.write(runs[0]);  // shard 1's
      writer.finish();
    }
    error = merge_error({p1, wrong, p3}, out);
    CHECK_THAT(error, Catch::Contains("run '" + runs[0].name + "' is in both " + p1.string() + " and " + wrong.string()));
    error = merge_error({wrong, p3}, out);
    CHECK_THAT(error, Catch::Contains(wrong.string() + ": holds run '" + runs[0].name +
                                      "', which is not a run of its shard 2/3 (it belongs to shard 1/3)"));
  }
  SECTION("a file of swarm run (no sweep record)") {
    const fs::path single = dir / "single.h5";
    {
      ResultWriter writer(single, false);
      writer.write(runs[0]);
      writer.finish();
    }
    error = merge_error({p1, single}, out);
    CHECK_THAT(error, Catch::Contains("UsageError: " + single.string() + ": has no sweep record"));
  }
  SECTION("runs that are not those the records name") {
    std::vector<RunResult> forged = runs;
    forged[1].seed += 1;  // the record says seed 101 for run 1, the run holds 102
    const fs::path p2_forged = dir / "p2-forged.h5";
    {
      ResultWriter writer(p2_forged, false);
      writer.set_sweep(sweep_record(identity_of(runs), 2, 3));
      for (size_t k : {1, 4}) writer.write(forged[k]);
      writer.finish();
    }
    error = merge_error({p1, p2_forged, p3}, out);
    CHECK_THAT(error, Catch::Contains("are not those of the sweep their records name"));
  }
  SECTION("a damaged file") {
    std::vector<char> bytes = file_bytes(p2);
    const std::string marker = "sweep-a point 4";  // run 4's scenario text, a string of the file's heap
    auto at = std::search(bytes.begin(), bytes.end(), marker.begin(), marker.end());
    REQUIRE(at != bytes.end());
    *(at + 6) = 'b';
    put_bytes(p2, bytes);
    error = merge_error({p1, p2, p3}, out);
    CHECK_THAT(error, Catch::Contains("DataError: results file " + p2.string()) && Catch::Contains("damaged"));
  }
  SECTION("a file that is not a results file") {
    std::ofstream(dir / "notes.h5") << "not HDF5";
    error = merge_error({p1, p2, p3, dir / "notes.h5"}, out);
    CHECK_THAT(error, Catch::Contains("DataError: results file " + (dir / "notes.h5").string() + ": not an HDF5 file"));
  }
  SECTION("an output that exists, or is an input") {
    std::ofstream(out) << "keep me";
    error = merge_error({p1, p2, p3}, out);
    CHECK_THAT(error, Catch::Contains(out.string() + " exists; merge never replaces a file"));
    CHECK(file_bytes(out).size() == 7);
    fs::remove(out);
    const auto p3_bytes = file_bytes(p3);
    error = merge_error({p1, p2, p3}, p3);
    CHECK_THAT(error, Catch::Contains(p3.string() + " is both an input and --out"));
    CHECK(file_bytes(p3) == p3_bytes);
  }
  INFO(error);
  CHECK(error != "no error");
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(partial_of(out)));
}

TEST_CASE("a sweep record survives resuming: kept as is, replaced by set_sweep", "[results][merge]") {
  TempDir dir;
  const std::vector<RunResult> runs = sweep_of(4);
  const fs::path path = dir / "r.h5";
  const SweepRecord first = sweep_record(identity_of(runs), 1, 2);
  {
    ResultWriter writer(path, false);
    CHECK_FALSE(writer.sweep().has_value());
    writer.set_sweep(first);
    writer.write(runs[0]);
  }  // interrupted: PATH.partial
  {
    ResultWriter writer(path, true);
    REQUIRE(writer.sweep().has_value());
    CHECK(*writer.sweep() == first);
    writer.write(runs[2]);
    writer.finish();
  }
  CHECK(read_results_file(path).sweep == first);
  // Resumed with another record and given up before writing a run: the file is not the one
  // it was, so it stays PATH.partial rather than look finished.
  {
    ResultWriter writer(path, true);
    writer.set_sweep(sweep_record(identity_of(runs), 1, 1));
  }
  CHECK_FALSE(fs::exists(path));
  REQUIRE(fs::exists(partial_of(path)));
  // A finished file resumed with the same record and nothing to write is put back as it was.
  {
    ResultWriter writer(path, true);
    writer.finish();
  }
  {
    ResultWriter writer(path, true);
    writer.set_sweep(sweep_record(identity_of(runs), 1, 1));
  }
  CHECK(fs::exists(path));
  CHECK_FALSE(fs::exists(partial_of(path)));
  CHECK(read_results_file(path).sweep == sweep_record(identity_of(runs), 1, 1));
}
