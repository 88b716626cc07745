#include "engine/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "swarm/error.hpp"

namespace swarm {
namespace fs = std::filesystem;

void write_file_atomically(const fs::path& path, std::string_view bytes, mode_t mode) {
  const fs::path tmp = path.string() + ".tmp";
  auto fail = [&](const std::string& what, int error) {
    ::unlink(tmp.c_str());
    throw DataError(path.string() + ": cannot write (" + what + "): " + std::strerror(error));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw DataError(tmp.string() + ": cannot create: " + std::strerror(errno));
  ::fchmod(fd, mode);  // O_CREAT's mode is filtered by the umask; a leftover .tmp keeps its own
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      ::close(fd);
      fail("write", error);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    fail("fsync", error);
  }
  if (::close(fd) != 0) fail("close", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename", errno);
  // The rename is durable once the folder is on disk too.
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace swarm
