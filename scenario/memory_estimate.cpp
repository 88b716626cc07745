#include "scenario/memory_estimate.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace swarm::scenario {
namespace {

constexpr double kFloat = 4;
// A node of the population: its profile index, availability and compute state, its network
// link (about 130-240 bytes, see scenarios/million_nodes.yaml) and its row of the results'
// node table.
constexpr double kBytesPerNode = 300;
constexpr double kBytesPerRoundRow = 256;
constexpr double kBytesPerTraceEvent = 96;
// Fashion-MNIST: 60,000 + 10,000 images of 28 x 28 pixels, held as float.
constexpr double kFashionMnistSamples = 70000, kFashionMnistFeatures = 784, kFashionMnistClasses = 10;

}  // namespace

std::string human_bytes(double bytes) {
  char buf[32];
  if (bytes >= 1e9) {
    std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
  } else if (bytes >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.0f MB", bytes / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f kB", bytes / 1e3);
  }
  return buf;
}

std::string MemoryEstimate::describe(int64_t nodes) const {
  std::ostringstream s;
  s << "model " << human_bytes(model_bytes) << " x " << model_copies << " copies, data " << human_bytes(data_bytes)
    << ", " << nodes << " nodes " << human_bytes(node_bytes) << ", results " << human_bytes(result_bytes);
  return s.str();
}

MemoryEstimate estimate_memory(const Scenario& sc, int threads) {
  MemoryEstimate m;
  const bool fashion = sc.data.dataset == "fashion-mnist";
  const double inputs = fashion ? kFashionMnistFeatures : sc.data.features;
  const double classes = fashion ? kFashionMnistClasses : sc.data.classes;
  double params = 0, widths = inputs, previous = inputs;
  for (int h : sc.fl.layers) {
    params += (previous + 1) * h;
    widths += h;
    previous = h;
  }
  params += (previous + 1) * classes;
  widths += classes;
  m.model_bytes = params * kFloat;

  const double nodes = static_cast<double>(sc.population.num_nodes);
  // Updates held until they are aggregated: a round's sample (synchronous) or the buffer.
  double held = nodes;
  if (sc.fl.async) {
    held = std::min<double>(nodes, sc.fl.concurrency);
  } else if (sc.fl.clients_per_round >= 1) {
    held = std::min(nodes, sc.fl.clients_per_round * sc.fl.overcommit);
  } else if (sc.fl.clients_per_round > 0) {
    held = std::max(1.0, nodes * std::min(1.0, sc.fl.clients_per_round * sc.fl.overcommit));
  }
  // Global model, server optimizer state (up to two moments), the aggregate; per training
  // thread: the local model, its gradient, momentum and the trained copy.
  const double workers = std::min<double>(std::max(1, threads), held);
  const bool timing = sc.training_mode == TrainingMode::Timing;
  // Timing only: no local model is trained, and every update is the same shared blob of zeros.
  m.model_copies = timing ? 4 + 1 : 4 + 4 * workers + held;

  const double activations = timing ? 0 : 2 * widths * sc.fl.batch_size * kFloat * workers;
  if (timing && sc.data.partition == "sampled") {
    m.data_bytes = 0;  // only the datasets' shapes are read
  } else if (fashion) {
    m.data_bytes = kFashionMnistSamples * kFashionMnistFeatures * kFloat;
  } else {
    // The generated set, then its train and test parts copied out of it.
    m.data_bytes = 2 * static_cast<double>(sc.data.samples) * sc.data.features * kFloat;
  }
  m.data_bytes += activations;
  m.node_bytes = nodes * kBytesPerNode;
  m.result_bytes = sc.fl.max_rounds * kBytesPerRoundRow;
  if (sc.sim.record_trace) m.result_bytes += sc.fl.max_rounds * held * 8 * kBytesPerTraceEvent;
  return m;
}

std::optional<double> available_memory() {
  std::ifstream in("/proc/meminfo");
  if (!in) return std::nullopt;
  std::optional<double> total, available;
  std::string key;
  double kib = 0;
  std::string unit;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == "MemTotal:") total = kib * 1024;
    if (key == "MemAvailable:") available = kib * 1024;
  }
  return available ? available : total;
}

}  // namespace swarm::scenario
