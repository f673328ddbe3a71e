#!/usr/bin/env bash
# HTTP requests/s of the example receivers beside two baselines, in one run: a bare axum handler
# that only reads the body, and a hand-written verifying handler (examples/http-baselines). Each
# server is pinned to one core and wrk to the other (`taskset`), 1 KiB Botdog deliveries pre-signed
# with distinct ids, `wrk -t1 -c32 -d${DURATION}s --latency`. Prints requests/s, p50, p99 and the
# ratios; then the axum receiver again with RedisStore against a local redis-server.
#
#   bash scripts/bench-http.sh            # DURATION=8 by default
#
# Installs wrk (and redis-server for the Redis row) with apt when missing. Never builds with
# `-C target-cpu=native`.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-8}"
SECRET="bench-http-secret-0123456789"
PORT=38571
REDIS_PORT=38572
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

install() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "$1 is missing: installing $2 (apt-get install -y $2)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  fi
}
install wrk wrk
install redis-server redis-server

echo "building the receivers and baselines (release)" >&2
cargo build --release --quiet -p axum-receiver -p tower-receiver -p actix-receiver -p http-baselines

# The wrk script: DELIVERIES distinct 1 KiB deliveries, each with its own id, signed now (the
# receivers' tolerance is 300 s, far longer than a run) and sent in order, so every request is a new
# event for the deduplicating receivers (a run that sends more than DELIVERIES requests says so).
# Only the MACs are stored; wrk builds each body from the template and the id.
DELIVERIES="${DELIVERIES:-400000}"
python3 - "$SECRET" "$DELIVERIES" "$WORK/deliveries.lua" "$WORK/macs.hex" <<'PY'
import hashlib, hmac, json, sys, time
secret, count, out, macs_path = sys.argv[1].encode(), int(sys.argv[2]), sys.argv[3], sys.argv[4]
t = str(int(time.time()))
head = '{"id":"evt_bench_%08d","eventType":"LEAD_MESSAGE_REPLIED","timestamp":"2026-11-20T10:15:00.000Z","humanReadableEventName":"Received a reply","campaignId":"cmp_42","campaignName":"Q4 founders","contactName":"Jose Muller","contactLinkedinUrl":"https://www.linkedin.com/in/jose-muller","contactEmails":["jose@example.com"],"repliedAt":"2026-11-20T10:14:58.000Z","message":"'
template = head + "x" * (1024 - len(head % 0) - 2) + '"}'
assert len(template % 0) == 1024
key = hmac.new(secret, digestmod=hashlib.sha256)
# The MACs go in one file of 64 hex digits each (a Lua table this long would pass LuaJIT's limit
# on constants per function).
with open(macs_path, "w") as f:
    for n in range(count):
        mac = key.copy()
        mac.update((t + "." + (template % n)).encode())
        f.write(mac.hexdigest())
with open(out, "w") as f:
    f.write("local template = %s\nlocal t = %s\nlocal macs = io.open(%s):read('*a')\n" % (json.dumps(template), json.dumps(t), json.dumps(macs_path)))
    f.write("""
local count = #macs / 64
local next = 0
-- The request's bytes around the MAC and the id are built once: per request, one concatenation.
local head = "POST /webhooks/botdog HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nContent-Type: application/json\\r\\n"
  .. "Content-Length: " .. #string.format(template, 0) .. "\\r\\nX-Webhook-Signature: t=" .. t .. ",s="
local at = string.find(template, "%08d", 1, true)
local before, after = string.sub(template, 1, at - 1), string.sub(template, at + 4)
request = function()
  local n = next % count
  next = next + 1
  local mac = string.sub(macs, n * 64 + 1, n * 64 + 64)
  return head .. mac .. "\\r\\n\\r\\n" .. before .. string.format("%08d", n) .. after
end
""")
    f.write("""
done = function(summary, latency, requests)
  if summary.requests > count then
    io.stderr:write(string.format("note: %d requests for %d distinct deliveries: later ones were duplicates\\n", summary.requests, count))
  end
end
""")
PY

# Runs the server command on core 1, then wrk on core 0; prints "name requests/s p50 p99".
measure() {
  local name="$1"; shift
  ADDR="127.0.0.1:$PORT" WEBHOOK_SECRET="$SECRET" RUST_LOG=off taskset -c 1 "$@" >/dev/null 2>"$WORK/$name.err" &
  local server=$!
  for _ in $(seq 100); do
    if (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    sleep 0.1
  done
  taskset -c 0 wrk -t1 -c32 -d"${DURATION}s" --latency -s "$WORK/deliveries.lua" "http://127.0.0.1:$PORT" >"$WORK/$name.wrk"
  kill "$server"; wait "$server" 2>/dev/null || true
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec/ {print $2}' "$WORK/$name.wrk")
  p50=$(awk '$1 == "50%" {print $2}' "$WORK/$name.wrk")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/$name.wrk")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/$name.wrk")
  if [ -n "$non2xx" ]; then
    # Duplicates are 200s: a non-2xx means the run did not measure what it claims.
    echo "error: $name answered $non2xx non-2xx responses" >&2
    exit 1
  fi
  echo "$name $rps $p50 $p99" >>"$WORK/results"
}

measure bare target/release/bare
measure hand_written target/release/hand_written
measure axum_receiver target/release/axum-receiver
measure tower_receiver target/release/tower-receiver
measure actix_receiver target/release/actix-receiver

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >/dev/null &
REDIS=$!
sleep 0.5
REDIS_URL="redis://127.0.0.1:$REDIS_PORT" measure axum_receiver_redis target/release/axum-receiver
kill "$REDIS"

echo
echo "wrk -t1 -c32 -d${DURATION}s, 1 KiB Botdog deliveries, server on core 1, wrk on core 0 ($(nproc) cores)"
awk '
  { name[NR] = $1; rps[NR] = $2; p50[NR] = $3; p99[NR] = $4; if ($1 == "bare") bare = $2; if ($1 == "hand_written") hand = $2 }
  END {
    printf "%-22s %12s %10s %10s %14s %10s\n", "receiver", "requests/s", "p50", "p99", "÷hand-written", "÷bare"
    for (i = 1; i <= NR; i++)
      printf "%-22s %12.0f %10s %10s %14.2f %10.2f\n", name[i], rps[i], p50[i], p99[i], rps[i] / hand, rps[i] / bare
  }' "$WORK/results"
