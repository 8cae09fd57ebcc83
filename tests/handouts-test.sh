#!/usr/bin/env bash
# The printed handouts, looked at. make handouts renders every handouts/*.md; then for each one:
#   - the HTML page and the PDF carry the handout's title (the PDF's first page, read back as text);
#   - every figure the Markdown references is in the HTML as a data: URI that decodes to a whole
#     PNG or SVG (so the page needs no other file and no image can go missing when it opens);
#   - the PDF holds at least as many raster images as the Markdown references;
#   - no missing-image mark: Chromium draws a small broken-image icon and prints the image's alt
#     text where an image did not load;
#   - every figure draws: rasterised, the pages change when that one figure is hidden.
# Then the negative tests: a scratch handout with a missing figure stops the renderer, and pages
# whose figure did not load, is corrupt or draws nothing fail the checks above.
# First, on a scratch copy of the handouts and the README: grader/fill-tables.sh run with one GPU's
# records refills that GPU's bench tables and leaves every other GPU's byte for byte, and refuses
# files whose markers name no records or lack an end line.
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
grader/ensure-deps.sh handouts || exit 1
out=build/test-handouts
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]

# words: text with its whitespace runs made single spaces (pdftotext breaks lines where it likes).
words() { tr -s '[:space:]' ' '; }
html_escape() { sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g'; }
# title_of MD: the first "# " heading without Markdown's marks.
title_of() { sed -n 's/^# //p' "$1" | head -n1 | tr -d '`*_'; }
# figures_of MD: every image the Markdown references, one "PATH<TAB>ALT" a line, from ![alt](path)
# and from raw <img src="path"> (whose alt is left empty).
figures_of() {
    grep -o '!\[[^]]*\]([^)]*)' "$1" | sed 's/^!\[\([^]]*\)\](\([^) ]*\).*/\2\t\1/'
    grep -o '<img [^>]*>' "$1" | sed -n 's/.*src="\([^"]*\)".*/\1\t/p'
}
print_pdf() { grader/handouts.sh --print "$1" "$2"; }
# pages_as_images PDF PREFIX: every page as a small grey image PREFIX-N.pgm.
pages_as_images() { rm -f "$2"-*.pgm; pdftoppm -r 24 -gray "$1" "$2"; }
# hex_of FILE: its bytes as hex, for comparing signatures.
hex_of() { od -An -tx1 "$1" | tr -d ' \n'; }

# The checks. Each prints one line per problem it finds, nothing when the page is right.
check_title() {  # MD HTML PDF
    local title
    title=$(title_of "$1")
    grep -qF "<title>$(printf '%s' "$title" | html_escape)</title>" "$2" ||
        echo "the HTML page's <title> is not \"$title\""
    pdftotext -f 1 -l 1 "$3" - 2>/dev/null | words | grep -qF -- "$title" ||
        echo "the PDF's first page lacks the title \"$title\""
}

check_html_images() {  # MD HTML: every <img> a data: URI of a whole image, as many as referenced
    local n=0 tag src kind refs
    while read -r tag; do
        n=$((n + 1))
        src=$(printf '%s' "$tag" | sed -n 's/.*src="\([^"]*\)".*/\1/p')
        case "$src" in
            data:image/png\;base64,*) kind=png ;;
            data:image/svg+xml\;base64,*) kind=svg ;;
            data:image/jpeg\;base64,*) kind=jpeg ;;
            data:image/gif\;base64,*) kind=gif ;;
            *) echo "image $n is not embedded: src=\"${src:0:60}\""; continue ;;
        esac
        if ! printf '%s' "${src#*,}" | base64 -d >"$scratch/image" 2>/dev/null; then
            echo "image $n: its data: URI is not base64"; continue
        fi
        head -c 8 "$scratch/image" >"$scratch/head"
        tail -c 8 "$scratch/image" >"$scratch/tail"
        case $kind in
            # A whole PNG: the 8-byte signature first, the IEND chunk and its CRC last.
            png) [ "$(hex_of "$scratch/head")" = 89504e470d0a1a0a ] &&
                 [ "$(hex_of "$scratch/tail")" = 49454e44ae426082 ] || echo "image $n: not a whole PNG" ;;
            svg) grep -q '<svg' "$scratch/image" && grep -q '</svg>' "$scratch/image" ||
                 echo "image $n: not a whole SVG" ;;
            jpeg) hex_of "$scratch/head" | grep -q '^ffd8' || echo "image $n: not a JPEG" ;;
            gif) grep -q '^GIF8' "$scratch/head" || echo "image $n: not a GIF" ;;
        esac
    done < <(grep -o '<img [^>]*>' "$2")
    refs=$(figures_of "$1" | grep -c .)
    [ "$n" -ge "$refs" ] || echo "the Markdown references $refs figures, the HTML shows $n"
}

