#!/usr/bin/env bash
# The GPU check (not part of CI): advlab's native GPU path measured and checked on a real GPU, by
# binaries built elsewhere, since a GPU machine may have no Rust toolchain and no network.
#
#   scripts/gpu-check.sh build         on a build machine: the CLI and the GPU test binary with
#                                      `--features gpu` (and `cuda` on request, where its build
#                                      can fetch what it needs), a
#                                      small MNIST cut, all in gpu-check/ (git-ignored, < 64 MiB)
#   scripts/gpu-check.sh run [ARGS]    on the GPU machine, from the repository root with
#                                      gpu-check/ beside it: no cargo, no network. Checks what the
#                                      binaries need at run time (Vulkan loader and driver, CUDA's
#                                      libraries) and says what is missing, then prints
#                                      `advlab bench ARGS` (default: --batches 8 --images 32) on
#                                      the CPU, on wgpu and on CUDA, runs the GPU-against-CPU
#                                      agreement test, and, where Chromium and the npm packages
#                                      are there and find a real WebGPU adapter, the page
#                                      benchmark. About 5 minutes; figures only (docs/performance.md
#                                      says where they go).
#
# Rehearsal without a GPU: Debian's lavapipe (`apt-get install mesa-vulkan-drivers`) is a Vulkan
# driver on the CPU; `scripts/gpu-check.sh run` then checks every path and flag on it.
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ADVLAB_ROOT"

out="$ADVLAB_ROOT/gpu-check"
# The GPU build has a target folder of its own: `gpu` changes burn's features, and sharing the
# main folder would rebuild the default CLI after it.
gpu_target="$CARGO_TARGET_DIR/gpu"
# The MNIST cut: enough for the benchmark's default (9 batches of 128) and the agreement test.
cut_train=2048
cut_test=1000

# idx_cut SRC DST N: the first N items of an IDX file (its count in the header rewritten).
idx_cut() {
  python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, 'rb').read()
dims = data[3]
shape = struct.unpack('>' + 'I' * dims, data[4:4 + 4 * dims])
item = 1
for d in shape[1:]:
    item *= d
head = data[:4] + struct.pack('>I', n) + data[8:4 + 4 * dims]
open(dst, 'wb').write(head + data[4 + 4 * dims:4 + 4 * dims + n * item])
PY
}

build() {
  have cargo || die "cargo not found: the build runs where Rust is installed"
  rm -rf "$out" && mkdir -p "$out/mnist"
  log "cargo build --release --features gpu --bin advlab (target: $gpu_target)"
  CARGO_TARGET_DIR="$gpu_target" cargo build --release --features gpu --bin advlab || die "the gpu build failed"
  cp "$gpu_target/release/advlab" "$out/advlab-gpu"
  # CUDA's build script downloads an LLVM bundle from GitHub (Cargo.toml, `cuda`): tried only on
  # request (ADVLAB_GPU_CHECK_CUDA=1), where that host is reachable or the bundle is in
  # ~/.local/share/tracel; otherwise the run checks wgpu only.
  if [[ "${ADVLAB_GPU_CHECK_CUDA:-0}" != 1 ]]; then
    log "no CUDA build (set ADVLAB_GPU_CHECK_CUDA=1 where its LLVM bundle can be had)"
  elif CARGO_TARGET_DIR="$gpu_target/cuda" cargo build --release --features cuda --bin advlab >"$out/cuda-build.log" 2>&1; then
    cp "$gpu_target/cuda/release/advlab" "$out/advlab-cuda"
    ok "CUDA build: gpu-check/advlab-cuda"
  else
    warn "no CUDA build here ($(grep -m1 -i 'error' "$out/cuda-build.log" || echo 'see gpu-check/cuda-build.log')); the run checks wgpu only"
  fi
  log "cargo test --release --features gpu --lib --no-run (the agreement test's binary)"
  local tests
  tests=$(CARGO_TARGET_DIR="$gpu_target" cargo test --release --features gpu --lib --no-run --message-format=json |
    grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4) || true
  [[ -n "$tests" && -x "$tests" ]] || die "the GPU test binary was not built"
  cp "$tests" "$out/advlab-gpu-tests"
  strip "$out"/advlab-* 2>/dev/null || true
  local f
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte; do idx_cut "$ADVLAB_DATA/$f" "$out/mnist/$f" "$cut_train"; done
  for f in t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do idx_cut "$ADVLAB_DATA/$f" "$out/mnist/$f" "$cut_test"; done
  git rev-parse HEAD >"$out/commit" 2>/dev/null || true
  ok "gpu-check/ holds $(du -sh "$out" | cut -f1): $(cd "$out" && ls | tr '\n' ' ')"
  log "carry gpu-check/ to the GPU machine and run: scripts/gpu-check.sh run"
}

