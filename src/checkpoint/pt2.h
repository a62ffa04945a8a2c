// torch.export.save archives (.pt2, the PT2 archive of PyTorch 2.6 and later): the exported
// program's JSON, its weights and tensor constants as raw records described by JSON configs.
// Read without executing anything: the sample-input pickle is never opened, and a weight or
// constant stored as a pickle (a tensor subclass, a custom object) is refused. The graph itself
// is lowered by graph/export_program.h. Spec: torch/export/pt2_archive/_package.py (layout,
// payload configs), torch/_export/serde/schema.py (TensorMeta, ScalarType).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "checkpoint/pth.h"
#include "checkpoint/state_dict.h"

namespace cnnscope {

struct Pt2File {
  std::string path;
  nlohmann::json program;              // models/model.json: the serialized ExportedProgram
  std::vector<NamedTensor> weights;    // parameters and buffers by state_dict name
  std::vector<bool> parameter;         // per weight: a parameter (else a buffer)
  std::vector<NamedTensor> constants;  // lifted tensor constants by their names
};

// Whether a zip archive is a PT2 archive (an `archive_format` record reading "pt2").
bool is_pt2(const std::shared_ptr<const MappedFile>& file);

// Reads the archive's one model ("model", or the only one): its version checked, the JSON
// nesting bounded, every tensor's extent checked against its record.
Pt2File read_pt2(const std::shared_ptr<const MappedFile>& file);

// export's ScalarType enum code (schema.py: FLOAT = 7) as ATen's; Error naming `path` when none.
at::ScalarType export_scalar_type(const std::string& path, int64_t code);

// Parses JSON text from `path`'s record `what` with its nesting bounded (128 levels).
nlohmann::json parse_json_bounded(const std::string& path, const std::string& what,
                                  const std::string& text);

}  // namespace cnnscope
