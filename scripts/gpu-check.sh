#!/usr/bin/env bash
# The GPU check (not part of CI): on a machine with an NVIDIA GPU, builds the CLI with
# `--features gpu,cuda` (`gpu` alone where CUDA's build cannot fetch its LLVM) and prints `advlab bench` on the CPU, on wgpu (Vulkan) and on CUDA; then, when
# headless Chromium there finds a real WebGPU adapter (not SwiftShader), the page benchmark on it.
# About 8 minutes on 16 cores once the crates are fetched (scripts/setup.sh). Prints figures only:
# paste them into the README's GPU table.
#
# Usage: scripts/gpu-check.sh [bench arguments, default: --batches 8 --images 32]
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--batches 8 --images 32)

echo "== machine"
nproc
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: no NVIDIA driver here"

# CUDA's build downloads an LLVM bundle (see Cargo.toml): without it, wgpu alone.
features=gpu,cuda
echo "== cargo build --release --features $features"
if ! cargo build --release --offline --features "$features" --bin advlab; then
  features=gpu
  echo "== (no CUDA build here) cargo build --release --features $features"
  cargo build --release --offline --features "$features" --bin advlab || exit 1
fi
bin="$CARGO_TARGET_DIR/release/advlab"

for device in cpu wgpu cuda; do
  echo "== advlab bench --device $device ${args[*]}"
  timeout 240 "$bin" bench --device "$device" "${args[@]}" || echo "(bench --device $device failed or timed out)"
done

if [ -f dist/index.html ]; then
  echo "== the page on this machine's WebGPU"
  # Chromium's flags for a real GPU in headless mode (Vulkan through ANGLE).
  export ADVLAB_CHROMIUM_EXTRA_ARGS="--use-angle=vulkan --enable-features=Vulkan --ignore-gpu-blocklist"
  adapter=$(node --input-type=module -e "
    import * as h from './tests/browser/harness.mjs';
    const s = await h.openPage({ webgpu: true });
    try { console.log(await h.probeWebGpu(s.page)); } finally { await s.close(); }
  " 2>/dev/null | tail -1)
  echo "adapter: ${adapter:-none}"
  case "$adapter" in
    *adapter*SwiftShader*|*"no adapter"*|*"no navigator.gpu"*|"") echo "(no real WebGPU adapter: the page benchmark would measure SwiftShader; skipped)" ;;
    *) timeout 600 node scripts/bench-page.mjs || echo "(page benchmark failed)" ;;
  esac
else
  echo "(no dist/: run scripts/build-site.sh first for the page benchmark)"
fi
