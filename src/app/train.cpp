// The `train` job (app/train.h): the seed series' train.py loop (cross-entropy, Adam or SGD,
// validation each epoch, the best checkpoint by validation accuracy) on LibTorch, with the
// optimizer state saved as torch.optim.Optimizer.state_dict() lays it out (torch 2.15: Adam's
// state {i: {"step": float32 scalar, "exp_avg", "exp_avg_sq"}}, SGD's {"momentum_buffer"}; the
// param_groups keys of torch.optim.Adam / SGD defaults). The next batch is prepared in a
// background thread while the current one trains. Leaves out: amsgrad, nesterov, dampening,
// schedules, CUDA.
#include "app/train.h"

#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "checkpoint/pickle.h"
#include "checkpoint/pth.h"
#include "checkpoint/writer.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/mapped_file.h"
#include "export/tensorboard.h"
#include "models/network.h"
#include "render/filter_mosaic.h"
#include "stats/histogram.h"
#include "train/data.h"

namespace cnnscope::app {
namespace {

constexpr double kAdamBeta1 = 0.9, kAdamBeta2 = 0.999, kAdamEps = 1e-8;

std::string epoch_name(int64_t epoch) {
  char name[32];
  std::snprintf(name, sizeof name, "epoch_%03lld.pth", static_cast<long long>(epoch));
  return name;
}

// model.parameters(): the state_dict's tensors that require grad, in its order.
std::vector<at::Tensor> parameters(const models::Network& net) {
  std::vector<at::Tensor> params;
  for (const NamedTensor& t : net.state_dict().tensors)
    if (t.tensor.requires_grad()) params.push_back(t.tensor);
  return params;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainOptions& o,
                                                        const std::vector<at::Tensor>& params) {
  if (o.optimizer == "adam")
    return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(o.lr)
                                                            .betas({kAdamBeta1, kAdamBeta2})
                                                            .eps(kAdamEps)
                                                            .weight_decay(o.weight_decay));
  if (o.optimizer == "sgd")
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay));
  fail("", "unknown --optimizer '" + o.optimizer + "'", "adam or sgd");
}

// optimizer.state_dict() as torch 2.15 writes it.
PyValue optimizer_state(const TrainOptions& o, torch::optim::Optimizer& opt,
                        const std::vector<at::Tensor>& params) {
  PyValue state = PyValue::dict();
  for (size_t i = 0; i < params.size(); ++i) {
    auto it = opt.state().find(params[i].unsafeGetTensorImpl());
    if (it == opt.state().end()) continue;
    PyValue entry = PyValue::dict();
    if (o.optimizer == "adam") {
      auto& s = static_cast<torch::optim::AdamParamState&>(*it->second);
      entry.set("step", PyValue::of(at::scalar_tensor(static_cast<double>(s.step()), at::kFloat)));
      entry.set("exp_avg", PyValue::of(s.exp_avg()));
      entry.set("exp_avg_sq", PyValue::of(s.exp_avg_sq()));
    } else {
      auto& s = static_cast<torch::optim::SGDParamState&>(*it->second);
      if (!s.momentum_buffer().defined()) continue;
      entry.set("momentum_buffer", PyValue::of(s.momentum_buffer()));
    }
    state.set(PyValue::integer(static_cast<int64_t>(i)), std::move(entry));
  }
  PyValue group = PyValue::dict();
  group.set("lr", PyValue::real(o.lr));
  if (o.optimizer == "adam") {
    group.set("betas", PyValue::tuple({PyValue::real(kAdamBeta1), PyValue::real(kAdamBeta2)}));
    group.set("eps", PyValue::real(kAdamEps));
    group.set("weight_decay", PyValue::real(o.weight_decay));
    group.set("amsgrad", PyValue::boolean(false));
    group.set("maximize", PyValue::boolean(false));
    group.set("foreach", PyValue::none());
    group.set("capturable", PyValue::boolean(false));
    group.set("differentiable", PyValue::boolean(false));
    group.set("fused", PyValue::none());
    group.set("decoupled_weight_decay", PyValue::boolean(false));
  } else {
    group.set("momentum", PyValue::real(o.momentum));
    group.set("dampening", PyValue::integer(0));
    group.set("weight_decay", PyValue::real(o.weight_decay));
    group.set("nesterov", PyValue::boolean(false));
    group.set("maximize", PyValue::boolean(false));
    group.set("foreach", PyValue::none());
    group.set("differentiable", PyValue::boolean(false));
    group.set("fused", PyValue::none());
  }
  std::vector<PyValue> ids;
  for (size_t i = 0; i < params.size(); ++i) ids.push_back(PyValue::integer(int64_t(i)));
  group.set("params", PyValue::list(std::move(ids)));
  PyValue out = PyValue::dict();
  out.set("state", std::move(state));
  out.set("param_groups", PyValue::list({std::move(group)}));
  return out;
}

