// The files a run writes: results, metrics and traces, and what happens when writing them fails.

#include <catch2/catch.hpp>

#include "tests/cli/run_cli.hpp"
