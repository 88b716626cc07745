#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "swarm/ml/idx.hpp"
#include "swarm/ml/kernel.hpp"
#include "swarm/fl/strategy.hpp"
#include "swarm/fl/modules.hpp"
#include "scenario/declared_swarm.hpp"
#include "scenario/memory_estimate.hpp"
#include "scenario/scenario.hpp"
#include "sim/profile.hpp"

namespace swarm::scenario {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();

std::function<std::string(double)> at_least(double min) {
  return [min](double v) { return v >= min ? "" : "a number >= " + std::to_string(min); };
}
std::function<std::string(double)> above(double min) {
  return [min](double v) { return v > min ? "" : "a number > " + std::to_string(min); };
}
std::function<std::string(double)> between(double lo, double hi) {
  return [lo, hi](double v) {
    return v >= lo && v <= hi ? "" : "a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  };
}

// Both checks: the first one's complaint if any, else the second's.
std::function<std::string(double)> both(std::function<std::string(double)> a, std::function<std::string(double)> b) {
  return [a = std::move(a), b = std::move(b)](double v) {
    std::string why = a(v);
    return why.empty() ? b(v) : why;
  };
}

// A value the model computes with as a 32-bit float: zero, or a normal float (a smaller one
// would become 0 or lose its precision, a larger one infinity).
std::string float_value(double v) {
  const double a = std::abs(v);
  if (a == 0 || (a >= std::numeric_limits<float>::min() && a <= std::numeric_limits<float>::max())) return "";
  return "0 or a magnitude in [1.2e-38, 3.4e38] (the model computes in 32-bit float)";
}

// Durations and times: the clock counts nanoseconds in an int64_t (about 292 years), so a
// time key must be at least 1 ns (or 0 where 0 means none) and at most kMaxSeconds, which
// leaves room for sums of such times within a run.
constexpr double kMaxSeconds = 1e8;  // about 3.2 years
std::function<std::string(double)> duration(double unit_s, bool zero_ok) {
  return [unit_s, zero_ok](double v) {
    const double s = v * unit_s;
    if ((zero_ok && v == 0) || (s >= 1e-9 && s <= kMaxSeconds)) return std::string();
    std::ostringstream msg;
    msg << (zero_ok ? "0 or " : "") << "a duration of 1 ns to 1e8 s (about 3 years; " << (unit_s == 1 ? "" : "in ms: ")
        << 1e-9 / unit_s << " to " << kMaxSeconds / unit_s << "; the clock counts nanoseconds in 64 bits)";
    return msg.str();
  };
}

Method parse_method(Section& s) {
  const std::string m = s.text("method", "all", {"all", "any", "best_resources", "server"});
  return m == "any" ? Method::Any : m == "best_resources" ? Method::BestResources : m == "server" ? Method::Server : Method::All;
}

Maximum parse_maximum(Section& s) {
  const double v = s.number("maximum", -1);
  Maximum m = v == -1 ? Maximum::unlimited()
              : (v >= 1 && v == std::floor(v)) ? Maximum(static_cast<int>(v))
                                                : Maximum(v);
  if (std::string why = m.check(); !why.empty()) s.fail("maximum", why);
  return m;
}

void read_swarm(Section s, Scenario& sc, const ModuleRegistry& modules) {
  sc.graph = s.text("graph", "fl", {"fl", "fl-async", "custom"});
  sc.fl.max_rounds = static_cast<int>(s.integer("rounds", 20, 1, kMaxInt));
  sc.fl.target_accuracy = s.number("target_accuracy", 1.1, between(0, 1.1));
  sc.max_virtual_time_s = s.optional_number("max_virtual_time_s", duration(1, false));
  sc.fl.clients_per_round = s.number("clients_per_round", -1, [](double v) {
    return v == -1 || (v > 0 && v <= kMaxInt) ? ""
                                              : "a count >= 1 (at most " + std::to_string(kMaxInt) +
                                                    "), a fraction in (0, 1), or -1 for every node";
  });
  if (sc.fl.clients_per_round > 1 && sc.fl.clients_per_round != std::floor(sc.fl.clients_per_round)) {
    s.fail("clients_per_round", "a count above 1 must be a whole number");
  }
  sc.fl.overcommit = s.number("overcommit", 1.0, at_least(1));
  if (sc.fl.clients_per_round >= 1 && sc.fl.clients_per_round * sc.fl.overcommit > kMaxInt) {
    s.fail("overcommit", "clients_per_round x overcommit must be at most " + std::to_string(kMaxInt));
  }
  sc.deadline_s = s.number("deadline_s", 0, duration(1, true));
  sc.fl.buffer_size = static_cast<int>(s.integer("buffer_size", 10, 1, kMaxInt));
  sc.fl.concurrency = static_cast<int>(s.integer("concurrency", 20, 1, kMaxInt));
  sc.fl.async = sc.graph == "fl-async";
  sc.fl.server_tasks = s.text("aggregate_on", "server", {"server", "fastest_node"}) == "server"
                           ? fl::FlConfig::ServerTasks::OnServer
                           : fl::FlConfig::ServerTasks::OnFastestNode;
  if (sc.fl.async && sc.fl.concurrency < sc.fl.buffer_size) {
    s.fail("buffer_size", "expected at most swarm.concurrency (" + std::to_string(sc.fl.concurrency) + ")");
  }
  for (Section t : s.list("tasks")) {
    TaskDecl d;
    d.module = t.text("module", "");
    if (d.module.empty()) t.fail("module", "every task needs a module (e.g. fl.worker)");
    d.alias = t.text("alias", d.module);
    d.options.alias = d.alias;
    d.options.method = parse_method(t);
    d.options.maximum = parse_maximum(t);
    d.options.fixed = t.boolean("fixed", false);
    for (int64_t id : t.integers("specified_ids", {}, 0, kMaxInt)) d.options.specified_ids.push_back(static_cast<NodeId>(id));
    for (int64_t id : t.integers("excepted_ids", {}, 0, kMaxInt)) d.options.excepted_ids.push_back(static_cast<NodeId>(id));
    t.finish();
    sc.tasks.push_back(std::move(d));
  }
  for (Section e : s.list("edges")) {
    EdgeDecl d;
    d.from = e.text("from", "");
    d.to = e.text("to", "");
    if (d.from.empty() || d.to.empty()) e.fail("", "an edge needs 'from' and 'to' task aliases");
    const std::string cond = e.text("condition", "finished", {"finished", "result"});
    d.edge.condition = cond == "result" ? Condition::Result : Condition::Finished;
    d.edge.tag = e.text("tag", cond == "result" ? "update" : "");
    d.edge.min_results = static_cast<int>(e.integer("min_results", 1, 1, kMaxInt));
    e.finish();
    sc.edges.push_back(std::move(d));
  }
  if (sc.graph == "custom" && sc.tasks.empty()) s.fail("tasks", "graph 'custom' needs a list of tasks");
  if (sc.graph == "custom") {
    // Checked now, so that a bad graph stops the whole sweep before it starts.
    try {
      DeclaredSwarm(sc.tasks, sc.edges, {}).build(modules);
    } catch (const GraphError& e) {
      s.fail("tasks", e.what());
    }
  }
  if (sc.graph != "custom" && (!sc.tasks.empty() || !sc.edges.empty())) {
    s.fail("tasks", "tasks and edges are for graph 'custom'; graph '" + sc.graph + "' is built in");
  }
  s.finish();
}

void read_model_training(Section model, Section training, Scenario& sc) {
  std::vector<int64_t> hidden = model.integers("hidden", {200, 200}, 1, 100000);
  sc.fl.layers.clear();
  for (int64_t h : hidden) sc.fl.layers.push_back(static_cast<int>(h));  // inputs/classes added later
  model.finish();
  sc.fl.epochs = static_cast<int>(training.integer("epochs", 1, 1, 10000));
  sc.fl.batch_size = static_cast<int>(training.integer("batch_size", 32, 1, 1000000));
  sc.fl.lr = training.number("lr", 0.05, both(above(0), float_value));
  sc.fl.momentum = training.number("momentum", 0.9, both([](double v) { return v >= 0 && v < 1 ? "" : "a number in [0, 1)"; },
                                                        float_value));
  sc.fl.weight_decay = training.number("weight_decay", 0, both(at_least(0), float_value));
  sc.fl.prox_mu = training.number("prox_mu", 0, both(at_least(0), float_value));
  // "auto" (none: the run chooses, scenario::run_kernel) or a kernel of this build.
  std::vector<std::string> kernels{"auto"};
  for (ml::Kernel k : ml::available_kernels()) kernels.emplace_back(ml::kernel_name(k));
  sc.kernel = ml::parse_kernel(training.text("kernel", "auto", kernels));
  sc.training_mode = training.text("mode", "real", {"real", "timing"}) == "timing" ? TrainingMode::Timing
                                                                              : TrainingMode::Real;
  training.finish();
}

void read_data(Section s, Scenario& sc) {
  DataSpec& d = sc.data;
  d.dataset = s.text("dataset", "fashion-mnist", {"fashion-mnist", "synthetic"});
  d.path = s.text("path", ml::kFashionMnistDir.string());
  d.samples = s.integer("samples", 12000, 12, 100000000);
  d.features = static_cast<int>(s.integer("features", 64, 1, 100000));
  d.classes = static_cast<int>(s.integer("classes", 10, 2, 256));
  d.separation = s.number("separation", 0.35, both(above(0), float_value));
  d.partition = s.text("partition", "iid", {"iid", "dirichlet", "shards", "quantity_skew", "sampled"});
  d.alpha = s.number("alpha", 0.5, above(0));
  d.shards_per_node = static_cast<int>(s.integer("shards_per_node", 2, 1, 100000));
  d.sigma = s.number("sigma", 1.0, at_least(0));
  d.samples_per_node = s.integer("samples_per_node", 600, 1, 100000000);
  if (d.dataset == "fashion-mnist") {
    namespace fs = std::filesystem;
    for (const char* f : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                          "t10k-labels-idx1-ubyte"}) {
      if (!fs::exists(fs::path(d.path) / f) && !fs::exists(fs::path(d.path) / (std::string(f) + ".gz"))) {
        s.fail("path", "missing data file " + (fs::path(d.path) / f).string() + "[.gz] (install the "
               "package dataset-fashion-mnist, or set data.dataset: synthetic)");
      }
    }
  }
  s.finish();
}

sim::NodeProfile read_profile(Section p, int64_t& count, double& share) {
  sim::NodeProfile prof;
  const std::string base = p.text("profile", "");
  if (!base.empty()) {
    try {
      prof = sim::builtin_profile(base);
    } catch (const Error& e) {
      p.fail("profile", e.what());
    }
  }
  prof.name = p.text("name", base.empty() ? "custom" : base);
  share = p.number("share", 0, at_least(0));
  count = p.integer("count", -1, -1, kMaxInt);
  if (count >= 0 && share > 0) p.fail("count", "give either a count or a share, not both");
  if (count < 0 && !p.has("share")) p.fail("share", "every profile needs a share or a count");
  prof.flops = p.number("flops", prof.flops, above(0));
  prof.up_bytes_per_s = sim::mbit_per_s(p.number("up_mbps", prof.up_bytes_per_s * 8 / 1e6, above(0)));
  prof.down_bytes_per_s = sim::mbit_per_s(p.number("down_mbps", prof.down_bytes_per_s * 8 / 1e6, above(0)));
  prof.latency_s = p.number("latency_ms", prof.latency_s * 1e3, duration(1e-3, true)) / 1e3;
  prof.speed_spread = p.number("speed_spread", prof.speed_spread, at_least(0));
  prof.compute_noise = p.number("compute_noise", prof.compute_noise, at_least(0));
  if (p.has("availability")) {
    Section a = p.section("availability");
    const std::string kind = a.text("kind", "always", {"always", "markov", "trace"});
    prof.availability = {};
    if (kind == "markov") {
      prof.availability.kind = sim::Availability::Kind::Markov;
      prof.availability.mean_on_s = a.number("mean_on_s", 1800, duration(1, false));
      prof.availability.mean_off_s = a.number("mean_off_s", 600, duration(1, false));
    } else if (kind == "trace") {
      prof.availability.kind = sim::Availability::Kind::Trace;
      prof.availability.trace_file = a.text("file", "");
      if (!std::filesystem::exists(prof.availability.trace_file)) {
        a.fail("file", "trace file '" + prof.availability.trace_file + "' does not exist");
      }
    }
    a.finish();
  } else {
    p.section("availability");
  }
  if (std::string why = sim::check(prof); !why.empty()) p.fail("", why);
  p.finish();
  return prof;
}

void read_population(Section s, Scenario& sc) {
  const int64_t nodes = s.integer("nodes", 10, 1, 100000000);
  s.text("from", "");  // merged into the tree by merge_population_file
  const bool shuffle = s.text("order", "shuffled", {"shuffled", "listed"}) == "shuffled";
  std::vector<Section> profiles = s.list("profiles");
  if (profiles.empty()) {
    sc.population = sim::default_population(nodes, sc.seed);
  } else {
    sc.population = {};
    sc.population.num_nodes = nodes;
    sc.population.seed = sc.seed;
    sc.population.shuffle = shuffle;
    for (Section& p : profiles) {
      sim::ProfileShare ps;
      ps.profile = read_profile(p, ps.count, ps.share);
      sc.population.profiles.push_back(ps);
    }
    try {
      sim::Population check(sc.population);
    } catch (const Error& e) {
      s.fail("profiles", e.what());
    }
  }
  s.finish();
}

void read_network_faults(Section net, Section faults, Scenario& sc) {
  const std::string model = net.text("model", "maxmin", {"maxmin", "cm02", "lv08", "constant"});
  sc.sim.network = model == "constant" ? sim::NetworkKind::Constant : sim::NetworkKind::MaxMin;
  // SimGrid's TCP corrections: only the cm02 and lv08 models have them, with SimGrid's
  // defaults for the model chosen.
  sc.sim.tcp = model == "lv08" ? sim::TcpParams::lv08()
               : model == "cm02" ? sim::TcpParams::cm02()
                                 : sim::TcpParams{};
  for (const char* key : {"latency_factor", "bandwidth_factor", "tcp_window_bytes", "weight_s_bytes"}) {
    if (sc.sim.tcp.rtt_sharing || !net.has(key)) continue;
    net.fail(key, "applies only to network.model cm02 or lv08 (the model is " + model + ")");
  }
  if (sc.sim.tcp.rtt_sharing) {
    sim::TcpParams& tcp = sc.sim.tcp;
    tcp.latency_factor = net.number("latency_factor", tcp.latency_factor, above(0));
    tcp.bandwidth_factor = net.number("bandwidth_factor", tcp.bandwidth_factor, above(0));
    tcp.window_bytes = net.number("tcp_window_bytes", tcp.window_bytes, at_least(0));
    tcp.weight_s_bytes = net.number("weight_s_bytes", tcp.weight_s_bytes, at_least(0));
  }
  sc.sim.server.up_bytes_per_s = sim::mbit_per_s(net.number("server_up_mbps", 10000, above(0)));
  sc.sim.server.down_bytes_per_s = sim::mbit_per_s(net.number("server_down_mbps", 10000, above(0)));
  sc.sim.server.latency = sim::SimTime::from_seconds(net.number("server_latency_ms", 0, duration(1e-3, true)) / 1e3);
  sc.sim.server_flops = net.number("server_flops", sim::builtin_profile("server").flops, above(0));
  net.finish();
  sc.sim.crash_probability = faults.number("crash_probability", 0, between(0, 1));
  sc.sim.transfer_failure_probability = faults.number("transfer_failure_probability", 0, between(0, 1));
  faults.finish();
}

void read_attack(Section s, Scenario& sc) {
  sc.attack.kind = s.text("kind", "none", {"none", "label_flip", "sign_flip", "gaussian", "scaling"});
  sc.attack.share = s.number("share", sc.attack.kind == "none" ? 0 : 0.2, between(0, 1));
  sc.attack.scale = s.number("scale", 1.0, both(above(0), float_value));
  sc.attack.noise_std = s.number("noise_std", 1.0, both(above(0), float_value));
  s.finish();
}

// The scalar at `key` of `s` as a Dict value: a number (one the model can hold as a float),
// else true/false, else the text.
Dict scalar_value(Section& s, const std::string& key) {
  YAML::Node v = s.raw(key);
  if (!v.IsScalar()) s.fail(key, "expected a number, a string or true/false");
  try {
    const double number = v.as<double>();
    if (std::string why = float_value(number); !why.empty()) {
      std::ostringstream msg;
      msg << "expected " << why << ", got " << number;
      s.fail(key, msg.str());
    }
    return number;
  } catch (const YAML::Exception&) {
    try {
      return v.as<bool>();
    } catch (const YAML::Exception&) {
      return v.Scalar();
    }
  }
}

// The keys a backend declares (BackendEntry::options) present in `s`, each a scalar.
Dict read_options(Section s, const BackendEntry& backend) {
  Dict out = Dict::object();
  for (const std::string& key : backend.options) {
    if (s.has(key)) {
      out[key] = scalar_value(s, key);
    } else {
      s.raw(key);  // declared though absent: finish() suggests it for a misspelt key
    }
  }
  s.finish();
  return out;
}

// backend_options, and the sections of backends that have one (BackendEntry::section): each
// section is checked against its backend's keys whichever backend runs; the running
// backend's own section is read first, then backend_options, which wins on a key set in
// both (the command line's flags go there).
void read_backend_options(Section& top, const BackendEntry& backend, const BackendRegistry& backends, Scenario& sc) {
  sc.backend_options = Dict::object();
  for (const std::string& name : backends.names()) {
    const BackendEntry& entry = backends.get(name);
    if (entry.section.empty() || entry.section == "backend_options") continue;
    Dict values = read_options(top.section(entry.section), entry);
    if (&entry == &backend) sc.backend_options = std::move(values);
  }
  const Dict options = read_options(top.section("backend_options"), backend);
  for (const auto& [key, value] : options.items()) sc.backend_options[key] = value;
}

// Whether strategy `name` of `registry` takes parameter `key` (asked of make_strategy itself,
// which owns the parameter lists).
bool takes_parameter(const std::string& name, const std::string& key, const Dict& value,
                     const strategies::StrategyRegistry& registry) {
  try {
    strategies::make_strategy(Dict{{"strategy", name}, {key, value}}, registry);
    return true;
  } catch (const Error& e) {
    return std::string(e.what()).find("has no parameter '" + key + "'") == std::string::npos;
  }
}

// Strategy parameters are checked by make_strategy, which knows each strategy's keys. A key
// that another strategy takes is left out for this one, so that a sweep over strategies can
// set each one's parameters once (num_byzantine for Krum, trim_ratio for the trimmed mean).
void read_strategy(Section s, Scenario& sc, const strategies::StrategyRegistry& registry) {
  const std::string name = s.text("name", sc.graph == "fl-async" ? "fedbuff" : "fedavg");
  sc.strategy = Dict::object();
  sc.strategy["strategy"] = name;
  for (const std::string& key : s.keys()) {
    if (key == "name") continue;
    const Dict value = scalar_value(s, key);
    if (!takes_parameter(name, key, value, registry)) {
      bool someone = false;
      for (const std::string& other : registry.names()) someone |= takes_parameter(other, key, value, registry);
      if (someone) continue;
    }
    sc.strategy[key] = value;
  }
  try {
    strategies::make_strategy(sc.strategy, registry);
  } catch (const Error& e) {
    // Point at the parameter the message names, if any.
    std::string at = "name";
    for (const std::string& key : s.keys()) {
      if (key != "name" && std::string(e.what()).find("'" + key + "'") != std::string::npos) at = key;
    }
    s.fail(at, e.what());
  }
  s.finish();
}

// The node at `path` ("a.b") of `root`, undefined if absent; never adds a key.
YAML::Node find(const YAML::Node& root, const std::string& path) {
  YAML::Node cur = root;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '.');) {
    if (!cur.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& map = cur;
    YAML::Node next = map[part];
    if (!next) return YAML::Node(YAML::NodeType::Undefined);
    cur.reset(next);
  }
  return cur;
}

