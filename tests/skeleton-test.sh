#!/usr/bin/env bash
# The skeletons as a student reads them, and the handouts that walk through them. For every
# skeleton NN-session/NN_name.cu or .py (never the solutions):
#   - its TODO markers are numbered 1, 2, 3 ... in the order they occur in the file, each number
#     once, so that "TODO 3" in a handout or a question names one place. Every marker carries its
#     number: a bare "TODO" or "TODO:" is refused, and so is a second mention of a number ("as in
#     TODO 1"). The word "TODOs" in prose ("Yours: the TODOs") is another word, and is allowed;
#   - it silences no warning with "(void)name;" lines: the student build's flags do that, and the
#     lines would be one more thing for the student to delete;
# and for every session folder that has skeletons, its handout handouts/NN-*.md
#   - has a "## What to implement" section,
#   - names each of the session's exercise files there, on a line that starts **`NN_name.cu`, and
#   - names, in that file's part of the section, exactly the TODO numbers the skeleton has.
# Then the same checks on planted mistakes in a scratch folder, each of which must be caught.
# Needs only bash and coreutils, grep, sed, awk. Ends with "N passed, N failed"; exit 1 on a failure.
set -u
cd "$(dirname "$0")/.." || exit 1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]

# todo_numbers FILE: the numbers of FILE's TODO markers in file order, one a line; "-" for a
# marker without a number.
todo_numbers() {
    grep -oE '\bTODO\b( +[0-9]+)?' "$1" | sed -E 's/^TODO +//; s/^TODO$/-/'
}

# todo_problem FILE: what is wrong with FILE's TODO markers, in one line; nothing when they are right.
todo_problem() {
    local numbers count expected
    numbers=$(todo_numbers "$1" | tr '\n' ' ' | sed 's/ $//')
    count=$(todo_numbers "$1" | grep -c .)
    expected=$(seq -s ' ' 1 "$count")
    if [ "$count" -eq 0 ]; then echo "no TODO marker"
    elif printf '%s\n' "$numbers" | grep -q -- '-'; then
        echo "a TODO without a number, line $(grep -nE '\bTODO\b( *[^ 0-9]|$)' "$1" | head -n1 | cut -d: -f1)"
    elif [ "$numbers" != "$expected" ]; then echo "in file order they read: $numbers"
    fi
}

# silencer_lines FILE: the numbers of FILE's lines made only of "(void)name;" statements.
silencer_lines() { grep -nE '^\s*(\(void\)\w+;\s*)+$' "$1" | cut -d: -f1 | tr '\n' ' ' | sed 's/ $//'; }

# section FILE HEADING: the lines of FILE's "## HEADING" section, up to the next "## " heading.
section() { awk -v h="## $2" '$0 == h { on = 1; next } on && /^## / { exit } on' "$1"; }

# block TEXT NAME: the part of a "What to implement" section about file NAME: from the line that
# starts with **`NAME` up to the next line that starts a bold paragraph (**), or the end.
block() {
    printf '%s\n' "$1" | awk -v start="**\`$2\`" '
        index($0, start) == 1 { on = 1; print; next }
        on && index($0, "**") == 1 { exit }
        on'
}

# handout_problems HANDOUT SESSION_DIR: one line "what<TAB>detail" per problem; with no problem,
# one line "ok<TAB>files and their TODO numbers" (for the PASS line).
handout_problems() {
    local text f name part want got seen=""
    text=$(section "$1" "What to implement")
    if [ -z "$text" ]; then printf 'a "What to implement" section\tnone\n'; return; fi
    for f in "$2"/[0-9][0-9]_*.cu "$2"/[0-9][0-9]_*.py; do
        [ -f "$f" ] || continue
        name=$(basename "$f")
        part=$(block "$text" "$name")
        if [ -z "$part" ]; then printf '%s named under "What to implement"\tno line starts **`%s`\n' "$name" "$name"; continue; fi
        want=$(todo_numbers "$f" | grep -v -- - | sort -n | uniq | tr '\n' ' ' | sed 's/ $//')
        got=$(printf '%s\n' "$part" | grep -oE '\bTODO +[0-9]+' | sed -E 's/TODO +//' | sort -n | uniq | tr '\n' ' ' |
              sed 's/ $//')
        if [ "$got" != "$want" ]; then printf 'the TODOs of %s\tskeleton: %s; handout: %s\n' "$name" "${want:-none}" "${got:-none}"
        else seen="$seen $name ($want)"; fi
    done
    printf 'ok\t%s\n' "${seen# }"
}

