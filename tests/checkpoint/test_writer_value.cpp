// save_pth(PyValue): a training checkpoint (epoch, model and Adam/SGD optimizer state in
// PyTorch's layout, floats, None, tuples) is read back by cnnscope's restricted unpickler with
// every value in place, and by the oracle's torch.load(weights_only=True), whose
// Module.load_state_dict and torch.optim.Adam/SGD.load_state_dict accept it and continue.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "checkpoint/pth.h"
#include "checkpoint/writer.h"
#include "common/mapped_file.h"
#include "testing.h"

namespace cnnscope {
namespace {

// nn.Linear(2, 2) with known weights, and a one-step Adam state for it.
PyValue checkpoint(bool adam) {
  auto sd = std::make_shared<StateDict>();
  sd->tensors.push_back({"weight", at::arange(4, at::kFloat).reshape({2, 2}) / 4});  // [2, 2]
  sd->tensors.push_back({"bias", at::tensor({0.5f, -0.5f})});                        // [2]
  sd->versions.push_back({"", 1});
  PyValue state = PyValue::dict();
  for (int64_t i = 0; i < 2; ++i) {
    const at::Tensor& p = sd->tensors[i].tensor;
    PyValue s = PyValue::dict();
    if (adam) {
      s.set("step", PyValue::of(at::scalar_tensor(1.0, at::kFloat)));
      s.set("exp_avg", PyValue::of(at::full_like(p, 0.1)));
      s.set("exp_avg_sq", PyValue::of(at::full_like(p, 0.001)));
    } else {
      s.set("momentum_buffer", PyValue::of(at::full_like(p, 2.0)));
    }
    state.set(PyValue::integer(i), std::move(s));
  }
  PyValue group = PyValue::dict();
  if (adam) {
    group.set("lr", PyValue::real(1e-3))
        .set("betas", PyValue::tuple({PyValue::real(0.9), PyValue::real(0.999)}))
        .set("eps", PyValue::real(1e-8))
        .set("weight_decay", PyValue::real(0))
        .set("amsgrad", PyValue::boolean(false));
  } else {
    group.set("lr", PyValue::real(0.1))
        .set("momentum", PyValue::real(0.9))
        .set("dampening", PyValue::real(0))
        .set("weight_decay", PyValue::real(1e-4))
        .set("nesterov", PyValue::boolean(false));
  }
  group.set("maximize", PyValue::boolean(false))
      .set("foreach", PyValue::none())
      .set("differentiable", PyValue::boolean(false))
      .set("fused", PyValue::none());
  if (adam)
    group.set("capturable", PyValue::boolean(false))
        .set("decoupled_weight_decay", PyValue::boolean(false));
  group.set("params", PyValue::list({PyValue::integer(0), PyValue::integer(1)}));
  PyValue optimizer = PyValue::dict();
  optimizer.set("state", std::move(state)).set("param_groups", PyValue::list({std::move(group)}));
  PyValue ck = PyValue::dict();
  ck.set("epoch", PyValue::integer(3))
      .set("model_state_dict", PyValue::of(std::shared_ptr<const StateDict>(sd)))
      .set("optimizer_state_dict", std::move(optimizer))
      .set("best_val_acc", PyValue::real(0.8125))
      .set("note", PyValue::str("héllo"))
      .set("big", PyValue::integer(int64_t{1} << 40))
      .set("empty", PyValue::list({}));
  return ck;
}

TEST(WriterValue, ReadBackByTheRestrictedUnpickler) {
  const std::string path = ::testing::TempDir() + "/last_adam.pth";
  save_pth(checkpoint(true), path);
  auto pth = read_zip(MappedFile::open(path));
  const pickle::Value& root = *pth->root;
  ASSERT_EQ(root.kind, pickle::Kind::Dict);
  EXPECT_EQ(pickle::dict_get(root, "epoch")->i, 3);
  EXPECT_EQ(pickle::dict_get(root, "best_val_acc")->f, 0.8125);
  EXPECT_EQ(pickle::dict_get(root, "note")->s, "héllo");
  EXPECT_EQ(pickle::dict_get(root, "big")->i, int64_t{1} << 40);
  EXPECT_EQ(pickle::dict_get(root, "empty")->kind, pickle::Kind::List);
  const pickle::Value* model = pickle::dict_get(root, "model_state_dict");
  ASSERT_NE(model, nullptr);
  const pickle::Value* weight = pickle::dict_get(*model, "weight");
  ASSERT_NE(weight, nullptr);
  ASSERT_EQ(weight->kind, pickle::Kind::Tensor);
  EXPECT_TRUE(
      at::equal(pth->tensor(*weight->tensor), at::arange(4, at::kFloat).reshape({2, 2}) / 4));
  const pickle::Value* opt = pickle::dict_get(root, "optimizer_state_dict");
  const pickle::Value* group = pickle::dict_get(*opt, "param_groups")->items.at(0);
  const pickle::Value* betas = pickle::dict_get(*group, "betas");
  ASSERT_EQ(betas->kind, pickle::Kind::Tuple);
  EXPECT_EQ(betas->items.at(1)->f, 0.999);
  EXPECT_EQ(pickle::dict_get(*group, "foreach")->kind, pickle::Kind::None);
  EXPECT_EQ(pickle::dict_get(*group, "amsgrad")->kind, pickle::Kind::Bool);
  const pickle::Value* state = pickle::dict_get(*opt, "state");
  ASSERT_EQ(state->entries.size(), 2u);
  EXPECT_EQ(state->entries[1].first->kind, pickle::Kind::Int);
  const pickle::Value* step = pickle::dict_get(*state->entries[0].second, "step");
  EXPECT_EQ(pth->tensor(*step->tensor).dim(), 0);
}

// The oracle: torch.load(weights_only=True), the model and optimizer accept the state, and one
// more step from it equals the step from the same state built in Python.
TEST(WriterValue, TorchLoadsItAndTheOptimizerContinues) {
  // ctest hands GoogleTest binaries only CNNSCOPE_FIXTURES (CMake 3.25 drops the rest of the
  // list): default to the oracle venv of this source tree, as cmake/Tests.cmake does
  const std::string python = testing::env_or(
      "PYTHON", (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
                 "build/oracle-venv/bin/python")
                    .string());
  ASSERT_TRUE(std::filesystem::exists(python)) << python << ": run scripts/install-deps.sh";
  for (const bool adam : {true, false}) {
    const std::string path =
        ::testing::TempDir() + (adam ? "/last_adam_py.pth" : "/last_sgd_py.pth");
    save_pth(checkpoint(adam), path);
    const std::string script = ::testing::TempDir() + "/check_last.py";
    std::ofstream(script) << R"PY(
import sys, torch
path, adam = sys.argv[1], sys.argv[2] == "1"
ck = torch.load(path, weights_only=True)
assert ck["epoch"] == 3 and ck["best_val_acc"] == 0.8125 and ck["note"] == "h\u00e9llo", ck
assert ck["big"] == 1 << 40 and ck["empty"] == []
assert type(ck["model_state_dict"]).__name__ == "OrderedDict"
assert ck["model_state_dict"]._metadata[""]["version"] == 1

def build(state):
    m = torch.nn.Linear(2, 2)
    m.load_state_dict(ck["model_state_dict"])
    o = (torch.optim.Adam(m.parameters(), lr=1e-3) if adam else
         torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4))
    o.load_state_dict(state)
    return m, o

def step(m, o):
    o.zero_grad()
    m(torch.ones(1, 2)).sum().backward()
    o.step()
    return [p.detach().clone() for p in m.parameters()]

m, o = build(ck["optimizer_state_dict"])
ref_m = torch.nn.Linear(2, 2)
ref_m.load_state_dict(ck["model_state_dict"])
ref_o = (torch.optim.Adam(ref_m.parameters(), lr=1e-3) if adam else
         torch.optim.SGD(ref_m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4))
ref = ref_o.state_dict()
for i, p in enumerate(ref_m.parameters()):
    if adam:
        ref["state"][i] = {"step": torch.tensor(1.0), "exp_avg": torch.full_like(p, 0.1),
                           "exp_avg_sq": torch.full_like(p, 0.001)}
    else:
        ref["state"][i] = {"momentum_buffer": torch.full_like(p, 2.0)}
ref_o.load_state_dict(ref)
assert sorted(o.state_dict()["param_groups"][0]) == sorted(ref_o.state_dict()["param_groups"][0])
for a, b in zip(step(m, o), step(ref_m, ref_o)):
    assert torch.equal(a, b), (a, b)
if adam:
    assert o.state_dict()["state"][0]["step"].item() == 2.0
print("ok")
)PY";
    const std::string cmd = python + " " + script + " " + path + " " + (adam ? "1" : "0");
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
}

}  // namespace
}  // namespace cnnscope
