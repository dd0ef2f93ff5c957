#!/usr/bin/env bash
# bench/run.sh - run the bench/*.aio workloads and print a timing table.
#
# usage: bench/run.sh [--runs R] [--only a,b,...] [--vs PYTHON] [--n NAME=N]...
#                     [--timeout S] [BINARY]
#
#   BINARY       the asyncrun to measure (default: build/asyncrun of this tree)
#   --runs R     runs of each workload; the table shows the median (default 3)
#   --only a,b   only these workloads (file names in bench/ without .aio)
#   --vs PYTHON  also run CPython (e.g. `--vs python3`) on the same files, first
#                in every round: adds its median time, the ratio
#                py/ar = python time / asyncrun time (higher = asyncrun faster)
#                and its RSS, and requires its checksum line to equal
#                asyncrun's. CPython runs as `sys.executable -S FILE N`: the
#                real binary rather than a pyenv shim (~70 ms of start-up per
#                run) and -S to skip site-packages .pth files (the workloads
#                use only asyncio, sys and time).
#   --n NAME=N   run workload NAME with size N instead of its default
#                (repeatable); without it each workload uses its own default
#   --timeout S  a run taking longer than S seconds fails (default 300)
#
# Each run goes through `/usr/bin/time -f '%e %M'` for its peak RSS; its wall
# time is bash's $EPOCHREALTIME around that call, so it includes process
# start-up (a few ms for asyncrun, ~80 ms for CPython, mostly `import asyncio`).
#
# Output (stdout), one row per workload as it finishes:
#   workload  name;  N  its size (first field n= of its checksum line)
#   ops       operations the workload performs (ops= of its checksum line;
#             what counts as one is in each .aio file's header comment)
#   wall s    median wall time;  ns/op  = wall s / ops (start-up included)
#   RSS MiB   largest peak RSS over the runs
#   status    ok | FAIL rc=X (non-zero exit) | TIMEOUT | UNSTABLE (the
#             checksum changed between runs) | MISMATCH (differs from CPython)
# then the details of every failure and, with --vs, the geometric mean of
# py/ar over the workloads that passed.
#
# Exit status: 0 all passed, 1 a run failed or a checksum differed, 2 bad usage.
# Needs bash >= 5 ($EPOCHREALTIME) and GNU time at /usr/bin/time.

set -u
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

# Plain code first, then the event-loop workloads; any other bench/*.aio after.
order="fib loop strings collections call_soon timers switch await_chain spawn queue gather_tree"

