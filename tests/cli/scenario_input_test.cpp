// Scenario files, flags and sweeps: every bad input refused before anything runs.

#include <catch2/catch.hpp>

#include "tests/cli/run_cli.hpp"
