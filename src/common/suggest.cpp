// The "did you mean" helpers of suggest.h: the optimal string alignment distance on folded names
// and the threshold that decides what is offered.
#include "common/suggest.h"

#include <algorithm>
#include <utility>

namespace cnnscope {
namespace {

// ASCII lower case, '-' and '_' dropped: the differences a name's spelling does not count.
std::string fold(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '-' || c == '_') continue;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

}  // namespace

size_t name_distance(std::string_view a_name, std::string_view b_name) {
  const std::string a = fold(a_name), b = fold(b_name);
  // Three rows of the (|a|+1) x (|b|+1) table: the one two above is needed for a swap.
  std::vector<size_t> before(b.size() + 1), above(b.size() + 1), row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) above[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      row[j] = std::min({above[j] + 1, row[j - 1] + 1, above[j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        row[j] = std::min(row[j], before[j - 2] + 1);
    }
    std::swap(before, above);
    std::swap(above, row);
  }
  return above[b.size()];
}

std::vector<std::string> closest_names(std::string_view name,
                                       const std::vector<std::string>& candidates, size_t count) {
  std::vector<std::pair<size_t, size_t>> ranked;  // (distance, index)
  ranked.reserve(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i)
    ranked.emplace_back(name_distance(name, candidates[i]), i);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < std::min(count, ranked.size()); ++i)
    out.push_back(candidates[ranked[i].second]);
  return out;
}

std::vector<std::string> suggestions(std::string_view name,
                                     const std::vector<std::string>& candidates, size_t count) {
  size_t limit = std::max<size_t>(1, fold(name).size() / 3);
  std::vector<std::string> out;
  for (std::string& c : closest_names(name, candidates, candidates.size())) {
    const size_t distance = name_distance(name, c);
    if (out.size() == count || distance > limit) break;
    if (c == name) continue;
    limit = distance;  // only the nearest: "resnet-18" is resnet18, not also resnet34
    out.push_back(std::move(c));
  }
  return out;
}

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates) {
  const std::vector<std::string> near = suggestions(name, candidates);
  if (near.empty()) return "";
  std::string out = "did you mean ";
  for (size_t i = 0; i < near.size(); ++i) {
    if (i > 0) out += i + 1 == near.size() ? " or " : ", ";
    out += '\'';
    out += near[i];
    out += '\'';
  }
  out += '?';
  return out;
}

std::string suggestion_hint(std::string_view name, const std::vector<std::string>& candidates,
                            std::string_view see) {
  std::string out = did_you_mean(name, candidates);
  if (see.empty()) return out;
  if (!out.empty()) out += ' ';
  out.append(see);
  return out;
}

}  // namespace cnnscope
