// `cnnscope ls CKPT [--all] [--key K] [--json]`: the state_dict's tensors as a table (name, dtype,
// shape, numel, bytes) with totals, or as JSON (docs/DESIGN.md); --all lists every tensor and
// value. Hidden benchmark hook: --time-load (bench/bench_load.py).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "checkpoint/dtype.h"
#include "checkpoint/state_dict.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "common/text.h"

namespace cnnscope::cli {
namespace {

struct LsFlags {
  std::string path;
  std::string key;
  bool all = false;
  bool json = false;
  bool time_load = false;  // hidden, for bench/bench_load.py
};

// Prints (stderr) the in-process time of load_state_dict alone, and of loading plus reading
// every value once (a float64 sum per tensor), as bench/bench_load.py does with torch.load.
void time_load(const LsFlags& o) {
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  const auto t0 = Clock::now();
  StateDict sd = load_state_dict(o.path, {o.key});
  const auto t1 = Clock::now();
  double sum = 0;
  for (const NamedTensor& t : sd.tensors) sum += t.tensor.sum(at::kDouble).item<double>();
  const auto t2 = Clock::now();
  std::fprintf(stderr, "load_ms %.3f load_and_read_ms %.3f tensors %zu sum %.17g\n", ms(t1 - t0),
               ms(t2 - t0), sd.tensors.size(), sum);
}

void run_ls(const LsFlags& o) {
  if (o.time_load) return time_load(o);
  Checkpoint ck = load_checkpoint(o.path, {o.key});
  std::vector<NamedTensor> tensors;
  std::vector<std::pair<std::string, std::string>> values;
  if (o.all) {
    for (const CheckpointEntry& e : ck.entries) {
      if (e.tensor.defined())
        tensors.push_back({e.path, e.tensor});
      else
        values.emplace_back(e.path, e.value);
    }
  } else {
    tensors = ck.state_dict.tensors;
  }

  if (o.json) {
    nlohmann::ordered_json doc;
    doc["file"] = o.path;
    doc["format"] = ck.state_dict.format;
    doc["tensors"] = nlohmann::ordered_json::array();
    for (const NamedTensor& t : tensors)
      doc["tensors"].push_back({{"name", t.name},
                                {"dtype", dtype_name(t.tensor.scalar_type())},
                                {"shape", t.tensor.sizes().vec()},
                                {"numel", t.tensor.numel()}});
    if (o.all) {
      doc["values"] = nlohmann::ordered_json::array();
      for (const auto& [path, value] : values)
        doc["values"].push_back({{"path", path}, {"value", value}});
    }
    std::printf("%s\n", doc.dump(2).c_str());
    return;
  }

  size_t name_w = 4, shape_w = 5;
  for (const NamedTensor& t : tensors) {
    name_w = std::max(name_w, t.name.size());
    shape_w = std::max(shape_w, shape_text(t.tensor.sizes()).size());
  }
  std::string out = fmt::format("{}  ({} format", o.path, ck.state_dict.format);
  if (!ck.state_dict_key.empty()) out += fmt::format(", state_dict under '{}'", ck.state_dict_key);
  if (ck.stripped_module_prefix) out += ", 'module.' prefix stripped";
  out += ")\n";
  out += fmt::format("{:<{}}  {:<8}  {:<{}}  {:>12}  {:>12}\n", "name", name_w, "dtype", "shape",
                     shape_w, "numel", "bytes");
  int64_t total_numel = 0, total_bytes = 0;
  for (const NamedTensor& t : tensors) {
    const int64_t bytes = t.tensor.numel() * static_cast<int64_t>(t.tensor.element_size());
    total_numel += t.tensor.numel();
    total_bytes += bytes;
    out += fmt::format("{:<{}}  {:<8}  {:<{}}  {:>12}  {:>12}\n", t.name, name_w,
                       dtype_name(t.tensor.scalar_type()), shape_text(t.tensor.sizes()), shape_w,
                       t.tensor.numel(), bytes);
  }
  out += fmt::format("{} tensors, {} elements, {} ({} bytes)\n", tensors.size(), total_numel,
                     human_bytes(total_bytes), total_bytes);
  for (const auto& [path, value] : values) out += fmt::format("{}: {}\n", path, value);
  std::fputs(out.c_str(), stdout);
}

const Register reg{{"ls", "List the tensors of a checkpoint (.pth zip or legacy, safetensors)",
                    [](CLI::App& sub) {
                      auto o = std::make_shared<LsFlags>();
                      add_checkpoint(sub, o->path);
                      sub.add_flag("--all", o->all,
                                   "every tensor in the file by its path, and non-tensor values");
                      add_key(sub, o->key);
                      add_json(sub, o->json);
                      add_bench_hook(sub.add_flag("--time-load", o->time_load));
                      return [o] { run_ls(*o); };
                    },
                    10}};

}  // namespace
}  // namespace cnnscope::cli
