#include "deploy/shard.hpp"

#include "swarm/fl/modules.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <regex>

#include "engine/atomic_file.hpp"
#include "swarm/blob.hpp"
#include "swarm/error.hpp"
#include "swarm/ml/dataset.hpp"

namespace swarm::deploy {
namespace fs = std::filesystem;
namespace {

const std::regex kName("[A-Za-z0-9_-]+");

// Whole or not at all: a node never reads a half-written shard.
void write_bytes(const fs::path& path, const void* data, size_t size) {
  write_file_atomically(path, std::string_view(static_cast<const char*>(data), size));
}

void read_bytes(const fs::path& path, void* data, size_t size) {
  std::error_code ec;
  const auto actual = fs::file_size(path, ec);
  if (ec) throw DataError(path.string() + ": cannot read: " + ec.message());
  if (actual != size) {
    throw DataError(path.string() + ": " + std::to_string(actual) + " bytes, expected " + std::to_string(size) +
                    " (as shard.json declares)");
  }
  std::ifstream in(path, std::ios::binary);
  in.read(static_cast<char*>(data), static_cast<std::streamsize>(size));
  if (!in) throw DataError(path.string() + ": cannot read: " + std::strerror(errno));
}

}  // namespace

void write_shard(const fs::path& dir, NodeId node, const LocalData& data) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw DataError(dir.string() + ": cannot create the shard folder: " + ec.message());
  Dict manifest{{"format", "swarmsim-shard"}, {"version", 1}, {"node", node}, {"datasets", Dict::object()}};
  for (const auto& [name, value] : data) {
    if (name == fl::kGemmKernel) continue;  // the run's kernel: a node learns it from its welcome
    const auto* view = std::any_cast<ml::DatasetView>(&value);
    if (view == nullptr) throw UsageError("node " + std::to_string(node) + "'s dataset '" + name + "' is not a dataset view: it cannot be shipped");
    if (!std::regex_match(name, kName)) throw UsageError("dataset name '" + name + "': expected [A-Za-z0-9_-]+");
    const int64_t n = view->size();
    const int f = view->num_features();
    std::vector<float> features(static_cast<size_t>(n) * static_cast<size_t>(f));
    std::vector<uint8_t> labels(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const auto col = view->features(i);
      for (int k = 0; k < f; ++k) features[static_cast<size_t>(i) * f + k] = col(k);
      labels[static_cast<size_t>(i)] = view->label(i);
    }
    write_bytes(dir / (name + ".features.f32"), features.data(), features.size() * sizeof(float));
    write_bytes(dir / (name + ".labels.u8"), labels.data(), labels.size());
    manifest["datasets"][name] = {{"samples", n}, {"features", f}, {"classes", view->num_classes()}};
  }
  const std::string text = manifest.dump(2) + "\n";
  write_bytes(dir / "shard.json", text.data(), text.size());
}

Shard read_shard(const fs::path& dir) {
  const fs::path file = dir / "shard.json";
  std::ifstream in(file);
  if (!in) throw DataError(file.string() + ": cannot read the shard manifest: " + std::strerror(errno));
  const Dict m = Dict::parse(in, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](const std::string& what) { return DataError(file.string() + ": " + what); };
  if (m.is_discarded() || !m.is_object()) throw bad("not JSON");
  if (m.value("format", "") != "swarmsim-shard" || m.value("version", 0) != 1) {
    throw bad("not a swarmsim shard manifest of version 1");
  }
  if (!m.contains("node") || !m["node"].is_number_unsigned() || m["node"].get<uint64_t>() >= kServerNode) {
    throw bad("'node' must be a node id");
  }
  if (!m.contains("datasets") || !m["datasets"].is_object()) throw bad("'datasets' must be a map");
  Shard shard;
  shard.node = m["node"].get<NodeId>();
  for (const auto& [name, d] : m["datasets"].items()) {
    if (!std::regex_match(name, kName)) throw bad("dataset name '" + name + "' is refused (expected [A-Za-z0-9_-]+: it stays in the folder)");
    auto count = [&](const char* key, int64_t lo, int64_t hi) {
      if (!d.is_object() || !d.contains(key) || !d[key].is_number_integer() || d[key].get<int64_t>() < lo ||
          d[key].get<int64_t>() > hi) {
        throw bad("dataset '" + name + "': '" + key + "' must be an integer in [" + std::to_string(lo) + ", " +
                  std::to_string(hi) + "]");
      }
      return d[key].get<int64_t>();
    };
    const int64_t n = count("samples", 0, int64_t{1} << 32);
    const int64_t f = count("features", 1, 1 << 24);
    const int64_t c = count("classes", 1, 256);
    if (n * f > (int64_t{1} << 34)) throw bad("dataset '" + name + "' is too large");
    auto storage = std::make_shared<ml::DatasetStorage>();
    storage->features.resize(f, n);
    storage->labels.resize(static_cast<size_t>(n));
    storage->num_classes = static_cast<int>(c);
    storage->name = "node " + std::to_string(shard.node) + "/" + name;
    read_bytes(dir / (name + ".features.f32"), storage->features.data(), static_cast<size_t>(n * f) * sizeof(float));
    read_bytes(dir / (name + ".labels.u8"), storage->labels.data(), static_cast<size_t>(n));
    for (uint8_t label : storage->labels) {
      if (label >= c) throw bad("dataset '" + name + "' has a label " + std::to_string(label) + " >= its " + std::to_string(c) + " classes");
    }
    shard.data[name] = ml::DatasetView(std::shared_ptr<const ml::DatasetStorage>(std::move(storage)));
  }
  return shard;
}

}  // namespace swarm::deploy
