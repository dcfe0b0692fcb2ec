#!/usr/bin/env python3
"""Clients of Benchmarks/abuse: one legitimate client and three attackers (issue 15, findings 1-3).

  abuse-client.py legit HOST PORT --ca CA [--redirect-port P] [--duration S] [--interval S]
      New TLS connection per request, GET /open/x with Connection: close, read to EOF, 3 s timeout;
      with --redirect-port also a plain GET to the redirect listener (308 counts as OK). Runs for
      --duration seconds or until SIGTERM, then prints one line per listener:
      "legit https ok=N failed=M first_ok=S last_fail=S outcomes=..." (times from the start).
  abuse-client.py admin-flood HOST PORT COUNT [--source IP] [--threads T] [--connect-for S] [--hold S]
      COUNT plain connections to the admin listener (failed attempts retried until --connect-for),
      each sending only "GET /metrics HTTP/1.1\\r\\n" (a partial head) and held; plus, first, one
      keep-alive connection idle after a whole GET /healthz. Prints "connected N ..." when COUNT are connected or --connect-for has passed,
      holds --hold seconds, then "after_hold ..." (how many the gateway closed or answered) and exits.
  abuse-client.py slow-upload HOST PORT COUNT --ca CA [--path P] [--length N] [--interval S] [--window S]
      COUNT TLS connections each POSTing a body of --length bytes, one byte every --interval
      seconds, for at most --window seconds. Prints "connected N" once all heads are sent, then one
      summary: completed (status, seconds), cut by the gateway (how, after how long), still uploading.
  abuse-client.py held-body HOST PORT COUNT --ca CA [--path P] [--length N] [--hold S]
      COUNT TLS connections each POSTing Content-Length N of JSON and sending all but the last
      byte, then stalling. Prints "sent N ..." once all have sent (or failed), holds --hold seconds
      (or until SIGTERM), then "after_hold ..." and exits.

Every mode takes --source IP: the local address to connect from (127.0.0.x), so that the gateway
tells the legitimate client from the attackers. Errors are counted, never fatal; every socket has
a timeout so no run hangs.
"""
import argparse, collections, resource, select, signal, socket, ssl, threading, time

IP_BIND_ADDRESS_NO_PORT = 24
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def source(args):
    return (args.source, 0) if args.source else None


def error_name(error):
    if isinstance(error, socket.timeout):
        return "timeout"
    return type(error).__name__


def fmt(counter):
    return ",".join(f"{key}:{value}" for key, value in sorted(counter.items(), key=str)) or "-"


def tls_context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def status_of(data):
    try:
        return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else None
    except (IndexError, ValueError):
        return None


def read_to_eof(sock, deadline):
    """What the peer sends until it closes; what came before a timeout if anything did."""
    data = b""
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ssl.SSLError, ConnectionResetError):
            if data:
                return data
            raise
        if not chunk:
            return data
        data += chunk
        if len(data) > 1 << 20:
            return data


