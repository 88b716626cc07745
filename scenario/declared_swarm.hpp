#pragma once
// A swarm whose graph is declared in a scenario file (swarm.graph: custom): tasks with their
// options, and edges between their aliases.

#include <map>
#include <string>
#include <vector>

#include "scenario/scenario.hpp"

namespace swarm::scenario {

class DeclaredSwarm : public Swarm {
 public:
  DeclaredSwarm(std::vector<TaskDecl> tasks, std::vector<EdgeDecl> edges, std::map<std::string, Blob> globals,
                const std::string& image = "swarmsim-node:latest");
  // Calls each task once with all its inputs; returns the task without successor (if several,
  // the last declared: validation then reports the others).
  TaskRef execute() override;

 private:
  std::vector<TaskDecl> decls_;
  std::vector<EdgeDecl> edges_;
  std::map<std::string, TaskRef> tasks_;
};

}  // namespace swarm::scenario
