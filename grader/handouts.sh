#!/usr/bin/env bash
# make handouts: every worksheet handouts/*.md as one standalone HTML page (its figures embedded as
# data: URIs, the stylesheet grader/handout.css inside) and as a PDF printed by headless Chromium.
#   handouts.sh OUT_DIR [HANDOUT.md ...]   (default: every handouts/*.md)
#                                          writes OUT_DIR/html/NAME.html and OUT_DIR/pdf/NAME.pdf
#   handouts.sh --print PAGE.html OUT.pdf  print one page as make handouts does (for the test)
# Figure paths are taken beside the Markdown file. A figure that is missing, or is not a local PNG,
# SVG, JPEG or GIF file, stops the render of that handout with a line naming both; the exit status
# is then 1. Needs cmark-gfm and Chromium: grader/ensure-deps.sh handouts installs them.
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
chrome=$(command -v chromium-headless-shell || command -v chromium) || {
    echo "handouts: no Chromium to print PDFs with; run grader/ensure-deps.sh handouts"; exit 1; }
command -v cmark-gfm >/dev/null || { echo "handouts: cmark-gfm missing; run grader/ensure-deps.sh handouts"; exit 1; }
# Chromium keeps a profile folder; a fresh one per run lets several runs go at once.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# print_pdf PAGE.html OUT.pdf: true when Chromium wrote the PDF. --no-sandbox because CI runs as
# root, where Chromium's sandbox refuses to start; --disable-dev-shm-usage because containers often
# have a tiny /dev/shm.
print_pdf() {
    rm -f "$2"
    "$chrome" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-pdf-header-footer \
        --user-data-dir="$scratch/profile" --print-to-pdf="$2" "file://$(realpath "$1")" \
        >"$scratch/chromium.log" 2>&1
    [ -s "$2" ]
}

if [ "${1:-}" = --print ]; then
    print_pdf "${2:?handouts.sh --print PAGE.html OUT.pdf}" "${3:?handouts.sh --print PAGE.html OUT.pdf}"
    exit
fi

# embed_images DIR: reads HTML, writes it back with every <img src="PATH"> turned into a data: URI
# of the file DIR/PATH. A missing or unsupported figure is named on stderr and the status is 1.
embed_images() {
    awk -v dir="$1" '
    function mime_of(path) {
        if (path ~ /\.png$/) return "image/png"
        if (path ~ /\.svg$/) return "image/svg+xml"
        if (path ~ /\.jpe?g$/) return "image/jpeg"
        if (path ~ /\.gif$/) return "image/gif"
        return ""
    }
    function complain(src, why) {
        print "figure " src ": " why > "/dev/stderr"
        bad = 1
        return src
    }
    function data_uri(src,    file, mime, junk, cmd, b64) {
        if (src ~ /^data:/) return src
        file = dir "/" src
        mime = mime_of(src)
        if (src ~ /^[a-z]+:/ || mime == "") return complain(src, "not a local PNG, SVG, JPEG or GIF file")
        if ((getline junk < file) < 0) return complain(src, "no such file")
        close(file)
        cmd = "base64 -w0 \"" file "\""
        b64 = ""
        cmd | getline b64
        close(cmd)
        return "data:" mime ";base64," b64
    }
    {
        rest = $0; done = ""
        # Each <img ...> tag: cut out its src="..." and put the data: URI in its place.
        while (match(rest, /<img[^>]*>/)) {
            tag = substr(rest, RSTART, RLENGTH)
            done = done substr(rest, 1, RSTART - 1)
            rest = substr(rest, RSTART + RLENGTH)
            if (match(tag, /src="[^"]*"/)) {
                src = substr(tag, RSTART + 5, RLENGTH - 6)
                tag = substr(tag, 1, RSTART - 1) "src=\"" data_uri(src) "\"" substr(tag, RSTART + RLENGTH)
            }
            done = done tag
        }
        print done rest
    }
    END { exit bad }'
}

# html_escape: the few characters that HTML text can't hold as they are.
html_escape() { sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g'; }

out=${1:?handouts.sh OUT_DIR [HANDOUT.md ...]}
shift
handouts=("$@")
[ ${#handouts[@]} -gt 0 ] || handouts=("$here"/../handouts/*.md)
mkdir -p "$out/html" "$out/pdf"
out=$(cd "$out" && pwd)
failed=0 rendered=0
for md in "${handouts[@]}"; do
    name=$(basename "$md" .md)
    dir=$(cd "$(dirname "$md")" && pwd)
    html=$out/html/$name.html pdf=$out/pdf/$name.pdf
    rm -f "$html" "$pdf"
    # The page title is the handout's first "# " heading, without Markdown's marks.
    title=$(sed -n 's/^# //p' "$md" | head -n1 | tr -d '`*_' | html_escape)
    body=$(cmark-gfm --unsafe -e table -e strikethrough -e autolink "$md" | embed_images "$dir" 2>"$scratch/why") || {
        sed "s|^|handouts: $md: |" "$scratch/why"
        failed=$((failed + 1)); continue
    }
    {
        printf '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        printf '<title>%s</title>\n<style>\n' "${title:-$name}"
        cat "$here/handout.css"
        printf '</style>\n</head>\n<body>\n%s\n</body>\n</html>\n' "$body"
    } >"$html"
    if ! print_pdf "$html" "$pdf"; then
        echo "handouts: $md: Chromium printed no PDF:"; tail -n 5 "$scratch/chromium.log"
        failed=$((failed + 1)); continue
    fi
    rendered=$((rendered + 1))
done
echo "handouts: $rendered rendered to $out/html and $out/pdf$([ $failed -gt 0 ] && echo ", $failed failed")"
[ $failed -eq 0 ]
