// ResultWriter and read_results: the HDF5 layout of docs/results.md, with the HDF5 C API.

#include <zlib.h>

#include <cerrno>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

#include "results/hdf5_handle.hpp"
#include "results/point_value.hpp"
#include "results/results.hpp"

namespace swarm::results {
namespace {

namespace fs = std::filesystem;
using detail::check;
using detail::fail;
using detail::Handle;

constexpr const char* kFormat = "swarmsim-results";
constexpr int32_t kFormatVersion = 2;
constexpr const char* kRuns = "runs";
// Tables are stored in chunks of about this many bytes, each with a Fletcher-32 checksum.
constexpr size_t kChunkBytes = size_t{1} << 20;

// ---------------------------------------------------------------------------------------------
// Compound types: one description per table gives the memory and file types for writing, and
// what a reader checks a file's table against.

enum class Kind { Int, Float, String };

struct Member {
  const char* name;
  size_t offset;  // in the in-memory record
  size_t size;    // of the in-memory field
  Kind kind;
  hid_t native;  // memory type (unused for strings)
  hid_t file;    // file type, little-endian standard (unused for strings)
  // A column added to format_version 2 after it shipped: files written before lack it, and a
  // reader then leaves the field 0 (or empty) and the checksum without it.
  bool added_later = false;
};

Member added_later(Member m) {
  m.added_later = true;
  return m;
}

// In-memory records of the tables with strings: HDF5 reads and writes variable-length strings
// as char*.
struct NodeRecord {
  uint32_t id;
  char* profile;
  int64_t samples;
  int32_t classes;
  int32_t rounds_participated;
  int32_t failures;
  uint8_t byzantine;
  double flops_per_s;
  char* kernel;
  uint64_t wire_bytes_up;
  uint64_t wire_bytes_down;
};

struct TraceRecord {
  double time_s;
  uint32_t node;
  char* event;
  char* task;
  uint64_t instance;
  uint64_t bytes;
};

#define SWARM_I32(T, f) Member{#f, offsetof(T, f), sizeof(T::f), Kind::Int, H5T_NATIVE_INT32, H5T_STD_I32LE}
#define SWARM_U32(T, f) Member{#f, offsetof(T, f), sizeof(T::f), Kind::Int, H5T_NATIVE_UINT32, H5T_STD_U32LE}
#define SWARM_I64(T, f) Member{#f, offsetof(T, f), sizeof(T::f), Kind::Int, H5T_NATIVE_INT64, H5T_STD_I64LE}
#define SWARM_U64(T, f) Member{#f, offsetof(T, f), sizeof(T::f), Kind::Int, H5T_NATIVE_UINT64, H5T_STD_U64LE}
#define SWARM_U8(T, f) Member{#f, offsetof(T, f), sizeof(T::f), Kind::Int, H5T_NATIVE_UINT8, H5T_STD_U8LE}
#define SWARM_F64(T, f) Member{#f, offsetof(T, f), sizeof(T::f), Kind::Float, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE}
#define SWARM_STR(T, f) Member{#f, offsetof(T, f), sizeof(T::f), Kind::String, 0, 0}

std::vector<Member> round_members() {
  return {SWARM_I32(RoundRow, round),           SWARM_F64(RoundRow, t_start_s),
          SWARM_F64(RoundRow, t_end_s),         SWARM_F64(RoundRow, wall_s),
          SWARM_F64(RoundRow, accuracy),        SWARM_F64(RoundRow, loss),
          SWARM_I32(RoundRow, participants),    SWARM_I32(RoundRow, instances),
          SWARM_I32(RoundRow, failed),          SWARM_I32(RoundRow, lost_crash),
          SWARM_I32(RoundRow, lost_transfer),   SWARM_I32(RoundRow, lost_offline),
          SWARM_I32(RoundRow, lost_deadline),   SWARM_I32(RoundRow, lost_overcommit),
          SWARM_U64(RoundRow, bytes_up),        SWARM_U64(RoundRow, bytes_down),
          SWARM_U64(RoundRow, flops),           SWARM_I32(RoundRow, stale),
          SWARM_I32(RoundRow, max_staleness),   SWARM_F64(RoundRow, mean_staleness),
          SWARM_I32(RoundRow, unplaced),
          added_later(SWARM_U64(RoundRow, wire_bytes_up)),
          added_later(SWARM_U64(RoundRow, wire_bytes_down)),
          added_later(SWARM_F64(RoundRow, coordinator_s))};
}

std::vector<Member> node_members() {
  return {SWARM_U32(NodeRecord, id),       SWARM_STR(NodeRecord, profile),
          SWARM_I64(NodeRecord, samples),  SWARM_I32(NodeRecord, classes),
          SWARM_I32(NodeRecord, rounds_participated), SWARM_I32(NodeRecord, failures),
          SWARM_U8(NodeRecord, byzantine),
          added_later(SWARM_F64(NodeRecord, flops_per_s)),
          added_later(SWARM_STR(NodeRecord, kernel)),
          added_later(SWARM_U64(NodeRecord, wire_bytes_up)),
          added_later(SWARM_U64(NodeRecord, wire_bytes_down))};
}

std::vector<Member> trace_members() {
  return {SWARM_F64(TraceRecord, time_s), SWARM_U32(TraceRecord, node),
          SWARM_STR(TraceRecord, event),  SWARM_STR(TraceRecord, task),
          SWARM_U64(TraceRecord, instance), SWARM_U64(TraceRecord, bytes)};
}

#undef SWARM_I32
#undef SWARM_U32
#undef SWARM_I64
#undef SWARM_U64
#undef SWARM_U8
#undef SWARM_F64
#undef SWARM_STR

Handle string_type(const std::string& file) {
  Handle t(check(H5Tcopy(H5T_C_S1), file, "creating a string type"), H5Tclose);
  check(H5Tset_size(t.get(), H5T_VARIABLE), file, "creating a string type");
  check(H5Tset_cset(t.get(), H5T_CSET_UTF8), file, "creating a string type");
  return t;
}

struct CompoundTypes {
  Handle memory;  // the in-memory record, native types
  Handle file;    // packed, little-endian
  Handle string;  // the (UTF-8, variable-length) string type both use
};

CompoundTypes compound(const std::vector<Member>& members, size_t record_size, const std::string& file) {
  CompoundTypes t;
  t.string = string_type(file);
  size_t file_size = 0;
  for (const Member& m : members) {
    file_size += H5Tget_size(m.kind == Kind::String ? t.string.get() : m.file);
  }
  t.memory = Handle(check(H5Tcreate(H5T_COMPOUND, record_size), file, "creating a table type"), H5Tclose);
  t.file = Handle(check(H5Tcreate(H5T_COMPOUND, file_size), file, "creating a table type"), H5Tclose);
  size_t offset = 0;
  for (const Member& m : members) {
    const hid_t mem = m.kind == Kind::String ? t.string.get() : m.native;
    const hid_t disk = m.kind == Kind::String ? t.string.get() : m.file;
    check(H5Tinsert(t.memory.get(), m.name, m.offset, mem), file, "creating a table type");
    check(H5Tinsert(t.file.get(), m.name, offset, disk), file, "creating a table type");
    offset += H5Tget_size(disk);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// The checksum of a run: CRC-32 (zlib's) of its content as stored, every attribute value and
// table cell in a fixed order (docs/results.md). The writer computes it from what it writes,
// a reader from what it read: any difference means the file changed.

class Digest {
 public:
  void bytes(const void* data, size_t size) {
    if (size == 0) return;
    buffer_.append(static_cast<const char*>(data), size);
    if (buffer_.size() >= kFlushBytes) flush();
  }
  template <typename T>
  void number(T value) {
    bytes(&value, sizeof value);
  }
  void text(const std::string& s) {
    number<uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  void text(const char* s) {
    const uint64_t size = s != nullptr ? std::strlen(s) : 0;
    number(size);
    bytes(s, size);
  }
  // One record of a table: its numbers as in memory (little-endian), its strings as text. A
  // column added later counts only when not 0 (or empty), after its index: a file written
  // before it existed has the checksum it had, and a value lost, changed or moved still shows.
  void record(const std::vector<Member>& members, const void* record) {
    const auto* base = static_cast<const char*>(record);
    for (size_t i = 0; i < members.size(); ++i) {
      const Member& m = members[i];
      const char* field = base + m.offset;
      const char* value = nullptr;
      if (m.kind == Kind::String) std::memcpy(&value, field, sizeof value);
      if (m.added_later) {
        const bool unset = m.kind == Kind::String ? value == nullptr || *value == '\0'
                                                  : std::all_of(field, field + m.size, [](char c) { return c == 0; });
        if (unset) continue;
        number<uint32_t>(static_cast<uint32_t>(i));
      }
      if (m.kind == Kind::String) {
        text(value);
      } else {
        bytes(field, m.size);
      }
    }
  }
  uint32_t value() {
    flush();
    return static_cast<uint32_t>(crc_);
  }

 private:
  static constexpr size_t kFlushBytes = size_t{1} << 16;
  void flush() {
    crc_ = crc32(crc_, reinterpret_cast<const Bytef*>(buffer_.data()), static_cast<uInt>(buffer_.size()));
    buffer_.clear();
  }
  uLong crc_ = crc32(0L, Z_NULL, 0);
  std::string buffer_;
};

// The sweep point as stored: a JSON object whose values are numbers or booleans when the
// point's text is one (so h5py and pandas users get 0.1, not '0.1'), else strings.
std::string point_json(const std::map<std::string, std::string>& point) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : point) out[key] = detail::typed_point_value(value);
  return out.dump();
}

// The sweep record as stored in the root attribute `sweep`: a JSON object {"shard", "shards",
// "digest", "runs"}; `sweep_crc32` is the CRC-32 of that text (variable-length strings live in
// HDF5's global heap, which has no checksum of its own).
std::string sweep_json(const SweepRecord& record) {
  nlohmann::json out = nlohmann::json::object();
  out["shard"] = record.shard;
  out["shards"] = record.shards;
  out["digest"] = record.digest;
  out["runs"] = record.runs;
  return out.dump();
}

uint32_t text_crc32(const std::string& text) {
  Digest digest;
  digest.bytes(text.data(), text.size());
  return digest.value();
}

// ---------------------------------------------------------------------------------------------
// Writing.

// A new one-dimensional dataset of `rows` rows and its file space.
struct NewDataset {
  Handle space, dataset;
};
NewDataset create_dataset(hid_t group, const char* name, hid_t file_type, size_t rows, const std::string& file,
                          const std::string& what) {
  const hsize_t dims[1] = {rows};
  NewDataset out;
  out.space = Handle(check(H5Screate_simple(1, dims, nullptr), file, what.c_str()), H5Sclose);
  // Chunked, each chunk with a Fletcher-32 checksum that HDF5 verifies on every read.
  Handle dcpl(check(H5Pcreate(H5P_DATASET_CREATE), file, what.c_str()), H5Pclose);
  if (rows > 0) {
    // A power of two of rows, so that chunks tile the slices of write_dataset_in_slices and
    // no chunk is written twice.
    const size_t row_bytes = std::max<size_t>(1, H5Tget_size(file_type));
    hsize_t rows_per_chunk = 1;
    while (rows_per_chunk * 2 * row_bytes <= kChunkBytes) rows_per_chunk *= 2;
    const hsize_t chunk[1] = {std::min<hsize_t>(rows_per_chunk, rows)};
    check(H5Pset_chunk(dcpl.get(), 1, chunk), file, what.c_str());
    check(H5Pset_fletcher32(dcpl.get()), file, what.c_str());
  }
  out.dataset = Handle(check(H5Dcreate2(group, name, file_type, out.space.get(), H5P_DEFAULT, dcpl.get(),
                                        H5P_DEFAULT),
                             file, what.c_str()),
                       H5Dclose);
  return out;
}

void write_dataset(hid_t group, const char* name, hid_t file_type, hid_t memory_type, const void* data,
                   size_t rows, const std::string& file) {
  const std::string what = std::string("writing dataset ") + name;
  NewDataset ds = create_dataset(group, name, file_type, rows, file, what);
  if (rows > 0) {
    check(H5Dwrite(ds.dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), file, what.c_str());
  }
}

// Like write_dataset, for `rows` rows that `fill(begin, end, out)` produces a slice at a time
// (out: end - begin records of `Record`), so that a table of millions of rows is never held
// twice in memory.
template <typename Record, typename Fill>
void write_dataset_in_slices(hid_t group, const char* name, hid_t file_type, hid_t memory_type, size_t rows,
                             const std::string& file, Fill fill) {
  constexpr size_t kSlice = size_t{1} << 20;
  const std::string what = std::string("writing dataset ") + name;
  NewDataset ds = create_dataset(group, name, file_type, rows, file, what);
  std::vector<Record> slice;
  for (size_t begin = 0; begin < rows; begin += kSlice) {
    const size_t end = std::min(rows, begin + kSlice);
    slice.clear();
    fill(begin, end, slice);
    const hsize_t start[1] = {begin}, count[1] = {end - begin};
    check(H5Sselect_hyperslab(ds.space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), file,
          what.c_str());
    Handle memory(check(H5Screate_simple(1, count, nullptr), file, what.c_str()), H5Sclose);
    check(H5Dwrite(ds.dataset.get(), memory_type, memory.get(), ds.space.get(), H5P_DEFAULT, slice.data()), file,
          what.c_str());
  }
}

// Creates or overwrites attribute `name` of `object`, a scalar.
void write_attribute(hid_t object, const char* name, hid_t file_type, hid_t memory_type, const void* value,
                     const std::string& file) {
  const std::string what = std::string("writing attribute ") + name;
  const htri_t exists = check(H5Aexists(object, name), file, what.c_str());
  Handle attribute;
  if (exists > 0) {
    attribute = Handle(check(H5Aopen(object, name, H5P_DEFAULT), file, what.c_str()), H5Aclose);
  } else {
    Handle space(check(H5Screate(H5S_SCALAR), file, what.c_str()), H5Sclose);
    attribute = Handle(check(H5Acreate2(object, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), file,
                             what.c_str()),
                       H5Aclose);
  }
  check(H5Awrite(attribute.get(), memory_type, value), file, what.c_str());
}

void write_string_attribute(hid_t object, const char* name, const std::string& value, const std::string& file) {
  Handle type = string_type(file);
  const char* text = value.c_str();
  write_attribute(object, name, type.get(), type.get(), &text, file);
}

void write_int_attribute(hid_t object, const char* name, int32_t value, const std::string& file) {
  write_attribute(object, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &value, file);
}

void write_uint32_attribute(hid_t object, const char* name, uint32_t value, const std::string& file) {
  write_attribute(object, name, H5T_STD_U32LE, H5T_NATIVE_UINT32, &value, file);
}

// Writes everything of a run but its `complete` mark, and returns its checksum.
// The run's attributes, in the order the CRC takes them (writer and reader alike).
void digest_attributes(Digest& digest, const RunResult& run, int32_t replicate, const std::string& point) {
  digest.text(run.name);
  digest.text(run.scenario_text);
  digest.number(run.seed);
  digest.text(run.version);
  digest.number(replicate);
  digest.text(point);
  digest.number(run.noise_multiplier);
  digest.text(run.outcome);
  digest.text(run.outcome_message);
  if (!run.kernel.empty()) digest.text(run.kernel);  // added later: files without it keep their CRC
  // Files of real runs are checksummed as before the mode existed.
  if (run.training_mode != "real") digest.text(run.training_mode);
}

uint32_t write_run(hid_t group, const RunResult& run, const std::string& file) {
  Digest digest;
  const std::string point = point_json(run.point);
  write_string_attribute(group, "name", run.name, file);
  write_int_attribute(group, "complete", 0, file);
  write_string_attribute(group, "scenario", run.scenario_text, file);
  write_attribute(group, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &run.seed, file);
  write_string_attribute(group, "version", run.version, file);
  const int32_t replicate = run.replicate;
  write_int_attribute(group, "replicate", replicate, file);
  write_string_attribute(group, "point", point, file);
  write_attribute(group, "noise_multiplier", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &run.noise_multiplier, file);
  write_string_attribute(group, "outcome", run.outcome, file);
  write_string_attribute(group, "outcome_message", run.outcome_message, file);
  if (!run.kernel.empty()) write_string_attribute(group, "kernel", run.kernel, file);
  write_string_attribute(group, "training_mode", run.training_mode, file);
  digest_attributes(digest, run, replicate, point);

  {
    const std::vector<Member> members = round_members();
    CompoundTypes t = compound(members, sizeof(RoundRow), file);
    write_dataset(group, "rounds", t.file.get(), t.memory.get(), run.rounds.data(), run.rounds.size(), file);
    digest.number<uint64_t>(run.rounds.size());
    for (const RoundRow& r : run.rounds) digest.record(members, &r);
  }
  {
    const std::vector<Member> members = node_members();
    CompoundTypes t = compound(members, sizeof(NodeRecord), file);
    digest.number<uint64_t>(run.nodes.size());
    write_dataset_in_slices<NodeRecord>(
        group, "nodes", t.file.get(), t.memory.get(), run.nodes.size(), file,
        [&run, &members, &digest](size_t begin, size_t end, std::vector<NodeRecord>& out) {
          for (size_t i = begin; i < end; ++i) {
            const NodeRow& n = run.nodes[i];
            out.push_back({n.id, const_cast<char*>(n.profile.c_str()), n.samples, n.classes,
                           n.rounds_participated, n.failures, static_cast<uint8_t>(n.byzantine ? 1 : 0),
                           n.flops_per_s, const_cast<char*>(n.kernel.c_str()), n.wire_bytes_up, n.wire_bytes_down});
            digest.record(members, &out.back());
          }
        });
  }
  write_dataset(group, "final_model", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, run.final_model.data(),
                run.final_model.size(), file);
  digest.number<uint64_t>(run.final_model.size());
  digest.bytes(run.final_model.data(), run.final_model.size() * sizeof(float));
  digest.number<uint64_t>(run.trace.size());
  if (!run.trace.empty()) {
    const std::vector<Member> members = trace_members();
    std::vector<TraceRecord> records;
    records.reserve(run.trace.size());
    for (const TraceRow& e : run.trace) {
      records.push_back({e.time_s, e.node, const_cast<char*>(e.event.c_str()), const_cast<char*>(e.task.c_str()),
                         e.instance, e.bytes});
      digest.record(members, &records.back());
    }
    CompoundTypes t = compound(members, sizeof(TraceRecord), file);
    write_dataset(group, "trace", t.file.get(), t.memory.get(), records.data(), records.size(), file);
  }
  return digest.value();
}

// ---------------------------------------------------------------------------------------------
// Reading. Every check failure names the file and the object.

[[noreturn]] void bad(const std::string& file, const std::string& what) {
  throw DataError("results file " + file + ": " + what + " (not a swarmsim results file, or a damaged one)");
}

bool has_attribute(hid_t object, const char* name, const std::string& file) {
  return check(H5Aexists(object, name), file, "reading attributes") > 0;
}

Handle open_attribute(hid_t object, const char* name, const std::string& where, const std::string& file) {
  if (!has_attribute(object, name, file)) bad(file, where + " has no attribute '" + name + "'");
  Handle a(check(H5Aopen(object, name, H5P_DEFAULT), file, "reading an attribute"), H5Aclose);
  Handle space(check(H5Aget_space(a.get()), file, "reading an attribute"), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.get()) != 1) {
    bad(file, "attribute '" + std::string(name) + "' of " + where + " is not a single value");
  }
  return a;
}

std::string read_string_attribute(hid_t object, const char* name, const std::string& where,
                                  const std::string& file) {
  Handle a = open_attribute(object, name, where, file);
  Handle type(check(H5Aget_type(a.get()), file, "reading an attribute"), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING) {
    bad(file, "attribute '" + std::string(name) + "' of " + where + " is not a string");
  }
  const std::string what = "reading attribute " + std::string(name) + " of " + where;
  if (check(H5Tis_variable_str(type.get()), file, what.c_str()) > 0) {
    Handle memory = string_type(file);
    check(H5Tset_cset(memory.get(), H5Tget_cset(type.get())), file, what.c_str());
    char* text = nullptr;
    check(H5Aread(a.get(), memory.get(), &text), file, what.c_str());
    std::string value = text != nullptr ? text : "";
    H5free_memory(text);
    return value;
  }
  std::string value(H5Tget_size(type.get()), '\0');
  check(H5Aread(a.get(), type.get(), value.data()), file, what.c_str());
  value.resize(std::strlen(value.c_str()));
  return value;
}

template <typename T>
T read_number_attribute(hid_t object, const char* name, H5T_class_t expected, hid_t memory_type,
                        const std::string& where, const std::string& file) {
  Handle a = open_attribute(object, name, where, file);
  Handle type(check(H5Aget_type(a.get()), file, "reading an attribute"), H5Tclose);
  if (H5Tget_class(type.get()) != expected) {
    bad(file, "attribute '" + std::string(name) + "' of " + where + " is not " +
                  (expected == H5T_INTEGER ? "an integer" : "a number"));
  }
  T value{};
  const std::string what = "reading attribute " + std::string(name) + " of " + where;
  check(H5Aread(a.get(), memory_type, &value), file, what.c_str());
  return value;
}

// Opens a 1-D dataset and returns it with its row count, after checking that the rows it
// declares fit in the file (`file_bytes` long): a damaged header must not make the reader
// allocate gigabytes for a file of kilobytes.
std::pair<Handle, size_t> open_table(hid_t group, const char* name, const std::string& where,
                                     const std::string& file, uint64_t file_bytes) {
  const std::string path = where + "/" + name;
  if (check(H5Lexists(group, name, H5P_DEFAULT), file, "reading a run") <= 0) bad(file, "no dataset " + path);
  Handle ds(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) bad(file, path + " is not a dataset");
  Handle space(check(H5Dget_space(ds.get()), file, "reading a dataset"), H5Sclose);
  if (H5Sget_simple_extent_ndims(space.get()) != 1) bad(file, "dataset " + path + " is not 1-D");
  hsize_t rows = 0;
  H5Sget_simple_extent_dims(space.get(), &rows, nullptr);
  Handle type(check(H5Dget_type(ds.get()), file, "reading a dataset"), H5Tclose);
  const size_t row_bytes = std::max<size_t>(1, H5Tget_size(type.get()));
  if (rows > file_bytes / row_bytes) {
    bad(file, "dataset " + path + " declares " + std::to_string(rows) + " rows of " + std::to_string(row_bytes) +
                  " bytes, more than the file's " + std::to_string(file_bytes) + " bytes hold");
  }
  return {std::move(ds), static_cast<size_t>(rows)};
}

// Reads a compound table after checking that it has every member, of the right class; extra
// members (a newer writer) are ignored. Each record is handed to `take` (as a Record whose
// strings HDF5 allocated and frees after the call) and to `digest`. Reads a slice of rows at
// a time, so that a table of millions of rows is never held twice in memory.
template <typename Record, typename Take>
void read_table(hid_t group, const char* name, const std::vector<Member>& members, const std::string& where,
                const std::string& file, uint64_t file_bytes, Digest& digest, Take take) {
  auto [ds, rows] = open_table(group, name, where, file, file_bytes);
  const std::string path = where + "/" + name;
  Handle type(check(H5Dget_type(ds.get()), file, "reading a dataset"), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_COMPOUND) bad(file, "dataset " + path + " is not a table (compound type)");
  // The memory type: native numbers, and strings in the character set the file has (HDF5
  // does not convert between ASCII and UTF-8).
  Handle memory(check(H5Tcreate(H5T_COMPOUND, sizeof(Record)), file, "reading a table"), H5Tclose);
  for (const Member& m : members) {
    const int index = H5Tget_member_index(type.get(), m.name);
    if (index < 0) {
      H5Eclear2(H5E_DEFAULT);
      if (m.added_later) continue;  // a file written before the column: the field stays 0
      bad(file, "table " + path + " has no column '" + m.name + "'");
    }
    Handle member(check(H5Tget_member_type(type.get(), static_cast<unsigned>(index)), file, "reading a table"),
                  H5Tclose);
    const H5T_class_t cls = H5Tget_class(member.get());
    const bool ok = m.kind == Kind::Int      ? cls == H5T_INTEGER
                    : m.kind == Kind::Float ? cls == H5T_FLOAT || cls == H5T_INTEGER
                                             : cls == H5T_STRING && H5Tis_variable_str(member.get()) > 0;
    if (!ok) {
      bad(file, "column '" + std::string(m.name) + "' of " + path + " is not " +
                    (m.kind == Kind::Int ? "an integer" : m.kind == Kind::Float ? "a number" : "a string"));
    }
    if (m.kind == Kind::String) {
      Handle string = string_type(file);
      check(H5Tset_cset(string.get(), H5Tget_cset(member.get())), file, "reading a table");
      check(H5Tinsert(memory.get(), m.name, m.offset, string.get()), file, "reading a table");
    } else {
      check(H5Tinsert(memory.get(), m.name, m.offset, m.native), file, "reading a table");
    }
  }
  digest.number<uint64_t>(rows);
  if (rows == 0) return;
  constexpr size_t kSlice = size_t{1} << 20;
  const std::string what = "reading " + path;
  Handle file_space(check(H5Dget_space(ds.get()), file, what.c_str()), H5Sclose);
  std::vector<Record> records;
  for (size_t begin = 0; begin < rows; begin += kSlice) {
    const size_t count = std::min(rows - begin, kSlice);
    const hsize_t start[1] = {begin}, counts[1] = {count};
    records.assign(count, Record{});
    check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, counts, nullptr), file,
          what.c_str());
    Handle memory_space(check(H5Screate_simple(1, counts, nullptr), file, what.c_str()), H5Sclose);
    struct Reclaim {  // frees the strings HDF5 allocated, even if the read fails or `take` throws
      hid_t memory, space;
      std::vector<Record>& records;
      ~Reclaim() { H5Dvlen_reclaim(memory, space, H5P_DEFAULT, records.data()); }
    } reclaim{memory.get(), memory_space.get(), records};
    check(H5Dread(ds.get(), memory.get(), memory_space.get(), file_space.get(), H5P_DEFAULT, records.data()), file,
          what.c_str());
    for (const Record& r : records) {
      digest.record(members, &r);
      take(r);
    }
  }
}

