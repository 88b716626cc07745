#pragma once
// CURVE key pairs in ZeroMQ's certificate format (CZMQ's zcert, ZPL text), so that other
// ZeroMQ tools read them: NAME.key holds the public key, NAME.key_secret both keys (mode 0600).

#include <filesystem>
#include <string>
#include <vector>

#include "swarm/error.hpp"

namespace swarm::deploy {

struct KeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters; empty when only the public key was read
};

// A fresh key pair from libsodium's random source. Throws Error if libzmq lacks CURVE.
KeyPair make_key_pair();

// Writes DIR/NAME.key and DIR/NAME.key_secret (0600), each through a temporary file renamed
// into place. Throws UsageError for a name that is not [A-Za-z0-9_.-]+ or when the files
// exist (keys are never overwritten), DataError when the folder cannot be written.
void write_key_pair(const std::filesystem::path& dir, const std::string& name, const KeyPair& keys);

// Reads a certificate: the public key of NAME.key, or both of NAME.key_secret. Throws
// DataError naming the file and line when it is missing, unreadable or not a certificate
// with valid Z85 keys, or (for a secret file) readable by others than its owner.
KeyPair read_certificate(const std::filesystem::path& file);

// The public keys of every *.key file of `dir` (the nodes a coordinator admits), sorted.
std::vector<std::string> read_allowed_keys(const std::filesystem::path& dir);

}  // namespace swarm::deploy
