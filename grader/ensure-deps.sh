#!/usr/bin/env bash
# Installs what a make target needs where it is missing (Debian packages), or says the one command
# that would, when this user can't install. nvcc can't come from Debian: it says where to get it.
#   ensure-deps.sh build     gcc, make, pip (CUTLASS's headers come from PyPI) and nvcc
#   ensure-deps.sh test      the same, pkg-config and Criterion
#   ensure-deps.sh gnuplot   gnuplot
#   ensure-deps.sh handouts  cmark-gfm, Chromium and fonts (make handouts), poppler-utils (its test); no nvcc
#   ensure-deps.sh slurm     slurm-wlm, with munge (tests/slurm-test.sh); no nvcc
set -u
need=()
nvcc=$([ $# -eq 0 ] && echo 1 || echo 0)   # whether nvcc is needed: by every need but handouts
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
pip_missing() { ! python3 -m pip --version >/dev/null 2>&1; }
for what in "$@"; do
    case "$what" in
        build) nvcc=1; pip_missing && need+=(python3-pip) ;;   # pip: CUTLASS's headers for session 11
        test)
            nvcc=1
            pip_missing && need+=(python3-pip)
            command -v pkg-config >/dev/null || need+=(pkg-config)
            pkg-config --exists criterion 2>/dev/null || need+=(libcriterion-dev) ;;
        gnuplot) nvcc=1; command -v gnuplot >/dev/null || need+=(gnuplot-nox) ;;
        handouts)
            command -v cmark-gfm >/dev/null || need+=(cmark-gfm)
            command -v chromium-headless-shell >/dev/null || command -v chromium >/dev/null || need+=(chromium-headless-shell)
            [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
            command -v pdftoppm >/dev/null || need+=(poppler-utils) ;;
        slurm)   # a one-node Slurm for tests/slurm-test.sh: slurmctld, slurmd, the clients, munge; no nvcc
            { command -v slurmctld && command -v slurmd && command -v munged; } >/dev/null || need+=(slurm-wlm) ;;
        *) echo "ensure-deps.sh: unknown need '$what'"; exit 64 ;;
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
if [ $nvcc = 1 ] && ! command -v "${NVCC:-nvcc}" >/dev/null; then
    if [ -x /usr/local/cuda/bin/nvcc ]; then
        echo "nvcc is in /usr/local/cuda/bin but not on PATH: export PATH=/usr/local/cuda/bin:\$PATH"
    else
        echo "missing: nvcc (the CUDA toolkit, 12.8 or newer). Install it from NVIDIA's CUDA downloads and put its bin/ on PATH."
    fi
    exit 1
fi
exit 0