def legit_once(args, ctx, redirect):
    deadline = time.monotonic() + args.timeout
    sock = socket.create_connection((args.host, args.redirect_port if redirect else args.port), timeout=args.timeout,
                                    source_address=source(args))
    try:
        if not redirect:
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
        sock.sendall(b"GET /open/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        status = status_of(read_to_eof(sock, deadline))
        return status if status is not None else "eof"
    finally:
        sock.close()


def legit(args):
    ctx = tls_context(args.ca)
    kinds = ["https"] + (["redirect"] if args.redirect_port else [])
    stats = {kind: {"ok": 0, "failed": 0, "first_ok": None, "last_fail": None, "outcomes": collections.Counter()}
             for kind in kinds}
    start = time.monotonic()
    while not stop.is_set() and time.monotonic() - start < args.duration:
        for kind in kinds:
            try:
                outcome = legit_once(args, ctx, kind == "redirect")
            except (OSError, ssl.SSLError, ValueError) as error:
                outcome = error_name(error)
            s, now = stats[kind], round(time.monotonic() - start, 1)
            s["outcomes"][outcome] += 1
            if outcome == (308 if kind == "redirect" else 200):
                s["ok"] += 1
                if s["first_ok"] is None:
                    s["first_ok"] = now
            else:
                s["failed"] += 1
                s["last_fail"] = now
        stop.wait(args.interval)
    for kind, s in stats.items():
        print(f"legit {kind} ok={s['ok']} failed={s['failed']} first_ok={s['first_ok']} "
              f"last_fail={s['last_fail']} seconds={time.monotonic() - start:.0f} outcomes={fmt(s['outcomes'])}",
              flush=True)


def connection_state(sock):
    """open, closed (EOF), reset, or answered (the peer sent something), without blocking."""
    try:
        p = select.poll()
        p.register(sock, select.POLLIN | select.POLLHUP | select.POLLERR)
        if not p.poll(0):
            return "open"
        # The raw socket's bytes (TLS records for a TLS socket): peeked, so nothing is consumed.
        data = socket.socket.recv(sock, 1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        return "answered" if data else "closed"
    except BlockingIOError:
        return "open"
    except OSError as error:
        return error_name(error)


def admin_flood(args):
    raise_nofile()
    held, outcomes, lock = [], collections.Counter(), threading.Lock()
    in_flight = [0]
    idle = None
    try:  # one idle keep-alive connection after a whole request
        idle = socket.create_connection((args.host, args.port), timeout=3)
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        idle.recv(65536)
    except OSError as error:
        outcomes["idle_probe_" + error_name(error)] += 1
        idle = None
    deadline = time.monotonic() + args.connect_for

    def worker():
        while not stop.is_set() and time.monotonic() < deadline:
            with lock:  # until COUNT are held (failed attempts are retried)
                if len(held) + in_flight[0] >= args.count:
                    return
                in_flight[0] += 1
            sock = None
            try:
                sock = socket.socket()
                if args.source:
                    sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                    sock.bind((args.source, 0))
                sock.settimeout(2)
                sock.connect((args.host, args.port))
                sock.sendall(b"GET /metrics HTTP/1.1\r\n")
                with lock:
                    held.append(sock)
                    in_flight[0] -= 1
                    outcomes["connected"] += 1
            except (OSError, ValueError) as error:
                if sock is not None:
                    sock.close()
                with lock:
                    in_flight[0] -= 1
                    outcomes[error_name(error)] += 1

    start = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    states = collections.Counter(connection_state(s) for s in held)
    print(f"connected {len(held)} of {args.count} in {time.monotonic() - start:.1f}s "
          f"open_now={states['open']} attempts={fmt(outcomes)}", flush=True)
    stop.wait(args.hold)
    states = collections.Counter(connection_state(s) for s in held)
    idle_state = connection_state(idle) if idle is not None else "never_opened"
    print(f"after_hold {args.hold:.0f}s open={states['open']} of {len(held)} states={fmt(states)} "
          f"idle_keepalive={idle_state}", flush=True)
    for sock in held:
        sock.close()


def slow_upload(args):
    raise_nofile()
    ctx = tls_context(args.ca)
    results, lock, ready = [], threading.Lock(), threading.Barrier(args.count + 1)
    head = (f"POST {args.path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Content-Length: {args.length}\r\n\r\n").encode()
    body = (b'"' + b"x" * (args.length - 2) + b'"') if args.length >= 2 else b"1" * args.length

    def worker():
        start, sent, sock = time.monotonic(), 0, None
        try:
            try:
                sock = ctx.wrap_socket(socket.create_connection((args.host, args.port), timeout=5,
                                                                source_address=source(args)),
                                       server_hostname="localhost")
                sock.sendall(head)
            except (OSError, ssl.SSLError) as error:
                result = ("connect_failed", error_name(error), time.monotonic() - start, 0)
                sock = None
                return
            finally:
                try:
                    ready.wait(timeout=60)
                except threading.BrokenBarrierError:
                    pass
            start = time.monotonic()
            result = ("uploading", "-", args.window, 0)
            while True:
                elapsed = time.monotonic() - start
                if sent == args.length:
                    # Whole body sent: wait for the answer.
                    try:
                        status = status_of(read_to_eof(sock, time.monotonic() + 10))
                        result = ("completed", status, time.monotonic() - start, sent)
                    except (OSError, ssl.SSLError) as error:
                        result = ("completed_no_answer", error_name(error), time.monotonic() - start, sent)
                    return
                if elapsed >= args.window or stop.is_set():
                    result = ("still_uploading", "-", elapsed, sent)
                    return
                readable, _, _ = select.select([sock], [], [], min(args.interval, args.window - elapsed)
                                               if sent else 0)
                if readable or sock.pending():
                    try:
                        data = read_to_eof(sock, time.monotonic() + 2)
                        status = status_of(data)
                        how = status if status is not None else "eof"
                    except (OSError, ssl.SSLError) as error:
                        how = error_name(error)
                    result = ("cut", how, time.monotonic() - start, sent)
                    return
                if time.monotonic() - start >= args.window:
                    continue
                try:
                    sock.sendall(body[sent:sent + 1])
                    sent += 1
                except (OSError, ssl.SSLError) as error:
                    result = ("cut", error_name(error), time.monotonic() - start, sent)
                    return
        finally:
            if sock is not None:
                sock.close()
            with lock:
                results.append(result)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.count)]
    for thread in threads:
        thread.start()
    try:
        ready.wait(timeout=60)
    except threading.BrokenBarrierError:
        pass
    print(f"connected {args.count}", flush=True)
    for thread in threads:
        thread.join()
    summary = collections.defaultdict(list)
    for kind, how, seconds, sent in results:
        summary[(kind, how)].append((seconds, sent))
    parts = []
    for (kind, how), values in sorted(summary.items(), key=str):
        secs = [v[0] for v in values]
        sent = [v[1] for v in values]
        parts.append(f"{kind}({how}):{len(values)} after {min(secs):.0f}-{max(secs):.0f}s "
                     f"having sent {min(sent)}-{max(sent)} of {args.length} bytes")
    print("slow " + "; ".join(parts), flush=True)


