#!/usr/bin/env bash
# Board demo: KV-cache bytes per token of MLA against standard multi-head attention of the same widths. No GPU needed.
#
# Per layer and for the whole mini-model, FP32 and BF16, and at a 1024-token context; the shapes
# come from the weights file's config (finale/mini/weights/mini.bin, or a file given as argument),
# else from MODEL.md's defaults.
set -u
cd "$(dirname "$0")/../.."
bin="$(make --no-print-directory print-BUILD)/mini/demo_kv_bytes"
make --no-print-directory -s "$bin" >/dev/null || { echo "demo-kv-bytes: the build failed (make $bin)"; exit 1; }
exec "$bin" "$@"
