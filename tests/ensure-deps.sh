#!/usr/bin/env bash
# Installs what the tests need where it is missing (Debian packages), or says the one command that
# would, when this user can't install.
set -u
need=()
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
command -v pkg-config >/dev/null || need+=(pkg-config)
pkg-config --exists criterion 2>/dev/null || need+=(libcriterion-dev)
for extra in "$@"; do
    case "$extra" in
        gnuplot) command -v gnuplot >/dev/null || need+=(gnuplot-nox) ;;
        *) command -v "$extra" >/dev/null || need+=("$extra") ;;
    esac
done
if [ ${#need[@]} -gt 0 ]; then
    cmd="apt-get update && apt-get install -y ${need[*]}"
    if [ "$(id -u)" = 0 ]; then
        echo "installing: ${need[*]}"
        (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq "${need[@]}") >/dev/null || {
            echo "could not install ${need[*]}; run: $cmd"; exit 1; }
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        echo "installing with sudo: ${need[*]}"
        (export DEBIAN_FRONTEND=noninteractive; sudo apt-get update -qq && sudo apt-get install -y -qq "${need[@]}") >/dev/null || {
            echo "could not install ${need[*]}; run: sudo $cmd"; exit 1; }
    else
        echo "missing: ${need[*]}. Install with: sudo $cmd"
        exit 1
    fi
fi
if ! command -v "${NVCC:-nvcc}" >/dev/null; then
    echo "missing: nvcc (the CUDA toolkit). Install CUDA 12.8 or newer from NVIDIA and put its bin/ on PATH."
    exit 1
fi
exit 0
