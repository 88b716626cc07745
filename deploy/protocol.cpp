#include "deploy/protocol.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace swarm::deploy {
namespace {

template <typename... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

Blob bytes_blob(const std::vector<uint8_t>& bytes) {
  std::vector<std::byte> out(bytes.size());
  std::transform(bytes.begin(), bytes.end(), out.begin(), [](uint8_t b) { return std::byte{b}; });
  return Blob(std::move(out));
}

// Builds the frames of one message: the header is written last, once every blob has its index.
class Writer {
 public:
  explicit Writer(const char* type) { header_ = Dict{{"t", type}, {"v", kProtocolVersion}}; }
  Dict& header() { return header_; }
  // The index of `blob` among the frames.
  size_t add(const Blob& blob) {
    blobs_.push_back(blob);
    return blobs_.size();
  }
  Dict pairs(const std::vector<std::pair<std::string, Blob>>& entries) {
    Dict out = Dict::array();
    for (const auto& [key, blob] : entries) out.push_back(Dict::array({key, add(blob)}));
    return out;
  }
  std::vector<Blob> frames() {
    std::vector<Blob> out;
    out.reserve(blobs_.size() + 1);
    out.push_back(bytes_blob(Dict::to_msgpack(header_)));
    out.insert(out.end(), blobs_.begin(), blobs_.end());
    return out;
  }

 private:
  Dict header_;
  std::vector<Blob> blobs_;
};

// Reads the fields of a decoded header, each checked for its type and range.
class Reader {
 public:
  Reader(const Dict& header, std::span<const std::span<const std::byte>> frames, std::string type)
      : header_(header), frames_(frames), used_(frames.size(), false), type_(std::move(type)) {
    if (!frames.empty()) used_[0] = true;
  }

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw ProtocolError("message '" + type_ + "': field '" + field + "' " + what);
  }
  const Dict& field(const std::string& name) const {
    auto it = header_.find(name);
    if (it == header_.end()) fail(name, "is missing");
    return *it;
  }
  template <typename T>
  T integer(const std::string& name, const Dict& v, T lo = std::numeric_limits<T>::min(),
            T hi = std::numeric_limits<T>::max()) const {
    if (v.is_number_unsigned()) {
      const uint64_t u = v.get<uint64_t>();
      if (u <= static_cast<uint64_t>(hi) && (lo <= 0 || u >= static_cast<uint64_t>(lo))) return static_cast<T>(u);
    } else if (v.is_number_integer()) {
      const int64_t i = v.get<int64_t>();
      if (i >= static_cast<int64_t>(lo) && (i < 0 || static_cast<uint64_t>(i) <= static_cast<uint64_t>(hi))) {
        return static_cast<T>(i);
      }
    } else {
      fail(name, "must be an integer, got " + std::string(v.type_name()));
    }
    fail(name, "is out of range: " + v.dump());
  }
  template <typename T>
  T integer(const std::string& name, T lo = std::numeric_limits<T>::min(), T hi = std::numeric_limits<T>::max()) const {
    return integer<T>(name, field(name), lo, hi);
  }
  double number(const std::string& name) const {
    const Dict& v = field(name);
    if (!v.is_number()) fail(name, "must be a number, got " + std::string(v.type_name()));
    const double d = v.get<double>();
    if (!std::isfinite(d)) fail(name, "must be finite");
    return d;
  }
  bool boolean(const std::string& name) const {
    const Dict& v = field(name);
    if (!v.is_boolean()) fail(name, "must be true or false, got " + std::string(v.type_name()));
    return v.get<bool>();
  }
  std::string string(const std::string& name, const Dict& v) const {
    if (!v.is_string()) fail(name, "must be a string, got " + std::string(v.type_name()));
    return v.get<std::string>();
  }
  std::string string(const std::string& name) const { return string(name, field(name)); }
  const Dict& array(const std::string& name) const {
    const Dict& v = field(name);
    if (!v.is_array()) fail(name, "must be a list, got " + std::string(v.type_name()));
    return v;
  }
  std::vector<std::string> strings(const std::string& name) const {
    std::vector<std::string> out;
    for (const Dict& s : array(name)) out.push_back(string(name, s));
    return out;
  }
  template <typename T>
  std::vector<T> integers(const std::string& name) const {
    std::vector<T> out;
    for (const Dict& v : array(name)) out.push_back(integer<T>(name, v));
    return out;
  }
  // The blob of frame `v` (an index >= 1, each frame used once).
  Blob blob(const std::string& name, const Dict& v) {
    const size_t i = integer<size_t>(name, v, 1, frames_.size() - 1);
    if (i >= frames_.size()) fail(name, "refers to frame " + std::to_string(i) + ", beyond the message");
    if (used_[i]) fail(name, "refers to frame " + std::to_string(i) + " a second time");
    used_[i] = true;
    const auto f = frames_[i];
    return Blob(std::vector<std::byte>(f.begin(), f.end()));
  }
  // [[key, frame], ...]
  std::vector<std::pair<std::string, Blob>> pairs(const std::string& name) {
    std::vector<std::pair<std::string, Blob>> out;
    for (const Dict& e : array(name)) {
      if (!e.is_array() || e.size() != 2) fail(name, "must hold [key, frame] pairs");
      out.emplace_back(string(name, e[0]), blob(name, e[1]));
    }
    return out;
  }
  void finish() const {
    for (size_t i = 1; i < used_.size(); ++i) {
      if (!used_[i]) throw ProtocolError("message '" + type_ + "': frame " + std::to_string(i) + " is not used by the header");
    }
  }