std::string text(const char* s) { return s != nullptr ? s : ""; }

void check_format(hid_t h5, const std::string& file) {
  if (!has_attribute(h5, "format", file)) bad(file, "the root group has no attribute 'format'");
  const std::string format = read_string_attribute(h5, "format", "the root group", file);
  if (format != kFormat) bad(file, "format is '" + format + "', expected '" + kFormat + "'");
  const auto version = read_number_attribute<int64_t>(h5, "format_version", H5T_INTEGER, H5T_NATIVE_INT64,
                                                      "the root group", file);
  if (version == 1) {
    throw DataError("results file " + file + ": format_version 1, written by swarm 0.1 without checksums: " +
                    "it cannot be verified, so it is not read (h5py still reads it; run again for a verified " +
                    "file, see docs/results.md)");
  }
  if (version != kFormatVersion) {
    throw DataError("results file " + file + ": format_version " + std::to_string(version) +
                    " is not supported (this program reads version " + std::to_string(kFormatVersion) +
                    "; a newer swarm wrote it?)");
  }
}

// The root group's sweep record, verified; nullopt if it has none.
std::optional<SweepRecord> read_sweep(hid_t h5, const std::string& file) {
  if (!has_attribute(h5, "sweep", file)) return std::nullopt;
  const std::string text = read_string_attribute(h5, "sweep", "the root group", file);
  const auto stored =
      read_number_attribute<uint32_t>(h5, "sweep_crc32", H5T_INTEGER, H5T_NATIVE_UINT32, "the root group", file);
  if (stored != text_crc32(text)) {
    throw DataError("results file " + file + ": its sweep record is damaged: it does not match its checksum");
  }
  SweepRecord record;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    record.shard = j.at("shard").get<int>();
    record.shards = j.at("shards").get<int>();
    record.digest = j.at("digest").get<std::string>();
    record.runs = j.at("runs").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    bad(file, std::string("the sweep record is not as written: ") + e.what());
  }
  if (record.shards < 1 || record.shard < 1 || record.shard > record.shards) {
    bad(file, "the sweep record names shard " + shard_label(record.shard, record.shards));
  }
  return record;
}

