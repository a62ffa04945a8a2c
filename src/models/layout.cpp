// The rename tables of layout.h: patterns of dotted segments compiled once, matched segment by
// segment, variables bound on one side and written out on the other (with their offsets), both
// ways. Leaves out which layout a file has (registry.cpp) and the taps' listing (zoo_net.cpp).
#include "models/layout.h"

#include <cctype>
#include <map>
#include <mutex>
#include <sstream>

#include "common/error.h"
#include "common/text.h"

namespace cnnscope::models::detail {
namespace {

std::vector<std::string> segments(const std::string& name) {
  std::vector<std::string> out;
  std::stringstream in(name);
  std::string part;
  while (std::getline(in, part, '.')) out.push_back(part);
  if (name.empty() || name.back() == '.') out.emplace_back();  // "fc.weight." is not "fc.weight"
  return out;
}

bool is_number(const std::string& s) {
  if (s.empty() || s.size() > 9) return false;  // 9 digits fit an int
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return s.size() == 1 || s[0] != '0';
}

}  // namespace

// One side of a rule.
struct Names::Pattern {
  struct Segment {
    enum Kind { kLiteral, kNumber, kRest } kind = kLiteral;
    std::string text;  // kLiteral: the segment
    char var = 0;      // kNumber: its variable
    int offset = 0;    // kNumber: written as var + offset
  };
  std::vector<Segment> parts;

  explicit Pattern(const std::string& text) {
    for (const std::string& s : segments(text)) {
      Segment seg;
      if (s == "**") {
        seg.kind = Segment::kRest;
      } else if (s.size() >= 3 && s.front() == '{' && s.back() == '}') {
        seg.kind = Segment::kNumber;
        seg.var = s[1];
        if (s.size() > 3) seg.offset = std::stoi(s.substr(2, s.size() - 3));  // "+1" / "-1"
      } else {
        seg.text = s;
      }
      parts.push_back(std::move(seg));
    }
  }

  // Binds the variables (and the rest) of `name`; false when it does not fit.
  bool match(const std::vector<std::string>& name, std::map<char, int>& vars,
             std::vector<std::string>& rest) const {
    for (size_t i = 0; i < parts.size(); ++i) {
      const Segment& seg = parts[i];
      if (seg.kind == Segment::kRest) {
        if (i >= name.size()) return false;
        rest.assign(name.begin() + static_cast<std::ptrdiff_t>(i), name.end());
        return true;
      }
      if (i >= name.size()) return false;
      if (seg.kind == Segment::kLiteral) {
        if (name[i] != seg.text) return false;
        continue;
      }
      if (!is_number(name[i])) return false;
      const int value = std::stoi(name[i]) - seg.offset;
      if (value < 0) return false;
      auto [it, fresh] = vars.emplace(seg.var, value);
      if (!fresh && it->second != value) return false;
    }
    return name.size() == parts.size();
  }