 private:
  const Dict& header_;
  std::span<const std::span<const std::byte>> frames_;
  std::vector<bool> used_;
  std::string type_;
};

}  // namespace

const char* type_name(const Message& m) {
  static constexpr const char* kNames[] = {"register", "welcome", "refused", "run",  "done",
                                           "cancel",   "heartbeat", "error", "bye"};
  return kNames[m.index()];
}

std::vector<Blob> encode(const Message& m) {
  Writer w(type_name(m));
  Dict& h = w.header();
  std::visit(Overloaded{
                 [&](const Register& r) {
                   h["node"] = r.node;
                   h["cores"] = r.cores;
                   h["memory"] = r.memory_bytes;
                   h["flops"] = r.flops;
                   h["kernels"] = r.kernels;
                   h["datasets"] = r.datasets;
                 },
                 [&](const Welcome& r) {
                   h["heartbeat_ms"] = r.heartbeat_ms;
                   h["kernel"] = r.kernel;
                 },
                 [&](const Refused& r) { h["reason"] = r.reason; },
                 [&](const Run& r) {
                   h["instance"] = r.spec.id;
                   h["task"] = r.spec.task;
                   h["alias"] = r.spec.alias;
                   h["module"] = r.spec.module;
                   h["node"] = r.spec.node;
                   h["iteration"] = r.spec.iteration;
                   h["seed"] = r.spec.seed;
                   h["node_ids"] = r.node_ids;
                   h["aliases"] = r.aliases;
                   h["predecessors"] = r.predecessors;
                   h["globals"] = w.pairs(r.globals);
                   Dict results = Dict::array();
                   for (const ShippedResult& s : r.results) results.push_back(Dict::array({s.task, s.node, s.tag, w.add(s.value)}));
                   h["results"] = std::move(results);
                 },
                 [&](const Done& r) {
                   h["instance"] = r.instance;
                   h["status"] = r.status == InstanceStatus::Ok ? "ok" : "failed";
                   h["error"] = r.error;
                   h["diverged"] = r.diverged;
                   h["wall_ns"] = r.wall_ns;
                   h["flops"] = r.output.flops;
                   h["bytes_read"] = r.output.bytes_read;
                   h["stop"] = r.output.stop;
                   h["globals"] = w.pairs(r.output.global_writes);
                   h["results"] = w.pairs(r.output.results);
                   Dict schedule = Dict::array();
                   for (const auto& [alias, nodes] : r.output.schedule) schedule.push_back(Dict::array({alias, nodes}));
                   h["schedule"] = std::move(schedule);
                 },
                 [&](const Cancel& r) { h["instance"] = r.instance; },
                 [&](const Heartbeat& r) { h["busy"] = r.busy; },
                 [&](const ErrorReport& r) { h["reason"] = r.reason; },
                 [&](const Bye&) {},
             },
             m);
  return w.frames();
}

