#!/usr/bin/env bash
# User-space instructions per HTTP request of each example receiver beside the hand-written
# verifying handler (examples/http-baselines), counted by callgrind: the same figure on an idle
# machine and a loaded one, where bench-http.sh's requests/s move by tens of percent between runs.
#
#   bash scripts/http-instructions.sh          # REQUESTS=1000 by default
#
# Each server runs under `valgrind --tool=callgrind` twice, answering 200 and then 200 + REQUESTS
# 1 KiB Botdog deliveries (distinct ids, signed when sent) on one keep-alive connection; the
# difference between the two runs divided by REQUESTS is the cost of one request, without the
# process's start-up. Also without SHA-256's compression function: under valgrind `sha2` runs its
# portable code (no SHA extensions), whose cost says nothing about the CPU's, so the column
# "without SHA-256" is the one that compares with what the receivers add. The Redis row runs
# against a local redis-server. Kernel time (the socket calls, the same for every receiver) is
# not counted. Installs valgrind and redis-server with apt when missing.
#
# CACHE_SIM=1 also simulates the caches (`--cache-sim=yes`, the host's L1 sizes) and prints the
# first-level misses per request, for instructions (I1) and data (D1, reads + writes), and an
# estimate of cycles without SHA-256, Ir + 10 × (I1 + D1 misses) (callgrind's own weighting of an
# L1 miss that hits the next level): the figure that tracks CPU time per request where the
# instruction counts alone do not, because every receiver's per-request code is larger than the
# 64 KiB I1 cache, so the code a receiver adds also evicts the server's own. About three times
# slower than without.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS="${REQUESTS:-1000}"
BASE=200
SECRET="bench-http-secret-0123456789"
# Free loopback ports, chosen by the kernel.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT="$(free_port)"
REDIS_PORT="$(free_port)"
# shellcheck source=scripts/http-bench-setup.sh
source scripts/http-bench-setup.sh valgrind redis-server

# Sends COUNT deliveries on one connection and fails unless every answer is a 2xx.
cat >"$WORK/client.py" <<'PY'
import hashlib, hmac, http.client, sys, time
port, count, secret = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
head = '{"id":"evt_bench_%08d","eventType":"LEAD_MESSAGE_REPLIED","timestamp":"2026-11-20T10:15:00.000Z","humanReadableEventName":"Received a reply","campaignId":"cmp_42","campaignName":"Q4 founders","contactName":"Jose Muller","contactLinkedinUrl":"https://www.linkedin.com/in/jose-muller","contactEmails":["jose@example.com"],"repliedAt":"2026-11-20T10:14:58.000Z","message":"'
template = head + "x" * (1024 - len(head % 0) - 2) + '"}'
for _ in range(600):  # the server starts slowly under valgrind
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        connection.connect()
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("the server did not start")
for n in range(count):
    t = str(int(time.time()))
    body = (template % n).encode()
    mac = hmac.new(secret, t.encode() + b"." + body, hashlib.sha256).hexdigest()
    connection.request("POST", "/webhooks/botdog", body,
                       {"Content-Type": "application/json", "X-Webhook-Signature": f"t={t},s={mac}"})
    response = connection.getresponse()
    response.read()
    if not 200 <= response.status < 300:
        sys.exit(f"delivery {n}: {response.status}")
PY

