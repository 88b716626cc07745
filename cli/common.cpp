#include "cli/common.hpp"

#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <set>
#include <fstream>
#include <limits>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "engine/text.hpp"
#include "swarm/error.hpp"
#include "swarm/ml/kernel.hpp"

namespace swarm::cli {

int default_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

std::shared_ptr<spdlog::logger> make_logger(bool verbose) {
  auto logger = spdlog::get("swarm");
  if (!logger) logger = spdlog::stderr_color_mt("swarm");
  logger->set_level(verbose ? spdlog::level::info : spdlog::level::warn);
  return logger;
}

namespace {

namespace fs = std::filesystem;

// The file `path` names once symlinks are followed (a dangling link: the file it would
// create). Throws UsageError on a loop of links.
fs::path resolve_links(const fs::path& path, const std::string& what) {
  fs::path target = path;
  for (int hops = 0;; ++hops) {
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(target, ec))) return target;
    if (hops == 40) throw UsageError(what + " " + path.string() + ": too many levels of symbolic links");
    fs::path next = fs::read_symlink(target, ec);
    if (ec) throw UsageError(what + " " + path.string() + ": cannot read the link: " + ec.message());
    target = next.is_absolute() ? next : target.parent_path() / next;
  }
}

}  // namespace

void check_output_path(const std::string& path, const std::string& flag) {
  if (path.empty()) throw UsageError(flag + ": expected a file path, got an empty one");
  const fs::path target = resolve_links(path, flag);
  std::error_code ec;
  const fs::file_status st = fs::status(target, ec);
  if (fs::is_directory(st)) throw UsageError(flag + " " + path + ": is a directory, expected a file path");
  if (fs::exists(st) && !fs::is_regular_file(st)) {
    // A device or a pipe is written in place; opening a pipe here would block.
    if (::access(target.c_str(), W_OK) != 0) {
      throw UsageError(flag + " " + path + ": cannot write it: " + std::strerror(errno));
    }
    return;
  }
  const fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  if (!fs::is_directory(folder, ec)) {
    throw UsageError(flag + " " + path + ": cannot write it: the folder " + folder.string() + " does not exist");
  }
  // Try it: permission bits say nothing to root, nor about read-only mounts or /proc.
  const fs::path probe = folder / ("." + target.filename().string() + ".probe-" + std::to_string(::getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    throw UsageError(flag + " " + path + ": cannot write in the folder " + folder.string() + ": " +
                     std::strerror(errno));
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

void write_atomically(const std::string& path, const std::function<void(std::ostream&)>& fill) {
  const fs::path target = resolve_links(path, "output");
  std::error_code ec;
  const fs::file_status st = fs::status(target, ec);
  if (fs::is_directory(st)) throw UsageError("cannot write " + path + ": it is a directory");
  if (fs::exists(st) && !fs::is_regular_file(st)) {
    // A device (/dev/stdout, /dev/null) or a pipe: written in place, never replaced.
    std::ofstream out(target);
    if (!out) throw UsageError("cannot write " + path);
    fill(out);
    if (!out.flush()) throw UsageError("error writing " + path);
    return;
  }
  // A regular file, or none yet: the temporary file beside the target, so that the rename
  // replaces the target (and never a symlink that named it) within one file system.
  const fs::path tmp = target.string() + ".tmp";
  try {
    {
      std::ofstream out(tmp);
      if (!out) throw UsageError("cannot write " + tmp.string());
      fill(out);
      if (!out.flush()) throw UsageError("error writing " + tmp.string());
    }
    fs::rename(tmp, target, ec);
    if (ec) throw UsageError("cannot move " + tmp.string() + " to " + target.string() + ": " + ec.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);  // nothing half-written left behind
    throw;
  }
}

void print_warnings(const std::vector<scenario::Scenario>& runs) {
  std::set<std::string> seen;
  for (const scenario::Scenario& r : runs) {
    for (const std::string& w : scenario::warnings(r)) {
      if (seen.insert(w).second) std::fprintf(stderr, "swarm: warning: %s\n", w.c_str());
    }
  }
}

std::vector<scenario::Scenario> load_scenario_runs(const std::string& file,
                                                   const std::vector<scenario::Override>& overrides,
                                                   const Registries& registries) {
  if (file.empty()) return scenario::load_runs("name: default\n", "(default scenario)", overrides, registries);
  return scenario::load_runs_from_file(file, overrides, registries);
}

namespace {

using scenario::Override;

// "--rounds" of "-r,--rounds": how messages name the flag.
std::string long_name(const std::string& flags) { return flags.substr(flags.rfind(',') + 1); }

// A flag for one scenario key. The value goes to the scenario reader as given, which checks it
// against the key (type, range, choices: one place for every rule, and 1e6 or 0.0123456789
// arrive unrounded); `text` values are quoted so that YAML reads them as a string.
enum class Value { Number, Text };
void shortcut(CLI::App* cmd, std::vector<Override>& ov, const std::string& flag, const std::string& key,
              const std::string& help, Value kind, const std::string& type_name,
              CLI::Validator check = CLI::Validator()) {
  auto* opt = cmd->add_option_function<std::string>(
      flag,
      [&ov, key, kind, name = long_name(flag)](const std::string& v) {
        std::string value = v;
        if (kind == Value::Text) {
          value = "'";
          for (char c : v) value += c == '\'' ? std::string("''") : std::string(1, c);
          value += "'";
        }
        ov.emplace_back(key + "=" + value, name);
      },
      help + " (scenario key " + key + ")");
  opt->type_name(type_name);
  opt->check(check);
  opt->trigger_on_parse();  // in command-line order, with --set: the last one given wins
  opt->group("Scenario shortcuts");
}

}  // namespace

void add_shortcut_flags(CLI::App* cmd, std::vector<Override>& ov, const Registries& registries) {
  cmd->add_option_function<std::string>(
         "--set", [&ov](const std::string& v) { ov.push_back(v); },
         "Override a scenario key: --set strategy.name=krum (repeatable; of --set and the shortcut "
         "flags below, the last one given wins)")
      ->type_name("KEY=VALUE")->trigger_on_parse();
  std::vector<std::string> backends;
  for (const std::string& name : registries.backends.names()) {
    backends.push_back(name + ": " + registries.backends.get(name).description);
  }
  shortcut(cmd, ov, "--backend", "backend", "Where the nodes run (" + join(backends, "; ") + ")", Value::Text,
           join(registries.backends.names(), "|"));
  shortcut(cmd, ov, "-r,--rounds", "swarm.rounds", "Rounds (iterations) to run at most", Value::Number, "INT");
  shortcut(cmd, ov, "-n,--nodes", "population.nodes", "Nodes in the population", Value::Number, "INT");
  // Checked by the scenario reader too: CLI11 clamped 18446744073709551615 to 2^63 - 1, and an
  // unsigned type wrapped -1 to 2^64 - 1.
  shortcut(cmd, ov, "-s,--seed", "seed", "Seed of the whole run, 0 to 2^63 - 1: same seed, same numbers",
           Value::Number, "INT");
  shortcut(cmd, ov, "--data", "data.path", "Folder holding Fashion-MNIST's four IDX files", Value::Text, "DIR");
  cmd->add_flag_callback("--synthetic", [&ov] { ov.emplace_back("data.dataset=synthetic", "--synthetic"); },
                         "Use a small seeded synthetic dataset instead (scenario key data.dataset)")
      ->trigger_on_parse()
      ->group("Scenario shortcuts");
  cmd->add_option_function<std::vector<int>>(
         "--hidden",
         [&ov](const std::vector<int>& h) {
           std::string list;
           for (int v : h) list += (list.empty() ? "" : ",") + std::to_string(v);
           ov.emplace_back("model.hidden=[" + list + "]", "--hidden");
         },
         "Hidden layer sizes, e.g. --hidden 200,200 (scenario key model.hidden)")
      ->delimiter(',')->check(CLI::Range(1, 100000))->trigger_on_parse()->group("Scenario shortcuts");
  shortcut(cmd, ov, "--epochs", "training.epochs", "Local epochs per round", Value::Number, "INT");
  shortcut(cmd, ov, "--batch-size", "training.batch_size", "Mini-batch size", Value::Number, "INT");
  {
    std::vector<std::string> kernels{"auto"};
    for (ml::Kernel k : ml::available_kernels()) kernels.emplace_back(ml::kernel_name(k));
    shortcut(cmd, ov, "--kernel", "training.kernel",
             "GEMM kernel of the model's products; auto: the faster here, timed at start (kernels give different "
             "numbers; the results record it)", Value::Text, join(kernels, "|"));
  }
  shortcut(cmd, ov, "--lr", "training.lr", "SGD learning rate", Value::Number, "NUMBER");
  shortcut(cmd, ov, "--momentum", "training.momentum", "SGD momentum, in [0, 1)", Value::Number, "NUMBER");
  shortcut(cmd, ov, "--weight-decay", "training.weight_decay", "L2 weight decay", Value::Number, "NUMBER");
  shortcut(cmd, ov, "--clients-per-round", "swarm.clients_per_round",
           "Workers drawn per round among the nodes on at its start: a count, a fraction in (0,1) of them, or -1 "
           "for all", Value::Number, "NUMBER");
  shortcut(cmd, ov, "--target-accuracy", "swarm.target_accuracy", "Stop once test accuracy reaches this",
           Value::Number, "NUMBER");
  shortcut(cmd, ov, "--strategy", "strategy.name",
           "Aggregation strategy (" + join(registries.strategies->names()) + ")", Value::Text, "NAME");
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
           ov.emplace_back("population.profiles=[" + list + "]", "--profiles");
         },
         "Population by built-in profile and share, e.g. phone=0.6,laptop=0.3,server=0.1 "
         "(scenario key population.profiles)")
      ->delimiter(',')->trigger_on_parse()->group("Scenario shortcuts");
  shortcut(cmd, ov, "--network", "network.model",
           "maxmin: flows share links fairly; cm02, lv08: SimGrid's TCP models; constant: latency + size/bandwidth",
           Value::Text, "maxmin|cm02|lv08|constant");
  shortcut(cmd, ov, "--deadline", "swarm.deadline_s", "Drop workers still running this many virtual seconds into a round",
           Value::Number, "SECONDS");
  shortcut(cmd, ov, "--overcommit", "swarm.overcommit",
           "Sample clients-per-round x F workers, keep the first clients-per-round", Value::Number, "F");
  shortcut(cmd, ov, "--crash-prob", "faults.crash_probability", "Probability that a worker crashes", Value::Number,
           "P");
  shortcut(cmd, ov, "--transfer-fail-prob", "faults.transfer_failure_probability",
           "Probability that a worker drops during a transfer", Value::Number, "P");
  cmd->add_flag_callback("--async", [&ov] { ov.emplace_back("swarm.graph=fl-async", "--async"); },
                         "Asynchronous FL (FedBuff) (scenario key swarm.graph=fl-async)")
      ->trigger_on_parse()
      ->group("Scenario shortcuts");
  shortcut(cmd, ov, "--buffer", "swarm.buffer_size", "Async: updates per aggregation", Value::Number, "INT");
  shortcut(cmd, ov, "--concurrency", "swarm.concurrency", "Async: workers training at once", Value::Number, "INT");
  shortcut(cmd, ov, "--server-lr", "strategy.server_lr", "Server learning rate", Value::Number, "NUMBER");
  cmd->add_option_function<std::string>(
         "--samples-per-node",
         [&ov](const std::string& n) {
           ov.emplace_back("data.partition=sampled", "--samples-per-node");
           ov.emplace_back("data.samples_per_node=" + n, "--samples-per-node");
         },
         "Each node samples this many training examples of its own (for populations larger than the "
         "dataset) (scenario keys data.partition=sampled, data.samples_per_node)")
      ->type_name("INT")->trigger_on_parse()->group("Scenario shortcuts");
}

}  // namespace swarm::cli
