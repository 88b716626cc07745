#include "swarm/ml/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <span>
#include <limits>
#include <memory>
#include <string>
#include <system_error>

#include "swarm/error.hpp"

namespace swarm::ml {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;
// zlib's buffer; the default 8 KiB makes reading a 47 MB file needlessly slow.
constexpr unsigned kGzBufferBytes = 1 << 17;
// gzread and gzwrite take an unsigned int length: move large payloads in pieces.
constexpr size_t kChunkBytes = 1 << 24;
// No IDX file of interest comes near this; it stops a corrupt header from asking for terabytes.
constexpr uint64_t kMaxPayloadBytes = uint64_t{1} << 34;

// Closes the gzFile when it goes out of scope.
struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw DataError(path.string() + ": " + what);
}

// zlib's description of the last error on `file`, without the path zlib puts in front.
std::string gz_error(gzFile file, const std::filesystem::path& path) {
  int code = Z_OK;
  const char* message = gzerror(file, &code);
  if (code == Z_ERRNO) return std::strerror(errno);
  std::string text = message != nullptr ? message : "unknown zlib error";
  const std::string prefix = path.string() + ": ";
  if (text.compare(0, prefix.size(), prefix) == 0) text.erase(0, prefix.size());
  return text;
}

// Reads up to `size` bytes; returns how many were read (fewer only at the end of the data).
size_t read_some(gzFile file, const std::filesystem::path& path, uint8_t* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    const size_t chunk = std::min(size - done, kChunkBytes);
    const int n = gzread(file, out + done, static_cast<unsigned>(chunk));
    if (n < 0) fail(path, "read error: " + gz_error(file, path));
    done += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < chunk) break;
  }
  return done;
}

void write_all(gzFile file, const std::filesystem::path& path, const uint8_t* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    const size_t chunk = std::min(size - done, kChunkBytes);
    if (gzwrite(file, data + done, static_cast<unsigned>(chunk)) != static_cast<int>(chunk)) {
      fail(path, "write error: " + gz_error(file, path));
    }
    done += chunk;
  }
}

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void put_be32(uint32_t v, uint8_t* p) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

uint32_t read_le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

// The CRC-32 of the pieces, one after the other.
uint32_t crc_of(std::initializer_list<std::span<const uint8_t>> pieces) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (std::span<const uint8_t> piece : pieces) {
    for (size_t at = 0; at < piece.size(); at += kChunkBytes) {
      const size_t n = std::min(piece.size() - at, kChunkBytes);
      crc = crc32(crc, piece.data() + at, static_cast<uInt>(n));
    }
  }
  return static_cast<uint32_t>(crc);
}

// A gzip file (one member) ends with the CRC-32 and the length mod 2^32 of its uncompressed
// content; fails naming the file unless they match the content read.
void check_gzip_trailer(const std::filesystem::path& path, std::span<const uint8_t> magic,
                        std::span<const uint8_t> header, std::span<const uint8_t> data) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const std::streamoff size = in.tellg();
  uint8_t trailer[8] = {};
  if (size < 8 || !in.seekg(size - 8).read(reinterpret_cast<char*>(trailer), 8)) {
    fail(path, "truncated gzip stream: no trailer");
  }
  const uint64_t length = magic.size() + header.size() + data.size();
  if (read_le32(trailer + 4) != static_cast<uint32_t>(length) || read_le32(trailer) != crc_of({magic, header, data})) {
    fail(path, "truncated or corrupt gzip stream: its trailer does not match the " + std::to_string(length) +
                   " bytes it decompressed to (a cut or damaged file, or several gzip members)");
  }
}

std::string hex_byte(uint8_t b) {
  constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[b >> 4] + kDigits[b & 0xf];
}

std::string dims_string(const std::vector<uint32_t>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? " x " : "") + std::to_string(dims[i]);
  return s;
}

