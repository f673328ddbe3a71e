# Sourced by bench-http.sh and http-instructions.sh: a work directory removed on exit (with any
# server still running), the Debian packages given as arguments (each a command of the same
# name) installed with apt when missing, and the receivers and baselines built in release mode.
# Never builds with `-C target-cpu=native`.

WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

for package in "$@"; do
  if ! command -v "$package" >/dev/null 2>&1; then
    echo "$package is missing: installing it (apt-get install -y $package)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
  fi
done

echo "building the receivers and baselines (release)" >&2
cargo build --release --quiet -p axum-receiver -p tower-receiver -p actix-receiver -p http-baselines