Handle open_runs(hid_t h5, const std::string& file) {
  if (check(H5Lexists(h5, kRuns, H5P_DEFAULT), file, "opening /runs") <= 0) bad(file, "no group /runs");
  Handle runs(H5Gopen2(h5, kRuns, H5P_DEFAULT), H5Gclose);
  if (!runs.valid()) bad(file, "/runs is not a group");
  return runs;
}

// Link names of /runs, in creation order when the group tracks it (ours does), else by name.
std::vector<std::string> run_links(hid_t runs, const std::string& file) {
  H5G_info_t info;
  check(H5Gget_info(runs, &info), file, "listing /runs");
  H5_index_t index = H5_INDEX_NAME;
  {
    Handle gcpl(check(H5Gget_create_plist(runs), file, "listing /runs"), H5Pclose);
    unsigned flags = 0;
    check(H5Pget_link_creation_order(gcpl.get(), &flags), file, "listing /runs");
    if ((flags & H5P_CRT_ORDER_INDEXED) != 0) index = H5_INDEX_CRT_ORDER;
  }
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t size = check(H5Lget_name_by_idx(runs, ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT),
                               file, "listing /runs");
    std::string name(static_cast<size_t>(size) + 1, '\0');
    check(H5Lget_name_by_idx(runs, ".", index, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT), file,
          "listing /runs");
    name.resize(static_cast<size_t>(size));
    names.push_back(std::move(name));
  }
  return names;
}

