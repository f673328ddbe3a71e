#!/usr/bin/env bash
# HTTP requests/s of the example receivers beside their baselines, in one run: a bare axum handler
# that only reads the body, and a hand-written verifying handler on axum and on actix-web
# (examples/http-baselines; the actix-web receiver is also compared with the latter). Each
# server is pinned to one core and wrk to the other (`taskset`), 1 KiB Botdog deliveries pre-signed
# with distinct ids, `wrk -t1 -c32 -d${DURATION}s --latency`; also the axum receiver with RedisStore
# against a local redis-server, and without deduplication (DEDUP=off). ROUNDS rounds of all eight,
# interleaved; prints the medians of requests/s, p50, p99 and of the server's CPU time per request,
# and the ratios.
#
#   bash scripts/bench-http.sh            # DURATION=8, ROUNDS=3 by default
#
# Installs wrk (and redis-server for the Redis row) with apt when missing. Never builds with
# `-C target-cpu=native`.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-8}"
SECRET="bench-http-secret-0123456789"
PORT=38571
REDIS_PORT=38572
# shellcheck source=scripts/http-bench-setup.sh
source scripts/http-bench-setup.sh wrk redis-server

# The wrk script: DELIVERIES distinct 1 KiB deliveries, each with its own id, signed now (the
# receivers' tolerance is 300 s, far longer than a run) and sent in order, so every request is a new
# event for the deduplicating receivers. By default 200,000 per second of a run: more than the bare
# handler answers (150k/s on 2026-12-04's machine). A receiver sent more requests than that fails
# the run (its later requests were duplicates, answered without the handler). Only the MACs are
# stored; wrk builds each body from the template and the id.
DELIVERIES="${DELIVERIES:-$((200000 * DURATION))}"
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

