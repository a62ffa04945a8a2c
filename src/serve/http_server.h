// The HTTP layer of `cnnscope serve`: cpp-httplib's server hardened against hostile clients. Each
// connection carries one request, read through a stream with a deadline (request line, headers and
// body must arrive within `timeout_s` of a worker taking the connection; the answer must leave
// within `timeout_s` too) and byte caps (64 KiB of head, the body limit after it whatever its
// framing: Content-Length, chunked or none). Before any route runs, a request must name this
// server in its Host header (DNS rebinding), a POST must not come from another site nor be one a
// page can send without a CORS preflight (CSRF), the path and query must be UTF-8, and a body
// needs a length. Slow clients hold I/O workers only: the routes' work runs in `compute_threads`
// slots (HttpServer::Slot), while `compute_threads + kSlowClientWorkers` workers read requests.
// Errors are JSON {"error"}. Leaves out: TLS, authentication, keep-alive (each answer closes its
// connection). Spec: the `serve` section and section 7.4 of docs/DESIGN.md.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

namespace cnnscope::serve {

// Workers beyond the compute slots, so that this many slow or stalled clients at once delay
// nobody (a browser opens at most 6 connections to one host).
constexpr int kSlowClientWorkers = 16;

struct HttpLimits {
  int timeout_s = 10;       // to receive a request, and again to send its answer
  size_t max_body = 0;      // bytes of a request body (413 above)
  int compute_threads = 1;  // routes' work at once
};

// The longest "error" text an answer carries, and the longest piece of a request quoted in it.
constexpr size_t kMaxErrorBytes = 300;
constexpr size_t kMaxQuotedBytes = 60;

// {"error": what} with every line of `what` escaped (escape_control) and joined by "; ", cut to
// kMaxErrorBytes (never throws).
std::string error_json(const std::string& what);

// Text from a request (a header, a parameter, a path) as an error quotes it: 'text', escaped
// (escape_control) and cut to kMaxQuotedBytes ("..." marks a cut).
std::string quote_text(std::string_view text);

// The 413 answer's text for a body limit of `limit` bytes.
std::string body_too_large(size_t limit);

class HttpServer : public httplib::Server {
 public:
  explicit HttpServer(const HttpLimits& limits);

  // Binds `host` (port 0: any free one) with a long accept queue and starts checking Host
  // headers against it; the port bound, or -1.
  int bind(const std::string& host, int port);

  // Held while a route computes: at most `compute_threads` at once, the others wait.
  class Slot {
   public:
    explicit Slot(HttpServer& server);
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    HttpServer& server_;
  };

 private:
  bool process_and_close_socket(socket_t sock) override;

  HttpLimits limits_;
  std::string host_;  // as bound
  int port_ = -1;
  std::mutex slots_mutex_;
  std::condition_variable slots_free_;
  int slots_ = 0;  // free compute slots
};

}  // namespace cnnscope::serve