Handle open_run_group(hid_t runs, const std::string& link, const std::string& file) {
  Handle group(H5Gopen2(runs, link.c_str(), H5P_DEFAULT), H5Gclose);
  if (!group.valid()) bad(file, "/runs/" + link + " is not a group");
  return group;
}

bool is_complete(hid_t group, const std::string& where, const std::string& file) {
  if (!has_attribute(group, "complete", file)) return false;
  return read_number_attribute<int64_t>(group, "complete", H5T_INTEGER, H5T_NATIVE_INT64, where, file) == 1;
}

std::string run_name(hid_t group, const std::string& link, const std::string& where, const std::string& file) {
  const std::string name = read_string_attribute(group, "name", where, file);
  if (name != link) bad(file, where + " holds a run named '" + name + "'");
  return name;
}

// Reads a complete run and verifies it against its checksum.
RunResult read_run(hid_t group, const std::string& link, const std::string& file, uint64_t file_bytes) {
  const std::string where = "/runs/" + link;
  RunResult run;
  Digest digest;
  run.name = run_name(group, link, where, file);
  run.scenario_text = read_string_attribute(group, "scenario", where, file);
  run.seed = read_number_attribute<uint64_t>(group, "seed", H5T_INTEGER, H5T_NATIVE_UINT64, where, file);
  run.version = read_string_attribute(group, "version", where, file);
  const auto replicate = read_number_attribute<int32_t>(group, "replicate", H5T_INTEGER, H5T_NATIVE_INT32, where, file);
  run.replicate = replicate;
  const std::string point = read_string_attribute(group, "point", where, file);
  try {
    const nlohmann::json parsed = nlohmann::json::parse(point);
    if (!parsed.is_object()) throw nlohmann::json::type_error::create(302, "not an object", nullptr);
    for (const auto& [key, value] : parsed.items()) run.point[key] = detail::point_value_text(value);
  } catch (const nlohmann::json::exception&) {
    bad(file, "attribute 'point' of " + where + " is not a JSON object: " + point);
  }
  // Optional: a run without them is a complete run without noise.
  if (has_attribute(group, "noise_multiplier", file)) {
    run.noise_multiplier =
        read_number_attribute<double>(group, "noise_multiplier", H5T_FLOAT, H5T_NATIVE_DOUBLE, where, file);
  }
  if (has_attribute(group, "outcome", file)) run.outcome = read_string_attribute(group, "outcome", where, file);
  if (has_attribute(group, "outcome_message", file)) {
    run.outcome_message = read_string_attribute(group, "outcome_message", where, file);
  }
  if (has_attribute(group, "kernel", file)) run.kernel = read_string_attribute(group, "kernel", where, file);
  if (has_attribute(group, "training_mode", file)) {
    run.training_mode = read_string_attribute(group, "training_mode", where, file);
  }
  digest_attributes(digest, run, replicate, point);

  read_table<RoundRow>(group, "rounds", round_members(), where, file, file_bytes, digest,
                       [&run](const RoundRow& r) { run.rounds.push_back(r); });
  read_table<NodeRecord>(group, "nodes", node_members(), where, file, file_bytes, digest,
                         [&run](const NodeRecord& r) {
                           run.nodes.push_back({r.id, text(r.profile), r.samples, r.classes,
                                                r.rounds_participated, r.failures, r.byzantine != 0,
                                                r.flops_per_s, text(r.kernel), r.wire_bytes_up, r.wire_bytes_down});
                         });
  {
    auto [ds, rows] = open_table(group, "final_model", where, file, file_bytes);
    Handle type(check(H5Dget_type(ds.get()), file, "reading a dataset"), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_FLOAT) bad(file, "dataset " + where + "/final_model is not floating-point");
    run.final_model.resize(rows);
    if (rows > 0) {
      const std::string what = "reading " + where + "/final_model";
      check(H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, run.final_model.data()), file,
            what.c_str());
    }
    digest.number<uint64_t>(rows);
    digest.bytes(run.final_model.data(), rows * sizeof(float));
  }
  if (check(H5Lexists(group, "trace", H5P_DEFAULT), file, "reading a run") > 0) {
    read_table<TraceRecord>(group, "trace", trace_members(), where, file, file_bytes, digest,
                            [&run](const TraceRecord& r) {
                              run.trace.push_back({r.time_s, r.node, text(r.event), text(r.task), r.instance,
                                                   r.bytes});
                            });
  } else {
    digest.number<uint64_t>(0);
  }
  const auto stored = read_number_attribute<uint32_t>(group, "crc32", H5T_INTEGER, H5T_NATIVE_UINT32, where, file);
  const uint32_t computed = digest.value();
  if (stored != computed) {
    char detail[96];
    std::snprintf(detail, sizeof detail, " (stored crc32 %08x, content %08x)", stored, computed);
    throw DataError("results file " + file + ": run '" + run.name + "' is damaged: its content does not match " +
                    "its checksum" + detail);
  }
  return run;
}

