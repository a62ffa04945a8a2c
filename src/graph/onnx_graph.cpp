// Lowers a parsed ONNX model to a Dataflow (onnx_graph.h): the opset and every node's domain and
// op checked against the operator table first, then the nodes put in topological order (an
// iterative depth-first walk that keeps the file's order when it already is one and refuses a
// cycle), values named, kernels made, and each node's module scopes read. Scopes: from the dynamo
// exporter's node metadata_props (field 9 of NodeProto, read as unknown fields by the ONNX 1.12
// classes), or from the legacy exporter's node names, where each component is a module's name
// inside its parent ("layer1", "layer1.0" for a Sequential child, "conv1"), a repeated call
// suffixed "_1" (stripped when the unsuffixed path exists). A module call continues while
// consecutive nodes stay inside it; two calls of one module with nothing between them read as
// one. Leaves out: subgraphs, sequences, functions. Spec: onnx/onnx.proto, onnx/docs/IR.md.
#include "graph/onnx_graph.h"

#include <onnx/onnx_pb.h>

#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "common/error.h"
#include "common/text.h"
#include "graph/interpreter.h"
#include "graph/onnx_ops.h"

namespace cnnscope::graph {
namespace {

constexpr size_t kMaxScopeText = size_t{1} << 16;  // a name_scopes entry's text
constexpr size_t kMaxScopeDepth = 64;

const char* const kNameScopes = "pkg.torch.onnx.name_scopes";
const char* const kClassHierarchy = "pkg.torch.onnx.class_hierarchy";
const char* const kSignature = "pkg.torch.export.ExportedProgram.graph_signature";
constexpr int kNodeMetadataField = 9;    // NodeProto.metadata_props
constexpr int kGraphMetadataField = 16;  // GraphProto.metadata_props

std::string node_label(const onnx::NodeProto& node) {
  const std::string op =
      (node.domain().empty() || node.domain() == "ai.onnx" ? "onnx" : node.domain()) +
      "::" + node.op_type();
  const std::string name = !node.name().empty() ? node.name()
                           : node.output_size() ? node.output(0)
                                                : "?";
  return "op " + op + " (node " + name + ")";
}

std::string last_dotted(const std::string& s) {
  const size_t dot = s.rfind('.');
  return dot == std::string::npos ? s : s.substr(dot + 1);
}

// The strings of a Python list literal of str ("['', 'block1', \"it's\"]"), or nullopt.
std::optional<std::vector<std::string>> python_strings(const std::string& text) {
  if (text.size() > kMaxScopeText) return std::nullopt;
  std::vector<std::string> out;
  size_t i = 0;
  const auto skip = [&] {
    while (i < text.size() && text[i] == ' ') ++i;
  };
  skip();
  if (i >= text.size() || text[i++] != '[') return std::nullopt;
  skip();
  if (i < text.size() && text[i] == ']') return out;
  while (i < text.size()) {
    const char quote = text[i++];
    if (quote != '\'' && quote != '"') return std::nullopt;
    std::string s;
    while (i < text.size() && text[i] != quote) {
      if (text[i] == '\\' && i + 1 < text.size()) ++i;  // the escaped character as itself
      s += text[i++];
    }
    if (i++ >= text.size()) return std::nullopt;
    out.push_back(std::move(s));
    skip();
    if (i >= text.size()) return std::nullopt;
    if (text[i] == ']') return out;
    if (text[i++] != ',') return std::nullopt;
    skip();
  }
  return std::nullopt;
}

// A scope as the file records it; `key` tells calls apart where the file does.
struct Mark {
  std::string key;
  std::string path;
  std::string type;
};

// The dynamo exporter's scopes: name_scopes without the root ('') and the fx node's own name.
std::vector<Mark> marks_from_metadata(const std::vector<std::string>& scopes,
                                      const std::vector<std::string>& classes) {
  std::vector<Mark> marks;
  if (scopes.size() < 2 || !scopes[0].empty() || scopes.size() > kMaxScopeDepth) return marks;
  for (size_t j = 1; j + 1 < scopes.size(); ++j)
    marks.push_back(
        {scopes[j], scopes[j], classes.size() == scopes.size() ? last_dotted(classes[j]) : ""});
  return marks;
}

// "/layer1/layer1.0/conv1/Conv" -> {"layer1", "layer1.0", "conv1"}; {} for other names.
std::vector<std::string> name_components(const std::string& name) {
  std::vector<std::string> parts;
  if (name.empty() || name[0] != '/') return parts;
  size_t begin = 1;
  for (size_t slash = name.find('/', begin); slash != std::string::npos;
       begin = slash + 1, slash = name.find('/', begin)) {
    if (slash == begin || parts.size() >= kMaxScopeDepth) return {};
    parts.push_back(name.substr(begin, slash - begin));
  }
  return parts;  // the last part (the op) dropped
}

// The qualified path of `component` inside `parent`, whose own component was `parent_component`
// (the legacy exporter writes a Sequential's child as "layer1.0" inside "layer1").
std::string qualify(const std::string& parent, const std::string& parent_component,
                    const std::string& component) {
  if (!parent_component.empty() && component.size() > parent_component.size() &&
      component.compare(0, parent_component.size() + 1, parent_component + ".") == 0)
    return parent + component.substr(parent_component.size());
  return parent.empty() ? component : parent + "." + component;
}

// `component` without a repeated call's "_<n>" suffix, or "" when it has none.
std::string unsuffixed(const std::string& component) {
  const size_t underscore = component.rfind('_');
  if (underscore == std::string::npos || underscore == 0 || underscore + 1 == component.size())
    return "";
  for (size_t i = underscore + 1; i < component.size(); ++i)
    if (component[i] < '0' || component[i] > '9') return "";
  return component.substr(0, underscore);
}

// The legacy exporter's scopes of one node name; `seen` holds every path the names spell
// without stripping suffixes.
std::vector<Mark> marks_from_name(const std::vector<std::string>& parts,
                                  const std::set<std::string>& seen) {
  std::vector<Mark> marks;
  std::string parent, parent_component;
  for (const std::string& part : parts) {
    const std::string raw = qualify(parent, parent_component, part);
    std::string component = part;
    std::string path = raw;
    const std::string base = unsuffixed(part);
    if (!base.empty() && seen.count(qualify(parent, parent_component, base))) {
      component = base;
      path = qualify(parent, parent_component, base);
    }
    marks.push_back({raw, path, ""});
    parent = path;
    parent_component = component;
  }
  return marks;
}

// Nodes in an order where each runs after the nodes whose outputs it reads: the file's order when
// it already is one. Throws Refused on a cycle or a value two nodes make.
std::vector<int> topological_order(const onnx::GraphProto& g) {
  const int n = g.node_size();
  std::unordered_map<std::string, int> producer;
  for (int i = 0; i < n; ++i)
    for (const std::string& out : g.node(i).output())
      if (!out.empty() && !producer.emplace(out, i).second)
        throw Refused(node_label(g.node(i)) + " makes '" + out + "', which " +
                      node_label(g.node(producer[out])) + " makes too");
  std::vector<char> state(static_cast<size_t>(n), 0);  // 0 new, 1 on the walk, 2 placed
  std::vector<int> order;
  order.reserve(static_cast<size_t>(n));
  std::vector<std::pair<int, int>> walk;  // (node, next input to follow)
  for (int root = 0; root < n; ++root) {
    if (state[static_cast<size_t>(root)]) continue;
    state[static_cast<size_t>(root)] = 1;
    walk.emplace_back(root, 0);
    while (!walk.empty()) {
      const int node = walk.back().first;
      const onnx::NodeProto& proto = g.node(node);
      if (walk.back().second >= proto.input_size()) {
        state[static_cast<size_t>(node)] = 2;
        order.push_back(node);
        walk.pop_back();
        continue;
      }
      const std::string& input = proto.input(walk.back().second++);
      const auto p = producer.find(input);
      if (input.empty() || p == producer.end()) continue;
      const size_t from = static_cast<size_t>(p->second);
      if (state[from] == 1)
        throw Refused(node_label(proto) + " reads '" + input + "', which " +
                      node_label(g.node(p->second)) + " makes from it: the graph has a cycle");
      if (state[from] == 0) {
        state[from] = 1;
        walk.emplace_back(p->second, 0);
      }
    }
  }
  return order;
}

int64_t default_opset(const onnx::ModelProto& m) {
  std::optional<int64_t> version;
  for (const onnx::OperatorSetIdProto& o : m.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") version = o.version();
  if (!version) throw Refused("the model imports no opset of the default ONNX domain");
  if (*version < kOnnxMinOpset)
    throw Refused("opset " + std::to_string(*version) +
                  " of the default ONNX domain is older than " + std::to_string(kOnnxMinOpset) +
                  ", the first cnnscope runs (export it again " +
                  "with opset_version=17 or later)");
  if (*version > kOnnxMaxOpset)
    throw Refused("opset " + std::to_string(*version) +
                  " of the default ONNX domain is newer than " + std::to_string(kOnnxMaxOpset) +
                  ", the last cnnscope knows");
  return *version;
}

// The parameter names the dynamo exporter's graph signature lists ("p_x: PARAMETER
// target='block1.0.weight'"); empty when the graph has none.
std::set<std::string> signature_parameters(const onnx::GraphProto& g) {
  std::set<std::string> names;
  for (const auto& [key, text] : onnx_metadata(g, kGraphMetadataField)) {
    if (key != kSignature) continue;
    const std::string marker = ": PARAMETER target='";
    for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at)) {
      at += marker.size();
      const size_t end = text.find('\'', at);
      if (end == std::string::npos) break;
      names.insert(text.substr(at, end - at));
    }
  }
  return names;
}

bool is_parameter(const NamedTensor& t, const std::set<std::string>& parameters) {
  if (!parameters.empty()) return parameters.count(t.name) > 0;
  return t.tensor.is_floating_point() && !ends_with(t.name, "running_mean") &&
         !ends_with(t.name, "running_var");
}

// Numbers module calls: a scope continues the previous node's call while every scope around it
// does too; otherwise it is a new call ("act", then "act@1").
class CallCounter {
 public:
  std::vector<Scope> scopes(const std::vector<Mark>& marks) {
    std::vector<Scope> out;
    bool continuing = true;
    for (size_t j = 0; j < marks.size(); ++j) {
      continuing = continuing && j < previous_.size() && previous_[j].key == marks[j].key;
      std::string call;
      if (continuing) {
        call = previous_scopes_[j].call;
      } else {
        const int n = calls_[marks[j].path]++;
        call = n == 0 ? marks[j].path : marks[j].path + "@" + std::to_string(n);
      }
      out.push_back({call, marks[j].path, marks[j].type});
    }
    previous_ = marks;
    previous_scopes_ = out;
    return out;
  }

