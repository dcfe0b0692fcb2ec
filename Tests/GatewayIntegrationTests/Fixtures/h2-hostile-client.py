#!/usr/bin/python3
"""A hostile HTTP/2 client for HTTP2Tests: raw frames (hyperframe, hpack: the h2 package's own
layers, Debian python3-h2) over real TLS, so that it can break the rules a well-behaved client
(and the h2 state machine) would enforce.

    h2-hostile-client.py PORT CAFILE SCENARIO [ARGS...]

Prints one JSON object: what the server did.
  status   the :status of the (first) stream's answer, or null
  body     that answer's body
  reset    the RST_STREAM error code the server sent on the (first) stream, or null
  goaway   the GOAWAY error code, or null; last_stream: its last stream id
  closed   whether the server closed the connection
  plus scenario-specific keys.

Scenarios:
  request METHOD PATH [NAME=VALUE ...]       one request; `:authority=` or `host=` override/omit
  request-then-wait METHOD PATH              one request, then waits (60 s at most) for the server to close
  silent                                       the preface and SETTINGS, then no request: waits for the close
  stall PATH PID                               GET PATH and never open the flow-control window: once no byte
                                               came for 1 s, reports the bytes received and PID's VmRSS (KiB)
  body METHOD PATH CONTENT_LENGTH|- BYTES      HEADERS (no END_STREAM), then one DATA frame of BYTES
  rapid-reset COUNT                            HEADERS + RST_STREAM(CANCEL) COUNT times
  continuation-flood COUNT                     HEADERS without END_HEADERS, then COUNT CONTINUATIONs
  hpack-bomb COUNT                             a 4000-byte field sent once, then indexed COUNT times
  max-streams COUNT [PATH]                     COUNT POSTs left open (no DATA); reset codes per stream
"""
import json
import select
import socket
import ssl
import sys
import time

from hpack import Decoder, Encoder
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame, PingFrame,
                              RstStreamFrame, SettingsFrame, WindowUpdateFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
CANCEL = 0x8


