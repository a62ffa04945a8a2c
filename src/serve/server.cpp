// serve (see server.h): the models loaded at start, the routes of the HTTP API, the page's files,
// and the shutdown rule (the HTTP layer's checks, limits and errors: serve/http_server.h). Spec:
// the `serve` section of docs/DESIGN.md.
#include "serve/server.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "app/diff.h"
#include "app/feature_maps.h"
#include "app/features.h"
#include "app/filters.h"
#include "app/image_list.h"
#include "app/job_json.h"
#include "app/labels.h"
#include "app/network_input.h"
#include "app/predictions.h"
#include "app/summary.h"
#include "app/weights.h"
#include "checkpoint/state_dict.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/npy.h"
#include "export/stats_table.h"
#include "image/input.h"
#include "image/memory_input.h"
#include "models/network.h"
#include "render/canvas.h"
#include "serve/activation_cache.h"
#include "serve/assets.h"
#include "serve/http_server.h"

namespace cnnscope::serve {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMegabyte = 1024 * 1024;
constexpr int64_t kMaxTopK = 1000;
constexpr auto kStopPoll = std::chrono::milliseconds(50);
constexpr const char* kJson = "application/json";
// The page loads only its own files; figures arrive as blob: URLs made from API answers.
constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// A request the client got wrong: answered with `status` and {"error": what}.
struct HttpError {
  int status;
  std::string what;
};

struct Model {
  std::string id, file;
  StateDict sd;
  models::Network net;
  PreprocessOptions pre;
  std::vector<std::string> labels;  // --classes, one per class; empty = class indices
  std::mutex mutex;                 // guards the two documents below, computed on first ask
  std::optional<std::string> summary, weights;

  Model(std::string id_, std::string file_, StateDict sd_, models::Network net_,
        PreprocessOptions pre_)
      : id(std::move(id_)),
        file(std::move(file_)),
        sd(std::move(sd_)),
        net(std::move(net_)),
        pre(std::move(pre_)) {}
};

// An image to run: a name from --images or an upload's bytes.
struct ImageRef {
  std::string name;  // for figures and JSON: the listed name, or "upload"
  std::string key;   // cache key part: "name:NAME" or "upload:<size>:<hash>"
  std::string path;  // listed file, or "" for an upload
  const std::string* body = nullptr;
};

void check_options(const ServeOptions& o) {
  if (o.models.empty()) fail("", "serve needs at least one checkpoint");
  if (o.threads < 1 || o.threads > kMaxThreads)
    fail("", "threads must be 1.." + std::to_string(kMaxThreads) + ", got " +
                 std::to_string(o.threads));
  if (o.max_upload_mb < 1 || o.max_upload_mb > kMaxUploadMb)
    fail("", "the upload limit must be 1.." + std::to_string(kMaxUploadMb) + " MB, got " +
                 std::to_string(o.max_upload_mb));
  if (o.cache_mb < 0) fail("", "the cache size must be 0 MB or more");
  if (o.port < 0 || o.port > kMaxPort)
    fail("", "the port must be 0.." + std::to_string(kMaxPort) + ", got " + std::to_string(o.port));
  if (o.timeout_s < 1 || o.timeout_s > kMaxTimeoutS)
    fail("", "the timeout must be 1.." + std::to_string(kMaxTimeoutS) + " s, got " +
                 std::to_string(o.timeout_s));
}

int64_t int_param(const httplib::Request& req, const std::string& name, int64_t fallback,
                  int64_t lo, int64_t hi) {
  if (!req.has_param(name.c_str())) return fallback;
  const std::string text = req.get_param_value(name.c_str());
  try {
    size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used == text.size() && v >= lo && v <= hi) return v;
  } catch (const std::exception&) {  // not a number: answered below
  }
  throw HttpError{400, name + " must be an integer " + std::to_string(lo) + ".." +
                           std::to_string(hi) + ", got " + quote_text(text)};
}

std::string param(const httplib::Request& req, const std::string& name,
                  const std::string& fallback = "") {
  return req.has_param(name.c_str()) ? req.get_param_value(name.c_str()) : fallback;
}

