#include "sim/profile.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "swarm/error.hpp"

using namespace swarm;
using namespace swarm::sim;

namespace {

NodeProfile phone_like() {
  NodeProfile p;
  p.name = "phone";
  return p;
}

}  // namespace

TEST_CASE("mbit_per_s converts megabits to bytes per second", "[profile]") {
  CHECK(mbit_per_s(8) == 1e6);      // 8e6 bits / 8
  CHECK(mbit_per_s(5) == 625000.0);  // 5e6 / 8
}

TEST_CASE("the default profile and the builtin profiles are valid", "[profile]") {
  CHECK(check(NodeProfile{}).empty());
  for (const char* name : {"phone", "laptop", "server"}) {
    INFO(name);
    const NodeProfile& p = builtin_profile(name);
    CHECK(p.name == name);
    CHECK(check(p).empty());
  }
  // Ordered device classes: servers faster than laptops faster than phones.
  CHECK(builtin_profile("phone").flops < builtin_profile("laptop").flops);
  CHECK(builtin_profile("laptop").flops < builtin_profile("server").flops);
  CHECK(builtin_profile("phone").availability.kind == Availability::Kind::Markov);
  CHECK(builtin_profile("server").availability.kind == Availability::Kind::Always);
}

TEST_CASE("an unknown builtin name lists the known ones", "[profile]") {
  CHECK_THROWS_AS(builtin_profile("toaster"), UsageError);
  try {
    builtin_profile("toaster");
  } catch (const UsageError& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("'toaster'"));
    CHECK_THAT(what, Catch::Contains("phone"));
    CHECK_THAT(what, Catch::Contains("laptop"));
    CHECK_THAT(what, Catch::Contains("server"));
  }
}

TEST_CASE("a misspelt builtin name gets a suggestion, and the names come in the table's order", "[profile]") {
  CHECK_THROWS_WITH(builtin_profile("phnoe"),
                    "unknown node profile 'phnoe' (did you mean 'phone'?) (known: phone, laptop, server)");
  CHECK(builtin_profile_names() == std::vector<std::string>{"phone", "laptop", "server"});
  // Rows in Mbit/s become bytes per second.
  CHECK(builtin_profile("laptop").up_bytes_per_s == mbit_per_s(20));
  CHECK(builtin_profile("phone").availability.mean_off_s == 600);
}

TEST_CASE("each bad profile value gives a message naming the profile and the field",
          "[profile]") {
  NodeProfile p = phone_like();

  SECTION("negative bandwidth") {
    p.up_bytes_per_s = -1;
    CHECK(check(p) == "profile 'phone': up_bytes_per_s must be > 0 and finite (got -1)");
  }
  SECTION("zero download bandwidth") {
    p.down_bytes_per_s = 0;
    CHECK_THAT(check(p), Catch::StartsWith("profile 'phone': down_bytes_per_s must be > 0"));
  }
  SECTION("non-finite bandwidth") {
    p.down_bytes_per_s = std::numeric_limits<double>::infinity();
    CHECK_THAT(check(p), Catch::StartsWith("profile 'phone': down_bytes_per_s"));
  }
  SECTION("zero speed") {
    p.flops = 0;
    CHECK(check(p) == "profile 'phone': flops must be > 0 and finite (got 0)");
  }
  SECTION("NaN speed") {
    p.flops = std::nan("");
    CHECK_THAT(check(p), Catch::StartsWith("profile 'phone': flops must be > 0"));
  }
  SECTION("negative latency") {
    p.latency_s = -0.5;
    CHECK(check(p) == "profile 'phone': latency_s must be >= 0 and finite (got -0.5)");
  }
  SECTION("negative spreads") {
    p.speed_spread = -0.1;
    CHECK_THAT(check(p), Catch::StartsWith("profile 'phone': speed_spread must be >= 0"));
    p.speed_spread = 0;
    p.compute_noise = -1;
    CHECK_THAT(check(p), Catch::StartsWith("profile 'phone': compute_noise must be >= 0"));
  }
  SECTION("Markov mean 0") {
    p.availability = {Availability::Kind::Markov, 0, 60, ""};
    CHECK(check(p) == "profile 'phone': availability.mean_on_s must be > 0 and finite (got 0)");
    p.availability = {Availability::Kind::Markov, 60, 0, ""};
    CHECK_THAT(check(p), Catch::StartsWith("profile 'phone': availability.mean_off_s must be > 0"));
  }
  SECTION("Markov means are not checked for other kinds") {
    p.availability.kind = Availability::Kind::Always;  // means 0 are irrelevant
    CHECK(check(p).empty());
  }
  SECTION("Trace without a file name") {
    p.availability.kind = Availability::Kind::Trace;
    CHECK_THAT(check(p), Catch::StartsWith("profile 'phone': availability.trace_file"));
    p.availability.trace_file = "on.txt";
    CHECK(check(p).empty());
  }
  SECTION("the first problem is reported") {
    p.flops = -1;
    p.latency_s = -1;
    CHECK_THAT(check(p), Catch::Contains("flops"));
    CHECK_THAT(check(p), !Catch::Contains("latency_s"));
  }
}
