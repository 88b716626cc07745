#pragma once
// Runs the `swarm` binary built beside the tests (SWARM_BIN, set by CTest) and captures what a
// user sees: the exit code and stdout and stderr together.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <sys/wait.h>

#include <catch2/catch.hpp>

namespace swarm::testing {

struct CliResult {
  int code;
  std::string out;  // stdout and stderr together
};

// The build's bin folder (SWARM_BIN, set by CTest).
inline std::string bin_dir() {
  const char* bin = std::getenv("SWARM_BIN");
  return bin ? bin : "build/bin";
}

// Runs `script` with /bin/sh and captures its exit code and what it prints on stdout.
inline CliResult run_shell(const std::string& script) {
  FILE* p = popen(script.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// Runs `program` (a binary of the build's bin folder) with `args`.
inline CliResult run_program(const std::string& program, const std::string& args) {
  return run_shell(bin_dir() + "/" + program + " " + args + " 2>&1");
}

// The "final accuracy X" a run prints in its summary line.
inline double final_accuracy(const std::string& out) {
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex("final accuracy ([0-9.]+)")));
  return std::stod(m[1]);
}

inline CliResult swarm_cli(const std::string& args) { return run_program("swarm", args); }

// A fresh, empty folder under the system's temporary directory, named for the test.
inline std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Writes `text` to `dir/name` and returns the path.
inline std::filesystem::path write_file(const std::filesystem::path& dir, const std::string& name,
                                        const std::string& text) {
  const auto path = dir / name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace swarm::testing