// The version of the HDF5 superblock, read from the file's first bytes: 2 and later carry
// checksums of every piece of metadata; -1 if the file does not start with HDF5's signature.
int superblock_version(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char head[9] = {};
  in.read(head, sizeof head);
  if (in.gcount() != sizeof head || std::memcmp(head, "\x89HDF\r\n\x1a\n", 8) != 0) return -1;
  return static_cast<unsigned char>(head[8]);
}

// HDF5 keeps variable-length strings in "global heap collections", the one structure of the
// file format without a checksum, and HDF5 1.10 trusts their sizes: a damaged one makes it
// read out of bounds (a crash, not an error). So before HDF5 opens a file, every collection in
// it (signature "GCOL", version 1) is checked as HDF5 will parse it: it lies inside the file,
// and its objects (16-byte header, then the object padded to 8 bytes; index 0 is the free
// space) tile it exactly. Their content is covered by each run's CRC-32.
void check_global_heaps(const fs::path& path, uint64_t file_bytes) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  auto damaged = [&](uint64_t at, const std::string& what) {
    throw DataError("results file " + file + ": damaged: the string heap at byte " + std::to_string(at) + " " + what);
  };
  auto le = [](const unsigned char* p, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = v << 8 | p[i];
    return v;
  };
  constexpr size_t kBlock = size_t{1} << 22;
  std::vector<unsigned char> block;
  for (uint64_t base = 0; base < file_bytes; base += kBlock) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kBlock + 3, file_bytes - base));
    block.resize(n);
    in.seekg(static_cast<std::streamoff>(base));
    if (!in.read(reinterpret_cast<char*>(block.data()), static_cast<std::streamsize>(n))) {
      throw DataError("results file " + file + ": cannot read: " + std::strerror(errno));
    }
    for (size_t i = 0; i + 16 <= n && i < kBlock; ++i) {
      if (std::memcmp(&block[i], "GCOL", 4) != 0 || block[i + 4] != 1) continue;
      const uint64_t at = base + i;
      unsigned char head[16];
      in.seekg(static_cast<std::streamoff>(at));
      if (!in.read(reinterpret_cast<char*>(head), sizeof head)) damaged(at, "is cut short");
      const uint64_t size = le(head + 8, 8);
      if (size < 4096 || size > file_bytes - at) damaged(at, "has an impossible size");
      std::vector<unsigned char> heap(static_cast<size_t>(size));
      in.seekg(static_cast<std::streamoff>(at));
      if (!in.read(reinterpret_cast<char*>(heap.data()), static_cast<std::streamsize>(size))) {
        damaged(at, "is cut short");
      }
      std::set<uint64_t> seen;
      size_t p = 16;
      while (p + 16 <= size) {
        const uint64_t index = le(&heap[p], 2), object = le(&heap[p + 8], 8);
        const uint64_t need = index == 0 ? object : 16 + (object + 7) / 8 * 8;
        if (index == 0 && need < 16) damaged(at, "has a free-space entry of impossible size");
        if (need > size - p) damaged(at, "holds an object running past its end");
        if (index != 0 && !seen.insert(index).second) damaged(at, "holds two objects of index " + std::to_string(index));
        p += static_cast<size_t>(need);
      }
      if (p != size && size - p >= 16) damaged(at, "does not end where its objects do");
      // Resume the scan after this collection while it lies in the current block.
      i = std::min<uint64_t>(at + size - base, kBlock) - 1;
    }
    in.clear();
  }
}

