#!/usr/bin/env bash
# Board demo: speculative decoding's accept step by hand, 7 drafts checked in one verify pass. No GPU needed.
#
# Drafts d1..d7 from the MTP head against the main model's tokens v1..v8: d1..d4 match, d5 does not,
# so the pass keeps d1..d4 and the main model's own v5, 5 tokens from one pass. Uses the CPU
# engine's accept rule (finale/mini/engine/generate.c). make demo-accept; or with your own bytes:
# bash finale/14-deepseek/demo_accept.sh "DRAFTS" "VERIFIED" (k bytes, then k+1).
set -u
cd "$(dirname "$0")/../.."
bin="$(make --no-print-directory print-BUILD)/mini/demo_accept"
make --no-print-directory -s "$bin" >/dev/null || { echo "demo-accept: the build failed (make $bin)"; exit 1; }
exec "$bin" "$@"
