#!/usr/bin/env bash
# The mini command (the mini-model's CPU engine, finale/mini/engine) from the outside:
#   - make mini builds it with gcc alone;
#   - bad arguments and bad weights files: one line on stderr naming the problem, non-zero exit;
#     crafted files too (offsets that would wrap, headers asking for tens of GiB, shared bytes);
#   - speculative output (k = 1..7) is the greedy output, byte for byte, BF16 and FP8 experts and
#     the serving numerics, on weights files written by the engine's own test-file writer (small
#     and MODEL.md shapes).
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
build=$(make --no-print-directory print-BUILD)
mini=$build/mini/mini
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if make --no-print-directory -s mini "$build/mini/libmini.a" >"$tmp/build.log" 2>&1; then result PASS "make mini builds"
else result FAIL "make mini builds" "$(tail -n 5 "$tmp/build.log")"; echo "$passed passed, $failed failed"; exit 1; fi
gcc -O2 -std=c11 -Ifinale/mini/engine tests/mini/write_test_weights.c "$build/mini/libmini.a" -lm -o "$tmp/write" &&
    "$tmp/write" "$tmp/small.bin" small 7 && "$tmp/write" "$tmp/default.bin" default 8 &&
    result PASS "the test-file writer writes a small and a full-size file" ||
    result FAIL "the test-file writer writes a small and a full-size file"

# refused: one line on stderr, nothing on stdout, the expected words, a non-zero exit
refused() {  # refused WHAT WORDS ARGS...
    local what=$1 words=$2; shift 2
    timeout 60 "$mini" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$? lines
    lines=$(grep -c . "$tmp/err")
    if [ $rc -ne 0 ] && [ $rc -lt 124 ] && [ "$lines" = 1 ] && [ ! -s "$tmp/out" ] && grep -q -- "$words" "$tmp/err"; then
        result PASS "$what"
    else
        result FAIL "$what" "exit $rc, $lines lines: $(head -c 300 "$tmp/err")"
    fi
}
refused "an unknown argument is refused" "unknown argument" --weights "$tmp/small.bin" --frobnicate
refused "--speculative 8 is refused" "from 1 to 7" --weights "$tmp/small.bin" --speculative 8
refused "--tokens 0 is refused" "--tokens 0" --weights "$tmp/small.bin" --tokens 0
refused "an empty prompt is refused" "prompt is empty" --weights "$tmp/small.bin" --prompt ""
refused "more tokens than the context is refused" "context of 160" --weights "$tmp/small.bin" --tokens 200
# The limit named is the context the weights give, less the prompt, never the parser's own bound.
refused "--tokens 5000: the limit named is the context less the prompt (158)" \
    "^mini: --tokens 5000 is too many: the model's context of 160 bytes less the 2-byte prompt leaves at most 158$" \
    --weights "$tmp/small.bin" --prompt "Hi" --tokens 5000
refused "--tokens beyond any integer: the same limit, the number as typed" \
    "^mini: --tokens 99999999999999999999999 is too many: .* leaves at most 158$" \
    --weights "$tmp/small.bin" --prompt "Hi" --tokens 99999999999999999999999
refused "a prompt that fills the context is refused, naming the longest that fits" \
    "the prompt of 160 bytes fills the model's context of 160 bytes; a prompt of at most 159 bytes" \
    --weights "$tmp/small.bin" --prompt "$(head -c 160 /dev/zero | tr '\0' a)" --tokens 1
if [ -f finale/mini/weights/mini.bin ]; then   # the trained weights, as make mini-run uses them
    refused "the trained weights: --tokens 5000 names 1020 (1024 less the default prompt \"The \")" \
        "context of 1024 bytes less the 4-byte prompt leaves at most 1020$" --tokens 5000
fi
refused "--numerics with an unknown mode is refused" "^mini: --numerics bf16: expected float or serving$" \
    --weights "$tmp/small.bin" --numerics bf16
refused "--numerics serving with --naive-mla is refused (serving attends by the absorbed path)" "absorbed path" \
    --weights "$tmp/small.bin" --numerics serving --naive-mla
