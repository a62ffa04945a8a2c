// run.json: what a `train` run folder tells later commands about its checkpoints (architecture,
// input size and channels, preprocessing preset, class names, epochs, the options that made it),
// written by app/train and read beside a checkpoint (RUN/last.pth -> RUN/run.json) when a network
// is built. Leaves out: the weights themselves (the .pth files) and per-epoch metrics
// (metrics.json). Spec: the `train` section of docs/DESIGN.md; JSON (RFC 8259), bounded in size.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace cnnscope {

inline constexpr char kRunInfoName[] = "run.json";

struct RunInfo {
  std::string arch;         // a zoo arch ("resnet18")
  int64_t num_classes = 0;  // == classes.size()
  int64_t input_size = 0;   // H = W trained at (or the network's fixed size); 0: the preset's
  int64_t input_channels = 3;
  std::string preset;                // preset() name of the normalisation ("imagenet", "mnist")
  std::vector<std::string> classes;  // index -> name
  int64_t epochs = 0;                // finished epochs
  nlohmann::json options = nlohmann::json::object();  // the train options, as given
};

// The document app/train writes.
std::string run_info_json(const RunInfo& run);

// Parses a run.json's text: nullopt for a JSON object another tool wrote (no "format":
// "cnnscope-run"), which is left alone; throws Error "FILE: what" (one line) on malformed JSON, a
// wrong type or value out of range in cnnscope's own document, or a file over 1 MiB.
std::optional<RunInfo> parse_run_info(const std::string& text, const std::string& file);

// The run.json in the folder of `checkpoint`, when there is one and cnnscope train wrote it
// (nullopt otherwise); throws Error as parse_run_info when it is there but unreadable or malformed.
std::optional<RunInfo> run_info_beside(const std::string& checkpoint);

}  // namespace cnnscope
