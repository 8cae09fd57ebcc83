#!/usr/bin/env bash
# The Python that session 11's check embeds (its Triton and CuTe DSL exercises), pinned: Triton
# TRITON_VERSION, the CuTe DSL (nvidia-cutlass-dsl) CUTEDSL_VERSION, and PyTorch TORCH_VERSION where
# there is a GPU to launch on (Triton launches on PyTorch's stream). A python3 on PATH that already
# has them is used as it is; otherwise a virtual environment DIR/python-triton-VERSION is made and
# pip installs what is missing, saying so in one line. The embedding needs the interpreter's headers and its shared libpython.
# PYTHON names another base interpreter than python3 (class grading, when python3 lives where the
# grading users cannot read); each base gets a virtual environment and an answer file of its own.
#   ensure-python.sh DIR exe|cflags|ldflags
# Prints the one thing asked for. Exit status 1, with one line saying why, when it cannot be had.
set -u
TRITON_VERSION=3.6.0
CUTEDSL_VERSION=4.8.1
TORCH_VERSION=2.11.0
[ $# -eq 2 ] || { echo "usage: ensure-python.sh DIR exe|cflags|ldflags" >&2; exit 64; }
dir=$1 what=$2
mkdir -p "$dir" && dir=$(realpath "$dir") || exit 1   # absolute: the check embeds the interpreter's path
sys=$(command -v "${PYTHON:-python3}") ||
    { echo "ensure-python: ${PYTHON:-python3} is missing (apt-get install python3 python3-venv python3-dev)" >&2; exit 1; }
key=triton-$TRITON_VERSION-$(realpath "$sys" | sha256sum | cut -c1-8)
cache=$dir/python-$key.env
have_gpu() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q GPU; }

# The pinned packages interpreter $1 lacks (PyTorch too when $2 is "torch"), one line; empty when none.
missing() {
    "$1" - "$TRITON_VERSION" "$CUTEDSL_VERSION" "$2" "$TORCH_VERSION" <<'PY' 2>/dev/null || echo "?"
import sys
from importlib.metadata import PackageNotFoundError, version
triton, cutedsl, need, torch = sys.argv[1:]
def has(name, pinned):
    try:
        return version(name) == pinned
    except PackageNotFoundError:
        return False
out = [] if has("triton", triton) else ["triton==" + triton]
if not has("nvidia-cutlass-dsl", cutedsl):
    out.append("nvidia-cutlass-dsl==" + cutedsl)
if need == "torch":
    try:
        import torch as t
        assert t.version.cuda
    except Exception:
        out.append("torch==" + torch)
print(" ".join(out))
PY
}
fits() { [ -z "$(missing "$1" "$2")" ]; }

# The compile and link flags of interpreter $1: its headers, its shared libpython.
flags_of() {
    "$1" - <<'PY'
import os, sys, sysconfig
inc = sysconfig.get_config_var("INCLUDEPY")
libdir, lib = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("LDLIBRARY") or ""
ver = "%d.%d" % sys.version_info[:2]
if not inc or not os.path.exists(os.path.join(inc, "Python.h")):
    sys.exit("ensure-python: Python %s has no headers (apt-get install python3-dev)" % ver)
if not lib.endswith(".so") or not os.path.exists(os.path.join(libdir, lib)):
    sys.exit("ensure-python: Python %s has no shared libpython to embed (apt-get install libpython%s-dev)" % (ver, ver))
print("CFLAGS=-I" + inc)
# nvcc links the check: -Xlinker hands the run path to the host linker
print("LDFLAGS=-L%s -Xlinker -rpath,%s -lpython%s" % (libdir, libdir, ver + (sysconfig.get_config_var("ABIFLAGS") or "")))
PY
}

answer() {
    case $what in
    exe) sed -n 's/^EXE=//p' "$cache" ;;
    cflags) sed -n 's/^CFLAGS=//p' "$cache" ;;
    ldflags) sed -n 's/^LDFLAGS=//p' "$cache" ;;
    *) echo "ensure-python: asked for '$what' (exe, cflags or ldflags)" >&2; exit 64 ;;
    esac
}

need=notorch
have_gpu && need=torch
# Still good: the interpreter the last call chose is there and has what this machine needs.
if [ -f "$cache" ]; then
    exe=$(sed -n 's/^EXE=//p' "$cache")
    if [[ $exe == /* ]] && [ -x "$exe" ] && grep -qx "NEED=$need" "$cache" && grep -qxE "CUTEDSL=($CUTEDSL_VERSION|none)" "$cache"; then
        answer; exit 0
    fi
fi

if fits "$sys" "$need"; then
    exe=$(realpath -s "$sys")
else
    venv=$dir/python-$key
    if [ ! -x "$venv/bin/python3" ]; then
        "$sys" -m venv "$venv" >/dev/null 2>&1 || { echo "ensure-python: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
    fi
    exe=$venv/bin/python3
    pkgs=$(missing "$exe" "$need")
    [ "$pkgs" = "?" ] && pkgs="triton==$TRITON_VERSION nvidia-cutlass-dsl==$CUTEDSL_VERSION$([ "$need" = torch ] && echo " torch==$TORCH_VERSION")"
    if [ -n "$pkgs" ]; then
        echo "installing $pkgs (PyPI) into $venv" >&2
        log=$dir/pip-$key.log
        if ! "$exe" -m pip install --quiet --disable-pip-version-check $pkgs >"$log" 2>&1; then
            # Offline with everything but the CuTe DSL (a GPU machine's Python with Triton and
            # PyTorch): that interpreter, without it; exercise 05 then says the DSL is missing.
            without=
            for candidate in "$exe" "$sys"; do
                [ "$(missing "$candidate" "$need")" = "nvidia-cutlass-dsl==$CUTEDSL_VERSION" ] && { without=$candidate; break; }
            done
            if [ -z "$without" ]; then
                echo "ensure-python: pip could not install $pkgs: $(tail -n 1 "$log")" >&2
                exit 1
            fi
            echo "installing nvidia-cutlass-dsl==$CUTEDSL_VERSION failed ($(tail -n 1 "$log")): $without is used without it," \
                 "so the CuTe DSL exercise cannot run (remove $cache to try again)" >&2
            exe=$(realpath -s "$without") dsl=none
        fi
    fi
fi
flags=$(flags_of "$exe" 2>&1) || { echo "$flags" | tail -n 1 >&2; exit 1; }
{ echo "EXE=$exe"; echo "NEED=$need"; echo "CUTEDSL=${dsl:-$CUTEDSL_VERSION}"; echo "$flags"; } >"$cache.tmp" && mv "$cache.tmp" "$cache"
answer
