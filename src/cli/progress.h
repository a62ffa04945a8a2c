// A progress bar for long runs, drawn on stderr only when stderr is a terminal (never on stdout,
// never into logs or pipes). It is the CLI's reader of the library's step callbacks (app/steps.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "app/steps.h"

namespace cnnscope::cli {

class Progress {
 public:
  // `label` starts the line ("features").
  explicit Progress(std::string label);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // One step of `total` done; `what` names it (an image, a layer). Nothing is drawn for jobs of
  // fewer than 2 steps.
  void step(int64_t total, const std::string& what);

  // A callback for the library that steps this bar; valid while the bar lives.
  app::StepFn callback() {
    return [this](int64_t total, const std::string& what) { step(total, what); };
  }
  // The same, the bar's text being the rate and the time left ("12.3 images/s, 40 s left").
  app::StepFn rate_callback(const std::string& unit);

 private:
  void draw(const std::string& what);

  std::string label_;
  int64_t total_ = 0;
  int64_t done_ = 0;
  bool terminal_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace cnnscope::cli
