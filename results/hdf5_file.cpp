// ResultWriter and read_results: the HDF5 layout of docs/results.md, with the HDF5 C API.

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

#include "results/hdf5_handle.hpp"
#include "results/results.hpp"

namespace swarm::results {
namespace {

namespace fs = std::filesystem;
using detail::check;
using detail::fail;
using detail::Handle;

constexpr const char* kFormat = "swarmsim-results";
constexpr int32_t kFormatVersion = 1;
constexpr const char* kRuns = "runs";

// ---------------------------------------------------------------------------------------------
// Compound types: one description per table gives the memory and file types for writing, and
// what a reader checks a file's table against.

enum class Kind { Int, Float, String };

struct Member {
  const char* name;
  size_t offset;  // in the in-memory record
  Kind kind;
  hid_t native;  // memory type (unused for strings)
  hid_t file;    // file type, little-endian standard (unused for strings)
};

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
};

struct TraceRecord {
  double time_s;
  uint32_t node;
  char* event;
  char* task;
  uint64_t instance;
  uint64_t bytes;
};

#define SWARM_I32(T, f) Member{#f, offsetof(T, f), Kind::Int, H5T_NATIVE_INT32, H5T_STD_I32LE}
#define SWARM_U32(T, f) Member{#f, offsetof(T, f), Kind::Int, H5T_NATIVE_UINT32, H5T_STD_U32LE}
#define SWARM_I64(T, f) Member{#f, offsetof(T, f), Kind::Int, H5T_NATIVE_INT64, H5T_STD_I64LE}
#define SWARM_U64(T, f) Member{#f, offsetof(T, f), Kind::Int, H5T_NATIVE_UINT64, H5T_STD_U64LE}
#define SWARM_U8(T, f) Member{#f, offsetof(T, f), Kind::Int, H5T_NATIVE_UINT8, H5T_STD_U8LE}
#define SWARM_F64(T, f) Member{#f, offsetof(T, f), Kind::Float, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE}
#define SWARM_STR(T, f) Member{#f, offsetof(T, f), Kind::String, 0, 0}

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
          SWARM_I32(RoundRow, unplaced)};
}