# Runs the server command on core 1, then wrk on core 0; appends "name requests/s p50 p99 cpu"
# to the results, where cpu is the server's CPU time (user + system, from /proc) per request in µs:
# on a shared machine another process's slices lower requests/s, not the CPU a request costs.
measure() {
  local name="$1"; shift
  ADDR="127.0.0.1:$PORT" WEBHOOK_SECRET="$SECRET" RUST_LOG=off taskset -c 1 "$@" >/dev/null 2>"$WORK/$name.err" &
  local server=$!
  for _ in $(seq 100); do
    if (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    sleep 0.1
  done
  local ticks_before ticks_after also_before=0 also_after=0
  ticks_before=$(cpu_ticks "$server")
  [ -n "${ALSO_PID:-}" ] && also_before=$(cpu_ticks "$ALSO_PID")
  taskset -c 0 wrk -t1 -c32 -d"${DURATION}s" --latency -s "$WORK/deliveries.lua" "http://127.0.0.1:$PORT" >"$WORK/$name.wrk"
  ticks_after=$(cpu_ticks "$server")
  [ -n "${ALSO_PID:-}" ] && also_after=$(cpu_ticks "$ALSO_PID")
  kill "$server"; wait "$server" 2>/dev/null || true
  local rps p50 p99 non2xx requests
  rps=$(awk '/^Requests\/sec/ {print $2}' "$WORK/$name.wrk")
  p50=$(awk '$1 == "50%" {print $2}' "$WORK/$name.wrk")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/$name.wrk")
  requests=$(awk '/requests in/ {print $1}' "$WORK/$name.wrk")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/$name.wrk")
  if [[ "$name" == *receiver* ]] && [ "$requests" -gt "$DELIVERIES" ]; then
    echo "error: $name was sent $requests requests for $DELIVERIES distinct deliveries: raise DELIVERIES" >&2
    exit 1
  fi
  if [ -n "$non2xx" ]; then
    # Duplicates are 200s: a non-2xx means the run did not measure what it claims.
    echo "error: $name answered $non2xx non-2xx responses" >&2
    exit 1
  fi
  local cpu also
  per_request() { awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN { printf "%.2f", t / hz / n * 1e6 }'; }
  cpu=$(per_request "$((ticks_after - ticks_before))")
  also=$(per_request "$((also_after - also_before))")
  echo "$name $rps $p50 $p99 $cpu $also" >>"$WORK/results"
}

# utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat; the command
# name in field 2 has no spaces here).
cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# ROUNDS rounds (default 3), each measuring every receiver once, in the same order: a slow spell
# of the shared machine lands on one round of each, and the medians below leave it out.
ROUNDS="${ROUNDS:-3}"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >/dev/null &
REDIS=$!
sleep 0.5
for round in $(seq "$ROUNDS"); do
  echo "round $round of $ROUNDS" >&2
  measure bare target/release/bare
  measure hand_written target/release/hand_written
  measure axum_receiver target/release/axum-receiver
  # The same without deduplication, which the hand-written handler does not do: what verifying
  # and parsing cost, apart from what remembering a million ids costs.
  DEDUP=off measure axum_no_dedup target/release/axum-receiver
  measure tower_receiver target/release/tower-receiver
  measure actix_receiver target/release/actix-receiver
  measure hand_written_actix target/release/hand_written_actix
  # A fresh database per run, so every delivery is new to it.
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  # redis-server's CPU per request too: on this machine it shares the two cores with the server
  # and wrk, and its share is part of what a request through Redis costs.
  ALSO_PID=$REDIS REDIS_URL="redis://127.0.0.1:$REDIS_PORT" measure axum_receiver_redis target/release/axum-receiver
done
kill "$REDIS"

echo
echo "wrk -t1 -c32 -d${DURATION}s, 1 KiB Botdog deliveries, server on core 1, wrk on core 0 ($(nproc) cores)"
echo "medians of $ROUNDS rounds; cpu = the server's CPU time per request; ratios of the medians"
awk '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  # wrk prints latencies as 812.00us, 1.43ms or 2.01s: in ms.
  function ms(v) {
    if (v ~ /us$/) return v / 1000
    if (v ~ /ms$/) return v + 0
    if (v ~ /s$/) return v * 1000
    return v + 0
  }
  !($1 in seen) { seen[$1] = 1; order[++count] = $1 }
  { rps[$1] = rps[$1] " " $2; p50[$1] = p50[$1] " " ms($3); p99[$1] = p99[$1] " " ms($4); cpu[$1] = cpu[$1] " " $5; also[$1] = also[$1] " " $6 }
  END {
    hand = median(rps["hand_written"]); bare = median(rps["bare"]); hand_cpu = median(cpu["hand_written"])
    printf "%-20s %11s %9s %9s %12s %14s %8s %16s\n", "receiver", "requests/s", "p50 ms", "p99 ms", "cpu µs/req", "÷hand-written", "÷bare", "hand cpu ÷ cpu"
    for (i = 1; i <= count; i++) {
      n = order[i]; r = median(rps[n]); c = median(cpu[n])
      printf "%-20s %11.0f %9.2f %9.2f %12.2f %14.2f %8.2f %16.2f\n", n, r, median(p50[n]), median(p99[n]), c, r / hand, r / bare, hand_cpu / c
    }
    # The actix-web receiver beside the same hand-written handler on actix-web: what the adapter
    # costs, apart from what actix-web costs against axum.
    if ("hand_written_actix" in rps) printf "\nactix_receiver ÷ hand_written_actix: requests/s %.2f, cpu %.2f\n", median(rps["actix_receiver"]) / median(rps["hand_written_actix"]), median(cpu["hand_written_actix"]) / median(cpu["actix_receiver"])
    if ("axum_receiver_redis" in also) printf "\nredis-server: %.2f µs of CPU per request besides the receiver'"'"'s\n", median(also["axum_receiver_redis"])
    printf "\nevery round (requests/s): \n"
    for (i = 1; i <= count; i++) printf "  %-20s%s\n", order[i], rps[order[i]]
  }' "$WORK/results"