// population.from: FILE (what `swarm calibrate` writes): the `population` and `network` maps of
// FILE give the values of the keys the scenario leaves out of its own; a message about one of
// them names FILE. Called once, before a sweep is expanded.
void merge_population_file(YAML::Node root, const std::shared_ptr<Source>& source) {
  const YAML::Node from = find(root, "population.from");
  if (!from) return;
  Section population(find(root, "population"), "population", source);
  const std::string path = population.text("from", "");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in || path.empty()) population.fail("from", "cannot read the population file '" + path + "'");
  const YAML::Node file = parse_yaml(text.str(), path);
  Section top(file, "", std::make_shared<Source>(Source{path, {}}));
  for (const char* part : {"population", "network"}) {
    const YAML::Node values = top.raw(part);
    if (!values) continue;
    if (!values.IsMap()) top.fail(part, "expected a map of the scenario's " + std::string(part) + " keys");
    for (const auto& kv : values) {
      const std::string key = kv.first.Scalar();
      if (key == "from") top.fail(part, "a population file cannot name another one (from)");
      const std::string full = std::string(part) + "." + key;
      if (find(root, full)) continue;  // the scenario's own value wins
      set_path(root, full, kv.second, path);
      std::ostringstream at;
      at << path << ':' << kv.second.Mark().line + 1 << ':' << kv.second.Mark().column + 1 << " (population.from)";
      source->origins[full] = at.str();
    }
  }
  top.finish();
}

