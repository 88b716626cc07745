#pragma once
// What the commands that run on real nodes share (`swarm deploy`, `swarm coordinator`,
// `swarm calibrate`): their node flags and Ctrl-C handling. What --launcher takes is
// deploy::launcher_names().

#include <signal.h>

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "deploy/deployment.hpp"
#include "scenario/scenario.hpp"

namespace swarm::cli {

// Ctrl-C and SIGTERM end a deployment in good order (nodes stopped, temporary files removed).
class InterruptGuard {
 public:
  InterruptGuard() {
    deploy::interrupt_flag() = false;
    struct sigaction sa {};
    sa.sa_handler = [](int) { deploy::interrupt_flag() = true; };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~InterruptGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

// The options real nodes share between `deploy`, `coordinator` and `calibrate`.
struct NodeFlags {
  int heartbeat_ms = 0, dead_after_ms = 0;
  bool insecure = false;
  void add(CLI::App* cmd) {
    cmd->add_option("--heartbeat-ms", heartbeat_ms, "Heartbeat interval both ways (default 200)")->check(CLI::Range(1, 60000));
    cmd->add_option("--dead-after-ms", dead_after_ms, "Silence after which a node is dead (default 3000)")
        ->check(CLI::Range(2, 600000));
    cmd->add_flag("--insecure", insecure, "Plain TCP without CURVE encryption and authentication (trusted networks only)");
  }
  void apply(std::vector<scenario::Override>& ov) const {
    ov.emplace_back("backend=nodes", "");
    if (heartbeat_ms > 0) ov.emplace_back("backend_options.heartbeat_ms=" + std::to_string(heartbeat_ms), "--heartbeat-ms");
    if (dead_after_ms > 0) ov.emplace_back("backend_options.dead_after_ms=" + std::to_string(dead_after_ms), "--dead-after-ms");
    if (insecure) ov.emplace_back("backend_options.curve=false", "--insecure");
  }
};

}  // namespace swarm::cli
