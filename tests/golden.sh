#!/usr/bin/env bash
# tests/golden.sh - run every scripts/**/*.aio and compare with its goldens.
# Goldens come from CPython, never by hand (STYLE.md "Golden tests"):
#   NAME.out          expected stdout, exact bytes (real clock)
#   NAME.shape        marker: compare NAME.out with every number masked
#   NAME.rc           expected exit status (absent: 0)
#   NAME.virtual.out  expected stdout of `BIN --clock=virtual NAME.aio`, exact
#   `# expect error: E: msg` in the script: expected last line of stderr
# A script with only NAME.virtual.out (it prints loop times) runs only on the
# virtual clock. On failure the actual output is kept beside the expected one
# as NAME.out.actual / NAME.virtual.out.actual (stderr as NAME.err.actual /
# NAME.virtual.err.actual); a passing script's stale .actual files are removed.
#
# usage: tests/golden.sh BIN [SUBSTRING...]
#   SUBSTRINGs restrict the run to scripts whose path contains one of them.
#   GOLDEN_TIMEOUT (seconds, default 10) bounds each run.

set -u

usage() {
    echo "usage: $0 BIN [SUBSTRING...]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
bin=$1
shift

# Resolve BIN against the caller's cwd before moving to the repo root.
case $bin in
    */*) ;;
    *) bin=$(command -v -- "$bin" 2>/dev/null || echo "$bin") ;;
esac
if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
    echo "golden: $bin: no such executable (build it first: make)" >&2
    exit 2
fi
case $bin in
    /*) ;;
    *) bin=$PWD/$bin ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || exit 2
cd "$root" || exit 2

timeout_s=${GOLDEN_TIMEOUT:-10}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/golden.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# Every number (digits with optional decimal point and exponent) becomes <N>.
mask_numbers() {
    LC_ALL=C sed -E 's/[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?/<N>/g' "$1"
}

passed=0
failed=0
fail_msgs=()   # the failures of the current script

fail() {
    fail_msgs+=("$1")
}

# run_one SCRIPT EXPECTED_OUT SHAPE EXPECTED_RC EXPECTED_ERR LABEL [FLAG...]
# Runs BIN [FLAG...] SCRIPT, checks stdout, exit status and last stderr line;
# keeps the actual stdout/stderr as EXPECTED_OUT.actual / ERRFILE on failure.
run_one() {
    local script=$1 want_out=$2 shape=$3 want_rc=$4 want_err=$5 label=$6
    shift 6
    local out=$tmp/out err=$tmp/err rc ok=1 errkeep
    errkeep=${want_out%.out}.err.actual

    timeout "$timeout_s" "$bin" "$@" "$script" </dev/null >"$out" 2>"$err"
    rc=$?

    if [ "$rc" -eq 124 ]; then
        fail "FAIL $script$label: timed out after ${timeout_s}s"
        ok=0
    elif [ "$rc" -ne "$want_rc" ]; then
        local msg="FAIL $script$label: exit status $rc, expected $want_rc"
        [ -s "$err" ] && msg+=$'\n'$(tail -n 5 "$err" | sed 's/^/  stderr: /')
        fail "$msg"
        ok=0
    fi

    if [ "$shape" = 1 ]; then
        mask_numbers "$want_out" >"$tmp/want.masked"
        mask_numbers "$out" >"$tmp/out.masked"
        if ! cmp -s "$tmp/want.masked" "$tmp/out.masked"; then
            fail "FAIL $script$label: stdout differs (numbers masked, .shape)
$(diff -u --label "$want_out" --label "$want_out.actual" \
    "$tmp/want.masked" "$tmp/out.masked")"
            ok=0
        fi
    elif ! cmp -s "$want_out" "$out"; then
        fail "FAIL $script$label: stdout differs
$(diff -u --label "$want_out" --label "$want_out.actual" "$want_out" "$out")"
        ok=0
    fi

    if [ -n "$want_err" ]; then
        local last
        last=$(tail -n 1 "$err")
        if [ "$last" != "$want_err" ]; then
            fail "FAIL $script$label: last stderr line differs
  expected: $want_err
  actual:   $last"
            ok=0
        fi
    fi

    if [ "$ok" = 1 ]; then
        rm -f -- "$want_out.actual" "$errkeep"
    else
        cp -- "$out" "$want_out.actual"
        cp -- "$err" "$errkeep"
    fi
}

selected() {
    local path=$1 pat
    [ "${#filters[@]}" -eq 0 ] && return 0
    for pat in "${filters[@]}"; do
        case $path in *"$pat"*) return 0 ;; esac
    done
    return 1
}

filters=("$@")
mapfile -t scripts < <(find scripts -type f -name '*.aio' | LC_ALL=C sort)
if [ "${#scripts[@]}" -eq 0 ]; then
    echo "golden: no scripts/**/*.aio found under $root" >&2
    exit 2
fi

for script in "${scripts[@]}"; do
    selected "$script" || continue
    name=${script%.aio}
    fail_msgs=()

    want_rc=0
    if [ -f "$name.rc" ]; then
        want_rc=$(tr -d ' \t\r\n' <"$name.rc")
        case $want_rc in
            ''|*[!0-9]*) fail "FAIL $script: bad $name.rc: '$want_rc'"; want_rc=0 ;;
        esac
    fi
    want_err=$(sed -n -E 's/^[[:space:]]*# expect error: (.*[^[:space:]])[[:space:]]*$/\1/p' \
        "$script" | head -n 1)
    shape=0
    [ -f "$name.shape" ] && shape=1

    if [ ! -f "$name.out" ] && [ ! -f "$name.virtual.out" ]; then
        fail "FAIL $script: no golden ($name.out or $name.virtual.out)"
    fi
    if [ -f "$name.out" ]; then
        run_one "$script" "$name.out" "$shape" "$want_rc" "$want_err" ""
    else
        rm -f -- "$name.out.actual" "$name.err.actual"
    fi
    if [ -f "$name.virtual.out" ]; then
        run_one "$script" "$name.virtual.out" 0 "$want_rc" "$want_err" \
            " (--clock=virtual)" --clock=virtual
    else
        rm -f -- "$name.virtual.out.actual" "$name.virtual.err.actual"
    fi

    if [ "${#fail_msgs[@]}" -eq 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        printf '%s\n' "${fail_msgs[@]}"
    fi
done

echo "golden: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