# Stops a server so that callgrind writes its counts: SIGTERM, then (actix-web shuts down
# gracefully, slowly under valgrind) SIGINT after 30 s; a server still running after 90 s more
# is killed, and its run fails for want of counts.
stop() {
  kill -TERM "$1" 2>/dev/null || true
  for second in $(seq 120); do
    kill -0 "$1" 2>/dev/null || break
    [ "$second" = 30 ] && kill -INT "$1" 2>/dev/null
    sleep 1
  done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

CACHE_SIM="${CACHE_SIM:-0}"
CALLGRIND_OPTIONS=(--tool=callgrind)
[ "$CACHE_SIM" = 1 ] && CALLGRIND_OPTIONS+=(--cache-sim=yes)

# Prints "total without-sha I1-misses D1-misses" of one run of the server answering $2 requests
# (the misses 0 without CACHE_SIM=1).
count() {
  local name="$1" requests="$2"; shift 2
  local out="$WORK/$name.$requests.callgrind"
  env "$@" ADDR="127.0.0.1:$PORT" WEBHOOK_SECRET="$SECRET" RUST_LOG=off \
    valgrind "${CALLGRIND_OPTIONS[@]}" --callgrind-out-file="$out" "target/release/$name" >/dev/null 2>"$WORK/$name.err" &
  local server=$!
  local sent=0
  python3 "$WORK/client.py" "$PORT" "$requests" "$SECRET" || sent=$?
  stop "$server"
  if [ "$sent" != 0 ]; then
    echo "error: $name did not answer every delivery with a 2xx (its log: $(tail -3 "$WORK/$name.err"))" >&2
    return 1
  fi
  local sha
  sha=$(callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null |
    awk '/sha2::sha256::compress256 / && !found {gsub(",", "", $1); print $1; found = 1}')
  # The summary's columns follow the "events:" line: Ir, and with the cache simulation
  # Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw.
  awk -v sha="${sha:-0}" '
    /^events:/ { for (i = 2; i <= NF; i++) column[$i] = i }
    /^summary:/ { print $column["Ir"], sha, ("I1mr" in column) ? $column["I1mr"] : 0,
                  ("D1mr" in column) ? $column["D1mr"] + $column["D1mw"] : 0 }' "$out"
}

# Prints "name per-request per-request-without-sha".
measure() {
  local label="$1" name="$2"; shift 2
  [ -n "${REDIS_URL_FOR_ROW:-}" ] && redis-cli -p "$REDIS_PORT" flushall >/dev/null
  read -r base_total base_sha base_i1 base_d1 < <(count "$name" "$BASE" "$@")
  [ -n "${REDIS_URL_FOR_ROW:-}" ] && redis-cli -p "$REDIS_PORT" flushall >/dev/null
  read -r total sha i1 d1 < <(count "$name" "$((BASE + REQUESTS))" "$@")
  awk -v l="$label" -v t="$((total - base_total))" -v s="$((sha - base_sha))" -v n="$REQUESTS" \
    -v i="$((i1 - base_i1))" -v d="$((d1 - base_d1))" \
    'BEGIN { printf "%s %.0f %.0f %.0f %.0f\n", l, t / n, (t - s) / n, i / n, d / n }' >>"$WORK/results"
}

measure hand_written hand_written
measure axum_receiver axum-receiver
measure axum_no_dedup axum-receiver DEDUP=off
measure tower_receiver tower-receiver
measure actix_receiver actix-receiver
measure hand_written_actix hand_written_actix
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >/dev/null &
REDIS=$!
sleep 0.5
REDIS_URL_FOR_ROW=1 measure axum_receiver_redis axum-receiver REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
kill "$REDIS"

echo
echo "user-space instructions per request (callgrind, $REQUESTS requests after $BASE, one connection)"
awk -v cache="$CACHE_SIM" '
  { name[NR] = $1; all[NR] = $2; rest[NR] = $3; i1[NR] = $4; d1[NR] = $5
    # Estimated cycles without SHA-256 (its misses stay in, a few per request).
    est[NR] = $3 + 10 * ($4 + $5)
    if ($1 == "hand_written") hand = NR }
  END {
    printf "%-20s %14s %16s %22s", "receiver", "instructions", "without SHA-256", "÷hand-written (w/o)"
    if (cache == 1) printf " %10s %10s %14s %14s", "I1 misses", "D1 misses", "est. cycles", "÷hand-written"
    printf "\n"
    for (i = 1; i <= NR; i++) {
      printf "%-20s %14d %16d %22.2f", name[i], all[i], rest[i], rest[i] / rest[hand]
      if (cache == 1) printf " %10d %10d %14d %14.2f", i1[i], d1[i], est[i], est[i] / est[hand]
      printf "\n"
    }
    # The actix-web receiver beside the same hand-written handler on actix-web.
    for (i = 1; i <= NR; i++) { if (name[i] == "actix_receiver") actix = i; if (name[i] == "hand_written_actix") hand_actix = i }
    if (hand_actix) {
      printf "\nactix_receiver ÷ hand_written_actix (without SHA-256): %.2f", rest[actix] / rest[hand_actix]
      if (cache == 1) printf "; est. cycles %.2f", est[actix] / est[hand_actix]
      printf "\n"
    }
  }' "$WORK/results"
