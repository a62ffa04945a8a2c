// The `train` job (app/train.h): the seed series' train.py loop (cross-entropy, Adam or SGD,
// validation each epoch, the best checkpoint by validation accuracy) on LibTorch. Each step is a
// function of its own: checking the options, building or resuming the network, one epoch of
// training, validation, the epoch's outputs. The next batch is prepared in a background thread
// while the current one trains. Leaves out: the optimizer's state layout (app/train_optimizer),
// the run folder's names and metrics file (app/run_folder), schedules, CUDA.
#include "app/train.h"

#include <torch/optim/optimizer.h>

#include <chrono>
#include <future>
#include <numeric>
#include <optional>
#include <random>
#include <utility>

#include "app/run_folder.h"
#include "app/train_optimizer.h"
#include "checkpoint/run_info.h"
#include "checkpoint/writer.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "dataset/data.h"
#include "export/tensorboard.h"
#include "models/network.h"
#include "render/filter_mosaic.h"
#include "stats/histogram.h"

namespace cnnscope::app {
namespace {

void check_options(const TrainOptions& o) {
  if (o.device != "cpu")
    fail("", "device '" + o.device + "' is not supported by this build", "", {{"device", "cpu"}});
  if (o.batch_size < 1) fail("", "the batch size must be 1 or more");
  if (o.epochs < 1) fail("", "the number of epochs must be 1 or more");
  if (o.augment != "seed" && o.augment != "none")
    fail("", "unknown augmentation '" + o.augment + "'", "seed or none");
  if (o.optimizer != "adam" && o.optimizer != "sgd")
    fail("", "unknown optimizer '" + o.optimizer + "'", "adam or sgd");
}

// The network to train: the checkpoint to resume or start from, else the family's initialization.
models::Network start_network(const TrainOptions& o, int64_t num_classes) {
  const std::string start = !o.resume.empty() ? o.resume : o.init;
  if (start.empty()) return models::init_network({o.arch, num_classes, o.seed});
  register_input(start);
  models::Network net = models::build_network(load_state_dict(start), {o.arch, std::nullopt});
  if (net.info().num_classes != num_classes)
    fail(start,
         "the network has " + std::to_string(net.info().num_classes) + " classes, the data " +
             std::to_string(num_classes),
         "start from a checkpoint with as many classes, or from a fresh initialization");
  return net;
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

// Everything one epoch needs.
struct Session {
  const TrainOptions& o;
  const dataset::Dataset& data;
  models::Network& net;
  const std::vector<at::Tensor>& params;  // model.parameters()
  torch::optim::Optimizer& opt;
  PreprocessOptions eval;  // the validation transform (the model's preset or --input-size)
  int64_t crop = 0;        // side of the training crops
  int64_t steps = 0;       // optimizer steps so far
  bool stopping() const { return o.stop && o.stop->load(); }
  bool out_of_steps() const { return o.max_steps > 0 && steps >= o.max_steps; }
};

// The training order of `epoch`: seeded per epoch, or as the data set lists it.
std::vector<int64_t> epoch_order(const TrainOptions& o, int64_t size, int64_t epoch) {
  std::vector<int64_t> order(size);
  std::iota(order.begin(), order.end(), 0);
  if (o.shuffle) {
    std::seed_seq seq{o.seed, static_cast<uint64_t>(epoch)};
    std::mt19937_64 rng(seq);
    std::shuffle(order.begin(), order.end(), rng);
  }
  return order;
}

void skip_unreadable(const Session& s, const dataset::Batch& batch, EpochMetrics& m) {
  m.skipped_images += static_cast<int64_t>(batch.skipped.size());
  if (s.o.warn)
    for (const std::string& path : batch.skipped) s.o.warn("skipped unreadable image " + path);
}

// One optimizer step on `batch`: (the loss summed over the batch, correct predictions).
std::pair<double, int64_t> train_step(Session& s, const dataset::Batch& batch) {
  models::RunOptions run;
  run.gradients = true;
  const at::Tensor logits = s.net.run(batch.inputs, run).logits;  // [B, classes]
  const at::Tensor loss = at::cross_entropy_loss(logits, batch.labels);
  s.opt.zero_grad();
  loss.backward();
  s.opt.step();
  ++s.steps;
  return {loss.item<double>() * static_cast<double>(batch.labels.size(0)),
          logits.detach().argmax(1).eq(batch.labels).sum().item<int64_t>()};
}

// One pass over the training split; fills the train metrics of `m`.
void train_epoch(Session& s, int64_t epoch, const StepFn& step, EpochMetrics& m) {
  const TrainOptions& o = s.o;
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<int64_t> order = epoch_order(o, s.data.train.size(), epoch);
  const dataset::AugmentOptions augment{o.augment == "seed", s.crop, o.seed, epoch};
  const int64_t batches = (s.data.train.size() + o.batch_size - 1) / o.batch_size;
  const auto prepare = [&](int64_t b) {
    const int64_t lo = b * o.batch_size, hi = std::min(lo + o.batch_size, s.data.train.size());
    return std::async(std::launch::async,
                      [&, idx = std::vector<int64_t>(order.begin() + lo, order.begin() + hi)] {
                        return dataset::make_batch(s.data.train, idx, s.eval, augment);
                      });
  };
  double loss_sum = 0;
  int64_t correct = 0, seen = 0;
  s.net.module().train();
  std::future<dataset::Batch> next = prepare(0);
  for (int64_t b = 0; b < batches; ++b) {
    const dataset::Batch batch = next.get();
    if (b + 1 < batches) next = prepare(b + 1);
    if (s.stopping()) break;
    skip_unreadable(s, batch, m);
    if (!batch.inputs.defined()) continue;
    const auto [loss, right] = train_step(s, batch);
    loss_sum += loss;
    correct += right;
    seen += batch.labels.size(0);
    if (step)
      step(batches, "epoch " + std::to_string(epoch) + " loss " +
                        std::to_string(loss_sum / static_cast<double>(seen)));
    if (s.out_of_steps()) break;
  }
  if (next.valid()) next.wait();
  m.train_loss = seen ? loss_sum / static_cast<double>(seen) : 0;
  m.train_acc = seen ? static_cast<double>(correct) / static_cast<double>(seen) : 0;
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  m.images_per_second = m.seconds > 0 ? static_cast<double>(seen) / m.seconds : 0;
}

// The validation split with the model's preset, eval mode, no autograd; fills the val metrics.
void validate(const Session& s, EpochMetrics& m) {
  s.net.module().eval();
  double loss_sum = 0;
  int64_t correct = 0, seen = 0;
  std::vector<int64_t> order(s.data.val.size());
  std::iota(order.begin(), order.end(), 0);
  for (int64_t lo = 0; lo < s.data.val.size() && !s.stopping(); lo += s.o.batch_size) {
    const int64_t hi = std::min(lo + s.o.batch_size, s.data.val.size());
    const dataset::Batch batch =
        dataset::make_batch(s.data.val, {order.begin() + lo, order.begin() + hi}, s.eval, {});
    skip_unreadable(s, batch, m);
    if (!batch.inputs.defined()) continue;
    const at::Tensor logits = s.net.run(batch.inputs).logits;  // [B, classes]
    loss_sum += at::cross_entropy_loss(logits, batch.labels).item<double>() *
                static_cast<double>(batch.labels.size(0));
    correct += logits.argmax(1).eq(batch.labels).sum().item<int64_t>();
    seen += batch.labels.size(0);
  }
  m.val_loss = seen ? loss_sum / static_cast<double>(seen) : 0;
  m.val_acc = seen ? static_cast<double>(correct) / static_cast<double>(seen) : 0;
}

// run.json: what later commands need to open this run's checkpoints.
void write_run_info(const Session& s, int64_t epochs_done) {
  const TrainOptions& o = s.o;
  RunInfo run;
  run.arch = s.net.info().arch;
  run.num_classes = s.net.info().num_classes;
  run.input_size = o.input_size > 0 ? o.input_size : s.net.info().input_size;
  run.input_channels = s.net.info().input_channels;
  run.preset = s.net.info().default_preset;
  run.classes = s.data.classes;
  run.epochs = epochs_done;
  run.options = {{"data", o.data},
                 {"epochs", o.epochs},
                 {"batch_size", o.batch_size},
                 {"optimizer", o.optimizer},
                 {"lr", o.lr},
                 {"momentum", o.momentum},
                 {"weight_decay", o.weight_decay},
                 {"input_size", o.input_size},
                 {"augment", o.augment},
                 {"val_split", o.val_split},
                 {"init", o.init},
                 {"resume", o.resume},
                 {"seed", o.seed},
                 {"shuffle", o.shuffle},
                 {"max_steps", o.max_steps}};
  write_file_atomic(o.out + "/" + kRunInfoName, run_info_json(run));
}

// class_indices.json as the seed writes it: {"0": "cat", ...}.
void write_class_indices(const TrainOptions& o, const std::vector<std::string>& classes) {
  nlohmann::json doc = nlohmann::json::object();
  for (size_t c = 0; c < classes.size(); ++c) doc[std::to_string(c)] = classes[c];
  write_file_atomic(o.out + "/" + kClassIndicesFile, doc.dump(4));
}

// The checkpoints of a finished epoch: epoch_NNN.pth, best.pth when it is the best so far,
// last.pth (weights, optimizer state, epoch, best accuracy), each written whole.
void save_checkpoints(const Session& s, const StateDict& sd, const EpochMetrics& m,
                      TrainResult& result) {
  save_pth(sd, epoch_checkpoint(s.o.out, m.epoch));
  if (m.val_acc > result.best_val_acc || m.epoch == 1) {
    result.best_val_acc = std::max(result.best_val_acc, m.val_acc);
    save_pth(sd, s.o.out + "/" + kBestCheckpoint);
  }
  PyValue last = PyValue::dict();
  last.set("epoch", PyValue::integer(m.epoch));
  last.set("model_state_dict", PyValue::of(std::make_shared<const StateDict>(sd)));
  last.set("optimizer_state_dict", optimizer_state(s.o, s.opt, s.params));
  last.set("best_val_acc", PyValue::real(result.best_val_acc));
  save_pth(last, s.o.out + "/" + kLastCheckpoint);
}

// The epoch's TensorBoard scalars, weight histograms and first-layer filters.
void log_epoch(const Session& s, const StateDict& sd, const EpochMetrics& m, EventWriter& events) {
  events.add_scalar("loss/train", static_cast<float>(m.train_loss), m.epoch);
  events.add_scalar("loss/val", static_cast<float>(m.val_loss), m.epoch);
  events.add_scalar("accuracy/train", static_cast<float>(m.train_acc), m.epoch);
  events.add_scalar("accuracy/val", static_cast<float>(m.val_acc), m.epoch);
  events.add_scalar("lr", static_cast<float>(s.o.lr), m.epoch);
  for (const NamedTensor& t : sd.tensors) {  // a histogram of every weight tensor
    if (!at::isFloatingType(t.tensor.scalar_type()) || t.tensor.numel() == 0 ||
        !at::isfinite(t.tensor).all().item<bool>())
      continue;
    events.add_weight_histogram(t.name, t.tensor.detach(), cnnscope::histogram(t.tensor.detach()),
                                m.epoch);
  }
  if (const NamedTensor* w = first_conv_weight(sd)) {
    FilterMosaicOptions mosaic;
    mosaic.title = "first-layer filters, epoch " + std::to_string(m.epoch);
    events.add_image("filters/first_layer", filter_mosaic(w->tensor, mosaic, FigureFormat::kPng),
                     m.epoch);
  }
}

// The epochs from `first` on, until o.epochs, --max-steps or a stop.
void run_epochs(Session& s, int64_t first, TrainResult& result, const StepFn& step,
                const std::function<void(const EpochMetrics&)>& on_epoch) {
  EventWriterOptions event_options;
  event_options.dir = s.o.out + "/" + kTensorBoardFolder;
  EventWriter events(event_options);
  for (int64_t epoch = first; epoch <= s.o.epochs && !s.out_of_steps(); ++epoch) {
    EpochMetrics m;
    m.epoch = epoch;
    train_epoch(s, epoch, step, m);
    if (!s.stopping()) validate(s, m);
    if (s.stopping()) {
      result.stopped = true;
      break;
    }
    const StateDict sd = s.net.state_dict();
    save_checkpoints(s, sd, m, result);
    result.epochs.push_back(m);
    write_file_atomic(s.o.out + "/" + kMetricsFile, metrics_json(result.epochs));
    write_run_info(s, epoch);
    log_epoch(s, sd, m, events);
    if (on_epoch) on_epoch(m);
  }
  events.close();
}

}  // namespace

TrainResult train(const TrainOptions& o, const StepFn& step,
                  const std::function<void(const EpochMetrics&)>& on_epoch) {
  check_options(o);
  if (o.threads > 0) at::set_num_threads(o.threads);
  torch::manual_seed(o.seed);

  const dataset::Dataset data = dataset::load_dataset(o.data, {o.val_split, o.seed});
  if (data.train.size() == 0 || data.val.size() == 0)
    fail(o.data, "no training or no validation images");
  models::Network net = start_network(o, static_cast<int64_t>(data.classes.size()));
  const std::vector<at::Tensor> params = parameters(net);
  auto opt = make_optimizer(o, params);
  Resumed resumed;
  if (!o.resume.empty()) {
    resumed = resume_optimizer(o.resume, o, *opt, params);
    release_input(o.resume);  // read whole: resuming in place replaces it (atomically)
  }

  make_output_dir(o.out);
  if (o.overwrite && o.resume.empty()) clear_run(o.out);
  Session s{o, data, net, params, *opt, eval_transform(net, o.input_size)};
  s.crop = o.input_size > 0 ? o.input_size
                            : (s.eval.crop_height > 0 ? s.eval.crop_height : s.eval.resize_height);
  TrainResult result;
  result.arch = net.info().arch;
  result.classes = data.classes;
  result.train_images = data.train.size();
  result.val_images = data.val.size();
  result.out = o.out;
  result.best_val_acc = resumed.best_val_acc;
  result.epochs = read_metrics(o.out + "/" + kMetricsFile, resumed.epoch);
  write_class_indices(o, data.classes);
  write_run_info(s, resumed.epoch);
  if (o.resume.empty()) save_pth(net.state_dict(), epoch_checkpoint(o.out, 0));
  run_epochs(s, resumed.epoch + 1, result, step, on_epoch);
  return result;
}

}  // namespace cnnscope::app
