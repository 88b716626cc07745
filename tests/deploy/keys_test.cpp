// CURVE key pairs in zcert files: written 0600, read back, never overwritten, refused when damaged.

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "deploy/keys.hpp"

using namespace swarm;
using namespace swarm::deploy;
namespace fs = std::filesystem;

TEST_CASE("a key pair is written in zcert files and read back", "[deploy][keys]") {
  const fs::path dir = fs::temp_directory_path() / "swarm_keys_test";
  fs::remove_all(dir);
  const KeyPair keys = make_key_pair();
  CHECK(keys.public_key.size() == 40);
  write_key_pair(dir, "node-1", keys);
  CHECK((fs::status(dir / "node-1.key_secret").permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  const KeyPair pub = read_certificate(dir / "node-1.key");
  CHECK(pub.public_key == keys.public_key);
  CHECK(pub.secret_key.empty());
  const KeyPair sec = read_certificate(dir / "node-1.key_secret");
  CHECK(sec.secret_key == keys.secret_key);
  CHECK(read_allowed_keys(dir) == std::vector<std::string>{keys.public_key});
  CHECK_THROWS_WITH(write_key_pair(dir, "node-1", make_key_pair()), Catch::Contains("never overwritten"));
  CHECK_THROWS_AS(write_key_pair(dir, "../evil", keys), UsageError);
  fs::permissions(dir / "node-1.key_secret", fs::perms::others_read, fs::perm_options::add);
  CHECK_THROWS_WITH(read_certificate(dir / "node-1.key_secret"), Catch::Contains("readable by others"));
  std::ofstream(dir / "bad.key") << "metadata\ncurve\n    public-key = \"tooshort\"\n";
  CHECK_THROWS_WITH(read_certificate(dir / "bad.key"), Catch::Contains("bad.key:3: public-key is not a 40-character Z85 key"));
  CHECK_THROWS_AS(read_certificate(dir / "missing.key"), DataError);
  fs::remove_all(dir);
}
