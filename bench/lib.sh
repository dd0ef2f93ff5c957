# bench/lib.sh - helpers shared by bench/run.sh and bench/scale.sh (sourced,
# not run): timing one command, medians. Needs bash >= 5 for $EPOCHREALTIME.
# shellcheck shell=bash disable=SC2034  # r_* and bench_tmp are for the caller

# bench_init: checks the tools and makes the scratch directory $bench_tmp
# (removed at exit). Dies with status 2 when something is missing.
bench_init() {
    [ "${BASH_VERSINFO[0]}" -ge 5 ] || { echo "${0##*/}: needs bash >= 5" >&2; exit 2; }
    [ -x /usr/bin/time ] || {
        echo "${0##*/}: /usr/bin/time (GNU time) is missing: apt-get install time" >&2; exit 2; }
    bench_tmp=$(mktemp -d "${TMPDIR:-/tmp}/asyncrun-bench.XXXXXX") || exit 2
    trap 'rm -rf "$bench_tmp"' EXIT
    bench_timeout=()
    command -v timeout >/dev/null 2>&1 && bench_timeout=(timeout "${timeout_s:-300}")
}

# run_once OUTFILE CMD... runs CMD with stdout to OUTFILE, stderr to
# OUTFILE.err, and sets r_us (wall time in microseconds, $EPOCHREALTIME around
# the call), r_kib (peak RSS from `/usr/bin/time -f '%e %M'`) and r_rc (exit
# status; 124 = timed out).
run_once() {
    local out=$1; shift
    local t0 t1
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%e %M' -o "$bench_tmp/time" "${bench_timeout[@]}" "$@" \
        >"$out" 2>"$out.err"
    r_rc=$?
    t1=$EPOCHREALTIME
    r_us=$(( 10#${t1//[.,]/} - 10#${t0//[.,]/} ))
    r_kib=$(awk 'END { print ($2 == "" ? 0 : $2) }' "$bench_tmp/time" 2>/dev/null)
    [ -n "$r_kib" ] || r_kib=0
}

# median NUMBER... / maxof NUMBER...
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }

# checksum_of FILE: its first `checksum ...` line; field_of LINE KEY: the
# number after ` KEY=` in LINE (n=, ops=).
checksum_of() { grep -m 1 '^checksum ' "$1" 2>/dev/null; }
field_of() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<< "$1"; }
