#!/usr/bin/env bats
# tests/cli.bats - the asyncrun command line: arguments, options, exit statuses,
# error formats and stream ordering. Run as `ASYNCRUN=/abs/path/asyncrun bats tests/cli.bats`.
# Where CPython's format is the reference (tracebacks, syntax errors) the
# expectation is produced by running python3 on the same file.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    common_setup
}

# Run a command with stdout and stderr kept exactly in $out and $err (bats
# 1.8's `run --separate-stderr` strips the leading spaces of $stderr), and its
# exit status in $status.
capture() {
    status=0
    "$@" >capture.out 2>capture.err </dev/null || status=$?
    out=$(cat capture.out)
    err=$(cat capture.err)
}

# Drop CPython 3.11's caret/tilde lines under traceback source lines
# (`    ~~^~~`); asyncrun is not required to print them.
strip_carets() {
    grep -v -E '^ *[~^]+ *$' || true
}

# python3's stderr for FILE, with its absolute path made relative again
# (python3 prints the main script's absolute path, asyncrun the path as given).
python_stderr() {
    python3 "$1" 2>&1 >/dev/null </dev/null | sed "s|\"$WORK/|\"|"
}

# --- running programs -------------------------------------------------------

@test "FILE runs the program and exits 0" {
    printf 'print("hello from a file")\n' > hello.aio
    run --separate-stderr "$ASYNCRUN" hello.aio
    [ "$status" -eq 0 ]
    [ "$output" = "hello from a file" ]
    [ -z "$stderr" ]
}

@test "FILE ARGS: sys.argv is [FILE, ARGS...]" {
    printf 'import sys\nprint(sys.argv)\nprint(len(sys.argv))\n' > argv.aio
    run --separate-stderr "$ASYNCRUN" argv.aio one "two words" ""
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "['argv.aio', 'one', 'two words', '']" ]
    [ "${lines[1]}" = "4" ]
}

@test "options after FILE belong to the program" {
    printf 'import sys\nprint(sys.argv)\n' > argv.aio
    run --separate-stderr "$ASYNCRUN" argv.aio --version -c x --clock=bogus
    [ "$status" -eq 0 ]
    [ "$output" = "['argv.aio', '--version', '-c', 'x', '--clock=bogus']" ]
}

@test "FILE given by a path keeps the path in sys.argv[0]" {
    mkdir -p sub/dir
    printf 'import sys\nprint(sys.argv[0])\n' > sub/dir/p.aio
    run --separate-stderr "$ASYNCRUN" sub/dir/p.aio
    [ "$status" -eq 0 ]
    [ "$output" = "sub/dir/p.aio" ]
}

@test "-c CODE runs the code with sys.argv[0] == '-c'" {
    run --separate-stderr "$ASYNCRUN" -c 'import sys
print(sys.argv)
print(6 * 7)' a b
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "['-c', 'a', 'b']" ]
    [ "${lines[1]}" = "42" ]
}

@test "-c without CODE is a usage error (status 2)" {
    run --separate-stderr "$ASYNCRUN" -c
    [ "$status" -eq 2 ]
    [ -n "$stderr" ]
}

@test "-c with an uncaught exception exits 1 with the error last" {
    run --separate-stderr "$ASYNCRUN" -c 'print("out")
1 / 0'
    [ "$status" -eq 1 ]
    [ "$output" = "out" ]
    [ "${stderr_lines[0]}" = "Traceback (most recent call last):" ]
    [ "${stderr_lines[-1]}" = "ZeroDivisionError: division by zero" ]
}

@test "- reads the program from stdin with sys.argv[0] == '-'" {
    run --separate-stderr "$ASYNCRUN" - x y <<'EOF'
import sys
print(sys.argv)
async def f():
    return "async ok"
import asyncio
loop = asyncio.new_event_loop()
print(loop.run_until_complete(f()))
EOF
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "['-', 'x', 'y']" ]
    [ "${lines[1]}" = "async ok" ]
}

@test "- with an uncaught exception exits 1 with the error last" {
    run --separate-stderr "$ASYNCRUN" - <<'EOF'
d = {}
d["nope"]
EOF
    [ "$status" -eq 1 ]
    [ "${stderr_lines[-1]}" = "KeyError: 'nope'" ]
}

# --- options ------------------------------------------------------------------

