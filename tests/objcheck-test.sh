#!/usr/bin/env bash
# Tests of the object checker (grader/tools/objcheck.c), its base policy (grader/policy/base.txt)
# and the reserved list (grader/policy/reserved-symbols.sh):
#   1. objcheck builds (make, in build/objcheck-test) and compiles without warnings, alone and with
#      the fuzz harness tests/fuzz/fuzz_objcheck.c
#   2. the reserved list is written in seconds and holds the grader's, the runtime's and libc's names
#   3. every skeleton and every solution of every session compiles to an object that objcheck finds
#      clean against the skeleton's object: honest files must pass
#   4. every file in tests/cheats-obj gets the verdict tests/cheats-obj/expected.txt gives, and a
#      DISQUALIFIED one a report naming what it must; policy layering (a later line wins)
#   5. malformed objects (truncated, offsets past the end, indices out of range, not ELF, 32-bit):
#      exit 2 with one line, never a crash or a hang; mutants of a real object likewise or a verdict
#   6. usage, unreadable inputs, a missing objdump
#   7. the fuzz harness run over its corpus and mutants of it, under ASan and UBSan where gcc has them
# Objects are compiled with nvcc, JOBS at a time (default 2), into build/objcheck-test/objects/,
# named by a hash of the source, its headers and the flags: a rerun compiles only what changed.
# Prints PASS/FAIL lines and ends with "N passed, N failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
. tests/lib.sh   # result PASS|FAIL what [detail]
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
first_lines() { head -n "${2:-3}" "$1" | tr '\n' ' ' | cut -c1-400; }

build=build/objcheck-test
objects=$build/objects
tool=$build/sm_80/grader/tools/objcheck
policy=grader/policy/base.txt
cheats=tests/cheats-obj
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
tmp=$(mktemp -d "${TMPDIR:-/tmp}/objcheck-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$objects"
started=$SECONDS

# ---- 1. build ----------------------------------------------------------------------------------
if make --no-print-directory -s ARCH=sm_80 BUILD="$build" "$tool" >"$tmp/build.log" 2>&1 && [ -x "$tool" ]; then
    result PASS "objcheck builds ($build)"
else
    result FAIL "objcheck builds ($build)" "$(tail -n 5 "$tmp/build.log")"
    finish
fi
if gcc -std=c11 -Wall -Wextra -Werror -c grader/tools/objcheck.c -o "$tmp/objcheck.o" >"$tmp/warn.log" 2>&1 &&
   gcc -std=c11 -Wall -Wextra -Werror -DOBJCHECK_NO_MAIN -c grader/tools/objcheck.c -o "$tmp/objcheck-lib.o" \
       >>"$tmp/warn.log" 2>&1 &&
   gcc -std=c11 -Wall -Wextra -Werror -c tests/fuzz/fuzz_objcheck.c -o "$tmp/fuzz.o" >>"$tmp/warn.log" 2>&1; then
    result PASS "objcheck.c and the fuzz harness compile with -std=c11 -Wall -Wextra -Werror"
else
    result FAIL "objcheck.c and the fuzz harness compile with -std=c11 -Wall -Wextra -Werror" "$(first_lines "$tmp/warn.log" 5)"
fi
link_line=$(head -n 1 tests/fuzz/fuzz_objcheck.c)
[ "$link_line" = "// link: grader/tools/objcheck.c" ] && result PASS "the harness names what it links" ||
    result FAIL "the harness names what it links" "first line: $link_line"

# ---- 2. the reserved list ------------------------------------------------------------------------
reserved=$tmp/reserved.txt
t0=$(date +%s%N)
grader/policy/reserved-symbols.sh "$reserved" "$build/sm_80/grader/libgrader.a" 2>"$tmp/reserved.err"
rc=$? ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ $rc -eq 0 ] && [ "$(wc -l <"$reserved")" -gt 5000 ]; then
    result PASS "reserved-symbols.sh writes $(wc -l <"$reserved") names"
else
    result FAIL "reserved-symbols.sh writes the reserved list" "exit $rc: $(first_lines "$tmp/reserved.err")"
fi
[ "$ms" -lt 15000 ] && result PASS "reserved-symbols.sh runs in seconds ($ms ms)" ||
    result FAIL "reserved-symbols.sh runs in seconds" "$ms ms"