// A training checkpoint read back for --resume.
struct Resumed {
  int64_t epoch = 0;
  double best_val_acc = 0;
};

double number(const pickle::Value* v, const std::string& file, const std::string& key) {
  if (v && v->kind == pickle::Kind::Float) return v->f;
  if (v && (v->kind == pickle::Kind::Int || v->kind == pickle::Kind::Bool))
    return static_cast<double>(v->i);
  fail(file, "'" + key + "' is missing or not a number",
       "--resume takes the last.pth of a cnnscope or PyTorch training run");
}

// Reads epoch, best_val_acc and the optimizer state of `path` into `opt` (the model was loaded
// by the caller).
Resumed resume_optimizer(const std::string& path, const TrainOptions& o,
                         torch::optim::Optimizer& opt, const std::vector<at::Tensor>& params) {
  auto pth = read_zip(MappedFile::open(path));
  const pickle::Value& root = *pth->root;
  if (root.kind != pickle::Kind::Dict)
    fail(path, "not a training checkpoint (a dict with epoch, model_state_dict, ...)");
  Resumed r;
  r.epoch = static_cast<int64_t>(number(pickle::dict_get(root, "epoch"), path, "epoch"));
  r.best_val_acc = number(pickle::dict_get(root, "best_val_acc"), path, "best_val_acc");
  const pickle::Value* os = pickle::dict_get(root, "optimizer_state_dict");
  const pickle::Value* state =
      os && os->kind == pickle::Kind::Dict ? pickle::dict_get(*os, "state") : nullptr;
  if (!state || state->kind != pickle::Kind::Dict) fail(path, "no optimizer_state_dict['state']");
  const auto tensor = [&](const pickle::Value& entry, const std::string& key) {
    const pickle::Value* v = pickle::dict_get(entry, key);
    if (!v || v->kind != pickle::Kind::Tensor)
      fail(path, "optimizer state entry without tensor '" + key + "'",
           "was it saved by another optimizer than --optimizer " + o.optimizer + "?");
    return pth->tensor(*v->tensor).clone();
  };
  for (const auto& [key, entry] : state->entries) {
    if (key->kind != pickle::Kind::Int || key->i < 0 ||
        key->i >= static_cast<int64_t>(params.size()) || entry->kind != pickle::Kind::Dict)
      fail(path,
           "optimizer state for parameter " + pickle::repr(*key) + " of " +
               std::to_string(params.size()),
           "same --arch as the run that wrote it");
    const at::Tensor& p = params[key->i];
    if (o.optimizer == "adam") {
      auto s = std::make_unique<torch::optim::AdamParamState>();
      s->step(tensor(*entry, "step").item<double>());
      s->exp_avg(tensor(*entry, "exp_avg"));
      s->exp_avg_sq(tensor(*entry, "exp_avg_sq"));
      if (!s->exp_avg().sizes().equals(p.sizes()))
        fail(path, "optimizer state of parameter " + std::to_string(key->i) + " is " +
                       "shaped differently from the model's");
      opt.state()[p.unsafeGetTensorImpl()] = std::move(s);
    } else {
      auto s = std::make_unique<torch::optim::SGDParamState>();
      s->momentum_buffer(tensor(*entry, "momentum_buffer"));
      if (!s->momentum_buffer().sizes().equals(p.sizes()))
        fail(path, "optimizer state of parameter " + std::to_string(key->i) + " is " +
                       "shaped differently from the model's");
      opt.state()[p.unsafeGetTensorImpl()] = std::move(s);
    }
  }
  return r;
}

