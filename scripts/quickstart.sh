#!/usr/bin/env bash
# The README's first command: for each of the five senders (Botdog, Pollybot, Breakcold, Breakcold
# legacy, Standard Webhooks/Svix), start `webhook-guard listen` with a development secret, `send`
# every documented event signed exactly as that sender signs, show the typed events the receiver
# printed, a duplicate answered as a duplicate and a forged delivery refused, then stop the
# receiver. Everything runs on loopback; no external service. Exits non-zero if any step does not
# behave as shown.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "Building the webhook-guard CLI (cargo build -p webhook-guard-cli)…"
cargo build --quiet -p webhook-guard-cli
bin="${CARGO_TARGET_DIR:-target}/debug/webhook-guard"
work=$(mktemp -d)
listener=""
cleanup() {
  if [ -n "$listener" ]; then kill -TERM "$listener" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "quickstart: FAILED: $*" >&2
  exit 1
}

# The first JSON line whole (one typed event in full), the others cut to fit a terminal.
shorten() { awk 'NR == 1 || length($0) <= 160 { print; next } { print substr($0, 1, 157) "..." }'; }

# Starts `listen` for $1 with secret $2 on a free port; sets $listener and $url.
start_listener() {
  local provider=$1 secret=$2
  echo "\$ webhook-guard listen --provider $provider --secret $secret --addr 127.0.0.1:0"
  "$bin" listen --provider "$provider" --secret "$secret" --addr 127.0.0.1:0 \
    >"$work/$provider.events" 2>"$work/$provider.log" &
  listener=$!
  url=""
  for _ in $(seq 1 300); do
    url=$(grep -o 'listening on http://[^ ]*' "$work/$provider.log" | head -n 1 | cut -d' ' -f3 || true)
    [ -n "$url" ] && break
    kill -0 "$listener" 2>/dev/null || { cat "$work/$provider.log" >&2; fail "listen for $provider exited"; }
    sleep 0.1
  done
  [ -n "$url" ] || fail "listen for $provider did not say where it listens"
  echo "  listening on $url"
}

# One sender, end to end. $3 is a secret the sender does not use (the forgery's), $4 one of its
# events (sent twice, then forged).
try_sender() {
  local provider=$1 secret=$2 forged=$3 event=$4 label=$5
  printf '\n==================== %s ====================\n' "$label"
  echo "development secret: $secret   (for trying out only: use the one from the sender's dashboard)"
  start_listener "$provider" "$secret"

  echo
  echo "-- send every documented $label event, signed as $label signs it"
  echo "\$ webhook-guard send --provider $provider --secret $secret --url $url --event all"
  "$bin" send --provider "$provider" --secret "$secret" --url "$url" --event all \
    || fail "$provider: an event was not acknowledged"
  local sent
  sent=$(grep -c . "$work/$provider.events" || true)

  echo
  echo "-- the typed events the receiver printed (one JSON line each: provider, id, event_type, timestamp, event)"
  shorten <"$work/$provider.events"

  echo
  echo "-- the same event delivered twice: the second copy is answered 200 as a duplicate, not handled again"
  echo "\$ webhook-guard send --provider $provider --secret $secret --url $url --event $event --id quickstart-copy --count 2"
  local out
  out=$("$bin" send --provider "$provider" --secret "$secret" --url "$url" --event "$event" \
    --id quickstart-copy --count 2) || fail "$provider: a copy was not acknowledged"
  echo "$out"
  grep -q 'duplicate: already handled' <<<"$out" || fail "$provider: the copy was not answered as a duplicate"

  echo
  echo "-- a forged delivery (signed with a secret the receiver does not have) is refused"
  echo "\$ webhook-guard send --provider $provider --secret $forged --url $url --event $event"
  if out=$("$bin" send --provider "$provider" --secret "$forged" --url "$url" --event "$event" 2>&1); then
    echo "$out"
    fail "$provider: a forged delivery was accepted"
  fi
  echo "$out"
  grep -q '^401 ' <<<"$out" || fail "$provider: the forgery was not answered 401"

  echo
  echo "-- stop the receiver (SIGTERM: it finishes what is in flight and exits 0)"
  kill -TERM "$listener"
  wait "$listener" || fail "$provider: listen did not exit 0"
  listener=""
  local printed
  printed=$(grep -c . "$work/$provider.events" || true)
  [ "$printed" -eq $((sent + 1)) ] || fail "$provider: expected $((sent + 1)) events printed once each, found $printed"
  echo "  stopped: $printed events handled, each once; the duplicate and the forgery were not"
}

try_sender botdog "dev-botdog-secret" "not-the-botdog-secret" LEAD_MESSAGE_REPLIED "Botdog"
try_sender pollybot "whsec_dev_pollybot_secret" "whsec_forged" LEAD_CREATED "Pollybot"
try_sender breakcold "dev-breakcold-secret" "not-the-breakcold-secret" record.created "Breakcold"
try_sender breakcold-legacy "wh_dev_breakcold_legacy" "wh_forged" lead.create "Breakcold (legacy)"
try_sender standard "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD" \
  call.completed "Standard Webhooks / Svix"

printf '\nquickstart: ok. Next: bash scripts/test.sh runs every test; webhook-guard listen --help shows\n'
printf 'how to put this receiver in front of your own service (--exec CMD, --forward URL, --redis URL).\n'
