#!/usr/bin/env bash
# advlab's whole test suite, as CI runs it:
#   1. setup          scripts/setup.sh (the quick steps: Chromium, npm packages, MNIST, crates;
#                     skips what is there)
#   2. three lanes at once (a 2-core machine keeps both cores busy where one lane alone leaves
#      one idle; each lane's lines are prefixed with its name):
#      native lane    native tests   cargo test --release   (unit + integration tests; ADVLAB_DATA)
#                     gpu feature    cargo check --release --features gpu   (the CLI's GPU build
#                                    type-checks)
#      tools lane     tools          scripts/setup.sh tools   (trunk, wasm-bindgen-cli: compiled
#                                    the first time only)
#      web lane       wasm crates    cargo build --profile web --target wasm32-unknown-unknown for
#                                    the page's four binaries (what trunk would compile), then,
#                                    once the tools are there,
#                     wasm build     trunk build --release --public-url ./   (the page; proves the
#                                    core builds for wasm32)
#   3. browser tests  native CLI: cargo build --release --bin advlab (a no-op after the tests),
#                     then node --test tests/browser/ (dist/ in headless Chromium, with and without
#                     WebGPU)
#
#   scripts/test.sh [--skip-setup] [--skip-native] [--skip-web] [--skip-browser]
#
# A failing step does not stop the others (except that the browser tests need the wasm build and
# the native CLI); the exit status is non-zero if anything failed. Environment: ADVLAB_DATA,
# CARGO_TARGET_DIR, ADVLAB_WASM_TARGET_DIR (see scripts/lib.sh), ADVLAB_BROWSER_VARIANTS etc.
# (tests/browser/harness.mjs).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ADVLAB_ROOT"

skip_setup=0 skip_native=0 skip_web=0 skip_browser=0
for a in "$@"; do
  case "$a" in
    --skip-setup) skip_setup=1 ;;
    --skip-native) skip_native=1 ;;
    --skip-web) skip_web=1 ;;
    --skip-browser) skip_browser=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$a' (see scripts/test.sh --help)" ;;
  esac
done

# Every step's result, one line each (name, result, time), written by the lanes too.
results_file="$(mktemp)"
trap 'rm -f "$results_file"' EXIT
fmt_time() { local s=$1; if (( s >= 60 )); then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi; }
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results_file"; }
passed() { grep -q "^$1"$'\t'"ok"$'\t' "$results_file" || grep -q "^$1"$'\t'"skipped"$'\t' "$results_file"; }

# run_step NAME CMD...: runs CMD, records ok/FAILED and how long it took.
run_step() {
  local name=$1; shift
  local t0=$SECONDS rc=0
  printf '\n%s======== %s ========%s\n' "$_c_b" "$name" "$_c_0"
  log "$*"
  "$@" || rc=$?
  if (( rc == 0 )); then
    record "$name" ok "$(fmt_time $((SECONDS - t0)))"
  else
    record "$name" "FAILED (exit $rc)" "$(fmt_time $((SECONDS - t0)))"
  fi
  return "$rc"
}

# shellcheck disable=SC2317  # called from the EXIT trap
summary() {
  local status=$1
  printf '\n%s======== summary ========%s\n' "$_c_b" "$_c_0"
  local name result time failed=0
  while IFS=$'\t' read -r name result time; do
    printf '  %-15s %-32s %s\n' "$name" "$result" "$time"
    [[ "$result" == ok || "$result" == skipped ]] || failed=1
  done <"$results_file"
  printf '  %-15s %-32s %s\n' "total" "" "$(fmt_time "$SECONDS")"
  if (( status != 0 )); then
    printf '  the script itself stopped with exit status %s\n' "$status"
    failed=1
  fi
  if (( failed )); then
    printf '%sadvlab tests: FAILED%s\n' "$_c_r" "$_c_0"
  else
    printf '%sadvlab tests: all steps succeeded%s\n' "$_c_g" "$_c_0"
  fi
  rm -f "$results_file"
  return "$failed"
}
trap 'summary $? || exit 1' EXIT

log "advlab test run in $ADVLAB_ROOT ($(nproc) cores)"
log "CARGO_TARGET_DIR=$CARGO_TARGET_DIR  ADVLAB_WASM_TARGET_DIR=$ADVLAB_WASM_TARGET_DIR  ADVLAB_DATA=$ADVLAB_DATA"

# 1. setup: the quick steps the selected parts need (the tools are the web lane's).
if (( skip_setup )); then
  record setup skipped "-"
else
  parts=()
  (( skip_native )) || parts+=(native)
  (( skip_web )) || parts+=(wasm-target crates wasm-opt mnist site-data)
  (( skip_browser )) || parts+=(browser)
  if (( ${#parts[@]} )); then
    run_step setup scripts/setup.sh "${parts[@]}" || {
      warn "setup failed: not running the tests"
      exit 1
    }
  fi
fi

# 2. the three lanes.
native_lane() {
  run_step "native tests" cargo test --release || true
  # --release: its build scripts and proc macros are the ones the tests just built.
  run_step "gpu feature" cargo check --release --offline --features gpu --bin advlab || true
}
tools_lane() { run_step tools scripts/setup.sh tools || true; }
# The browser tests drive the native CLI too (a no-op build after the native tests).
cli_step() { run_step "native CLI" cargo build --release --bin advlab || true; }
# The page's binaries as trunk builds them (index.html: the web profile, `webgpu` for the engine
# worker only), compiled while the tools are: trunk then finds them built.
wasm_crates() {
  local build=(cargo build --offline --profile web --target wasm32-unknown-unknown)
  CARGO_TARGET_DIR="$ADVLAB_WASM_TARGET_DIR" "${build[@]}" --bin app --bin predictor --bin sweeper &&
    CARGO_TARGET_DIR="$ADVLAB_WASM_TARGET_DIR" "${build[@]}" --bin worker --features webgpu
}
web_lane() {
  run_step "wasm crates" wasm_crates || true
  # The tools lane writes its result when it ends.
  while ! grep -q "^tools"$'\t' "$results_file"; do sleep 2; done
  passed tools || { record "wasm build" "not run (no tools)" "-"; return 0; }
  passed "wasm crates" || { record "wasm build" "not run (the wasm crates failed)" "-"; return 0; }
  run_step "wasm build" trunk_in_wasm_target build --release --public-url ./ || true
}
# lane NAME FUNCTION: runs FUNCTION in the background, its lines prefixed with [NAME].
lane_pids=()
lane() {
  local name=$1 fn=$2
  ( "$fn" 2>&1 | sed -u "s/^/[$name] /" ) &
  lane_pids+=($!)
}
if (( ! skip_native )); then lane native native_lane; else record "native tests" skipped "-"; fi
if (( ! skip_web )); then
  if (( skip_setup )); then record tools skipped "-"; else lane tools tools_lane; fi
  lane web web_lane
else
  record "wasm build" skipped "-"
fi
for pid in "${lane_pids[@]}"; do wait "$pid" || true; done

# 3. the page in headless Chromium (WebGPU via SwiftShader, and the CPU fallback).
if (( skip_browser )); then
  record "browser tests" skipped "-"
elif (( ! skip_web )) && ! passed "wasm build"; then
  record "browser tests" "not run (wasm build failed)" "-"
else
  cli_step
  if passed "native CLI"; then
    run_step "browser tests" node --test tests/browser/*.test.mjs || true
  else
    record "browser tests" "not run (no native CLI)" "-"
  fi
fi