// Checks of custom tasks against the population: a task whose specified_ids name no node, or
// whose excepted_ids exclude them all, would never run.
void check_task_nodes(const YAML::Node& root, const std::shared_ptr<const Source>& source, const Scenario& sc) {
  const int64_t n = sc.population.num_nodes;
  Section swarm(find(root, "swarm"), "swarm", source);
  std::vector<Section> decls = swarm.list("tasks");
  for (size_t i = 0; i < sc.tasks.size() && i < decls.size(); ++i) {
    const TaskOptions& o = sc.tasks[i].options;
    for (NodeId id : o.specified_ids) {
      if (static_cast<int64_t>(id) >= n) {
        decls[i].fail("specified_ids", "node " + std::to_string(id) + " is not in the population (node ids are 0 to " +
                                           std::to_string(n - 1) + ")");
      }
    }
    std::set<NodeId> excepted(o.excepted_ids.begin(), o.excepted_ids.end());
    int64_t eligible = 0;
    if (o.specified_ids.empty()) {
      eligible = n - static_cast<int64_t>(std::count_if(excepted.begin(), excepted.end(),
                                                        [n](NodeId id) { return static_cast<int64_t>(id) < n; }));
    } else {
      std::set<NodeId> specified(o.specified_ids.begin(), o.specified_ids.end());
      for (NodeId id : specified) eligible += excepted.count(id) ? 0 : 1;
    }
    if (eligible == 0) {
      decls[i].fail("excepted_ids", "task '" + sc.tasks[i].alias + "' would run on no node: excepted_ids exclude "
                                    "every node it may run on");
    }
  }
}

