// serve's HTTP layer (see http_server.h): the connection stream with its deadline and byte caps,
// the checks run before any route, and the JSON error answers. Spec: the `serve` section and
// section 7.4 of docs/DESIGN.md; RFC 9110 (Host, Origin, status codes), RFC 9112 (framing), the
// Fetch standard (CORS-safelisted content types, Sec-Fetch-Site).
#include "serve/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/escape.h"
#include "common/text.h"

namespace cnnscope::serve {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kHeadBytes = 64 * 1024;  // request line and headers; also chunk framing slack
constexpr int kListenBacklog = 128;
constexpr auto kLinger = std::chrono::seconds(1);  // reading what a client still sends, at close
constexpr const char* kJson = "application/json";

// Why a connection's stream stopped reading.
enum class StreamEnd { kNone, kDeadline, kHeadTooLarge, kBodyTooLarge };

// One connection's socket as cpp-httplib reads and writes it: reads wait at most until the
// request's deadline and stop at the byte cap; writes wait at most until the answer's deadline,
// counted from its first byte.
class ConnectionStream : public httplib::Stream {
 public:
  ConnectionStream(int sock, std::chrono::seconds timeout)
      : sock_(sock), timeout_(timeout), read_deadline_(Clock::now() + timeout) {}

  // After the head: `bytes` more may be read (the body and its framing).
  void allow_body(size_t bytes) {
    body_ = true;
    cap_ = consumed_ + bytes;
  }

  StreamEnd end() const { return end_; }

  // After the answer: reads and drops what the client still sends for a moment, so that closing
  // does not reset the connection before the client has read the answer.
  void drain() {
    const Clock::time_point until = Clock::now() + kLinger;
    std::array<char, 16384> scratch{};
    while (wait(POLLIN, until) && ::recv(sock_, scratch.data(), scratch.size(), MSG_DONTWAIT) > 0) {
    }
  }

  bool is_readable() const override { return buffered_ < filled_; }
  bool is_writable() const override { return true; }

