#!/usr/bin/env bash
# make dist: the student bundle, everything a student needs and nothing that reveals a solution.
# Left out: solutions/, the tests and CI (they exercise the solutions), build output.
#   make-dist.sh OUT_DIR   ->  OUT_DIR/kernel-workbook-student.tar.gz
set -eu
out=${1:?make-dist.sh OUT_DIR}
cd "$(dirname "$0")/.."
name=kernel-workbook-student
stage="$out/$name"
rm -rf "$stage"
mkdir -p "$stage"
if git rev-parse --git-dir >/dev/null 2>&1; then
    files=$(git ls-files)
else
    files=$(find . -type f -not -path './build/*' -not -path './.git/*' | sed 's,^\./,,')
fi
echo "$files" | grep -vE '^(solutions/|tests/|\.ci/|build/)' | while read -r f; do
    [ -f "$f" ] || continue
    mkdir -p "$stage/$(dirname "$f")"
    cp -p "$f" "$stage/$f"
done
echo "student bundle: solutions are not included" > "$stage/BUNDLE"
# The student's README replaces the mentors' one.
cp grader/README-student.md "$stage/README.md"
rm -f "$stage/grader/README-student.md"
# The mentors' targets refuse in one line (grader/bundle.mk), from the top folder and from a
# session folder alike. Appended, not prepended: the Makefile takes its folder (ROOT) from the
# makefile read last. The help text loses the lines of the targets the bundle can't run.
cp grader/bundle.mk "$stage/grader/bundle.mk"
printf '\ninclude grader/bundle.mk\n' >> "$stage/Makefile"
printf '\ninclude $(dir $(lastword $(MAKEFILE_LIST)))bundle.mk\n' >> "$stage/grader/session.mk"
sed -i -E '1,/^$/{/^#   make (check SOLUTION=1|test|gpu-test|bench|dist|grade|leaderboard|fuzz)( |$)/d}' "$stage/Makefile"
tar -C "$out" -czf "$out/$name.tar.gz" "$name"
echo "make dist: $out/$name.tar.gz ($(echo "$files" | grep -vcE '^(solutions/|tests/|\.ci/|build/)') files, no solutions)"