// Keys that only a virtual-clock backend models (the simulated world): a wall-clock backend
// would silently ignore them.
void check_backend_keys(const YAML::Node& root, const std::shared_ptr<const Source>& source, const Scenario& sc,
                        const BackendEntry& backend) {
  if (sc.clock == ClockKind::Virtual) return;
  for (const char* path : {"network", "faults", "population.profiles", "swarm.max_virtual_time_s", "output.trace"}) {
    if (std::string(path) == "output.trace" && backend.traces) continue;
    YAML::Node n = find(root, path);
    if (!n || n.IsNull()) continue;
    if (n.IsMap() && n.size() == 0) continue;
    if (std::string(path) == "output.trace" && n.IsScalar() && !n.as<bool>(true)) continue;
    std::string p = path, parent, key = p;
    if (auto dot = p.rfind('.'); dot != std::string::npos) {
      parent = p.substr(0, dot);
      key = p.substr(dot + 1);
    }
    if (n.IsMap()) {  // point at the first key of the section
      parent = p;
      key = n.begin()->first.Scalar();
    }
    if (std::string(path) == "output.trace") {
      Section(find(root, parent), parent, source)
          .fail(key, "backend '" + sc.backend + "' records no event trace: remove it, or use backend sim "
                     "(simulated events) or nodes (real nodes' starts and ends)");
    }
    Section(find(root, parent), parent, source)
        .fail(key, "only a virtual-clock backend models this (backend: sim); backend '" + sc.backend +
                       "' runs on the wall clock and would ignore it: remove it or use backend sim");
  }
}

