// Blob encoding and decoding against a memory copy of the same bytes.
//
//   BM_TensorBlob/tensor_200k     tensor_blob of 200,000 floats (a rank-1 tensor, the size of the
//                                 reference MLP's parameters): header, padding and one copy of
//                                 the values into a new shared buffer.
//   BM_ToTensor/tensor_200k       to_tensor of that blob: validation and one copy of the values
//                                 into a new Tensor.
//   BM_TensorValues/tensor_200k   tensor_values of that blob: validation only, the values are
//                                 read in place (no copy; the rate is the payload made
//                                 available per second, not bytes touched).
//   BM_DictBlob/hyper             dict_blob (MessagePack) of a small hyperparameter dict.
//   BM_ToDict/hyper               to_dict of that blob.
//   BM_MemcpyReference/<case>     memcpy of the same payload bytes into a buffer allocated once
//                                 (800,000 bytes for tensor_200k, the MessagePack size for hyper).
//
// Counters: bytes/s = payload bytes per call (the float values, or the MessagePack bytes) per
// second, the same count for each benchmark and its reference, so the ratio of two bytes/s
// counters with the same <case> is the speed relative to memcpy. items/s = calls per second.
//
// Run with --benchmark_min_time=0.2; single-threaded.

#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "swarm/blob.hpp"

namespace {

using swarm::Blob;
using swarm::Dict;

constexpr size_t kTensorFloats = 200000;

std::vector<float> tensor_values_for_bench() {
  std::vector<float> v(kTensorFloats);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 97) * 0.01f;
  return v;
}

// The hyperparameters a FedAvg round carries with its global model.
Dict hyper_dict() {
  return Dict{{"round", 17},          {"lr", 0.05},           {"momentum", 0.9},
              {"batch_size", 32},     {"local_epochs", 1},    {"model", "mlp"},
              {"hidden", {200, 200}}, {"clients_per_round", 10}, {"seed", 1234567}};
}

void set_counters(benchmark::State& state, size_t payload_bytes) {
  state.counters["bytes/s"] = benchmark::Counter(static_cast<double>(payload_bytes),
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.counters["items/s"] = benchmark::Counter(1.0, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_TensorBlob(benchmark::State& state, size_t floats) {
  std::vector<float> values = tensor_values_for_bench();
  values.resize(floats);
  for (auto _ : state) {
    Blob blob = swarm::tensor_blob(values);
    benchmark::DoNotOptimize(blob.bytes().data());
    benchmark::ClobberMemory();
  }
  set_counters(state, floats * sizeof(float));
}

void BM_ToTensor(benchmark::State& state, size_t floats) {
  std::vector<float> values = tensor_values_for_bench();
  values.resize(floats);
  const Blob blob = swarm::tensor_blob(values);
  for (auto _ : state) {
    swarm::Tensor t = swarm::to_tensor(blob);
    benchmark::DoNotOptimize(t.values.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, floats * sizeof(float));
}

void BM_TensorValues(benchmark::State& state, size_t floats) {
  std::vector<float> values = tensor_values_for_bench();
  values.resize(floats);
  const Blob blob = swarm::tensor_blob(values);
  for (auto _ : state) {
    std::span<const float> v = swarm::tensor_values(blob);
    benchmark::DoNotOptimize(v.data());
    benchmark::DoNotOptimize(v.size());
  }
  set_counters(state, floats * sizeof(float));
}

void BM_DictBlob(benchmark::State& state, Dict dict) {
  const size_t bytes = swarm::dict_blob(dict).size();
  for (auto _ : state) {
    Blob blob = swarm::dict_blob(dict);
    benchmark::DoNotOptimize(blob.bytes().data());
    benchmark::ClobberMemory();
  }
  set_counters(state, bytes);
  state.counters["blob_bytes"] = static_cast<double>(bytes);
}

void BM_ToDict(benchmark::State& state, Dict dict) {
  const Blob blob = swarm::dict_blob(dict);
  for (auto _ : state) {
    Dict d = swarm::to_dict(blob);
    benchmark::DoNotOptimize(d);
    benchmark::ClobberMemory();
  }
  set_counters(state, blob.size());
  state.counters["blob_bytes"] = static_cast<double>(blob.size());
}

// A memcpy of `bytes` into a destination allocated once, outside the timed loop.
void BM_MemcpyReference(benchmark::State& state, size_t bytes) {
  std::vector<std::byte> src(bytes, std::byte{1}), dst(bytes);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), bytes);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, bytes);
}

const size_t kHyperBytes = swarm::dict_blob(hyper_dict()).size();

BENCHMARK_CAPTURE(BM_TensorBlob, tensor_200k, kTensorFloats);
BENCHMARK_CAPTURE(BM_ToTensor, tensor_200k, kTensorFloats);
BENCHMARK_CAPTURE(BM_TensorValues, tensor_200k, kTensorFloats);
BENCHMARK_CAPTURE(BM_MemcpyReference, tensor_200k, kTensorFloats * sizeof(float));
BENCHMARK_CAPTURE(BM_DictBlob, hyper, hyper_dict());
BENCHMARK_CAPTURE(BM_ToDict, hyper, hyper_dict());
BENCHMARK_CAPTURE(BM_MemcpyReference, hyper, kHyperBytes);

}  // namespace

BENCHMARK_MAIN();
