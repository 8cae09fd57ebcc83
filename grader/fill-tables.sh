#!/usr/bin/env bash
# Puts a benchmark run's tables into the handouts and the README, between the lines
#   <!-- bench table: filled from make bench -->   and   <!-- end of bench table -->
# so that every figure there comes from a make bench record anyone can regenerate.
#   fill-tables.sh BENCH.jsonl
set -eu
bench=${1:?fill-tables.sh BENCH.jsonl}
cd "$(dirname "$0")/.."
arch=$(make --no-print-directory print-ARCH)
tool=build/$arch/grader/tools/bench-table
make --no-print-directory -s "$tool" >/dev/null
start='<!-- bench table: filled from make bench -->'
end='<!-- end of bench table -->'
replace() {  # replace FILE TABLE_FILE
    local has_end=0
    grep -qxF "$end" "$1" && has_end=1
    awk -v start="$start" -v end="$end" -v table="$2" -v has_end=$has_end '
        $0 == start { print; while ((getline line < table) > 0) print line; print end; skip = has_end; next }
        skip && $0 == end { skip = 0; next }
        !skip { print }' "$1" > "$1.new" && mv "$1.new" "$1"
}
table=$(mktemp)
for handout in handouts/[0-9][0-9]-*.md; do
    grep -qF "$start" "$handout" || continue
    n=$(basename "$handout" | cut -c1-2)
    session=$(make --no-print-directory print-ALL_SESSIONS | tr ' ' '\n' | grep "/$n-" || true)
    [ -n "$session" ] || continue
    if "$tool" --session "$session" "$bench" > "$table" 2>/dev/null; then
        replace "$handout" "$table"
        echo "fill-tables: $handout"
    fi
done
if grep -qF "$start" README.md; then
    "$tool" "$bench" > "$table" && replace README.md "$table" && echo "fill-tables: README.md"
fi
rm -f "$table"
