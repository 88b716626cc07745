#include "deploy/keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <regex>
#include <sstream>

#include <zmq.h>

#include "engine/atomic_file.hpp"

namespace swarm::deploy {
namespace fs = std::filesystem;
namespace {

bool valid_z85_key(const std::string& key) {
  if (key.size() != 40) return false;
  std::array<uint8_t, 32> raw{};
  return zmq_z85_decode(raw.data(), key.c_str()) != nullptr;
}

std::string header(const char* kind) {
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return std::string("#   ****  Generated on ") + stamp + " by swarmsim  ****\n#   ZeroMQ CURVE " + kind +
         " Certificate\n";
}

}  // namespace

KeyPair make_key_pair() {
  if (!zmq_has("curve")) throw Error("this libzmq has no CURVE security (built without libsodium)");
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0) throw Error(std::string("zmq_curve_keypair: ") + zmq_strerror(zmq_errno()));
  return {pub, sec};
}

void write_key_pair(const fs::path& dir, const std::string& name, const KeyPair& keys) {
  if (!std::regex_match(name, std::regex("[A-Za-z0-9_.-]+")) || name.front() == '.') {
    throw UsageError("key name '" + name + "': expected letters, digits, '_', '-' or '.', not starting with '.'");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw DataError(dir.string() + ": cannot create the folder: " + ec.message());
  const fs::path pub = dir / (name + ".key"), sec = dir / (name + ".key_secret");
  for (const fs::path& p : {pub, sec}) {
    if (fs::exists(p)) throw UsageError(p.string() + " exists; keys are never overwritten (remove it first)");
  }
  write_file_atomically(sec,
             header("**Secret**") + "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n\n"
                                    "metadata\ncurve\n    public-key = \"" + keys.public_key + "\"\n    secret-key = \"" +
                 keys.secret_key + "\"\n",
             0600);
  write_file_atomically(pub,
             header("Public") + "#   Exchange securely, or use a secure mechanism to verify the contents\n"
                                "#   of this file after exchange.\n\nmetadata\ncurve\n    public-key = \"" +
                 keys.public_key + "\"\n",
             0644);
}

KeyPair read_certificate(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw DataError(file.string() + ": cannot read the certificate: " + std::strerror(errno));
  const bool secret = file.extension() == ".key_secret";
  if (secret) {
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      throw DataError(file.string() + ": a secret key readable by others (mode " +
                      std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
                      std::to_string(st.st_mode & 7) + "); chmod 600 it");
    }
  }
  KeyPair keys;
  static const std::regex kEntry(R"re(^\s+(public-key|secret-key)\s*=\s*"([^"]*)"\s*$)re");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::smatch m;
    if (!std::regex_match(line, m, kEntry)) continue;
    if (!valid_z85_key(m[2])) {
      throw DataError(file.string() + ":" + std::to_string(n) + ": " + m[1].str() + " is not a 40-character Z85 key");
    }
    (m[1] == "public-key" ? keys.public_key : keys.secret_key) = m[2];
  }
  if (keys.public_key.empty()) throw DataError(file.string() + ": not a ZeroMQ certificate (no public-key)");
  if (secret && keys.secret_key.empty()) throw DataError(file.string() + ": a secret certificate without secret-key");
  if (!secret) keys.secret_key.clear();
  return keys;
}

std::vector<std::string> read_allowed_keys(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw DataError(dir.string() + ": not a folder of public keys (*.key)");
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".key") out.push_back(read_certificate(e.path()).public_key);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace swarm::deploy
