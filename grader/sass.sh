#!/usr/bin/env bash
# make sass EX=<exercise> [SESSIONS=<session>] [SOLUTION=1] [ARCH=sm_90a]
#
# What the compiler made of an exercise: builds its object (the same rule as make check), reads
# the machine code (SASS) with cuobjdump, and lists for each kernel the count of the instruction
# families that tell the story of the course, each with one line of plain words: tensor-core
# instructions (HMMA, HGMMA), TMA (UTMALDG, UTMASTG), mbarriers (SYNCS), cluster barriers, register
# reallocation, cp.async, ldmatrix, spills... Families that the kernel does not use are shown (as 0)
# only when the session's SASS file names them.
#
# <session>/SASS, optional, gives each exercise's signature: the families its finished kernels hold.
#     # comment
#     02_mma_pipeline    HMMA LDSM LDGSTS !HGMMA     at least one HMMA, LDSM, LDGSTS; no HGMMA
#     skeleton 02_mma_pipeline !HMMA                 the shipped skeleton (checked by make test only)
# A word is a family name below, or else the start of a SASS opcode up to a '.' or '_'
# (SYNCS.PHASECHK, USETMAXREG.DEALLOC, FFMA). make sass then says whether the object holds it.
#
# Without an explicit ARCH, a session that builds for other architectures only (its NEEDS_ARCH
# file; Hopper's wgmma and setmaxnreg exist on sm_90a alone) is read for the first of them: no GPU
# is needed to read SASS. cuobjdump and nvdisasm come from the CUDA toolkit; where they are
# missing they are installed with pip (nvidia-cuda-cuobjdump, nvidia-cuda-nvdisasm) under
# ${XDG_CACHE_HOME:-~/.cache}/kernel-workbook/cuda-tools.
#
# Called by the Makefile:
#   sass.sh --make CMD --build-root DIR --arch ARCH [--arch-given] [--solution] --sessions "S..." EX
# and by tests/sass-test.sh, which adds --signature "WORDS" (instead of the SASS file's line) and
# --quiet (the verdict alone).   sass.sh --find-tools prints the cuobjdump it would use.
# Exit status: 0 listed (and the signature holds, where there is one); 1 the signature does not
# hold; 2 no object (a compile error, no kernel code, no cuobjdump); 64 usage (no EX, an unknown
# exercise, an ARCH the session does not build for).
set -u
cd "$(dirname "$0")/.." || exit 2

say() { printf 'make sass: %s\n' "$*" >&2; }

