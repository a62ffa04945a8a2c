// "Did you mean" for names a user typed (subcommands, flags, presets, archs, layers, methods,
// keys): an edit distance that forgives what typos usually are, and the candidates close enough to
// offer. Leaves out Unicode-aware comparison (names are compared byte by byte, ASCII letters
// without case). Spec: the optimal string alignment distance (Damerau–Levenshtein with adjacent
// transpositions, no substring edited twice).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cnnscope {

// Insertions, deletions, substitutions and swaps of two neighbours, each costing 1, between the
// names with ASCII case folded and '-' and '_' left out ("Top-K" and "topk" are 0 apart).
size_t name_distance(std::string_view a, std::string_view b);

// Up to `count` candidates nearest to `name`, nearest first; ties keep the candidates' order.
std::vector<std::string> closest_names(std::string_view name,
                                       const std::vector<std::string>& candidates, size_t count);

// The nearest of closest_names() when near enough to be what was meant: at most a third of the
// name's length apart (at least 1); all those equally near, up to `count`; never `name` itself.
std::vector<std::string> suggestions(std::string_view name,
                                     const std::vector<std::string>& candidates, size_t count = 3);

// "did you mean 'features'?" / "did you mean 'layer1', 'layer2' or 'layer3'?"; "" when nothing
// is near enough.
std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates);

// A hint for an unknown name: did_you_mean() followed by `see` (where the whole list is), either
// may be empty ("did you mean 'resnet18'? see cnnscope summary --list-archs").
std::string suggestion_hint(std::string_view name, const std::vector<std::string>& candidates,
                            std::string_view see);

}  // namespace cnnscope
