#!/usr/bin/env bash
# Bar charts of a benchmark run, PNG and SVG into OUT_DIR: one per session (each exercise's percent
# of the datasheet peak, of the measured roof and of the vendor library), and the SGEMM ladder
# across sessions 04 and 05.
#   plot-bench.sh BENCH.jsonl OUT_DIR
set -u
bench=${1:?plot-bench.sh BENCH.jsonl OUT_DIR}
out=${2:?plot-bench.sh BENCH.jsonl OUT_DIR}
cd "$(dirname "$0")/.."
if ! command -v gnuplot >/dev/null; then
    echo "plot-bench: gnuplot not found, no chart drawn (install gnuplot-nox, then: make charts BENCH=$bench)"
    exit 1
fi
arch=$(make --no-print-directory print-ARCH)
tool=build/$arch/grader/tools/bench-table
make --no-print-directory -s "$tool" >/dev/null || exit 1
mkdir -p "$out"
gpu=$(grep -o '"gpu":"[^"][^"]*"' "$bench" | head -n1 | sed 's/"gpu":"//; s/"$//')
day=$(sed -n 's/.*"when":"\([0-9-]*\)T.*/\1/p' "$bench" | head -n1)

# draw NAME TITLE DATA YRANGE PLOT: a clustered bar chart of DATA (tab-separated: label, % of peak,
# % of measured roof, % of library) as NAME.png and NAME.svg.
draw() {
    local name=$1 title=$2 data=$3 yrange=$4 plot=$5 term setterm
    for term in png svg; do
        if [ $term = png ]; then setterm="set terminal pngcairo size 1100,560 font 'sans,12'"
        else setterm="set terminal svg size 1100,560 font 'sans,12'"; fi
        gnuplot <<GP || echo "plot-bench: gnuplot failed on $out/$name.$term"
$setterm
set output "$out/$name.$term"
set title "$title"
set ylabel "percent"
set yrange $yrange
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top center horizontal
set rmargin 8
set bmargin 7
set xtics rotate by -25 noenhanced
set datafile separator "\t"
plot $plot
GP
    done
    echo "plot-bench: $out/$name.png and .svg"
}

data=$(mktemp)
for session in $(sed -n 's/.*"session":"\([^"]*\)".*/\1/p' "$bench" | sort -u); do
    grep "\"session\":\"$session\"" "$bench" > "$data.jsonl"
    "$tool" --tsv "$data.jsonl" > "$data" 2>/dev/null || continue
    draw "bench-$(basename "$session")" "$session: solutions on $gpu ($day, make bench)" "$data" "[0:*]" \
        "\"$data\" using 2:xtic(1) title \"% of datasheet peak\", \"\" using 3 title \"% of measured roof\", \"\" using 4 title \"% of library\""
done

# The SGEMM ladder: labels "04/01_sgemm_naive", since the rung numbers restart in each session.
: > "$data"
for n in 04 05; do
    grep -E "\"session\":\"ladder/$n-" "$bench" > "$data.jsonl" || continue
    "$tool" --tsv "$data.jsonl" | awk -v n=$n 'BEGIN { FS = OFS = "\t" } { $1 = n "/" $1; print }' >> "$data"
done
if [ -s "$data" ]; then
    draw ladder-sgemm "The SGEMM ladder at 4096^3 on $gpu ($day, make bench)" "$data" "[0:115]" \
        "\"$data\" using 4:xtic(1) title \"% of cuBLAS SGEMM\", \"\" using 2 title \"% of FP32 peak (datasheet)\""
fi
rm -f "$data" "$data.jsonl"
