// The wire protocol (docs/protocol.md): every message survives encode/decode, and decode()
// refuses malformed, oversized and mutated frames with a ProtocolError, never a crash.

#include <random>

#include <catch2/catch.hpp>

#include "deploy/protocol.hpp"

using namespace swarm;
using namespace swarm::deploy;

namespace {

Blob blob_of(std::vector<float> v) { return tensor_blob(v); }

std::vector<std::span<const std::byte>> spans(const std::vector<Blob>& frames) {
  std::vector<std::span<const std::byte>> out;
  for (const Blob& b : frames) out.push_back(b.bytes());
  return out;
}

Run sample_run() {
  Run r;
  r.spec = {.id = 7, .task = 1, .alias = "worker", .module = "fl.worker", .node = 3, .iteration = 2, .seed = 99};
  r.node_ids = {0, 1, 3};
  r.aliases = {"aggregator", "worker", "scheduler"};
  r.predecessors = {0};
  r.globals = {{"global_model_params", blob_of({1, 2, 3})}, {"hyperparameters", dict_blob(Dict{{"lr", 0.1}})}};
  r.results = {{0, 1, "update", blob_of({4, 5})}};
  return r;
}

}  // namespace

TEST_CASE("every protocol message comes back from its frames as it was sent", "[deploy][protocol]") {
  const Run run = sample_run();
  const Message back = decode(spans(encode(run)));
  REQUIRE(std::holds_alternative<Run>(back));
  const Run& r = std::get<Run>(back);
  CHECK(r.spec.id == 7);
  CHECK(r.spec.alias == "worker");
  CHECK(r.spec.seed == 99);
  CHECK(r.node_ids == run.node_ids);
  CHECK(r.aliases == run.aliases);
  REQUIRE(r.globals.size() == 2);
  CHECK(r.globals[0].first == "global_model_params");
  CHECK(r.globals[0].second == run.globals[0].second);
  REQUIRE(r.results.size() == 1);
  CHECK(r.results[0].value == run.results[0].value);

  Done d;
  d.instance = 7;
  d.status = InstanceStatus::Failed;
  d.error = "out of cheese";
  d.wall_ns = 12345;
  d.output.flops = 1000;
  d.output.bytes_read = 24;
  d.output.stop = true;
  d.output.results = {{"update", blob_of({1})}};
  d.output.global_writes = {{"m", blob_of({2})}};
  d.output.schedule = {{"worker", {1, 2}}};
  const Done got = std::get<Done>(decode(spans(encode(d))));
  CHECK(got.status == InstanceStatus::Failed);
  CHECK(got.error == "out of cheese");
  CHECK(got.wall_ns == 12345);
  CHECK(got.output.stop);
  CHECK(got.output.flops == 1000);
  CHECK(got.output.results[0].second == d.output.results[0].second);
  CHECK(got.output.schedule == d.output.schedule);

  Register reg{.node = 2, .cores = 4, .memory_bytes = 1 << 30, .flops = 5e9, .kernels = {"eigen: Eigen 3.4.0 (SSE, SSE2)"}, .datasets = {"train", "test"}};
  const Register rg = std::get<Register>(decode(spans(encode(reg))));
  CHECK(rg.node == 2);
  CHECK(rg.kernels == reg.kernels);
  const Welcome welcome = std::get<Welcome>(decode(spans(encode(Welcome{250, "eigen: Eigen 3.4.0 (SSE, SSE2)"}))));
  CHECK(welcome.heartbeat_ms == 250);
  CHECK(welcome.kernel == "eigen: Eigen 3.4.0 (SSE, SSE2)");
  CHECK(rg.datasets == std::vector<std::string>{"test", "train"});  // sorted
  CHECK(std::holds_alternative<Bye>(decode(spans(encode(Bye{})))));
  CHECK(std::get<Heartbeat>(decode(spans(encode(Heartbeat{3})))).busy == 3);
}

TEST_CASE("malformed messages are refused with what is wrong", "[deploy][protocol]") {
  CHECK_THROWS_WITH(decode({}), Catch::Contains("no header"));
  std::vector<Blob> frames = encode(sample_run());
  CHECK_THROWS_WITH(decode(spans(frames), 100), Catch::Contains("over the limit of 100"));
  // A blob frame the header does not name.
  frames.push_back(blob_of({9}));
  CHECK_THROWS_WITH(decode(spans(frames)), Catch::Contains("frame 4 is not used"));
  frames.pop_back();
  frames.pop_back();  // a blob the header names is missing
  CHECK_THROWS_AS(decode(spans(frames)), ProtocolError);
  auto header = [](const Dict& h) { return std::vector<Blob>{dict_blob(h)}; };
  constexpr int v = kProtocolVersion;
  CHECK_THROWS_WITH(decode(spans(header(Dict{{"t", "run"}, {"v", v + 1}}))),
                    Catch::Contains("protocol version " + std::to_string(v + 1)));
  CHECK_THROWS_WITH(decode(spans(header(Dict{{"t", "register"}, {"v", v - 1}}))),
                    Catch::Contains("this build speaks version " + std::to_string(v)));
  CHECK_THROWS_WITH(decode(spans(header(Dict{{"t", "nonsense"}, {"v", v}}))), Catch::Contains("unknown type 'nonsense'"));
  CHECK_THROWS_WITH(decode(spans(header(Dict{{"t", "cancel"}, {"v", v}}))), Catch::Contains("'instance' is missing"));
  CHECK_THROWS_WITH(decode(spans(header(Dict{{"t", "cancel"}, {"v", v}, {"instance", "x"}}))),
                    Catch::Contains("must be an integer"));
  CHECK_THROWS_WITH(decode(spans(header(Dict{{"t", "register"}, {"v", v}, {"node", -1}}))), Catch::Contains("out of range"));
  std::vector<Blob> junk{Blob(std::vector<std::byte>(5, std::byte{0xc1}))};
  CHECK_THROWS_WITH(decode(spans(junk)), Catch::Contains("not a MessagePack map"));
}

TEST_CASE("a fuzz of mutated frames never crashes the decoder", "[deploy][protocol]") {
  std::mt19937_64 rng(42);
  Done d;
  d.instance = 3;
  d.output.results = {{"update", blob_of({1, 2, 3, 4})}};
  d.output.schedule = {{"worker", {1}}};
  const std::vector<std::vector<Blob>> seeds = {encode(sample_run()), encode(d), encode(Register{}), encode(Welcome{})};
  int refused = 0, accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    std::vector<Blob> frames = seeds[i % seeds.size()];
    std::vector<std::byte> h(frames[0].bytes().begin(), frames[0].bytes().end());
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !h.empty(); ++e) {
      switch (rng() % 3) {
        case 0: h[rng() % h.size()] = std::byte(rng() & 0xff); break;            // flip a byte
        case 1: h.resize(rng() % (h.size() + 1)); break;                          // truncate
        case 2: h.insert(h.begin() + static_cast<long>(rng() % h.size()), std::byte(rng() & 0xff)); break;
      }
    }
    frames[0] = Blob(std::move(h));
    if (rng() % 5 == 0 && frames.size() > 1) frames.pop_back();
    try {
      decode(spans(frames));
      ++accepted;
    } catch (const ProtocolError&) {
      ++refused;
    }
  }
  CHECK(refused + accepted == 5000);
  CHECK(refused > 2500);  // most mutations break the header
}