// File access: the latest file format, whose metadata all carry checksums.
Handle latest_format_access(const std::string& file) {
  Handle fapl(check(H5Pcreate(H5P_FILE_ACCESS), file, "creating file access properties"), H5Pclose);
  check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST), file,
        "creating file access properties");
  return fapl;
}

// Opens an existing file after checking that it is HDF5.
Handle open_file(const fs::path& path, unsigned flags) {
  const std::string file = path.string();
  std::error_code ec;
  if (!fs::exists(path, ec)) throw DataError("results file " + file + ": no such file");
  if (!fs::is_regular_file(path, ec)) throw DataError("results file " + file + ": not a regular file");
  const int superblock = superblock_version(path);
  if (superblock < 0) {
    if (H5Fis_hdf5(file.c_str()) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      throw DataError("results file " + file + ": not an HDF5 file");
    }
    throw DataError("results file " + file + ": an HDF5 file with a user block, not a swarmsim results file");
  }
  // Older superblocks have no checksums: their metadata cannot be verified, and HDF5 may crash
  // on damaged metadata it cannot check. swarm has written superblock 3 since format_version 2.
  if (superblock < 2) {
    throw DataError("results file " + file + ": HDF5 superblock version " + std::to_string(superblock) +
                    " (no checksums): written by swarm 0.1 (format_version 1) or another program; it cannot be " +
                    "verified, so it is not read (h5py still reads it; see docs/results.md)");
  }
  check_global_heaps(path, fs::file_size(path, ec));
  Handle fapl = latest_format_access(file);
  if (flags == H5F_ACC_RDWR) {
    // The latest format marks a file open for writing in its superblock and refuses to open it
    // again while marked; a writer killed mid-sweep leaves the mark. Reopening to resume clears
    // it, as HDF5's h5clear tool does (its property; HDF5's file lock still stops two live
    // writers). Without the property (another HDF5 version) the open may fail, with HDF5's word.
    hbool_t clear = true;
    if (H5Pset(fapl.get(), "clear_status_flags", &clear) < 0) H5Eclear2(H5E_DEFAULT);
  }
  return Handle(check(H5Fopen(file.c_str(), flags, fapl.get()), file,
                      flags == H5F_ACC_RDONLY ? "cannot open for reading (damaged?)" : "cannot open for writing"),
                H5Fclose);
}

