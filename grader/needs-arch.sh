#!/usr/bin/env bash
# The one line said for a session that this build's architecture cannot build.
#
#   needs-arch.sh ARCH SESSION...    one line per SESSION, e.g.
#   hopper/10-beat-cublas: needs a Hopper GPU (sm_90a: H100, H200, H800); this build targets sm_80: skipped
#
# A session that builds for some architectures only lists them in its NEEDS_ARCH file (Hopper's
# wgmma and setmaxnreg exist on sm_90a alone). Which sessions ARCH cannot build is the Makefile's
# to say (make print-OTHER_ARCH_SESSIONS); this only words it, for make check, make bench, make
# gpu-test, the demos and the class grader alike.
set -u
cd "$(dirname "$0")/.."
arch=${1:?needs-arch.sh ARCH SESSION...}
shift
gpu_of() {  # the GPUs a build architecture runs on, in words
    case $1 in
        sm_90a) echo "a Hopper GPU (sm_90a: H100, H200, H800)" ;;
        sm_100a) echo "a Blackwell GPU (sm_100a: B200, GB200)" ;;
        *) echo "$1" ;;
    esac
}
for s in "$@"; do
    wants=
    for a in $(cat "$s/NEEDS_ARCH" 2>/dev/null); do wants+="${wants:+ or }$(gpu_of "$a")"; done
    echo "$s: needs ${wants:-another GPU architecture}; this build targets $arch: skipped"
done