usage() { sed -n '3,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "run.sh: $*" >&2; exit 2; }

runs=3
only=""
vs=""
timeout_s=300
bin=""
declare -A size=()

while [ $# -gt 0 ]; do
    case "$1" in
        --runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
        --runs=*) runs=${1#*=}; shift ;;
        --only) [ $# -ge 2 ] || usage; only=$2; shift 2 ;;
        --only=*) only=${1#*=}; shift ;;
        --vs) [ $# -ge 2 ] || usage; vs=$2; shift 2 ;;
        --vs=*) vs=${1#*=}; shift ;;
        --n) [ $# -ge 2 ] || usage; kv=$2; shift 2
             [[ $kv == *=* ]] || die "--n wants NAME=N, got '$kv'"
             size[${kv%%=*}]=${kv#*=} ;;
        --timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift 2 ;;
        --timeout=*) timeout_s=${1#*=}; shift ;;
        -h|--help) usage ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *) [ -z "$bin" ] || die "more than one BINARY"; bin=$1; shift ;;
    esac
done

[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive integer, got '$runs'"
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "--timeout wants whole seconds, got '$timeout_s'"
for k in "${!size[@]}"; do
    [[ ${size[$k]} =~ ^[0-9]+$ ]] || die "--n $k= wants an integer"
done
[ -n "$bin" ] || bin=$root/build/asyncrun
[ -x "$bin" ] || die "no executable '$bin' (run make first)"

# The workload list: the fixed order, then anything else in bench/.
names=()
for n in $order; do [ -f "$here/$n.aio" ] && names+=("$n"); done
for f in "$here"/*.aio; do
    n=$(basename "$f" .aio)
    [[ " $order " == *" $n "* ]] || names+=("$n")
done
if [ -n "$only" ]; then
    IFS=, read -r -a want <<< "$only"
    for n in "${want[@]}"; do
        [ -f "$here/$n.aio" ] || die "no workload '$n' (bench/$n.aio)"
    done
    names=("${want[@]}")
fi
for k in "${!size[@]}"; do
    [ -f "$here/$k.aio" ] || die "--n: no workload '$k'"
done

py=""
if [ -n "$vs" ]; then
    py=$("$vs" -c 'import sys; print(sys.executable)' 2>/dev/null) || py=""
    [ -n "$py" ] || die "cannot run '$vs'"
fi

bench_init
tmp=$bench_tmp

# why OUTFILE: how the last run failed, for the failure list
why() {
    if [ "$r_rc" -eq 124 ]; then echo "timed out after $timeout_s s"
    elif [ "$r_rc" -ne 0 ]; then echo "exited $r_rc: $(tail -n 3 "$1.err" | tr '\n' ' ')"
    else echo "printed no checksum line"; fi
}

load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
echo "# asyncrun bench  $(date '+%Y-%m-%d %H:%M:%S')  $(uname -m), $(nproc 2>/dev/null || echo '?') cores, load $load"
echo "# binary: $bin   runs: $runs (median wall time, max RSS)"
[ -n "$py" ] && echo "# vs: $py -S  ($("$py" -S --version 2>&1))"
if [ -n "$py" ]; then
    printf '%-12s %9s %10s %8s %9s %8s %8s %7s %8s  %s\n' \
        workload N ops 'wall s' ns/op 'RSS MiB' 'py s' 'py/ar' 'py MiB' status
else
    printf '%-12s %9s %10s %8s %9s %8s  %s\n' workload N ops 'wall s' ns/op 'RSS MiB' status
fi

failures=()
ratios=()
status_all=0

for name in "${names[@]}"; do
    file=$here/$name.aio
    args=()
    [ -n "${size[$name]:-}" ] && args=("${size[$name]}")
    ar_us=(); ar_kib=(); py_us=(); py_kib=()
    status=ok
    ref=""      # asyncrun's checksum line of the first run
    pyref=""    # CPython's
    for ((r = 1; r <= runs; r++)); do
        if [ -n "$py" ]; then
            run_once "$tmp/py.out" "$py" -S "$file" "${args[@]}"
            line=$(checksum_of "$tmp/py.out")
            if [ "$r_rc" -ne 0 ] || [ -z "$line" ]; then
                [ "$r_rc" -eq 124 ] && st="python3 TIMEOUT" || st="python3 FAIL rc=$r_rc"
                [ "$status" = ok ] && status=$st
                failures+=("$name: python3 run $r $(why "$tmp/py.out")")
            else
                py_us+=("$r_us"); py_kib+=("$r_kib")
                [ -z "$pyref" ] && pyref=$line
            fi
        fi
        run_once "$tmp/ar.out" "$bin" "$file" "${args[@]}"
        line=$(checksum_of "$tmp/ar.out")
        if [ "$r_rc" -ne 0 ] || [ -z "$line" ]; then
            if [ "$r_rc" -eq 124 ]; then st=TIMEOUT; else st="FAIL rc=$r_rc"; fi
            [ "$status" = ok ] && status=$st
            failures+=("$name: asyncrun run $r $(why "$tmp/ar.out")")
            break
        fi
        ar_us+=("$r_us"); ar_kib+=("$r_kib")
        if [ -z "$ref" ]; then
            ref=$line
        elif [ "$line" != "$ref" ]; then
            [ "$status" = ok ] && status=UNSTABLE
            failures+=("$name: run $r printed '$line', run 1 '$ref'")
        fi
        if [ -n "$pyref" ] && [ "$line" != "$pyref" ] && [ "$status" = ok ]; then
            status=MISMATCH
            failures+=("$name: asyncrun '$line' but python3 '$pyref'")
        fi
    done
    [ "$status" = ok ] || status_all=1

    n=-; ops=-; wall=-; nsop=-; mib=-
    if [ ${#ar_us[@]} -gt 0 ]; then
        n=$(field_of "$ref" n); ops=$(field_of "$ref" ops)
        [ -n "$n" ] || n=-
        [ -n "$ops" ] || ops=-
        us=$(median "${ar_us[@]}")
        wall=$(awk -v u="$us" 'BEGIN { printf "%.3f", u / 1e6 }')
        [ "$ops" != - ] && [ "$ops" -gt 0 ] &&
            nsop=$(awk -v u="$us" -v o="$ops" 'BEGIN { printf "%.1f", u * 1000 / o }')
        mib=$(awk -v k="$(maxof "${ar_kib[@]}")" 'BEGIN { printf "%.1f", k / 1024 }')
    fi
    if [ -n "$py" ]; then
        pys=-; ratio=-; pymib=-
        if [ ${#py_us[@]} -gt 0 ]; then
            pus=$(median "${py_us[@]}")
            pys=$(awk -v u="$pus" 'BEGIN { printf "%.3f", u / 1e6 }')
            pymib=$(awk -v k="$(maxof "${py_kib[@]}")" 'BEGIN { printf "%.1f", k / 1024 }')
            if [ ${#ar_us[@]} -gt 0 ]; then
                ratio=$(awk -v p="$pus" -v a="$us" 'BEGIN { printf "%.2f", p / a }')
                [ "$status" = ok ] && ratios+=("$ratio")
            fi
        fi
        printf '%-12s %9s %10s %8s %9s %8s %8s %7s %8s  %s\n' \
            "$name" "$n" "$ops" "$wall" "$nsop" "$mib" "$pys" "$ratio" "$pymib" "$status"
    else
        printf '%-12s %9s %10s %8s %9s %8s  %s\n' "$name" "$n" "$ops" "$wall" "$nsop" "$mib" "$status"
    fi
done

if [ ${#failures[@]} -gt 0 ]; then
    echo "# failures:"
    for f in "${failures[@]}"; do echo "#   $f"; done
fi
if [ -n "$py" ]; then
    if [ ${#ratios[@]} -gt 0 ]; then
        printf '%s\n' "${ratios[@]}" | awk '{ s += log($1) } END {
            printf "# geomean py/ar: %.2f over %d workloads (higher = asyncrun faster)\n", exp(s / NR), NR }'
    else
        echo "# geomean py/ar: no workload passed on both"
    fi
fi
exit $status_all
