"""`cnnscope serve` against hostile clients (red team), over raw loopback sockets so that every
header and byte of framing is the test's: a Host that does not name the server (DNS rebinding) is
refused; a cross-site or CORS-simple POST (CSRF) is refused before anything is computed; a chunked
body over --max-upload-mb gets 413 and the server stays up; a body without a length gets 411; a
client dripping its head or body is cut at the request deadline (408); a slow client does not hold
up a normal request; a query that is not UTF-8 gets 400 with a JSON error. Every refusal says
what was wrong in a JSON {"error"} of at most MAX_ERROR characters with control characters escaped,
never a bare "bad request" or "not found". Every loop is bounded and every socket has a
timeout, so each test ends by itself. Servers from test_serve.py's Server.
"""
import json
import os
import select
import socket
import sys
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_serve  # noqa: E402  (its Server and fixtures; its tests are not collected here)

PHOTOS = [os.path.join(test_serve.IMAGES, p) for p in test_serve.EXPECTED["photos"]]
LIMIT = test_serve.UPLOAD_MB * 1024 * 1024
DRIP_STEPS = 100  # a dripping client sends at most this many pieces, DRIP_PAUSE apart
DRIP_PAUSE = 0.2
MAX_ERROR = 300  # serve/http_server.h's kMaxErrorBytes


def port_of(server):
    return int(server.url.rstrip("/").rsplit(":", 1)[1])


def connect(server):
    return socket.create_connection(("127.0.0.1", port_of(server)), timeout=60)


