#include "scenario/yaml_reader.hpp"

#include <cmath>
#include <sstream>

#include <yaml.h>

#include "engine/text.hpp"

namespace swarm::scenario {
namespace {

std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) return "a list";
  return "a map";
}

// An integer, also written as a whole number in exponent notation (1e8); `fail` on anything
// else (it throws).
int64_t as_integer(const YAML::Node& n, const std::function<void()>& fail) {
  try {
    return n.as<int64_t>();
  } catch (const YAML::Exception&) {
  }
  double d = 0;
  try {
    d = n.as<double>();
  } catch (const YAML::Exception&) {
    fail();
  }
  // 2^63 is exactly representable; every whole double below it fits.
  if (!(std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9223372036854775808.0)) fail();
  return static_cast<int64_t>(d);
}

}  // namespace

Section::Section(YAML::Node node, std::string path, std::shared_ptr<const Source> source)
    : node_(std::move(node)), path_(std::move(path)), source_(std::move(source)) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
    fail("", "expected a map of keys, got " + describe(node_));
  }
}

std::string Section::key_path(const std::string& key) const {
  if (key.empty()) return path_;
  return path_.empty() ? key : path_ + "." + key;
}

std::optional<std::string> Section::origin_of(const std::string& full_path) const {
  // Up the path: "a.b[2].c", "a.b[2]", "a.b", "a".
  for (std::string p = full_path; !p.empty();) {
    if (auto it = source_->origins.find(p); it != source_->origins.end()) return it->second;
    if (p.back() == ']' && p.rfind('[') != std::string::npos) {
      p.erase(p.rfind('['));
    } else if (p.find('.') != std::string::npos) {
      p.erase(p.rfind('.'));
    } else {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::string Section::where(const std::string& key) const {
  const std::string full = key_path(key);
  // A value set from outside the file: name its origin.
  if (std::optional<std::string> origin = origin_of(full)) return *origin + ": " + full;
  const YAML::Node& map = node_;
  YAML::Node n = map;
  if (!key.empty() && map.IsMap() && map[key]) n = map[key];
  YAML::Mark mark = n.Mark();
  std::ostringstream s;
  s << source_->file;
  if (mark.line >= 0) s << ':' << mark.line + 1 << ':' << mark.column + 1;
  if (!full.empty()) s << ": " << full;
  return s.str();
}

void Section::fail(const std::string& key, const std::string& message) const {
  throw ScenarioError(where(key) + ": " + message);
}

YAML::Node Section::child(const std::string& key) {
  known_.insert(key);
  if (!node_.IsDefined() || node_.IsNull()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node& map = node_;  // const: looking a key up must not add it
  YAML::Node n = map[key];
  if (!n) return YAML::Node(YAML::NodeType::Undefined);  // absent (an invalid node throws on use)
  return n;
}

bool Section::has(const std::string& key) const {
  const YAML::Node& map = node_;
  return map.IsMap() && map[key] && !map[key].IsNull();
}

std::vector<std::string> Section::keys() const {
  std::vector<std::string> out;
  if (!node_.IsMap()) return out;
  for (const auto& kv : node_) out.push_back(kv.first.Scalar());
  return out;
}

double Section::number(const std::string& key, double fallback,
                       const std::function<std::string(double)>& check) {
  YAML::Node n = child(key);
  double v = fallback;
  if (n && !n.IsNull()) {
    if (!n.IsScalar()) fail(key, "expected a number, got " + describe(n));
    try {
      v = n.as<double>();
    } catch (const YAML::Exception&) {
      fail(key, "expected a number, got " + describe(n));
    }
    if (!std::isfinite(v)) fail(key, "expected a finite number, got " + describe(n));
  }
  if (check) {
    if (std::string why = check(v); !why.empty()) {
      std::ostringstream s;
      s << "expected " << why << ", got " << v;
      fail(key, s.str());
    }
  }
  return v;
}

std::optional<double> Section::optional_number(const std::string& key,
                                               const std::function<std::string(double)>& check) {
  if (!has(key)) {
    known_.insert(key);
    return std::nullopt;
  }
  return number(key, 0, check);
}

int64_t Section::integer(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  YAML::Node n = child(key);
  int64_t v = fallback;
  if (n && !n.IsNull()) {
    if (!n.IsScalar()) fail(key, "expected an integer, got " + describe(n));
    v = as_integer(n, [&] { fail(key, "expected an integer, got " + describe(n)); });
  }
  if (v < min || v > max) {
    fail(key, "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                  "], got " + std::to_string(v));
  }
  return v;
}

bool Section::boolean(const std::string& key, bool fallback) {
  YAML::Node n = child(key);
  if (!n || n.IsNull()) return fallback;
  try {
    return n.as<bool>();
  } catch (const YAML::Exception&) {
    fail(key, "expected true or false, got " + describe(n));
  }
}

std::string Section::text(const std::string& key, const std::string& fallback,
                          const std::vector<std::string>& choices) {
  YAML::Node n = child(key);
  std::string v = fallback;
  if (n && !n.IsNull()) {
    if (!n.IsScalar()) fail(key, "expected a string, got " + describe(n));
    v = n.Scalar();
  }
  if (!choices.empty() && std::find(choices.begin(), choices.end(), v) == choices.end()) {
    fail(key, "unknown value '" + v + "'" + did_you_mean(v, choices) + "; expected one of: " + join(choices));
  }
  return v;
}

std::vector<int64_t> Section::integers(const std::string& key, const std::vector<int64_t>& fallback,
                                       int64_t min, int64_t max) {
  YAML::Node n = child(key);
  if (!n || n.IsNull()) return fallback;
  if (!n.IsSequence()) fail(key, "expected a list of integers, got " + describe(n));
  std::vector<int64_t> out;
  for (const YAML::Node& item : n) {
    const int64_t v = as_integer(item, [&] { fail(key, "expected a list of integers, got " + describe(item) + " in it"); });
    if (v < min || v > max) {
      fail(key, "expected integers in [" + std::to_string(min) + ", " + std::to_string(max) +
                    "], got " + std::to_string(v));
    }
    out.push_back(v);
  }
  return out;
}

Section Section::section(const std::string& key) {
  return Section(child(key), key_path(key), source_);
}

std::vector<Section> Section::list(const std::string& key) {
  YAML::Node n = child(key);
  std::vector<Section> out;
  if (!n || n.IsNull()) return out;
  if (!n.IsSequence()) fail(key, "expected a list, got " + describe(n));
  for (size_t i = 0; i < n.size(); ++i) {
    out.emplace_back(n[i], key_path(key) + "[" + std::to_string(i) + "]", source_);
  }
  return out;
}

YAML::Node Section::raw(const std::string& key) { return child(key); }

void Section::finish() const {
  if (!node_.IsMap()) return;
  std::vector<std::string> known(known_.begin(), known_.end());
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (!known_.count(key)) {
      std::ostringstream s;
      s << source_->file;
      YAML::Mark mark = kv.first.Mark();
      std::string at = origin_of(key_path(key)).value_or("");
      if (at.empty()) {
        if (mark.line >= 0) s << ':' << mark.line + 1 << ':' << mark.column + 1;
        at = s.str();
      }
      throw ScenarioError(at + ": unknown key '" + key_path(key) + "'" + did_you_mean(key, known) +
                          (known.empty() ? "" : "; known keys here: " + join(known)));
    }
  }
}

namespace {

std::string at(const std::string& file, int line, int column) {
  return file + ':' + std::to_string(line + 1) + ':' + std::to_string(column + 1);
}

// A strict syntax pass with libyaml before yaml-cpp builds the tree: yaml-cpp accepts a quoted
// string that the end of the file cuts off (it ends the string there), and reads only the
// first of several documents. libyaml refuses the first and reports every document.
void check_syntax(const std::string& text, const std::string& file) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) throw ScenarioError(file + ": cannot start the YAML parser");
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  std::string error;
  for (int documents = 0; error.empty();) {
    yaml_event_t event;
    if (!yaml_parser_parse(&parser, &event)) {
      std::ostringstream s;
      s << at(file, static_cast<int>(parser.problem_mark.line), static_cast<int>(parser.problem_mark.column))
        << ": malformed YAML: " << (parser.problem ? parser.problem : "syntax error");
      if (parser.context) {
        s << " " << parser.context << " that starts at " << parser.context_mark.line + 1 << ':'
          << parser.context_mark.column + 1;
      }
      error = s.str();
      break;
    }
    const bool end = event.type == YAML_STREAM_END_EVENT;
    if (event.type == YAML_DOCUMENT_START_EVENT && ++documents == 2) {
      error = at(file, static_cast<int>(event.start_mark.line), static_cast<int>(event.start_mark.column)) +
              ": a second YAML document ('---'): a scenario file holds one document; split the "
              "scenarios into files, or use a sweep";
    }
    yaml_event_delete(&event);
    if (end) break;
  }
  yaml_parser_delete(&parser);
  if (!error.empty()) throw ScenarioError(error);
}

}  // namespace

void check_duplicate_keys(const YAML::Node& node, const std::string& path,
                          const std::function<std::string(const YAML::Mark&)>& where) {
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      check_duplicate_keys(node[i], path + "[" + std::to_string(i) + "]", where);
    }
  } else if (node.IsMap()) {
    std::map<std::string, YAML::Mark> seen;
    for (const auto& kv : node) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first);
      const std::string full = path.empty() ? key : path + "." + key;
      auto [it, fresh] = seen.emplace(key, kv.first.Mark());
      if (!fresh) {
        std::string first = it->second.line >= 0
                                ? " (first at line " + std::to_string(it->second.line + 1) + ", column " +
                                      std::to_string(it->second.column + 1) + ")"
                                : "";
        throw ScenarioError(where(kv.first.Mark()) + ": " + full + ": duplicate key '" + key + "'" + first +
                            "; give each key once");
      }
      check_duplicate_keys(kv.second, full, where);
    }
  }
}

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  check_syntax(text, file);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ScenarioError(at(file, e.mark.line, e.mark.column) + ": malformed YAML: " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) {
    throw ScenarioError(file + ":1:1: the scenario is empty; write {} for a scenario with every key at its default");
  }
  if (!root.IsMap()) throw ScenarioError(file + ":1:1: a scenario must be a map of keys");
  check_duplicate_keys(root, "", [&file](const YAML::Mark& m) { return at(file, m.line, m.column); });
  return root;
}

