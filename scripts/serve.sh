#!/usr/bin/env bash
# Serves the page for development: `trunk serve --release` on http://127.0.0.1:$PORT/ (default
# 8080), rebuilding and reloading on changes. Extra arguments go to trunk serve.
#
#   PORT=9000 scripts/serve.sh
#
# Runs `scripts/setup.sh web` first (skip with ADVLAB_SKIP_SETUP=1).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ADVLAB_ROOT"

PORT="${PORT:-8080}"
[[ "$PORT" =~ ^[0-9]+$ ]] || die "PORT must be a number, not '$PORT'"

if [[ "${ADVLAB_SKIP_SETUP:-0}" != 1 ]]; then
  scripts/setup.sh web
fi

log "serving advlab at http://127.0.0.1:$PORT/  (trunk serve --release; first build may take long; Ctrl-C stops)"
CARGO_TARGET_DIR="$ADVLAB_WASM_TARGET_DIR" exec trunk serve --release --no-autoreload --address 127.0.0.1 --port "$PORT" "$@"
