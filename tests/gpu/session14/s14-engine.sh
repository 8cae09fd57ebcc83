#!/usr/bin/env bash
# Session 14's engine on a GPU, one run under 9 minutes: what the next measurement of issue 14 needs.
#   1. build mini-gpu on the solutions twice: this checkout's, and the first version measured on
#      the H200 (commit 14fcf09, 2026-11-30: 5718 tokens/s greedy) in a worktree, for a same-run A/B;
#   2. both on two prompts: greedy, speculative k = 1 and 3, --compare (tokens against the CPU
#      engine's serving numerics, speculative against greedy); one line each in the summary;
#   3. this checkout's: the traced passes (make demo-speculative's view), compute-sanitizer memcheck
#      on a short speculative run, and --scaled (both random-weight configurations: GB/s against a copy);
#   4. the PyTorch yardstick (bench_torch_mini.py: eager and torch.compile reduce-overhead) while
#      time lasts.
# Everything is logged under $OUT; $OUT/summary.txt has the lines that matter.
#   OUT=/some/dir bash tests/gpu/session14/s14-engine.sh        (from the repository root)
# The old version's sources come from git (git archive); on a GPU machine whose copy of the tree
# has no .git, prepare them first and carry them along:
#   mkdir -p build-engine-v1/src && git archive 14fcf09 | tar -x -C build-engine-v1/src
set -u
cd "$(dirname "$0")/../../.." || exit 1
: "${OUT:?set OUT to an output folder}"
mkdir -p "$OUT"
t0=$(date +%s)
left() { echo $((530 - ($(date +%s) - t0))); }
summary=$OUT/summary.txt
: >"$summary"
say() { echo "$*" | tee -a "$summary"; }
command -v compute-sanitizer >/dev/null || export PATH=$PATH:/usr/local/cuda/bin
arch=$(make --no-print-directory print-ARCH)
NEW=build/$arch/solution/mini-gpu
OLD_TREE=build-engine-v1/src
OLD=$OLD_TREE/build/$arch/solution/mini-gpu

if [ ! -d "$OLD_TREE" ] && git rev-parse --git-dir >/dev/null 2>&1; then
    mkdir -p "$OLD_TREE" && git archive 14fcf09 | tar -x -C "$OLD_TREE"
fi
[ -d "$OLD_TREE" ] || say "no sources of 14fcf09 in $OLD_TREE: the old version is left out"
( make -s -j8 SOLUTION=1 "$NEW" >"$OUT/build-new.log" 2>&1; echo "new build exit $?" >>"$OUT/build-new.log" ) &
( [ -d "$OLD_TREE" ] && make -s -C "$OLD_TREE" -j8 SOLUTION=1 "build/$arch/solution/mini-gpu" >"$OUT/build-old.log" 2>&1 ) &
wait
say "builds: $(tail -n 1 "$OUT/build-new.log"); old: $([ -x "$OLD" ] && echo ok || echo failed)"

run() {  # run LABEL BINARY ARGS...
    local label=$1 bin=$2 log; shift 2
    log=$OUT/$(echo "$label" | tr -c 'A-Za-z0-9' _).log
    [ -x "$bin" ] || { say "$label: no binary"; return; }
    timeout 120 "$bin" --weights finale/mini/weights/mini.bin "$@" >"$log" 2>&1
    say "$label (exit $?): $(grep -E 'tokens/s|equal|near-tie|NOT|relative L2' "$log" | sed 's/^/  /' | paste -sd '|' -)"
}
for p in "Once upon a time" "The little dog ran"; do
    for k in 1 3; do
        run "new k=$k '$p'" "$NEW" --prompt "$p" --tokens 200 --speculative $k --compare
        run "old k=$k '$p'" "$OLD" --prompt "$p" --tokens 200 --speculative $k --compare
    done
done
timeout 60 "$NEW" --tokens 80 --speculative 3 --trace 6 >"$OUT/trace.log" 2>&1; say "trace (exit $?):"; grep '^pass' "$OUT/trace.log" | tee -a "$summary"
timeout 90 compute-sanitizer --tool memcheck --error-exitcode 99 "$NEW" --tokens 12 --speculative 3 >"$OUT/memcheck.log" 2>&1
say "memcheck exit $?: $(grep -m1 'ERROR SUMMARY' "$OUT/memcheck.log")"
timeout 180 "$NEW" --scaled --tokens 64 >"$OUT/scaled.log" 2>&1; say "scaled (exit $?):"; cat "$OUT/scaled.log" | tee -a "$summary"
b=$(left); [ "$b" -gt 240 ] && b=240
if [ "$b" -gt 60 ]; then
    timeout "$b" python3 finale/14-deepseek/bench_torch_mini.py --out "$OUT" >"$OUT/torch.log" 2>&1
    say "bench_torch_mini (exit $?):"; tee -a "$summary" <"$OUT/torch.log"
else say "bench_torch_mini: skipped, out of time"; fi
say "took $(( $(date +%s) - t0 )) s"