// Whether the strategy can aggregate the updates a round hands it (Krum needs more than
// 2f + 2, Bulyan 4f + 3...): asked of the strategy itself, with that many empty updates.
// Rounds can bring fewer when workers fail; that shows at run time.
// The updates a round of the built-in graphs aggregates at most: a round's sample
// (clients_per_round of the nodes) or the buffer of fl-async; nullopt for a custom graph, whose
// aggregator takes whatever its edges give it.
std::optional<int64_t> updates_per_round(const Scenario& sc) {
  if (sc.graph == "fl-async") return sc.fl.buffer_size;
  if (sc.graph != "fl") return std::nullopt;
  const double c = sc.fl.clients_per_round;
  const Maximum m = c == -1 ? Maximum::unlimited() : c >= 1 ? Maximum(static_cast<int>(c)) : Maximum(c);
  return m.resolve(sc.population.num_nodes);
}

void check_strategy_feasible(const YAML::Node& root, const std::shared_ptr<const Source>& source, const Scenario& sc,
                             const strategies::StrategyRegistry& registry) {
  const std::optional<int64_t> count = updates_per_round(sc);
  if (!count) return;
  const int64_t per_round = *count;
  const std::string why = sc.graph == "fl-async"               ? "swarm.buffer_size"
                          : sc.fl.clients_per_round == -1 ? "every node of population.nodes"
                                                          : "swarm.clients_per_round of population.nodes";
  constexpr int64_t kMaxTrial = 512;  // the robust rules are quadratic in the updates
  if (per_round > kMaxTrial) return;
  std::unique_ptr<strategies::Strategy> strategy = strategies::make_strategy(sc.strategy, registry);
  std::vector<float> params(1, 0.0f), delta(1, 0.0f), state;
  std::vector<strategies::ClientUpdate> updates(static_cast<size_t>(per_round));
  for (size_t i = 0; i < updates.size(); ++i) updates[i] = {static_cast<NodeId>(i), delta, 1.0, 0};
  std::mt19937_64 rng(0);
  try {
    strategy->aggregate(params, updates, state, rng);
  } catch (const Error& e) {
    Section(find(root, "strategy"), "strategy", source)
        .fail("name", std::string(e.what()) + " per round, and a round gives at most " + std::to_string(per_round) +
                          " (" + why + ")");
  }
}

