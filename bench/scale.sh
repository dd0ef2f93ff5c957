#!/usr/bin/env bash
# bench/scale.sh - the scaling curve: cost per timer and per task, and memory
# per task, at 10k, 100k and 1M.
#
# usage: bench/scale.sh [--runs R] [--sizes "N1 N2 ..."] [--max N]
#                       [--timeout S] [BINARY]
#
#   BINARY       the asyncrun to measure (default: build/asyncrun of this tree)
#   --runs R     runs of each measurement; medians are shown (default 3)
#   --sizes L    the sizes, space- or comma-separated (default "10000 100000 1000000")
#   --max N      skip sizes above N (for a machine short of memory); sizes
#                whose tasks would not fit in MemAvailable are skipped anyway,
#                with a note (estimate: 2 KiB per task + 64 MiB)
#   --timeout S  a run taking longer than S seconds fails (default 300)
#
# Workloads (the same files as bench/run.sh):
#   timers  bench/timers.aio N: N loop.call_later callbacks, delays in [0, 5] ms,
#           ~10% cancelled
#   tasks   bench/spawn.aio N: N tasks, all asleep at once (asyncio.sleep(0.01)),
#           gathered
# Both also run with N = 1 (the baseline): start-up, `import asyncio` and the
# fixed sleep. Output columns, per N:
#   timer ns/op  (median wall(timers N) - median wall(timers 1)) / N
#   task ns/op   (median wall(spawn N) - median wall(spawn 1)) / N
#   RSS MiB      peak RSS of spawn N (largest over the runs)
#   bytes/task   (RSS(spawn N) - RSS(spawn 1)) / N: the memory a sleeping task
#                costs (coroutine + task + timer + its slot in gather's
#                result list), fixed costs cancelled out
# Every run must exit 0 and print a consistent checksum (spawn gathered N
# results; timers fired + cancelled = N).
#
# Exit status: 0 all passed, 1 a run failed, 2 bad usage.

set -u
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

usage() { sed -n '4,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "scale.sh: $*" >&2; exit 2; }

runs=3
sizes="10000 100000 1000000"
max=""
timeout_s=300
bin=""
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
        --runs=*) runs=${1#*=}; shift ;;
        --sizes) [ $# -ge 2 ] || usage; sizes=$2; shift 2 ;;
        --sizes=*) sizes=${1#*=}; shift ;;
        --max) [ $# -ge 2 ] || usage; max=$2; shift 2 ;;
        --max=*) max=${1#*=}; shift ;;
        --timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift 2 ;;
        --timeout=*) timeout_s=${1#*=}; shift ;;
        -h|--help) usage ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *) [ -z "$bin" ] || die "more than one BINARY"; bin=$1; shift ;;
    esac
done
sizes=${sizes//,/ }
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive integer, got '$runs'"
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "--timeout wants whole seconds, got '$timeout_s'"
[ -z "$max" ] || [[ $max =~ ^[0-9]+$ ]] || die "--max wants an integer, got '$max'"
for n in $sizes; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "bad size '$n'"; done
[ -n "$bin" ] || bin=$root/build/asyncrun
[ -x "$bin" ] || die "no executable '$bin' (run make first)"

bench_init
tmp=$bench_tmp
status_all=0
notes=()

# measure WORKLOAD N: R runs; sets m_us (median wall us), m_kib (max peak RSS
# KiB), m_ok (1 if every run passed its check)
measure() {
    local w=$1 n=$2 r line us=() kib=()
    m_ok=1
    for ((r = 1; r <= runs; r++)); do
        run_once "$tmp/out" "$bin" "$here/$w.aio" "$n"
        line=$(checksum_of "$tmp/out")
        if [ "$r_rc" -ne 0 ] || ! check "$w" "$n" "$line"; then
            if [ "$r_rc" -eq 124 ]; then
                notes+=("$w $n: timed out after $timeout_s s")
            else
                notes+=("$w $n: exit $r_rc, '$line' $(tail -n 2 "$tmp/out.err" | tr '\n' ' ')")
            fi
            m_ok=0; status_all=1
            break
        fi
        us+=("$r_us"); kib+=("$r_kib")
    done
    if [ $m_ok = 1 ]; then
        m_us=$(median "${us[@]}"); m_kib=$(maxof "${kib[@]}")
    else
        m_us=0; m_kib=0
    fi
}

# check WORKLOAD N LINE: the checksum line is consistent with N
check() {
    local f
    read -r -a f <<< "$3"
    case "$1" in
        # checksum spawn n=N ops=N LEN SUM
        spawn) [ "${f[2]:-}" = "n=$2" ] && [ "${f[4]:-}" = "$2" ] ;;
        # checksum timers n=N ops=N CANCELLED FIRED SUM
        timers) [ "${f[2]:-}" = "n=$2" ] && [[ ${f[4]:-x}${f[5]:-x} =~ ^[0-9]+$ ]] &&
                [ $(( f[4] + f[5] )) -eq "$2" ] ;;
    esac
}

avail_kib=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo 2>/dev/null)
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
echo "# asyncrun scale  $(date '+%Y-%m-%d %H:%M:%S')  $(uname -m), $(nproc 2>/dev/null || echo '?') cores, load $load, MemAvailable ${avail_kib:-?} KiB"
echo "# binary: $bin   runs: $runs (median wall time minus the N=1 baseline, max RSS)"

measure timers 1; t_base=$m_us; t_base_ok=$m_ok
measure spawn 1; s_base=$m_us; s_base_kib=$m_kib; s_base_ok=$m_ok
secs() { [ "$2" = 1 ] && awk -v u="$1" 'BEGIN { printf "%.3f s", u / 1e6 }' || echo FAIL; }
echo "# baseline (N=1): timers $(secs "$t_base" $t_base_ok), spawn $(secs "$s_base" $s_base_ok)," \
    "$(awk -v k="$s_base_kib" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
printf '%9s %12s %12s %9s %11s\n' N 'timer ns/op' 'task ns/op' 'RSS MiB' bytes/task

for n in $sizes; do
    if [ -n "$max" ] && [ "$n" -gt "$max" ]; then
        notes+=("N=$n skipped: above --max $max")
        continue
    fi
    if [ -n "$avail_kib" ] && [ $(( n * 2 + 65536 )) -gt "$avail_kib" ]; then
        notes+=("N=$n skipped: ~$(( (n * 2 + 65536) / 1024 )) MiB needed, $(( avail_kib / 1024 )) MiB available")
        continue
    fi
    tns=-; sns=-; mib=-; bpt=-
    measure timers "$n"
    [ $m_ok = 1 ] && [ $t_base_ok = 1 ] &&
        tns=$(awk -v u="$m_us" -v b="$t_base" -v n="$n" 'BEGIN { printf "%.1f", (u - b) * 1000 / n }')
    measure spawn "$n"
    if [ $m_ok = 1 ]; then
        mib=$(awk -v k="$m_kib" 'BEGIN { printf "%.1f", k / 1024 }')
        if [ $s_base_ok = 1 ]; then
            sns=$(awk -v u="$m_us" -v b="$s_base" -v n="$n" 'BEGIN { printf "%.1f", (u - b) * 1000 / n }')
            bpt=$(awk -v k="$m_kib" -v b="$s_base_kib" -v n="$n" 'BEGIN { printf "%.0f", (k - b) * 1024 / n }')
        fi
    fi
    printf '%9s %12s %12s %9s %11s\n' "$n" "$tns" "$sns" "$mib" "$bpt"
done

for note in "${notes[@]}"; do echo "# $note"; done
exit $status_all
