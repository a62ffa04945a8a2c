// Flat-graph networks (torch.export programs, ONNX models) as networks: the file lowered to a
// graph::Dataflow by its reader (graph/export_program.h, graph/onnx_graph.h), run by the one
// interpreter (graph/dataflow.h) inside the network's Limits. Taps by module path: a module call
// is the nodes recorded in its scope; its output is the one value made inside the call and read
// after it (or returned), handed to the run's Probe after the call's last node, so taps,
// gradients and hooks work as for zoo networks (a module called twice: each call, the last one
// kept). ONNX graphs also tap any node output by its name. Leaves out: modules that make no node
// (nn.Identity; a Conv2d the ONNX exporter fused into the next BatchNorm) and modules whose call
// leaves more than one value (refused by name when asked for).
#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "checkpoint/pt2.h"
#include "common/error.h"
#include "common/escape.h"
#include "common/mapped_file.h"
#include "common/text.h"
#include "graph/export_program.h"
#include "graph/interpreter.h"
#include "graph/onnx_graph.h"
#include "models/backend.h"
#include "models/network_impl.h"

namespace cnnscope::models::detail {
namespace {

constexpr int64_t kImageNetSize = 224;

// One module of the graph: its path, class, the calls made of it.
struct Module {
  std::string path;
  std::string type;
  std::vector<std::string> calls;  // Scope::call of each call, in order
};

class GraphBackend : public InterpretedBackend {
 public:
  GraphBackend(std::string file, graph::Dataflow flow, graph::Limits limits, bool name_taps)
      : InterpretedBackend(escape_control(flow.root_type)),
        file_(std::move(file)),
        flow_(std::move(flow)),
        limits_(limits) {
    flow_.root_type = escape_control(flow_.root_type);  // a name from the file
    // Parameters take part in autograd as nn.Parameter does (the CAM methods differentiate
    // through a layer's output).
    for (graph::Weight& w : flow_.weights)
      if (w.parameter && w.tensor.is_floating_point())
        w.tensor = w.tensor.detach().requires_grad_(true);
    find_modules();
    if (name_taps)
      for (const graph::Node& node : flow_.nodes) {
        for (int v : node.outputs)
          if (flow_.values[static_cast<size_t>(v)].kind == graph::ValueKind::Tensor)
            names_.emplace(flow_.values[static_cast<size_t>(v)].name, v);
        if (!node.name.empty() && !node.outputs.empty()) names_.emplace(node.name, node.outputs[0]);
      }
  }

  const std::vector<Module>& modules() const { return modules_; }
  const graph::Dataflow& flow() const { return flow_; }
  bool tappable(const std::string& path) const { return tap_at_.count(path) != 0; }

  bool extra_tap(const std::string& name) const override { return names_.count(name) != 0; }

  at::Tensor forward(const at::Tensor& input, const RunOptions& options,
                     Probe& probe) const override {
    for (const std::string& name : options.taps)
      if (!tap_at_.count(name) && !names_.count(name))
        fail("", "layer '" + name + "' of " + flow_.root_type + " leaves no single tensor",
             "tap one of its submodules");
    try {
      return run_graph(input, options, probe);
    } catch (const Error&) {
      throw;  // a tap or hook's own error
    } catch (const graph::OpFailed& e) {
      // A program exported with batch 1 may have fixed it in its shapes (x.view(x.size(0), -1)):
      // a batch runs one image at a time (under autograd only without taps: the taps of single
      // images, put together, would not be the tensors the logits came from).
      const bool batch_one = !flow_.input_shape.empty() && flow_.input_shape[0] == 1;
      if (!batch_one || input.size(0) == 1 || (options.gradients && !options.taps.empty()))
        run_failed(file_, flow_.root_type, input, e);
      return one_at_a_time(input, options, probe);
    } catch (const std::exception& e) {
      run_failed(file_, flow_.root_type, input, e);
    }
  }

  // Each image of `input` alone, the logits and taps put back together along the batch.
  at::Tensor one_at_a_time(const at::Tensor& input, const RunOptions& options, Probe& probe) const {
    std::unordered_map<std::string, size_t> wanted;
    for (size_t i = 0; i < options.taps.size(); ++i) wanted.emplace(options.taps[i], i);
    std::vector<std::vector<at::Tensor>> taps(options.taps.size());  // per tap, per image
    std::vector<at::Tensor> logits;                                  // per image [1, K]
    for (int64_t i = 0; i < input.size(0); ++i) {
      std::vector<at::Tensor> captured(options.taps.size());
      Probe alone(&wanted, &captured, options.gradients, options.hook ? &options.hook : nullptr);
      try {
        logits.push_back(run_graph(input.narrow(0, i, 1), options, alone));
      } catch (const Error&) {
        throw;
      } catch (const std::exception& e) {
        run_failed(file_, flow_.root_type, input.narrow(0, i, 1), e);
      }
      for (size_t t = 0; t < captured.size(); ++t) taps[t].push_back(captured[t]);
    }
    for (size_t t = 0; t < taps.size(); ++t) probe(options.taps[t], at::cat(taps[t]));
    return at::cat(logits);  // [N, K]
  }