# ---- the families: name, ERE on the opcode (its dotted modifiers included), plain words ---------
# Mnemonics as CUDA 13's cuobjdump prints them for sm_80 and sm_90a (tests/sass/ pins them down).
FAMILIES='HGMMA	^HGMMA\.	warpgroup MMA (wgmma.mma_async), BF16/FP16/TF32: Hopper tensor cores
QGMMA	^QGMMA\.	warpgroup MMA on FP8 (wgmma.mma_async .e4m3/.e5m2)
HMMA	^HMMA\.	warp-level MMA (mma.sync, wmma): the tensor cores of sessions 06, 09
WARPGROUP	^WARPGROUP\.	wgmma.fence (.ARRIVE) and wgmma.wait_group (.DEPBAR)
UTMALDG	^UTMALDG\.	TMA tile load, global -> shared (cp.async.bulk.tensor)
MULTICAST	^UTMALDG\..*MULTICAST	TMA load delivered to several CTAs of a cluster (.multicast::cluster)
UTMASTG	^UTMASTG\.	TMA tile store, shared -> global (cp.async.bulk.tensor)
UTMAREDG	^UTMAREDG\.	TMA reduction into global memory (cp.reduce.async.bulk.tensor)
UTMACCTL	^UTMACCTL	prefetch.tensormap: a TMA descriptor fetched before its first use
UTMACMDFLUSH	^UTMACMDFLUSH	cp.async.bulk.commit_group: closes a group of TMA stores or bulk copies
UBLKCP	^UBLKCP	cp.async.bulk without a tensor map (.S.G global -> shared, .G.S back)
UBLKPF	^UBLKPF	cp.async.bulk.prefetch: bytes fetched into L2 ahead of use
LDGSTS	^LDGSTS	cp.async: global -> shared without passing through registers
LDGDEPBAR	^LDGDEPBAR	cp.async.commit_group: closes a group of cp.async copies
DEPBAR	^DEPBAR	waits for copy groups (cp.async.wait_group, cp.async.bulk.wait_group)
LDSM	^LDSM	ldmatrix: 8x8 tiles from shared memory into mma fragments
STSM	^STSM	stmatrix: mma fragments into shared memory as 8x8 tiles
LDG	^LDG(\.|$)	global loads (.128: 16 bytes a thread, vectorised)
STG	^STG(\.|$)	global stores
LDS	^LDS(\.|$)	shared-memory loads
STS	^STS(\.|$)	shared-memory stores
LDL	^LDL(\.|$)	local-memory loads: register spills, or an array indexed at run time
STL	^STL(\.|$)	local-memory stores: register spills, or an array indexed at run time
SYNCS	^SYNCS\.	mbarrier operations: how TMA, producers and consumers hand over tiles
BAR	^BAR(\.|$)	block barrier: __syncthreads, bar.sync; named barriers (bar.arrive)
UCGABAR	^UCGABAR	cluster barrier: barrier.cluster.arrive (_ARV) and .wait (_WAIT)
FENCE	^FENCE\.VIEW\.ASYNC	fence.proxy.async: plain writes made visible to TMA and wgmma
ELECT	^ELECT(\.|$)	elect.sync: one leader lane (nvcc adds one around each TMA issue)
USETMAXREG	^USETMAXREG	setmaxnreg: producers give registers back, consumers take more
ACQBULK	^ACQBULK	griddepcontrol.wait: wait for the previous kernel (dependent launch)
PREEXIT	^PREEXIT	griddepcontrol.launch_dependents: let the next kernel start
FFMA	^FFMA(\.|$)	FP32 fused multiply-add on the CUDA cores (no tensor core)
MUFU	^MUFU(\.|$)	special-function unit: exp2, rcp, rsqrt (softmax, norms)
SHFL	^SHFL(\.|$)	warp shuffle: lanes exchange registers (warp reductions)'
# Each opcode of these families is shown on its own line when it is there: its modifiers say what
# it does (shape and types of an MMA, which mbarrier operation, which way registers move).
DETAILED=' HGMMA QGMMA HMMA WARPGROUP UTMALDG SYNCS UCGABAR USETMAXREG '
# Plain words for single opcodes: the PTX each comes from.
OPCODES='SYNCS.EXCH.64	mbarrier.init
SYNCS.ARRIVE.TRANS64	mbarrier.arrive.expect_tx: arrive, and expect N bytes
SYNCS.ARRIVE.TRANS64.RED	arrive.expect_tx on another CTA'"'"'s mbarrier (cluster)
SYNCS.ARRIVE.TRANS64.A1T0	mbarrier.arrive: one arrival
SYNCS.ARRIVE.TRANS64.ART0	mbarrier.arrive with a count
SYNCS.ARRIVE.TRANS64.RED.A1T0	mbarrier.arrive on another CTA'"'"'s mbarrier (cluster)
SYNCS.ARRIVE.TRANS64.RED.A0TR	mbarrier.expect_tx: expect N bytes, no arrival
SYNCS.PHASECHK.TRANS64.TRYWAIT	mbarrier.try_wait(.parity): wait for a phase to end
SYNCS.PHASECHK.TRANS64	mbarrier.test_wait: has the phase ended? (no wait)
SYNCS.CCTL.IV	mbarrier.inval
WARPGROUP.ARRIVE	wgmma.fence: operands ready for the next wgmma
WARPGROUP.DEPBAR.LE	wgmma.wait_group N: wait until at most N groups run
USETMAXREG.TRY_ALLOC.CTAPOOL	setmaxnreg.inc: take registers (consumer warpgroups)
USETMAXREG.DEALLOC.CTAPOOL	setmaxnreg.dec: give registers back (producer)
UCGABAR_ARV	barrier.cluster.arrive
UCGABAR_WAIT	barrier.cluster.wait'