# need WHAT OK-TEST MISSING-MESSAGE: prints whether a run-time need is met.
need() {
  if eval "$2"; then ok "$1"; else warn "$1 missing: $3"; return 1; fi
}
has_lib() { ldconfig -p 2>/dev/null | grep -q "$1" || compgen -G "/usr/lib/x86_64-linux-gnu/$1*" >/dev/null || compgen -G "/usr/local/nvidia/lib64/$1*" >/dev/null; }

run() {
  [[ -x "$out/advlab-gpu" ]] || die "gpu-check/advlab-gpu is missing: run \`scripts/gpu-check.sh build\` on a build machine and carry gpu-check/ here"
  local args=("$@")
  (( ${#args[@]} )) || args=(--batches 8 --images 32)
  export ADVLAB_DATA="$out/mnist"
  echo "== machine"
  echo "$(nproc) cores; binaries built from $(cat "$out/commit" 2>/dev/null || echo '?')"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: no NVIDIA driver here"

  echo "== what the binaries need at run time"
  local vulkan=1 cuda=0
  need "Vulkan loader (libvulkan.so.1)" "has_lib libvulkan.so.1" "install the Vulkan loader (Debian: libvulkan1); wgpu finds no adapter without it" || vulkan=0
  local icds
  icds=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null | tr '\n' ' ')
  need "Vulkan drivers (ICDs): ${icds:-none}" "[[ -n '$icds' ]]" "no Vulkan driver is registered (NVIDIA: nvidia_icd.json comes with the driver's Vulkan part, e.g. libnvidia-gl; without a GPU: mesa-vulkan-drivers' lavapipe)" || vulkan=0
  if have vulkaninfo; then vulkaninfo --summary 2>/dev/null | grep -E "deviceName|driverName|apiVersion" | sed 's/^ */  /'; fi
  if [[ -x "$out/advlab-cuda" ]]; then
    cuda=1
    need "CUDA driver library (libcuda.so.1)" "has_lib libcuda.so.1" "the NVIDIA driver's CUDA library is not visible" || cuda=0
    need "NVRTC (libnvrtc.so)" "has_lib libnvrtc.so" "CUDA's runtime compiler comes with the CUDA toolkit, not the driver; cubecl-cuda compiles its kernels with it" || cuda=0
  else
    echo "(no CUDA binary in gpu-check/: built without the cuda feature)"
  fi

  local device bin
  for device in cpu wgpu cuda; do
    bin="$out/advlab-gpu"
    case "$device" in
      wgpu) (( vulkan )) || { echo "== (bench --device wgpu skipped: no Vulkan)"; continue; } ;;
      cuda) (( cuda )) || { echo "== (bench --device cuda skipped)"; continue; }; bin="$out/advlab-cuda" ;;
    esac
    echo "== advlab bench --device $device ${args[*]}"
    timeout 200 "$bin" bench --device "$device" "${args[@]}" || echo "(bench --device $device failed or timed out: exit $?)"
  done

  if (( vulkan )); then
    echo "== the GPU against the CPU: FGSM and PGD on the CNN stay in the ε-ball and agree"
    timeout 200 "$out/advlab-gpu-tests" --ignored gpu_ --test-threads 1 || echo "(the agreement test failed or timed out: exit $?)"
  fi

  if [[ -f dist/index.html && -d node_modules/playwright-core && -x "$CHROMIUM_BIN" ]]; then
    echo "== the page on this machine's WebGPU"
    # Chromium's flags for a real GPU in headless mode (Vulkan through ANGLE).
    export ADVLAB_CHROMIUM_EXTRA_ARGS="--use-angle=vulkan --enable-features=Vulkan --ignore-gpu-blocklist"
    local adapter
    adapter=$(node --input-type=module -e "
      import * as h from './tests/browser/harness.mjs';
      const s = await h.openPage({ webgpu: true });
      try { console.log(await h.probeWebGpu(s.page)); } finally { await s.close(); }
    " 2>/dev/null | tail -1)
    echo "adapter: ${adapter:-none}"
    case "$adapter" in
      *adapter*SwiftShader*|*"no adapter"*|*"no navigator.gpu"*|"") echo "(no real WebGPU adapter: the page benchmark would measure SwiftShader; skipped)" ;;
      *) timeout 240 node scripts/bench-page.mjs || echo "(page benchmark failed)" ;;
    esac
  else
    echo "(the page benchmark needs dist/, node_modules/ and Chromium here: skipped)"
  fi
}

case "${1:-}" in
  build) build ;;
  run) shift; run "$@" ;;
  -h|--help|"") sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (build or run; see scripts/gpu-check.sh --help)" ;;
esac
