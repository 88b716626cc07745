#pragma once
// Error kinds of the project. Bad user input (a scenario, a data file, a graph, a network
// message, a flag) throws one of these at the boundary with a message a user can act on:
// which file or task, what was expected. Broken invariants inside the engine are asserts.

#include <stdexcept>
#include <string>

namespace swarm {

// Base of every user-facing error. The CLI prints what() and exits with code 2.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A swarm graph that cannot run: a cycle, duplicate aliases, an unknown module...
class GraphError : public Error {
 public:
  using Error::Error;
};

// A data file that cannot be read or is not what it claims to be.
class DataError : public Error {
 public:
  using Error::Error;
};

// Bytes that do not decode as the format they claim (a blob, a message).
class FormatError : public Error {
 public:
  using Error::Error;
};

// A bad option value given by the user (command line or configuration).
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace swarm
