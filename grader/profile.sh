#!/usr/bin/env bash
# make profile EX=<exercise> [SESSIONS=<session>] [SOLUTION=1] [SIZE=bench|small] [KERNEL=regex]
#
# Runs Nsight Compute (ncu) on one exercise's checker and prints a short list of numbers, each with
# a line of plain words on what it means and what good looks like. Only the exercise's own kernels
# are profiled (the __global__ functions of its source file), never the grader's, cuBLAS's or a
# memset: ncu's --kernel-name filter. The grader runs each exercise in a child process, hence
# --target-processes all.
#
# Which launch: by default the first launch at the exercise's bench size (the size make check
# times), since a small size fits in the L2 and says little about memory. To find it, a first ncu
# run at the small sizes (one cheap metric) counts the launches before it; the second run skips
# them. SIZE=small profiles the last launch of the small sizes instead. An exercise that fails its
# check never reaches the bench size: then its last small launch is profiled, with a warning.
#
# The metrics and their explanations live in grader/profile-metrics.txt (METRICS=file for another
# table). The full report is kept next to the checker: open it with ncu-ui, or print everything
# with `ncu --import FILE --page details`.
#
# Called by the Makefile:
#   profile.sh --preflight EXERCISE       exit 64 without an exercise, 2 without ncu
#   profile.sh --kernels --build DIR --source DIR --sessions "S" EXERCISE   the sources and kernel names it
#                                         would profile, without ncu (tests/profile-test.sh)
#   profile.sh --build DIR --source DIR --sessions "S1 S2" [--size bench|small] [--kernel REGEX]
#              [--metrics FILE] EXERCISE
# Exit status: 0 profiled; 1 nothing could be profiled; 2 no ncu; 64 usage.
set -u
cd "$(dirname "$0")/.."

say() { printf 'make profile: %s\n' "$*" >&2; }

usage() {
    cat >&2 <<'EOF'
usage: make profile EX=<exercise> [SESSIONS=<session>] [SOLUTION=1] [SIZE=bench|small] [KERNEL=regex]
  e.g. make -C ladder/07-profiling profile EX=00_softmax_slow
  `build/<arch>/student/<session>/check --list` lists a session's exercises.
EOF
}

# Nsight Compute's command-line tool: NCU, then PATH, then beside nvcc, then the usual places.
find_ncu() {
    local c
    for c in "${NCU:-}" "$(command -v ncu 2>/dev/null)" "${CUDA_HOME:+$CUDA_HOME/bin/ncu}" \
             "$(dirname "$(command -v nvcc 2>/dev/null || echo /nonexistent/nvcc)")/ncu" /usr/local/cuda/bin/ncu \
             $(ls -d /opt/nvidia/nsight-compute/*/ncu /usr/local/NVIDIA-Nsight-Compute*/ncu 2>/dev/null | sort -V -r); do
        [ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
    done
    return 1
}
need_ncu() {
    ncu=$(find_ncu) || {
        echo "make profile: Nsight Compute (ncu) not found; it comes with the CUDA toolkit (or the nsight-compute package): put it on PATH or pass NCU=/path/to/ncu"
        exit 2
    }
}

build= source_root=. sessions= size=bench kernel_regex= names= metrics_file=grader/profile-metrics.txt ex= preflight=0 list_kernels=0
while [ $# -gt 0 ]; do
    case $1 in
        --preflight) preflight=1; shift ;;
        --kernels) list_kernels=1; shift ;;   # say which sources and kernels it would profile; no ncu
        --build) build=${2:-}; shift 2 ;;
        --source) source_root=${2:-.}; shift 2 ;;
        --sessions) sessions=${2:-}; shift 2 ;;
        --size) size=${2:-bench}; shift 2 ;;
        --kernel) kernel_regex=${2:-}; shift 2 ;;
        --metrics) metrics_file=${2:-}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) say "unknown option $1"; usage; exit 64 ;;
        *) ex=$1; shift ;;
    esac
