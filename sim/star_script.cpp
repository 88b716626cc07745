#include "sim/star_script.hpp"

#include <cstdio>
#include <functional>
#include <queue>
#include <unordered_map>
#include <utility>

#include "swarm/error.hpp"

namespace swarm::sim {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// next_of[k]: the flow that starts after flow k completes, or -1.
std::vector<long> chain_links(const StarScript& script) {
  std::vector<long> next_of(script.flows.size(), -1);
  for (size_t i = 0; i < script.flows.size(); ++i) {
    const StarScript::Flow& f = script.flows[i];
    if (f.node >= script.nodes.size()) {
      throw UsageError("star script: flow " + std::to_string(i) + " goes to node " + std::to_string(f.node) +
                       ", which is not declared");
    }
    if (!f.after) continue;
    if (*f.after >= i) {
      throw UsageError("star script: flow " + std::to_string(i) + " starts after flow " +
                       std::to_string(*f.after) + ", which is not an earlier flow");
    }
    if (next_of[*f.after] != -1) {
      throw UsageError("star script: flows " + std::to_string(next_of[*f.after]) + " and " + std::to_string(i) +
                       " both start after flow " + std::to_string(*f.after));
    }
    next_of[*f.after] = static_cast<long>(i);
  }
  return next_of;
}

}  // namespace

std::string to_text(const StarScript& script) {
  chain_links(script);
  std::string out = "server " + num(script.server.up_bytes_per_s) + " " + num(script.server.down_bytes_per_s) +
                    " " + num(script.server.latency.seconds()) + "\n";
  for (size_t n = 0; n < script.nodes.size(); ++n) {
    const LinkSpec& l = script.nodes[n];
    out += "node " + std::to_string(n) + " " + num(l.up_bytes_per_s) + " " + num(l.down_bytes_per_s) + " " +
           num(l.latency.seconds()) + "\n";
  }
  for (const StarScript::Flow& f : script.flows) {
    out += "flow " + num(f.start.seconds()) + " " + std::to_string(f.node) + " " +
           (f.dir == Direction::Download ? "download " : "upload ") + std::to_string(f.bytes);
    if (f.after) out += " after " + std::to_string(*f.after);
    out += "\n";
  }
  return out;
}

std::vector<SimTime> run_star_script(const StarScript& script, NetworkModel& net) {
  const std::vector<long> next_of = chain_links(script);
  for (size_t n = 0; n < script.nodes.size(); ++n) net.set_node_links(static_cast<uint32_t>(n), script.nodes[n]);
  using Start = std::pair<SimTime, size_t>;  // (time, flow); earliest first, then file order
  std::priority_queue<Start, std::vector<Start>, std::greater<>> starts;
  for (size_t i = 0; i < script.flows.size(); ++i) {
    if (!script.flows[i].after) starts.emplace(script.flows[i].start, i);
  }
  std::vector<SimTime> done(script.flows.size(), SimTime::max());
  std::unordered_map<FlowId, size_t> index;
  for (;;) {
    const std::optional<SimTime> event = net.next_event_time();
    if (!event && starts.empty()) break;
    if (event && (starts.empty() || *event <= starts.top().first)) {
      for (FlowId id : net.advance(*event)) {
        const size_t i = index.at(id);
        done[i] = *event;
        if (next_of[i] >= 0) {
          const auto j = static_cast<size_t>(next_of[i]);
          starts.emplace(add_saturated(*event, script.flows[j].start), j);
        }
      }
      continue;
    }
    const auto [t, i] = starts.top();
    starts.pop();
    const StarScript::Flow& f = script.flows[i];
    index[net.start_flow(t, f.node, f.dir, static_cast<double>(f.bytes))] = i;
  }
  return done;
}

}  // namespace swarm::sim