PreprocessOptions eval_transform(const models::Network& net, int64_t input_size) {
  PreprocessOptions p = preset(net.info().default_preset);
  if (input_size > 0) {
    p.resize_short = 0;
    p.resize_height = p.resize_width = input_size;
    p.crop_height = p.crop_width = 0;
  }
  return p;
}

nlohmann::json metrics_json(const std::vector<EpochMetrics>& epochs) {
  nlohmann::json list = nlohmann::json::array();
  for (const EpochMetrics& m : epochs)
    list.push_back({{"epoch", m.epoch},
                    {"train_loss", m.train_loss},
                    {"train_acc", m.train_acc},
                    {"val_loss", m.val_loss},
                    {"val_acc", m.val_acc},
                    {"seconds", m.seconds},
                    {"images_per_second", m.images_per_second},
                    {"skipped_images", m.skipped_images}});
  return {{"epochs", list}};
}

// Earlier epochs of a resumed run, from its metrics.json (none when it is missing).
std::vector<EpochMetrics> read_metrics(const std::string& path, int64_t up_to) {
  std::vector<EpochMetrics> out;
  require_regular_file(path);
  std::ifstream in(path);
  if (!in) return out;
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("epochs") || !j["epochs"].is_array()) return out;
  for (const auto& e : j["epochs"]) {
    EpochMetrics m;
    m.epoch = e.value("epoch", int64_t{0});
    if (m.epoch < 1 || m.epoch > up_to) continue;
    m.train_loss = e.value("train_loss", 0.0);
    m.train_acc = e.value("train_acc", 0.0);
    m.val_loss = e.value("val_loss", 0.0);
    m.val_acc = e.value("val_acc", 0.0);
    m.seconds = e.value("seconds", 0.0);
    m.images_per_second = e.value("images_per_second", 0.0);
    m.skipped_images = e.value("skipped_images", int64_t{0});
    out.push_back(m);
  }
  return out;
}

}  // namespace