done
[ -n "$ex" ] || { say "which exercise? EX= is missing"; usage; exit 64; }
[ $list_kernels = 1 ] || need_ncu
[ $preflight = 1 ] && exit 0
case $size in bench|small) ;; *) say "SIZE is bench or small, not '$size'"; exit 64 ;; esac
[ -n "$build" ] || { say "--build DIR is missing"; exit 64; }
[ -f "$metrics_file" ] || { say "no metric table $metrics_file"; exit 64; }

# ---- which session, which source, which kernels --------------------------------------------------
found=()
for s in $sessions; do
    [ -x "$build/$s/check" ] || continue
    line=$("$build/$s/check" --list 2>/dev/null | awk -v e="$ex" '$1 == e')
    [ -n "$line" ] && found+=("$s	$line")
done
if [ ${#found[@]} = 0 ]; then
    say "no exercise '$ex' in ${sessions:-any session}; \`$build/<session>/check --list\` lists them"
    exit 64
fi
if [ ${#found[@]} -gt 1 ]; then
    say "'$ex' is in several sessions ($(printf '%s\n' "${found[@]}" | cut -f1 | tr '\n' ' ')): say which with SESSIONS=<session>"
    exit 64
fi
session=$(printf '%s' "${found[0]}" | cut -f1)
read -r _ where given <<<"$(printf '%s' "${found[0]}" | cut -f2)"
checker=$build/$session/check
if [ "$where" = cpu ]; then
    say "$ex runs on the CPU: there is no kernel for Nsight Compute to profile"
    exit 1
fi

if [ "${given:-}" = given ]; then
    sources=$(ls "$session/given/${ex#[0-9][0-9]_}.cu" 2>/dev/null || ls "$session"/given/*.cu 2>/dev/null)
else
    sources=$(ls "$source_root/$session/$ex.cu" 2>/dev/null)
fi
sources=$(echo $sources | sed 's,^\./,,; s, \./, ,g')

# The local headers a source includes ("x_given.cuh"), looked for beside it and in the session's
# folder, and theirs in turn: an exercise whose kernel lives in a given frame (session 13's 05 and
# 06) is profiled by that kernel's name, not by "every kernel", which would catch the grader's own.
with_headers() {
    local todo=("$@") seen=" " f inc dir
    while [ ${#todo[@]} -gt 0 ]; do
        f=${todo[0]}; todo=("${todo[@]:1}")
        [[ $seen == *" $f "* ]] && continue
        seen="$seen$f "
        dir=$(dirname "$f")
        for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
            if [ -f "$dir/$inc" ]; then todo+=("$dir/$inc")
            elif [ -f "$session/$inc" ]; then todo+=("$session/$inc"); fi
        done
    done
    echo $seen
}
[ -n "$sources" ] && sources=$(with_headers $sources)

# The names of the __global__ functions of the sources: comments dropped, declarations joined,
# __launch_bounds__(...) removed, then the identifier before the parameter list.
kernels_of() {
    sed 's://.*$::' "$@" | tr '\n' ' ' | sed 's:/\*[^*]*\*\+\([^/*][^*]*\*\+\)*/: :g' |
        sed 's/__launch_bounds__ *([^)]*)//g' | grep -o '__global__[^(;{}]*(' |
        sed 's/[[:space:]]*($//; s/.*[^A-Za-z0-9_]//' | sort -u
}
if [ -z "$kernel_regex" ] && [ -n "$sources" ]; then
    names=$(kernels_of $sources | paste -sd'|' -)
    # The name alone, or inside a demangled signature ("void name<...>(...)"), never a longer name.
    [ -n "$names" ] && kernel_regex="(^|[^A-Za-z0-9_])($names)(<|\\(|$)"
fi
if [ $list_kernels = 1 ]; then
    echo "sources: ${sources:-none}"
    echo "kernels: ${kernel_regex:-every kernel}"
    exit 0
fi
filter=()
if [ -n "$kernel_regex" ]; then
    filter=(--kernel-name "regex:$kernel_regex")
else
    say "warning: no __global__ function found in ${sources:-the source of the exercise} (a library call?): profiling every kernel it launches"
fi

variant=student
check_flags=(--only "$ex" --exact --time-limit 600)  # not its +variants: they would shift the count
[ "$source_root" = solutions ] && { variant=solution; check_flags+=(--solution); }
out_dir=$build/$session/profile
mkdir -p "$out_dir"
common=(--target-processes all --kernel-name-base function --check-exit-code no --force-overwrite ${filter[@]+"${filter[@]}"})

# ---- ncu helpers ---------------------------------------------------------------------------------
# Stop on what no rerun can fix: counters reserved for admins, no GPU.
check_log() {
    if grep -q "ERR_NVGPUCTRPERM" "$1"; then
        say "the GPU's performance counters are reserved for administrators here: run as root, or see"
        say "NVIDIA's note on ERR_NVGPUCTRPERM (the driver option NVreg_RestrictProfilingToAdminUsers=0)"
        exit 1
    fi
    if grep -q "needs a CUDA GPU" "$1"; then
        say "no usable CUDA GPU: $(grep -m1 'needs a CUDA GPU' "$1")"
        exit 1
    fi
}
# The raw page of a report as CSV: one header row of column names, a row of units, one row per launch.
csv_of() { "$ncu" --import "$1" --csv --page raw --print-units base --print-kernel-base function 2>/dev/null | grep '^"'; }
# Data rows of that CSV (the ID column is a number; the units row has none).
launch_rows() { grep -c '^"[0-9][0-9]*",' || true; }

# ---- 1. count the launches of the small sizes ----------------------------------------------------
log1=$out_dir/$ex.count.log
"$ncu" "${common[@]}" --metrics gpu__time_duration.sum --export "$out_dir/$ex.count" \
    "$checker" "${check_flags[@]}" --small >"$log1" 2>&1
check_log "$log1"
n_small=$(csv_of "$out_dir/$ex.count.ncu-rep" | launch_rows)
n_small=${n_small:-0}
if [ "$n_small" = 0 ]; then
    say "no launch of a kernel matching '${kernel_regex:-any}' at the small sizes"
    grep -E "^==(ERROR|WARNING)==" "$log1" | head -n 5 >&2
    say "(the exercise's output and ncu's messages: $log1; KERNEL=regex picks other kernels)"
    exit 1
fi
n_shapes=$(grep -cE '^   size [^ ]+ +PASS' "$log1" || true)
small_failed=0
grep -qE '^   size [^ ]+ +(FAIL|CRASH|TIMEOUT)|^   (CRASH|TIMEOUT) ' "$log1" && small_failed=1
# Launches per call of the exercise's launcher: constant for most exercises; 1 when it varies.
per_call=1
if [ "${n_shapes:-0}" -gt 0 ] && [ $((n_small % n_shapes)) = 0 ] && [ $((n_small / n_shapes)) -le 8 ]; then
    per_call=$((n_small / n_shapes))
fi

mode=$size
if [ $small_failed = 1 ]; then
    say "warning: $ex fails its check at a small size, so it never reaches the bench size:"
    grep -m1 -E '^   size [^ ]+ +(FAIL|CRASH|TIMEOUT)|^   (CRASH|TIMEOUT) ' "$log1" | sed 's/^ */    /' >&2
    say "profiling its last launch instead; make it correct first: a wrong kernel's speed means little"
    mode=small
    per_call=1
fi
if [ "$mode" = bench ]; then
    skip=$n_small; size_flags=()
else
    skip=$((n_small - per_call)); [ $skip -lt 0 ] && skip=0; size_flags=(--small)
fi

# ---- 2. the metric table: the first alternative of each label this ncu offers -------------------
"$ncu" --query-metrics >"$out_dir/query-metrics.txt" 2>&1 || true
known=$(awk '$1 ~ /^[a-z0-9]+__[A-Za-z0-9_]+$/ {print $1}' "$out_dir/query-metrics.txt" | sort -u)
[ "$(printf '%s\n' "$known" | grep -c .)" -lt 100 ] && known=""   # no usable list: try them all
rejected=" "   # metrics ncu refused at collection (filled by the retry below)
listed() {     # listed EXPRESSION: every metric in it appears in ncu's list (or there is no list)
    local t
    [ -z "$known" ] && return 0
    for t in $1; do
        case $t in
            launch__*|gpu__time_duration.*|sm__maximum_warps_per_active_cycle_pct) ;;
            *__*) printf '%s\n' "$known" | grep -qxF "${t%%.*}" || return 1 ;;
        esac
    done
}
refused() {    # refused EXPRESSION: ncu already refused one of its metrics
    local t
    for t in $1; do case "$rejected" in *" $t "*) return 0 ;; esac; done
    return 1
}
# For each label, in file order: the first alternative whose metrics ncu lists, else the first it has
# not refused (ncu's own answer at collection is what counts: the list is only a preference).
# Writes label TAB expression TAB unit TAB words; "-" for a label with nothing left to try.
select_table() {
    awk -F' [|] ' '!/^[[:space:]]*#/ && NF >= 4 {print $1 "\t" $2 "\t" $3 "\t" $4}' "$metrics_file" >"$out_dir/metrics.all"
    local label pick line e
    cut -f1 "$out_dir/metrics.all" | awk '!seen[$0]++' | while IFS= read -r label; do
        pick=""
        while IFS= read -r line; do
            e=$(printf '%s' "$line" | cut -f2)
            refused "$e" && continue
            if listed "$e"; then pick=$line; break; fi
            [ -z "$pick" ] && pick=$line
        done < <(awk -F'\t' -v l="$label" '$1 == l' "$out_dir/metrics.all")
        if [ -n "$pick" ]; then printf '%s\n' "$pick"
        else printf '%s\t-\t-\tnot offered by this ncu on this GPU\n' "$label"; fi
    done
}

# ---- 3. profile the chosen launch(es); a metric ncu refuses is dropped and the run repeated -----
log2=$out_dir/$ex.log
report=$out_dir/$ex
for attempt in 1 2 3 4 5 6; do
    select_table >"$out_dir/$ex.table"
    metrics=$(awk -F'\t' '$2 != "-" {print $2}' "$out_dir/$ex.table" | tr ' ' '\n' | grep '__' | sort -u | paste -sd, -)
    "$ncu" "${common[@]}" --launch-skip "$skip" --launch-count "$per_call" --metrics "$metrics" \
        ${NCU_FLAGS:-} --export "$report" "$checker" "${check_flags[@]}" ${size_flags[@]+"${size_flags[@]}"} >"$log2" 2>&1
    check_log "$log2"
    bad=$(sed -n 's/.*Failed to find metric \(regex:\)\{0,1\}^\{0,1\}\([A-Za-z0-9_]*\).*/\2/p' "$log2" | head -n1)
    [ -z "$bad" ] && break
    before=$rejected
    for m in $(printf '%s' "$metrics" | tr ',' ' '); do
        case $m in "$bad"|"$bad".*) rejected="$rejected$m " ;; esac
    done
    [ "$rejected" = "$before" ] && break   # not one of ours: rerunning would change nothing
    say "note: this ncu has no metric $bad; trying without it"
