#!/usr/bin/env bash
# tests/fuzz/run.sh - run one libFuzzer harness for a while and print its figures.
# usage: tests/fuzz/run.sh DIR NAME SECONDS [LIBFUZZER-OPTION...]
#   DIR      the build directory holding fuzz_NAME and seed/ (build/fuzz)
#   NAME     lex, parse, compile or exec
# The corpus grows in DIR/corpus/NAME, crashes land in DIR/artifacts/NAME-*,
# the whole log in DIR/NAME.log. Inputs in tests/fuzz/regress/ (each once
# crashed a harness) are replayed first. exec runs in fork mode: an input that
# loops past the time limit or runs out of memory is logged, not fatal
# (every program may legitimately loop or allocate); fork mode skips seeds
# that crash, so the seeds are first run once on their own.
set -u
[ $# -ge 3 ] || { echo "usage: $0 DIR NAME SECONDS [OPTION...]" >&2; exit 2; }
dir=$1 name=$2 secs=$3
shift 3
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd) || exit 2
bin=$dir/fuzz_$name
log=$dir/$name.log
mkdir -p "$dir/corpus/$name" "$dir/artifacts"
: >"$log"

opts=(-dict="$root/tests/fuzz/aio.dict" -max_len=16384 -rss_limit_mb=2560
      -artifact_prefix="$dir/artifacts/$name-" -print_final_stats=1)

# Every input that once crashed a harness (tests/fuzz/regress/) first.
# FUZZ_SKIP_REGRESS=1 skips them (to go on fuzzing while one is unfixed).
regress=("$root"/tests/fuzz/regress/*)
if [ -e "${regress[0]}" ] && [ "${FUZZ_SKIP_REGRESS:-0}" != 1 ]; then
    for input in "${regress[@]}"; do
        if ! "$bin" -timeout=30 -runs=1 "$input" >>"$log" 2>&1; then
            echo "fuzz: $name: regression input $input fails:" >&2
            grep -E 'ERROR|runtime error|SUMMARY' "$log" | tail -n 5 >&2
            exit 1
        fi
    done
fi
if [ "$name" = exec ]; then
    # (leaks are left to the compile harness and make valgrind)
    if ! ASAN_OPTIONS=detect_leaks=0 "$bin" "${opts[@]}" -timeout=30 -detect_leaks=0 -runs=0 \
            "$dir/seed" >>"$log" 2>&1; then
        echo "fuzz: $name: a seed fails on its own:" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
    opts+=(-fork=1 -ignore_timeouts=1 -ignore_ooms=1 -timeout=5)
else
    opts+=(-timeout=10)
fi

echo "fuzz: $name for $secs s"
start=$(date +%s)
"$bin" "${opts[@]}" -max_total_time="$secs" "$@" "$dir/corpus/$name" "$dir/seed" >>"$log" 2>&1
rc=$?
end=$(date +%s)
if [ "$rc" -ne 0 ]; then
    echo "fuzz: $name FAILED (exit $rc) after $((end - start)) s; log $log:" >&2
    grep -E 'ERROR|runtime error|SUMMARY|Test unit written|==[0-9]+==' "$log" | head -n 20 >&2
    exit 1
fi
# Final figures: the last status line (cov/ft/corpus) and the execution count.
last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
execs=$(printf '%s\n' "$last" | sed -E 's/^#([0-9]+).*/\1/')
echo "fuzz: $name ok: $execs executions in $((end - start)) s; $last"
