#!/usr/bin/env bash
# Board demo: the mini-model on the GPU, greedy then speculative, and the first speculative passes
# one by one (what the MTP drafted, what the verify pass said, what was kept). Needs a GPU.
#
# Runs the engine (finale/14-deepseek/engine) on the hidden solutions in a mentor's checkout, on
# your own kernels in the student bundle. make demo-speculative; or with your own prompt and k:
# bash finale/14-deepseek/demo_speculative.sh "PROMPT" K
set -u
cd "$(dirname "$0")/../.."
prompt=${1:-Once upon a time}
k=${2:-3}
sol=0
[ -d solutions/finale/14-deepseek ] && sol=1
PROMPT=$prompt exec make --no-print-directory -s mini-gpu SOLUTION=$sol ARGS="--tokens 120 --speculative $k --trace 8"
