#!/usr/bin/env bash
# The reserved list of the object checker (grader/tools/objcheck.c --reserved): every name that the
# grader, the CUDA runtime and the C/C++ libraries define, which an exercise's object may not define.
#
#   grader/policy/reserved-symbols.sh OUT.txt [OBJECT_OR_LIBRARY ...]
#
# Writes OUT.txt: the sorted, unique global and weak names defined by the given objects, archives
# and shared libraries (the grader's libgrader.a, a session's check.o, ...), plus always those of
#   - the CUDA runtime's static archive $CUDA_HOME/lib64/libcudart_static.a, libcublas.so and
#     libcublasLt.so (CUDA_HOME: the environment's, else the folder above nvcc's bin/);
#   - the C and C++ libraries the link uses, found with gcc -print-file-name: libc.so.6,
#     libm.so.6, libstdc++.so.6, libgcc_s.so.1, the linker scripts libc.so and libm.so (which name
#     libc_nonshared.a and the dynamic loader), libgcc.a and the C runtime's start files.
# Symlinks are followed and linker scripts read for the files they name. A library of the always
# list that is missing is skipped with a one-line warning on stderr; a missing argument is an error.
# Version suffixes are dropped (memcpy@@GLIBC_2.14 is memcpy).
# Exit 0 written, 1 an input cannot be read, 64 usage.
set -u -o pipefail

if [ $# -lt 1 ] || [ "${1:0:1}" = - ]; then
    echo "usage: $0 OUT.txt [OBJECT_OR_LIBRARY ...]" >&2
    exit 64
fi
out=$1
shift

tmp=$(mktemp "${TMPDIR:-/tmp}/reserved-symbols.XXXXXX") || exit 1
trap 'rm -f "$tmp" "$tmp.sorted"' EXIT

# names_of FILE DEPTH: the defined global names of an object, archive, shared library or linker script.
names_of() {
    local file depth=$2 magic
    file=$(readlink -f -- "$1") || return 1
    [ -f "$file" ] && [ -r "$file" ] || return 1
    magic=$(head -c 8 -- "$file" | od -An -c | tr -d ' \n')
    case "$magic" in
    '!<arch>\n')  # an archive: its members' symbol tables
        nm -g --defined-only -- "$file" 2>/dev/null ;;
    177ELF*)      # ELF: a shared library exports its dynamic symbols, an object its symbol table
        if [ "$(od -An -tu2 -j16 -N2 -- "$file" | tr -d ' ')" = 3 ]; then
            nm -D --defined-only -- "$file" 2>/dev/null
        else
            nm -g --defined-only -- "$file" 2>/dev/null
        fi ;;
    *)            # a linker script (libc.so): the libraries its GROUP and INPUT name
        [ "$depth" -lt 3 ] || return 1
        local named
        for named in $(grep -v '^ *\*\|/\*' -- "$file" | grep -oE '(/|lib)[A-Za-z0-9_./+-]*\.(so(\.[0-9]+)*|a|o)\b'); do
            case "$named" in /*) ;; *) named=$(gcc -print-file-name="$named") ;; esac
            names_of "$named" $((depth + 1)) || echo "reserved-symbols: skipped $named, named by $file: not found" >&2
        done ;;
    esac
}

status=0
for input in "$@"; do
    if ! names_of "$input" 0 >>"$tmp"; then
        echo "reserved-symbols: cannot read $input" >&2
        status=1
    fi
done
[ $status -eq 0 ] || exit 1

nvcc_path=$(command -v nvcc 2>/dev/null || { [ -x /usr/local/cuda/bin/nvcc ] && echo /usr/local/cuda/bin/nvcc; })
cuda_home=${CUDA_HOME:-$( [ -n "$nvcc_path" ] && dirname "$(dirname "$(readlink -f "$nvcc_path")")")}
always=()
if [ -n "$cuda_home" ]; then
    always+=("$cuda_home/lib64/libcudart_static.a" "$cuda_home/lib64/libcublas.so" "$cuda_home/lib64/libcublasLt.so")
else
    echo "reserved-symbols: nvcc not found: the CUDA runtime and cuBLAS are not on the list" >&2
fi
if command -v gcc >/dev/null; then
    for lib in libc.so.6 libm.so.6 libstdc++.so.6 libgcc_s.so.1 libc.so libm.so \
               crt1.o Scrt1.o crti.o crtn.o crtbegin.o crtbeginS.o crtend.o crtendS.o; do
        always+=("$(gcc -print-file-name="$lib")")
    done
    always+=("$(gcc -print-libgcc-file-name)")
else
    echo "reserved-symbols: gcc not found: the C and C++ libraries are not on the list" >&2
fi
for lib in "${always[@]}"; do
    names_of "$lib" 0 >>"$tmp" || echo "reserved-symbols: skipped $lib: not found" >&2
done

# "ADDRESS TYPE NAME" lines (archive member headers and blank lines have other shapes).
awk 'NF == 3 { sub(/@.*/, "", $3); if ($3 != "") print $3 }' "$tmp" | LC_ALL=C sort -u >"$tmp.sorted" &&
    mv -f "$tmp.sorted" "$out"