  // One run of the graph on `input`, each module output through `probe`; graph errors thrown.
  at::Tensor run_graph(const at::Tensor& input, const RunOptions& options, Probe& probe) const {
    graph::Limits limits = limits_;
    if (options.deadline) limits.deadline = options.deadline;
    // Per node, the values the hook sees there, and their tap names.
    std::vector<std::vector<int>> at_node(flow_.nodes.size());
    std::map<std::pair<size_t, int>, std::vector<std::string>> tap_names;
    const auto add = [&](size_t node, int value, const std::string& name) {
      auto& names = tap_names[{node, value}];
      if (names.empty()) at_node[node].push_back(value);
      names.push_back(name);
    };
    // Every module's output goes through the probe (hooks see them all, as for zoo networks);
    // deeper modules first where calls end at one node.
    for (const auto& [path, points] : tap_at_)
      for (const auto& [node, value] : points) add(node, value, path);
    for (const std::string& name : options.taps)
      if (!tap_at_.count(name)) {
        const int value = names_.at(name);
        add(producer_.at(value), value, name);
      }
    for (auto& [key, names] : tap_names)
      std::stable_sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
        return std::count(a.begin(), a.end(), '.') > std::count(b.begin(), b.end(), '.');
      });
    const graph::ValueHook hook = [&](size_t node, int value, c10::IValue& v) {
      if (!v.isTensor()) return;
      for (const std::string& name : tap_names.at({node, value})) v = probe(name, v.toTensor());
    };
    const std::vector<c10::IValue> out = graph::run(flow_, {input}, limits, at_node, hook);
    if (out.empty() || !out[0].isTensor() || out[0].toTensor().dim() != 2)
      fail("", flow_.root_type + "'s forward returned no [N, classes] tensor",
           "cnnscope runs classifiers: forward(x) -> logits");
    return out[0].toTensor();  // [N, K]
  }

  StateDict state_dict() const override {
    StateDict sd;
    sd.file = file_;
    for (const graph::Weight& w : flow_.weights) sd.tensors.push_back({w.name, w.tensor});
    return sd;
  }

  int64_t num_parameters() const override {
    int64_t total = 0;
    for (const graph::Weight& w : flow_.weights)
      if (w.parameter) total += w.tensor.numel();
    return total;
  }

  std::vector<std::string> default_layers() const override { return first_layers(all_layers()); }

  // Every convolution module (the leaf modules when none; every Conv node's output for a graph
  // without module scopes).
  std::vector<std::string> all_layers() const override {
    std::vector<std::string> convs, leaves;
    for (const Module& m : modules_) {
      if (!tap_at_.count(m.path)) continue;
      if (m.type == "Conv2d" || m.type == "Conv") convs.push_back(m.path);
      if (is_leaf(m.path)) leaves.push_back(m.path);
    }
    if (modules_.empty())
      for (const graph::Node& node : flow_.nodes)
        if (node.op == "onnx::Conv" && !node.outputs.empty())
          convs.push_back(flow_.values[static_cast<size_t>(node.outputs[0])].name);
    return convs.empty() ? leaves : convs;
  }

  bool is_leaf(const std::string& path) const {
    for (const Module& m : modules_)
      if (m.path.size() > path.size() && m.path.compare(0, path.size() + 1, path + ".") == 0)
        return false;
    return true;
  }

 private:
  void find_modules() {
    std::map<std::string, size_t> index;              // path -> modules_
    std::map<std::string, std::vector<size_t>> call;  // call -> its nodes
    std::map<std::string, std::string> call_path;
    for (size_t i = 0; i < flow_.nodes.size(); ++i) {
      for (int v : flow_.nodes[i].outputs) producer_[v] = i;
      for (const graph::Scope& s : flow_.nodes[i].scopes) {
        auto [it, added] = index.emplace(s.path, modules_.size());
        if (added) modules_.push_back({s.path, s.type, {}});
        if (!call.count(s.call)) modules_[it->second].calls.push_back(s.call);
        call[s.call].push_back(i);
        call_path[s.call] = s.path;
      }
    }
    // Who reads each value (node indices), and the graph's outputs.
    std::map<int, std::vector<size_t>> readers;
    for (size_t i = 0; i < flow_.nodes.size(); ++i)
      for (int v : flow_.nodes[i].inputs) readers[v].push_back(i);
    const std::set<int> outputs(flow_.outputs.begin(), flow_.outputs.end());
    for (const auto& [id, nodes] : call) {
      const std::set<size_t> inside(nodes.begin(), nodes.end());
      std::set<int> leaving;
      for (size_t n : nodes)
        for (int v : flow_.nodes[n].outputs) {
          bool read_after = outputs.count(v) != 0;
          for (size_t r : readers[v]) read_after = read_after || !inside.count(r);
          if (read_after) leaving.insert(v);
        }
      if (leaving.size() != 1 ||
          flow_.values[static_cast<size_t>(*leaving.begin())].kind != graph::ValueKind::Tensor) {
        untappable_.insert(call_path[id]);
        continue;
      }
      const size_t last = *inside.rbegin();
      tap_at_[call_path[id]].push_back({last, *leaving.begin()});
    }
    for (const std::string& path : untappable_) tap_at_.erase(path);
  }

