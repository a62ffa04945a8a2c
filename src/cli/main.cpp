// cnnscope's entry point: wires the registered subcommands into CLI11, runs the chosen one and
// maps failures to exit codes (0 ok, 1 bad input or failure, 2 usage). Nothing else lives here.
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <typeinfo>

#include "cli/command.h"
#include "cli/print.h"
#include "common/error.h"
#include "common/escape.h"

namespace cnnscope::cli {
std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}
}  // namespace cnnscope::cli

namespace {
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// The contract is one line on stderr, escaped and never empty (common/escape.h); a
// cnnscope::Error's further lines (at most kMaxErrorLines in all) follow it, indented.
void print_error(const std::string& message, const std::string& type, size_t max_lines = 1) {
  cnnscope::cli::print_problem("error", message, type, max_lines);
}
}  // namespace

int main(int argc, char** argv) {
  using cnnscope::cli::Command;
  CLI::App app{
      "cnnscope: look inside trained convolutional networks (PyTorch checkpoints, no Python)"};
  app.set_version_flag("--version", std::string("cnnscope ") + CNNSCOPE_VERSION);
  app.require_subcommand(1);

  std::vector<Command> commands = cnnscope::cli::registry();
  std::stable_sort(commands.begin(), commands.end(),
                   [](const Command& a, const Command& b) { return a.order < b.order; });
  std::function<void()> action;
  std::vector<std::function<void()>> actions(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    CLI::App* sub = app.add_subcommand(commands[i].name, commands[i].description);
    actions[i] = commands[i].setup(*sub);
    sub->callback([&action, &actions, i] { action = actions[i]; });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::Success&) {
    return 0;  // an option that printed what it was asked for (summary --list-archs)
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  try {
    action();
  } catch (const c10::Error& e) {
    print_error(e.what_without_backtrace(), "c10::Error");
    return kExitFailure;
  } catch (const cnnscope::Error& e) {
    print_error(e.what(), "cnnscope::Error", cnnscope::kMaxErrorLines);
    return kExitFailure;
  } catch (const std::exception& e) {
    print_error(e.what(), c10::demangle(typeid(e).name()));
    return kExitFailure;
  } catch (...) {
    print_error("", "unknown exception");
    return kExitFailure;
  }
  return 0;
}
