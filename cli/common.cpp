#include "cli/common.hpp"

#include <filesystem>
#include <fstream>
#include <thread>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "engine/error.hpp"

namespace swarm::cli {

int default_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

std::shared_ptr<spdlog::logger> make_logger(bool verbose) {
  auto logger = spdlog::get("swarm");
  if (!logger) logger = spdlog::stderr_color_mt("swarm");
  logger->set_level(verbose ? spdlog::level::info : spdlog::level::warn);
  return logger;
}

void write_atomically(const std::string& path, const std::function<void(std::ostream&)>& fill) {
  const std::string tmp = path + ".tmp";
  try {
    {
      std::ofstream out(tmp);
      if (!out) throw UsageError("cannot write " + tmp);
      fill(out);
      if (!out.flush()) throw UsageError("error writing " + tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw UsageError("cannot move " + tmp + " to " + path + ": " + ec.message());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);  // nothing half-written left behind
    throw;
  }
}

std::vector<scenario::Scenario> load_scenario_runs(const std::string& file,
                                                   const std::vector<std::string>& overrides) {
  if (file.empty()) return scenario::load_runs("name: default\n", "(default scenario)", overrides);
  return scenario::load_runs_from_file(file, overrides);
}

namespace {

template <typename T>
void shortcut(CLI::App* cmd, std::vector<std::string>& ov, const std::string& flag, const std::string& key,
              const std::string& help, CLI::Validator check = CLI::Validator()) {
  auto* opt = cmd->add_option_function<T>(
      flag, [&ov, key](const T& v) {
        std::ostringstream s;
        s << key << '=' << v;
        ov.push_back(s.str());
      },
      help + " (scenario key " + key + ")");
  opt->check(check);
  opt->group("Scenario shortcuts");
}

}  // namespace

void add_shortcut_flags(CLI::App* cmd, std::vector<std::string>& ov) {
  shortcut<std::string>(cmd, ov, "--backend", "backend", "sim: virtual nodes and time; inprocess: wall clock",
                        CLI::IsMember({"sim", "inprocess"}));
  shortcut<int>(cmd, ov, "-r,--rounds", "swarm.rounds", "Rounds (iterations) to run at most", CLI::Range(1, 1000000));
  shortcut<int64_t>(cmd, ov, "-n,--nodes", "population.nodes", "Nodes in the population",
                    CLI::Range(int64_t{1}, int64_t{100000000}));
  shortcut<uint64_t>(cmd, ov, "-s,--seed", "seed", "Seed of the whole run: same seed, same numbers");
  shortcut<std::string>(cmd, ov, "--data", "data.path", "Folder holding Fashion-MNIST's four IDX files");
  cmd->add_flag_callback("--synthetic", [&ov] { ov.push_back("data.dataset=synthetic"); },
                         "Use a small seeded synthetic dataset instead (scenario key data.dataset)")
      ->group("Scenario shortcuts");
  cmd->add_option_function<std::vector<int>>(
         "--hidden",
         [&ov](const std::vector<int>& h) {
           std::string list;
           for (int v : h) list += (list.empty() ? "" : ",") + std::to_string(v);
           ov.push_back("model.hidden=[" + list + "]");
         },
         "Hidden layer sizes, e.g. --hidden 200,200 (scenario key model.hidden)")
      ->delimiter(',')->check(CLI::Range(1, 100000))->group("Scenario shortcuts");
  shortcut<int>(cmd, ov, "--epochs", "training.epochs", "Local epochs per round", CLI::Range(1, 1000));
  shortcut<int>(cmd, ov, "--batch-size", "training.batch_size", "Mini-batch size", CLI::Range(1, 100000));
  shortcut<double>(cmd, ov, "--lr", "training.lr", "SGD learning rate", CLI::PositiveNumber);
  shortcut<double>(cmd, ov, "--momentum", "training.momentum", "SGD momentum", CLI::Range(0.0, 0.999999));
  shortcut<double>(cmd, ov, "--weight-decay", "training.weight_decay", "L2 weight decay", CLI::NonNegativeNumber);
  shortcut<double>(cmd, ov, "--clients-per-round", "swarm.clients_per_round",
                   "Workers sampled per round: a count, a fraction in (0,1), or -1 for all");
  shortcut<double>(cmd, ov, "--target-accuracy", "swarm.target_accuracy", "Stop once test accuracy reaches this",
                   CLI::Range(0.0, 1.0));
  shortcut<std::string>(cmd, ov, "--strategy", "strategy.name", "Aggregation strategy (fedavg, krum, ...)");
  cmd->add_option_function<std::vector<std::string>>(
         "--profiles",
         [&ov](const std::vector<std::string>& items) {
           std::string list;
           for (const std::string& p : items) {
             const auto eq = p.find('=');
             const std::string name = p.substr(0, eq), share = eq == std::string::npos ? "" : p.substr(eq + 1);
             list += (list.empty() ? "" : ", ") + std::string("{profile: '") + name + "'" +
                     (share.empty() ? "" : ", share: '" + share + "'") + "}";
           }
           ov.push_back("population.profiles=[" + list + "]");
         },
         "Population by built-in profile and share, e.g. phone=0.6,laptop=0.3,server=0.1 "
         "(scenario key population.profiles)")
      ->delimiter(',')->group("Scenario shortcuts");
  shortcut<std::string>(cmd, ov, "--network", "network.model",
                        "maxmin: flows share links fairly; constant: latency + size/bandwidth",
                        CLI::IsMember({"maxmin", "constant"}));
  shortcut<double>(cmd, ov, "--deadline", "swarm.deadline_s",
                   "Drop workers still running this many virtual seconds into a round", CLI::PositiveNumber);
  shortcut<double>(cmd, ov, "--overcommit", "swarm.overcommit",
                   "Sample clients-per-round x F workers, keep the first clients-per-round", CLI::Range(1.0, 100.0));
  shortcut<double>(cmd, ov, "--crash-prob", "faults.crash_probability", "Probability that a worker crashes",
                   CLI::Range(0.0, 1.0));
  shortcut<double>(cmd, ov, "--transfer-fail-prob", "faults.transfer_failure_probability",
                   "Probability that a worker drops during a transfer", CLI::Range(0.0, 1.0));
  cmd->add_flag_callback("--async", [&ov] { ov.push_back("swarm.graph=fl-async"); },
                         "Asynchronous FL (FedBuff) (scenario key swarm.graph=fl-async)")
      ->group("Scenario shortcuts");
  shortcut<int>(cmd, ov, "--buffer", "swarm.buffer_size", "Async: updates per aggregation", CLI::Range(1, 1000000));
  shortcut<int>(cmd, ov, "--concurrency", "swarm.concurrency", "Async: workers training at once",
                CLI::Range(1, 1000000));
  shortcut<double>(cmd, ov, "--server-lr", "strategy.server_lr", "Server learning rate", CLI::PositiveNumber);
  cmd->add_option_function<int64_t>(
         "--samples-per-node",
         [&ov](const int64_t& n) {
           ov.push_back("data.partition=sampled");
           ov.push_back("data.samples_per_node=" + std::to_string(n));
         },
         "Each node samples this many training examples of its own (for populations larger than the "
         "dataset) (scenario keys data.partition=sampled, data.samples_per_node)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}))->group("Scenario shortcuts");
}

}  // namespace swarm::cli