void rename_file(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) throw DataError("results file " + from.string() + ": cannot rename to " + to.string() + ": " + ec.message());
}

}  // namespace

// -----------------------------------------------------------------------------------------------

void check_run_name(const std::string& name) {
  if (name.empty()) throw UsageError("a run needs a name (results group names cannot be empty)");
  if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos || name == "." || name == "..") {
    throw UsageError("run name '" + name + "' cannot be an HDF5 group name ('/' or NUL in it, or '.' or '..')");
  }
}

struct ResultWriter::Impl {
  fs::path path, partial;
  std::string file;   // partial, for messages
  Handle h5;          // declared before runs: closed after it
  Handle runs;
  std::map<std::string, CompletedRun> done;
  std::optional<SweepRecord> sweep;
  bool finished = false;
  bool reopened_final = false;  // resumed from a finished file PATH, moved to PATH.partial
  bool wrote = false;

  void create() {
    Handle fapl = latest_format_access(file);
    h5 = Handle(check(H5Fcreate(file.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()), file, "cannot create"),
                H5Fclose);
    write_string_attribute(h5.get(), "format", kFormat, file);
    write_int_attribute(h5.get(), "format_version", kFormatVersion, file);
    // Runs are listed in the order they were written.
    Handle gcpl(check(H5Pcreate(H5P_GROUP_CREATE), file, "creating /runs"), H5Pclose);
    check(H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), file,
          "creating /runs");
    runs = Handle(check(H5Gcreate2(h5.get(), kRuns, H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), file, "creating /runs"),
                  H5Gclose);
    check(H5Fflush(h5.get(), H5F_SCOPE_GLOBAL), file, "flushing");
  }

  // Reopens an interrupted file: keeps its complete runs (each verified against its
  // checksum), deletes the others.
  void reopen() {
    h5 = open_file(partial, H5F_ACC_RDWR);
    check_format(h5.get(), file);
    runs = open_runs(h5.get(), file);
    sweep = read_sweep(h5.get(), file);
    std::error_code ec;
    const uint64_t file_bytes = fs::file_size(partial, ec);
    std::vector<std::string> incomplete;
    for (const std::string& link : run_links(runs.get(), file)) {
      Handle group = open_run_group(runs.get(), link, file);
      const std::string where = "/runs/" + link;
      if (is_complete(group.get(), where, file)) {
        RunResult run = read_run(group.get(), link, file, file_bytes);
        done[run.name] = CompletedRun{std::move(run.scenario_text), run.seed, run.outcome, run.outcome_message};
      } else {
        incomplete.push_back(link);
      }
    }
    for (const std::string& link : incomplete) {
      check(H5Ldelete(runs.get(), link.c_str(), H5P_DEFAULT), file, "deleting an incomplete run");
    }
    check(H5Fflush(h5.get(), H5F_SCOPE_GLOBAL), file, "flushing");
  }
};