 private:
  std::map<std::string, int> calls_;
  std::vector<Mark> previous_;
  std::vector<Scope> previous_scopes_;
};

}  // namespace

// A value's declared dims (-1: symbolic or unknown; empty: no shape declared).
std::vector<int64_t> declared_dims(const onnx::ValueInfoProto& value) {
  std::vector<int64_t> dims;
  if (value.type().has_tensor_type() && value.type().tensor_type().has_shape())
    for (const onnx::TensorShapeProto::Dimension& d : value.type().tensor_type().shape().dim())
      dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return dims;
}

Dataflow lower_onnx(const OnnxModel& model) {
  const onnx::ModelProto& m = *model.proto;
  const onnx::GraphProto& g = m.graph();
  const int64_t opset = default_opset(m);
  for (const onnx::NodeProto& node : g.node()) {
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      throw Refused(node_label(node) + " is not an ONNX operator cnnscope runs (domain '" +
                    node.domain() + "')");
    if (!onnx_ops::known(node.op_type()))
      throw Refused(node_label(node) + " is not one of the ONNX operators cnnscope runs");
  }
  const std::vector<int> order = topological_order(g);

  Dataflow flow;
  std::unordered_map<std::string, int> index;
  const auto value = [&](const std::string& name) {
    const auto [it, added] = index.emplace(name, static_cast<int>(flow.values.size()));
    if (added) flow.values.push_back({name, ValueKind::Tensor});
    return it->second;
  };
  const std::set<std::string> parameters = signature_parameters(g);
  std::set<std::string> initializer_names;
  for (NamedTensor& t : onnx_initializers(model)) {
    initializer_names.insert(t.name);
    const bool parameter = is_parameter(t, parameters);
    flow.weights.push_back({t.name, value(t.name), std::move(t.tensor), parameter});
  }
  for (const onnx::ValueInfoProto& input : g.input()) {
    if (initializer_names.count(input.name())) continue;
    if (flow.inputs.empty()) flow.input_shape = declared_dims(input);
    flow.inputs.push_back(value(input.name()));
  }
  if (g.output_size() > 0) flow.output_shape = declared_dims(g.output(0));

  // Scopes: the metadata's where any node has it, else the node names'.
  std::vector<std::vector<Mark>> marks(static_cast<size_t>(g.node_size()));
  bool any_metadata = false;
  for (int i = 0; i < g.node_size(); ++i) {
    std::optional<std::vector<std::string>> scopes, classes;
    for (const auto& [key, text] : onnx_metadata(g.node(i), kNodeMetadataField)) {
      if (key == kNameScopes) scopes = python_strings(text);
      if (key == kClassHierarchy) classes = python_strings(text);
    }
    if (!scopes) continue;
    any_metadata = true;
    marks[static_cast<size_t>(i)] =
        marks_from_metadata(*scopes, classes.value_or(std::vector<std::string>()));
    if (flow.root_type.empty() && classes && !classes->empty() && (*scopes)[0].empty())
      flow.root_type = last_dotted(classes->front());
  }
  if (!any_metadata) {
    std::set<std::string> seen;
    for (const onnx::NodeProto& node : g.node()) {
      std::string parent, parent_component;
      for (const std::string& part : name_components(node.name())) {
        parent = qualify(parent, parent_component, part);
        parent_component = part;
        seen.insert(parent);
      }
    }
    for (int i = 0; i < g.node_size(); ++i)
      marks[static_cast<size_t>(i)] = marks_from_name(name_components(g.node(i).name()), seen);
  }
  if (flow.root_type.empty()) flow.root_type = g.name();

  CallCounter calls;
  for (int i : order) {
    const onnx::NodeProto& proto = g.node(i);
    onnx_ops::Site site{proto, model, opset, node_label(proto), {}, {}};
    Node node;
    node.op = "onnx::" + proto.op_type();
    node.name = proto.name().empty() && proto.output_size() ? proto.output(0) : proto.name();
    for (const std::string& name : proto.input()) {
      site.slots.push_back(name.empty() ? -1 : static_cast<int>(node.inputs.size()));
      if (!name.empty()) node.inputs.push_back(value(name));
    }
    for (const std::string& name : proto.output()) {
      site.outputs.push_back(!name.empty());
      if (!name.empty()) node.outputs.push_back(value(name));
    }
    node.kernel = onnx_ops::make_kernel(site);
    node.scopes = calls.scopes(marks[static_cast<size_t>(i)]);
    flow.nodes.push_back(std::move(node));
  }
  for (const onnx::ValueInfoProto& output : g.output())
    flow.outputs.push_back(value(output.name()));
  return flow;
}

Dataflow load_onnx(const std::string& path) {
  return lower_onnx(read_onnx(path));
}

}  // namespace cnnscope::graph
