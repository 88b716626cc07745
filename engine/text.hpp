#pragma once
// Small text helpers for user-facing messages.

#include <string>
#include <string_view>
#include <vector>

namespace swarm {

// Levenshtein distance between two strings.
size_t edit_distance(std::string_view a, std::string_view b);

// " (did you mean 'x'?)" for the candidate closest to `word` if it is close enough (at most a
// third of the word's length in edits, at least 2), else "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// The shortest text that parses back to exactly `value` (std::to_chars): "0.1", "1234.000000017",
// "1e+308", "nan", "inf".
std::string shortest(double value);

// "a, b, c"
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

}  // namespace swarm
