#!/usr/bin/env bash
# Grades a class on Slurm: an array job of one task per CHUNK students, then a merge job that starts
# when every task has ended (afterany) and writes the verdict table and the leaderboard.
#   grader/slurm/submit.sh CLASS_DIR OUT_DIR [--chunk N] [--sessions "..."] [--cpu-only] [-- SBATCH_OPTION ...]
# Each task asks for one GPU (--gres=gpu:1); --cpu-only asks for none (build, scan and the no-GPU
# verdicts only). Options after -- go to both sbatch calls (e.g. --partition=gpu --account=course).
# CLASS_DIR, OUT_DIR and this workbook must be on a file system every node sees.
# Prints "array job ID (N tasks), merge job ID"; the logs go to OUT_DIR/slurm/.
set -u
die() { echo "submit: $*" >&2; exit "${2:-1}"; }
[ $# -ge 2 ] || die "usage: submit.sh CLASS_DIR OUT_DIR [--chunk N] [--sessions \"...\"] [--cpu-only] [-- SBATCH_OPTION ...]" 64
workbook=$(cd "$(dirname "$0")/../.." && pwd -P)
class=$1 out=$2
shift 2
chunk=4 sessions='' gres=(--gres=gpu:1) extra=() grade_args=${GRADE_ARGS:-}
while [ $# -gt 0 ]; do
    case "$1" in
        --chunk) [ $# -ge 2 ] || die "--chunk takes a number" 64; chunk=$2; shift 2 ;;
        --sessions) [ $# -ge 2 ] || die "--sessions takes a list" 64; sessions=$2; shift 2 ;;
        --cpu-only) gres=(); shift ;;
        --) shift; extra=("$@"); break ;;
        *) die "unknown option $1" 64 ;;
    esac
done
[[ $chunk =~ ^[1-9][0-9]*$ ]] || die "--chunk takes a positive number, got '$chunk'" 64
[ -d "$class" ] || die "no class folder $class"
command -v sbatch >/dev/null || die "sbatch not found: run this on a Slurm login node"
class=$(cd "$class" && pwd -P)
mkdir -p "$out/slurm" || die "cannot create $out"
out=$(cd "$out" && pwd -P)
n=$(cd "$class" && for d in */; do echo "${d%/}"; done | grep -cE '^[A-Za-z0-9][A-Za-z0-9._-]*$')
[ "$n" -gt 0 ] || die "no student folders in $class"
tasks=$(( (n + chunk - 1) / chunk ))

export WORKBOOK=$workbook CLASS=$class OUT=$out CHUNK=$chunk SESSIONS=$sessions GRADE_ARGS=$grade_args
script=$workbook/grader/slurm/grade-class.sbatch
array=$(sbatch --parsable --export=ALL --array=0-$((tasks - 1)) "${gres[@]}" --output="$out/slurm/%x-%A_%a.out" \
        "${extra[@]}" "$script") || die "sbatch of the array job failed"
array=${array%%;*}
merge=$(MERGE=1 sbatch --parsable --export=ALL --dependency=afterany:"$array" --job-name=kw-grade-merge --cpus-per-task=1 \
        --output="$out/slurm/%x-%j.out" "${extra[@]}" "$script") || die "sbatch of the merge job failed"
merge=${merge%%;*}
echo "array job $array ($tasks tasks of up to $chunk students), merge job $merge; logs in $out/slurm/"
