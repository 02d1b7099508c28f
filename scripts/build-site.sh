#!/usr/bin/env bash
# Builds the page into dist/ with relative URLs, so it works from any sub-path of any static host.
#
#   scripts/build-site.sh [extra trunk build args]
#
# Runs `scripts/setup.sh web` first (skip with ADVLAB_SKIP_SETUP=1). The wasm is built with the
# cargo profile named in index.html, in $CARGO_TARGET_DIR (default ~/.cache/advlab/target).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ADVLAB_ROOT"

if [[ "${ADVLAB_SKIP_SETUP:-0}" != 1 ]]; then
  scripts/setup.sh web
fi

log "trunk build --release --public-url ./ (into dist/)"
trunk_in_wasm_target build --release --public-url ./ "$@"

[[ -f dist/index.html ]] || die "trunk finished but dist/index.html is missing"
log "dist/ is ready ($(du -sh dist | cut -f1) in all):"
find dist -maxdepth 1 -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' \) \
  -printf '  %-48f %10s bytes\n' | sort
if have gzip; then
  for w in dist/*.wasm; do
    [[ -f "$w" ]] && printf '  %-48s %10s bytes gzipped\n' "$(basename "$w")" "$(gzip -9c "$w" | wc -c)"
  done
fi
