#!/usr/bin/env bash
# CI's deterministic constant-time check. Under valgrind's callgrind, ct/'s `ct_count` verifies 64
# wrong signatures that differ from the expected MAC only in their first byte, then (another run)
# only in their last byte, through the public `Verifier::verify_signature`: hex (Botdog) and
# base64 (Standard Webhooks). The instruction counts of the verification (`--toggle-collect`) must
# be identical; a comparison that stops early would run fewer instructions when the first byte
# differs. A negative control (an early-exit loop on the same signatures) must differ, or the
# method would be blind. Built in release mode with the default target features.
#
#   bash scripts/ct-callgrind.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# Measure what users run: no target-cpu or target-feature flags from the environment.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS

if ! command -v valgrind >/dev/null 2>&1; then
  echo "ct-callgrind: installing valgrind"
  apt-get update -qq && apt-get install -y -qq valgrind >/dev/null
fi

cargo build --quiet --release --manifest-path ct/Cargo.toml --bin ct_count
bin=ct/target/release/ct_count
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The Ir (instructions executed) inside the measured function, for one run.
count() {
  local file="$out/$1-$2.callgrind"
  valgrind --tool=callgrind --callgrind-out-file="$file" --toggle-collect='*measured_*' "$bin" "$1" "$2" 2>"$file.log" \
    || { cat "$file.log" >&2; echo "ct-callgrind: $bin $1 $2 failed" >&2; exit 1; }
  sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$file"
}

status=0
for mode in hex base64 naive; do
  head=$(count "$mode" head)
  tail=$(count "$mode" tail)
  if [ "$mode" = naive ]; then
    if [ "$head" = "$tail" ]; then
      verdict="FAILED (the control should differ: the method is blind)"
      status=1
    else
      verdict="ok (control: differs, as an early exit must)"
    fi
  elif [ "$head" = "$tail" ] && [ "$head" -gt 100000 ]; then
    verdict="ok (identical)"
  else
    verdict="FAILED (the instruction count depends on where the signature differs)"
    status=1
  fi
  printf 'ct-callgrind: %-6s first byte wrong: %9s Ir   last byte wrong: %9s Ir   %s\n' "$mode" "$head" "$tail" "$verdict"
done
exit "$status"
