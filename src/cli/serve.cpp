// `cnnscope serve CKPT [CKPT...] [--images DIR] [--classes FILE] [--host H] [--port P]
// [--threads T] [--max-upload-mb N] [--cache-mb N] [--timeout S] [--open]`: the local web page and
// JSON/HTTP API of serve/server.h. Prints the URL on start, warns when bound off loopback, stops
// cleanly on SIGINT/SIGTERM (a second signal: at once, exit 1); --open starts the default browser
// (xdg-open). Spec: the `serve` section of docs/DESIGN.md.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "serve/server.h"

namespace cnnscope::cli {
namespace {

struct ServeFlags {
  serve::ServeOptions job;
  bool open = false;
};

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
              "CKPT", o.checkpoints,
              "checkpoints (.pth/.pt, .safetensors, TorchScript .pt, torch.export .pt2, .onnx)")
           ->required();
       sub.add_option("--images", o.images,
                      "images the page can pick: files or folders (JPEG, PNG, ..., .npy); "
                      "repeatable");
       add_arch(sub, o.arch, o.transform_input);
       add_preprocess_flags(sub, o.preprocess);
       add_classes(sub, o.classes);
       sub.add_option("--host", o.host, "address to bind (not loopback: a warning)")
           ->capture_default_str();
       sub.add_option("--port", o.port, "port (0: any free one)")->capture_default_str();
       sub.add_option("--threads", o.threads, "requests computed at once")->capture_default_str();
       sub.add_option("--max-upload-mb", o.max_upload_mb, "largest request body (413 above)")
           ->capture_default_str();
       sub.add_option("--cache-mb", o.cache_mb, "activations kept for recent images")
           ->capture_default_str();
       sub.add_option("--timeout", o.timeout_s,
                      "seconds a request may take to arrive, its forward through a TorchScript "
                      "network to run, and its answer to leave")
           ->capture_default_str();
       sub.add_flag("--open", f->open, "open the page in the default browser");
       return [f] { run_serve(*f); };
     },
     95}};

}  // namespace
}  // namespace cnnscope::cli