  std::string file_;
  graph::Dataflow flow_;
  graph::Limits limits_;
  std::vector<Module> modules_;  // in order of first appearance
  std::map<std::string, std::vector<std::pair<size_t, int>>> tap_at_;  // path -> (node, value)
  std::set<std::string> untappable_;
  std::map<int, size_t> producer_;    // value -> the node that makes it
  std::map<std::string, int> names_;  // ONNX: output and node names -> value
};

graph::Dataflow read_dataflow(const StateDict& sd) {
  if (sd.format == "pt2") return graph::lower_export_program(read_pt2(MappedFile::open(sd.file)));
  return graph::load_onnx(sd.file);
}

// The input a network takes by default: its example shape when the file records one.
std::string default_preset(const graph::Dataflow& flow, int64_t channels) {
  const std::vector<int64_t>& s = flow.input_shape;
  constexpr size_t kImageDims = 4;
  constexpr int64_t kMaxSide = 4096;  // the largest input preprocessing makes
  if (s.size() != kImageDims || s[2] <= 0 || s[3] <= 0 || s[2] > kMaxSide || s[3] > kMaxSide ||
      (channels != 1 && channels != 3) ||
      (channels == 3 && s[2] == kImageNetSize && s[3] == kImageNetSize))
    return channels != 1 ? "imagenet"
                         : "exported-" + std::to_string(channels) + "x" +
                               std::to_string(kImageNetSize) + "x" + std::to_string(kImageNetSize);
  return "exported-" + std::to_string(channels) + "x" + std::to_string(s[2]) + "x" +
         std::to_string(s[3]);
}

}  // namespace

Network graph_network(const StateDict& sd, const graph::Limits& limits) {
  graph::Dataflow flow;
  try {
    flow = read_dataflow(sd);
    graph::check(flow);  // both formats: nothing runs until every value is made before its use
  } catch (const Error&) {
    throw;
  } catch (const graph::Refused& e) {
    fail(sd.file, "refused: " + escape_control(e.what()),
         "cnnscope runs only graphs of tensor operators (no files, printing or custom ops); "
         "docs/DESIGN.md lists them");
  }
  const bool onnx = sd.format == "onnx";
  auto backend = std::make_shared<GraphBackend>(sd.file, std::move(flow), limits, onnx);
  const graph::Dataflow& f = backend->flow();

  ArchInfo info;
  info.family = onnx ? "onnx" : "export";
  info.arch = f.root_type;
  // Channels: the example input's, else the first 4-d weight's (a convolution's in-channels).
  info.input_channels = f.input_shape.size() == 4 && f.input_shape[1] > 0 ? f.input_shape[1] : 3;
  // Classes: the example output's width, else the last 2-d weight's rows (a Linear's).
  for (const graph::Weight& w : f.weights)
    if (w.tensor.dim() == 2) info.num_classes = w.tensor.size(0);
  if (f.output_shape.size() == 2 && f.output_shape[1] > 0) info.num_classes = f.output_shape[1];
  info.default_preset = default_preset(f, info.input_channels);

  std::vector<TapInfo> taps;
  for (const Module& m : backend->modules()) {
    TapInfo tap;
    tap.name = m.path;
    tap.type = m.type;
    tap.repr = m.type;
    tap.depth = static_cast<int>(std::count(m.path.begin(), m.path.end(), '.')) + 1;
    for (const graph::Weight& w : f.weights)
      if (w.parameter && starts_with(w.name, m.path + ".")) tap.params += w.tensor.numel();
    tap.leaf = backend->is_leaf(m.path);
    taps.push_back(std::move(tap));
  }
  info.description = info.arch + (onnx ? " (ONNX), " : " (torch.export), ") +
                     std::to_string(taps.size()) + " modules, " + std::to_string(info.num_classes) +
                     " classes, input " + info.default_preset;
  return Network(
      std::make_shared<Network::Impl>(std::move(info), std::move(taps), std::move(backend)));
}

}  // namespace cnnscope::models::detail
