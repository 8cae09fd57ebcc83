#!/usr/bin/env bash
# Puts a benchmark run's tables into the handouts and the README, so that every figure there comes
# from a make bench record anyone can regenerate. Each table sits between two marker lines, and the
# first names the record file it is filled from, by its name without .jsonl:
#   <!-- bench table h200-2026-11-30: filled from make bench -->
#   ...                                       (the table of handouts/bench/h200-2026-11-30.jsonl)
#   <!-- end of bench table -->
#   fill-tables.sh [--in DIR] RECORDS.jsonl
# fills only the blocks whose marker names RECORDS (h200-2026-11-30 for .../h200-2026-11-30.jsonl),
# so that the records of one GPU never replace another GPU's table. In a handout the block gets
# that session's rows, and is left as it is when the records hold none; in README.md, every row.
# A handout or README with a marker that names no records (the old "<!-- bench table: filled from
# make bench -->"), or a block without its end line, is left untouched and named on stderr.
# The files are DIR/handouts/NN-*.md and DIR/README.md (DIR: this repository; tests use a copy).
# A new run: keep its records beside the others, add the two marker lines where its tables go, fill:
#   cp build/bench/bench.jsonl handouts/bench/h200-2026-12-01.jsonl
#   grader/fill-tables.sh handouts/bench/h200-2026-12-01.jsonl
# Exit status 1 when no block names the records, or a file was refused.
set -eu
usage='usage: fill-tables.sh [--in DIR] RECORDS.jsonl'
dir=
if [ "${1:-}" = --in ]; then dir=${2:?$usage}; shift 2; fi
[ $# -eq 1 ] || { echo "$usage" >&2; exit 64; }
bench=$(realpath -e "$1") || { echo "fill-tables: cannot read $1" >&2; exit 1; }
name=$(basename "$bench" .jsonl)
# The name goes into a marker line and an awk string: plain characters only.
case $name in
    *[!A-Za-z0-9._+-]* | '') echo "fill-tables: $name: a record file's name may hold only A-Z a-z 0-9 . _ + -" >&2; exit 1 ;;
esac
[ -z "$dir" ] || dir=$(realpath -e "$dir") || { echo "fill-tables: no folder $dir" >&2; exit 1; }
cd "$(dirname "$0")/.."
dir=${dir:-$PWD}
arch=$(make --no-print-directory print-ARCH)
tool=build/$arch/grader/tools/bench-table
make --no-print-directory -s "$tool" >/dev/null
sessions=$(make --no-print-directory print-ALL_SESSIONS | tr ' ' '\n')
start="<!-- bench table $name: filled from make bench -->"
end='<!-- end of bench table -->'

# problems FILE: one line per reason to leave FILE alone: a marker naming no records, a block
# without its end line, an end line without a block.
problems() {
    awk -v end="$end" '
        /^<!-- bench table[ :]/ {
            if ($0 !~ /^<!-- bench table [A-Za-z0-9._+-]+: filled from make bench -->$/)
                { print FILENAME ":" NR ": a bench table marker that names no record file"; next }
            if (open) print FILENAME ":" open ": a bench table without its end line"
            open = NR; next }
        $0 == end { if (!open) print FILENAME ":" NR ": an end of bench table without its start"; open = 0 }
        END { if (open) print FILENAME ":" open ": a bench table without its end line" }' "$1"
}
# replace FILE TABLE: every block of FILE that names these records holds TABLE.
replace() {
    awk -v start="$start" -v end="$end" -v table="$2" '
        $0 == start { print; while ((getline line < table) > 0) print line; close(table); print end; skip = 1; next }
        skip { if ($0 == end) skip = 0; next }
        { print }' "$1" >"$1.new" && mv "$1.new" "$1"
}
table=$(mktemp)
trap 'rm -f "$table"' EXIT
status=0 named=0
# fill FILE [SESSION]: FILE's blocks for these records, with SESSION's rows or every row.
fill() {
    local why
    why=$(problems "$1")
    grep -qxF "$start" "$1" || { [ -z "$why" ] || sed 's/^/fill-tables: warning: /' <<<"$why" >&2; return 0; }
    named=1
    if [ -n "$why" ]; then
        sed 's/^/fill-tables: left untouched: /' <<<"$why" >&2; status=1; return 0
    fi
    local only=() one
    for one in ${2:-}; do only+=(--session "$one"); done   # a handout may serve two folders (13)
    if "$tool" ${only[@]+"${only[@]}"} "$bench" >"$table" 2>/dev/null; then
        replace "$1" "$table"
        echo "fill-tables: ${1#"$dir"/} ($(echo ${2:-every session})) from $name"
    else
        echo "fill-tables: ${1#"$dir"/}: $name holds no rows${2:+ of $(echo $2)}; its table is left as it was"
    fi
}
for handout in "$dir"/handouts/[0-9][0-9]-*.md; do
    [ -e "$handout" ] || continue
    n=$(basename "$handout" | cut -c1-2)
    session=$(grep "/$n-" <<<"$sessions" || true)
    if [ -n "$session" ]; then fill "$handout" "$session"; fi
done
if [ -e "$dir/README.md" ]; then fill "$dir/README.md"; fi
if [ $named = 0 ]; then
    echo "fill-tables: no handout or README names $name; add the line \"$start\"" \
        "and \"$end\" where its table goes" >&2
    status=1
fi
exit $status
