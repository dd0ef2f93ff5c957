#!/usr/bin/env bash
# tests/valgrind.sh - run every golden script under valgrind: no memory errors
# and no definitely lost blocks (other leak kinds are allowed: the collector
# frees everything at exit, but a script killed by sys.exit may keep some).
# Outputs are not compared here (tests/golden.sh does that); a script whose
# valgrind log reports an error fails, its log kept as NAME.valgrind.actual.
#
# usage: tests/valgrind.sh BIN [SUBSTRING...]
#   VALGRIND          the valgrind command (default below)
#   VALGRIND_JOBS     scripts run at once (default 2)
#   VALGRIND_TIMEOUT  seconds per script (default 300)
set -u
[ $# -ge 1 ] || { echo "usage: $0 BIN [SUBSTRING...]" >&2; exit 2; }
bin=$1
shift
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
[ -x "$bin" ] || { echo "valgrind: $bin: no such executable" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind: not installed" >&2; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || exit 2
cd "$root" || exit 2

export VG=${VALGRIND:-valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite}
export VG_TIMEOUT=${VALGRIND_TIMEOUT:-300}
export VG_BIN=$bin
jobs=${VALGRIND_JOBS:-2}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/valgrind.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
export VG_TMP=$tmp

# One script: prints "ok NAME" or "FAIL NAME: why".
check_one() {
    local script=$1 name=${1%.aio} flags=() log rc
    [ -f "$name.out" ] || flags=(--clock=virtual)
    log=$VG_TMP/$(printf '%s' "$script" | tr / _).log
    # shellcheck disable=SC2086
    timeout "$VG_TIMEOUT" $VG --log-file="$log" "$VG_BIN" "${flags[@]}" "$script" \
        </dev/null >/dev/null 2>&1
    rc=$?
    if [ "$rc" -eq 124 ]; then
        echo "FAIL $script: timed out after ${VG_TIMEOUT}s under valgrind"
        return
    fi
    if ! grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
        cp -- "$log" "$name.valgrind.actual"
        echo "FAIL $script: $(grep -m1 'ERROR SUMMARY' "$log") (log: $name.valgrind.actual)"
        grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|[0-9,]+ bytes in [0-9,]+ blocks are definitely)' \
            "$log" | head -n 5 | sed 's/^/  /'
        return
    fi
    rm -f -- "$name.valgrind.actual"
    echo "ok $script"
}
export -f check_one

mapfile -t scripts < <(find scripts -type f -name '*.aio' | LC_ALL=C sort)
selected=()
for s in "${scripts[@]}"; do
    if [ $# -eq 0 ]; then selected+=("$s"); continue; fi
    for pat in "$@"; do
        case $s in *"$pat"*) selected+=("$s"); break ;; esac
    done
done
[ "${#selected[@]}" -gt 0 ] || { echo "valgrind: no scripts selected" >&2; exit 2; }

printf '%s\n' "${selected[@]}" | xargs -P "$jobs" -I{} bash -c 'check_one "$1"' _ {} >"$tmp/results"
grep '^FAIL\|^  ' "$tmp/results"
passed=$(grep -c '^ok ' "$tmp/results")
failed=$(grep -c '^FAIL ' "$tmp/results")
echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