  ssize_t read(char* ptr, size_t size) override {
    if (consumed_ >= cap_) return stop(body_ ? StreamEnd::kBodyTooLarge : StreamEnd::kHeadTooLarge);
    if (buffered_ == filled_) {
      for (;;) {
        if (!wait(POLLIN, read_deadline_)) return stop(StreamEnd::kDeadline);
        const ssize_t n = ::recv(sock_, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
        if (n > 0) {
          buffered_ = 0;
          filled_ = static_cast<size_t>(n);
          break;
        }
        if (n == 0) return 0;
        if (errno != EAGAIN && errno != EINTR) return -1;
      }
    }
    const size_t n = std::min({size, filled_ - buffered_, cap_ - consumed_});
    std::memcpy(ptr, buffer_.data() + buffered_, n);
    buffered_ += n;
    consumed_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!write_deadline_) write_deadline_ = Clock::now() + timeout_;
    for (;;) {
      if (!wait(POLLOUT, *write_deadline_)) return -1;
      const ssize_t n = ::send(sock_, ptr, size, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) return n;
      if (errno != EAGAIN && errno != EINTR) return -1;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address(::getpeername, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address(::getsockname, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  ssize_t stop(StreamEnd why) {
    end_ = why;
    return -1;
  }

  // Polls for `events` until `deadline`; true when the socket is ready (or failed: the next call
  // says how).
  bool wait(short events, Clock::time_point deadline) const {
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{sock_, events, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(left));
      if (rc > 0) return true;
      if (rc < 0 && errno != EINTR) return true;
    }
  }

  void address(int (*get)(int, sockaddr*, socklen_t*), std::string& ip, int& port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    std::array<char, INET6_ADDRSTRLEN> text{};
    ip.clear();
    port = 0;
    if (get(sock_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
    if (addr.ss_family == AF_INET) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
      ::inet_ntop(AF_INET, &a->sin_addr, text.data(), text.size());
      port = ntohs(a->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
      ::inet_ntop(AF_INET6, &a->sin6_addr, text.data(), text.size());
      port = ntohs(a->sin6_port);
    }
    ip = text.data();
  }

  int sock_;
  std::chrono::seconds timeout_;
  Clock::time_point read_deadline_;
  std::optional<Clock::time_point> write_deadline_;
  std::array<char, 4096> buffer_{};
  size_t buffered_ = 0, filled_ = 0;  // buffer_[buffered_, filled_) not yet handed out
  size_t consumed_ = 0;               // bytes handed to the parser
  size_t cap_ = kHeadBytes;
  bool body_ = false;
  StreamEnd end_ = StreamEnd::kNone;
};

// `text` (valid UTF-8) cut to at most `max` bytes at a character boundary, "..." marking a cut.
std::string cut(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = 0;
  while (end < text.size()) {
    const size_t next = end + std::max<size_t>(1, utf8_length(std::string_view(text).substr(end)));
    if (next > max - 3) break;
    end = next;
  }
  return text.substr(0, end) + "...";
}

// The stream of the request this worker thread is answering (for the error handler).
thread_local const ConnectionStream* t_stream = nullptr;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

bool is_ip_literal(const std::string& name) {
  std::array<unsigned char, sizeof(in6_addr)> addr{};
  if (name.size() > 2 && name.front() == '[' && name.back() == ']')
    return ::inet_pton(AF_INET6, name.substr(1, name.size() - 2).c_str(), addr.data()) == 1;
  return ::inet_pton(AF_INET, name.c_str(), addr.data()) == 1;
}

// A request refused before routing: its status and why.
struct Refusal {
  int status;
  std::string what;
};

// The Host header must name this server: a loopback name or the address bound (any IP literal
// when bound to all addresses), with the port bound. A DNS-rebinding page's requests carry its
// own domain name, so they stop here.
std::optional<Refusal> check_host(const httplib::Request& req, const std::string& bound, int port) {
  const std::string host = lower(req.get_header_value("Host"));
  const bool v6 = host.size() > 1 && host.front() == '[';
  const size_t colon = v6 ? host.find("]:") : host.rfind(':');
  const std::string name = colon == std::string::npos ? host : host.substr(0, colon + (v6 ? 1 : 0));
  const std::string port_text = colon == std::string::npos ? "" : host.substr(colon + (v6 ? 2 : 1));
  const std::string self = bound.find(':') != std::string::npos ? "[" + bound + "]" : bound;
  const bool wildcard = bound == "0.0.0.0" || bound == "::";
  const bool name_ok = name == "localhost" || name == "127.0.0.1" || name == "[::1]" ||
                       name == lower(self) || (wildcard && is_ip_literal(name));
  const bool port_ok = port_text.empty() ? port == 80 : port_text == std::to_string(port);
  if (!host.empty() && name_ok && port_ok) return std::nullopt;
  return Refusal{403, "the Host header " + quote_text(req.get_header_value("Host")) +
                          " does not name this server (use http://localhost:" +
                          std::to_string(port) + "/ or the address it listens on)"};
}

// Cross-site writes: a POST (or any method but GET and HEAD) from a page of another origin or
// site is refused, and a POST must carry a content type a page cannot send without a CORS
// preflight (which this server never grants).
std::optional<Refusal> check_cross_site(const httplib::Request& req) {
  if (req.method == "GET" || req.method == "HEAD") return std::nullopt;
  const std::string site = lower(req.get_header_value("Sec-Fetch-Site"));
  if (site == "cross-site" || site == "same-site")
    return Refusal{403, "refused: a " + req.method +
                            " from another site (Sec-Fetch-Site: " + quote_text(site) + ")"};
  if (req.has_header("Origin") &&
      lower(req.get_header_value("Origin")) != "http://" + lower(req.get_header_value("Host")))
    return Refusal{403, "refused: a " + req.method + " from another origin (Origin: " +
                            quote_text(req.get_header_value("Origin")) + ")"};
  if (req.method != "POST") return std::nullopt;
  const std::string type = req.get_header_value("Content-Type");
  const std::string essence = lower(trim(type.substr(0, type.find(';'))));
  if (essence.empty() || essence == "text/plain" || essence == "multipart/form-data" ||
      essence == "application/x-www-form-urlencoded")
    return Refusal{415,
                   "send the image as the raw body with Content-Type: "
                   "application/octet-stream or image/... (got " +
                       quote_text(type.empty() ? "none" : essence) +
                       "; forms are refused: any web page could send one), e.g. curl "
                       "--data-binary @FILE -H 'Content-Type: image/jpeg' URL"};
  return std::nullopt;
}

// The path and query must be UTF-8; a body must have a length (Content-Length, or chunked) and
// no content coding (a compressed body could expand past any limit).
std::optional<Refusal> check_request(const httplib::Request& req) {
  if (!is_utf8(req.path)) return Refusal{400, "the path is not valid UTF-8"};
  for (const auto& [name, value] : req.params)
    if (!is_utf8(name) || !is_utf8(value))
      return Refusal{400, "a query parameter is not valid UTF-8 (percent-encode UTF-8 text)"};
  const bool chunked = req.has_header("Transfer-Encoding");
  if (chunked && (lower(req.get_header_value("Transfer-Encoding")) != "chunked" ||
                  req.has_header("Content-Length")))
    return Refusal{400, "Transfer-Encoding must be 'chunked', without Content-Length"};
  const std::string coding = lower(req.get_header_value("Content-Encoding"));
  if (!coding.empty() && coding != "identity")
    return Refusal{
        415, "compressed bodies (Content-Encoding: " + quote_text(coding) + ") are not accepted"};
  const bool body_method = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
  if (body_method && !chunked && !req.has_header("Content-Length"))
    return Refusal{411, "a " + req.method + " needs a Content-Length (0 for no body)"};
  return std::nullopt;
}

// What was wrong with a request that cpp-httplib or the stream refused before any route ran.
std::string refusal_text(const httplib::Request& req, int status, const HttpLimits& limits) {
  const std::string target = req.method + " " + quote_text(req.path);
  switch (status) {
    case 400:
      return req.method.empty() || req.path.empty()
                 ? "malformed request line or headers (expected 'METHOD /path HTTP/1.1', then "
                   "'Name: value' lines)"
                 : "malformed request " + target +
                       ": a header or the body's framing (Content-Length, chunk sizes) is not "
                       "valid HTTP/1.1";
    case 404:
      return "no route for " + target +
             " (the page is at /; GET /api/models and /api/images list what there is)";
    case 405:
      return req.method + " is not allowed on " + quote_text(req.path) + " (GET or POST)";
    case 408:
      return "the request did not arrive within " + std::to_string(limits.timeout_s) + " s";
    case 413:
      return body_too_large(limits.max_body);
    case 414:
      return "the URL is too long";
    case 416:
      return "the Range header " + quote_text(req.get_header_value("Range")) +
             " does not fit the answer";
    case 431:
      return "request headers too large (the limit is " + std::to_string(kHeadBytes) + " bytes)";
    default:
      return "refused " + target + " (HTTP " + std::to_string(status) + ")";
  }
}

}  // namespace

std::string error_json(const std::string& what) {
  const std::string text = join(error_lines(what, "Error", kMaxErrorLines), "; ");
  return nlohmann::json{{"error", cut(text, kMaxErrorBytes)}}.dump();
}

std::string quote_text(std::string_view text) {
  return "'" + cut(escape_control(text), kMaxQuotedBytes) + "'";
}

std::string body_too_large(size_t limit) {
  return "request body too large (the limit is " + std::to_string(limit) + " bytes)";
}

HttpServer::HttpServer(const HttpLimits& limits) : limits_(limits), slots_(limits.compute_threads) {
  const size_t workers = static_cast<size_t>(limits.compute_threads + kSlowClientWorkers);
  new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  set_payload_max_length(limits.max_body);
  set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    const StreamEnd end = t_stream != nullptr ? t_stream->end() : StreamEnd::kNone;
    if (end != StreamEnd::kNone) res.body.clear();
    if (end == StreamEnd::kDeadline) res.status = 408;
    if (end == StreamEnd::kHeadTooLarge) res.status = 431;
    if (end == StreamEnd::kBodyTooLarge) res.status = 413;
    if (!res.body.empty()) return;
    res.set_content(error_json(refusal_text(req, res.status, limits_)), kJson);
  });
  set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    res.status = 500;
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
      // LibTorch's further lines are a backtrace.
      what = what.substr(0, what.find('\n'));
    } catch (...) {  // anything else: the generic message
    }
    res.set_content(error_json(what), kJson);
  });
}

