#include "sim/availability.hpp"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>

#include "swarm/error.hpp"
#include "swarm/seed.hpp"
#include "sim/huge_pages.hpp"

namespace swarm::sim {

namespace {

constexpr int64_t kNever = INT64_MAX;
// Trace times above this many seconds (~285 years) do not fit SimTime comfortably.
constexpr double kMaxTraceSeconds = 9e9;

// The `counter`-th uniform of the stream `stream_seed`, in [0, 1).
double unit_double(uint64_t stream_seed, uint64_t counter) {
  return static_cast<double>(mix64(stream_seed ^ mix64(counter)) >> 11) * 0x1.0p-53;
}

int64_t saturating_add(int64_t a, int64_t b) { return a > kNever - b ? kNever : a + b; }

// Splits `line` (comment already removed) into blank-separated fields.
std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t j = i;
    while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
    if (j > i) fields.push_back(line.substr(i, j - i));
    i = j;
  }
  return fields;
}

bool parse_whole(std::string_view s, uint64_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool parse_whole(std::string_view s, double& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

AvailabilityModel::AvailabilityModel(const std::vector<NodeProfile>& profiles,
                                     std::vector<uint16_t> profile_of, uint64_t seed)
    : seed_(seed) {
  reserve_huge(states_, profile_of.size());
  states_.resize(profile_of.size());
  for (size_t i = 0; i < profile_of.size(); ++i) states_[i].profile = profile_of[i];
  params_.reserve(profiles.size());
  for (const NodeProfile& p : profiles) {
    ProfileParams pp;
    pp.kind = p.availability.kind;
    if (pp.kind == Availability::Kind::Markov) {
      pp.mean_on_ns = p.availability.mean_on_s * 1e9;
      pp.mean_off_ns = p.availability.mean_off_s * 1e9;
      pp.p_on = p.availability.mean_on_s / (p.availability.mean_on_s + p.availability.mean_off_s);
    }
    params_.push_back(pp);
  }
  for ([[maybe_unused]] const NodeState& s : states_) assert(s.profile < params_.size());
  std::vector<TraceEntry> entries;
  bool any_trace = false;
  for (size_t i = 0; i < profiles.size(); ++i) {
    if (params_[i].kind != Availability::Kind::Trace) continue;
    any_trace = true;
    load_trace(profiles[i], static_cast<uint16_t>(i), entries);
  }
  if (any_trace) build_trace_index(std::move(entries));
}

void AvailabilityModel::load_trace(const NodeProfile& profile, uint16_t profile_index,
                                   std::vector<TraceEntry>& entries) const {
  const std::string& file = profile.availability.trace_file;
  std::ifstream in(file);
  if (!in) {
    throw DataError(file + ": cannot open the availability trace of profile '" + profile.name +
                    "'");
  }
  // End of the last interval seen for each node of the file, to check order and overlap.
  std::unordered_map<uint64_t, int64_t> last_end;
  std::string line;
  for (size_t line_no = 1; std::getline(in, line); ++line_no) {
    auto fail = [&](const std::string& what) {
      throw DataError(file + ":" + std::to_string(line_no) + ": " + what);
    };
    std::string_view text(line);
    if (size_t hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
    std::vector<std::string_view> fields = split_fields(text);
    if (fields.empty()) continue;
    if (fields.size() != 3) {
      fail("expected 3 fields 'NODE START_S END_S', got " + std::to_string(fields.size()));
    }
    uint64_t node = 0;
    if (!parse_whole(fields[0], node) || node > UINT32_MAX) {
      fail("NODE must be a node id (an integer in [0, 4294967295]), got '" +
           std::string(fields[0]) + "'");
    }
    double times[2];
    const char* names[2] = {"START_S", "END_S"};
    for (int f = 0; f < 2; ++f) {
      if (!parse_whole(fields[1 + f], times[f]) || !std::isfinite(times[f])) {
        fail(std::string(names[f]) + " must be a number of seconds, got '" +
             std::string(fields[1 + f]) + "'");
      }
      if (times[f] < 0) {
        fail(std::string(names[f]) + " must be >= 0, got " + std::string(fields[1 + f]));
      }
      if (times[f] > kMaxTraceSeconds) {
        fail(std::string(names[f]) + " must be <= 9e9 seconds, got " + std::string(fields[1 + f]));
      }
    }
    const int64_t start_ns = SimTime::from_seconds(times[0]).ns();
    const int64_t end_ns = SimTime::from_seconds(times[1]).ns();
    if (end_ns <= start_ns) {
      fail("END_S must be > START_S, got [" + std::string(fields[1]) + ", " +
           std::string(fields[2]) + ")");
    }
    auto [it, first] = last_end.try_emplace(node, end_ns);
    if (!first) {
      if (start_ns < it->second) {
        std::ostringstream msg;
        msg << "interval [" << fields[1] << ", " << fields[2] << ") of node " << node
            << " starts before the end of its previous interval (" << it->second * 1e-9
            << " s): a node's intervals must be sorted and not overlap";
        fail(msg.str());
      }
      it->second = end_ns;
    }
    if (node < states_.size() && states_[node].profile == profile_index) {
      entries.push_back({static_cast<uint32_t>(node), start_ns, end_ns});
    }
  }
  if (in.bad()) throw DataError(file + ": read error");
}

void AvailabilityModel::build_trace_index(std::vector<TraceEntry> entries) {
  // Entries of one node come from one file in time order; a stable sort by node keeps it.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const TraceEntry& a, const TraceEntry& b) { return a.node < b.node; });
  trace_begin_.assign(states_.size() + 1, 0);
  intervals_.reserve(entries.size());
  size_t e = 0;
  for (size_t node = 0; node < states_.size(); ++node) {
    trace_begin_[node] = static_cast<uint32_t>(intervals_.size());
    const size_t node_begin = intervals_.size();
    for (; e < entries.size() && entries[e].node == node; ++e) {
      if (intervals_.size() > node_begin && intervals_.back().end_ns == entries[e].start_ns) {
        intervals_.back().end_ns = entries[e].end_ns;  // touching: merge
      } else {
        if (intervals_.size() >= UINT32_MAX) {
          throw DataError("availability traces: more than 2^32 - 1 intervals");
        }
        intervals_.push_back({entries[e].start_ns, entries[e].end_ns});
      }
    }
  }
  trace_begin_[states_.size()] = static_cast<uint32_t>(intervals_.size());
  intervals_.shrink_to_fit();
}

uint64_t AvailabilityModel::node_seed(uint32_t node) const {
  return derive_seed(seed_, {kAvailabilitySeedDomain, node});
}

bool AvailabilityModel::initially_on(uint64_t node_seed, const ProfileParams& pp) const {
  return unit_double(node_seed, 0) < pp.p_on;
}

int64_t AvailabilityModel::period_ns(uint64_t node_seed, const ProfileParams& pp, bool on,
                                     uint32_t k) const {
  // u in (0, 1], so -ln(u) in [0, ~36.7]: an exponential draw of mean 1.
  const double u = 1.0 - unit_double(node_seed, uint64_t{k} + 1);
  const double d = -std::log(u) * (on ? pp.mean_on_ns : pp.mean_off_ns);
  if (!(d < 9.2e18)) return kNever;
  return std::max<int64_t>(1, std::llround(d));
}

AvailabilityModel::MarkovPeriod AvailabilityModel::advance(uint32_t node, int64_t t) {
  const ProfileParams& pp = params_[states_[node].profile];
  const uint64_t ns = node_seed(node);
  const bool on0 = initially_on(ns, pp);
  auto on_in = [on0](uint32_t k) { return on0 != ((k & 1) != 0); };
  NodeState& st = states_[node];
  bool reset = st.period == kUnset;
  if (!reset && t < st.period_end_ns) {
    // Going back before the cached period means recomputing from time 0. The start of a
    // period whose end saturated is unknown; recompute then too.
    reset = st.period_end_ns == kNever ||
            t < st.period_end_ns - period_ns(ns, pp, on_in(st.period), st.period);
  }
  if (reset) {
    st.period = 0;
    st.period_end_ns = period_ns(ns, pp, on0, 0);
  }
  while (t >= st.period_end_ns && st.period_end_ns != kNever) {
    ++st.period;
    st.period_end_ns = saturating_add(st.period_end_ns, period_ns(ns, pp, on_in(st.period),
                                                                  st.period));
  }
  return {on_in(st.period), st.period_end_ns};
}

bool AvailabilityModel::is_on(uint32_t node, SimTime t) {
  const int64_t at = std::max<int64_t>(0, t.ns());
  switch (params_[states_[node].profile].kind) {
    case Availability::Kind::Always:
      return true;
    case Availability::Kind::Markov:
      return advance(node, at).on;
    case Availability::Kind::Trace: {
      auto first = intervals_.begin() + trace_begin_[node];
      auto last = intervals_.begin() + trace_begin_[node + 1];
      // The first interval ending after `at`: the only one that can contain it.
      auto it = std::upper_bound(first, last, at,
                                 [](int64_t x, const Interval& iv) { return x < iv.end_ns; });
      return it != last && it->start_ns <= at;
    }
  }
  return true;
}

SimTime AvailabilityModel::next_change(uint32_t node, SimTime t) {
  const int64_t at = std::max<int64_t>(0, t.ns());
  int64_t change = kNever;
  switch (params_[states_[node].profile].kind) {
    case Availability::Kind::Always:
      break;
    case Availability::Kind::Markov:
      change = advance(node, at).end_ns;
      break;
    case Availability::Kind::Trace: {
      auto first = intervals_.begin() + trace_begin_[node];
      auto last = intervals_.begin() + trace_begin_[node + 1];
      auto it = std::upper_bound(first, last, at,
                                 [](int64_t x, const Interval& iv) { return x < iv.end_ns; });
      if (it != last) change = it->start_ns <= at ? it->end_ns : it->start_ns;
      break;
    }
  }
  return change == kNever ? SimTime::max() : SimTime::from_ns(change);
}

size_t AvailabilityModel::bytes_per_node() const {
  const size_t n = std::max<size_t>(1, states_.size());
  const size_t total = states_.capacity() * sizeof(NodeState) +
                       trace_begin_.capacity() * sizeof(uint32_t) +
                       intervals_.capacity() * sizeof(Interval);
  return (total + n - 1) / n;
}

}  // namespace swarm::sim
