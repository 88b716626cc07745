// Runs a star script (the format of sim/star_script.hpp) with SimGrid's s4u and prints the
// completion time of every flow, in file order, one a line (%.17g seconds): the reference
// that tests/sim/simgrid_test.cpp and bench/simgrid_bench.cpp compare our network models
// against. Standalone (it does not link swarmsim), built when CMake finds SimGrid.
//
//   simgrid_star FILE|- [--cfg=network/model:LV08 ...]
//
// Arguments after the file are SimGrid's. Each node and the server get a host, an up link
// and a down link carrying their latency, in a star zone: a download crosses the server's up
// link then the node's down link, an upload the node's up link then the server's down link,
// as in sim/network.hpp. Each chain of flows (a flow, the one `after` it, ...) is one actor:
// it sleeps until the first start, sends, waits, sleeps the next delay, sends, and so on.
// On stderr: the wall time of engine.run().
#include <simgrid/s4u.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace sg4 = simgrid::s4u;

namespace {

struct Flow {
  double start;  // or delay after `after`
  size_t node;
  bool download;
  uint64_t bytes;
  long after = -1;
  long next = -1;  // the flow after this one
};

[[noreturn]] void fail(const std::string& msg) {
  std::cerr << "simgrid_star: " << msg << "\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: simgrid_star FILE|- [--cfg=...]");
  std::ifstream file;
  std::istream* in = &std::cin;
  if (std::string(argv[1]) != "-") {
    file.open(argv[1]);
    if (!file) fail(std::string("cannot read ") + argv[1]);
    in = &file;
  }
  std::vector<char*> args{argv[0]};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  int sg_argc = static_cast<int>(args.size());
  sg4::Engine engine(&sg_argc, args.data());

  std::optional<std::array<double, 3>> server;
  std::vector<std::optional<std::array<double, 3>>> nodes;
  std::vector<Flow> flows;
  std::string line;
  int lineno = 0;
  while (std::getline(*in, line)) {
    ++lineno;
    std::istringstream is(line);
    std::string kind;
    if (!(is >> kind) || kind[0] == '#') continue;
    const std::string where = "line " + std::to_string(lineno) + ": ";
    if (kind == "server") {
      std::array<double, 3> s;
      if (!(is >> s[0] >> s[1] >> s[2])) fail(where + "expected server UP DOWN LATENCY");
      server = s;
    } else if (kind == "node") {
      size_t id;
      std::array<double, 3> n;
      if (!(is >> id >> n[0] >> n[1] >> n[2])) fail(where + "expected node ID UP DOWN LATENCY");
      if (id >= nodes.size()) nodes.resize(id + 1);
      nodes[id] = n;
    } else if (kind == "flow") {
      Flow f{};
      std::string dir, after;
      if (!(is >> f.start >> f.node >> dir >> f.bytes) || (dir != "download" && dir != "upload")) {
        fail(where + "expected flow START NODE download|upload BYTES [after K]");
      }
      f.download = dir == "download";
      if (is >> after) {
        if (after != "after" || !(is >> f.after)) fail(where + "expected 'after K'");
        if (f.after < 0 || static_cast<size_t>(f.after) >= flows.size()) fail(where + "K is not an earlier flow");
        if (flows[f.after].next != -1) fail(where + "two flows after one");
        flows[f.after].next = static_cast<long>(flows.size());
      }
      if (f.node >= nodes.size() || !nodes[f.node]) fail(where + "unknown node");
      flows.push_back(f);
    } else {
      fail(where + "unknown record '" + kind + "'");
    }
  }
  if (!server) fail("no server line");

  auto* zone = sg4::create_star_zone("star");
  auto add = [&](const std::string& name, const std::array<double, 3>& l) {
    sg4::Host* host = zone->create_host(name, 1e9);
    const sg4::Link* up = zone->create_link(name + "_up", l[0])->set_latency(l[2])->seal();
    const sg4::Link* down = zone->create_link(name + "_down", l[1])->set_latency(l[2])->seal();
    zone->add_route(host->get_netpoint(), nullptr, nullptr, nullptr, {sg4::LinkInRoute(up)}, false);
    zone->add_route(nullptr, host->get_netpoint(), nullptr, nullptr, {sg4::LinkInRoute(down)}, false);
    return host;
  };
  sg4::Host* server_host = add("server", *server);
  std::vector<sg4::Host*> hosts(nodes.size(), nullptr);
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (nodes[n]) hosts[n] = add("node" + std::to_string(n), *nodes[n]);
  }
  zone->seal();

  std::vector<double> done(flows.size(), -1);
  for (size_t root = 0; root < flows.size(); ++root) {
    if (flows[root].after != -1) continue;
    sg4::Actor::create("chain" + std::to_string(root), server_host, [&, root]() {
      for (long i = static_cast<long>(root); i != -1; i = flows[i].next) {
        const Flow& f = flows[i];
        if (f.after == -1) {
          if (f.start > 0) sg4::this_actor::sleep_until(f.start);
        } else if (f.start > 0) {
          sg4::this_actor::sleep_for(f.start);
        }
        sg4::Host* node = hosts[f.node];
        if (f.download) {
          sg4::Comm::sendto(server_host, node, f.bytes);
        } else {
          sg4::Comm::sendto(node, server_host, f.bytes);
        }
        done[i] = sg4::Engine::get_clock();
      }
    });
  }
  const auto t0 = std::chrono::steady_clock::now();
  engine.run();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string out;
  char buf[32];
  for (double t : done) {
    std::snprintf(buf, sizeof buf, "%.17g\n", t);
    out += buf;
  }
  std::fputs(out.c_str(), stdout);
  std::fprintf(stderr, "simgrid_star: %zu flows, engine.run() took %.6f s\n", flows.size(), wall);
  return 0;
}
