// `cnnscope serve`: an HTTP server for a local web page and a JSON/HTTP API over the library's
// jobs (summary, weights, filters, predict, features, diff), with each checkpoint loaded once and
// the activations of recent images kept (serve/activation_cache.h). Uses cpp-httplib (a thread
// pool; serve/http_server.h hardens it). Security: binds where told (the CLI warns off loopback);
// requests that do not name this server in Host, cross-site POSTs, bodies over the limit (any
// framing) and clients slower than `timeout_s` are refused before any route runs (http_server.h);
// images are named only from the list made at start from `images`; uploads are decoded in memory,
// never written; every refusal is {"error": what was wrong} (escaped, bounded: http_server.h).
// Each checkpoint has its own input pipeline and labels (ServedModel). Leaves out: TLS,
// authentication. Spec: the `serve` section of docs/DESIGN.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "image/preprocess_spec.h"

namespace cnnscope::serve {

constexpr int kDefaultPort = 8080;
constexpr int kDefaultThreads = 8;
constexpr int64_t kDefaultMaxUploadMb = 20;
constexpr int64_t kDefaultCacheMb = 1024;
constexpr int kDefaultTimeoutS = 10;
constexpr int kMaxThreads = 256;
constexpr int64_t kMaxUploadMb = 1024;
constexpr int kMaxPort = 65535;
constexpr int kMaxTimeoutS = 3600;

// One checkpoint to serve, with its own input pipeline and labels.
struct ServedModel {
  std::string checkpoint;
  std::string arch;           // "" = detected
  PreprocessSpec preprocess;  // "" fields = the model's default preset
  std::string classes;        // labels file (app/labels.h); "" = the run's names, or indices
};

struct ServeOptions {
  std::vector<ServedModel> models;      // model ids are their positions: "0", "1", ...
  std::vector<std::string> images;      // files or folders (app::expand_images); may be empty
  std::optional<bool> transform_input;  // GoogLeNet / Inception v3 (BuildOptions)
  std::string host = "127.0.0.1";
  int port = kDefaultPort;  // 0: any free port (the URL says which)
  int threads = kDefaultThreads;
  int64_t max_upload_mb = kDefaultMaxUploadMb;
  int64_t cache_mb = kDefaultCacheMb;
  int timeout_s = kDefaultTimeoutS;         // to receive a request, and to send its answer
  const std::atomic<bool>* stop = nullptr;  // when it turns true (a signal), the server stops
};

struct ServeStarted {
  std::string url;                  // "http://127.0.0.1:8080/"
  std::vector<std::string> models;  // per checkpoint: "0: FILE (about; input: PRESET[; labels: F])"
  size_t images = 0;                // names listed by /api/images
};

// Loads every checkpoint with its pipeline and labels and lists the images (throws Error naming
// the file on a bad one, a labels file that does not fit its model, or when the address cannot be
// bound), calls `on_ready` once listening, and serves until options.stop turns true. Throws Error
// on bad options (threads, limits, port).
void serve(const ServeOptions& options, const std::function<void(const ServeStarted&)>& on_ready);

}  // namespace cnnscope::serve