// Refuses a run that cannot fit in this machine's memory, naming its largest term's key.
void check_memory(const YAML::Node& root, const std::shared_ptr<const Source>& source, const Scenario& sc) {
  const std::optional<double> available = available_memory();
  if (!available) return;
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const MemoryEstimate m = estimate_memory(sc, threads);
  if (m.total() <= *available) return;
  std::string section = "model", key = "hidden";
  const double biggest = std::max({m.model_bytes * m.model_copies, m.data_bytes, m.node_bytes, m.result_bytes});
  if (biggest == m.data_bytes) {
    section = "data";
    key = sc.data.dataset == "synthetic" ? "samples" : "dataset";
  } else if (biggest == m.node_bytes) {
    section = "population";
    key = "nodes";
  } else if (biggest == m.result_bytes) {
    section = "swarm";
    key = "rounds";
  }
  Section(find(root, section), section, source)
      .fail(key, "the run needs about " + human_bytes(m.total()) + " of memory (" +
                     m.describe(sc.population.num_nodes) + "), more than the " + human_bytes(*available) +
                     " this machine has available (MemAvailable, /proc/meminfo); make it smaller");
}

// Refuses a simulated run whose virtual time would leave the clock's range (an int64_t of
// nanoseconds, about 292 years): the slowest profile's round (training about 6 FLOP per
// parameter per sample, the model down and up its links and the server's, latencies) times the
// rounds must stay below kMaxVirtualSeconds, which leaves headroom for nodes slower than their
// profile (speed_spread) and waits for nodes to come on.
constexpr double kMaxVirtualSeconds = 1e9;  // about 31.7 years
void check_virtual_time(const YAML::Node& root, const std::shared_ptr<const Source>& source, const Scenario& sc) {
  if (sc.clock != ClockKind::Virtual) return;
  const double model_bytes = estimate_memory(sc, 1).model_bytes, params = model_bytes / 4;
  const double nodes = static_cast<double>(sc.population.num_nodes);
  const double train = sc.data.dataset == "synthetic" ? static_cast<double>(sc.data.samples) * 5 / 6 : 60000;
  const double local = sc.data.partition == "sampled" ? static_cast<double>(sc.data.samples_per_node)
                                                      : std::max(1.0, train / nodes);
  const double work = 6 * params * local * sc.fl.epochs;
  // The server's links carry every worker's model down and its update up.
  const double workers = static_cast<double>(updates_per_round(sc).value_or(sc.population.num_nodes));
  const double server_s =
      2 * model_bytes * workers / std::min(sc.sim.server.up_bytes_per_s, sc.sim.server.down_bytes_per_s) +
      2 * sc.sim.server.latency.seconds();
  double slowest = 0;
  size_t which = 0;
  for (size_t i = 0; i < sc.population.profiles.size(); ++i) {
    const sim::NodeProfile& p = sc.population.profiles[i].profile;
    const double round_s = work / p.flops + model_bytes / p.down_bytes_per_s + model_bytes / p.up_bytes_per_s +
                           2 * p.latency_s;
    if (round_s > slowest) {
      slowest = round_s;
      which = i;
    }
  }
  double round_s = slowest + server_s;
  if (sc.deadline_s > 0) round_s = std::min(round_s, sc.deadline_s + server_s);
  double total = round_s * sc.fl.max_rounds;
  if (sc.max_virtual_time_s) total = std::min(total, *sc.max_virtual_time_s + round_s);
  if (total <= kMaxVirtualSeconds) return;
  std::ostringstream msg;
  msg << std::setprecision(3) << "the run would last about " << total << " s of virtual time (" << sc.fl.max_rounds
      << " rounds of about " << round_s << " s: profile '" << sc.population.profiles[which].profile.name
      << "' trains " << work << " FLOP at " << sc.population.profiles[which].profile.flops
      << " FLOP/s and moves " << model_bytes << " bytes each way), more than the " << kMaxVirtualSeconds
      << " s (about 31 years) the simulator's clock holds with headroom; use fewer rounds, faster profiles or "
         "swarm.max_virtual_time_s";
  if (root.IsMap() && find(root, "population.profiles").IsSequence()) {
    Section(find(root, "population"), "population", source).list("profiles")[which].fail("", msg.str());
  }
  Section(find(root, "swarm"), "swarm", source).fail("rounds", msg.str());
}