int HttpServer::bind(const std::string& host, int port) {
  const int bound = port == 0 ? bind_to_any_port(host) : (bind_to_port(host, port) ? port : -1);
  if (bound < 0) return -1;
  ::listen(svr_sock_, kListenBacklog);  // cpp-httplib listens with 5; Linux: listen() again resizes
  host_ = host;
  port_ = bound;
  set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    std::optional<Refusal> refusal = check_host(req, host_, port_);
    if (!refusal) refusal = check_request(req);
    if (!refusal) refusal = check_cross_site(req);
    if (!refusal) return HandlerResponse::Unhandled;
    res.status = refusal->status;
    res.set_content(error_json(refusal->what), kJson);
    return HandlerResponse::Handled;
  });
  return bound;
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  ConnectionStream stream(sock, std::chrono::seconds(limits_.timeout_s));
  t_stream = &stream;
  bool closed = false;
  const bool ok = process_request(stream, true, closed, [&](httplib::Request&) {
    stream.allow_body(limits_.max_body + kHeadBytes);
  });
  t_stream = nullptr;
  ::shutdown(sock, SHUT_WR);
  stream.drain();
  ::close(sock);
  return ok;
}

HttpServer::Slot::Slot(HttpServer& server) : server_(server) {
  std::unique_lock<std::mutex> lock(server_.slots_mutex_);
  server_.slots_free_.wait(lock, [this] { return server_.slots_ > 0; });
  --server_.slots_;
}

HttpServer::Slot::~Slot() {
  {
    std::lock_guard<std::mutex> lock(server_.slots_mutex_);
    ++server_.slots_;
  }
  server_.slots_free_.notify_one();
}

}  // namespace cnnscope::serve
