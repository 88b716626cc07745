#include "scenario/checkpoint.hpp"

#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include <fstream>
#include <sstream>

#include "engine/atomic_file.hpp"
#include "swarm/error.hpp"
#include "swarm/types.hpp"

namespace swarm::scenario {
namespace {

constexpr const char* kFormat = "swarmsim-checkpoint";
constexpr int kVersion = 1;

uint32_t crc_of(const std::vector<uint8_t>& bytes) {
  return static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), bytes.data(), static_cast<uInt>(bytes.size())));
}

// A round as an array, in RoundRow's field order.
Dict round_to_dict(const results::RoundRow& r) {
  return Dict::array({r.round, r.t_start_s, r.t_end_s, r.wall_s, r.accuracy, r.loss, r.participants, r.instances,
                      r.failed, r.lost_crash, r.lost_transfer, r.lost_offline, r.lost_deadline, r.lost_overcommit,
                      r.bytes_up, r.bytes_down, r.flops, r.stale, r.max_staleness, r.mean_staleness, r.unplaced,
                      r.wire_bytes_up, r.wire_bytes_down, r.coordinator_s});
}

results::RoundRow round_from_dict(const Dict& d) {
  // 23 numbers: written before coordinator_s, which then stays 0.
  if (!d.is_array() || (d.size() != 23 && d.size() != 24)) {
    throw std::invalid_argument("a round is not an array of 24 numbers");
  }
  results::RoundRow r;
  size_t i = 0;
  auto next = [&](auto& field) { field = d.at(i++).get<std::decay_t<decltype(field)>>(); };
  next(r.round), next(r.t_start_s), next(r.t_end_s), next(r.wall_s), next(r.accuracy), next(r.loss);
  next(r.participants), next(r.instances), next(r.failed), next(r.lost_crash), next(r.lost_transfer);
  next(r.lost_offline), next(r.lost_deadline), next(r.lost_overcommit), next(r.bytes_up), next(r.bytes_down);
  next(r.flops), next(r.stale), next(r.max_staleness), next(r.mean_staleness), next(r.unplaced);
  next(r.wire_bytes_up), next(r.wire_bytes_down);
  if (d.size() > 23) next(r.coordinator_s);
  return r;
}

Dict nodes_to_dict(const std::map<int, std::vector<NodeId>>& m) {
  Dict out = Dict::array();
  for (const auto& [task, nodes] : m) out.push_back(Dict::array({task, nodes}));
  return out;
}

std::map<int, std::vector<NodeId>> nodes_from_dict(const Dict& d) {
  std::map<int, std::vector<NodeId>> out;
  for (const Dict& e : d) out[e.at(0).get<int>()] = e.at(1).get<std::vector<NodeId>>();
  return out;
}

}  // namespace

std::string run_identity(const std::string& scenario_text) {
  const YAML::Node root = YAML::Load(scenario_text);
  YAML::Emitter out;
  out << YAML::BeginMap;
  for (const auto& kv : root) {
    const std::string& key = kv.first.Scalar();
    if (key != "backend" && key != "backend_options" && key != "deploy") out << YAML::Key << kv.first << YAML::Value << kv.second;
  }
  out << YAML::EndMap;
  return out.c_str();
}

void write_checkpoint(const std::filesystem::path& path, const RunCheckpoint& c) {
  Dict globals = Dict::array();
  for (const SwarmState::SavedGlobal& g : c.controller.globals) {
    const std::span<const std::byte> bytes = g.value.bytes();
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    globals.push_back(Dict::array({g.key, Dict::binary(std::vector<uint8_t>(p, p + bytes.size())), g.version}));
  }
  Dict rounds = Dict::array();
  for (const results::RoundRow& r : c.rounds) rounds.push_back(round_to_dict(r));
  const ControllerCheckpoint& k = c.controller;
  const Dict body = {{"scenario", c.scenario_text},
                     {"seed", c.seed},
                     {"next_iteration", k.next_iteration},
                     {"next_instance_id", k.next_instance_id},
                     {"stopped", k.stopped},
                     {"time_up", k.time_up},
                     {"end_s", k.end_s},
                     {"globals", std::move(globals)},
                     {"scheduled", nodes_to_dict(k.scheduled)},
                     {"fixed_nodes", nodes_to_dict(k.fixed_nodes)},
                     {"rounds", std::move(rounds)},
                     {"participated", c.participated},
                     {"failures", c.failures},
                     {"noise_stddev", c.noise_stddev}};
  std::vector<uint8_t> packed = Dict::to_msgpack(body);
  const uint32_t crc = crc_of(packed);
  const Dict file = {{"format", kFormat}, {"version", kVersion}, {"crc32", crc}, {"body", Dict::binary(std::move(packed))}};
  const std::vector<uint8_t> bytes = Dict::to_msgpack(file);
  write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

RunCheckpoint read_checkpoint(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path.string() + ": cannot read the checkpoint (no such file, or not readable)");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string raw = buffer.str();
  const std::string where = path.string() + ": ";
  Dict file;
  try {
    file = Dict::from_msgpack(raw);
  } catch (const std::exception&) {
    throw DataError(where + "not a swarmsim checkpoint (not MessagePack)");
  }
  if (!file.is_object() || file.value("format", std::string()) != kFormat || !file.contains("body") ||
      !file["body"].is_binary() || !file.contains("crc32") || !file["crc32"].is_number_unsigned()) {
    throw DataError(where + "not a swarmsim checkpoint (expected the keys format: " + kFormat + ", version, crc32, body)");
  }
  if (file.value("version", 0) != kVersion) {
    throw DataError(where + "checkpoint format version " + file.value("version", Dict()).dump() + "; this program reads version " +
                    std::to_string(kVersion));
  }
  const std::vector<uint8_t>& packed = file["body"].get_binary();
  if (crc_of(packed) != file["crc32"].get<uint32_t>()) throw DataError(where + "damaged checkpoint (its crc32 does not match)");
  try {
    const Dict body = Dict::from_msgpack(packed);
    RunCheckpoint c;
    c.scenario_text = body.at("scenario").get<std::string>();
    c.seed = body.at("seed").get<uint64_t>();
    ControllerCheckpoint& k = c.controller;
    k.next_iteration = body.at("next_iteration").get<int>();
    k.next_instance_id = body.at("next_instance_id").get<uint64_t>();
    k.stopped = body.at("stopped").get<bool>();
    k.time_up = body.at("time_up").get<bool>();
    k.end_s = body.at("end_s").get<double>();
    for (const Dict& g : body.at("globals")) {
      const std::vector<uint8_t>& b = g.at(1).get_binary();
      const auto* p = reinterpret_cast<const std::byte*>(b.data());
      k.globals.push_back({g.at(0).get<std::string>(), Blob(std::vector<std::byte>(p, p + b.size())), g.at(2).get<uint64_t>()});
    }
    k.scheduled = nodes_from_dict(body.at("scheduled"));
    k.fixed_nodes = nodes_from_dict(body.at("fixed_nodes"));
    for (const Dict& r : body.at("rounds")) c.rounds.push_back(round_from_dict(r));
    c.participated = body.at("participated").get<std::vector<int32_t>>();
    c.failures = body.at("failures").get<std::vector<int32_t>>();
    c.noise_stddev = body.at("noise_stddev").get<double>();
    return c;
  } catch (const std::exception& e) {
    throw DataError(where + "malformed checkpoint: " + e.what());
  }
}

}  // namespace swarm::scenario