class Server {
 public:
  explicit Server(const ServeOptions& o) : options_(o), cache_(o.cache_mb * kMegabyte) {
    for (const std::string& file : app::expand_images(o.images)) {
      std::error_code ec;
      if (!fs::is_regular_file(file, ec))
        fail(file, "no such image file", "list image files or folders of them");
      const std::string name = fs::path(file).filename().string();
      if (!images_.emplace(name, file).second)
        fail(file, "two listed images are named '" + name + "'",
             "the API names images by file name; rename one");
      image_names_.push_back(name);
    }
    for (size_t i = 0; i < o.models.size(); ++i) {
      const ServedModel& served = o.models[i];
      StateDict sd = load_state_dict(served.checkpoint);
      models::Network net = models::build_network(sd, {served.arch, o.transform_input});
      PreprocessOptions pre = app::network_preprocess(served.preprocess, net.info());
      std::vector<std::string> labels = app::labels_or_run(served.classes, net.info());
      models_.push_back(std::make_unique<Model>(std::to_string(i), served.checkpoint, std::move(sd),
                                                std::move(net), std::move(pre)));
      models_.back()->labels = std::move(labels);
    }
  }

  void run(const std::function<void(const ServeStarted&)>& on_ready) {
    HttpServer http({options_.timeout_s, max_body(), options_.threads});
    http.set_default_headers({{"Content-Security-Policy", kCsp},
                              {"X-Content-Type-Options", "nosniff"},
                              {"Cache-Control", "no-store"}});
    routes(http);
    const int port = http.bind(options_.host, options_.port);
    if (port < 0)
      fail("", "cannot listen on " + options_.host + ":" + std::to_string(options_.port),
           "the port is in use or the host is not an address of this machine; pick another port "
           "(0: any free one)");

    std::atomic<bool> finished{false};
    // Asks again until listening has ended: a stop that comes before the listen loop starts
    // (a signal right after the URL is printed) is a no-op in cpp-httplib.
    std::thread watcher([&] {
      while (!finished.load()) {
        if (options_.stop != nullptr && options_.stop->load()) http.stop();
        std::this_thread::sleep_for(kStopPoll);
      }
    });
    ServeStarted started;
    const bool v6 = options_.host.find(':') != std::string::npos;
    started.url = "http://" + (v6 ? "[" + options_.host + "]" : options_.host) + ":" +
                  std::to_string(port) + "/";
    for (size_t i = 0; i < models_.size(); ++i) {
      const Model& m = *models_[i];
      const std::string& classes = options_.models[i].classes;
      started.models.push_back(m.id + ": " + m.file + " (" + m.net.info().description +
                               "; input: " + m.pre.name +
                               (classes.empty() ? "" : "; labels: " + classes) + ")");
    }
    started.images = image_names_.size();
    if (on_ready) on_ready(started);
    http.listen_after_bind();
    finished = true;
    watcher.join();
  }

 private:
  size_t max_body() const { return static_cast<size_t>(options_.max_upload_mb * kMegabyte); }

  // Wraps a route: it runs in one of the server's compute slots; HttpError and cnnscope::Error
  // become {"error"} answers.
  template <typename F>
  httplib::Server::Handler guarded(HttpServer& http, F f) {
    return [&http, f](const httplib::Request& req, httplib::Response& res) {
      try {
        const HttpServer::Slot slot(http);
        f(req, res);
      } catch (const HttpError& e) {
        res.status = e.status;
        res.set_content(error_json(e.what), kJson);
      } catch (const Error& e) {
        res.status = 400;
        res.set_content(error_json(e.what()), kJson);
      }
    };
  }

  Model& model(const httplib::Request& req) { return model_by_id(req.matches[1]); }

  Model& model_by_id(const std::string& id) {
    for (const auto& m : models_)
      if (m->id == id) return *m;
    throw HttpError{404, "no model " + quote_text(id) + " (GET /api/models lists them)"};
  }

  ImageRef image(const httplib::Request& req) {
    if (req.has_param("image")) {
      const std::string name = req.get_param_value("image");
      auto it = images_.find(name);  // only names listed at start: no path ever reaches the disk
      if (it == images_.end())
        throw HttpError{404,
                        "no image named " + quote_text(name) + " (GET /api/images lists them)"};
      return {name, "name:" + name, it->second, nullptr};
    }
    if (req.body.empty())
      throw HttpError{400,
                      "no image: send one as the request body (Content-Type: image/... or "
                      "application/octet-stream), or name one with ?image=NAME"};
    if (req.body.size() > max_body())  // a chunked body's framing may pass the stream's cap
      throw HttpError{413, body_too_large(max_body())};
    return {"upload", "upload:" + std::to_string(req.body.size()) + ":" + hex64(fnv1a64(req.body)),
            "", &req.body};
  }

