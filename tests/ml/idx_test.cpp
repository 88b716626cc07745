#include "swarm/ml/idx.hpp"

#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <zlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "swarm/error.hpp"

namespace swarm::ml {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "swarm_idx_test_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// The message of the DataError that f() throws; fails the test when it throws nothing.
template <typename F>
std::string data_error_of(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  FAIL("expected a DataError");
  return "";
}

// 2 images of 2 x 3 pixels and their 2 labels.
IdxArray images_2x2x3() { return {{2, 2, 3}, {0, 51, 102, 153, 204, 255, 1, 2, 3, 4, 5, 6}}; }
IdxArray labels_of(std::vector<uint8_t> labels) {
  return {{static_cast<uint32_t>(labels.size())}, std::move(labels)};
}

TEST_CASE("IDX arrays round-trip through plain and gzip files", "[ml][idx]") {
  TempDir dir;
  const IdxArray array = images_2x2x3();
  for (const std::string name : {"a-idx3-ubyte", "a-idx3-ubyte.gz"}) {
    write_idx(dir / name, array);
    IdxArray back = read_idx(dir / name);
    REQUIRE(back.dims == array.dims);
    REQUIRE(back.data == array.data);
  }
  // The plain file is the bare format: magic 00 00 08 03, three sizes, then the pixels.
  REQUIRE(read_bytes(dir / "a-idx3-ubyte").size() == 4 + 3 * 4 + 12);
  REQUIRE(read_bytes(dir / "a-idx3-ubyte")[2] == 0x08);
  // The .gz file is gzip (magic 1f 8b).
  auto gz = read_bytes(dir / "a-idx3-ubyte.gz");
  REQUIRE(gz.size() >= 2);
  REQUIRE(gz[0] == 0x1f);
  REQUIRE(gz[1] == 0x8b);
}

TEST_CASE("The shapes of a Fashion-MNIST folder come from the headers alone", "[ml][idx]") {
  TempDir dir;
  write_idx(dir / "train-images-idx3-ubyte.gz", images_2x2x3());
  write_idx(dir / "train-labels-idx1-ubyte.gz", labels_of({7, 2}));
  write_idx(dir / "t10k-images-idx3-ubyte", {{1, 2, 3}, {1, 2, 3, 4, 5, 6}});
  write_idx(dir / "t10k-labels-idx1-ubyte", labels_of({4}));
  REQUIRE(read_idx_dims(dir / "train-images-idx3-ubyte.gz") == std::vector<uint32_t>{2, 2, 3});
  const TrainTestShape shape = fashion_mnist_shape(dir / "");
  CHECK(shape.train.samples == 2);
  CHECK(shape.train.features == 6);  // 2 x 3 pixels
  CHECK(shape.train.classes == 10);
  CHECK(shape.test.samples == 1);
  // The same as loading them.
  const TrainTest loaded = load_fashion_mnist(dir / "");
  CHECK(loaded.train->size() == shape.train.samples);
  CHECK(loaded.test->num_features() == shape.test.features);
  // Labels that do not match the images are refused, naming the file.
  write_idx(dir / "t10k-labels-idx1-ubyte", labels_of({4, 5}));
  CHECK_THAT(data_error_of([&] { fashion_mnist_shape(dir / ""); }), Catch::Contains("t10k-labels-idx1-ubyte"));
}

TEST_CASE("An IDX image and label pair loads as a scaled dataset", "[ml][idx]") {
  TempDir dir;
  write_idx(dir / "img.gz", images_2x2x3());
  write_idx(dir / "lbl", labels_of({7, 2}));
  auto data = load_idx_dataset(dir / "img.gz", dir / "lbl", 10);
  REQUIRE(data->size() == 2);
  REQUIRE(data->num_features() == 6);
  REQUIRE(data->num_classes == 10);
  REQUIRE(data->labels == std::vector<uint8_t>{7, 2});
  // Sample 0 is the first 6 bytes, row after row: 51 / 255 = 0.2.
  REQUIRE(data->features(1, 0) == Approx(0.2f));
  REQUIRE(data->features(5, 0) == 1.0f);
  REQUIRE(data->features(0, 1) == Approx(1.0f / 255.0f));
}

TEST_CASE("Corrupt IDX files throw DataError naming the file", "[ml][idx]") {
  TempDir dir;

  SECTION("missing file") {
    auto message = data_error_of([&] { read_idx(dir / "nope-idx1-ubyte"); });
    REQUIRE_THAT(message, Catch::Contains("nope-idx1-ubyte"));
    REQUIRE_THAT(message, Catch::Contains("no such file"));
  }
  SECTION("wrong magic") {
    write_bytes(dir / "not-idx", {0x1f, 0x00, 0x08, 0x01, 0, 0, 0, 1, 5});
    auto message = data_error_of([&] { read_idx(dir / "not-idx"); });
    REQUIRE_THAT(message, Catch::Contains("not-idx"));
    REQUIRE_THAT(message, Catch::Contains("wrong magic"));
  }
  SECTION("element type other than unsigned byte") {
    write_bytes(dir / "floats", {0, 0, 0x0d, 0x01, 0, 0, 0, 1, 0, 0, 0, 0});
    auto message = data_error_of([&] { read_idx(dir / "floats"); });
    REQUIRE_THAT(message, Catch::Contains("floats"));
    REQUIRE_THAT(message, Catch::Contains("0x0d"));
  }
  SECTION("truncated header") {
    write_bytes(dir / "short-header", {0, 0, 0x08, 0x03, 0, 0, 0, 2});
    auto message = data_error_of([&] { read_idx(dir / "short-header"); });
    REQUIRE_THAT(message, Catch::Contains("short-header"));
    REQUIRE_THAT(message, Catch::Contains("truncated header"));
  }
  SECTION("truncated data, plain and gzip") {
    // Declares 5 bytes, holds 3.
    write_bytes(dir / "cut-data", {0, 0, 0x08, 0x01, 0, 0, 0, 5, 1, 2, 3});
    auto message = data_error_of([&] { read_idx(dir / "cut-data"); });
    REQUIRE_THAT(message, Catch::Contains("cut-data"));
    REQUIRE_THAT(message, Catch::Contains("truncated data"));

    IdxArray big{{4000}, std::vector<uint8_t>(4000)};
    for (size_t i = 0; i < big.data.size(); ++i) big.data[i] = static_cast<uint8_t>(i * 7919 >> 3);
    write_idx(dir / "cut.gz", big);
    auto gz = read_bytes(dir / "cut.gz");
    gz.resize(gz.size() / 2);
    write_bytes(dir / "cut.gz", gz);
    message = data_error_of([&] { read_idx(dir / "cut.gz"); });
    REQUIRE_THAT(message, Catch::Contains("cut.gz"));
  }
  SECTION("damaged gzip stream") {
    IdxArray big{{4000}, std::vector<uint8_t>(4000)};
    for (size_t i = 0; i < big.data.size(); ++i) big.data[i] = static_cast<uint8_t>(i * 7919 >> 3);
    write_idx(dir / "ok.gz", big);
    const auto gz = read_bytes(dir / "ok.gz");
    // The last 8 bytes are the trailer: CRC-32, then the size.
    auto bad_crc = gz;
    bad_crc[gz.size() - 6] ^= 0xff;
    write_bytes(dir / "bad-crc.gz", bad_crc);
    REQUIRE_THAT(data_error_of([&] { read_idx(dir / "bad-crc.gz"); }),
                 Catch::Contains("bad-crc.gz"));
    auto no_size = gz;
    no_size.resize(gz.size() - 4);
    write_bytes(dir / "no-size.gz", no_size);
    REQUIRE_THAT(data_error_of([&] { read_idx(dir / "no-size.gz"); }),
                 Catch::Contains("no-size.gz"));
  }
  SECTION("trailing bytes") {
    write_bytes(dir / "extra-bytes", {0, 0, 0x08, 0x01, 0, 0, 0, 2, 1, 2, 3});
    auto message = data_error_of([&] { read_idx(dir / "extra-bytes"); });
    REQUIRE_THAT(message, Catch::Contains("extra-bytes"));
    REQUIRE_THAT(message, Catch::Contains("trailing"));
  }
  SECTION("image and label counts differ") {
    write_idx(dir / "img", images_2x2x3());
    write_idx(dir / "three-labels", labels_of({1, 2, 3}));
    auto message = data_error_of([&] { load_idx_dataset(dir / "img", dir / "three-labels"); });
    REQUIRE_THAT(message, Catch::Contains("three-labels"));
    REQUIRE_THAT(message, Catch::Contains("3 labels"));
  }
  SECTION("label out of range") {
    write_idx(dir / "img", images_2x2x3());
    write_idx(dir / "bad-labels", labels_of({1, 10}));
    auto message = data_error_of([&] { load_idx_dataset(dir / "img", dir / "bad-labels", 10); });
    REQUIRE_THAT(message, Catch::Contains("bad-labels"));
    REQUIRE_THAT(message, Catch::Contains("label 10"));
  }
  SECTION("wrong number of dimensions") {
    write_idx(dir / "flat-images", labels_of({1, 2}));
    write_idx(dir / "lbl", labels_of({1, 2}));
    auto message = data_error_of([&] { load_idx_dataset(dir / "flat-images", dir / "lbl"); });
    REQUIRE_THAT(message, Catch::Contains("flat-images"));
    REQUIRE_THAT(message, Catch::Contains("3 dimensions"));
  }
}

// Runs f() in a child process whose address space may grow by at most `budget` bytes beyond
// what it already maps; returns the child's exit status: 0 if f() threw DataError, 1 for
// std::bad_alloc (the budget was exceeded), 2 for anything else or no exception.
template <typename F>
int exit_code_under_memory_budget(size_t budget, F&& f) {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    long pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    const rlim_t limit = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + budget;
    const rlimit rl{limit, limit};
    ::setrlimit(RLIMIT_AS, &rl);
    int code = 2;
    try {
      f();
    } catch (const DataError&) {
      code = 0;
    } catch (const std::bad_alloc&) {
      code = 1;
    } catch (...) {
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Issue 9 item 12: a header claiming 2^31 labels allocated 2 GiB before the reader found the
// data missing. The declared size is now checked against the plain file's size, and a gzip
// stream's array grows only as data really arrives.
TEST_CASE("IDX sizes declared in a header are checked before they are allocated", "[ml][idx]") {
  TempDir dir;
  // 2^31 labels declared, 3 present.
  write_bytes(dir / "huge-idx1-ubyte", {0, 0, 0x08, 0x01, 0x80, 0, 0, 0, 1, 2, 3});
  auto message = data_error_of([&] { read_idx(dir / "huge-idx1-ubyte"); });
  REQUIRE_THAT(message, Catch::Contains("huge-idx1-ubyte") && Catch::Contains("truncated data"));
  CHECK(exit_code_under_memory_budget(size_t{256} << 20, [&] { read_idx(dir / "huge-idx1-ubyte"); }) == 0);

  // The same lie in a gzip stream: 2^31 + 1000 bytes declared, 1000 present.
  write_idx(dir / "plain", IdxArray{{1000}, std::vector<uint8_t>(1000, 7)});
  auto bytes = read_bytes(dir / "plain");
  bytes[4] = 0x80;
  gzFile gz = gzopen((dir / "huge.gz").c_str(), "wb");
  REQUIRE(gz != nullptr);
  REQUIRE(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  REQUIRE(gzclose(gz) == Z_OK);
  CHECK_THAT(data_error_of([&] { read_idx(dir / "huge.gz"); }),
             Catch::Contains("huge.gz") && Catch::Contains("truncated data"));
  CHECK(exit_code_under_memory_budget(size_t{256} << 20, [&] { read_idx(dir / "huge.gz"); }) == 0);
}

// Issue 9 item 16: an empty data set was accepted and a gzip file cut by a few bytes too.
TEST_CASE("an empty IDX data set and a gzip file cut by a few bytes are refused naming the file", "[ml][idx]") {
  TempDir dir;
  write_idx(dir / "no-images", {{0, 2, 3}, {}});
  write_idx(dir / "no-labels", labels_of({}));
  auto message = data_error_of([&] { load_idx_dataset(dir / "no-images", dir / "no-labels"); });
  CHECK_THAT(message, Catch::Contains("no-images") && Catch::Contains("empty"));
  write_idx(dir / "no-pixels", {{2, 0, 3}, {}});
  write_idx(dir / "lbl", labels_of({1, 2}));
  CHECK_THAT(data_error_of([&] { load_idx_dataset(dir / "no-pixels", dir / "lbl"); }),
             Catch::Contains("no-pixels") && Catch::Contains("empty"));

  // A small file and one larger than zlib's buffers (which read "fine" when cut by < 10 bytes).
  for (const size_t bytes : {size_t{4000}, size_t{3} << 20}) {
    IdxArray big{{static_cast<uint32_t>(bytes)}, std::vector<uint8_t>(bytes)};
    for (size_t i = 0; i < big.data.size(); ++i) big.data[i] = static_cast<uint8_t>((i * 7919 >> 3) % 97);
    write_idx(dir / "whole.gz", big);
    REQUIRE(read_idx(dir / "whole.gz").data == big.data);
    const auto gz = read_bytes(dir / "whole.gz");
    for (size_t cut = 1; cut <= 12; ++cut) {
      INFO(bytes << " bytes cut by " << cut << " bytes");
      auto shorter = gz;
      shorter.resize(gz.size() - cut);
      write_bytes(dir / "cut.gz", shorter);
      CHECK_THAT(data_error_of([&] { read_idx(dir / "cut.gz"); }), Catch::Contains("cut.gz"));
    }
  }
}

TEST_CASE("Fashion-MNIST loads when installed", "[ml][idx][fashion]") {
  if (!fs::exists(kFashionMnistDir)) {
    WARN("skipped: " << kFashionMnistDir << " not found (Debian package dataset-fashion-mnist)");
    return;
  }
  TrainTest data = load_fashion_mnist();
  REQUIRE(data.train->size() == 60000);
  REQUIRE(data.test->size() == 10000);
  for (const auto* part : {data.train.get(), data.test.get()}) {
    REQUIRE(part->num_features() == 784);
    REQUIRE(part->num_classes == 10);
    REQUIRE(part->features.minCoeff() >= 0.0f);
    REQUIRE(part->features.maxCoeff() <= 1.0f);
    REQUIRE(*std::max_element(part->labels.begin(), part->labels.end()) == 9);
  }
  REQUIRE(data.train->name == "fashion-mnist/train");
}

}  // namespace
}  // namespace swarm::ml
