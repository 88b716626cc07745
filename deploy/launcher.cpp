#include "deploy/launcher.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <algorithm>
#include <atomic>
#include <regex>
#include <thread>

#include "swarm/error.hpp"

extern char** environ;

namespace swarm::deploy {
namespace {

// "a,b,c" -> {"a", "b", "c"}, items trimmed of spaces.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t b = item.find_first_not_of(' '), e = item.find_last_not_of(' ');
    out.push_back(b == std::string::npos ? "" : item.substr(b, e - b + 1));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

// The items of backend_options.KEY: a number or a string, as a list of strings.
std::vector<std::string> list_option(const Dict& o, const char* key) {
  if (!o.contains(key)) return {};
  const Dict& v = o[key];
  if (v.is_number()) {
    std::string s = v.dump();
    return {s};
  }
  if (!v.is_string()) {
    throw UsageError(std::string("backend_options.") + key + ": expected a number or a string of comma-separated values");
  }
  return split_list(v.get<std::string>());
}

}  // namespace

uint64_t parse_memory(const std::string& text, const std::string& where) {
  static const std::regex form(R"(([0-9]+(\.[0-9]+)?)([bkmgBKMG]?))");
  std::smatch m;
  if (!std::regex_match(text, m, form)) {
    throw UsageError(where + ": '" + text + "' is not a memory size; expected bytes with an optional unit b, k, m or g, "
                     "like 512m or 2g");
  }
  const double number = std::stod(m[1].str());
  double scale = 1;
  switch (m[3].str().empty() ? 'b' : std::tolower(m[3].str()[0])) {
    case 'k': scale = 1024.0; break;
    case 'm': scale = 1024.0 * 1024; break;
    case 'g': scale = 1024.0 * 1024 * 1024; break;
    default: break;
  }
  const double bytes = number * scale;
  if (bytes < 6.0 * 1024 * 1024 || bytes > 1e18) {
    throw UsageError(where + ": " + text + " is outside the range a container takes (6m to 1e18 bytes)");
  }
  return static_cast<uint64_t>(std::llround(bytes));
}

std::string node_image(const Dict& o) {
  if (!o.contains("image")) return "swarmsim-node:latest";
  if (!o["image"].is_string() || o["image"].get<std::string>().empty()) {
    throw UsageError("backend_options.image: expected the name of a local image, like swarmsim-node:latest");
  }
  return o["image"].get<std::string>();
}

std::vector<NodeLimits> node_limits(const Dict& o, int64_t nodes) {
  const std::vector<std::string> cpus = list_option(o, "cpus"), memory = list_option(o, "memory");
  static const std::regex decimal(R"([0-9]+(\.[0-9]+)?)");
  for (const std::string& c : cpus) {
    if (!std::regex_match(c, decimal) || std::stod(c) < 0.01 || std::stod(c) > 1024) {
      throw UsageError("backend_options.cpus: '" + c + "' is not a number of CPUs; expected numbers from 0.01 to 1024, "
                       "like 1 or \"2,1,0.5\" (node i gets item i mod the count)");
    }
  }
  std::vector<uint64_t> bytes;
  for (const std::string& m : memory) bytes.push_back(parse_memory(m, "backend_options.memory"));
  std::vector<NodeLimits> out(static_cast<size_t>(nodes));
  for (size_t i = 0; i < out.size(); ++i) {
    if (!cpus.empty()) out[i].cpus = cpus[i % cpus.size()];
    if (!bytes.empty()) out[i].memory = bytes[i % bytes.size()];
  }
  return out;
}

std::vector<std::string> node_constraints(const Dict& o, int64_t nodes) {
  const std::vector<std::string> items = list_option(o, "constraints");
  static const std::regex form(R"([A-Za-z][A-Za-z0-9_.-]*\s*(==|!=)\s*[A-Za-z0-9_.:/-]+)");
  for (const std::string& c : items) {
    if (!std::regex_match(c, form)) {
      throw UsageError("backend_options.constraints: '" + c + "' is not a placement constraint; expected ATTRIBUTE==VALUE "
                       "or ATTRIBUTE!=VALUE, like node.labels.profile==big, one per node or \"A,B\" (node i gets item i "
                       "mod the count)");
    }
  }
  std::vector<std::string> out(static_cast<size_t>(nodes));
  for (size_t i = 0; i < out.size() && !items.empty(); ++i) out[i] = items[i % items.size()];
  return out;
}

std::string docker_program() {
  if (const char* d = std::getenv("SWARM_DOCKER"); d != nullptr && *d != '\0') return d;
  if (::access("/usr/bin/docker", X_OK) == 0) return "/usr/bin/docker";
  return "docker";
}

Argv::Argv(const std::string& program, const std::vector<std::string>& args) : strings_{program} {
  strings_.insert(strings_.end(), args.begin(), args.end());
  for (std::string& a : strings_) pointers_.push_back(a.data());
  pointers_.push_back(nullptr);
}

CommandResult run_command(const std::string& program, const std::vector<std::string>& args) {
  CommandResult result;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    result.output = std::string("cannot create a pipe: ") + std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  const Argv argv(program, args);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.get(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    result.output = "cannot start " + program + ": " + std::strerror(rc);
    return result;
  }
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n > 0) {
      result.output.append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::vector<CommandResult> run_commands(const std::string& program, const std::vector<std::vector<std::string>>& commands,
                                        size_t parallel) {
  std::vector<CommandResult> results(commands.size());
  std::atomic<size_t> next{0};
  std::vector<std::jthread> threads;
  for (size_t t = 0; t < std::min(std::max<size_t>(parallel, 1), commands.size()); ++t) {
    threads.emplace_back([&] {
      for (size_t i; (i = next++) < commands.size();) results[i] = run_command(program, commands[i]);
    });
  }
  threads.clear();  // joins
  return results;
}

std::string last_lines(const std::string& text, int lines) {
  size_t end = text.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  size_t pos = end + 1;
  for (int i = 0; i < lines && pos > 0; ++i) {
    const size_t nl = text.rfind('\n', pos - 1);
    pos = nl == std::string::npos ? 0 : nl;
    if (nl == std::string::npos) break;
  }
  std::string out = text.substr(pos, end + 1 - pos);
  if (!out.empty() && out.front() == '\n') out.erase(0, 1);
  return out;
}

}  // namespace swarm::deploy