  at::Tensor load(const Model& m, const ImageRef& ref) {
    if (ref.body == nullptr) return load_input(ref.path, m.pre);  // [3, H, W]
    return load_input_bytes("upload", *ref.body, m.pre);          // [3, H, W]
  }

  // The forward of `ref` through `m` with `layer` captured (when not empty): from the cache, or
  // run now with the family's `all` layers and `layer`, then kept. Says which in the answer's
  // X-Cnnscope-Cache header (hit | miss).
  std::shared_ptr<const CachedForward> forward(const Model& m, const ImageRef& ref,
                                               const std::string& layer, httplib::Response& res) {
    const std::string key = m.id + "|" + ref.key;
    std::shared_ptr<const CachedForward> hit = cache_.get(key);
    const bool found = hit && (layer.empty() || hit->taps.count(layer));
    res.set_header("X-Cnnscope-Cache", found ? "hit" : "miss");
    if (found) return hit;
    std::vector<std::string> taps = m.net.all_layers();
    if (!layer.empty() && std::find(taps.begin(), taps.end(), layer) == taps.end())
      taps.push_back(layer);
    if (hit)
      for (const auto& [name, t] : hit->taps)
        if (std::find(taps.begin(), taps.end(), name) == taps.end()) taps.push_back(name);
    const at::Tensor input = load(m, ref).unsqueeze(0);  // [1, 3, H, W]
    models::RunOptions run;
    run.taps = std::move(taps);
    // A graph network (TorchScript) stops at the request's deadline.
    run.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options_.timeout_s);
    models::ForwardResult r = m.net.run(input, run);
    auto entry = std::make_shared<CachedForward>();
    entry->logits = r.logits[0];  // [classes]
    for (NamedTensor& t : r.taps)
      if (t.tensor.defined()) entry->taps.emplace(t.name, t.tensor[0]);
    cache_.put(key, entry);
    return entry;
  }

  void routes(HttpServer& http) {
    for (const EmbeddedFile& file : embedded_files()) {
      const std::string name(file.name);
      const std::string type = name.size() > 3 && name.substr(name.size() - 3) == ".js"
                                   ? "text/javascript; charset=utf-8"
                               : name.size() > 4 && name.substr(name.size() - 4) == ".css"
                                   ? "text/css; charset=utf-8"
                                   : "text/html; charset=utf-8";
      const std::string body(file.bytes);
      const auto handler = [body, type](const httplib::Request&, httplib::Response& res) {
        res.set_content(body, type.c_str());
      };
      http.Get("/" + name, handler);
      if (name == "index.html") http.Get("/", handler);
    }

    http.Get("/api/models", guarded(http, [this](const httplib::Request&, httplib::Response& res) {
               nlohmann::json list = nlohmann::json::array();
               for (const auto& m : models_)
                 list.push_back({{"id", m->id},
                                 {"file", m->file},
                                 {"arch", m->net.info().arch},
                                 {"description", m->net.info().description},
                                 {"preset", m->pre.name},
                                 {"default_layers", m->net.default_layers()},
                                 {"all_layers", m->net.all_layers()}});
               res.set_content(list.dump(), kJson);
             }));

    http.Get(R"(/api/models/([^/]+)/summary)",
             guarded(http, [this](const httplib::Request& req, httplib::Response& res) {
               Model& m = model(req);
               std::lock_guard<std::mutex> lock(m.mutex);
               if (!m.summary)
                 m.summary = app::summary_json(m.net.info(), app::summarize(m.net)).dump();
               res.set_content(*m.summary, kJson);
             }));

    http.Get(R"(/api/models/([^/]+)/weights)",
             guarded(http, [this](const httplib::Request& req, httplib::Response& res) {
               Model& m = model(req);
               std::lock_guard<std::mutex> lock(m.mutex);
               if (!m.weights) m.weights = weights_json(app::compute_weights(m.sd, {})).dump();
               res.set_content(*m.weights, kJson);
             }));

    http.Get(R"(/api/models/([^/]+)/filters)",
             guarded(http, [this](const httplib::Request& req, httplib::Response& res) {
               const Model& m = model(req);
               FilterMosaicOptions mosaic;
               mosaic.max_kernels = static_cast<int>(int_param(req, "max_kernels", 0, 0, 4096));
               const app::FilterFigure figure =
                   app::render_filters(m.sd, param(req, "layer"), mosaic, FigureFormat::kPng);
               res.set_header("X-Cnnscope-Key", figure.key);
               res.set_content(figure.bytes, "image/png");
             }));

    http.Get("/api/images", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(nlohmann::json(image_names_).dump(), kJson);
    });

    const auto predict = guarded(http, [this](const httplib::Request& req, httplib::Response& res) {
      const Model& m = model(req);
      const int64_t k = int_param(req, "topk", app::kDefaultTopK, 1, kMaxTopK);
      const ImageRef ref = image(req);
      const auto f = forward(m, ref, "", res);
      const bool npy = ref.body == nullptr && ref.path.size() > 4 &&
                       ref.path.substr(ref.path.size() - 4) == ".npy";
      res.set_content(app::predict_json(m.net.info(), npy ? "none (.npy used as is)" : m.pre.name,
                                        app::predict_top(f->logits, k, m.labels))
                          .dump(),
                      kJson);
    });
    http.Post(R"(/api/models/([^/]+)/predict)", predict);
    http.Get(R"(/api/models/([^/]+)/predict)", predict);

    const auto features = guarded(http, [this](const httplib::Request& req,
                                               httplib::Response& res) {
      const Model& m = model(req);
      app::FeaturesOptions o;
      o.channels = int_param(req, "channels", o.channels, 1, 4096);
      o.pick = param(req, "pick", o.pick);
      o.cmap = param(req, "cmap", o.cmap);
      o.scale = param(req, "scale", o.scale);
      app::check_view_options(o);
      const std::string format = param(req, "format", "json");
      if (format != "json" && format != "png" && format != "npy")
        throw HttpError{400, "unknown format " + quote_text(format) + " (json, png or npy)"};
      const std::string layer = param(req, "layer", m.net.default_layers().front());
      m.net.check_tap(layer);
      const ImageRef ref = image(req);
      const auto f = forward(m, ref, layer, res);
      auto it = f->taps.find(layer);
      // The layer's output [C, ...] (undefined when it never ran), drawn as maps [C, H, W].
      const at::Tensor output = it == f->taps.end() ? at::Tensor() : it->second;
      const at::Tensor batch = output.defined() ? output.unsqueeze(0) : output;  // [1, C, ...]
      const at::Tensor activation = app::feature_maps(batch, layer, m.net.info().arch, "")[0];
      if (format == "npy") {  // the layer's output as it is
        res.set_content(npy_bytes(output.to(at::kFloat).contiguous()), "application/octet-stream");
        return;
      }
      const app::LayerView view = app::view_layer(o, ref.name, layer, activation);
      if (format == "png") {
        res.set_content(render_feature_grid(activation, view.grid, FigureFormat::kPng),
                        "image/png");
        return;
      }
      app::FeaturesResult shown;  // one layer of one image, nothing written
      shown.info = m.net.info();
      shown.preset = m.pre.name;
      shown.layers = {layer};
      app::ImageFeatures& entry = shown.images.emplace_back();
      entry.image = ref.name;
      entry.layers = {view.features};
      res.set_content(app::features_json(m.file, o, shown).dump(), kJson);
    });
    http.Get("/api/diff",
             guarded(http, [this](const httplib::Request& req, httplib::Response& res) {
               app::DiffOptions o;
               o.a = model_by_id(param(req, "a")).file;
               o.b = model_by_id(param(req, "b")).file;
               const std::string sort = param(req, "sort", "name");
               if (sort != "name" && sort != "change")
                 throw HttpError{400, "unknown sort " + quote_text(sort) + " (name or change)"};
               o.sort_by_change = sort == "change";
               res.set_content(app::diff_json(app::diff_checkpoints(o)).dump(), kJson);
             }));

    http.Post(R"(/api/models/([^/]+)/features)", features);
    http.Get(R"(/api/models/([^/]+)/features)", features);
  }

  ServeOptions options_;
  ActivationCache cache_;
  std::vector<std::unique_ptr<Model>> models_;
  std::map<std::string, std::string> images_;  // name -> file, made at start
  std::vector<std::string> image_names_;       // in --images order
};

}  // namespace

void serve(const ServeOptions& options, const std::function<void(const ServeStarted&)>& on_ready) {
  check_options(options);
  Server server(options);
  server.run(on_ready);
}

}  // namespace cnnscope::serve
