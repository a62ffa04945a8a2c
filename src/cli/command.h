// Subcommand registry: each src/cli/<name>.cpp defines one `static const Register r{...}` and
// main.cpp wires whatever registered. Only src/cli/ parses arguments, prints and picks exit codes.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace cnnscope::cli {

struct Command {
  std::string name;
  std::string description;
  // Declares options on `sub`; returns the action run when the subcommand is chosen.
  // The action throws cnnscope::Error on bad input (main prints it and exits 1).
  std::function<std::function<void()>(CLI::App& sub)> setup;
  int order = 100;  // position in `cnnscope --help`
};

std::vector<Command>& registry();

// The flags `command` takes, as typed ("--image", "-o"); hidden ones (bench hooks) left out.
// Defined in completion.cpp; main.cpp's "did you mean" uses the same list.
std::vector<std::string> flag_names(const CLI::App& command);

struct Register {
  explicit Register(Command c) { registry().push_back(std::move(c)); }
};

}  // namespace cnnscope::cli
