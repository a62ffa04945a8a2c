// cnnscope's entry point: wires the registered subcommands into CLI11, answers `cnnscope`,
// `cnnscope help [CMD]` and usage mistakes (an unknown command or flag gets "did you mean"), runs
// the chosen command and maps failures to exit codes (0 ok, 1 bad input or failure, 2 usage).
// Nothing else lives here.
#include <c10/util/Exception.h>
#include <c10/util/Type.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <exception>
#include <string>
#include <typeinfo>
#include <vector>

#include "cli/command.h"
#include "cli/print.h"
#include "cli/settings.h"
#include "common/error.h"
#include "common/escape.h"
#include "common/installation.h"
#include "common/suggest.h"

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

std::vector<std::string> command_names(CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  return names;
}

// "unknown command 'featurs' (did you mean 'features'?)"; exit 2.
int unknown_command(CLI::App& app, const std::string& name) {
  print_error("unknown command '" + name + "' (" +
                  cnnscope::suggestion_hint(name, command_names(app), "see cnnscope help") + ")",
              "");
  return kExitUsage;
}

// `cnnscope help` and `cnnscope help CMD`: the command list or one command's help on stdout.
int help(CLI::App& app, const std::vector<std::string>& args) {
  if (args.size() > 2) {
    print_error(
        "help takes one command, got " + std::to_string(args.size() - 1) + " (see cnnscope help)",
        "");
    return kExitUsage;
  }
  if (args.size() == 1) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  }
  for (CLI::App* sub : app.get_subcommands({}))
    if (sub->get_name() == args[1]) {
      std::fputs(sub->help(app.get_name()).c_str(), stdout);
      return 0;
    }
  return unknown_command(app, args[1]);
}

// The first of `args` that looks like a flag (-x, --xy, --xy=v; not a negative number) and is
// not one of `command`'s, or "".
std::string first_unknown_flag(const CLI::App& command, const std::vector<std::string>& args) {
  const std::vector<std::string> known = cnnscope::cli::flag_names(command);
  for (const std::string& arg : args) {
    if (arg == "--") break;
    const bool flag =
        arg.size() > 1 && arg[0] == '-' &&
        (std::isalpha(static_cast<unsigned char>(arg[1])) || (arg[1] == '-' && arg.size() > 2));
    if (!flag) continue;
    const std::string name = arg.substr(0, arg.find('='));
    if (std::find(known.begin(), known.end(), name) == known.end()) return name;
  }
  return "";
}

// `cnnscope --version`: the first line is what help2man and scripts read.
std::string version_text() {
  const cnnscope::LibTorchInfo torch = cnnscope::libtorch_info();
  std::string text = std::string("cnnscope ") + CNNSCOPE_VERSION + "\nLibTorch " +
                     (torch.version.empty() ? "(version unknown)" : torch.version);
  if (torch.version != torch.built_against) text += " (built against " + torch.built_against + ")";
  return text + "\nfrom " + (torch.library.empty() ? "(path unknown)" : torch.library);
}

// A CLI11 parse error as one line: an unknown flag with "did you mean", else CLI11's words and
// where the command's flags are listed; exit 2.
int usage_error(CLI::App& app, const std::vector<std::string>& args, const CLI::ParseError& e) {
  CLI::App* command = &app;
  std::string prefix, see = "see cnnscope help";
  for (CLI::App* sub : app.get_subcommands({}))
    if (!args.empty() && sub->get_name() == args[0]) {
      command = sub;
      prefix = args[0] + ": ";
      see += " " + args[0];
    }
  const std::string flag = first_unknown_flag(*command, args);
  if (!flag.empty()) {
    print_error(prefix + "unknown flag '" + flag + "' (" +
                    cnnscope::suggestion_hint(flag, cnnscope::cli::flag_names(*command), see) + ")",
                "");
  } else if (dynamic_cast<const CLI::ValidationError*>(&e)) {
    print_error(prefix + e.what(), "");  // the check's message says what to pass
  } else {
    print_error(prefix + e.what() + " (" + see + ")", "");
  }
  return kExitUsage;
}
}  // namespace

int main(int argc, char** argv) {
  using cnnscope::cli::Command;
  CLI::App app{
      "cnnscope: look inside trained convolutional networks (PyTorch checkpoints, no Python)",
      "cnnscope"};
  app.footer("Run `cnnscope help COMMAND` (or COMMAND --help) for a command's flags.");
  app.set_version_flag("--version", version_text,
                       "print cnnscope's version and the LibTorch it runs on (version, path)");
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

  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return help(app, {"help"});
  if (args[0] == "help") return help(app, args);
  const std::vector<std::string> names = command_names(app);
  if (args[0][0] != '-' && std::find(names.begin(), names.end(), args[0]) == names.end())
    return unknown_command(app, args[0]);

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
    return usage_error(app, args, e);
  }

  try {
    action();
  } catch (const c10::Error& e) {
    print_error(e.what_without_backtrace(), "c10::Error");
    return kExitFailure;
  } catch (const cnnscope::Error& e) {
    print_error(cnnscope::cli::with_flags(e.what(), e.settings()), "cnnscope::Error",
                cnnscope::kMaxErrorLines);
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