std::shared_ptr<DatasetStorage> load_storage(const std::filesystem::path& images_path,
                                             const std::filesystem::path& labels_path,
                                             int num_classes) {
  if (num_classes < 1 || num_classes > 256) {
    throw UsageError("number of classes must be in [1, 256], got " + std::to_string(num_classes));
  }
  IdxArray images = read_idx(images_path);
  if (images.dims.size() != 3) {
    fail(images_path, "an image file has 3 dimensions (count x rows x cols), this one has " +
                          std::to_string(images.dims.size()) + " (" + dims_string(images.dims) +
                          ")");
  }
  IdxArray labels = read_idx(labels_path);
  if (labels.dims.size() != 1) {
    fail(labels_path, "a label file has 1 dimension, this one has " +
                          std::to_string(labels.dims.size()) + " (" + dims_string(labels.dims) +
                          ")");
  }
  const uint32_t count = images.dims[0];
  if (count == 0 || images.dims[1] == 0 || images.dims[2] == 0) {
    fail(images_path, "holds no data (" + dims_string(images.dims) + " images): an empty data set");
  }
  if (labels.dims[0] != count) {
    fail(labels_path, "holds " + std::to_string(labels.dims[0]) + " labels but " +
                          images_path.string() + " holds " + std::to_string(count) + " images");
  }
  for (size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= num_classes) {
      fail(labels_path, "label " + std::to_string(labels.data[i]) + " of sample " +
                            std::to_string(i) + " is out of range for " +
                            std::to_string(num_classes) + " classes");
    }
  }

  auto storage = std::make_shared<DatasetStorage>();
  const int64_t features = int64_t{images.dims[1]} * images.dims[2];
  // IDX stores sample after sample, so the bytes are already the column-major matrix.
  storage->features.resize(features, count);
  float* out = storage->features.data();
  constexpr float kScale = 1.0f / 255.0f;
  for (size_t i = 0; i < images.data.size(); ++i) out[i] = images.data[i] * kScale;
  storage->labels = std::move(labels.data);
  storage->num_classes = num_classes;
  storage->name = images_path.filename().string();
  return storage;
}


// Opens `path` and reads its IDX header: `magic` (4 bytes), `header` (the dimension sizes as
// stored) and the dimensions into array.dims; the file is left at the first data byte.
GzFile open_idx(const std::filesystem::path& path, std::array<uint8_t, 4>& magic, std::vector<uint8_t>& header,
                IdxArray& array, uint64_t& total) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(path, "no such file");
  if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory, not an IDX file");
  GzFile file(gzopen(path.c_str(), "rb"));
  if (!file) fail(path, std::string("cannot open: ") + std::strerror(errno));
  gzbuffer(file.get(), kGzBufferBytes);

  if (read_some(file.get(), path, magic.data(), magic.size()) != magic.size()) {
    fail(path, "truncated header: fewer than 4 bytes");
  }
  if (magic[0] != 0 || magic[1] != 0) {
    fail(path, "wrong magic: an IDX file starts with two zero bytes (is it an IDX file?)");
  }
  if (magic[2] != kUnsignedByteType) {
    fail(path, "element type " + hex_byte(magic[2]) + " is not unsigned byte (0x08)");
  }
  const int num_dims = magic[3];
  if (num_dims == 0) fail(path, "header declares zero dimensions");

  header.assign(static_cast<size_t>(num_dims) * 4, 0);
  if (read_some(file.get(), path, header.data(), header.size()) != header.size()) {
    fail(path, "truncated header: expected " + std::to_string(num_dims) + " dimension sizes");
  }
  total = 1;
  for (int d = 0; d < num_dims; ++d) {
    array.dims.push_back(read_be32(&header[4 * d]));
    total *= array.dims.back();
    if (total > kMaxPayloadBytes) {
      fail(path, "dimensions " + dims_string(array.dims) + " are implausibly large");
    }
  }
  return file;
}

}  // namespace

std::vector<uint32_t> read_idx_dims(const std::filesystem::path& path) {
  std::array<uint8_t, 4> magic{};
  std::vector<uint8_t> header;
  IdxArray array;
  uint64_t total = 0;
  open_idx(path, magic, header, array, total);
  return array.dims;
}

IdxArray read_idx(const std::filesystem::path& path) {
  std::error_code ec;
  std::array<uint8_t, 4> magic{};
  std::vector<uint8_t> header;
  IdxArray array;
  uint64_t total = 0;
  GzFile file = open_idx(path, magic, header, array, total);

  // The declared size is checked against what the file really holds before anything of that
  // size is allocated: a plain file by its size on disk; a gzip stream, whose size is only
  // known once decompressed, by growing the array as data arrives.
  const uint64_t header_bytes = 4 + header.size();
  if (gzdirect(file.get()) == 1) {
    const uint64_t on_disk = std::filesystem::file_size(path, ec);
    if (!ec && on_disk < header_bytes + total) {
      fail(path, "truncated data: dimensions " + dims_string(array.dims) + " need " + std::to_string(total) +
                     " bytes, the file holds " + std::to_string(on_disk - header_bytes));
    }
  }
  size_t got = 0;
  while (got < total) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(total - got, kChunkBytes));
    array.data.resize(got + want);
    const size_t n = read_some(file.get(), path, array.data.data() + got, want);
    got += n;
    if (n < want) break;
  }
  array.data.resize(got);
  if (got != total) {
    fail(path, "truncated data: dimensions " + dims_string(array.dims) + " need " +
                   std::to_string(total) + " bytes, the file holds " + std::to_string(got));
  }
  uint8_t extra = 0;
  if (read_some(file.get(), path, &extra, 1) != 0) {
    fail(path, "trailing bytes after the " + std::to_string(total) + " bytes that dimensions " +
                   dims_string(array.dims) + " describe");
  }
  // All the data came out but the gzip stream may still end early (a cut trailer).
  int code = Z_OK;
  gzerror(file.get(), &code);
  if (code != Z_OK) fail(path, "truncated or corrupt gzip stream: " + gz_error(file.get(), path));
  // zlib does not always see a cut trailer (a large file missing its last bytes reads "fine"),
  // so check it here: the file ends with the CRC-32 and the size of what it decompresses to.
  if (gzdirect(file.get()) == 0) {
    check_gzip_trailer(path, {magic.data(), magic.size()}, header, array.data);
  }
  return array;
}

