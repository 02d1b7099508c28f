#!/usr/bin/env bash
# Fuzzes advlab's parsers of untrusted input (weights files, MNIST IDX files, share links) with
# the stable-Rust driver examples/fuzz.rs. Not part of CI (minutes; `cargo test` runs a few
# thousand inputs per parser): run it after touching a parser.
#
#   scripts/fuzz.sh [--inputs N] [--seed S] [--crashes DIR] [weights|idx|share ...]
#
# Default: 1,000,000 inputs per parser, seed 0, all three parsers. Built with the release profile,
# whose override keeps overflow checks and debug assertions on for advlab's own code (the driver
# prints that they are on). Prints inputs/s and crashes per parser; crashing inputs are saved in
# DIR (default fuzz-crashes/) and the exit status is non-zero. A different --seed explores new
# inputs; rerunning a seed reproduces its crashes.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ADVLAB_ROOT"
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
  exit 0
fi
log "building the fuzz driver (release profile, overflow checks and debug assertions on)"
cargo build --release --features fuzz --example fuzz
"$CARGO_TARGET_DIR/release/examples/fuzz" "$@"
