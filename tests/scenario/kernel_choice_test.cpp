// scenario/kernel_choice.*: what `auto` chose is remembered per machine and model.

#include "scenario/kernel_choice.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using namespace swarm;
using namespace swarm::scenario;

namespace {

fs::path fresh_memory(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / name;
  fs::remove_all(dir);
  return dir / "swarmsim" / "kernels.json";  // its folder does not exist yet
}

}  // namespace

TEST_CASE("auto's choice is measured once per model and remembered after", "[scenario][kernel]") {
  const fs::path file = fresh_memory("swarm_kernel_memory");
  int measured = 0;
  // A measurement that picks the kernel other than the default, as a machine where Eigen wins.
  const ml::Kernel pick = ml::available_kernels().back();
  auto measure = [&] {
    ++measured;
    return ml::KernelChoice{pick, "fastest here: test"};
  };
  const std::vector<int> layers{20, 8, 3};
  const ml::KernelChoice first = remembered_kernel(file, layers, 16, measure);
  CHECK(measured == 1);
  CHECK(first.kernel == pick);
  CHECK(first.reason == "fastest here: test");
  REQUIRE(fs::exists(file));

  const ml::KernelChoice again = remembered_kernel(file, layers, 16, measure);
  CHECK(measured == 1);  // read back, not measured
  CHECK(again.kernel == pick);
  CHECK_THAT(again.reason, Catch::StartsWith("fastest here: test (remembered in ") && Catch::Contains(file.string()));

  // Another batch size is another model's step: measured, and both remembered.
  remembered_kernel(file, layers, 32, measure);
  CHECK(measured == 2);
  remembered_kernel(file, layers, 16, measure);
  remembered_kernel(file, layers, 32, measure);
  CHECK(measured == 2);
}

TEST_CASE("a damaged kernel memory is measured over, never an error", "[scenario][kernel]") {
  const fs::path file = fresh_memory("swarm_kernel_memory_damaged");
  fs::create_directories(file.parent_path());
  int measured = 0;
  auto measure = [&] {
    ++measured;
    return ml::KernelChoice{ml::default_kernel(), "measured"};
  };
  const std::vector<int> layers{20, 8, 3};
  for (const char* content : {"{not json", "[1, 2]", ""}) {
    std::ofstream(file) << content;
    CHECK(remembered_kernel(file, layers, 16, measure).kernel == ml::default_kernel());
  }
  CHECK(measured == 3);
  // An entry naming a kernel this build does not know: measured again, and replaced.
  nlohmann::json bad;
  {
    std::ifstream in(file);
    bad = nlohmann::json::parse(in);
  }
  REQUIRE(bad.size() == 1);
  bad.begin().value()["kernel"] = "cublas";
  std::ofstream(file) << bad.dump();
  CHECK(remembered_kernel(file, layers, 16, measure).reason == "measured");
  CHECK(measured == 4);
  CHECK(remembered_kernel(file, layers, 16, measure).reason != "measured");
  CHECK(measured == 4);
}

TEST_CASE("without a place to remember, auto just measures", "[scenario][kernel]") {
  int measured = 0;
  auto measure = [&] {
    ++measured;
    return ml::KernelChoice{ml::default_kernel(), "measured"};
  };
  remembered_kernel({}, {4, 2}, 8, measure);
  remembered_kernel({}, {4, 2}, 8, measure);
  CHECK(measured == 2);
  // A folder that cannot be made (a file is in the way): measured, no error.
  const fs::path blocker = fresh_memory("swarm_kernel_memory_blocked").parent_path().parent_path() / "file";
  fs::create_directories(blocker.parent_path());
  std::ofstream(blocker) << "x";
  CHECK(remembered_kernel(blocker / "swarmsim" / "kernels.json", {4, 2}, 8, measure).reason == "measured");
  CHECK(measured == 3);
}