class Connection:
    def __init__(self, port, cafile):
        context = ssl.create_default_context(cafile=cafile)
        context.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.sock = context.wrap_socket(raw, server_hostname="localhost")
        if self.sock.selected_alpn_protocol() != "h2":
            raise SystemExit(json.dumps({"error": "ALPN did not choose h2", "alpn": self.sock.selected_alpn_protocol()}))
        self.authority = "localhost:%d" % port
        self.encoder, self.decoder = Encoder(), Decoder()
        self.buffer = b""
        self.streams = {}  # id -> {"status", "body", "reset", "ended"}
        self.goaway = None
        self.last_stream = None
        self.closed = False
        self.ping_acked = False
        self.window_updates = True
        self.last_data = time.monotonic()
        self.send(SettingsFrame(0))

    def send(self, *frames):
        data = b"".join(frame.serialize() for frame in frames)
        if self.sock.fileno() == -1:
            return
        if not hasattr(self, "_preface_sent"):
            data = PREFACE + data
            self._preface_sent = True
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.closed = True

    def stream(self, stream_id):
        return self.streams.setdefault(stream_id, {"status": None, "body": b"", "reset": None, "ended": False})

    def pump(self, timeout):
        """Reads and handles frames for up to `timeout` seconds (0: what is there already)."""
        deadline = time.monotonic() + timeout
        while not self.closed:
            remaining = max(0.0, deadline - time.monotonic())
            if self.sock.pending() == 0:
                ready, _, _ = select.select([self.sock], [], [], remaining)
                if not ready:
                    return
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError, OSError):
                chunk = b""
            if not chunk:
                self.closed = True
                return
            self.buffer += chunk
            self._frames()

    def _frames(self):
        while len(self.buffer) >= 9:
            frame, length = Frame.parse_frame_header(memoryview(self.buffer[:9]))
            if len(self.buffer) < 9 + length:
                return
            frame.parse_body(memoryview(self.buffer[9:9 + length]))
            self.buffer = self.buffer[9 + length:]
            self._handle(frame)

    def _handle(self, frame):
        if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
            self.send(SettingsFrame(0, flags=["ACK"]))
        elif isinstance(frame, PingFrame):
            if "ACK" in frame.flags:
                self.ping_acked = True
            else:
                self.send(PingFrame(0, opaque_data=frame.opaque_data, flags=["ACK"]))
        elif isinstance(frame, (HeadersFrame, ContinuationFrame)):
            headers = self.decoder.decode(frame.data)
            stream = self.stream(frame.stream_id)
            for name, value in headers:
                if name in (":status", b":status") and stream["status"] is None:
                    stream["status"] = int(value)
            if "END_STREAM" in frame.flags:
                stream["ended"] = True
        elif isinstance(frame, DataFrame):
            stream = self.stream(frame.stream_id)
            stream["body"] += frame.data
            self.last_data = time.monotonic()
            if frame.flow_controlled_length and self.window_updates:
                self.send(WindowUpdateFrame(0, window_increment=frame.flow_controlled_length),
                          WindowUpdateFrame(frame.stream_id, window_increment=frame.flow_controlled_length))
            if "END_STREAM" in frame.flags:
                stream["ended"] = True
        elif isinstance(frame, RstStreamFrame):
            self.stream(frame.stream_id)["reset"] = frame.error_code
        elif isinstance(frame, GoAwayFrame):
            self.goaway = frame.error_code
            self.last_stream = frame.last_stream_id

    def settle(self):
        """Waits until the server has our SETTINGS ACK (its own limits are then in force): a PING
        sent after the ACK comes back only once the server has read everything before it."""
        self.pump(0.2)
        self.send(PingFrame(0, opaque_data=b"settled!"))
        deadline = time.monotonic() + 10
        while not self.ping_acked and not self.closed and time.monotonic() < deadline:
            self.pump(0.2)

    def wait(self, condition, timeout=15):
        deadline = time.monotonic() + timeout
        while not condition() and not self.closed and time.monotonic() < deadline:
            self.pump(0.1)

    def request_headers(self, method, path, extra=()):
        headers = [(":method", method), (":scheme", "https"), (":path", path), (":authority", self.authority)]
        overrides = dict(extra)
        if ":authority" in overrides:
            authority = overrides.pop(":authority")
            headers = [h for h in headers if h[0] != ":authority"] + ([(":authority", authority)] if authority else [])
        return headers + [(name, value) for name, value in extra if name != ":authority"]

    def result(self, stream_id=1, **extra):
        stream = self.streams.get(stream_id, {"status": None, "body": b"", "reset": None})
        out = {"status": stream["status"], "body": stream["body"].decode("utf-8", "replace"), "reset": stream["reset"],
               "goaway": self.goaway, "last_stream": self.last_stream, "closed": self.closed}
        out.update(extra)
        return out


def request(conn, method, path, *pairs):
    extra = [tuple(pair.split("=", 1)) for pair in pairs]
    block = conn.encoder.encode(conn.request_headers(method, path, extra))
    conn.send(HeadersFrame(1, data=block, flags=["END_HEADERS", "END_STREAM"]))
    conn.wait(lambda: conn.stream(1)["ended"] or conn.stream(1)["reset"] is not None or conn.goaway is not None)
    return conn.result()


def request_then_wait(conn, method, path):
    started = time.monotonic()
    request(conn, method, path)
    conn.wait(lambda: False, timeout=60)
    return conn.result(seconds=time.monotonic() - started)


def silent(conn):
    started = time.monotonic()
    conn.wait(lambda: False, timeout=15)
    return conn.result(seconds=time.monotonic() - started)


def resident_kib(pid):
    with open("/proc/%s/status" % pid) as status:
        return int(next(line for line in status if line.startswith("VmRSS:")).split()[1])


def stall(conn, path, pid):
    conn.window_updates = False
    conn.settle()
    before = resident_kib(pid)
    block = conn.encoder.encode(conn.request_headers("GET", path))
    conn.send(HeadersFrame(1, data=block, flags=["END_HEADERS", "END_STREAM"]))
    conn.wait(lambda: conn.stream(1)["status"] is not None)
    conn.wait(lambda: time.monotonic() - conn.last_data > 1, timeout=30)
    return conn.result(received=len(conn.stream(1)["body"]), rss_before_kib=before, rss_stalled_kib=resident_kib(pid))


