// What a federated-learning run does, as a user reads it from the round table.

#include <catch2/catch.hpp>

#include "tests/cli/run_cli.hpp"