@test "--version prints 'asyncrun X.Y.Z' and exits 0" {
    run --separate-stderr "$ASYNCRUN" --version
    [ "$status" -eq 0 ]
    [[ "$output" =~ ^asyncrun\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "-h and --help print usage on stdout, mentioning every option, exit 0" {
    for opt in -h --help; do
        run --separate-stderr "$ASYNCRUN" "$opt"
        [ "$status" -eq 0 ]
        [ -z "$stderr" ]
        [[ "$output" == *[Uu]sage* ]]
        for word in -c --clock --disasm --version --help -h; do
            [[ "$output" == *"$word"* ]] || { echo "usage lacks $word"; return 1; }
        done
        [[ "$output" == *real* && "$output" == *virtual* ]]
    done
}

@test "an unknown option prints usage on stderr and exits 2" {
    printf 'print("must not run")\n' > p.aio
    for opt in --bogus -Z; do
        run --separate-stderr "$ASYNCRUN" "$opt" p.aio
        [ "$status" -eq 2 ]
        [ -z "$output" ]
        [[ "$stderr" == *[Uu]sage* ]]
    done
}

@test "--clock accepts real and virtual; any other value exits 2" {
    printf 'print("ran")\n' > p.aio
    run --separate-stderr "$ASYNCRUN" --clock=real p.aio
    [ "$status" -eq 0 ]
    [ "$output" = "ran" ]
    run --separate-stderr "$ASYNCRUN" --clock=virtual p.aio
    [ "$status" -eq 0 ]
    [ "$output" = "ran" ]
    for bad in --clock=fast --clock= --clock; do
        run --separate-stderr "$ASYNCRUN" "$bad" p.aio
        [ "$status" -eq 2 ]
        [ -z "$output" ]
        [[ "$stderr" == *[Uu]sage* ]]
    done
}

@test "--clock=virtual: sleep(100) returns at once and advances loop.time() by exactly 100" {
    cat > sleepy.aio <<'EOF'
import asyncio
async def main(loop):
    t0 = loop.time()
    await asyncio.sleep(100)
    print(loop.time() - t0, loop.time() == t0 + 100)
    loop.call_later(2.5, print, "timer at", 102.5)
    await asyncio.sleep(3)
    print(loop.time() - t0)
loop = asyncio.new_event_loop()
print("start", loop.time())
loop.run_until_complete(main(loop))
EOF
    SECONDS=0
    run --separate-stderr timeout 20 "$ASYNCRUN" --clock=virtual sleepy.aio
    [ "$status" -eq 0 ]
    [ "$SECONDS" -lt 10 ]
    [ "${lines[0]}" = "start 0.0" ]
    [ "${lines[1]}" = "100.0 True" ]
    [ "${lines[2]}" = "timer at 102.5" ]
    [ "${lines[3]}" = "103.0" ]
}

@test "--clock=real really waits" {
    cat > real.aio <<'EOF'
import asyncio
async def main(loop):
    t0 = loop.time()
    await asyncio.sleep(0.2)
    print(loop.time() - t0 >= 0.19)
loop = asyncio.new_event_loop()
loop.run_until_complete(main(loop))
EOF
    run --separate-stderr "$ASYNCRUN" --clock=real real.aio
    [ "$status" -eq 0 ]
    [ "$output" = "True" ]
}

@test "--disasm prints every code object's bytecode and does not run the program" {
    cat > prog.aio <<'EOF'
import asyncio
total = 12344
total += 1
print("ran", total)

def helper(x):
    return x + 1


async def worker(n):
    await asyncio.sleep(0)
    return helper(n)

def outer():
    def inner_fn():
        return "inner"
    return inner_fn
EOF
    run --separate-stderr "$ASYNCRUN" --disasm prog.aio
    [ "$status" -eq 0 ]
    # Constants may show up in the listing, but not the printed "ran 12345".
    [[ "$output" != *12345* ]]
    [[ "$stderr" != *12345* ]]
    local headers fn
    headers=$(printf '%s\n' "$output" | grep -c '^Disassembly of ')
    [ "$headers" -eq 5 ]
    printf '%s\n' "$output" | grep -q '^Disassembly of <module>'
    for fn in helper worker outer inner_fn; do
        printf '%s\n' "$output" | grep -q "^Disassembly of .*$fn" ||
            { echo "no header for $fn"; return 1; }
    done
    [[ "$output" == *LOAD_CONST* ]]
    [[ "$output" == *RETURN_VALUE* ]]
    # Opcode names are upper case.
    printf '%s\n' "$output" | grep -q -E '\b[A-Z]+_[A-Z_]+\b'
    # Line numbers: lines 7 and 13 hold code (return x + 1, return helper(n)).
    printf '%s\n' "$output" | grep -q -E '(^|[^0-9.])7([^0-9.]|$)'
    printf '%s\n' "$output" | grep -q -E '(^|[^0-9.])13([^0-9.]|$)'
}

@test "--disasm of a missing file exits 2" {
    run --separate-stderr "$ASYNCRUN" --disasm missing.aio
    [ "$status" -eq 2 ]
    [ -z "$output" ]
}

# --- errors -------------------------------------------------------------------

@test "a missing file: message on stderr, status 2" {
    capture "$ASYNCRUN" x.aio
    [ "$status" -eq 2 ]
    [ -z "$out" ]
    [ "$err" = "asyncrun: can't open file 'x.aio': No such file or directory" ]
}

@test "an uncaught exception prints a traceback on stderr and exits 1" {
    printf 'print("before")\ndef f():\n    return 1 / 0\nf()\nprint("after")\n' > err.aio
    capture "$ASYNCRUN" err.aio
    [ "$status" -eq 1 ]
    [ "$out" = "before" ]
    local got
    got=$(printf '%s\n' "$err" | strip_carets)
    [ "$got" = 'Traceback (most recent call last):
  File "err.aio", line 4, in <module>
    f()
  File "err.aio", line 3, in f
    return 1 / 0
ZeroDivisionError: division by zero' ]
}

@test "traceback matches python3's (carets aside) through nested calls" {
    need_python311
    cat > deep.aio <<'EOF'
def a(d):
    return d["missing"]

def b(d):
    x = 1
    return a(d) + x

def c():
    return b({"present": 1})

print("start")
c()
EOF
    capture "$ASYNCRUN" deep.aio
    [ "$status" -eq 1 ]
    [ "$out" = "start" ]
    local want got
    want=$(python_stderr deep.aio | strip_carets)
    got=$(printf '%s\n' "$err" | strip_carets)
    diff <(echo "$want") <(echo "$got")
}

@test "traceback of an exception raised in a coroutine ends with the error" {
    cat > coro.aio <<'EOF'
import asyncio
async def inner():
    raise ValueError("from the coroutine")
async def main():
    await inner()
loop = asyncio.new_event_loop()
loop.run_until_complete(main())
EOF
    run --separate-stderr "$ASYNCRUN" coro.aio
    [ "$status" -eq 1 ]
    [ "${stderr_lines[0]}" = "Traceback (most recent call last):" ]
    [[ "$stderr" == *'  File "coro.aio", line 7, in <module>'* ]]
    [[ "$stderr" == *'  File "coro.aio", line 5, in main'* ]]
    [[ "$stderr" == *'  File "coro.aio", line 3, in inner'* ]]
    [[ "$stderr" == *'    raise ValueError("from the coroutine")'* ]]
    [ "${stderr_lines[-1]}" = "ValueError: from the coroutine" ]
}

@test "a syntax error: file, line, source, caret, message; nothing runs; status 1" {
    printf 'print("start")\ny = 1\nx = = 2\nprint("end")\n' > bad.aio
    capture "$ASYNCRUN" bad.aio
    [ "$status" -eq 1 ]
    [ -z "$out" ]
    [ "$err" = '  File "bad.aio", line 3
    x = = 2
        ^
SyntaxError: invalid syntax' ]
}

@test "syntax errors are printed as python3 prints them" {
    need_python311
    local syn_n=0 src f
    for src in 'x = = 2' '1 +* 2' 'x = 1 +' 'def f(:' 'a b c' 'x = 5 6' \
               'def g():\n        y = = 3' 'if True:\n    z = 1 +* 2'; do
        syn_n=$((syn_n + 1))
        printf "print('must not run')\n$src\n" > "syn$syn_n.aio"
    done
    for f in syn*.aio; do
        capture "$ASYNCRUN" "$f"
        [ "$status" -eq 1 ] || { echo "$f: status $status"; return 1; }
        [ -z "$out" ]
        diff <(python_stderr "$f") capture.err ||
            { echo "$f differs:"; cat "$f"; return 1; }
    done
}

# --- streams ------------------------------------------------------------------

@test "stdout printed before an error comes first on a shared pipe" {
    printf 'print("line one")\nprint("line two", end="")\nprint()\n1 / 0\n' > order.aio
    run bash -c '"$0" order.aio 2>&1 | cat' "$ASYNCRUN"
    [ "${lines[0]}" = "line one" ]
    [ "${lines[1]}" = "line two" ]
    [ "${lines[2]}" = "Traceback (most recent call last):" ]
    [ "${lines[-1]}" = "ZeroDivisionError: division by zero" ]
}

@test "stdout and stderr interleave in program order when redirected to one file" {
    cat > cb.aio <<'EOF'
import asyncio
def bad():
    print("callback starts")
    1 / 0
async def main(loop):
    print("main starts")
    loop.call_soon(bad)
    await asyncio.sleep(0.01)
    print("main ends")
loop = asyncio.new_event_loop()
loop.run_until_complete(main(loop))
EOF
    "$ASYNCRUN" cb.aio > both.txt 2>&1
    run cat both.txt
    [ "${lines[0]}" = "main starts" ]
    [ "${lines[1]}" = "callback starts" ]
    [[ "${lines[2]}" == "Exception in callback "* ]]
    [ "${lines[-1]}" = "main ends" ]
    grep -q '^ZeroDivisionError: division by zero$' both.txt
}

@test "stdout is not lost when it is a pipe or a file, even when the program fails" {
    cat > many.aio <<'EOF'
i = 0
while i < 20000:
    print("line", i)
    i += 1
print("last line", end="")
x = {}["boom"]
EOF
    "$ASYNCRUN" many.aio > out.txt 2> err.txt && return 1
    [ "$(wc -l < out.txt)" -eq 20000 ]
    [ "$(tail -c 9 out.txt)" = "last line" ]
    [ "$(tail -n 1 err.txt)" = "KeyError: 'boom'" ]
    run bash -c '"$0" many.aio 2>/dev/null | wc -l' "$ASYNCRUN"
    [ "$output" -eq 20000 ]
    run bash -c '"$0" many.aio 2>/dev/null | tail -n 2' "$ASYNCRUN"
    [ "${lines[0]}" = "line 19999" ]
    [ "${lines[1]}" = "last line" ]
}

@test "stdout reaches a file on normal exit without a trailing newline" {
    printf 'print("a")\nprint("b", end="")\n' > p.aio
    "$ASYNCRUN" p.aio > out.txt
    [ "$(od -An -c out.txt | tr -d ' \n')" = 'a\nb' ]
}

# --- the tutorial -------------------------------------------------------------

@test "the six tutorial programs print their golden output" {
    run "$REPO/tests/golden.sh" "$ASYNCRUN" scripts/tutorial/
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = "golden: 6 passed, 0 failed" ]
}

@test "tutorial 05 (call_later) prints its callbacks in deadline order" {
    run --separate-stderr "$ASYNCRUN" "$REPO/scripts/tutorial/05_call_later.aio"
    [ "$status" -eq 0 ]
    [ "$output" = "$(cat "$REPO/scripts/tutorial/05_call_later.out")" ]
}

@test "objects dying unreported mid-run are reported at the next collection, in place, as CPython" {
    need_python311
    cat > mid.aio <<'PY'
import asyncio


async def foo():
    pass


async def main():
    print("before")
    foo()
    junk = "x" * 8000000  # a collection at the next call
    print("mid", len(junk))
    f = asyncio.get_running_loop().create_future()
    f.set_exception(KeyError("k"))
    del f
    junk = "y" * 8000000
    print("after", len(junk))


asyncio.run(main())
PY
    expected=$(python3 -u "$WORK/mid.aio" 2>&1)
    run "$ASYNCRUN" "$WORK/mid.aio"
    [ "$status" -eq 0 ]
    [ "$output" = "$expected" ]
    [ "${lines[1]}" = "$WORK/mid.aio:10: RuntimeWarning: coroutine 'foo' was never awaited" ]
}

@test "a never-awaited warning shows once per place and coroutine, as CPython's default filter" {
    need_python311
    cat > dup.aio <<'PY'
async def foo(n):
    return n


async def bar():
    pass


for i in range(3):
    foo(i)
    bar()
foo(9)
print("end")
PY
    # (CPython warns as each coroutine dies, asyncrun when it collects: the
    # warnings match, their place among the output lines need not)
    expected=$(python3 "$WORK/dup.aio" 2>&1 >/dev/null)
    capture "$ASYNCRUN" "$WORK/dup.aio"
    [ "$status" -eq 0 ]
    [ "$out" = "end" ]
    [ "$err" = "$expected" ]
    [ "$(grep -c RuntimeWarning: <<<"$err")" -eq 6 ]
}
