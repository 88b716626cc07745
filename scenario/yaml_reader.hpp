#pragma once
// Reading a YAML document against the schema that the reading code itself states: every
// get()/section()/list() call names a key it knows, and finish() refuses whatever key of the
// map nobody asked for, with a "did you mean" suggestion. Every error is a ScenarioError
// "FILE:LINE:COLUMN: key.path: message", or "--set key.path: message" for values that came
// from the command line.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "swarm/error.hpp"

namespace swarm::scenario {

// Bad scenario input. The CLI prints it and exits with code 2 before any run starts.
class ScenarioError : public Error {
 public:
  using Error::Error;
};

// Where values came from, for messages: the file name, and the origin of values that were
// set from outside the file (by key path: "--set", or the sweep entry's location).
struct Source {
  std::string file;
  std::map<std::string, std::string> origins;
};

class Section {
 public:
  Section(YAML::Node node, std::string path, std::shared_ptr<const Source> source);

  // Scalars. `check` returns an empty string when the value is fine, else what was expected.
  double number(const std::string& key, double fallback,
                const std::function<std::string(double)>& check = {});
  int64_t integer(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  bool boolean(const std::string& key, bool fallback);
  std::string text(const std::string& key, const std::string& fallback,
                   const std::vector<std::string>& choices = {});
  std::vector<int64_t> integers(const std::string& key, const std::vector<int64_t>& fallback,
                                int64_t min, int64_t max);
  std::optional<double> optional_number(const std::string& key,
                                        const std::function<std::string(double)>& check = {});

  // A nested map (empty if absent) and a list of maps (empty if absent).
  Section section(const std::string& key);
  std::vector<Section> list(const std::string& key);
  // The raw node of a key (for free-form maps such as strategy parameters).
  YAML::Node raw(const std::string& key);

  bool has(const std::string& key) const;
  // Keys present in this map, in file order.
  std::vector<std::string> keys() const;
  // Throws for any key of this map that was not asked for.
  void finish() const;
  // "FILE:LINE:COL: path.key" for messages about `key` (or the section itself if empty).
  std::string where(const std::string& key = "") const;
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  const std::string& path() const { return path_; }
  const std::set<std::string>& known() const { return known_; }

 private:
  YAML::Node child(const std::string& key);
  // Where a value set from outside the file (--set, a sweep) came from, if it did.
  std::optional<std::string> origin_of(const std::string& full_path) const;
  std::string key_path(const std::string& key) const;

  YAML::Node node_;
  std::string path_;
  std::shared_ptr<const Source> source_;
  std::set<std::string> known_;
};

// Parses YAML text strictly: syntax errors (a quoted string the end of the file cuts off
// included), a second document, an empty file (a scenario of defaults is `{}`) and a key given
// twice in any map (nested, or in a list of maps) become ScenarioError with the file's line and
// column.
YAML::Node parse_yaml(const std::string& text, const std::string& file);

// Throws ScenarioError "WHERE: path.key: duplicate key" for the first key that appears twice in
// a map anywhere under `node`; `where` turns a key's mark into the message's location.
void check_duplicate_keys(const YAML::Node& node, const std::string& path,
                          const std::function<std::string(const YAML::Mark&)>& where);

// Sets `path` ("a.b.c") to `value` in `root`, creating maps on the way. Throws ScenarioError
// (prefixed with `origin`) when a step of the path is a scalar or a list.
void set_path(YAML::Node root, const std::string& path, const YAML::Node& value, const std::string& origin);

// Parses a --set argument "key.path=value": the value is read as YAML (a number, a string,
// [a, list]...). Throws ScenarioError on a missing '=' or an empty key.
std::pair<std::string, YAML::Node> parse_override(const std::string& arg);

}  // namespace swarm::scenario
