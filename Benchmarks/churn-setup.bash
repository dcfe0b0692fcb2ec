# Sourced by connection-churn and soak: a temp dir, free loopback ports, an nginx upstream that
# answers a fixed 200 JSON, the release gateway in front of it, and cleanup of all of it on exit.
# The gateway is not built here (GATEWAY_BIN, default .build/release/gateway): these scripts
# watch one binary's memory for minutes, so they take the one already built.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gateway_bin=${GATEWAY_BIN:-$root/.build/release/gateway}
if [[ ! -x $gateway_bin ]]; then
  echo "no gateway at $gateway_bin: run swift build -c release --product gateway, or set GATEWAY_BIN" >&2
  exit 1
fi
"$root/scripts/ensure-packages" curl nginx python3
fixtures=$root/Tests/GatewayIntegrationTests/Fixtures
client=(python3 "$root/Benchmarks/churn-client.py")

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
openssl rand -hex 32 > "$work/secret"

# free_ports N: N distinct free loopback ports, held together while chosen so none repeats.
free_ports() {
  python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# rss_kib PID: VmRSS of PID plus its children (HAProxy or nginx workers), in KiB.
rss_kib() {
  local total=0 pid kib
  for pid in "$1" $(pgrep -P "$1" || true); do
    kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${kib:-0}))
  done
  echo "$total"
}

# start_upstream PORT [BODY]: nginx answering every request with a fixed 200 JSON (default
# {"ok":true}); sets upstream_pid.
start_upstream() {
  local body=${2:-'{"ok":true}'}
  cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  fastcgi_temp_path $work/nginx-fastcgi;
  uwsgi_temp_path $work/nginx-uwsgi;
  scgi_temp_path $work/nginx-scgi;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$1; location / { default_type application/json; return 200 '$body'; } }
}
CONF
  nginx -c "$work/nginx.conf" -g "daemon off;" >"$work/nginx.log" 2>&1 &
  upstream_pid=$!
  pids+=("$upstream_pid")
}

# write_gateway_conf PORT UPSTREAM_PORT IDLE_TIMEOUT [EXTRA_TOML]: /open without auth,
# /api with an HS256 token, /limited with 10 requests a second per client address.
write_gateway_conf() {
  cat > "$work/gateway.conf" <<CONF
[server]
listen = "127.0.0.1:$1"
idle_timeout = "$3"
drain_timeout = "1s"
[tls]
certificate = "$fixtures/server-ec.crt"
private_key = "$fixtures/server-ec.key"
[jwt]
algorithms = ["HS256"]
secret_file = "$work/secret"
issuer = "userservice"
audience = "gateway"
[store]
path = "$work/gateway.sqlite"
[log]
level = "warning"
access = false
[[upstream]]
name = "up"
url = "http://127.0.0.1:$2"
[[route]]
path = "/open"
upstream = "up"
auth = "none"
rate_limit = []
[[route]]
path = "/api"
upstream = "up"
rate_limit = []
[[route]]
path = "/limited"
upstream = "up"
auth = "none"
rate_limit = [{ rate = "10/second", key = "ip" }]
${4:-}
CONF
}

# start_gateway: runs the gateway on gateway.conf; sets gateway_pid.
start_gateway() {
  "$gateway_bin" serve --config "$work/gateway.conf" >"$work/gateway.log" 2>&1 &
  gateway_pid=$!
  pids+=("$gateway_pid")
}

# wait_ready PORT: until GET /open/x answers over TLS (at most 30 s).
wait_ready() {
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null --cacert "$fixtures/ca.crt" "https://127.0.0.1:$1/open/x" 2>/dev/null && return 0
    sleep 0.1
  done
  curl -fsS -o /dev/null --cacert "$fixtures/ca.crt" "https://127.0.0.1:$1/open/x"
}
