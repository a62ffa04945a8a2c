// `cnnscope completion bash`: a bash completion script for cnnscope's subcommands and each
// subcommand's flags, written from the same CLI11 tree that parses them (so it cannot drift),
// with file names completed everywhere else. The Debian package and `make install` install its
// output as share/bash-completion/completions/cnnscope; `source <(cnnscope completion bash)`
// loads it by hand. Also the home of flag_names() (cli/command.h). Leaves out: other shells,
// completing flag values (archs, presets), hidden flags. Spec: bash(1) "Programmable Completion"
// (complete -F, compgen -W, COMP_WORDS/COMP_CWORD).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "common/text.h"

namespace cnnscope::cli {

std::vector<std::string> flag_names(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::Option* option : command.get_options()) {
    if (option->get_group().empty()) continue;  // hidden (bench hooks)
    for (const std::string& n : option->get_lnames()) names.push_back("--" + n);
    for (const std::string& n : option->get_snames()) names.push_back("-" + n);
  }
  return names;
}

namespace {

// The script: subcommands (and `help`) after `cnnscope`, a subcommand's flags after a "-", a
// subcommand's name after `help`, file names (bash's default) otherwise. {{ }} are literal braces.
constexpr const char* kBashScript =
    R"(# bash completion for cnnscope: subcommands and flags (made by `cnnscope completion bash`)
_cnnscope() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} flags=
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "{commands} help --help --version" -- "$cur"))
    return
  fi
  case ${{COMP_WORDS[1]}} in
{cases}    help) [ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "{commands}" -- "$cur")); return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  fi
}}
complete -o default -F _cnnscope cnnscope
)";

// Letters, digits, "-" and "_" only: a name that goes into the script as it is, never as shell
// syntax (all of cnnscope's are; the check keeps a future one from breaking the script).
bool plain_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_';
  });
}

std::string bash_script(const CLI::App& root) {
  std::vector<std::string> commands;
  std::string cases;
  for (const CLI::App* sub : root.get_subcommands({})) {
    if (!plain_name(sub->get_name())) continue;
    std::vector<std::string> flags;
    for (const std::string& flag : flag_names(*sub))
      if (plain_name(flag)) flags.push_back(flag);
    commands.push_back(sub->get_name());
    cases += fmt::format("    {}) flags=\"{}\" ;;\n", sub->get_name(), join(flags, " "));
  }
  return fmt::format(fmt::runtime(kBashScript), fmt::arg("commands", join(commands, " ")),
                     fmt::arg("cases", cases));
}

struct CompletionFlags {
  std::string shell;
};

const Register reg{{"completion",
                    "a bash completion script for the subcommands and their flags (on stdout)",
                    [](CLI::App& sub) {
                      auto f = std::make_shared<CompletionFlags>();
                      sub.add_option("SHELL", f->shell, "the shell: bash")
                          ->required()
                          ->check(CLI::IsMember({"bash"}));
                      const CLI::App* root = sub.get_parent();
                      return [f, root] {
                        if (f->shell == "bash") std::fputs(bash_script(*root).c_str(), stdout);
                      };
                    },
                    99}};

}  // namespace
}  // namespace cnnscope::cli
