// A user's `swarm` built on swarm::cli::main with a module and a backend of its own, for
// user_cli_test.cpp: what the registries promise a user program (docs/extending.md).
//
//   my.worker   the built-in fl.worker, then one more result "trained_on" naming its node
//   my.flaky    my.worker, except that it throws on node 1 in round 2
//   my.counter  an aggregator step of its own: counts the "trained_on" results of the round
//               into global "my.count" and logs it
//   counting    the in-process backend, announcing itself with its `backend_options.note`

#include <cstdio>
#include <memory>
#include <stdexcept>

#include <swarm/cli.hpp>
#include <swarm/swarm.hpp>

int main(int argc, char** argv) {
  swarm::Registries registries = swarm::builtin_registries();
  const swarm::ModuleFn fl_worker = registries.modules.get("fl.worker");
  registries.modules.add("my.worker", [fl_worker](swarm::TaskContext& ctx) {
    fl_worker(ctx);
    ctx.results().add("trained_on", swarm::Dict{{"node", ctx.node_id()}});
  });
  registries.modules.add("my.flaky", [fl_worker](swarm::TaskContext& ctx) {
    if (ctx.node_id() == 1 && ctx.iteration() == 1) throw std::runtime_error("my.flaky: node 1 gives up in round 2");
    fl_worker(ctx);
    ctx.results().add("trained_on", swarm::Dict{{"node", ctx.node_id()}});
  });
  registries.modules.add("my.counter", [](swarm::TaskContext& ctx) {
    const auto seen = ctx.results().select("trained_on");
    ctx.globals().set("my.count", swarm::Dict{{"count", seen.size()}});
    ctx.logger().warn("my.counter: round {} saw {} worker(s)", ctx.iteration() + 1, seen.size());
  });
  const swarm::BackendFactory inprocess = registries.backends.get("inprocess").make;
  registries.backends.add("counting", {[inprocess](const swarm::BackendArgs& args) {
                                         std::fprintf(stderr, "counting backend: %lld node(s), note=%s\n",
                                                      static_cast<long long>(args.num_nodes),
                                                      args.options.value("note", "none").c_str());
                                         return inprocess(args);
                                       },
                                       swarm::ClockKind::Wall, "counting, in-process", {"note"}});
  return swarm::cli::main(argc, argv, registries);
}
