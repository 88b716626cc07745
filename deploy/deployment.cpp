#include "deploy/deployment.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "deploy/coordinator.hpp"
#include "deploy/docker_launcher.hpp"
#include "deploy/keys.hpp"
#include "deploy/node_agent.hpp"
#include "deploy/shard.hpp"
#include "deploy/swarm_mode_launcher.hpp"

extern char** environ;

namespace swarm::deploy {
namespace fs = std::filesystem;
namespace {

std::string option_string(const Dict& o, const char* key, const std::string& fallback) {
  if (!o.contains(key)) return fallback;
  if (!o[key].is_string()) throw UsageError(std::string("backend_options.") + key + ": expected a string");
  return o[key].get<std::string>();
}

double option_number(const Dict& o, const char* key, double fallback, double lo, double hi) {
  if (!o.contains(key)) return fallback;
  if (!o[key].is_number() || !(o[key].get<double>() >= lo && o[key].get<double>() <= hi)) {
    throw UsageError(std::string("backend_options.") + key + ": expected a number in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
  }
  return o[key].get<double>();
}

bool option_bool(const Dict& o, const char* key, bool fallback) {
  if (!o.contains(key)) return fallback;
  if (!o[key].is_boolean()) throw UsageError(std::string("backend_options.") + key + ": expected true or false");
  return o[key].get<bool>();
}

// A private folder under the system's temporary one, removed with this object.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "swarm-deploy-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw DataError("cannot create a temporary folder: " + std::string(std::strerror(errno)));
    path = pattern;  // mkdtemp makes it 0700
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

CoordinatorOptions coordinator_options(const BackendArgs& args, bool launched) {
  const Dict& o = args.options;
  CoordinatorOptions c;
  // Nodes started elsewhere must know the port in advance; launched ones are told it.
  c.bind = option_string(o, "bind", launched ? c.bind : kDefaultBind);
  c.curve = option_bool(o, "curve", true);
  c.nodes = args.num_nodes;
  // The run's kernel when it has one (nodes must compute as the run does), else the default.
  const std::optional<ml::Kernel> run_kernel = ml::parse_kernel(args.kernel);
  c.kernel = gemm_kernel(run_kernel ? *run_kernel : ml::default_kernel());
  c.heartbeat_ns = static_cast<Nanos>(option_number(o, "heartbeat_ms", 200, 1, 60'000) * 1e6);
  c.dead_after_ns = static_cast<Nanos>(option_number(o, "dead_after_ms", 3000, 2, 600'000) * 1e6);
  c.register_timeout_ns = static_cast<Nanos>(option_number(o, "register_timeout_s", 60, 0.1, 86'400) * 1e9);
  c.threads = args.threads;
  c.interrupted = &interrupt_flag();
  return c;
}

// Local node processes (LocalLauncher) as a NodeLauncher: `swarm node` of this very program.
class LocalNodes final : public NodeLauncher {
 public:
  void start(const NodeLaunch& launch) override {
    const std::string exe = self_executable().string();
    for (size_t i = 0; i < launch.shards.size(); ++i) {
      std::vector<std::string> a = {"node", "--connect", launch.endpoint, "--data", launch.shards[i].string(),
                                    "--threads", "1", "--exit-with-parent"};
      if (!launch.keys.empty()) {
        a.insert(a.end(), {"--server-key", (launch.keys / "server.key").string(), "--key",
                           (launch.keys / ("node-" + std::to_string(i) + ".key_secret")).string()});
      } else {
        a.push_back("--insecure");
      }
      if (launch.verbose) a.push_back("--verbose");
      processes_.spawn(exe, a);
    }
  }
  bool any_exited(std::string* which) override { return processes_.any_exited(which); }
  void stop_all() override { processes_.stop_all(); }

 private:
  LocalLauncher processes_;
};

// The launcher backend_options.launcher names (none: nullptr), its options checked.
std::unique_ptr<NodeLauncher> make_launcher(const Dict& o, int64_t nodes) {
  const std::string name = option_string(o, "launcher", "local");
  const std::vector<std::string>& names = launcher_names();
  if (name != "none" && std::find(names.begin(), names.end(), name) == names.end()) {
    throw UsageError(fmt::format("backend_options.launcher: unknown launcher '{}'; expected {} or none", name,
                                 fmt::join(names, ", ")));
  }
  if (name != "docker" && name != "swarm-mode") {
    for (const char* key : {"image", "cpus", "memory"}) {
      if (o.contains(key)) {
        throw UsageError(std::string("backend_options.") + key + ": only for the container launchers (docker, swarm-mode), "
                         "not launcher " + name);
      }
    }
  }
  if (name != "swarm-mode" && o.contains("constraints")) {
    throw UsageError("backend_options.constraints: only for launcher swarm-mode (Swarm placement), not launcher " + name);
  }
  if (name == "none") return nullptr;
  if (name == "local") return std::make_unique<LocalNodes>();
  if (name == "docker") return std::make_unique<DockerLauncher>(o, nodes);
  return std::make_unique<SwarmModeLauncher>(o, nodes);
}

// Keys and shards first (bases are built in declaration order), then the coordinator. The
// launcher is destroyed (its nodes removed) before the folder they use.
struct Prepared {
  std::unique_ptr<TempDir> temp;
  CoordinatorOptions options;
  std::vector<fs::path> shard_dirs;
  fs::path keys;
  std::unique_ptr<NodeLauncher> launcher;
};

Prepared prepare(const BackendArgs& args) {
  Prepared p;
  const Dict& o = args.options;
  std::unique_ptr<NodeLauncher> launcher = make_launcher(o, args.num_nodes);
  p.options = coordinator_options(args, launcher != nullptr);
  fs::path shards;
  if (launcher) {
    p.temp = std::make_unique<TempDir>();
    p.keys = p.temp->path / "keys";
    shards = p.temp->path;
    if (p.options.curve) {
      const KeyPair server = make_key_pair();
      write_key_pair(p.keys, "server", server);
      p.options.server_keys = server;
      for (int64_t i = 0; i < args.num_nodes; ++i) {
        const KeyPair node = make_key_pair();
        write_key_pair(p.keys, "node-" + std::to_string(i), node);
        p.options.allowed_keys.push_back(node.public_key);
      }
    }
  } else {
    if (p.options.curve) {
      const std::string keys = option_string(o, "keys", "");
      const std::string allow = option_string(o, "allow", "");
      if (keys.empty() || allow.empty()) {
        throw UsageError("real nodes without a launcher need backend_options.keys (the folder of server.key_secret) "
                         "and backend_options.allow (the folder of the nodes' *.key), or curve: false");
      }
      p.options.server_keys = read_certificate(fs::path(keys) / "server.key_secret");
      p.options.allowed_keys = read_allowed_keys(allow);
    }
    shards = option_string(o, "shards", "");
  }
  if (!shards.empty()) {
    for (int64_t i = 0; i < args.num_nodes; ++i) {
      const NodeId id = static_cast<NodeId>(i);
      p.shard_dirs.push_back(shards / ("node-" + std::to_string(i)));
      write_shard(p.shard_dirs.back(), id, args.data(id));
    }
  }
  p.launcher = std::move(launcher);
  return p;
}

class PreparedHolder {
 protected:
  explicit PreparedHolder(const BackendArgs& args) : prepared_(prepare(args)) {}
  Prepared prepared_;
};

// The coordinator of a deployment, with the nodes its launcher started.
class Deployment : private PreparedHolder, public Coordinator {
 public:
  explicit Deployment(const BackendArgs& args)
      : PreparedHolder(args),
        Coordinator(args.modules, prepared_.options, args.logger, args.data(kServerNode)),
        log_(args.logger) {
    try {
      using Seconds = std::chrono::duration<double>;
      const auto start = std::chrono::steady_clock::now();
      if (prepared_.launcher) {
        prepared_.launcher->start({.endpoint = endpoint(),
                                   .shards = prepared_.shard_dirs,
                                   .keys = prepared_.options.curve ? prepared_.keys : fs::path(),
                                   .verbose = args.logger->level() <= spdlog::level::info});
      }
      const auto started = std::chrono::steady_clock::now();
      wait_for_nodes([this] {
        std::string which;
        if (!prepared_.launcher || !prepared_.launcher->any_exited(&which)) return false;
        log_->error("a node exited before registering: {}", which);
        return true;
      });
      // What deploying costs: from starting the nodes to the first round, which starts now.
      if (prepared_.launcher) {
        log_->info("{} node(s) started by launcher {} and registered in {:.2f} s (started in {:.2f} s)", args.num_nodes,
                   option_string(args.options, "launcher", "none"), Seconds(std::chrono::steady_clock::now() - start).count(),
                   Seconds(started - start).count());
      }
    } catch (...) {
      shutdown();
      if (prepared_.launcher) prepared_.launcher->stop_all();
      throw;
    }
  }
  ~Deployment() override {
    shutdown();  // bye first: the nodes exit by themselves
    if (prepared_.launcher) prepared_.launcher->stop_all();
  }

 private:
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace

std::atomic<bool>& interrupt_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

const std::vector<std::string>& launcher_names() {
  static const std::vector<std::string> names = {"local", "docker", "swarm-mode"};
  return names;
}

const std::vector<std::string>& deployment_option_keys() {
  static const std::vector<std::string> keys = {"launcher", "bind",         "keys",          "allow",
                                                "shards",   "curve",        "heartbeat_ms",  "dead_after_ms",
                                                "register_timeout_s", "image", "cpus", "memory", "constraints"};
  return keys;
}

void register_deploy_backend(BackendRegistry& registry) {
  registry.add("nodes", {[](const BackendArgs& args) -> std::unique_ptr<Backend> { return std::make_unique<Deployment>(args); },
                         ClockKind::Wall, "real nodes, wall clock", deployment_option_keys(), /*section=*/"deploy",
                         /*traces=*/true});
}

fs::path self_executable() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("cannot find the running program (/proc/self/exe): " + ec.message());
  return p;
}

void LocalLauncher::spawn(const std::string& program, const std::vector<std::string>& args) {
  const Argv argv(program, args);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.get(), environ);
  if (rc != 0) throw Error("cannot start " + program + ": " + std::strerror(rc));
  pids_.push_back(pid);
}

bool LocalLauncher::any_exited(std::string* which) {
  for (size_t i = 0; i < pids_.size(); ++i) {
    int status = 0;
    if (waitpid(pids_[i], &status, WNOHANG) == pids_[i]) {
      if (which) {
        *which = "process " + std::to_string(pids_[i]) +
                 (WIFEXITED(status) ? " exited with " + std::to_string(WEXITSTATUS(status))
                                    : " was killed by signal " + std::to_string(WTERMSIG(status)));
      }
      pids_.erase(pids_.begin() + static_cast<std::ptrdiff_t>(i));
      return true;
    }
  }
  return false;
}

void LocalLauncher::stop_all() {
  if (pids_.empty()) return;
  using namespace std::chrono;
  // The nodes were told bye: give them a moment to leave by themselves, then ask, then force.
  auto reap_until = [this](steady_clock::time_point deadline) {
    while (!pids_.empty() && steady_clock::now() < deadline) {
      std::erase_if(pids_, [](int pid) {
        int status = 0;
        return waitpid(pid, &status, WNOHANG) == pid;
      });
      if (!pids_.empty()) std::this_thread::sleep_for(milliseconds(5));  // polling the children's exit
    }
  };
  reap_until(steady_clock::now() + seconds(2));
  for (int pid : pids_) ::kill(pid, SIGTERM);
  reap_until(steady_clock::now() + seconds(5));
  for (int pid : pids_) {
    ::kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  pids_.clear();
}

}  // namespace swarm::deploy