Message decode(std::span<const std::span<const std::byte>> frames, size_t max_bytes) {
  if (frames.empty()) throw ProtocolError("an empty message (no header frame)");
  size_t total = 0;
  for (const auto& f : frames) total += f.size();
  if (total > max_bytes) {
    throw ProtocolError("a message of " + std::to_string(total) + " bytes, over the limit of " + std::to_string(max_bytes));
  }
  if (frames[0].size() > kMaxHeaderBytes) {
    throw ProtocolError("a header of " + std::to_string(frames[0].size()) + " bytes, over the limit of " +
                        std::to_string(kMaxHeaderBytes));
  }
  const auto* first = reinterpret_cast<const uint8_t*>(frames[0].data());
  const Dict h = Dict::from_msgpack(first, first + frames[0].size(), /*strict=*/true, /*allow_exceptions=*/false);
  if (h.is_discarded() || !h.is_object()) throw ProtocolError("a header that is not a MessagePack map");
  auto t = h.find("t");
  if (t == h.end() || !t->is_string()) throw ProtocolError("a header without a message type \"t\"");
  const std::string type = t->get<std::string>();
  Reader r(h, frames, type);
  const int version = r.integer<int>("v");
  if (version != kProtocolVersion) {
    throw ProtocolError("message '" + type + "' of protocol version " + std::to_string(version) + "; this build speaks version " +
                        std::to_string(kProtocolVersion));
  }
  Message out;
  if (type == "register") {
    Register m;
    m.node = r.integer<NodeId>("node", 0, kServerNode - 1);
    m.cores = r.integer<uint32_t>("cores", 1);
    m.memory_bytes = r.integer<uint64_t>("memory");
    m.flops = r.number("flops");
    if (!(m.flops > 0)) r.fail("flops", "must be > 0");
    m.kernels = r.strings("kernels");
    m.datasets = r.strings("datasets");
    std::sort(m.datasets.begin(), m.datasets.end());
    m.datasets.erase(std::unique(m.datasets.begin(), m.datasets.end()), m.datasets.end());
    out = std::move(m);
  } else if (type == "welcome") {
    out = Welcome{r.integer<uint32_t>("heartbeat_ms", 1, 3'600'000), r.string("kernel")};
  } else if (type == "refused") {
    out = Refused{r.string("reason")};
  } else if (type == "run") {
    Run m;
    m.spec.id = r.integer<uint64_t>("instance");
    m.spec.task = r.integer<int>("task", 0);
    m.spec.alias = r.string("alias");
    m.spec.module = r.string("module");
    m.spec.node = r.integer<NodeId>("node");
    m.spec.iteration = r.integer<int>("iteration", 0);
    m.spec.seed = r.integer<uint64_t>("seed");
    m.node_ids = r.integers<NodeId>("node_ids");
    if (!std::is_sorted(m.node_ids.begin(), m.node_ids.end())) r.fail("node_ids", "must be sorted");
    m.aliases = r.strings("aliases");
    m.predecessors = r.integers<int>("predecessors");
    std::sort(m.predecessors.begin(), m.predecessors.end());
    m.globals = r.pairs("globals");
    for (const Dict& e : r.array("results")) {
      if (!e.is_array() || e.size() != 4) r.fail("results", "must hold [task, node, tag, frame] entries");
      ShippedResult s;
      s.task = r.integer<int>("results", e[0], 0);
      s.node = r.integer<NodeId>("results", e[1]);
      s.tag = r.string("results", e[2]);
      s.value = r.blob("results", e[3]);
      m.results.push_back(std::move(s));
    }
    out = std::move(m);
  } else if (type == "done") {
    Done m;
    m.instance = r.integer<uint64_t>("instance");
    const std::string status = r.string("status");
    if (status == "ok") {
      m.status = InstanceStatus::Ok;
    } else if (status == "failed") {
      m.status = InstanceStatus::Failed;
    } else {
      r.fail("status", "must be \"ok\" or \"failed\", got \"" + status + "\"");
    }
    m.error = r.string("error");
    m.diverged = r.boolean("diverged");
    m.wall_ns = r.integer<Nanos>("wall_ns", 0);
    m.output.flops = r.integer<uint64_t>("flops");
    m.output.bytes_read = r.integer<uint64_t>("bytes_read");
    m.output.stop = r.boolean("stop");
    m.output.global_writes = r.pairs("globals");
    m.output.results = r.pairs("results");
    for (const Dict& e : r.array("schedule")) {
      if (!e.is_array() || e.size() != 2 || !e[1].is_array()) r.fail("schedule", "must hold [alias, [node, ...]] entries");
      std::vector<NodeId> nodes;
      for (const Dict& n : e[1]) nodes.push_back(r.integer<NodeId>("schedule", n));
      m.output.schedule.emplace_back(r.string("schedule", e[0]), std::move(nodes));
    }
    out = std::move(m);
  } else if (type == "cancel") {
    out = Cancel{r.integer<uint64_t>("instance")};
  } else if (type == "heartbeat") {
    out = Heartbeat{r.integer<uint32_t>("busy")};
  } else if (type == "error") {
    out = ErrorReport{r.string("reason")};
  } else if (type == "bye") {
    out = Bye{};
  } else {
    throw ProtocolError("a message of unknown type '" + type + "'");
  }
  r.finish();
  return out;
}

}  // namespace swarm::deploy
