// `cnnscope serve CKPT [CKPT...] [--model CKPT[,KEY=VALUE]...]... [--images DIR] [--arch A]
// [--classes FILE] [--preset P] [--resize N] [--crop N] [--host H] [--port P] [--threads T]
// [--max-upload-mb N] [--cache-mb N] [--timeout S] [--open]`: the local web page and JSON/HTTP API
// of serve/server.h. --arch, --classes and the preprocessing flags apply to every checkpoint; a
// --model's keys (arch, classes, preset, resize, crop) replace them for that one (models: the
// CKPTs, then the --models, in order). Prints the URL on start, warns when bound off loopback,
// stops cleanly on SIGINT/SIGTERM (a second signal: at once, exit 1); --open starts the default
// browser (xdg-open). Spec: the `serve` section of docs/DESIGN.md.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "common/error.h"
#include "common/suggest.h"
#include "common/text.h"
#include "serve/server.h"

namespace cnnscope::cli {
namespace {

struct ServeFlags {
  serve::ServeOptions job;
  std::vector<std::string> checkpoints;  // CKPT...
  std::vector<std::string> model_specs;  // --model values
  serve::ServedModel shared;             // --arch, --classes and the preprocessing flags
  bool open = false;
};

// The keys a --model value may set after its CKPT.
const std::vector<std::string> kModelKeys = {"arch", "classes", "preset", "resize", "crop"};

// "CKPT[,KEY=VALUE]...": the checkpoint and its keys (each of kModelKeys at most once).
struct ModelSpec {
  std::string checkpoint;
  std::map<std::string, std::string> keys;
};

// Splits and checks a --model value into `spec`; "" when it is well formed, else what is wrong.
std::string parse_model_spec(const std::string& text, ModelSpec& spec) {
  std::vector<std::string> parts{""};
  for (const char c : text) {
    if (c == ',')
      parts.emplace_back();
    else
      parts.back().push_back(c);
  }
  spec = {parts.front(), {}};
  const std::string where = "'" + text + "': ";
  if (spec.checkpoint.empty()) return where + "no checkpoint before the first ','";
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t eq = parts[i].find('=');
    const std::string key = parts[i].substr(0, eq);
    if (eq == std::string::npos || eq == 0)
      return where + "'" + parts[i] + "' is not KEY=VALUE (keys: " + join(kModelKeys, ", ") + ")";
    if (std::find(kModelKeys.begin(), kModelKeys.end(), key) == kModelKeys.end())
      return where + "unknown key '" + key + "' (" +
             suggestion_hint(key, kModelKeys, "keys: " + join(kModelKeys, ", ")) + ")";
    std::string value = parts[i].substr(eq + 1);
    if (value.empty()) return where + key + "= needs a value";
    if (!spec.keys.emplace(key, value).second) return where + key + " is given twice";
    const std::string unknown =
        key == "preset" ? names("preset", preset_names(), "see cnnscope help", "exported-")(value)
        : key == "arch"
            ? names("arch", models::known_archs(), "see cnnscope summary --list-archs")(value)
            : "";
    if (!unknown.empty()) return where + unknown;
    if (key == "crop" && (value.find_first_not_of("0123456789") != std::string::npos ||
                          value.size() > 9 || std::stoll(value) == 0))
      return where + "crop=" + value + " is not a positive whole number of pixels";
  }
  return "";
}

// The models to serve: each CKPT with the shared flags, then each --model with its keys over them.
std::vector<serve::ServedModel> served_models(const ServeFlags& f) {
  std::vector<serve::ServedModel> out;
  for (const std::string& checkpoint : f.checkpoints) {
    out.push_back(f.shared);
    out.back().checkpoint = checkpoint;
  }
  for (const std::string& text : f.model_specs) {
    ModelSpec spec;
    parse_model_spec(text, spec);  // checked while parsing the flags
    serve::ServedModel m = f.shared;
    m.checkpoint = spec.checkpoint;
    for (const auto& [key, value] : spec.keys) {
      if (key == "arch") m.arch = value;
      if (key == "classes") m.classes = value;
      if (key == "preset") m.preprocess.preset = value;
      if (key == "resize") m.preprocess.resize = value;
      if (key == "crop") m.preprocess.crop = std::stoll(value);
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::atomic<bool> g_stop{false};

// The first SIGINT/SIGTERM asks the server to stop; a second one ends the process at once.
extern "C" void on_signal(int) {
  if (g_stop.exchange(true)) std::_Exit(1);
}

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

void run_serve(const ServeFlags& f) {
  serve::ServeOptions o = f.job;
  o.models = served_models(f);
  if (o.models.empty())
    fail("", "no checkpoint to serve", "name one: cnnscope serve CKPT, or --model CKPT,KEY=VALUE");
  o.stop = &g_stop;
  struct sigaction action = {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not end the server
  if (!is_loopback(o.host))
    print_to(stderr,
             "cnnscope: warning: serving on %s: anyone who can reach this address can use "
             "the API (there is no authentication)\n",
             o.host.c_str());
  serve::serve(o, [&f](const serve::ServeStarted& s) {
    for (const std::string& m : s.models) print("model %s\n", m.c_str());
    print("images: %zu\nserving on %s  (Ctrl-C stops)\n", s.images, s.url.c_str());
    std::fflush(stdout);
    if (f.open) {
      const std::string command = "xdg-open '" + s.url + "' >/dev/null 2>&1 &";
      if (std::system(command.c_str()) != 0)
        print_to(stderr, "cnnscope: warning: could not open a browser; open %s\n", s.url.c_str());
    }
  });
  std::printf("stopped\n");
}

const Register reg{
    {"serve", "a local web page and JSON/HTTP API to explore checkpoints live",
     [](CLI::App& sub) {
       auto f = std::make_shared<ServeFlags>();
       serve::ServeOptions& o = f->job;
       sub.add_option(
           "CKPT", f->checkpoints,
           "checkpoints (.pth/.pt, .safetensors, TorchScript .pt, torch.export .pt2, .onnx)");
       sub.add_option("--model", f->model_specs,
                      "CKPT[,arch=A][,classes=FILE][,preset=NAME][,resize=N|HxW][,crop=N]: a "
                      "checkpoint with its own network, labels and input steps (over the shared "
                      "flags); repeatable")
           ->check(CLI::Validator(
               [](std::string& text) {
                 ModelSpec spec;
                 return parse_model_spec(text, spec);
               },
               "SPEC"));
       sub.add_option("--images", o.images,
                      "images the page can pick: files or folders (JPEG, PNG, ..., .npy); "
                      "repeatable");
       add_arch(sub, f->shared.arch, o.transform_input);
       add_preprocess_flags(sub, f->shared.preprocess);
       add_classes(sub, f->shared.classes);
       sub.add_option("--host", o.host, "address to bind (not loopback: a warning)")
           ->capture_default_str();
       sub.add_option("--port", o.port, "port (0: any free one)")
           ->capture_default_str()
           ->check(CLI::Range(0, serve::kMaxPort));
       sub.add_option("--threads", o.threads, "requests computed at once")
           ->capture_default_str()
           ->check(CLI::Range(1, serve::kMaxThreads));
       sub.add_option("--max-upload-mb", o.max_upload_mb, "largest request body (413 above)")
           ->capture_default_str()
           ->check(CLI::Range(int64_t{1}, serve::kMaxUploadMb));
       sub.add_option("--cache-mb", o.cache_mb, "activations kept for recent images")
           ->capture_default_str()
           ->check(at_least(0));
       sub.add_option("--timeout", o.timeout_s,
                      "seconds a request may take to arrive, its forward through a TorchScript "
                      "network to run, and its answer to leave")
           ->capture_default_str()
           ->check(CLI::Range(1, serve::kMaxTimeoutS));
       sub.add_flag("--open", f->open, "open the page in the default browser");
       return [f] { run_serve(*f); };
     },
     95}};

}  // namespace
}  // namespace cnnscope::cli