TrainResult train(const TrainOptions& o, const StepFn& step,
                  const std::function<void(const EpochMetrics&)>& on_epoch) {
  if (o.device != "cpu")
    fail("", "--device " + o.device + " is not supported by this build", "use --device cpu");
  if (o.batch_size < 1) fail("", "--batch-size must be 1 or more");
  if (o.epochs < 1) fail("", "--epochs must be 1 or more");
  if (o.augment != "seed" && o.augment != "none")
    fail("", "unknown --augment '" + o.augment + "'", "seed or none");
  if (o.optimizer != "adam" && o.optimizer != "sgd")
    fail("", "unknown --optimizer '" + o.optimizer + "'", "adam or sgd");
  if (o.threads > 0) at::set_num_threads(o.threads);
  torch::manual_seed(o.seed);

  const train::Dataset data = train::load_dataset(o.data, {o.val_split, o.seed});
  const auto num_classes = static_cast<int64_t>(data.classes.size());
  if (data.train.size() == 0 || data.val.size() == 0)
    fail(o.data, "no training or no validation images");

  const std::string start = !o.resume.empty() ? o.resume : o.init;
  std::optional<models::Network> built;
  if (!start.empty()) {
    register_input(start);
    built.emplace(models::build_network(load_state_dict(start), {o.arch, std::nullopt}));
  } else {
    built.emplace(models::init_network({o.arch, num_classes, o.seed}));
  }
  models::Network& net = *built;
  if (net.info().num_classes != num_classes)
    fail(start,
         "the network has " + std::to_string(net.info().num_classes) + " classes, the data " +
             std::to_string(num_classes),
         "start from a checkpoint with as many classes, or without --init");
  const std::vector<at::Tensor> params = parameters(net);
  auto opt = make_optimizer(o, params);
  Resumed resumed;
  if (!o.resume.empty()) resumed = resume_optimizer(o.resume, o, *opt, params);

  make_output_dir(o.out);
  TrainResult result;
  result.arch = net.info().arch;
  result.classes = data.classes;
  result.train_images = data.train.size();
  result.val_images = data.val.size();
  result.out = o.out;
  result.best_val_acc = resumed.best_val_acc;
  result.epochs = read_metrics(o.out + "/metrics.json", resumed.epoch);
  nlohmann::json classes = nlohmann::json::object();
  for (int64_t c = 0; c < num_classes; ++c) classes[std::to_string(c)] = data.classes[c];
  write_file_atomic(o.out + "/class_indices.json", classes.dump(4));

  const PreprocessOptions eval = eval_transform(net, o.input_size);
  const int64_t crop = o.input_size > 0
                           ? o.input_size
                           : (eval.crop_height > 0 ? eval.crop_height : eval.resize_height);
  EventWriterOptions event_options;
  event_options.dir = o.out + "/tensorboard";
  EventWriter events(event_options);
  int64_t steps = 0;
  const auto stopping = [&] { return o.stop && o.stop->load(); };

  for (int64_t epoch = resumed.epoch + 1; epoch <= o.epochs; ++epoch) {
    if (o.max_steps > 0 && steps >= o.max_steps) break;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<int64_t> order(data.train.size());
    std::iota(order.begin(), order.end(), 0);
    if (o.shuffle) {
      std::seed_seq seq{o.seed, static_cast<uint64_t>(epoch)};
      std::mt19937_64 rng(seq);
      std::shuffle(order.begin(), order.end(), rng);
    }
    const train::AugmentOptions augment{o.augment == "seed", crop, o.seed, epoch};
    const int64_t batches = (data.train.size() + o.batch_size - 1) / o.batch_size;
    const auto batch_at = [&](int64_t b) {
      const int64_t lo = b * o.batch_size, hi = std::min(lo + o.batch_size, data.train.size());
      return std::vector<int64_t>(order.begin() + lo, order.begin() + hi);
    };
    EpochMetrics m;
    m.epoch = epoch;
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    net.module().train();
    std::future<train::Batch> next = std::async(std::launch::async, [&, idx = batch_at(0)] {
      return train::make_batch(data.train, idx, eval, augment);
    });
    for (int64_t b = 0; b < batches; ++b) {
      train::Batch batch = next.get();
      if (b + 1 < batches)
        next = std::async(std::launch::async, [&, idx = batch_at(b + 1)] {
          return train::make_batch(data.train, idx, eval, augment);
        });
      if (stopping()) break;
      for (const std::string& s : batch.skipped) {
        ++m.skipped_images;
        if (o.warn) o.warn("skipped unreadable image " + s);
      }
      if (!batch.inputs.defined()) continue;
      models::RunOptions run;
      run.gradients = true;
      const at::Tensor logits = net.run(batch.inputs, run).logits;  // [B, classes]
      const at::Tensor loss = at::cross_entropy_loss(logits, batch.labels);
      opt->zero_grad();
      loss.backward();
      opt->step();
      const int64_t n = batch.labels.size(0);
      loss_sum += loss.item<double>() * static_cast<double>(n);
      correct += logits.detach().argmax(1).eq(batch.labels).sum().item<int64_t>();
      seen += n;
      ++steps;
      if (step)
        step(batches, "epoch " + std::to_string(epoch) + " loss " +
                          std::to_string(loss_sum / static_cast<double>(seen)));
      if (o.max_steps > 0 && steps >= o.max_steps) break;
    }
    if (next.valid()) next.wait();
    if (stopping()) {
      result.stopped = true;
      break;
    }
    m.train_loss = seen ? loss_sum / static_cast<double>(seen) : 0;
    m.train_acc = seen ? static_cast<double>(correct) / static_cast<double>(seen) : 0;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    m.images_per_second = m.seconds > 0 ? static_cast<double>(seen) / m.seconds : 0;

    // Validation: the model's preset, eval mode, no autograd.
    net.module().eval();
    double val_loss = 0;
    int64_t val_correct = 0, val_seen = 0;
    std::vector<int64_t> val_order(data.val.size());
    std::iota(val_order.begin(), val_order.end(), 0);
    for (int64_t lo = 0; lo < data.val.size() && !stopping(); lo += o.batch_size) {
      const int64_t hi = std::min(lo + o.batch_size, data.val.size());
      const train::Batch batch =
          train::make_batch(data.val, {val_order.begin() + lo, val_order.begin() + hi}, eval, {});
      m.skipped_images += static_cast<int64_t>(batch.skipped.size());
      for (const std::string& s : batch.skipped)
        if (o.warn) o.warn("skipped unreadable image " + s);
      if (!batch.inputs.defined()) continue;
      const at::Tensor logits = net.run(batch.inputs).logits;  // [B, classes]
      val_loss += at::cross_entropy_loss(logits, batch.labels).item<double>() *
                  static_cast<double>(batch.labels.size(0));
      val_correct += logits.argmax(1).eq(batch.labels).sum().item<int64_t>();
      val_seen += batch.labels.size(0);
    }
    if (stopping()) {
      result.stopped = true;
      break;
    }
    m.val_loss = val_seen ? val_loss / static_cast<double>(val_seen) : 0;
    m.val_acc = val_seen ? static_cast<double>(val_correct) / static_cast<double>(val_seen) : 0;

    // Outputs of the finished epoch, each written whole.
    const StateDict sd = net.state_dict();
    save_pth(sd, o.out + "/" + epoch_name(epoch));
    if (m.val_acc > result.best_val_acc || epoch == 1) {
      result.best_val_acc = std::max(result.best_val_acc, m.val_acc);
      save_pth(sd, o.out + "/best.pth");
    }
    PyValue last = PyValue::dict();
    last.set("epoch", PyValue::integer(epoch));
    last.set("model_state_dict", PyValue::of(std::make_shared<const StateDict>(sd)));
    last.set("optimizer_state_dict", optimizer_state(o, *opt, params));
    last.set("best_val_acc", PyValue::real(result.best_val_acc));
    save_pth(last, o.out + "/last.pth");
    result.epochs.push_back(m);
    write_file_atomic(o.out + "/metrics.json", metrics_json(result.epochs).dump(2) + "\n");

    events.add_scalar("loss/train", static_cast<float>(m.train_loss), epoch);
    events.add_scalar("loss/val", static_cast<float>(m.val_loss), epoch);
    events.add_scalar("accuracy/train", static_cast<float>(m.train_acc), epoch);
    events.add_scalar("accuracy/val", static_cast<float>(m.val_acc), epoch);
    events.add_scalar("lr", static_cast<float>(o.lr), epoch);
    for (const NamedTensor& t : sd.tensors) {  // a histogram of every weight tensor
      if (!at::isFloatingType(t.tensor.scalar_type()) || t.tensor.numel() == 0 ||
          !at::isfinite(t.tensor).all().item<bool>())
        continue;
      const Histogram h = cnnscope::histogram(t.tensor.detach());
      events.add_histogram(
          "weights/" + t.name,
          histogram_summary(t.tensor.detach(), h.edges, {h.counts.begin(), h.counts.end()}), epoch);
    }
    if (const NamedTensor* w = first_conv_weight(sd)) {
      FilterMosaicOptions mosaic;
      mosaic.title = "first-layer filters, epoch " + std::to_string(epoch);
      events.add_image("filters/first_layer", filter_mosaic(w->tensor, mosaic, FigureFormat::kPng),
                       epoch);
    }
    if (on_epoch) on_epoch(m);
  }
  events.close();
  return result;
}

}  // namespace cnnscope::app
