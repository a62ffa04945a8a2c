// Progress bar on stderr, redrawn in place with '\r' at most every 100 ms and cleared at the end;
// silent when stderr is not a terminal. Leaves out: terminal-width detection (fixed 28-cell bar).
#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

#include "common/escape.h"

namespace cnnscope::cli {
namespace {

constexpr int kBarCells = 28;
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);
constexpr size_t kMaxNameChars = 40;

}  // namespace

Progress::Progress(std::string label)
    : label_(std::move(label)), terminal_(isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() {
  if (terminal_ && total_ > 1 && done_ > 0) std::fprintf(stderr, "\r\033[K");
}

app::StepFn Progress::rate_callback(const std::string& unit) {
  const auto start = std::chrono::steady_clock::now();
  return [this, unit, start, done = int64_t{0}](int64_t total, const std::string&) mutable {
    ++done;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
    char text[96];
    std::snprintf(text, sizeof text, "%.1f %s/s, %.0f s left", rate, unit.c_str(),
                  rate > 0 ? static_cast<double>(total - done) / rate : 0.0);
    step(total, text);
  };
}

void Progress::step(int64_t total, const std::string& what) {
  total_ = total;
  ++done_;
  if (!terminal_ || total_ < 2) return;
  const auto now = std::chrono::steady_clock::now();
  if (done_ < total_ && now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  draw(what);
}

void Progress::draw(const std::string& what) {
  const int64_t filled = total_ > 0 ? done_ * kBarCells / total_ : kBarCells;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kBarCells, '.');
  const std::string name = escape_control(
      what.size() > kMaxNameChars ? "..." + what.substr(what.size() - kMaxNameChars) : what);
  std::fprintf(stderr, "\r\033[K%s [%s] %lld/%lld %s", label_.c_str(), bar.c_str(),
               static_cast<long long>(done_), static_cast<long long>(total_), name.c_str());
  std::fflush(stderr);
}

}  // namespace cnnscope::cli
