#!/usr/bin/env bash
# Proves that an unpacked student bundle holds no solution: no file from solutions/, no file equal
# to a solution, no solution's title line anywhere, no skeleton filled in with its solution's code;
# and that its README is the students' own.
#   check-dist.sh BUNDLE_DIR   (run from the repository root)
set -u
bundle=${1:?check-dist.sh BUNDLE_DIR}
problems=0
say() { echo "  leak: $*"; problems=$((problems + 1)); }

[ -e "$bundle/solutions" ] && say "the bundle has a solutions/ folder"
# The README is the students' (grader/README-student.md): the mentors' one is about the solutions,
# the tests and grading a class.
cmp -s grader/README-student.md "$bundle/README.md" || say "README.md is not the student README (grader/README-student.md)"
grep -qE 'SOLUTION=1|make (bench|gpu-test|grade)' "$bundle/README.md" 2>/dev/null && say "README.md names mentors' commands"
for sol in $(git ls-files solutions 2>/dev/null || find solutions -type f); do
    [ -f "$sol" ] || continue
    while IFS= read -r f; do
        cmp -s "$sol" "$f" && say "$f is identical to $sol"
    done < <(find "$bundle" -type f)
    title=$(head -n1 "$sol")
    if [ ${#title} -gt 20 ] && grep -rqF -- "$title" "$bundle"; then say "the title line of $sol appears in $(grep -rlF -- "$title" "$bundle" | head -n1)"; fi
    # Lines the solution adds to its skeleton (code, not comments or braces): if most of them are in
    # the bundle's skeleton, the skeleton was filled in.
    twin="$bundle/${sol#solutions/}"
    [ -f "$twin" ] || continue
    added=$(grep -vxFf <(sed 's/^[[:space:]]*//' "${sol#solutions/}" 2>/dev/null) <(sed 's/^[[:space:]]*//' "$sol") |
            grep -vE '^(//|/\*|\*|[{}();]*$)' | awk 'length($0) >= 20' | sort -u)
    total=$(printf '%s\n' "$added" | grep -c . || true)
    if [ "$total" -gt 0 ]; then
        found=$(printf '%s\n' "$added" | grep -cxFf <(sed 's/^[[:space:]]*//' "$twin") || true)
        [ $((found * 2)) -gt "$total" ] && say "$twin holds $found of the $total lines its solution adds"
    fi
done
[ $problems -eq 0 ] && echo "  the bundle holds no solution"
[ $problems -eq 0 ]