std::vector<Member> node_members() {
  return {SWARM_U32(NodeRecord, id),       SWARM_STR(NodeRecord, profile),
          SWARM_I64(NodeRecord, samples),  SWARM_I32(NodeRecord, classes),
          SWARM_I32(NodeRecord, rounds_participated), SWARM_I32(NodeRecord, failures),
          SWARM_U8(NodeRecord, byzantine)};
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
  out.dataset = Handle(check(H5Dcreate2(group, name, file_type, out.space.get(), H5P_DEFAULT, H5P_DEFAULT,
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

void write_run(hid_t group, const RunResult& run, const std::string& file) {
  write_string_attribute(group, "name", run.name, file);
  write_int_attribute(group, "complete", 0, file);
  write_string_attribute(group, "scenario", run.scenario_text, file);
  write_attribute(group, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &run.seed, file);
  write_string_attribute(group, "version", run.version, file);
  const int32_t replicate = run.replicate;
  write_int_attribute(group, "replicate", replicate, file);
  write_string_attribute(group, "point", nlohmann::json(run.point).dump(), file);
  write_attribute(group, "noise_multiplier", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &run.noise_multiplier, file);

  {
    CompoundTypes t = compound(round_members(), sizeof(RoundRow), file);
    write_dataset(group, "rounds", t.file.get(), t.memory.get(), run.rounds.data(), run.rounds.size(), file);
  }
  {
    CompoundTypes t = compound(node_members(), sizeof(NodeRecord), file);
    write_dataset_in_slices<NodeRecord>(
        group, "nodes", t.file.get(), t.memory.get(), run.nodes.size(), file,
        [&run](size_t begin, size_t end, std::vector<NodeRecord>& out) {
          for (size_t i = begin; i < end; ++i) {
            const NodeRow& n = run.nodes[i];
            out.push_back({n.id, const_cast<char*>(n.profile.c_str()), n.samples, n.classes,
                           n.rounds_participated, n.failures, static_cast<uint8_t>(n.byzantine ? 1 : 0)});
          }
        });
  }
  write_dataset(group, "final_model", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, run.final_model.data(),
                run.final_model.size(), file);
  if (!run.trace.empty()) {
    std::vector<TraceRecord> records;
    records.reserve(run.trace.size());
    for (const TraceRow& e : run.trace) {
      records.push_back({e.time_s, e.node, const_cast<char*>(e.event.c_str()), const_cast<char*>(e.task.c_str()),
                         e.instance, e.bytes});
    }
    CompoundTypes t = compound(trace_members(), sizeof(TraceRecord), file);
    write_dataset(group, "trace", t.file.get(), t.memory.get(), records.data(), records.size(), file);
  }
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

// Opens a 1-D dataset and returns it with its row count.
std::pair<Handle, size_t> open_table(hid_t group, const char* name, const std::string& where,
                                     const std::string& file) {
  const std::string path = where + "/" + name;
  if (check(H5Lexists(group, name, H5P_DEFAULT), file, "reading a run") <= 0) bad(file, "no dataset " + path);
  Handle ds(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) bad(file, path + " is not a dataset");
  Handle space(check(H5Dget_space(ds.get()), file, "reading a dataset"), H5Sclose);
  if (H5Sget_simple_extent_ndims(space.get()) != 1) bad(file, "dataset " + path + " is not 1-D");
  hsize_t rows = 0;
  H5Sget_simple_extent_dims(space.get(), &rows, nullptr);
  return {std::move(ds), static_cast<size_t>(rows)};
}

// Reads a compound table after checking that it has every member, of the right class; extra
// members (a newer writer) are ignored. Each record is handed to `take` (as a Record whose
// strings HDF5 allocated and frees after the call).
template <typename Record, typename Take>
void read_table(hid_t group, const char* name, const std::vector<Member>& members, const std::string& where,
                const std::string& file, Take take) {
  auto [ds, rows] = open_table(group, name, where, file);
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
  if (rows == 0) return;
  std::vector<Record> records(rows);
  const std::string what = "reading " + path;
  check(H5Dread(ds.get(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, records.data()), file, what.c_str());
  struct Reclaim {  // frees the strings HDF5 allocated, even if `take` throws
    hid_t memory;
    std::vector<Record>& records;
    ~Reclaim() {
      const hsize_t dims[1] = {records.size()};
      Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
      if (space.valid()) H5Dvlen_reclaim(memory, space.get(), H5P_DEFAULT, records.data());
    }
  } reclaim{memory.get(), records};
  for (const Record& r : records) take(r);
}

std::string text(const char* s) { return s != nullptr ? s : ""; }

void check_format(hid_t h5, const std::string& file) {
  if (!has_attribute(h5, "format", file)) bad(file, "the root group has no attribute 'format'");
  const std::string format = read_string_attribute(h5, "format", "the root group", file);
  if (format != kFormat) bad(file, "format is '" + format + "', expected '" + kFormat + "'");
  const auto version = read_number_attribute<int64_t>(h5, "format_version", H5T_INTEGER, H5T_NATIVE_INT64,
                                                      "the root group", file);
  if (version < 1 || version > kFormatVersion) {
    throw DataError("results file " + file + ": format_version " + std::to_string(version) +
                    " is not supported (this program reads version " + std::to_string(kFormatVersion) +
                    "; a newer swarm wrote it?)");
  }
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
  return has_attribute(group, "name", file) ? read_string_attribute(group, "name", where, file)
                                            : unescape_run_name(link);
}

RunResult read_run(hid_t group, const std::string& link, const std::string& file) {
  const std::string where = "/runs/" + link;
  RunResult run;
  run.name = run_name(group, link, where, file);
  run.scenario_text = read_string_attribute(group, "scenario", where, file);
  run.seed = read_number_attribute<uint64_t>(group, "seed", H5T_INTEGER, H5T_NATIVE_UINT64, where, file);
  run.version = read_string_attribute(group, "version", where, file);
  run.replicate = static_cast<int>(
      read_number_attribute<int64_t>(group, "replicate", H5T_INTEGER, H5T_NATIVE_INT64, where, file));
  const std::string point = read_string_attribute(group, "point", where, file);
  try {
    run.point = nlohmann::json::parse(point).get<std::map<std::string, std::string>>();
  } catch (const nlohmann::json::exception&) {
    bad(file, "attribute 'point' of " + where + " is not a JSON object of strings: " + point);
  }
  if (has_attribute(group, "noise_multiplier", file)) {
    run.noise_multiplier =
        read_number_attribute<double>(group, "noise_multiplier", H5T_FLOAT, H5T_NATIVE_DOUBLE, where, file);
  }

  read_table<RoundRow>(group, "rounds", round_members(), where, file,
                       [&run](const RoundRow& r) { run.rounds.push_back(r); });

  {
    read_table<NodeRecord>(group, "nodes", node_members(), where, file, [&run](const NodeRecord& r) {
      run.nodes.push_back({r.id, text(r.profile), r.samples, r.classes, r.rounds_participated, r.failures,
                           r.byzantine != 0});
    });
  }

  {
    auto [ds, rows] = open_table(group, "final_model", where, file);
    Handle type(check(H5Dget_type(ds.get()), file, "reading a dataset"), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_FLOAT) bad(file, "dataset " + where + "/final_model is not floating-point");
    run.final_model.resize(rows);
    if (rows > 0) {
      const std::string what = "reading " + where + "/final_model";
      check(H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, run.final_model.data()), file,
            what.c_str());
    }
  }

  if (check(H5Lexists(group, "trace", H5P_DEFAULT), file, "reading a run") > 0) {
    read_table<TraceRecord>(group, "trace", trace_members(), where, file, [&run](const TraceRecord& r) {
      run.trace.push_back({r.time_s, r.node, text(r.event), text(r.task), r.instance, r.bytes});
    });
  }
  return run;
}

// Opens an existing file after checking that it is HDF5.
Handle open_file(const fs::path& path, unsigned flags) {
  const std::string file = path.string();
  std::error_code ec;
  if (!fs::exists(path, ec)) throw DataError("results file " + file + ": no such file");
  if (H5Fis_hdf5(file.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw DataError("results file " + file + ": not an HDF5 file");
  }
  return Handle(check(H5Fopen(file.c_str(), flags, H5P_DEFAULT), file,
                      flags == H5F_ACC_RDONLY ? "cannot open for reading" : "cannot open for writing"),
                H5Fclose);
}

void rename_file(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) throw DataError("results file " + from.string() + ": cannot rename to " + to.string() + ": " + ec.message());
}

}  // namespace

// -----------------------------------------------------------------------------------------------

std::string escape_run_name(const std::string& name) {
  if (name.empty()) throw UsageError("a run needs a name (results group names cannot be empty)");
  if (name == ".") return "%2E";
  std::string out;
  for (const char c : name) {
    switch (c) {
      case '%': out += "%25"; break;
      case '/': out += "%2F"; break;
      case '\0': out += "%00"; break;
      default: out += c;
    }
  }
  return out;
}

std::string unescape_run_name(const std::string& escaped) {
  std::string out;
  for (size_t i = 0; i < escaped.size(); ++i) {
    const std::string code = escaped.substr(i, 3);
    if (code == "%25") out += '%';
    else if (code == "%2F") out += '/';
    else if (code == "%00") out += '\0';
    else if (code == "%2E") out += '.';
    else {
      out += escaped[i];
      continue;
    }
    i += 2;
  }
  return out;
}

struct ResultWriter::Impl {
  fs::path path, partial;
  std::string file;   // partial, for messages
  Handle h5;          // declared before runs: closed after it
  Handle runs;
  std::set<std::string> done;
  bool finished = false;

  void create() {
    h5 = Handle(check(H5Fcreate(file.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT), file, "cannot create"),
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

  // Reopens an interrupted file: keeps its complete runs, deletes the others.
  void reopen() {
    h5 = open_file(partial, H5F_ACC_RDWR);
    check_format(h5.get(), file);
    runs = open_runs(h5.get(), file);
    std::vector<std::string> incomplete;
    for (const std::string& link : run_links(runs.get(), file)) {
      Handle group = open_run_group(runs.get(), link, file);
      const std::string where = "/runs/" + link;
      if (is_complete(group.get(), where, file)) {
        done.insert(run_name(group.get(), link, where, file));
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
    w.reopen();
  } else {
    w.create();
  }
}

ResultWriter::~ResultWriter() = default;

const fs::path& ResultWriter::path() const { return impl_->path; }

std::set<std::string> ResultWriter::completed() const { return impl_->done; }

void ResultWriter::write(const RunResult& run) {
  Impl& w = *impl_;
  if (w.finished) throw std::logic_error("ResultWriter::write after finish()");
  const std::string link = escape_run_name(run.name);
  if (w.done.count(run.name) > 0) {
    throw UsageError("results file " + w.file + " already holds a complete run named '" + run.name + "'");
  }
  // A group of that name can only be one an earlier write() of this writer left incomplete.
  if (check(H5Lexists(w.runs.get(), link.c_str(), H5P_DEFAULT), w.file, "writing a run") > 0) {
    check(H5Ldelete(w.runs.get(), link.c_str(), H5P_DEFAULT), w.file, "deleting an incomplete run");
  }
  const std::string what = "creating group /runs/" + link;
  Handle group(check(H5Gcreate2(w.runs.get(), link.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), w.file,
                     what.c_str()),
               H5Gclose);
  write_run(group.get(), run, w.file);
  check(H5Fflush(w.h5.get(), H5F_SCOPE_GLOBAL), w.file, "flushing");
  write_int_attribute(group.get(), "complete", 1, w.file);
  check(H5Fflush(w.h5.get(), H5F_SCOPE_GLOBAL), w.file, "flushing");
  w.done.insert(run.name);
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

std::vector<RunResult> read_results(const fs::path& path) {
  detail::silence_hdf5();
  const std::string file = path.string();
  Handle h5 = open_file(path, H5F_ACC_RDONLY);
  check_format(h5.get(), file);
  Handle runs = open_runs(h5.get(), file);
  std::vector<RunResult> out;
  for (const std::string& link : run_links(runs.get(), file)) {
    Handle group = open_run_group(runs.get(), link, file);
    if (!is_complete(group.get(), "/runs/" + link, file)) continue;
    out.push_back(read_run(group.get(), link, file));
  }
  return out;
}

}  // namespace swarm::results