// A timing-only run has no real updates and no wall-clock meaning: it needs a virtual clock,
// and a strategy whose bytes and FLOPs do not depend on the updates' values (one that uses
// every update and keeps no server state), and no attack (attacks change values only).
void check_timing_mode(const YAML::Node& root, const std::shared_ptr<const Source>& source, const Scenario& sc) {
  if (sc.training_mode != TrainingMode::Timing) return;
  if (sc.clock != ClockKind::Virtual) {
    Section(find(root, "training"), "training", source)
        .fail("mode", "timing is for simulated backends (a virtual clock); backend '" + sc.backend +
                          "' runs on real time, where only real training means anything; use backend: sim");
  }
  const std::string strategy = sc.strategy.value("strategy", std::string("fedavg"));
  if (strategy != "fedavg" && strategy != "fedbuff") {
    Section(find(root, "strategy"), "strategy", source)
        .fail("name", "'" + strategy + "' cannot run with training.mode: timing, which has no real updates (its "
                      "model, state or report depend on their values); timing runs fedavg or fedbuff, whose cost "
                      "and messages are those of any averaging");
  }
  if (sc.attack.kind != "none" && sc.attack.share > 0) {
    Section(find(root, "attack"), "attack", source)
        .fail("kind", "an attack changes the values of updates, which training.mode: timing does not compute; "
                      "use attack.kind: none (an attacker's timing is an honest node's)");
  }
}

Scenario read_scenario(const YAML::Node& root, std::shared_ptr<const Source> source, const Registries& registries) {
  Scenario sc;
  Section top(root, "", source);
  sc.file = source->file;
  sc.name = top.text("name", std::filesystem::path(source->file).stem().string());
  if (sc.name.empty()) top.fail("name", "expected a non-empty name (it names the run in results files)");
  sc.description = top.text("description", "");
  sc.seed = static_cast<uint64_t>(top.integer("seed", 1, 0, std::numeric_limits<int64_t>::max()));
  sc.replicates = static_cast<int>(top.integer("replicates", 1, 1, 10000));
  sc.backend = top.text("backend", "sim");
  const BackendEntry* backend = registries.backends.find(sc.backend);
  if (!backend) top.fail("backend", registries.backends.unknown_message(sc.backend));
  sc.clock = backend->clock;
  read_backend_options(top, *backend, registries.backends, sc);
  read_swarm(top.section("swarm"), sc, registries.modules);
  read_model_training(top.section("model"), top.section("training"), sc);
  read_data(top.section("data"), sc);
  read_population(top.section("population"), sc);
  read_network_faults(top.section("network"), top.section("faults"), sc);
  read_attack(top.section("attack"), sc);
  read_strategy(top.section("strategy"), sc, *registries.strategies);
  Section output = top.section("output");
  sc.sim.record_trace = output.boolean("trace", false);
  output.finish();
  top.section("sweep");  // read by load_runs
  top.finish();
  sc.sim.seed = sc.seed;
  sc.fl.seed = sc.seed;
  sc.population.seed = sc.seed;
  check_timing_mode(root, source, sc);
  check_task_nodes(root, source, sc);
  check_backend_keys(root, source, sc, *backend);
  check_strategy_feasible(root, source, sc, *registries.strategies);
  check_memory(root, source, sc);
  check_virtual_time(root, source, sc);
  if (sc.data.partition == "iid" || sc.data.partition == "dirichlet" || sc.data.partition == "shards" ||
      sc.data.partition == "quantity_skew") {
    // Checked against the data size when the data is loaded; here only the obvious.
    if (sc.data.dataset == "synthetic" && sc.population.num_nodes > sc.data.samples) {
      Section(root, "", source).fail("population", "more nodes (" + std::to_string(sc.population.num_nodes) +
                                     ") than samples to split; use data.partition: sampled");
    }
  }
  return sc;
}

std::string emit(const YAML::Node& root) {
  YAML::Emitter out;
  out << root;
  return out.c_str();
}

// The scenario as run: `root` without its sweep. Emitted key by key: a node assigned into a new
// tree merges the whole memory of `root` (every sweep value) into it, which made expansion
// quadratic.
std::string emit_without_sweep(const YAML::Node& root) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  for (const auto& kv : root) {
    if (kv.first.Scalar() != "sweep") out << YAML::Key << kv.first << YAML::Value << kv.second;
  }
  out << YAML::EndMap;
  return out.c_str();
}

}  // namespace

std::vector<std::string> warnings(const Scenario& sc) {
  std::vector<std::string> out;
  const int64_t nodes = sc.population.num_nodes;
  if (sc.fl.async && sc.fl.buffer_size >= nodes) {
    out.push_back("swarm.buffer_size (" + std::to_string(sc.fl.buffer_size) + ") >= population.nodes (" +
                  std::to_string(nodes) + "): every aggregation waits for every node, so this asynchronous run "
                  "is synchronous FL, update for update; use a buffer smaller than the population");
  }
  if (sc.training_mode == TrainingMode::Timing && sc.fl.target_accuracy <= 1) {
    out.push_back("swarm.target_accuracy is never reached with training.mode: timing (no accuracy is computed): "
                  "the run stops after swarm.rounds or swarm.max_virtual_time_s");
  }
  return out;
}

const char* to_string(TrainingMode mode) { return mode == TrainingMode::Timing ? "timing" : "real"; }

