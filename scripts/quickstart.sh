#!/usr/bin/env bash
# The README's first command: sign a Botdog fixture and a Standard Webhooks (Svix) fixture with the
# `webhook-guard` CLI, verify each, then show a one-byte change refused. No external service.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet -p webhook-guard-cli
bin=target/debug/webhook-guard
now=$(date +%s)

# Signs $body as $provider with $secret, then verifies those exact headers and bytes.
round_trip() {
  local provider=$1 secret=$2 body=$3
  local headers args=()
  headers=$("$bin" sign --provider "$provider" --secret "$secret" --body "$body" --timestamp "$now")
  while IFS= read -r line; do args+=(--header "$line"); done <<<"$headers"
  echo "== $provider: the sender's headers"
  echo "$headers"
  echo "== $provider: verified"
  "$bin" verify --provider "$provider" --secret "$secret" --body "$body" "${args[@]}"
  echo "== $provider: the same delivery with one byte changed"
  if sed '0,/a/s//A/' "$body" | "$bin" verify --provider "$provider" --secret "$secret" "${args[@]}"; then
    echo "a tampered delivery was accepted" >&2
    exit 1
  fi
}

round_trip botdog "botdog-demo-secret" crates/webhook-guard/fixtures/botdog/LEAD_MESSAGE_REPLIED.json
round_trip standard "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" crates/webhook-guard/fixtures/standard/call.completed.json
echo "quickstart: ok"