missing=""
for name in gr_compare_scaled gr_lib_sgemm cudaEventElapsedTime cudaEventRecord __cudaRegisterFatBinary \
            cublasSgemm_v2 getenv memcpy atexit __libc_start_main _start _ZNSt8ios_base4InitC1Ev __cxa_atexit; do
    grep -qx -- "$name" "$reserved" || missing="$missing $name"
done
[ -z "$missing" ] && result PASS "the reserved list holds the grader's, the runtime's, cuBLAS's and libc's names" ||
    result FAIL "the reserved list holds the grader's, the runtime's, cuBLAS's and libc's names" "missing:$missing"
if ! grep -q '@' "$reserved" && LC_ALL=C sort -u -c "$reserved" 2>/dev/null; then
    result PASS "the reserved list is sorted, unique and without version suffixes"
else
    result FAIL "the reserved list is sorted, unique and without version suffixes"
fi
grader/policy/reserved-symbols.sh "$tmp/none.txt" "$tmp/no-such.o" >/dev/null 2>&1
[ $? -ne 0 ] && result PASS "reserved-symbols.sh fails on a missing input" ||
    result FAIL "reserved-symbols.sh fails on a missing input"

# ---- compiling: every object by the hash of what makes it, two compilers at a time --------------
nvcc_version=$(nvcc --version | tail -n 1)
flags_for() {  # flags_for SESSION: the target architecture a session builds for (TARGETS, else sm_80)
    local arch=sm_80
    if [ -f "$1/TARGETS" ] && ! grep -qw sm_80 "$1/TARGETS"; then arch=$(awk '{print $1; exit}' "$1/TARGETS"); fi
    echo "-O3 -std=c++17 -gencode=arch=compute_${arch#sm_},code=$arch $(make --no-print-directory -s session-nvccflags SESSION="$1")"
}
declare -A header_hash=() obj_of=() flags_of=()
headers_of() {
    [ -n "${header_hash[$1]:-}" ] ||
        header_hash[$1]=$(cat $(ls "$1"/*.h "$1"/*.cuh grader/*.h grader/*.cuh 2>/dev/null) | sha256sum | cut -c1-16)
    echo "${header_hash[$1]}"
}
: >"$tmp/todo"
want() {  # want SOURCE SESSION: the object of SOURCE compiled with SESSION's headers
    local src=$1 session=$2 flags key
    flags=$(flags_for "$session")
    key=$({ echo "$nvcc_version $flags -I$session"; headers_of "$session"; cat "$src"; } | sha256sum | cut -c1-32)
    obj_of[$src]=$objects/$key.o
    [ -s "${obj_of[$src]}" ] || printf '%s\t%s\t%s\t%s\n' "$src" "$session" "$flags" "${obj_of[$src]}" >>"$tmp/todo"
}
sessions=$(ls -d */[0-9][0-9]-*/ 2>/dev/null | sed 's,/$,,' | sort -t/ -k2)
skeletons=$(ls */[0-9][0-9]-*/[0-9][0-9]_*.cu 2>/dev/null)
solutions=$(ls solutions/*/[0-9][0-9]-*/[0-9][0-9]_*.cu 2>/dev/null)
given=$(ls */[0-9][0-9]-*/given/*.cu 2>/dev/null)
session_of() { local d; d=$(dirname "${1#solutions/}"); echo "${d%/given}"; }
for src in $skeletons $given $solutions; do want "$src" "$(session_of "$src")"; done
declare -A exercise_of=() verdict_of=() words_of=()
while read -r file exercise verdict words; do
    case "$file" in ''|'#'*) continue ;; esac
    exercise_of[$file]=$exercise verdict_of[$file]=$verdict words_of[$file]=$words
    [ -f "$cheats/$file" ] && want "$cheats/$file" "$(dirname "$exercise")"
done <"$cheats/expected.txt"
cat >"$tmp/compile.sh" <<'EOF'
#!/usr/bin/env bash
# compile.sh SOURCE SESSION FLAGS OBJECT: one nvcc, the object written whole or not at all.
IFS=$'\t' read -r src session flags obj <<<"$1"
nvcc $flags -I"$session" -Igrader -c "$src" -o "$obj.tmp.$$" >"$obj.log" 2>&1 && mv -f "$obj.tmp.$$" "$obj"
rm -f "$obj.tmp.$$"
EOF
total=$(( $(echo $skeletons $solutions $given | wc -w) + ${#exercise_of[@]} ))
todo=$(wc -l <"$tmp/todo")
t0=$SECONDS
tr '\n' '\0' <"$tmp/todo" | xargs -0 -r -P "${JOBS:-2}" -n 1 bash "$tmp/compile.sh"
result PASS "$total objects: $todo compiled with nvcc in $((SECONDS - t0)) s, $((total - todo)) from $objects"
compiles() {  # compiles SOURCE: its object exists, or a FAIL with nvcc's words
    [ -s "${obj_of[$1]}" ] && return 0
    result FAIL "$1 compiles" "$(first_lines "${obj_of[$1]}.log" 4)"
    return 1
}

# ---- per session: the check driver is the grader's, the other objects are the session's --------
declare -A session_names=() session_reserved=()
for s in $sessions; do
    slug=$(echo "$s" | tr / _)
    : >"$tmp/$slug.defined"
    if [ -f "$s/check.c" ] &&
       gcc -I"$s" -Igrader -I"$(dirname "$(dirname "$(command -v nvcc)")")/include" -DGR_BUILD_ARCH='"sm_80"' \
           -std=c11 -D_GNU_SOURCE -O2 -c "$s/check.c" -o "$tmp/$slug.check.o" 2>"$tmp/$slug.check.log"; then
        nm -g --defined-only "$tmp/$slug.check.o" | awk 'NF == 3 { print $3 }' >"$tmp/$slug.defined"
    elif [ -f "$s/check.c" ]; then
        result FAIL "$s/check.c compiles" "$(first_lines "$tmp/$slug.check.log")"
    fi
    LC_ALL=C sort -u "$reserved" "$tmp/$slug.defined" >"$tmp/$slug.reserved"
    : >"$tmp/$slug.session"
    for src in $skeletons $given; do
        case "$src" in "$s"/*) [ -s "${obj_of[$src]}" ] && nm -g --defined-only "${obj_of[$src]}" |
                                   awk 'NF == 3 { print $3 }' >>"$tmp/$slug.session" ;; esac
    done
    session_reserved[$s]=$tmp/$slug.reserved
    session_names[$s]=$tmp/$slug.session
done

# check SOURCE EXERCISE NAME [extra objcheck args]: objcheck's output in $tmp/out, its exit in $rc
check() {
    local src=$1 exercise=$2 name=$3 session policies
    session=$(dirname "$exercise")
    shift 3
    # The base policy, then the session's own additions, as the class grader layers them.
    policies=(--policy "$policy")
    [ -f "$session/policy.txt" ] && policies+=(--policy "$session/policy.txt")
    timeout -k 5 60 "$tool" "${obj_of[$src]}" --own "${obj_of[$exercise.cu]}" --reserved "${session_reserved[$session]}" \
        --session-symbols "${session_names[$session]}" "${policies[@]}" --name "$name" "$@" >"$tmp/out" 2>&1
    rc=$?
}

# ---- 3. honest files are clean -------------------------------------------------------------------
count=0
for src in $skeletons $solutions; do
    exercise=${src#solutions/}
    exercise=${exercise%.cu}
    compiles "$src" && compiles "$exercise.cu" || continue
    count=$((count + 1))
    check "$src" "$exercise" "$src"
    if [ $rc -eq 0 ] && [ ! -s "$tmp/out" ]; then result PASS "$src is clean"
    else result FAIL "$src is clean" "exit $rc: $(first_lines "$tmp/out")"; fi
done
[ "$count" -gt 0 ] && [ -n "$solutions" ] && result PASS "found $count skeletons and solutions to check" ||
    result FAIL "found skeletons and solutions to check"

# ---- 4. the cheats and the clean controls ----------------------------------------------------------
for file in $(printf '%s\n' "${!exercise_of[@]}" | sort); do
    src=$cheats/$file exercise=${exercise_of[$file]} verdict=${verdict_of[$file]} words=${words_of[$file]}
    if [ ! -f "$src" ]; then result FAIL "$file exists" "listed in expected.txt"; continue; fi
    if [ ! -f "$exercise.cu" ]; then result FAIL "$file: poses as an exercise" "no $exercise.cu"; continue; fi
    compiles "$src" && compiles "$exercise.cu" || continue
    check "$src" "$exercise" "$file"
    case "$verdict" in
    CLEAN)
        if [ $rc -eq 0 ] && [ ! -s "$tmp/out" ]; then result PASS "$file: CLEAN"
        else result FAIL "$file: CLEAN" "exit $rc: $(first_lines "$tmp/out")"; fi ;;
    DISQUALIFIED)
        if [ $rc -ne 1 ]; then
            result FAIL "$file: DISQUALIFIED" "exit $rc: $(first_lines "$tmp/out")"
        elif grep -qv "^$file: DISQUALIFIED: ." "$tmp/out"; then
            result FAIL "$file: DISQUALIFIED" "a line not shaped '$file: DISQUALIFIED: reason': $(grep -v "^$file: DISQUALIFIED: ." "$tmp/out" | head -n 1)"
        elif ! grep -qF -- "$words" "$tmp/out"; then
            result FAIL "$file: DISQUALIFIED" "no line says '$words': $(first_lines "$tmp/out")"
        else
            result PASS "$file: DISQUALIFIED ($(head -n 1 "$tmp/out" | sed "s/^$file: DISQUALIFIED: //" | cut -c1-90))"
        fi ;;
    *)  result FAIL "$file: verdict" "unknown verdict '$verdict' in expected.txt" ;;
    esac
done
for path in "$cheats"/*.cu; do
    f=$(basename "$path")
    [ -n "${exercise_of[$f]:-}" ] || result FAIL "$f has a verdict in expected.txt"
done

# Layering: a later policy line wins over the base.
if compiles "$cheats/pasted_getenv.cu"; then
    printf 'allow-undefined getenv\n' >"$tmp/allow-getenv.txt"
    check "$cheats/pasted_getenv.cu" ladder/02-cuda-model/01_rgb_to_grey pasted_getenv.cu --policy "$tmp/allow-getenv.txt"
    [ $rc -eq 0 ] && result PASS "a session policy's allow-undefined overrides the base" ||
        result FAIL "a session policy's allow-undefined overrides the base" "exit $rc: $(first_lines "$tmp/out")"
fi
if compiles solutions/ladder/02-cuda-model/02_saxpy_grid_stride.cu; then
    printf 'forbid-undefined cudaGetDevice this session picks the grid itself\n' >"$tmp/forbid.txt"
    check solutions/ladder/02-cuda-model/02_saxpy_grid_stride.cu ladder/02-cuda-model/02_saxpy_grid_stride saxpy.cu \
        --policy "$tmp/forbid.txt"
    [ $rc -eq 1 ] && grep -q 'cudaGetDevice.*this session picks the grid itself' "$tmp/out" &&
        result PASS "a session policy's forbid-undefined overrides the base, with its reason" ||
        result FAIL "a session policy's forbid-undefined overrides the base, with its reason" "exit $rc: $(first_lines "$tmp/out")"
fi
if compiles "$cheats/cub_device_reduce.cu"; then
    printf 'allow-define-prefix _ZN3cub\n' >"$tmp/allow-cub.txt"
    check "$cheats/cub_device_reduce.cu" ladder/03-memory/04_reduce_tree cub_device_reduce.cu --policy "$tmp/allow-cub.txt"
    [ $rc -eq 1 ] && ! grep -q 'defines _ZN3cub' "$tmp/out" && grep -q 'defines _ZN6thrust' "$tmp/out" &&
        result PASS "allow-define-prefix lifts one namespace (CUB's), the others remain (Thrust's)" ||
        result FAIL "allow-define-prefix lifts one namespace (CUB's), the others remain (Thrust's)" "exit $rc: $(first_lines "$tmp/out")"
fi
if compiles "$cheats/call_other_launcher.cu"; then
    "$tool" "${obj_of[$cheats/call_other_launcher.cu]}" --own "${obj_of[ladder/02-cuda-model/02_saxpy_grid_stride.cu]}" \
        --reserved "$reserved" --policy "$policy" >"$tmp/out" 2>&1
    rc=$?
    [ $rc -eq 1 ] && grep -q 'saxpy_vectorized, which is not on this exercise' "$tmp/out" &&
        result PASS "without --session-symbols another exercise's launcher is still off the allow-list" ||
        result FAIL "without --session-symbols another exercise's launcher is still off the allow-list" "exit $rc: $(first_lines "$tmp/out")"
fi

# ---- 5. malformed objects ------------------------------------------------------------------------
seed=${obj_of[ladder/02-cuda-model/02_saxpy_grid_stride.cu]}
mkdir -p "$tmp/bad" "$tmp/mutants"
python3 - "$seed" "$tmp/bad" "$tmp/mutants" <<'EOF'
import os, random, struct, sys
seed, bad, mutants = sys.argv[1:4]
img = open(seed, 'rb').read()
shoff, = struct.unpack_from('<Q', img, 0x28)
shnum, shstrndx = struct.unpack_from('<HH', img, 0x3c)
def sh(i): return shoff + 64 * i
def sections():
    for i in range(shnum):
        name, typ, flags, addr, off, size, link, info, align, entsize = struct.unpack_from('<IIQQQQIIQQ', img, sh(i))
        yield i, typ, off, size, link, entsize
symtab = next(s for s in sections() if s[1] == 2)
strtab = next(s for s in sections() if s[0] == symtab[4])
rela = next(s for s in sections() if s[1] == 4)
def patch(name, at, fmt, value, base=img):
    b = bytearray(base); struct.pack_into(fmt, b, at, value); open(os.path.join(bad, name), 'wb').write(b)
def write(name, data): open(os.path.join(bad, name), 'wb').write(data)
write('empty.o', b'')
write('text.o', b'this is not an object file, just text\n')
write('header-only-magic.o', b'\x7fELF')
patch('elf32.o', 4, 'B', 1)
patch('big-endian.o', 5, 'B', 2)
patch('executable.o', 16, '<H', 2)
patch('arm64.o', 18, '<H', 183)
write('truncated-header.o', img[:40])
write('truncated-half.o', img[:len(img) // 2])
write('truncated-by-one.o', img[:-1])
patch('section-offset-past-end.o', sh(1) + 24, '<Q', len(img) + 16)
patch('section-size-wraps.o', sh(symtab[0]) + 32, '<Q', 2**64 - 8)
patch('shoff-near-2-64.o', 0x28, '<Q', 2**64 - 16)
patch('shoff-past-end.o', 0x28, '<Q', len(img) + 64)
patch('shnum-huge.o', 0x3c, '<H', 0xfeff)
patch('shentsize-wrong.o', 0x3a, '<H', 40)
patch('shstrndx-out-of-range.o', 0x3e, '<H', shnum + 5)
patch('shstrndx-zero.o', 0x3e, '<H', 0)
patch('section-name-out-of-range.o', sh(2), '<I', 0x7fffffff)
patch('symbol-name-past-strtab.o', symtab[2] + 24, '<I', strtab[3] + 100)
patch('symbol-section-out-of-range.o', symtab[2] + 24 + 6, '<H', 0xfe00)
patch('symbol-extended-index-no-table.o', symtab[2] + 24 + 6, '<H', 0xffff)
patch('symtab-entsize-wrong.o', sh(symtab[0]) + 56, '<Q', 23)
patch('symtab-link-out-of-range.o', sh(symtab[0]) + 40, '<I', 9999)
patch('strtab-unterminated.o', strtab[2] + strtab[3] - 1, 'B', 0x41)
patch('rela-symbol-out-of-range.o', rela[2] + 8, '<Q', (0xffffff << 32) | 1)
patch('rela-target-out-of-range.o', sh(rela[0]) + 44, '<I', 5000)
patch('extended-shnum-huge.o', 0x3c, '<H', 0, base=bytes(bytearray(img[:sh(0) + 32]) + struct.pack('<Q', 2**40) + img[sh(0) + 40:]))
# mutants: random bytes, 8-byte fields set to edge values, truncations; a verdict or a clean exit 2
rng = random.Random(20240611)
edges = [0, 1, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 2**63, 2**64 - 1, len(img), len(img) - 1]
hot = list(range(0, 64)) + list(range(shoff, len(img))) + list(range(symtab[2], symtab[2] + symtab[3]))
for k in range(150):
    b = bytearray(img)
    for _ in range(rng.randint(1, 8)):
        at = rng.choice(hot)
        if rng.random() < 0.5 and at + 8 <= len(b): struct.pack_into('<Q', b, at, rng.choice(edges))
        else: b[at] = rng.randrange(256)
    if rng.random() < 0.2: b = b[:rng.randrange(len(b))]
    open(os.path.join(mutants, f'mutant-{k:03d}.o'), 'wb').write(b)
EOF
for bad in "$tmp"/bad/*.o; do
    name=$(basename "$bad")
    timeout -k 5 30 "$tool" "$bad" --own "$seed" --reserved "$reserved" --policy "$policy" --name "$name" >"$tmp/out" 2>&1
    rc=$? lines=$(wc -l <"$tmp/out")
    if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -q "^$name: objcheck: " "$tmp/out"; then
        result PASS "malformed $name: exit 2, one line ($(cut -c1-100 "$tmp/out" | sed "s/^$name: objcheck: //"))"
    else
        result FAIL "malformed $name: exit 2, one line" "exit $rc, $lines lines: $(first_lines "$tmp/out" 2)"
    fi
done
bad_mutants=0 verdicts=""
for m in "$tmp"/mutants/*.o; do
    timeout -k 5 30 "$tool" "$m" --own "$seed" --reserved "$reserved" --policy "$policy" >"$tmp/out" 2>&1
    rc=$?
    verdicts="$verdicts $rc"
    if [ $rc -gt 2 ] || { [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/out")" -ne 1 ]; }; then
        bad_mutants=$((bad_mutants + 1))
        [ $bad_mutants -le 3 ] && cp "$m" "$build/failed-$(basename "$m")"
    fi
done
summary=$(echo $verdicts | tr ' ' '\n' | sort | uniq -c | awk '{printf "%s exit %s, ", $1, $2}')
[ $bad_mutants -eq 0 ] && result PASS "150 mutants of a real object: a verdict or one line and exit 2 (${summary%, })" ||
    result FAIL "150 mutants of a real object: a verdict or one line and exit 2" "$bad_mutants crashed, hung or printed more (kept in $build/failed-*)"

# ---- 6. usage and unreadable inputs ----------------------------------------------------------------
"$tool" >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ] && result PASS "no arguments: usage, exit 64" || result FAIL "no arguments: usage, exit 64" "exit $rc"
"$tool" "$seed" --own "$seed" --reserved "$reserved" >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ] && result PASS "no --policy: usage, exit 64" || result FAIL "no --policy: usage, exit 64" "exit $rc"
"$tool" "$seed" --own "$seed" --reserved "$reserved" --policy "$policy" --frobnicate >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ] && result PASS "an unknown option: usage, exit 64" || result FAIL "an unknown option: usage, exit 64" "exit $rc"
one_line_exit_2() {  # one_line_exit_2 WHAT WORD objcheck-args...
    local what=$1 word=$2
    shift 2
    timeout -k 5 30 "$tool" "$@" >"$tmp/out" 2>&1
    rc=$? lines=$(wc -l <"$tmp/out")
    if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -q -- "$word" "$tmp/out"; then result PASS "$what: exit 2, one line"
    else result FAIL "$what: exit 2, one line" "exit $rc, $lines lines: $(first_lines "$tmp/out" 2)"; fi
}
one_line_exit_2 "a missing object" "cannot read" "$tmp/no-such.o" --own "$seed" --reserved "$reserved" --policy "$policy"
one_line_exit_2 "a missing reserved list" "cannot read" "$seed" --own "$seed" --reserved "$tmp/no-such.txt" --policy "$policy"
one_line_exit_2 "a directory as the object" "directory" "$tmp" --own "$seed" --reserved "$reserved" --policy "$policy"
one_line_exit_2 "a malformed skeleton object" "skeleton" "$seed" --own "$tmp/bad/elf32.o" --reserved "$reserved" --policy "$policy"
printf 'allow-undefined printf\npermit-everything now\n' >"$tmp/bad-policy.txt"
one_line_exit_2 "a policy with an unknown rule" "bad-policy.txt:2: unknown rule" "$seed" --own "$seed" --reserved "$reserved" \
    --policy "$tmp/bad-policy.txt"
printf 'allow-undefined cuda*Sync\n' >"$tmp/star-policy.txt"
one_line_exit_2 "a policy with '*' inside a name" "may only end" "$seed" --own "$seed" --reserved "$reserved" --policy "$tmp/star-policy.txt"
mkdir -p "$tmp/empty-path"
env PATH="$tmp/empty-path" "$(command -v timeout)" -k 5 30 "$tool" "$seed" --own "$seed" --reserved "$reserved" \
    --policy "$policy" >"$tmp/out" 2>&1
rc=$? lines=$(wc -l <"$tmp/out")
[ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -q 'objdump was not found' "$tmp/out" &&
    result PASS "objdump missing: exit 2, one line" ||
    result FAIL "objdump missing: exit 2, one line" "exit $rc, $lines lines: $(first_lines "$tmp/out" 2)"

# ---- 7. the fuzz harness over its corpus and mutants ------------------------------------------------
corpus=tests/fuzz/corpus/objcheck
seeds=$(ls "$corpus"/* 2>/dev/null | wc -l)
big=$(find "$corpus" -type f -size +200k 2>/dev/null | wc -l)
[ "$seeds" -ge 2 ] && [ "$big" -eq 0 ] && result PASS "the fuzz corpus has $seeds seeds, none over 200 KB" ||
    result FAIL "the fuzz corpus has 2-3 seeds under 200 KB" "$seeds seeds, $big too big"
cat >"$tmp/driver.c" <<'EOF'
/* A stand-in for libFuzzer: each file named, then mutants of it (bytes, 8-byte edge values, cuts). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static uint64_t state = 0x9e3779b97f4a7c15u;
static uint64_t next(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; }
int main(int argc, char **argv) {
    long runs = 0, per_seed = atol(argv[1]);
    for (int f = 2; f < argc; f++) {
        FILE *in = fopen(argv[f], "rb");
        if (!in) return 3;
        static uint8_t seed[1 << 20], work[1 << 20];
        size_t n = fread(seed, 1, sizeof seed, in);
        fclose(in);
        LLVMFuzzerTestOneInput(seed, n), runs++;
        const uint64_t edges[] = {0, 1, 0xff, 0xffff, 0x7fffffff, 0xffffffffu, 1ull << 63, ~0ull, n, n - 1};
        for (long k = 0; k < per_seed && n > 8; k++) {
            memcpy(work, seed, n);
            size_t len = n;
            for (int e = 1 + next() % 6; e > 0; e--) {
                size_t at = next() % 3 == 0 ? next() % 64 : next() % (n - 8);
                if (next() % 2) { uint64_t v = edges[next() % 10]; memcpy(work + at, &v, 8); }
                else work[at] = (uint8_t)next();
            }
            if (next() % 5 == 0) len = next() % n;
            LLVMFuzzerTestOneInput(work, len), runs++;
        }
    }
    printf("%ld\n", runs);
    return 0;
}
EOF
sanitizers="-fsanitize=address,undefined -fno-sanitize-recover=all"
gcc -std=c11 -O1 -g $sanitizers -DOBJCHECK_NO_MAIN tests/fuzz/fuzz_objcheck.c grader/tools/objcheck.c "$tmp/driver.c" \
    -o "$tmp/fuzz" >"$tmp/fuzz-build.log" 2>&1 || {
    sanitizers=""
    gcc -std=c11 -O1 -g -DOBJCHECK_NO_MAIN tests/fuzz/fuzz_objcheck.c grader/tools/objcheck.c "$tmp/driver.c" \
        -o "$tmp/fuzz" >"$tmp/fuzz-build.log" 2>&1
}
if [ -x "$tmp/fuzz" ]; then
    runs=$(timeout -k 5 300 "$tmp/fuzz" 4000 "$corpus"/* 2>"$tmp/fuzz.err")
    rc=$?
    if [ $rc -eq 0 ] && [ -n "$runs" ]; then
        result PASS "the fuzz harness: $runs runs over the corpus and its mutants${sanitizers:+ under ASan and UBSan}"
    else
        result FAIL "the fuzz harness over the corpus and its mutants" "exit $rc: $(first_lines "$tmp/fuzz.err" 6)"
    fi
else
    result FAIL "the fuzz harness builds with objcheck.c" "$(first_lines "$tmp/fuzz-build.log" 4)"
fi

result PASS "tests/objcheck-test.sh took $((SECONDS - started)) s"
finish
