// `cnnscope ls CKPT [--all] [--key K] [--json]`: the state_dict's tensors as a table (name, dtype,
// shape, numel, bytes) with totals and what the file holds (state_dict, whole model, TorchScript,
// tensor, list of tensors), or as JSON (docs/DESIGN.md); --all lists every tensor and value and
// the module tree of a whole model or TorchScript archive. Quantized tensors show their quantized
// dtype and parameters. Hidden benchmark hook: --time-load (bench/bench_load.py).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "checkpoint/dtype.h"
#include "checkpoint/state_dict.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "common/escape.h"
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

// ", whole model __main__.Net": what the state_dict was read from, when not a plain state_dict.
std::string content_text(const Checkpoint& ck) {
  const std::string root = ck.modules.empty() ? "" : " " + ck.modules.front().class_name;
  if (ck.content == "model") return ", whole model" + root;
  if (ck.content == "torchscript") return ", TorchScript module" + root;
  if (ck.content == "program")
    return ck.state_dict.format == "onnx" ? ", ONNX model's initializers"
                                          : ", torch.export program's parameters and buffers";
  if (ck.content == "tensor") return ", a single tensor, named 0";
  if (ck.content == "tensors")
    return fmt::format(", a list of {} tensors, named 0..{}", ck.state_dict.tensors.size(),
                       ck.state_dict.tensors.size() - 1);
  return "";
}

std::string dtype_text(const NamedTensor& t) {
  return t.quantized ? t.quantized->dtype : dtype_name(t.tensor.scalar_type());
}

nlohmann::ordered_json quantization_json(const Quantization& q) {
  nlohmann::ordered_json j = {{"scheme", q.scheme}};
  if (q.scheme == "per_tensor_affine") {
    j["scale"] = q.scale;
    j["zero_point"] = q.zero_point;
  } else {
    j["axis"] = q.axis;
    const at::Tensor scales = q.scales.contiguous(), zero_points = q.zero_points.contiguous();
    j["scales"] =
        std::vector<double>(scales.data_ptr<double>(), scales.data_ptr<double>() + scales.numel());
    j["zero_points"] = std::vector<int64_t>(zero_points.data_ptr<int64_t>(),
                                            zero_points.data_ptr<int64_t>() + zero_points.numel());
  }
  return j;
}

std::string quantization_text(const Quantization& q) {
  if (q.scheme == "per_tensor_affine")
    return fmt::format(
        "{} per_tensor_affine, scale {}, zero_point {} (statistics use the "
        "dequantized values)",
        q.dtype, py_float(q.scale), q.zero_point);
  return fmt::format(
      "{} per_channel_affine along axis {}, {} scales and zero points (statistics "
      "use the dequantized values)",
      q.dtype, q.axis, q.scales.numel());
}

void run_ls(const LsFlags& o) {
  if (o.time_load) return time_load(o);
  Checkpoint ck = load_checkpoint(o.path, {o.key});
  std::vector<NamedTensor> tensors;
  std::vector<std::pair<std::string, std::string>> values;
  if (o.all) {
    for (const CheckpointEntry& e : ck.entries) {
      if (e.tensor.defined())
        tensors.push_back({e.path, e.tensor, e.quantized});
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
    doc["content"] = ck.content;
    doc["tensors"] = nlohmann::ordered_json::array();
    for (const NamedTensor& t : tensors) {
      nlohmann::ordered_json j = {{"name", t.name},
                                  {"dtype", dtype_text(t)},
                                  {"shape", t.tensor.sizes().vec()},
                                  {"numel", t.tensor.numel()}};
      if (t.quantized) j["quantization"] = quantization_json(*t.quantized);
      doc["tensors"].push_back(std::move(j));
    }
    if (o.all) {
      doc["values"] = nlohmann::ordered_json::array();
      for (const auto& [path, value] : values)
        doc["values"].push_back({{"path", path}, {"value", value}});
      doc["modules"] = nlohmann::ordered_json::array();
      for (const ModuleInfo& m : ck.modules) {
        nlohmann::ordered_json hparams = nlohmann::ordered_json::object();
        for (const auto& [k, v] : m.hparams) hparams[k] = v;
        doc["modules"].push_back({{"path", m.path}, {"class", m.class_name}, {"hparams", hparams}});
      }
    }
    std::printf("%s\n", doc.dump(2).c_str());
    return;
  }

  size_t name_w = 4, shape_w = 5;
  std::vector<std::string> names;  // escaped: keys come from the file
  for (const NamedTensor& t : tensors) {
    names.push_back(escape_control(t.name));
    name_w = std::max(name_w, names.back().size());
    shape_w = std::max(shape_w, shape_text(t.tensor.sizes()).size());
  }
  std::string head = fmt::format("{}  ({} format", o.path, ck.state_dict.format);
  if (!ck.state_dict_key.empty()) head += fmt::format(", state_dict under '{}'", ck.state_dict_key);
  if (ck.stripped_module_prefix) head += ", 'module.' prefix stripped";
  std::string out = escape_control(head + content_text(ck) + ")") + "\n";
  out += fmt::format("{:<{}}  {:<8}  {:<{}}  {:>12}  {:>12}\n", "name", name_w, "dtype", "shape",
                     shape_w, "numel", "bytes");
  int64_t total_numel = 0, total_bytes = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const NamedTensor& t = tensors[i];
    const int64_t element = t.quantized ? (t.quantized->dtype == "qint32" ? 4 : 1)
                                        : static_cast<int64_t>(t.tensor.element_size());
    const int64_t bytes = t.tensor.numel() * element;
    total_numel += t.tensor.numel();
    total_bytes += bytes;
    out += fmt::format("{:<{}}  {:<8}  {:<{}}  {:>12}  {:>12}\n", names[i], name_w, dtype_text(t),
                       shape_text(t.tensor.sizes()), shape_w, t.tensor.numel(), bytes);
  }
  out += fmt::format("{} tensors, {} elements, {} ({} bytes)\n", tensors.size(), total_numel,
                     human_bytes(total_bytes), total_bytes);
  for (const NamedTensor& t : tensors)
    if (t.quantized)
      out += fmt::format("{}: {}\n", escape_control(t.name), quantization_text(*t.quantized));
  for (const auto& [path, value] : values)
    out += fmt::format("{}: {}\n", escape_control(path), escape_control(value));
  if (o.all && !ck.modules.empty()) {
    std::vector<std::vector<std::string>> rows = {{"module", "class", "hyper-parameters"}};
    for (const ModuleInfo& m : ck.modules) {
      std::vector<std::string> hp;
      for (const auto& [k, v] : m.hparams) hp.push_back(k + "=" + v);
      rows.push_back({m.path.empty() ? "(root)" : m.path, m.class_name, join(hp, ", ")});
    }
    out += "module tree:\n" + format_table(rows, {true, true, true});
  }
  std::fputs(out.c_str(), stdout);
}

const Register reg{
    {"ls", "list the tensors of a checkpoint (.pth, safetensors, TorchScript, .pt2, .onnx)",
     [](CLI::App& sub) {
       auto o = std::make_shared<LsFlags>();
       add_checkpoint(sub, o->path);
       sub.add_flag("--all", o->all, "every tensor in the file by its path, and non-tensor values");
       add_key(sub, o->key);
       add_json(sub, o->json);
       add_bench_hook(sub.add_flag("--time-load", o->time_load));
       return [o] { run_ls(*o); };
     },
     10}};

}  // namespace
}  // namespace cnnscope::cli