def held_body(args):
    raise_nofile()
    ctx = tls_context(args.ca)
    held, outcomes, lock = [], collections.Counter(), threading.Lock()
    head = (f"POST {args.path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Content-Length: {args.length}\r\n\r\n").encode()
    body = b'{"d":"' + b"x" * (args.length - 8) + b'"}'
    assert len(body) == args.length
    body = body[:-1]  # all but the closing brace
    semaphore = threading.Semaphore(args.parallel)

    def worker():
        with semaphore:
            sock = None
            try:
                sock = ctx.wrap_socket(socket.create_connection((args.host, args.port), timeout=30,
                                                                source_address=source(args)),
                                       server_hostname="localhost")
                sock.sendall(head + body)
                with lock:
                    held.append(sock)
                    outcomes["sent"] += 1
            except (OSError, ssl.SSLError) as error:
                if sock is not None:
                    sock.close()
                with lock:
                    outcomes[error_name(error)] += 1

    start = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    states = collections.Counter(connection_state(s) for s in held)
    print(f"sent {len(held)} of {args.count} in {time.monotonic() - start:.1f}s open_now={states['open']} "
          f"outcomes={fmt(outcomes)} states={fmt(states)}", flush=True)
    stop.wait(args.hold)
    states = collections.Counter(connection_state(s) for s in held)
    print(f"after_hold open={states['open']} of {len(held)} states={fmt(states)}", flush=True)
    for sock in held:
        sock.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("legit")
    p.add_argument("host"); p.add_argument("port", type=int)
    p.add_argument("--ca", required=True)
    p.add_argument("--redirect-port", type=int)
    p.add_argument("--source")
    p.add_argument("--duration", type=float, default=3600)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=3)
    p = sub.add_parser("admin-flood")
    p.add_argument("host"); p.add_argument("port", type=int); p.add_argument("count", type=int)
    p.add_argument("--source")
    p.add_argument("--threads", type=int, default=50)
    p.add_argument("--connect-for", type=float, default=30)
    p.add_argument("--hold", type=float, default=30)
    p = sub.add_parser("slow-upload")
    p.add_argument("host"); p.add_argument("port", type=int); p.add_argument("count", type=int)
    p.add_argument("--ca", required=True)
    p.add_argument("--path", default="/open/x")
    p.add_argument("--source")
    p.add_argument("--length", type=int, default=30)
    p.add_argument("--interval", type=float, default=4)
    p.add_argument("--window", type=float, default=45)
    p = sub.add_parser("held-body")
    p.add_argument("host"); p.add_argument("port", type=int); p.add_argument("count", type=int)
    p.add_argument("--ca", required=True)
    p.add_argument("--path", default="/json/x")
    p.add_argument("--source")
    p.add_argument("--length", type=int, default=1048575)
    p.add_argument("--hold", type=float, default=3600)
    p.add_argument("--parallel", type=int, default=16)
    args = parser.parse_args()
    {"legit": legit, "admin-flood": admin_flood, "slow-upload": slow_upload, "held-body": held_body}[args.mode](args)


main()