  std::string write(const std::map<char, int>& vars, const std::vector<std::string>& rest) const {
    std::vector<std::string> out;
    for (const Segment& seg : parts) {
      if (seg.kind == Segment::kLiteral) out.push_back(seg.text);
      if (seg.kind == Segment::kNumber)
        out.push_back(std::to_string(vars.at(seg.var) + seg.offset));
      if (seg.kind == Segment::kRest) out.insert(out.end(), rest.begin(), rest.end());
    }
    return join(out, ".");
  }
};

struct Names::Rule {
  Pattern file, ours;
  Rename::Use use;
  int file_dims;
};

namespace {

enum class Side { kFile, kOurs };

}  // namespace

Names::Names(const std::vector<Rename>& renames) {
  for (const Rename& r : renames)
    rules_.push_back(
        std::make_shared<const Rule>(Rule{Pattern(r.file), Pattern(r.ours), r.use, r.file_dims}));
}

namespace {

// The first rule of `rules` usable for `use` whose `from` side fits `name`, written on the other
// side; nullopt when none fits. `rule_out`: the rule that did.
template <typename RuleT>
std::optional<std::string> translate(const std::vector<std::shared_ptr<const RuleT>>& rules,
                                     const std::string& name, bool keys, Side from,
                                     const RuleT** rule_out = nullptr) {
  const std::vector<std::string> parts = segments(name);
  for (const auto& rule : rules) {
    if (rule->use == (keys ? Rename::kTaps : Rename::kKeys)) continue;
    const auto& in = from == Side::kFile ? rule->file : rule->ours;
    const auto& out = from == Side::kFile ? rule->ours : rule->file;
    std::map<char, int> vars;
    std::vector<std::string> rest;
    if (!in.match(parts, vars, rest)) continue;
    if (rule_out != nullptr) *rule_out = rule.get();
    return out.write(vars, rest);
  }
  return std::nullopt;
}

// A key: whole, else its module's name with the last segment kept.
template <typename RuleT>
std::optional<std::string> translate_key(const std::vector<std::shared_ptr<const RuleT>>& rules,
                                         const std::string& key, Side from,
                                         const RuleT** rule_out = nullptr) {
  if (auto whole = translate(rules, key, true, from, rule_out)) return whole;
  const size_t dot = key.rfind('.');
  if (dot == std::string::npos) return std::nullopt;
  auto module = translate(rules, key.substr(0, dot), true, from, rule_out);
  if (!module) return std::nullopt;
  return *module + key.substr(dot);
}

}  // namespace

std::optional<std::string> Names::key_to_ours(const std::string& file_key) const {
  return translate_key(rules_, file_key, Side::kFile);
}
std::optional<std::string> Names::key_to_file(const std::string& our_key) const {
  return translate_key(rules_, our_key, Side::kOurs);
}
std::optional<std::string> Names::tap_to_file(const std::string& our_name) const {
  return translate(rules_, our_name, false, Side::kOurs);
}
std::optional<std::string> Names::tap_to_ours(const std::string& file_name) const {
  return translate(rules_, file_name, false, Side::kFile);
}

int Names::file_dims(const std::string& our_key) const {
  const Rule* rule = nullptr;
  return translate_key(rules_, our_key, Side::kOurs, &rule) && rule ? rule->file_dims : 0;
}

std::optional<StateDict> Names::to_ours(const StateDict& sd, std::string& unmatched) const {
  StateDict out = sd;
  for (NamedTensor& t : out.tensors) {
    auto name = key_to_ours(t.name);
    if (!name) {
      unmatched = t.name;
      return std::nullopt;
    }
    t.name = *name;
  }
  return out;
}

StateDict Names::to_file(const StateDict& sd) const {
  StateDict out = sd;
  for (NamedTensor& t : out.tensors) {
    const Rule* rule = nullptr;
    auto name = translate_key(rules_, t.name, Side::kOurs, &rule);
    if (!name)
      fail("", "internal: no file name for key '" + t.name + "'", "a layout table misses it");
    t.name = *name;
    if (rule != nullptr && rule->file_dims > 0) t.tensor = with_dims(t.tensor, rule->file_dims);
  }
  out.versions.clear();  // the module versions are of our tree
  return out;
}

const Names* names_of(const Layout& layout) {
  if (layout.renames.empty()) return nullptr;
  static std::mutex lock;  // serve builds networks on several threads
  static std::map<const Layout*, std::unique_ptr<const Names>> compiled;
  const std::lock_guard<std::mutex> hold(lock);
  std::unique_ptr<const Names>& names = compiled[&layout];
  if (!names) names = std::make_unique<const Names>(layout.renames);
  return names.get();
}

at::Tensor with_dims(const at::Tensor& t, int64_t dims) {
  std::vector<int64_t> sizes = t.sizes().vec();
  while (static_cast<int64_t>(sizes.size()) > dims && sizes.back() == 1) sizes.pop_back();
  while (static_cast<int64_t>(sizes.size()) < dims) sizes.push_back(1);
  if (static_cast<int64_t>(sizes.size()) != dims) return t;
  return t.reshape(sizes);
}

}  // namespace cnnscope::models::detail