refused "a missing weights file is refused" "cannot open" --weights "$tmp/none.bin"
size=$(stat -c %s "$tmp/small.bin")
cp "$tmp/small.bin" "$tmp/flipped.bin"
printf '\x5a' | dd of="$tmp/flipped.bin" bs=1 seek=$((size / 2)) conv=notrunc status=none
refused "a flipped byte fails the checksum" "checksum mismatch" --weights "$tmp/flipped.bin"
head -c $((size - 100)) "$tmp/small.bin" >"$tmp/short.bin"
refused "a truncated file is refused" "truncated" --weights "$tmp/short.bin"
{ head -c 8 "$tmp/small.bin"; printf '\x02\x00\x00\x00'; tail -c +13 "$tmp/small.bin"; } >"$tmp/v2.bin"
refused "a version-2 file is refused" "format version 2" --weights "$tmp/v2.bin"
{ printf 'NOTMINI!'; tail -c +9 "$tmp/small.bin"; } >"$tmp/magic.bin"
refused "a file with the wrong magic is refused" "bad magic" --weights "$tmp/magic.bin"

# crafted files, each value in range or a checksum made right: refused before any harm, in one line
crafted() {  # crafted NAME EDIT...: $tmp/NAME.bin, the small file with the edits (checksum rewritten)
    local name=$1; shift
    "$tmp/write" "$tmp/$name.bin" small 7 "$@" || result FAIL "the writer makes $name.bin"
}
crafted wrap offset:lm_head=0xffffffffffffffc0
refused "a data offset near 2^64 is refused, not wrapped" "'lm_head' (bytes from 18446744073709551552" --weights "$tmp/wrap.bin"
crafted kv max_seq=1048576 d_rope=4096
refused "a header asking for 48 GiB of KV cache is refused, naming max_seq" \
    "header field max_seq = 1048576 asks for 48 GiB of KV cache (.*); the limit is 4 GiB" --weights "$tmp/kv.bin"
crafted huge max_seq=4000000000
refused "max_seq = 4000000000 is refused as written" "config: max_seq = 4000000000 is out of range" --weights "$tmp/huge.bin"
crafted overlap offset:layers.0.moe.experts.1.w1=@layers.0.moe.experts.0.w1
refused "two tensors on the same bytes are refused" "overlap" --weights "$tmp/overlap.bin"
refused "a stream of zeros is refused at its magic, not read to the end" "bad magic" --weights /dev/zero
"$tmp/write" "$tmp/tiny.bin" tiny 3 && timeout 60 "$mini" --weights "$tmp/tiny.bin" --tokens 20 >/dev/null 2>"$tmp/err" &&
    result PASS "the tiny file of the fuzz corpus runs" || result FAIL "the tiny file of the fuzz corpus runs" "$(head -c 300 "$tmp/err")"

# speculative == greedy through the command (the text, before the statistics line)
text() { "$mini" "$@" | sed '/^---$/,$d'; }
for file in small default; do
    for experts in "" --fp8-experts "--numerics serving"; do
        want=$(text --weights "$tmp/$file.bin" --prompt "Speculate: " --tokens 100 $experts | od -An -tx1)
        bad=""
        for k in 1 2 3 4 5 6 7; do
            got=$(text --weights "$tmp/$file.bin" --prompt "Speculate: " --tokens 100 --speculative $k $experts | od -An -tx1)
            [ "$got" = "$want" ] || bad="$bad $k"
        done
        case $experts in --fp8-experts) mode=", FP8 experts" ;; --numerics*) mode=", serving numerics" ;; *) mode="" ;; esac
        what="$file file$mode: --speculative 1..7 prints the greedy text"
        [ -z "$bad" ] && [ -n "$want" ] && result PASS "$what" || result FAIL "$what" "differs for k =$bad"
    done
done
out=$("$mini" --weights "$tmp/default.bin" --tokens 50 --speculative 3)
printf '%s' "$out" | grep -q "tokens/s" && printf '%s' "$out" | grep -q "verify passes" &&
    result PASS "the command reports tokens/s and the verify passes" ||
    result FAIL "the command reports tokens/s and the verify passes" "$(printf '%s' "$out" | tail -n 2)"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
