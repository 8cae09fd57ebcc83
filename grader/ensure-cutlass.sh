#!/usr/bin/env bash
# CUTLASS's headers (CuTe among them) for the sessions that build on them (ladder/11-abstractions),
# from PyPI's nvidia-cutlass wheel, pinned: the wheel is a zip whose cutlass_library/source/include
# holds them. Installed once into DIR (the Makefile's CUTLASS_DIR, with the version it pins in
# CUTLASS_VERSION); says so in one line when it installs, nothing when they are there.
#   ensure-cutlass.sh VERSION DIR
# Exit status 1, with one line saying why, when they cannot be had (no pip, no network).
set -u
[ $# -eq 2 ] || { echo "usage: ensure-cutlass.sh VERSION DIR"; exit 64; }
version=$1 dir=$2
[ -f "$dir/include/cute/tensor.hpp" ] && [ -f "$dir/include/cutlass/cutlass.h" ] && exit 0
py=$(command -v python3) || { echo "ensure-cutlass: python3 is missing (apt-get install python3 python3-pip)"; exit 1; }
"$py" -m pip --version >/dev/null 2>&1 || { echo "ensure-cutlass: pip is missing (apt-get install python3-pip)"; exit 1; }
echo "installing CUTLASS $version headers (PyPI nvidia-cutlass) into $dir"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
if ! "$py" -m pip download --quiet --no-deps --disable-pip-version-check "nvidia-cutlass==$version" -d "$tmp" >"$tmp/pip.log" 2>&1; then
    echo "ensure-cutlass: pip could not download nvidia-cutlass==$version: $(tail -n 1 "$tmp/pip.log")"
    exit 1
fi
mkdir -p "$dir.partial" && rm -rf "$dir.partial"/* || exit 1
"$py" - "$tmp"/nvidia_cutlass-*.whl "$dir.partial" <<'PY' || { echo "ensure-cutlass: the wheel could not be unpacked"; exit 1; }
import os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
prefix = "cutlass_library/source/include/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            rel = os.path.normpath(name[len(prefix):])
            if rel.startswith("..") or os.path.isabs(rel):
                sys.exit("unsafe path in the wheel: " + name)
            dest = os.path.join(out, "include", rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with z.open(name) as src, open(dest, "wb") as dst:
                dst.write(src.read())
PY
rm -rf "$dir" && mv "$dir.partial" "$dir" || exit 1
[ -f "$dir/include/cute/tensor.hpp" ] || { echo "ensure-cutlass: the wheel held no cute/tensor.hpp"; exit 1; }