ResultWriter::ResultWriter(fs::path path, bool resume) : impl_(std::make_unique<Impl>()) {
  detail::silence_hdf5();
  Impl& w = *impl_;
  w.path = std::move(path);
  w.partial = w.path;
  w.partial += ".partial";
  w.file = w.partial.string();
  std::error_code ec;
  const bool have_final = fs::exists(w.path, ec);
  const bool have_partial = fs::exists(w.partial, ec);
  if (have_final && have_partial) {
    throw UsageError(w.path.string() + " and " + w.file + " both exist; remove one of them or use another --out");
  }
  if (have_final) {
    if (!resume) throw UsageError(w.path.string() + " exists; use --resume or another --out");
    rename_file(w.path, w.partial);
    w.reopened_final = true;
    try {
      w.reopen();
    } catch (...) {
      w.runs.reset();
      w.h5.reset();
      std::error_code ignored;
      fs::rename(w.partial, w.path, ignored);  // leave the user's file where it was
      throw;
    }
  } else if (have_partial) {
    if (!resume) {
      throw UsageError(w.file + " exists, left by an interrupted run or sweep: continue the sweep with --resume, "
                       "or remove it, or use another --out");
    }
    w.reopen();
  } else {
    w.create();
  }
}

ResultWriter::~ResultWriter() {
  Impl& w = *impl_;
  if (w.finished || !w.reopened_final || w.wrote) return;
  // A finished file reopened and left unchanged (the caller gave up before writing): put it
  // back where it was rather than leave it looking interrupted.
  w.runs.reset();
  if (w.h5.reset()) {
    std::error_code ignored;
    fs::rename(w.partial, w.path, ignored);
  }
}

const fs::path& ResultWriter::path() const { return impl_->path; }

std::set<std::string> ResultWriter::completed() const {
  std::set<std::string> names;
  for (const auto& [name, run] : impl_->done) names.insert(name);
  return names;
}

const std::map<std::string, CompletedRun>& ResultWriter::completed_runs() const { return impl_->done; }

const std::optional<SweepRecord>& ResultWriter::sweep() const { return impl_->sweep; }

void ResultWriter::set_sweep(const SweepRecord& record) {
  Impl& w = *impl_;
  if (w.finished) throw std::logic_error("ResultWriter::set_sweep after finish()");
  if (w.sweep == record) return;
  w.wrote = true;  // a finished file given a new record is no longer the file it was
  const std::string text = sweep_json(record);
  write_string_attribute(w.h5.get(), "sweep", text, w.file);
  write_uint32_attribute(w.h5.get(), "sweep_crc32", text_crc32(text), w.file);
  check(H5Fflush(w.h5.get(), H5F_SCOPE_GLOBAL), w.file, "flushing");
  w.sweep = record;
}

void ResultWriter::write(const RunResult& run) {
  Impl& w = *impl_;
  if (w.finished) throw std::logic_error("ResultWriter::write after finish()");
  check_run_name(run.name);
  const std::string& link = run.name;
  if (w.done.count(run.name) > 0) {
    throw UsageError("results file " + w.file + " already holds a complete run named '" + run.name + "'");
  }
  // A group of that name can only be one an earlier write() of this writer left incomplete.
  if (check(H5Lexists(w.runs.get(), link.c_str(), H5P_DEFAULT), w.file, "writing a run") > 0) {
    check(H5Ldelete(w.runs.get(), link.c_str(), H5P_DEFAULT), w.file, "deleting an incomplete run");
  }
  w.wrote = true;
  const std::string what = "creating group /runs/" + link;
  Handle group(check(H5Gcreate2(w.runs.get(), link.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), w.file,
                     what.c_str()),
               H5Gclose);
  const uint32_t crc = write_run(group.get(), run, w.file);
  write_uint32_attribute(group.get(), "crc32", crc, w.file);
  check(H5Fflush(w.h5.get(), H5F_SCOPE_GLOBAL), w.file, "flushing");
  write_int_attribute(group.get(), "complete", 1, w.file);
  check(H5Fflush(w.h5.get(), H5F_SCOPE_GLOBAL), w.file, "flushing");
  w.done[run.name] = CompletedRun{run.scenario_text, run.seed, run.outcome, run.outcome_message};
}

void ResultWriter::finish() {
  Impl& w = *impl_;
  if (w.finished) throw std::logic_error("ResultWriter::finish called twice");
  check(H5Fflush(w.h5.get(), H5F_SCOPE_GLOBAL), w.file, "flushing");
  w.runs.reset();
  if (!w.h5.reset()) fail(w.file, "closing");
  w.finished = true;
  rename_file(w.partial, w.path);
}

ResultsFile read_results_file(const fs::path& path) {
  detail::silence_hdf5();
  const std::string file = path.string();
  Handle h5 = open_file(path, H5F_ACC_RDONLY);
  std::error_code ec;
  const uint64_t file_bytes = fs::file_size(path, ec);
  check_format(h5.get(), file);
  ResultsFile out;
  out.sweep = read_sweep(h5.get(), file);
  Handle runs = open_runs(h5.get(), file);
  for (const std::string& link : run_links(runs.get(), file)) {
    Handle group = open_run_group(runs.get(), link, file);
    if (!is_complete(group.get(), "/runs/" + link, file)) continue;
    out.runs.push_back(read_run(group.get(), link, file, file_bytes));
  }
  return out;
}

std::vector<RunResult> read_results(const fs::path& path) { return read_results_file(path).runs; }

std::string sweep_digest(const std::vector<SweepRun>& runs) {
  Digest digest;
  digest.number<uint64_t>(runs.size());
  for (const SweepRun& r : runs) {
    digest.text(r.name);
    digest.text(r.scenario_text);
    digest.number(r.seed);
  }
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", digest.value());
  return hex;
}

SweepRecord sweep_record(const std::vector<SweepRun>& runs, int shard, int shards) {
  if (shards < 1 || shard < 1 || shard > shards) throw std::logic_error("sweep_record: shard out of range");
  SweepRecord record;
  for (const SweepRun& r : runs) record.runs.push_back(r.name);
  record.digest = sweep_digest(runs);
  record.shard = shard;
  record.shards = shards;
  return record;
}

std::string shard_label(int shard, int shards) { return std::to_string(shard) + "/" + std::to_string(shards); }

}  // namespace swarm::results