def body(conn, method, path, content_length, data):
    extra = [] if content_length == "-" else [("content-length", content_length)]
    block = conn.encoder.encode(conn.request_headers(method, path, extra))
    conn.send(HeadersFrame(1, data=block, flags=["END_HEADERS"]), DataFrame(1, data=data.encode(), flags=["END_STREAM"]))
    conn.wait(lambda: conn.stream(1)["ended"] or conn.stream(1)["reset"] is not None or conn.goaway is not None)
    return conn.result()


def rapid_reset(conn, count):
    conn.settle()
    sent = 0
    while sent < count and conn.goaway is None and not conn.closed:
        frames = []
        for _ in range(min(100, count - sent)):
            stream_id = 1 + 2 * sent
            block = conn.encoder.encode(conn.request_headers("GET", "/echo/reset"))
            frames += [HeadersFrame(stream_id, data=block, flags=["END_HEADERS", "END_STREAM"]),
                       RstStreamFrame(stream_id, error_code=CANCEL)]
            sent += 1
        conn.send(*frames)
        conn.pump(0)
    conn.wait(lambda: conn.goaway is not None, timeout=10)
    conn.pump(1 if not conn.closed else 0)
    return conn.result(streams_sent=sent)


def continuation_flood(conn, count):
    conn.settle()
    block = conn.encoder.encode(conn.request_headers("GET", "/echo/flood"))
    conn.send(HeadersFrame(1, data=block, flags=[]))
    sent = 0
    while sent < count and conn.goaway is None and not conn.closed:
        conn.send(*[ContinuationFrame(1, data=b"\x40\x01a\x01b") for _ in range(min(50, count - sent))])
        sent += min(50, count - sent)
        conn.pump(0)
    conn.wait(lambda: conn.goaway is not None, timeout=10)
    return conn.result(continuations_sent=sent)


def hpack_bomb(conn, count):
    conn.settle()
    big = ("x-bomb", "a" * 4000)
    headers = conn.request_headers("GET", "/echo/bomb") + [big] * count
    block = conn.encoder.encode(headers)
    conn.send(HeadersFrame(1, data=block, flags=["END_HEADERS", "END_STREAM"]))
    conn.wait(lambda: conn.stream(1)["ended"] or conn.stream(1)["reset"] is not None or conn.goaway is not None)
    conn.pump(0.5)
    return conn.result(encoded_bytes=len(block), decoded_bytes=sum(len(n) + len(v) + 32 for n, v in headers))


def max_streams(conn, count, path="/echo/open"):
    conn.settle()
    frames = []
    for index in range(count):
        block = conn.encoder.encode(conn.request_headers("POST", path, [("content-length", "1")]))
        frames.append(HeadersFrame(1 + 2 * index, data=block, flags=["END_HEADERS"]))
    # The PING's answer comes once the server has read every HEADERS before it.
    conn.ping_acked = False
    conn.send(*frames, PingFrame(0, opaque_data=b"streams!"))
    last = 1 + 2 * (count - 1)
    conn.wait(lambda: conn.ping_acked or conn.goaway is not None, timeout=10)
    conn.pump(0.2)
    resets = {str(stream_id): s["reset"] for stream_id, s in sorted(conn.streams.items()) if s["reset"] is not None}
    return conn.result(last, resets=resets)


def main():
    port, cafile, scenario, args = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
    conn = Connection(port, cafile)
    if scenario == "request":
        out = request(conn, *args)
    elif scenario == "request-then-wait":
        out = request_then_wait(conn, *args)
    elif scenario == "stall":
        out = stall(conn, *args)
    elif scenario == "silent":
        out = silent(conn)
    elif scenario == "body":
        out = body(conn, *args)
    elif scenario == "rapid-reset":
        out = rapid_reset(conn, int(args[0]))
    elif scenario == "continuation-flood":
        out = continuation_flood(conn, int(args[0]))
    elif scenario == "hpack-bomb":
        out = hpack_bomb(conn, int(args[0]))
    elif scenario == "max-streams":
        out = max_streams(conn, int(args[0]), *args[1:])
    else:
        raise SystemExit("unknown scenario " + scenario)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
