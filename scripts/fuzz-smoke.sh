#!/usr/bin/env bash
# CI's fuzz run: seed every target's corpus from the committed fixtures and test vectors, build
# the targets once, then run each for FUZZ_SECONDS (default 30) on the stable toolchain. Fails on
# any crash (a panic included), timeout (one input over 10 s) or out-of-memory (over 2 GiB);
# libFuzzer leaves the input in fuzz/artifacts/<target>/ and this script prints it as base64.
#
#   bash scripts/fuzz-smoke.sh             # every target, 30 s each
#   FUZZ_SECONDS=300 bash scripts/fuzz-smoke.sh verify_any
#
# A crash found here becomes a test in crates/webhook-guard/tests/regressions.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# cargo-fuzz builds with -Z flags (sanitizer, coverage instrumentation); RUSTC_BOOTSTRAP lets the
# stable compiler accept them, so CI needs no nightly toolchain.
export RUSTC_BOOTSTRAP=1
seconds=${FUZZ_SECONDS:-30}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-smoke: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
# libfuzzer-sys compiles libFuzzer, which is C++.
if ! command -v c++ >/dev/null 2>&1; then
  echo "fuzz-smoke: installing a C++ compiler"
  apt-get update -qq && apt-get install -y -qq g++ >/dev/null
fi

echo "fuzz-smoke: seeding fuzz/corpus from the fixtures and test vectors"
cargo run --quiet --manifest-path fuzz/Cargo.toml --example seed_corpus -- fuzz/corpus

echo "fuzz-smoke: building every target (release, debug assertions, AddressSanitizer)"
cargo fuzz build --debug-assertions

if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list); fi
mkdir -p fuzz/artifacts
status=0
summary=()
for target in "${targets[@]}"; do
  log="fuzz/artifacts/$target.log"
  started=$SECONDS
  if cargo fuzz run --debug-assertions "$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    summary+=("$(printf '%-14s ok      %5s s  %9s execs' "$target" "$((SECONDS - started))" "$runs")")
  else
    status=1
    summary+=("$(printf '%-14s FAILED  %5s s' "$target" "$((SECONDS - started))")")
    echo "fuzz-smoke: $target FAILED; the end of its log:"
    tail -n 60 "$log"
    for artifact in fuzz/artifacts/"$target"/*; do
      [ -f "$artifact" ] || continue
      echo "fuzz-smoke: $artifact (base64):"
      base64 -w0 "$artifact"
      echo
    done
  fi
done

echo
echo "fuzz-smoke: ${seconds} s per target"
printf '  %s\n' "${summary[@]}"
exit "$status"