done
csv=$(csv_of "$report.ncu-rep")
if [ "$(printf '%s\n' "$csv" | launch_rows)" = 0 ]; then
    say "ncu profiled nothing on the second run; its messages:"
    grep -E "^==(ERROR|WARNING)==" "$log2" | head -n 8 >&2
    say "(the exercise's output and ncu's messages: $log2)"
    exit 1
fi
# The size of the profiled launch: the last size the checker reported on (in bench mode the bench
# size, checked and then timed; in small mode the last small size, or the one that failed).
shape=$(sed -n 's/^   size \([^ ]*\) .*/\1/p' "$log2" | tail -n1)
[ -n "$shape" ] || shape="?"

# ---- 4. the report ---------------------------------------------------------------------------------
echo
echo "make profile: $ex ($session, $variant build, $(basename "$(dirname "$build")"))"
echo "  source   ${sources:-(none found)}"
if [ $small_failed = 1 ]; then echo "  check    FAILS at a small size (see $log1)"
else echo "  check    passes at the $n_shapes small sizes"; fi
shown=${names//|/, }
echo "  kernels  ${shown:-${kernel_regex:-every kernel}}, at size $shape ($mode: launch $((skip + 1)) of them)"
printf '%s\n' "$csv" | awk -v table="$out_dir/$ex.table" '
function csv_split(line, out,    n, i, c, field, inq) {
    n = 0; field = ""; inq = 0
    for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (inq) {
            if (c == "\"") { if (substr(line, i + 1, 1) == "\"") { field = field "\""; i++ } else inq = 0 }
            else field = field c
        } else if (c == "\"") inq = 1
        else if (c == ",") { out[++n] = field; field = "" }
        else field = field c
    }
    out[++n] = field
    return n
}
# A metric of the current row in base units (ns, bytes, sectors ...), or "" when absent.
function value(name,    v, u, k) {
    if (!(name in col)) return ""
    v = row[col[name]]; u = unit[col[name]]
    gsub(/,/, "", v)
    if (v !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/) return ""
    k = 1
    if (u ~ /^nsecond/) k = 1; else if (u ~ /^usecond/) k = 1e3; else if (u ~ /^msecond/) k = 1e6
    else if (u ~ /^second/) k = 1e9
    else if (u ~ /^K/) k = 1e3; else if (u ~ /^M/) k = 1e6; else if (u ~ /^G/) k = 1e9; else if (u ~ /^T/) k = 1e12
    return v * k
}
# Left to right over "a op b op c ...": metric names and numbers.
function evaluate(expr,    t, n, i, acc, x, op) {
    n = split(expr, t, " ")
    acc = (t[1] ~ /__/) ? value(t[1]) : t[1]
    if (acc == "") return ""
    for (i = 2; i + 1 <= n; i += 2) {
        op = t[i]; x = (t[i + 1] ~ /__/) ? value(t[i + 1]) : t[i + 1]
        if (x == "") return ""
        if (op == "+") acc += x; else if (op == "-") acc -= x; else if (op == "*") acc *= x
        else if (op == "/") { if (x == 0) return "none"; acc /= x }
    }
    return acc
}
function commas(n,    s, r) {
    s = sprintf("%.0f", n); r = ""
    while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
    return s r
}
function show(v, u) {
    if (v == "") return "n/a"
    if (v == "none") return "none"
    if (u == "%") return sprintf("%.1f %%", v)
    if (u == "ratio") return sprintf("%.2f", v)
    if (u == "count") return commas(v)
    if (u == "blocks") return sprintf("%d blocks", v)
    if (u == "ns") {
        if (v >= 1e6) return sprintf("%.3f ms", v / 1e6)
        if (v >= 1e3) return sprintf("%.2f us", v / 1e3)
        return sprintf("%.0f ns", v)
    }
    if (u == "bytes") {
        if (v >= 1e9) return sprintf("%.2f GB", v / 1e9)
        if (v >= 1e6) return sprintf("%.1f MB", v / 1e6)
        if (v >= 1e3) return sprintf("%.1f KB", v / 1e3)
        return sprintf("%d B", v)
    }
    return v
}
BEGIN {
    FS = "\t"
    while ((getline l < table) > 0) { split(l, f, "\t"); nt++; lab[nt] = f[1]; ex[nt] = f[2]; un[nt] = f[3]; wd[nt] = f[4] }
}
{
    n = csv_split($0, r)
    if (!header) { for (i = 1; i <= n; i++) col[r[i]] = i; header = 1; next }
    if (r[1] !~ /^[0-9]+$/) { for (i = 1; i <= n; i++) unit[i] = r[i]; next }   # the units row
    for (i = 1; i <= n; i++) row[i] = r[i]
    name = row[col["Kernel Name"]]
    if (name in seen) next   # the same kernel launched again: shown once
    seen[name] = 1
    printf "\n%s   grid %s  block %s\n", name, row[col["Grid Size"]], row[col["Block Size"]]
    for (t = 1; t <= nt; t++) {
        v = (ex[t] == "-") ? "" : evaluate(ex[t])
        dots = lab[t] " "; while (length(dots) < 36) dots = dots "."
        printf "  %s %14s\n      %s\n", dots, (ex[t] == "-") ? "-" : show(v, un[t]), wd[t]
    }
}'
echo
echo "  full report: $report.ncu-rep (ncu-ui, or: ncu --import $report.ncu-rep --page details)"
echo "  checker output and ncu messages: $log2"