std::string Scenario::run_name() const {
  // Also the run's group name in a results file, as is (docs/results.md): HDF5 names cannot
  // hold '/' (it becomes '_') nor be "." or "..".
  std::string name;
  for (const auto& [key, value] : point) name += (name.empty() ? "" : ",") + key + "=" + value;
  if (name.empty()) name = this->name;
  if (replicates > 1) name += (name.empty() ? "rep" : ",rep") + std::to_string(replicate);
  std::replace(name.begin(), name.end(), '/', '_');
  if (name == "." || name == "..") name.assign(name.size(), '_');
  return name;
}

std::vector<Scenario> load_runs(const std::string& text, const std::string& file,
                                const std::vector<Override>& overrides, const Registries& registries) {
  auto source = std::make_shared<Source>();
  source->file = file;
  YAML::Node root = parse_yaml(text, file);
  for (const Override& o : overrides) {
    auto [key, value] = parse_override(o.assignment);
    const std::string origin = o.flag.empty() ? "--set " + key : o.flag;
    set_path(root, key, value, origin);
    source->origins[key] = origin;
  }

  merge_population_file(root, source);

  // The sweep: a map of key path -> list of values, expanded as a grid in file order.
  std::vector<std::pair<std::string, std::vector<YAML::Node>>> axes;
  const YAML::Node sweep_node = find(root, "sweep");
  if (sweep_node && !sweep_node.IsNull()) {
    Section sweep(sweep_node, "sweep", source);
    for (const std::string& key : sweep.keys()) {
      YAML::Node values = sweep.raw(key);
      if (!values.IsSequence() || values.size() == 0) sweep.fail(key, "expected a non-empty list of values to sweep over");
      if (key.rfind("sweep", 0) == 0 || key == "replicates" || key == "population.from") {
        sweep.fail(key, "cannot be swept");
      }
      std::vector<YAML::Node> list(values.begin(), values.end());
      axes.emplace_back(key, std::move(list));
      std::ostringstream at;
      at << file << ':' << values.Mark().line + 1 << ':' << values.Mark().column + 1 << " (sweep)";
      source->origins[key] = at.str();
    }
  }

  // The number of runs, before any is made: points x replicates, capped.
  Section top(root, "", source);
  const int64_t replicates = top.integer("replicates", 1, 1, 10000);
  double count = static_cast<double>(replicates);
  std::string factors;
  for (const auto& [key, values] : axes) {
    count *= static_cast<double>(values.size());
    factors += std::to_string(values.size()) + " " + key + " x ";
  }
  if (count > static_cast<double>(kMaxRunsPerSweep)) {
    std::ostringstream msg;
    msg << std::fixed << std::setprecision(0) << "the sweep asks for " << count << " runs (" << factors << replicates
        << " replicates), more than the " << kMaxRunsPerSweep << " runs a sweep may hold; split it into several sweeps";
    Section(root, "", source).fail("sweep", msg.str());
  }

  // Each point is read from the original tree with the point's values set in place, so that
  // every other key keeps its line and column (YAML::Clone drops them).
  std::vector<Scenario> runs;
  runs.reserve(static_cast<size_t>(count));
  std::vector<size_t> index(axes.size(), 0);
  for (;;) {
    std::map<std::string, std::string> point;
    std::string label;
    for (size_t a = 0; a < axes.size(); ++a) {
      const YAML::Node& v = axes[a].second[index[a]];
      set_path(root, axes[a].first, v, source->origins[axes[a].first]);
      point[axes[a].first] = v.IsScalar() ? v.Scalar() : emit(v);
      label += (label.empty() ? "" : ", ") + axes[a].first + "=" + point[axes[a].first];
    }
    Scenario base;
    try {
      base = read_scenario(root, source, registries);
    } catch (const ScenarioError& e) {
      if (axes.empty()) throw;
      throw ScenarioError(std::string(e.what()) + " (in the sweep point " + label + ")");
    }
    base.point = point;
    base.text = emit_without_sweep(root);
    for (int r = 0; r < base.replicates; ++r) {
      Scenario run = base;
      run.replicate = r;
      run.seed = base.seed + static_cast<uint64_t>(r);
      run.sim.seed = run.fl.seed = run.population.seed = run.seed;
      runs.push_back(std::move(run));
    }
    size_t a = 0;
    for (; a < axes.size(); ++a) {
      if (++index[a] < axes[a].second.size()) break;
      index[a] = 0;
    }
    if (a == axes.size()) break;
  }
  return runs;
}

std::vector<Scenario> load_runs_from_file(const std::string& path, const std::vector<Override>& overrides,
                                          const Registries& registries) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw ScenarioError(path + ":1:1: is a directory, expected a scenario file (YAML)");
  }
  std::ifstream in(path);
  if (!in) throw ScenarioError(path + ":1:1: cannot open the scenario file");
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ScenarioError(path + ":1:1: cannot read the scenario file");
  return load_runs(text.str(), path, overrides, registries);
}

std::vector<Scenario> load_runs(const std::string& text, const std::string& file,
                                const std::vector<Override>& overrides) {
  return load_runs(text, file, overrides, builtin_registries());
}

std::vector<Scenario> load_runs_from_file(const std::string& path, const std::vector<Override>& overrides) {
  return load_runs_from_file(path, overrides, builtin_registries());
}

}  // namespace swarm::scenario
