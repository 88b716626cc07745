// The per-node arrays of large populations ask the kernel for huge pages (sim/huge_pages.hpp).
#include "sim/huge_pages.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

// The kernel's transparent huge page mode: "always", "madvise" or "never" (the bracketed one),
// or "" when it has none.
std::string thp_mode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(in, line);
  const size_t open = line.find('['), close = line.find(']');
  if (open == std::string::npos || close == std::string::npos) return "";
  return line.substr(open + 1, close - open - 1);
}

// A counter of /proc/vmstat, or -1.
int64_t vmstat(const std::string& name) {
  std::ifstream in("/proc/vmstat");
  std::string key;
  int64_t value = 0;
  while (in >> key >> value) {
    if (key == name) return value;
  }
  return -1;
}

// The AnonHugePages (kB) of the mapping of /proc/self/smaps that holds `address`.
int64_t huge_kb_at(const void* address) {
  const auto at = reinterpret_cast<uintptr_t>(address);
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo <= at && at < hi;
      continue;
    }
    if (inside && line.rfind("AnonHugePages:", 0) == 0) return std::stoll(line.substr(14));
  }
  return -1;
}

}  // namespace

TEST_CASE("reserve_huge gives a large array huge pages where the kernel has them", "[huge_pages]") {
  const std::string mode = thp_mode();
  if (mode != "always" && mode != "madvise") {
    WARN("transparent huge pages are '" << mode << "' here: nothing to check");
    return;
  }
  const int64_t fallbacks = vmstat("thp_fault_fallback");
  std::vector<uint64_t> big;
  swarm::sim::reserve_huge(big, size_t{8} << 20);  // 64 MiB
  REQUIRE(big.capacity() >= (size_t{8} << 20));
  big.assign(size_t{8} << 20, 7);
  const int64_t kb = huge_kb_at(big.data() + big.size() / 2);
  INFO("AnonHugePages of the array's mapping: " << kb << " kB (mode " << mode << ")");
  if (kb == 0 && vmstat("thp_fault_fallback") > fallbacks) {
    // The advice was taken, but the kernel had no free huge page to give (fragmented memory).
    WARN("the kernel fell back to small pages: no free huge page");
    return;
  }
  CHECK(kb >= 2048);
  CHECK(big[big.size() / 2] == 7);
}

TEST_CASE("reserve_huge leaves small arrays and enough capacity alone", "[huge_pages]") {
  std::vector<uint32_t> small{1, 2, 3};
  swarm::sim::reserve_huge(small, 10);  // under 4 MiB: a plain reserve
  CHECK(small.capacity() >= 10);
  CHECK(small == std::vector<uint32_t>{1, 2, 3});
  const uint32_t* before = small.data();
  swarm::sim::reserve_huge(small, 5);  // already room: nothing moves
  CHECK(small.data() == before);
  swarm::sim::advise_huge_pages(small.data(), 3);  // too small to hold a huge page: a no-op
  CHECK(small == std::vector<uint32_t>{1, 2, 3});
}