# ---- cuobjdump and nvdisasm ---------------------------------------------------------------------
tools_dir=${XDG_CACHE_HOME:-$HOME/.cache}/kernel-workbook/cuda-tools
find_tool() {  # find_tool NAME: the path of cuobjdump or nvdisasm, or fail
    local name=$1 c nvcc_path env_var
    env_var=$(printf '%s' "$name" | tr a-z A-Z)
    nvcc_path=$(command -v "${NVCC:-nvcc}" 2>/dev/null || echo /usr/local/cuda/bin/nvcc)
    for c in "${!env_var:-}" "$(command -v "$name" 2>/dev/null)" "${CUDA_HOME:+$CUDA_HOME/bin/$name}" \
             "$(dirname "$nvcc_path")/$name" "/usr/local/cuda/bin/$name" $(ls "$tools_dir"/nvidia/*/bin/"$name" 2>/dev/null); do
        [ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
    done
    # Installed with pip into Python's own packages (nvidia/cu13/bin/NAME)
    c=$(python3 -m pip show -f "nvidia-cuda-$name" 2>/dev/null |
        awk -v n="$name" '/^Location:/ {loc = $2} $1 ~ ("bin/" n "$") {print loc "/" $1; exit}')
    [ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
    return 1
}
need_tools() {  # sets cuobjdump and nvdisasm, installing them with pip where they are missing
    cuobjdump=$(find_tool cuobjdump) && nvdisasm=$(find_tool nvdisasm) && return 0
    say "cuobjdump or nvdisasm not found: installing them with pip into $tools_dir"
    mkdir -p "$tools_dir" && PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
        --upgrade --target "$tools_dir" nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm >"$tools_dir.log" 2>&1 ||
        { tail -n 3 "$tools_dir.log" >&2; }
    cuobjdump=$(find_tool cuobjdump) && nvdisasm=$(find_tool nvdisasm) && return 0
    say "make sass needs cuobjdump and nvdisasm: put the CUDA toolkit's bin/ on PATH, or run"
    say "python3 -m pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm"
    exit 2
}

# ---- the command line ---------------------------------------------------------------------------
make_cmd=make build_root=build arch=sm_80 arch_given=0 solution=0 sessions='' ex='' signature='' quiet=0 sig_given=0 full=0
while [ $# -gt 0 ]; do
    case $1 in
        --make) make_cmd=${2:-make}; shift 2 ;;
        --build-root) build_root=${2:-build}; shift 2 ;;
        --arch) arch=${2:-}; shift 2 ;;
        --arch-given) arch_given=1; shift ;;
        --solution) solution=1; shift ;;
        --sessions) sessions=${2:-}; shift 2 ;;
        --signature) signature=${2:-}; sig_given=1; shift 2 ;;
        --quiet) quiet=1; shift ;;
        --full) full=1; shift ;;
        --find-tools) need_tools; echo "$cuobjdump"; exit 0 ;;
        -*) say "unknown option $1"; exit 64 ;;
        *) ex=$1; shift ;;
    esac
done
if [ -z "$ex" ]; then
    say "which exercise? say EX=NAME, e.g. make sass EX=02_mma_pipeline (SOLUTION=1 ARCH=sm_90a ...)"
    exit 64
fi
[ -n "$sessions" ] || sessions=$(make --no-print-directory -s print-ALL_SESSIONS 2>/dev/null)

# ---- which session and file: EX is NAME, NAME.cu, a path to it, or a unique prefix (02) ---------
name=$(basename "$ex" .cu)
want_session=
case $ex in */*) want_session=$(dirname "${ex#./}"); want_session=${want_session#solutions/} ;; esac
found=()
for s in $sessions; do
    [ -n "$want_session" ] && [ "$s" != "$want_session" ] && continue
    [ -f "$s/$name.cu" ] && found+=("$s/$name")
done
if [ ${#found[@]} = 0 ]; then   # a prefix: "02" or "02_mma"
    for s in $sessions; do
        [ -n "$want_session" ] && [ "$s" != "$want_session" ] && continue
        for f in "$s/$name"*.cu; do [ -f "$f" ] && found+=("${f%.cu}"); done
    done
    if [ ${#found[@]} -gt 1 ]; then
        few=$(printf '%s\n' "${found[@]##*/}" | head -n 4 | paste -sd, - | sed 's/,/, /g')
        [ ${#found[@]} -gt 4 ] && few="$few, ..."
        say "${#found[@]} exercises start with '$name' ($few): say which"
        exit 64
    fi
fi
if [ ${#found[@]} = 0 ]; then
    # A Triton file: Triton makes its machine code when the check first launches it, and keeps it in
    # the build's kernel cache (grader/python/host.c), where cuobjdump reads it.
    py=$(name=${name%.py}; for s in $sessions; do [ -f "$s/$name.py" ] && echo "$s/$name.py"; done | head -n 1)
    if [ -n "$py" ]; then
        say "$py is a Triton file: Triton compiles it when make check first launches it; its machine code then sits in build/ARCH/{student,solution}/$(dirname "$py")/triton-cache/*/*.cubin (read it with cuobjdump --dump-sass), beside the .ptx and .ttgir Triton made on the way"
        exit 64
    fi
    where="any session"
    [ "$(echo $sessions)" = "$(make --no-print-directory -s print-ALL_SESSIONS 2>/dev/null)" ] || where=$(echo $sessions)
    say "no exercise '$name' in $where (an exercise is a session's NN_name.cu: ls */*/[0-9][0-9]_*.cu)"
    exit 64
fi
if [ ${#found[@]} -gt 1 ]; then
    say "'$name' is in several sessions (${found[*]%/*}): say which with SESSIONS=<session>"
    exit 64
fi
session=${found[0]%/*}
name=${found[0]##*/}

# ---- which architecture ---------------------------------------------------------------------------
if [ -f "$session/NEEDS_ARCH" ]; then
    needs=$(tr -s ' \t\n' '   ' <"$session/NEEDS_ARCH" | sed 's/^ //; s/ $//')
    if [[ " $needs " != *" $arch "* ]]; then
        if [ $arch_given = 1 ]; then
            say "$session builds for $needs only (its NEEDS_ARCH), so there is no $arch object: say ARCH=${needs%% *}"
            exit 64
        fi
        arch=${needs%% *}
        [ $quiet = 1 ] || echo "(reading $arch: $session builds for $needs only)"
    fi
fi

variant=student src=.
[ $solution = 1 ] && { variant=solution; src=solutions; }
obj=$build_root/$arch/$variant/$session/$name.o
[ -f "$src/$session/$name.cu" ] || { say "no $src/$session/$name.cu here (the student bundle has no solutions)"; exit 64; }

# ---- the signature: the SASS file's line, unless one is given ----------------------------------
sass_file=$session/SASS
shown=   # the families shown even at 0: the exercise's signature, else every word of the SASS file
if [ -f "$sass_file" ]; then
    shown=$(awk '!/^[ \t]*#/ {for (i = 1; i <= NF; i++) {w = $i; sub(/^!/, "", w); print w}}' "$sass_file" | sort -u | tr '\n' ' ')
    [ $sig_given = 1 ] || signature=$(awk -v n="$name" '!/^[ \t]*#/ && $1 == n {$1 = ""; print; exit}' "$sass_file")
fi
signature=$(echo $signature)
[ -n "$signature" ] && shown=$(echo "$signature" | tr -d '!')
sig_src=
[ $sig_given = 0 ] && [ -n "$signature" ] && sig_src=" ($sass_file)"
for w in $signature; do
    [[ $w =~ ^!?[A-Z][A-Za-z0-9_.]*$ ]] || { say "'$w' in the signature of $name is no family or opcode (HGMMA, !LDGSTS, SYNCS.ARRIVE)"; exit 64; }
done

# ---- build and disassemble ------------------------------------------------------------------------
need_tools
PATH="$(dirname "$nvdisasm"):$PATH"; export PATH
log=$(mktemp) sass=$(mktemp) res=$(mktemp)
trap 'rm -f "$log" "$sass" "$res"' EXIT
read -r -a make_ <<<"$make_cmd"
if ! "${make_[@]}" --no-print-directory ARCH="$arch" SOLUTION="$solution" BUILD="$build_root" "$obj" >"$log" 2>&1; then
    grep -v '^make' "$log" | head -n 30 >&2
    say "$src/$session/$name.cu does not compile for $arch (above): fix it first"
    exit 2
fi
if ! "$cuobjdump" -sass "$obj" >"$sass" 2>"$log" || ! "$cuobjdump" -res-usage "$obj" >"$res" 2>>"$log"; then
    head -n 5 "$log" >&2; say "cuobjdump could not read $obj"; exit 2
fi
if ! grep -q 'Function :' "$sass"; then
    say "$obj holds no kernel code for $arch (no __global__ function compiled for it)"
    exit 2
fi
# One line per kernel with its mangled name, and its demangled name for people.
kernels=$(awk '/Function :/ {print $3}' "$sass")
demangled=$(printf '%s\n' $kernels | c++filt 2>/dev/null || printf '%s\n' $kernels)

# ---- count and print ------------------------------------------------------------------------------
awk -v families="$FAMILIES" -v opcodes="$OPCODES" -v detailed="$DETAILED" -v shown=" $shown " \
    -v signature="$signature" -v quiet=$quiet -v full=$full -v variant=$variant -v name="$name" -v session="$session" \
    -v arch="$arch" -v obj="$obj" -v sig_src="$sig_src" -v cuobjdump="$cuobjdump" \
    -v kernels="$kernels" -v demangled="$demangled" '
function trunc(s, n) { return length(s) > n ? substr(s, 1, n - 3) "..." : s }
# The count of a signature word over the whole object: a family, or opcodes that start with it.
function word_count(w,    o, c, k) {
    if (w in fam_index) return total[w]
    c = 0
    for (o in op_total) {
        k = substr(o, length(w) + 1, 1)
        if (substr(o, 1, length(w)) == w && (k == "" || k == "." || k == "_")) c += op_total[o]
    }
    return c
}
BEGIN {
    nf = split(families, lines, "\n")
    for (i = 1; i <= nf; i++) { split(lines[i], f, "\t"); fam[i] = f[1]; fam_re[i] = f[2]; fam_desc[i] = f[3]; fam_index[f[1]] = i }
    n = split(opcodes, lines, "\n")
    for (i = 1; i <= n; i++) { split(lines[i], f, "\t"); op_desc[f[1]] = f[2] }
    nk = split(kernels, kname, "\n"); split(demangled, kdem, "\n")
}
FNR == 1 { file++ }
# cuobjdump -res-usage: " Function NAME:" then " REG:n STACK:n SHARED:n LOCAL:n ..."
file == 1 && /^ Function / { k = $2; sub(/:$/, "", k); next }
file == 1 && /REG:/ { for (i = 1; i <= NF; i++) { split($i, kv, ":"); res[k, kv[1]] = kv[2] } next }
file == 2 && /Function :/ { k = $3; next }
# An instruction: "        /*0120*/   @!P0 OPCODE operands ;   /* encoding */"
file == 2 && /^ +\/\*[0-9a-f]+\*\/ / {
    s = $0; sub(/^ +\/\*[0-9a-f]+\*\/ +/, "", s); sub(/ *;.*/, "", s); sub(/^@!?U?P[0-9T] +/, "", s)
    op = s; sub(/ .*/, "", op)
    if (op == "NOP") next
    ninstr[k]++
    if (full) { t = $0; sub(/^ +/, "", t); sub(/ *;.*/, "", t); gsub(/  +/, " ", t); listing[k, ninstr[k]] = t }
    # nvcc fills a wgmma.commit_group that follows no wgmma.mma_async with an empty HGMMA (RZ
    # accumulator, null descriptor): no work, so no HGMMA of the exercise.
    if (op ~ /^[HQI]GMMA\./ && s ~ /^[^ ]+ RZ, gdesc\[URZ\]/) { placeholder[k]++; next }
    count[k, op]++; op_total[op]++
    if (!((k, op) in seen_op)) { seen_op[k, op] = 1; ops[k] = ops[k] " " op }
    for (i = 1; i <= nf; i++) if (op ~ fam_re[i]) { fcount[k, i]++; total[fam[i]]++ }
}
END {
    if (!quiet) {
        printf "%s%s/%s.cu compiled for %s\n  object %s\n", variant == "solution" ? "solutions/" : "", session, name, arch, obj
        for (j = nk; j >= 1; j--) {   # cuobjdump lists the last kernel first
            k = kname[j]
            kn = kdem[j] != "" ? kdem[j] : k; sub(/^void /, "", kn)
            printf "\nkernel %s\n", trunc(kn, 92)
            if (full) { for (i = 1; i <= ninstr[k]; i++) print "  " listing[k, i]; continue }
            spills = res[k, "LOCAL"] + 0 > 0 ? " (spills or local arrays)" : ""
            printf "  %d instructions, %d registers, %d B static shared, %d B local%s\n", ninstr[k], res[k, "REG"], res[k, "SHARED"], res[k, "LOCAL"], spills
            for (i = 1; i <= nf; i++) {
                c = fcount[k, i] + 0
                if (c == 0 && index(shown, " " fam[i] " ") == 0) continue
                printf "  %-12s %5d   %s\n", fam[i], c, trunc(fam_desc[i], 74)
                if (c == 0) continue
                # The opcodes of the family, one a line, where they say more than the name.
                no = split(substr(ops[k], 2), kops, " "); m = 0
                for (o = 1; o <= no; o++) if (kops[o] ~ fam_re[i]) sub_op[++m] = kops[o]
                if (m < 2 && index(detailed, " " fam[i] " ") == 0) continue
                if (m == 1 && sub_op[1] == fam[i]) continue
                for (o = 1; o <= m; o++) {
                    label = sub_op[o]
                    if (substr(label, 1, length(fam[i])) == fam[i] && length(label) > length(fam[i])) label = substr(label, length(fam[i]) + 1)
                    d = (sub_op[o] in op_desc) ? op_desc[sub_op[o]] : ""
                    if (length(label) > 26) { print "    " label; label = "" }
                    row = sprintf("    %-26s %5d   %s", label, count[k, sub_op[o]], trunc(d, 60)); sub(/ +$/, "", row); print row
                }
            }
            if (placeholder[k]) printf "  (%d empty HGMMA not counted: nvcc fills a wgmma.commit_group with no wgmma before it)\n", placeholder[k]
        }
        if (!full) printf "\nevery instruction, kernel by kernel: the same make sass with FULL=1\n"
    }
    if (signature == "") exit 0
    nw = split(signature, words, " "); bad = 0; good = ""; miss = ""
    who = variant == "student" ? "your kernels have" : "the solution has"
    for (i = 1; i <= nw; i++) {
        w = words[i]; neg = sub(/^!/, "", w); c = word_count(w)
        if (neg && c > 0) { bad++; miss = miss sprintf("  - %s %d %s: this exercise should have none\n", who, c, w) }
        else if (!neg && c == 0) { bad++; miss = miss sprintf("  - %s no %s yet\n", who, w) }
        else good = good (good == "" ? "" : ", ") (neg ? "no " w : w " " c)
    }
    if (bad > 0) { printf "signature of %s%s: not yet\n%s", name, sig_src, miss; exit 1 }
    printf "signature of %s%s: holds\n", name, sig_src
    # The words and their counts, wrapped to the width of the table.
    n = split(good, parts, ", "); row = " "
    for (i = 1; i <= n; i++) {
        if (length(row) + length(parts[i]) + 2 > 96) { print row; row = " " }
        row = row " " parts[i] (i < n ? "," : "")
    }
    print row
}' "$res" "$sass"