# pdfimages lists each image drawn (and its transparency mask, "smask", apart): the figures, and
# Chromium's broken-image icon (14 x 16 pixels) wherever an image did not load.
check_pdf_images() {  # MD PDF
    local raster drawn
    raster=$(figures_of "$1" | cut -f1 | sort -u | grep -icE '\.(png|jpe?g|gif)$')
    drawn=$(pdfimages -list "$2" 2>/dev/null | awk 'NR > 2 && $3 == "image" && $4 >= 32 && $5 >= 32' | grep -c .)
    [ "$drawn" -ge "$raster" ] || echo "the Markdown references $raster raster figures, the PDF holds $drawn"
    pdfimages -list "$2" 2>/dev/null | awk 'NR > 2 && $3 == "image" && ($4 < 32 || $5 < 32)' | grep -q . &&
        echo "the PDF holds an icon-sized image, as Chromium draws where an image did not load"
}

# The other missing-image mark: an alt text printed where its image should be (unless the prose
# says the same words anyway).
check_alt_text() {  # MD PDF
    local text prose src alt
    text=$(pdftotext "$2" - 2>/dev/null | words)
    prose=$(sed 's/!\[[^]]*\]([^)]*)//g; s/<img [^>]*>//g' "$1" | words)
    while IFS=$'\t' read -r src alt; do
        alt=$(printf '%s' "$alt" | tr -d '`*_' | words)
        [ -n "$alt" ] || continue
        printf '%s' "$text" | grep -qF -- "$alt" && ! printf '%s' "$prose" | grep -qF -- "$alt" &&
            echo "the PDF shows the alt text \"$alt\" in place of the figure $src"
    done < <(figures_of "$1")
}

# Every figure draws: print the page again with that one <img> hidden (its box stays, so the
# layout is the same), rasterise both, and some page must differ.
check_figures_draw() {  # HTML PDF
    local n i differ page
    n=$(grep -o '<img ' "$1" | grep -c .)
    pages_as_images "$2" "$scratch/shown"
    for ((i = 1; i <= n; i++)); do
        awk -v k="$i" '{
            while (match($0, /<img /)) {
                printf "%s", substr($0, 1, RSTART + RLENGTH - 1)
                if (++seen == k) printf "style=\"visibility:hidden\" "
                $0 = substr($0, RSTART + RLENGTH)
            }
            print }' "$1" >"$scratch/hidden.html"
        if ! print_pdf "$scratch/hidden.html" "$scratch/hidden.pdf"; then
            echo "figure $i: Chromium printed no PDF"; continue
        fi
        pages_as_images "$scratch/hidden.pdf" "$scratch/hidden"
        differ=0
        for page in "$scratch"/shown-*.pgm; do
            cmp -s "$page" "$scratch/hidden-${page##*/shown-}" || differ=1
        done
        [ $differ = 1 ] || echo "figure $i draws nothing: the pages look the same without it"
    done
}

check_page() {  # MD HTML PDF
    check_title "$1" "$2" "$3"
    check_html_images "$1" "$2"
    check_pdf_images "$1" "$3"
    check_alt_text "$1" "$3"
    check_figures_draw "$2" "$3"
}

