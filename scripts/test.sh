#!/usr/bin/env bash
# advlab's whole test suite, as CI runs it:
#   1. setup          scripts/setup.sh (tools, Chromium, npm packages, MNIST; skips what is there)
#   2. native tests   cargo test --release            (unit + integration tests; ADVLAB_DATA)
#      gpu feature    cargo check --features gpu      (the CLI's GPU build type-checks; CI has no GPU)
#   3. wasm build     trunk build --release --public-url ./   (the page; proves the core builds
#                     for wasm32)
#   4. browser tests  node --test tests/browser/      (dist/ in headless Chromium, with and
#                     without WebGPU)
#
#   scripts/test.sh [--skip-setup] [--skip-native] [--skip-web] [--skip-browser]
#
# A failing step does not stop the later ones (except that the browser tests need the wasm
# build); the exit status is non-zero if anything failed. Environment: ADVLAB_DATA,
# CARGO_TARGET_DIR (see scripts/setup.sh), ADVLAB_BROWSER_VARIANTS etc. (tests/browser/harness.mjs).
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

names=() results=() times=()
failed=0
record() { names+=("$1"); results+=("$2"); times+=("$3"); }
fmt_time() { local s=$1; if (( s >= 60 )); then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi; }

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
    failed=1
  fi
  return "$rc"
}

# shellcheck disable=SC2317  # called from the EXIT trap
summary() {
  printf '\n%s======== summary ========%s\n' "$_c_b" "$_c_0"
  local i
  for i in "${!names[@]}"; do
    printf '  %-15s %-32s %s\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"
  done
  if (( failed )); then
    printf '%sadvlab tests: FAILED%s\n' "$_c_r" "$_c_0"
  else
    printf '%sadvlab tests: all steps succeeded%s\n' "$_c_g" "$_c_0"
  fi
}
trap 'summary' EXIT

log "advlab test run in $ADVLAB_ROOT"
log "CARGO_TARGET_DIR=$CARGO_TARGET_DIR  ADVLAB_DATA=$ADVLAB_DATA"

# 1. setup: only what the selected steps need.
if (( skip_setup )); then
  record setup skipped "-"
else
  parts=()
  (( skip_native )) || parts+=(native)
  (( skip_web )) || parts+=(web)
  (( skip_browser )) || parts+=(browser)
  if (( ${#parts[@]} )); then
    run_step setup scripts/setup.sh "${parts[@]}" || {
      warn "setup failed: not running the tests"
      exit 1
    }
  fi
fi

# 2. native unit + integration tests.
if (( skip_native )); then
  record "native tests" skipped "-"
else
  run_step "native tests" cargo test --release || true
  run_step "gpu feature" cargo check --offline --features gpu --bin advlab || true
fi

# 3. the page, built for wasm32 (also CI's check that the core compiles to wasm32).
web_ok=1
if (( skip_web )); then
  record "wasm build" skipped "-"
else
  run_step "wasm build" trunk build --release --public-url ./ || web_ok=0
fi

# 4. the page in headless Chromium (WebGPU via SwiftShader, and the CPU fallback).
if (( skip_browser )); then
  record "browser tests" skipped "-"
elif (( ! web_ok )); then
  record "browser tests" "not run (wasm build failed)" "-"
  failed=1
else
  # The browser tests compare the page with the native CLI: build it even when the native
  # tests were skipped (a no-op when they ran).
  if run_step "native CLI" cargo build --release --bin advlab; then
    run_step "browser tests" node --test tests/browser/*.test.mjs || true
  else
    record "browser tests" "not run (no native CLI)" "-"
  fi
fi

exit "$failed"
