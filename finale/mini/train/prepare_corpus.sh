#!/usr/bin/env bash
# The mini-model's training text, from Debian's `fortunes` package (make mini-corpus).
#
#   prepare_corpus.sh [OUT_DIR]          default OUT_DIR: build/corpus
#
# Reads the English fortune files in /usr/share/games/fortunes (the text files only: not the
# strfile indexes *.dat, not the *.u8 symlinks), cuts them into single fortunes at the lines
# holding one '%', shuffles the fortunes in a fixed order that depends only on the text (so every
# machine gets the same split), and writes
#   OUT_DIR/train.txt      about 95% of the fortunes
#   OUT_DIR/heldout.txt    the other 5%, never trained on: the held-out bits per byte come from it
# with one blank line between fortunes.
#
# Licence: the fortunes package is distributed under the BSD licence of the original BSD fortune
# (see /usr/share/doc/fortunes/copyright); its data files are collected quotations and jokes, and
# none of the files used here carries a licence of its own. The text stays in build/ and is not
# committed; only the trained weights are.
set -euo pipefail

OUT=${1:-build/corpus}
SRC=/usr/share/games/fortunes
LC_ALL=C
export LC_ALL

# 'computers' is one of the files of the full `fortunes` package (fortunes-min has only 'fortunes').
if [ ! -f "$SRC/computers" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "mini-corpus: installing Debian's fortunes package"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fortunes >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fortunes >/dev/null; }
    else
        echo "mini-corpus: the fortune files are missing; install them with:"
        echo "    sudo apt-get install -y fortunes"
        exit 1
    fi
fi

files=()
for f in "$SRC"/*; do
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    case "$f" in *.dat|*.u8) continue ;; esac
    files+=("$f")
done
[ ${#files[@]} -gt 0 ] || { echo "mini-corpus: no fortune files in $SRC"; exit 1; }
mkdir -p "$OUT"

# 1. One fortune per line, its newlines turned into \001 (a byte the text never holds), trailing
#    blanks of each line and blank lines at either end of the fortune dropped.
# 2. A sort key for each: a hash of the fortune's text, then the text itself to break ties.
#    Sorting by it is a shuffle that only the text decides.
# 3. Repeated fortunes (a few files share some) kept once, so none is both trained on and held out.
# 4. The first 95% go to train.txt, the rest to heldout.txt.
awk '
    function flush() {
        sub(/^\001+/, "", text); sub(/\001+$/, "", text)
        if (text != "") print text
        text = ""
    }
    FNR == 1 { flush() }
    /^%$/ { flush(); next }
    { sub(/[ \t\r]+$/, ""); text = text (text == "" ? "" : "\001") $0 }
    END { flush() }
' "${files[@]}" |
awk '
    BEGIN { for (i = 1; i < 256; i++) code[sprintf("%c", i)] = i }
    {
        # A multiplicative hash modulo the prime 2^31-1 (the Park-Miller multiplier): every
        # product stays below 2^47, so awk computes it exactly on any machine.
        h = 1
        n = length($0)
        for (i = 1; i <= n; i++) h = (h * 48271 + code[substr($0, i, 1)]) % 2147483647
        printf "%010d\t%s\n", h, $0
    }
' | sort -u -t "$(printf '\t')" -k1,1n -k2 |
cut -f2- |
awk -v train="$OUT/train.txt" -v heldout="$OUT/heldout.txt" '
    { fortune[NR] = $0 }
    END {
        cut = int(NR * 0.95)
        printf "" > train; printf "" > heldout
        for (i = 1; i <= NR; i++) {
            text = fortune[i]
            gsub(/\001/, "\n", text)
            out = (i <= cut) ? train : heldout
            printf "%s\n\n", text > out
        }
        printf "mini-corpus: %d fortunes: %d for training, %d held out\n", NR, cut, NR - cut
    }
'
echo "mini-corpus: ${#files[@]} files from $SRC"
wc -c "$OUT/train.txt" "$OUT/heldout.txt" | sed 's/^/mini-corpus: /'