# ---- fill-tables: one GPU's records never touch another GPU's table ----------------------------
start=$(date +%s)
# blocks_of FILE NAME: the lines inside FILE's bench-table blocks that name NAME.
# all_but FILE NAME: FILE without those lines (every other block, and the prose, as they are).
blocks_of() {
    awk -v want="$2" '
        $0 == "<!-- end of bench table -->" { on = 0 }
        on { print }
        $0 == "<!-- bench table " want ": filled from make bench -->" { on = 1 }' "$1"
}
all_but() {
    awk -v want="$2" '
        $0 == "<!-- end of bench table -->" { on = 0 }
        !on { print }
        $0 == "<!-- bench table " want ": filled from make bench -->" { on = 1 }' "$1"
}
fill_copy=$scratch/fill
fill_scratch() {  # the scratch copy, made afresh from the real handouts and README
    rm -rf "$fill_copy" && mkdir -p "$fill_copy/handouts" "$fill_copy/records" &&
        cp handouts/[0-9][0-9]-*.md "$fill_copy/handouts/" && cp README.md "$fill_copy/"
}
fill_files() { ls "$fill_copy"/handouts/*.md "$fill_copy/README.md"; }
h100=h100-2026-11-22 h200=h200-2026-11-30
for pair in "$h200:$h100" "$h100:$h200"; do
    this=${pair%%:*} other=${pair##*:}
    if [ ! -r "handouts/bench/$this.jsonl" ]; then
        result FAIL "fill-tables with $this's records" "no handouts/bench/$this.jsonl"; continue
    fi
    fill_scratch
    # This GPU's records with a day no real run has, so that its refilled blocks show it.
    sed 's/"when":"[0-9-]*T/"when":"2031-01-01T/' "handouts/bench/$this.jsonl" >"$fill_copy/records/$this.jsonl"
    for f in $(fill_files); do all_but "$f" "$this"; done >"$scratch/rest-before"
    log=$(bash grader/fill-tables.sh --in "$fill_copy" "$fill_copy/records/$this.jsonl" 2>&1)
    rc=$?
    for f in $(fill_files); do all_but "$f" "$this"; done >"$scratch/rest-after"
    blocks=$(cat $(fill_files) | grep -cxF "<!-- bench table $this: filled from make bench -->")
    refilled=$(for f in $(fill_files); do blocks_of "$f" "$this"; done | grep -c '^Benchmark of the solutions on .*, 2031-01-01 ')
    if [ $rc -eq 0 ] && [ "$blocks" -gt 0 ] && [ "$refilled" = "$blocks" ]; then
        result PASS "fill-tables with $this's records refills its $blocks blocks"
    else
        result FAIL "fill-tables with $this's records refills its $blocks blocks" "exit $rc, $refilled refilled: $log"
    fi
    if cmp -s "$scratch/rest-before" "$scratch/rest-after" &&
        grep -qxF "<!-- bench table $other: filled from make bench -->" "$scratch/rest-after"; then
        result PASS "fill-tables with $this's records leaves $other's blocks, and all else, as they were"
    else
        result FAIL "fill-tables with $this's records leaves $other's blocks, and all else, as they were" \
            "$(diff "$scratch/rest-before" "$scratch/rest-after" | head -n 5 | paste -sd ';' -)"
    fi
done
# Today's accident: one session's records, fed to the filler, replaced the README's whole table.
if [ -r handouts/bench/h200-2026-11-29-session10.jsonl ]; then
    fill_scratch
    cp -r "$fill_copy" "$scratch/fill-before"
    bash grader/fill-tables.sh --in "$fill_copy" handouts/bench/h200-2026-11-29-session10.jsonl >/dev/null 2>&1
    rc=$?
    if [ $rc -eq 0 ] && diff -r "$scratch/fill-before" "$fill_copy" >/dev/null; then
        result PASS "fill-tables with session 10's records of 2026-11-29 changes nothing but its own (already filled) block"
    else
        result FAIL "fill-tables with session 10's records of 2026-11-29 changes nothing but its own (already filled) block" \
            "exit $rc; $(diff -r "$scratch/fill-before" "$fill_copy" | head -n 3 | paste -sd ';' -)"
    fi
    rm -rf "$scratch/fill-before"
fi
# One handout serving two session folders (13: 13-nvfp4 and 13-tcgen05) gets the rows of both:
# records holding only one folder's rows fill it (the first filler wanted one session a handout,
# and said "no rows" for the pair).
if [ -r handouts/bench/h200-2026-11-30-session13.jsonl ]; then
    fill_scratch
    sed 's/"when":"[0-9-]*T/"when":"2031-01-01T/' handouts/bench/h200-2026-11-30-session13.jsonl >"$fill_copy/records/h200-2026-11-30-session13.jsonl"
    # and a made-up row of the other folder, to see both kept
    head -n 1 "$fill_copy/records/h200-2026-11-30-session13.jsonl" |
        sed 's,"session":"blackwell/13-nvfp4","session":"blackwell/13-tcgen05",; s,"exercise":"[^"]*","exercise":"07_made_up",' \
        >>"$fill_copy/records/h200-2026-11-30-session13.jsonl"
    msg=$(bash grader/fill-tables.sh --in "$fill_copy" "$fill_copy/records/h200-2026-11-30-session13.jsonl" 2>&1)
    rc=$?
    rows=$(blocks_of "$fill_copy"/handouts/13-*.md h200-2026-11-30-session13)
    if [ $rc -eq 0 ] && grep -q '^| blackwell/13-nvfp4 | 05_nvfp4_gemv_fused |' <<<"$rows" &&
        grep -q '^| blackwell/13-tcgen05 | 07_made_up |' <<<"$rows" && grep -q ', 2031-01-01 ' <<<"$rows"; then
        result PASS "fill-tables gives handout 13, which serves two folders, the rows of both"
    else
        result FAIL "fill-tables gives handout 13, which serves two folders, the rows of both" "exit $rc: $msg"
    fi
fi
# Records that no marker names fill nothing, and say so.
fill_scratch
cp handouts/bench/$h200.jsonl "$fill_copy/records/bench.jsonl"
cp -r "$fill_copy" "$scratch/fill-before"
msg=$(bash grader/fill-tables.sh --in "$fill_copy" "$fill_copy/records/bench.jsonl" 2>&1)
rc=$?
if [ $rc -ne 0 ] && diff -r "$scratch/fill-before" "$fill_copy" >/dev/null && printf '%s' "$msg" | grep -q "names bench"; then
    result PASS "records that no marker names (bench.jsonl) fill nothing and say so"
else
    result FAIL "records that no marker names (bench.jsonl) fill nothing and say so" "exit $rc: $msg"
fi
rm -rf "$scratch/fill-before"
# A file whose marker names no records, or whose block lacks its end line, is left untouched.
for broken in unnamed no-end; do
    fill_scratch
    f=$fill_copy/handouts/$(basename "$(ls handouts/0[1-9]-*.md | head -n1)")
    case $broken in
        unnamed) printf '\n<!-- bench table: filled from make bench -->\n<!-- end of bench table -->\n' >>"$f" ;;
        no-end) printf '\n<!-- bench table %s: filled from make bench -->\n' "$h100" >>"$f" ;;
    esac
    cp "$f" "$scratch/broken-before"
    msg=$(bash grader/fill-tables.sh --in "$fill_copy" "handouts/bench/$h200.jsonl" 2>&1)
    rc=$?
    if [ $rc -ne 0 ] && cmp -s "$f" "$scratch/broken-before" && printf '%s' "$msg" | grep -q "left untouched"; then
        result PASS "a handout with a bench table marker that is $broken is left untouched, and named"
    else
        result FAIL "a handout with a bench table marker that is $broken is left untouched, and named" "exit $rc: $msg"
    fi
done

# ---- every handout ------------------------------------------------------------------------------
rm -rf "$out"
if grader/handouts.sh "$out" >"$scratch/render.log" 2>&1; then result PASS "make handouts renders every handout"
else result FAIL "make handouts renders every handout" "$(paste -sd ';' - <"$scratch/render.log")"; fi
for md in handouts/*.md; do
    name=$(basename "$md" .md)
    html=$out/html/$name.html pdf=$out/pdf/$name.pdf
    if [ ! -s "$html" ] || [ ! -s "$pdf" ]; then result FAIL "$name: rendered" "no $html or $pdf"; continue; fi
    problems=$(check_page "$md" "$html" "$pdf")
    what="$name: title, figures ($(figures_of "$md" | grep -c .)), no missing-image mark"
    if [ -z "$problems" ]; then result PASS "$what"; else result FAIL "$what" "$(paste -sd ';' - <<<"$problems")"; fi
done

# ---- negative tests -----------------------------------------------------------------------------
# A small handout with a table, code and two real figures (a PNG and an SVG): it must pass, so the
# failures below are caused by what each one breaks and nothing else.
neg=$scratch/neg
mkdir -p "$neg/figures"
figure=$(ls handouts/figures/*.svg | head -n1)
cp "${figure%.svg}.png" "$neg/figures/chart.png"
cp "$figure" "$neg/figures/chart.svg"
cat >"$neg/99-scratch.md" <<'MD'
# Session 99: A handout for the test

| rung | what |
|------|------|
| 1    | a table |

```c
int main(void) { return 0; }
```

![The chart of rung 99](figures/chart.png)

![The same chart drawn in lines](figures/chart.svg)
MD
good_html=$neg/out/html/99-scratch.html good_pdf=$neg/out/pdf/99-scratch.pdf
if grader/handouts.sh "$neg/out" "$neg/99-scratch.md" >/dev/null 2>&1; then
    problems=$(check_page "$neg/99-scratch.md" "$good_html" "$good_pdf")
    [ -z "$problems" ] && result PASS "a scratch handout with two figures passes" ||
        result FAIL "a scratch handout with two figures passes" "$problems"
else
    result FAIL "a scratch handout with two figures renders"
fi

# A figure file that is missing stops the render, with a line that names it.
mv "$neg/figures/chart.png" "$neg/figures/moved.png"
msg=$(grader/handouts.sh "$neg/out2" "$neg/99-scratch.md" 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$msg" | grep -q "figures/chart.png: no such file"; then
    result PASS "a missing figure file stops make handouts"
else
    result FAIL "a missing figure file stops make handouts" "exit $rc: $msg"
fi
mv "$neg/figures/moved.png" "$neg/figures/chart.png"

# broken_copy NAME SED: the good page changed by SED, as NAME.html and, printed, NAME.pdf.
broken_copy() {
    sed "$2" "$good_html" >"$neg/$1.html"
    print_pdf "$neg/$1.html" "$neg/$1.pdf" || echo "Chromium printed no PDF of $1.html"
}
# expect_caught WHAT PAGE REASON...: the checks on PAGE.html and PAGE.pdf report every REASON.
expect_caught() {
    local what=$1 page=$2 problems reason
    shift 2
    problems=$(check_page "$neg/99-scratch.md" "$neg/$page.html" "$neg/$page.pdf")
    for reason in "$@"; do
        printf '%s' "$problems" | grep -qF -- "$reason" && result PASS "$what is caught: $reason" ||
            result FAIL "$what is caught: $reason" "the checks said: $problems"
    done
}
png='src="data:image/png;base64,[^"]*"'
svg='src="data:image/svg+xml;base64,[^"]*"'

# A page whose PNG did not load: its src points at no file.
broken_copy unloaded "s|$png|src=\"figures/no-such-chart.png\"|"
expect_caught "a figure that did not load" unloaded "is not embedded" "raster figures, the PDF holds 0" \
    "icon-sized image" "in place of the figure"
# A data: URI that is not a PNG.
broken_copy corrupt "s|$png|src=\"data:image/png;base64,$(printf 'not an image' | base64 -w0)\"|"
expect_caught "a corrupt embedded figure" corrupt "not a whole PNG"
# An SVG that is whole but draws nothing: only the rasterised pages can tell.
empty=$(printf '<svg xmlns="http://www.w3.org/2000/svg" width="1100" height="560"></svg>' | base64 -w0)
broken_copy empty "s|$svg|src=\"data:image/svg+xml;base64,$empty\"|"
expect_caught "an SVG figure that draws nothing" empty "figure 2 draws nothing"

echo "handouts test: $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