void set_path(YAML::Node root, const std::string& path, const YAML::Node& value, const std::string& origin) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string p; std::getline(ss, p, '.');) {
    if (p.empty()) throw ScenarioError(origin + ": '" + path + "' is not a key path (a.b.c)");
    parts.push_back(p);
  }
  if (parts.empty()) throw ScenarioError(origin + ": empty key path");
  YAML::Node cur = root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = cur[parts[i]];
    if (!next || next.IsNull()) {
      cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = cur[parts[i]];
    } else if (!next.IsMap()) {
      throw ScenarioError(origin + ": cannot set '" + path + "': '" + parts[i] + "' is not a map");
    }
    cur.reset(next);  // rebind: Node::operator= would copy `next` into the current node
  }
  cur[parts.back()] = YAML::Clone(value);
}

std::pair<std::string, YAML::Node> parse_override(const std::string& arg) {
  const auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ScenarioError("--set " + arg + ": expected KEY.PATH=VALUE");
  }
  const std::string key = arg.substr(0, eq), text = arg.substr(eq + 1);
  try {
    YAML::Node v = YAML::Load(text);
    if (!v.IsDefined() || v.IsNull()) v = YAML::Node(text);
    check_duplicate_keys(v, key, [&key](const YAML::Mark&) { return "--set " + key; });
    return {key, v};
  } catch (const YAML::Exception& e) {
    throw ScenarioError("--set " + key + ": value '" + text + "' is not valid YAML: " + e.msg);
  }
}

}  // namespace swarm::scenario
