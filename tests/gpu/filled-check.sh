#!/usr/bin/env bash
# A session's skeletons with their TODOs done by hand (as a student would finish them, without
# reading the solutions), built in place of the session's own files and checked on this GPU:
#   bash tests/gpu/filled-check.sh SESSION FILLED_DIR [--build-only | check flags...]
#   bash tests/gpu/filled-check.sh blackwell/13-nvfp4 tests/gpu/session13/filled --results /tmp/f13.jsonl
# Every exercise must PASS: a FAIL here with the solutions passing is a bug in the frame the
# skeleton gives (session 12's 06 walked half of each row; only a finished skeleton showed it).
# Builds into build-filled/ (the real build is left alone). Exit status: the check's.
set -u
cd "$(dirname "$0")/../.." || exit 1
[ $# -ge 2 ] || { echo "usage: filled-check.sh SESSION FILLED_DIR [check flags...]" >&2; exit 64; }
S=$1 F=$2
shift 2
[ -d "$S" ] && [ -d "$F" ] || { echo "filled-check: no folder $S or $F" >&2; exit 64; }
arch=$(make --no-print-directory print-ARCH)
# A fixed source folder: the build's dependency files name it, and a second run must find it again.
scratch=$PWD/build-filled/src
rm -rf "$scratch/$S"
mkdir -p "$scratch/$S"
cp "$S"/[0-9][0-9]_*.cu "$scratch/$S/"
cp "$F"/*.cu "$scratch/$S/"
if ! make -s -j"$(nproc)" ARCH="$arch" SESSIONS="$S" BUILD=build-filled SRC="$scratch" build >build-filled/build.log 2>&1; then
    echo "filled-check: the build failed; see build-filled/build.log" >&2
    tail -n 5 build-filled/build.log >&2
    exit 1
fi
[ "${1:-}" = --build-only ] && exit 0
build-filled/"$arch"/student/"$S"/check "$@"
