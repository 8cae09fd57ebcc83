#!/usr/bin/env bash
# Bar charts of a benchmark run, PNG and SVG into OUT_DIR: one per session (each exercise's percent
# of the datasheet peak, of the measured roof and of the vendor library), and the SGEMM ladder
# across sessions 04 and 05.
#   plot-bench.sh BENCH.jsonl OUT_DIR [TAG]
# With TAG (e.g. h200) every name ends in -TAG: bench-02-cuda-model-h200.png, ladder-sgemm-h200.svg,
# so that the charts of a second GPU sit beside the first one's instead of replacing them.
# BENCH.jsonl may come from anywhere, so no text of it is ever part of a gnuplot command: the records
# are read by bench-table (grader/tools/bench-table.c), which skips malformed ones with a warning and
# prints only plain names; here every string is cut to plain characters once more, and reaches
# gnuplot as an argument (gnuplot -c: ARG1.., never parsed, so `backticks` and quotes stay text).
# Environment: BUILD (default build) for the tool's build folder; BENCH_TABLE, an already built tool.
set -u
bench=${1:?plot-bench.sh BENCH.jsonl OUT_DIR [TAG]}
out=${2:?plot-bench.sh BENCH.jsonl OUT_DIR [TAG]}
tag=${3:-}
case $tag in
    *[!A-Za-z0-9_.+-]*) echo "plot-bench: a TAG may hold only A-Z a-z 0-9 _ . + -"; exit 1 ;;
esac
tag=${tag:+-$tag}
cd "$(dirname "$0")/.."
# Without gnuplot the tables (bench.md, written before) stand alone: one line, and no error for make.
if ! command -v gnuplot >/dev/null; then
    echo "plot-bench: gnuplot is not installed: the charts are skipped (Debian: apt-get install gnuplot-nox)"
    exit 0
fi
[ -r "$bench" ] || { echo "plot-bench: cannot read $bench"; exit 1; }
tool=${BENCH_TABLE:-}
if [ -z "$tool" ]; then
    build=${BUILD:-build}
    arch=$(make --no-print-directory BUILD="$build" print-ARCH)
    tool=$build/$arch/grader/tools/bench-table
    make --no-print-directory -s BUILD="$build" "$tool" >/dev/null || exit 1
fi
mkdir -p "$out" || exit 1

# plain TEXT: TEXT with every character outside [A-Za-z0-9_.+/ -] made '_', at most 80 characters.
plain() { local s=${1:0:80}; printf '%s' "${s//[^A-Za-z0-9_.+\/ -]/_}"; }

{ read -r gpu; read -r day; } < <("$tool" --info "$bench" 2>/dev/null)
gpu=$(plain "${gpu:-?}") day=$(plain "${day:-?}")

# The gnuplot script is fixed text; ARG1 is the output file, ARG2 the title, ARG3 the data file,
# ARG4 the kind of chart (session: three bars per exercise; ladder: two), ARG5 the y range's top.
script=$(mktemp) data=$(mktemp) part=$(mktemp)
trap 'rm -f "$script" "$data" "$part"' EXIT
cat >"$script" <<'GP'
set encoding utf8
if (ARG1[strlen(ARG1)-2:] eq "png") {
    set terminal pngcairo size 1100,560 font 'sans,12' noenhanced
} else {
    set terminal svg size 1100,560 font 'sans,12' noenhanced
}
set output ARG1
set title ARG2 noenhanced
set ylabel "percent"
if (ARG5 eq "*") { set yrange [0:*] } else { set yrange [0:real(ARG5)] }
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
# The key sits right of the plot: inside it, it hid the top of bars above ~90%. Autoscaled ranges
# keep 5% of headroom, so that a bar at 100% still shows its top below the border.
set key outside right top vertical Left reverse noenhanced samplen 2 spacing 1.3
set offsets 0, 0, graph 0.05, 0
set bmargin 7
set xtics rotate by -25 noenhanced
set datafile separator "\t"
if (ARG4 eq "ladder") {
    plot ARG3 using 4:xtic(1) title "% of cuBLAS SGEMM", "" using 2 title "% of FP32 peak (datasheet)"
} else {
    plot ARG3 using 2:xtic(1) title "% of datasheet peak", "" using 3 title "% of measured roof", "" using 4 title "% of library"
}
GP

# draw NAME TITLE KIND YTOP: DATA as OUT/NAME.png and OUT/NAME.svg.
draw() {
    local name=$1 title=$2 kind=$3 ytop=$4 term
    for term in png svg; do
        gnuplot -c "$script" "$out/$name.$term" "$title" "$data" "$kind" "$ytop" ||
            echo "plot-bench: gnuplot failed on $out/$name.$term"
    done
    echo "plot-bench: $out/$name.png and .svg"
}

: >"$part"
while IFS= read -r session; do
    session=$(plain "$session")
    [ -n "$session" ] || continue
    "$tool" --tsv --session "$session" "$bench" >"$data" 2>/dev/null || continue
    draw "bench-$(plain "${session##*/}")$tag" "$session: solutions on $gpu ($day, make bench)" session "*"
    # The SGEMM ladder: labels "04/01_sgemm_naive", since the rung numbers restart in each session.
    case $session in
        ladder/04-* | ladder/05-*)
            n=${session#ladder/}
            awk -v n="${n:0:2}" 'BEGIN { FS = OFS = "\t" } { $1 = n "/" $1; print }' "$data" >>"$part" ;;
    esac
done < <("$tool" --sessions "$bench")
if [ -s "$part" ]; then
    sort -t/ -k1,1 -s "$part" >"$data"
    draw "ladder-sgemm$tag" "The SGEMM ladder at 4096³ on $gpu ($day, make bench)" ladder 115
fi
exit 0
