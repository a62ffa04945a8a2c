// A progress bar for long runs, drawn on stderr only when stderr is a terminal (never on stdout,
// never into logs or pipes). Leaves out: rates and time estimates.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace cnnscope::cli {

class Progress {
 public:
  // `label` starts the line ("features"); `total` steps. Nothing is drawn for fewer than 2 steps.
  Progress(std::string label, int64_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // One step done; `what` names it (an image, a layer) on the bar.
  void step(const std::string& what = "");

 private:
  void draw(const std::string& what);

  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  bool enabled_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace cnnscope::cli