# ---- the skeletons and the handouts ----------------------------------------------------------
skeletons=$(ls */[0-9][0-9]-*/[0-9][0-9]_*.cu */[0-9][0-9]-*/[0-9][0-9]_*.py 2>/dev/null | sort -t/ -k2)  # in session order
[ -n "$skeletons" ] && result PASS "found $(echo "$skeletons" | wc -l) skeletons" ||
    result FAIL "found skeletons" "no */NN-*/NN_*.cu here"

for f in $skeletons; do
    problem=$(todo_problem "$f")
    [ -z "$problem" ] && result PASS "$f numbers its TODOs 1 to $(todo_numbers "$f" | grep -c .) in file order" ||
        result FAIL "$f numbers its TODOs 1, 2, 3 ... in file order" "$problem"
    lines=$(silencer_lines "$f")
    [ -z "$lines" ] && result PASS "$f has no (void) silencer lines" ||
        result FAIL "$f has no (void) silencer lines" "lines $lines"
done

for s in $(printf '%s\n' $skeletons | xargs -n1 dirname | uniq); do
    n=$(basename "$s" | cut -c1-2)
    # Two folders may share a number (13-nvfp4, 13-tcgen05): the handout named after the folder first.
    handout=handouts/$(basename "$s").md
    [ -f "$handout" ] || handout=$(ls handouts/"$n"-*.md 2>/dev/null | head -n1)
    if [ -z "$handout" ]; then result FAIL "$s has a handout" "no handouts/$n-*.md"; continue; fi
    while IFS=$'\t' read -r what detail; do
        if [ "$what" = ok ]; then result PASS "$handout: \"What to implement\" names $detail"
        else result FAIL "$handout: $what" "$detail"; fi
    done < <(handout_problems "$handout" "$s")
done

# ---- planted mistakes: each must be caught ---------------------------------------------------
plant() { mkdir -p "$(dirname "$scratch/$1")"; cat > "$scratch/$1"; }
plant order.cu <<'EOF'
// TODO 2: second
// TODO 1: first
EOF
plant bare.cu <<'EOF'
// TODO 1: one
// TODO: a bare marker
EOF
plant repeat.cu <<'EOF'
// TODO 1: one
// TODO 2: two, after the code of TODO 1
EOF
plant none.cu <<'EOF'
// nothing to do
EOF
plant prose.cu <<'EOF'
// Yours: the TODOs.
// TODO 1: one
    int x = 0;  // TODO 2: two
EOF
plant silenced.cu <<'EOF'
// TODO 1: one
    (void)a; (void)b;
EOF
for name in order bare repeat none; do
    [ -n "$(todo_problem "$scratch/$name.cu")" ] && result PASS "a planted skeleton is caught: $name" ||
        result FAIL "a planted skeleton is caught: $name" "no problem found"
done
[ -z "$(todo_problem "$scratch/prose.cu")" ] && result PASS "\"TODOs\" in prose and a marker after code are allowed" ||
    result FAIL "\"TODOs\" in prose and a marker after code are allowed" "$(todo_problem "$scratch/prose.cu")"
[ "$(silencer_lines "$scratch/silenced.cu")" = 2 ] && result PASS "a planted (void) line is caught" ||
    result FAIL "a planted (void) line is caught" "got lines: $(silencer_lines "$scratch/silenced.cu")"

cp "$scratch/prose.cu" "$scratch/01_first.cu"
cp "$scratch/order.cu" "$scratch/02_second.cu"
plant no-section.md <<'EOF'
# Session 99
## The idea
**`01_first.cu`**: TODO 1, TODO 2.
EOF
plant few-todos.md <<'EOF'
# Session 99
## What to implement
**`01_first.cu`**: only TODO 1.
**`02_second.cu`**: TODO 1, TODO 2.
## How to run it
EOF
plant unnamed.md <<'EOF'
# Session 99
## What to implement
**`01_first.cu`**: TODO 1, TODO 2.
The second file is mentioned, `02_second.cu`, but has no paragraph of its own.
## How to run it
**`02_second.cu`**: TODO 1, TODO 2 (another section: does not count).
EOF
plant good.md <<'EOF'
# Session 99
## What to implement
**`01_first.cu`**: TODO 1, TODO 2.
**`02_second.cu`**: TODO 1, then TODO 2.
**What PASS looks like.** Nothing about TODO 7 here counts for 02_second.cu.
## How to run it
EOF
for name in no-section few-todos unnamed; do
    handout_problems "$scratch/$name.md" "$scratch" | grep -qv '^ok' && result PASS "a planted handout is caught: $name" ||
        result FAIL "a planted handout is caught: $name" "no problem found"
done
got=$(handout_problems "$scratch/good.md" "$scratch")
[ "$got" = "$(printf 'ok\t01_first.cu (1 2) 02_second.cu (1 2)')" ] && result PASS "a right handout passes" ||
    result FAIL "a right handout passes" "$(echo "$got" | tr '\t\n' '  ')"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
