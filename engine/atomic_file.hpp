#pragma once
// Writing a file so that a crash at any instant leaves either the old file or the new one,
// never a half-written one.

#include <sys/types.h>

#include <filesystem>
#include <string_view>

namespace swarm {

// Writes `bytes` to `path.tmp` (created with `mode`, never wider, whatever the umask), flushes
// it to disk, renames it to `path` and flushes the folder. Throws DataError naming the file
// (the temporary file removed) when any step fails.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes, mode_t mode = 0644);

}  // namespace swarm
