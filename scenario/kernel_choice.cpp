#include "scenario/kernel_choice.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

namespace swarm::scenario {
namespace {

// What the numbers of a choice depend on: every kernel's identity, the layers and the batch.
std::string memory_key(const std::vector<int>& layers, int batch) {
  std::string key;
  for (ml::Kernel k : ml::available_kernels()) key += std::string(ml::kernel_name(k)) + ": " + ml::kernel_identity(k) + "; ";
  for (size_t i = 0; i < layers.size(); ++i) {
    if (i > 0) key += '-';
    key += std::to_string(layers[i]);
  }
  return key + " at batch " + std::to_string(batch);
}

// An exclusive lock on `path` for the scope; holds nothing when the file cannot be opened.
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& path) : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

nlohmann::json read_memory(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : nlohmann::json::object();
}

// Temporary file then rename: a reader sees the old memory or the new one.
void write_memory(const std::filesystem::path& file, const nlohmann::json& memory) {
  const std::filesystem::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << memory.dump(2) << '\n';
    if (!out) return;
  }
  std::error_code ignored;
  std::filesystem::rename(tmp, file, ignored);
}

}  // namespace

std::filesystem::path kernel_memory_file() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "swarmsim" / "kernels.json";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".cache" / "swarmsim" / "kernels.json";
  }
  return {};
}

ml::KernelChoice remembered_kernel(const std::filesystem::path& file, const std::vector<int>& layers, int batch,
                                   const std::function<ml::KernelChoice()>& measure) {
  if (file.empty()) return measure();
  std::error_code error;
  std::filesystem::create_directories(file.parent_path(), error);
  FileLock lock(file.string() + ".lock");
  nlohmann::json memory = read_memory(file);
  const std::string key = memory_key(layers, batch);
  if (auto it = memory.find(key); it != memory.end() && it->is_object()) {
    const std::optional<ml::Kernel> k = ml::parse_kernel(it->value("kernel", std::string()));
    const std::vector<ml::Kernel>& built = ml::available_kernels();
    if (k && std::find(built.begin(), built.end(), *k) != built.end() && ml::check_kernel(*k).empty()) {
      return ml::KernelChoice{*k, it->value("reason", std::string("measured earlier")) + " (remembered in " +
                                      file.string() + ")"};
    }
  }
  ml::KernelChoice choice = measure();
  memory[key] = {{"kernel", std::string(ml::kernel_name(choice.kernel))}, {"reason", choice.reason}};
  write_memory(file, memory);
  return choice;
}

ml::KernelChoice run_kernel(const Scenario& sc, const std::vector<int>& layers) {
  const ml::KernelRequest request{sc.kernel};
  if (request.kernel || ml::available_kernels().size() == 1) {
    return ml::choose_kernel(request, layers, sc.fl.batch_size);
  }
  return remembered_kernel(kernel_memory_file(), layers, sc.fl.batch_size,
                           [&] { return ml::choose_kernel(request, layers, sc.fl.batch_size); });
}

}  // namespace swarm::scenario