void write_idx(const std::filesystem::path& path, const IdxArray& array) {
  if (array.dims.empty() || array.dims.size() > 255) {
    fail(path, "cannot write an IDX array of " + std::to_string(array.dims.size()) +
                   " dimensions (1 to 255)");
  }
  uint64_t total = 1;
  for (uint32_t d : array.dims) total *= d;
  if (total != array.data.size()) {
    fail(path, "cannot write: dimensions " + dims_string(array.dims) + " need " +
                   std::to_string(total) + " bytes, the array holds " +
                   std::to_string(array.data.size()));
  }
  const bool gzip = path.extension() == ".gz";
  // "T" writes a plain file through the same interface.
  GzFile file(gzopen(path.c_str(), gzip ? "wb6" : "wbT"));
  if (!file) fail(path, std::string("cannot create: ") + std::strerror(errno));
  gzbuffer(file.get(), kGzBufferBytes);

  std::vector<uint8_t> header(4 + 4 * array.dims.size());
  header[2] = kUnsignedByteType;
  header[3] = static_cast<uint8_t>(array.dims.size());
  for (size_t d = 0; d < array.dims.size(); ++d) put_be32(array.dims[d], &header[4 + 4 * d]);
  write_all(file.get(), path, header.data(), header.size());
  write_all(file.get(), path, array.data.data(), array.data.size());
  // Closing flushes: a full disk shows up here.
  if (gzclose(file.release()) != Z_OK) fail(path, "write error while closing");
}

std::shared_ptr<const DatasetStorage> load_idx_dataset(const std::filesystem::path& images,
                                                       const std::filesystem::path& labels,
                                                       int num_classes) {
  return load_storage(images, labels, num_classes);
}

namespace {

// A Fashion-MNIST file of `dir`: the compressed file as shipped, or an uncompressed copy.
std::filesystem::path fashion_mnist_file(const std::filesystem::path& dir, const std::string& stem) {
  std::filesystem::path gz = dir / (stem + ".gz");
  std::error_code ec;
  if (std::filesystem::exists(gz, ec)) return gz;
  std::filesystem::path plain = dir / stem;
  if (std::filesystem::exists(plain, ec)) return plain;
  throw DataError(dir.string() + ": Fashion-MNIST file " + stem + "[.gz] not found");
}

}  // namespace

TrainTestShape fashion_mnist_shape(const std::filesystem::path& dir) {
  auto shape = [&dir](const std::string& prefix) {
    const std::filesystem::path images = fashion_mnist_file(dir, prefix + "-images-idx3-ubyte");
    const std::filesystem::path labels = fashion_mnist_file(dir, prefix + "-labels-idx1-ubyte");
    const std::vector<uint32_t> image_dims = read_idx_dims(images), label_dims = read_idx_dims(labels);
    if (image_dims.size() != 3) fail(images, "an image file has 3 dimensions, this one has " + dims_string(image_dims));
    if (label_dims.size() != 1 || label_dims[0] != image_dims[0]) {
      fail(labels, "holds " + dims_string(label_dims) + " labels for " + std::to_string(image_dims[0]) + " images");
    }
    return DataShape{image_dims[0], static_cast<int>(int64_t{image_dims[1]} * image_dims[2]), 10};
  };
  return {shape("train"), shape("t10k")};
}

TrainTest load_fashion_mnist(const std::filesystem::path& dir) {
  auto find = [&dir](const std::string& stem) { return fashion_mnist_file(dir, stem); };
  auto load = [&](const std::string& prefix, const std::string& name) {
    const std::filesystem::path images = find(prefix + "-images-idx3-ubyte");
    const std::filesystem::path labels = find(prefix + "-labels-idx1-ubyte");
    auto storage = load_storage(images, labels, 10);
    storage->name = name;
    return std::shared_ptr<const DatasetStorage>(std::move(storage));
  };
  TrainTest result;
  result.train = load("train", "fashion-mnist/train");
  result.test = load("t10k", "fashion-mnist/test");
  return result;
}

}  // namespace swarm::ml