def head(server, method, path, headers=(), host=None):
    """The request line and headers (Host: the server's own unless `host` says otherwise)."""
    lines = [f"{method} {path} HTTP/1.1"]
    if host is not False:
        lines.append("Host: " + (host if host is not None else f"127.0.0.1:{port_of(server)}"))
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(sock):
    """(status, headers, body) of what the server sent before closing (each answer closes)."""
    data = b""
    while True:
        try:
            part = sock.recv(65536)
        except ConnectionResetError:
            break
        if not part:
            break
        data += part
    top, _, body = data.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/1.1 ") else None
    headers = {k.strip().lower(): v.strip()
               for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def exchange(server, method, path, headers=(), body=None, host=None):
    """One request (with Content-Length when there is a body) and its answer."""
    if body is not None:
        headers = [*headers, ("Content-Length", str(len(body)))]
    with connect(server) as s:
        s.sendall(head(server, method, path, headers, host) + (body or b""))
        return answer(s)


def error_of(case, got, status):
    """Asserts the answer is `status` with a JSON {"error": text}; returns the text."""
    case.assertEqual(got[0], status, got[2][:300])
    case.assertEqual(got[1].get("content-type"), "application/json")
    what = json.loads(got[2])["error"]
    case.assertTrue(what)
    case.assertNotIn(what, ("bad request", "not found", "method not allowed"))
    case.assertLessEqual(len(what.encode()), MAX_ERROR, what)
    case.assertFalse(any(ord(c) < 0x20 or ord(c) == 0x7F for c in what), what)
    return what


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Drip(threading.Thread):
    """Sends `data` one byte per DRIP_PAUSE (after `start_bytes` at once) until stopped, the data
    runs out or the server ends the connection; `cut` then holds what the server answered."""

    def __init__(self, sock, data, start_bytes=0):
        super().__init__(daemon=True)
        self.sock, self.data, self.start_bytes = sock, data, start_bytes
        self.stopped = threading.Event()
        self.cut = None  # bytes the server sent before closing (b"" when none), once it closed
        self.sock.sendall(self.data[:start_bytes])

    def run(self):
        for i in range(self.start_bytes, min(len(self.data), self.start_bytes + DRIP_STEPS)):
            if self.stopped.wait(DRIP_PAUSE):
                return
            if select.select([self.sock], [], [], 0)[0]:
                try:
                    self.cut = self.sock.recv(65536)
                except OSError:  # reset: the server closed without an answer
                    self.cut = b""
                return
            try:
                self.sock.sendall(self.data[i:i + 1])
            except OSError:
                self.cut = b""
                return


class ServerCase(unittest.TestCase):
    """A test class with its own server (test_serve.Server with `options`), stopped at the end."""
    options = {}

    @classmethod
    def setUpClass(cls):
        cls.server = test_serve.Server(**cls.options)

    @classmethod
    def tearDownClass(cls):
        code, _, err = cls.server.stop()
        assert code == 0, err


class HostileRequestTest(ServerCase):
    """One compute thread (so a worker held by a slow client would show)."""
    options = {"threads": 1, "timeout": 10}

    def assert_alive(self):
        self.assertEqual(exchange(self.server, "GET", "/api/images")[0], 200)

    def test_host_must_name_the_server(self):
        port = port_of(self.server)
        for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{port + 1}",
                     f"localhost.evil.example:{port}", f"127.0.0.1.evil.example:{port}",
                     f"10.0.0.1:{port}", "", f"127.0.0.1:{port}@evil.example"):
            got = exchange(self.server, "GET", "/api/models", host=host)
            self.assertIn("Host", error_of(self, got, 403), host)
            self.assertNotIn(b"alexnet.pth", got[2])
        error_of(self, exchange(self.server, "GET", "/api/models", host=False), 403)
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}",
                     f"[::1]:{port}"):
            got = exchange(self.server, "GET", "/api/models", host=host)
            self.assertEqual(got[0], 200, host)
            self.assertEqual(len(json.loads(got[2])), 2)

    def test_cross_site_post_is_refused_before_any_work(self):
        photo = read(PHOTOS[1])
        own = f"http://127.0.0.1:{port_of(self.server)}"
        for headers, status in (
                ([("Origin", "http://evil.example"), ("Content-Type", "text/plain")], 403),
                ([("Content-Type", "text/plain;charset=UTF-8")], 415),
                ([("Origin", own), ("Content-Type", "text/plain")], 415),
                ([("Content-Type", "application/x-www-form-urlencoded")], 415),
                ([("Content-Type", "multipart/form-data; boundary=x")], 415),
                ([], 415),
                ([("Origin", "http://evil.example"),
                  ("Content-Type", "application/octet-stream")], 403),
                ([("Origin", "null"), ("Content-Type", "image/jpeg")], 403),
                ([("Sec-Fetch-Site", "cross-site"), ("Content-Type", "image/jpeg")], 403),
                ([("Sec-Fetch-Site", "same-site"), ("Content-Type", "image/jpeg")], 403)):
            got = exchange(self.server, "POST", "/api/models/0/predict", headers, photo)
            error_of(self, got, status)
            self.assertNotIn("x-cnnscope-cache", got[1], headers)
        # nothing was computed: the same upload from the page's own origin is a cache miss
        got = exchange(self.server, "POST", "/api/models/0/predict",
                       [("Origin", own), ("Sec-Fetch-Site", "same-origin"),
                        ("Content-Type", "application/octet-stream")], photo)
        self.assertEqual(got[0], 200, got[2][:300])
        self.assertEqual(got[1]["x-cnnscope-cache"], "miss")
        self.assertEqual(len(json.loads(got[2])["top"]), 5)

    def test_chunked_body_over_the_limit(self):
        post = head(self.server, "POST", "/api/models/0/predict",
                    [("Content-Type", "application/octet-stream"),
                     ("Transfer-Encoding", "chunked")])
        # just over the limit in one chunk: the route's exact check
        with connect(self.server) as s:
            s.sendall(post + b"%x\r\n" % (LIMIT + 1) + bytes(LIMIT + 1) + b"\r\n0\r\n\r\n")
            self.assertIn("too large", error_of(self, answer(s), 413))
        # three times the limit in 64 KiB chunks: reading stops at the limit
        chunk = bytes(65536)
        with connect(self.server) as s:
            s.sendall(post)
            try:
                for _ in range(3 * LIMIT // len(chunk)):
                    s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                s.sendall(b"0\r\n\r\n")
            except OSError:  # the server stopped reading: its answer is waiting
                pass
            self.assertIn("too large", error_of(self, answer(s), 413))
        self.assert_alive()

    def test_body_without_length(self):
        with connect(self.server) as s:
            s.sendall(head(self.server, "POST", "/api/models/0/predict",
                           [("Content-Type", "application/octet-stream")]) + read(PHOTOS[0]))
            self.assertIn("Content-Length", error_of(self, answer(s), 411))
        for headers in ([("Transfer-Encoding", "gzip")],
                        [("Transfer-Encoding", "chunked"), ("Content-Length", "5")]):
            got = exchange(self.server, "POST", "/api/models/0/predict",
                           [("Content-Type", "application/octet-stream"), *headers])
            error_of(self, got, 400)
        got = exchange(self.server, "POST", "/api/models/0/predict",
                       [("Content-Type", "application/octet-stream"),
                        ("Content-Encoding", "gzip")], b"\x1f\x8b")
        error_of(self, got, 415)
        self.assert_alive()

    def test_slow_client_does_not_hold_up_others(self):
        with connect(self.server) as slow:
            drip = Drip(slow, head(self.server, "GET", "/api/models",
                                   [("X-Slow", "a" * DRIP_STEPS)]), start_bytes=20)
            drip.start()
            try:
                with urllib.request.urlopen(self.server.url + "api/models", timeout=60) as r:
                    self.assertEqual(r.status, 200)
                    self.assertEqual(len(json.loads(r.read())), 2)
                # the normal request was answered while the slow one is still being read
                self.assertTrue(drip.is_alive() and drip.cut is None)
            finally:
                drip.stopped.set()
                drip.join()

    def test_query_not_utf8(self):
        for path in ("/api/models/0/predict?image=%ff", "/api/models/0/features?layer=%c3%28",
                     "/api/diff?a=0&b=%ed%a0%80", "/api/models/%ff/summary",
                     "/api/models/0/filters?%fe=1"):
            self.assertIn("UTF-8", error_of(self, exchange(self.server, "GET", path), 400), path)
        # control characters in a name come back escaped (as the CLI prints them) in valid JSON
        got = exchange(self.server, "GET", "/api/models/0/predict?image=a%0a%1b%00b")
        self.assertIn("'a\\x0a\\x1b\\x00b'", error_of(self, got, 404))
        self.assertFalse(any(c < 0x20 for c in got[2]), got[2])
        self.assert_alive()

    def test_refusals_say_what_was_wrong(self):
        photo = read(PHOTOS[1])
        # a form upload (curl -F image=@photo): how to send it instead
        what = error_of(self, exchange(self.server, "POST", "/api/models/0/predict",
                                       [("Content-Type", "multipart/form-data; boundary=x")],
                                       b"--x\r\n"), 415)
        self.assertIn("'multipart/form-data'", what)
        self.assertIn("--data-binary", what)
        # no image at all
        what = error_of(self, exchange(self.server, "POST", "/api/models/0/predict",
                                       [("Content-Type", "image/jpeg")], b""), 400)
        self.assertIn("?image=NAME", what)
        # routes and methods that do not exist are named
        self.assertIn("GET '/api/model'", error_of(self, exchange(self.server, "GET",
                                                                  "/api/model"), 404))
        what = error_of(self, exchange(self.server, "PUT", "/api/models/0/predict",
                                       [("Content-Type", "image/jpeg")], photo), 404)
        self.assertIn("PUT '/api/models/0/predict'", what)
        # what cpp-httplib refuses itself: a request line, a header or chunk framing
        for raw in (b"GARBAGE\r\n\r\n", b"FOO / HTTP/1.1\r\n\r\n",
                    head(self.server, "POST", "/api/models/0/predict",
                         [("Content-Type", "image/jpeg"), ("Transfer-Encoding", "chunked")]) +
                    b"zz\r\nabc\r\n0\r\n\r\n"):
            with connect(self.server) as s:
                s.sendall(raw)
                got = answer(s)
            self.assertIn("malformed", error_of(self, got, 400), raw)
        # long values are cut, not echoed whole
        long_name = "x" * 5000
        for path in (f"/api/models/0/predict?image={long_name}",
                     f"/api/models/0/predict?image=photo.jpg&topk={long_name}",
                     f"/api/models/{long_name}/summary", f"/{long_name}"):
            got = exchange(self.server, "GET", path)
            self.assertIn("...", error_of(self, got, got[0]), path[:40])
            self.assertIn(got[0], (400, 404))
        got = exchange(self.server, "POST", "/api/models/0/predict",
                       [("Content-Type", "text/plain; x=" + long_name)], photo)
        error_of(self, got, 415)
        got = exchange(self.server, "GET", "/api/models", host="evil.example:" + long_name)
        self.assertIn("...", error_of(self, got, 403))
        self.assert_alive()


class RequestDeadlineTest(ServerCase):
    """A 2 s request deadline: clients that keep sending, slowly, are cut."""
    options = {"threads": 1, "timeout": 2}

    def assert_cut(self, data, start_bytes):
        with connect(self.server) as s:
            drip = Drip(s, data, start_bytes)
            drip.run()  # here: returns once cut, or after DRIP_STEPS pieces
            self.assertIsNotNone(drip.cut, "the server never ended the slow request")
            if drip.cut:
                self.assertTrue(drip.cut.startswith(b"HTTP/1.1 408 "), drip.cut[:200])
        self.assertEqual(exchange(self.server, "GET", "/api/images")[0], 200)

    def test_dripped_headers_are_cut(self):
        self.assert_cut(head(self.server, "GET", "/api/models", [("X-Slow", "a" * DRIP_STEPS)]),
                        start_bytes=30)

    def test_dripped_body_is_cut(self):
        post = head(self.server, "POST", "/api/models/0/predict",
                    [("Content-Type", "application/octet-stream"), ("Content-Length", "100000")])
        self.assert_cut(post + bytes(DRIP_STEPS), start_bytes=len(post))


if __name__ == "__main__":
    unittest.main()
