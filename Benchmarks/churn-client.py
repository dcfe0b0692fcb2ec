#!/usr/bin/env python3
"""Client of Benchmarks/connection-churn and Benchmarks/soak: opens connections of one shape.

  churn-client.py HOST PORT SHAPE COUNT [--threads T] [--ca CA] [--token TOKEN] [--hold SECONDS]
  churn-client.py token SECRET_FILE [SECONDS] (prints an HS256 token the gateway accepts, valid
                                               SECONDS, default a day; negative: expired)

Shapes, each on a new connection: tcp (connect, close), handshake (TLS handshake, close),
ok (GET /api with a valid token), refused (GET /api with a bad token), malformed (Content-Length
and Transfer-Encoding together), limited (GET /limited, a route with a small rate limit); the
requests say `Connection: close` and are read to EOF. idle: COUNT keep-alive connections, one
GET /open each, then held open for --hold seconds (or until the process is killed) after printing
"held N". Every TLS handshake is a full one: tickets are off and no session is reused.

Prints one line: shape, count, seconds, connections per second, status codes, errors.
"""
import argparse, base64, collections, hashlib, hmac, json, socket, ssl, sys, threading, time

REQUESTS = {
    "ok": "GET /api/x HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
    "refused": "GET /api/x HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer x.y.z\r\nConnection: close\r\n\r\n",
    # A complete chunked body, so a peer that forwards it instead of refusing still answers.
    "malformed": "POST /open/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
                 "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
    "limited": "GET /limited/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    "idle": "GET /open/x HTTP/1.1\r\nHost: localhost\r\n\r\n",
}
TIMEOUT = 10  # seconds a connection may stall before it counts as an error, so no run hangs


def token(secret_file, seconds=86400):
    """An HS256 token with the claims the benchmarks' gateway config requires, valid `seconds`."""
    secret = open(secret_file, "rb").read().rstrip(b"\r\n")
    b64 = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=")
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"iss": "userservice", "aud": "gateway", "sub": "churn", "exp": int(time.time()) + seconds}
    signing_input = header + b"." + b64(json.dumps(claims).encode())
    return (signing_input + b"." + b64(hmac.new(secret, signing_input, hashlib.sha256).digest())).decode()


def read_response(sock, to_eof):
    """Reads one response; returns its status code. Keep-alive responses need a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    if to_eof:
        while sock.recv(65536):
            pass
    else:
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return status


def connect(args, ctx):
    """One connection of args.shape; returns (status or shape name, socket to keep or None)."""
    sock = socket.create_connection((args.host, args.port), timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        if args.shape == "tcp":
            return "closed", None
        sock = ctx.wrap_socket(sock, server_hostname="localhost")
        if args.shape == "handshake":
            return "closed", None
        sock.sendall(REQUESTS[args.shape].format(token=args.token).encode())
        status = read_response(sock, to_eof=args.shape != "idle")
        if args.shape == "idle":
            kept, sock = sock, None
            return status, kept
        return status, None
    finally:
        if sock is not None:
            sock.close()


def run(args):
    ctx = ssl.create_default_context(cafile=args.ca)
    ctx.options |= ssl.OP_NO_TICKET  # no session tickets: every handshake is a full one
    outcomes, kept = collections.Counter(), []
    lock, remaining = threading.Lock(), [args.count]

    def worker():
        while True:
            with lock:
                if remaining[0] == 0:
                    return
                remaining[0] -= 1
            try:
                outcome, sock = connect(args, ctx)
            except (OSError, ssl.SSLError, ValueError, IndexError) as error:
                outcome, sock = type(error).__name__, None
            with lock:
                outcomes[outcome] += 1
                if sock is not None:
                    kept.append(sock)

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - start
    summary = " ".join(f"{key}:{value}" for key, value in sorted(outcomes.items(), key=str))
    print(f"shape={args.shape} count={args.count} seconds={seconds:.1f} "
          f"per_second={args.count / seconds:.0f} outcomes={summary}", flush=True)
    if args.shape == "idle":
        print(f"held {len(kept)}", flush=True)
        time.sleep(args.hold)
        for sock in kept:
            sock.close()


def main():
    if len(sys.argv) in (3, 4) and sys.argv[1] == "token":
        print(token(sys.argv[2], *map(int, sys.argv[3:])))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("shape", choices=["tcp", "handshake", *REQUESTS])
    parser.add_argument("count", type=int)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--hold", type=float, default=300)
    run(parser.parse_args())


main()
