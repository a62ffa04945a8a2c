// `cnnscope train --arch A --data DIR -o RUN [...]`: trains a zoo network (app/train.h) and prints
// one line per epoch (a progress bar per epoch on a terminal). SIGINT stops before the next batch;
// the files of finished epochs stay whole. Spec: the `train` section of docs/DESIGN.md.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "app/run_folder.h"
#include "app/train.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/progress.h"
#include "common/error.h"

namespace cnnscope::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_train_signal(int) {
  g_stop = true;
}

struct TrainFlags {
  app::TrainOptions job;
};

void run_train(const TrainFlags& f) {
  app::TrainOptions job = f.job;
  if (job.resume.empty() && !job.overwrite && app::holds_run(job.out))
    fail(job.out, "already holds a training run",
         "continue it with --resume " + job.out + "/last.pth, or pass --overwrite");
  struct sigaction action = {};
  action.sa_handler = on_train_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  job.stop = &g_stop;
  job.warn = [](const std::string& w) { std::cerr << "cnnscope: warning: " << w << "\n"; };
  std::unique_ptr<Progress> bar;
  int64_t bar_epoch = 0;
  const auto step = [&](int64_t total, const std::string& what) {
    const int64_t epoch = std::stoll(what.substr(6, what.find(' ', 6) - 6));
    if (!bar || epoch != bar_epoch) {
      bar = std::make_unique<Progress>("train epoch " + std::to_string(epoch));
      bar_epoch = epoch;
    }
    bar->step(total, what);
  };
  const auto on_epoch = [&](const app::EpochMetrics& m) {
    bar.reset();
    char line[256];
    std::snprintf(line, sizeof line,
                  "epoch %3lld  train loss %.4f acc %.4f  val loss %.4f acc %.4f  %.1f s  %.1f "
                  "images/s",
                  static_cast<long long>(m.epoch), m.train_loss, m.train_acc, m.val_loss, m.val_acc,
                  m.seconds, m.images_per_second);
    std::cout << line
              << (m.skipped_images
                      ? "  (" + std::to_string(m.skipped_images) + " unreadable images skipped)"
                      : std::string())
              << std::endl;
  };
  const app::TrainResult r = app::train(job, step, on_epoch);
  bar.reset();
  std::cout << r.arch << ": " << r.classes.size() << " classes, " << r.train_images
            << " training and " << r.val_images << " validation images; best val acc "
            << r.best_val_acc << "; outputs in " << r.out << "\n";
  if (r.stopped) std::cout << "interrupted: the unfinished epoch was not written\n";
}

const Register reg{
    {"train", "train a zoo network on an ImageFolder tree or MNIST IDX files",
     [](CLI::App& sub) {
       auto f = std::make_shared<TrainFlags>();
       app::TrainOptions& j = f->job;
       sub.add_option("--arch", j.arch, "network architecture (a zoo arch)")->required();
       sub.add_option("--data", j.data,
                      "ImageFolder tree (DIR/train, DIR/val or DIR/<class>) or "
                      "a folder of MNIST IDX files")
           ->required();
       add_out(sub, j.out, "run folder (checkpoints, metrics.json, tensorboard/)")->required();
       sub.add_option("--epochs", j.epochs, "epochs")->capture_default_str();
       sub.add_option("--batch-size", j.batch_size, "images per batch")->capture_default_str();
       sub.add_option("--optimizer", j.optimizer, "adam | sgd")
           ->check(CLI::IsMember({"adam", "sgd"}))
           ->capture_default_str();
       sub.add_option("--lr", j.lr, "learning rate")->capture_default_str();
       sub.add_option("--momentum", j.momentum, "SGD momentum")->capture_default_str();
       sub.add_option("--weight-decay", j.weight_decay, "L2 weight decay")->capture_default_str();
       sub.add_option("--input-size", j.input_size,
                      "train and validate at NxN (Resize((N, N))); 0: the model's preset");
       sub.add_option("--augment", j.augment, "seed (RandomResizedCrop + flip) | none")
           ->check(CLI::IsMember({"seed", "none"}))
           ->capture_default_str();
       sub.add_option("--val-split", j.val_split, "validation fraction of a DIR/<class> tree")
           ->capture_default_str();
       sub.add_option("--init", j.init, "state_dict to start from")->check(CLI::ExistingFile);
       sub.add_option("--resume", j.resume, "RUN/last.pth to continue from (-o RUN: in place)")
           ->check(CLI::ExistingFile);
       sub.add_flag("--overwrite", j.overwrite,
                    "replace the run already in the -o folder (its checkpoints, metrics, events)");
       add_seed(sub, j.seed, "initialization, shuffling, augmentation");
       sub.add_flag(
           "--no-shuffle", [f](int64_t) { f->job.shuffle = false; }, "keep the data set's order");
       sub.add_option("--max-steps", j.max_steps, "stop after N optimizer steps (0: no limit)");
       add_threads(sub, j.threads);
       sub.add_option("--device", j.device, "cpu | cuda")->capture_default_str();
       return [f] { run_train(*f); };
     },
     75}};

}  // namespace
}  // namespace cnnscope::cli
