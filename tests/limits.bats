#!/usr/bin/env bats
# tests/limits.bats - limits instead of crashes: sources too deep to parse,
# invalid bytes in source, output flushed before errors, exit statuses.
# Run as `ASYNCRUN=/abs/path/asyncrun bats tests/limits.bats`. The inputs are
# generated here (some are megabytes); smaller bad programs with their
# expected output live in scripts/bad/ and run with the golden scripts.
# Where CPython rejects the same text the same way, its last stderr line is
# the expectation; where it runs out of memory instead (its parser says
# MemoryError), asyncrun's RecursionError is checked.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    common_setup
}

# Run FILE with asyncrun: $status, $out (stdout) and $last (last stderr line).
# A status of 128 or more (a signal: a crash) fails at once.
run_file() {
    status=0
    timeout 60 "$ASYNCRUN" "$@" >run.out 2>run.err </dev/null || status=$?
    out=$(cat run.out)
    last=$(tail -n 1 run.err)
    if [ "$status" -ge 124 ]; then
        echo "asyncrun $*: exit status $status (timeout or signal)" >&2
        tail -n 5 run.err >&2
        return 1
    fi
}

# The same file under python3: its last stderr line in $py_last.
python_last() {
    py_last=$(python3 "$1" 2>&1 >/dev/null </dev/null | tail -n 1)
}

# python3 -c PROGRAM > FILE (inputs too big to keep in the repository)
gen() {
    python3 -c "$1" >"$2"
}

@test "10000 nested parentheses: SyntaxError as CPython, no stack overflow" {
    need_python311
    gen "print('x = ' + '(' * 10000 + '1' + ')' * 10000)" deep.aio
    run_file deep.aio
    python_last deep.aio
    [ "$status" -eq 1 ]
    [ "$last" = "$py_last" ]
    [ "$last" = "SyntaxError: too many nested parentheses" ]
}

@test "10000 open brackets, never closed: SyntaxError" {
    need_python311
    gen "print('(' * 10000)" open.aio
    run_file open.aio
    python_last open.aio
    [ "$status" -eq 1 ]
    [ "$last" = "$py_last" ]
}

@test "80 nested juxtapositions a{b{b...: CPython's message, not exponential time" {
    need_python311
    gen "print('a' + '{b' * 80 + '}' * 80)" juxt.aio
    run_file juxt.aio
    python_last juxt.aio
    [ "$status" -eq 1 ]
    [ "$last" = "$py_last" ]
    [ "$last" = "SyntaxError: invalid syntax. Perhaps you forgot a comma?" ]
}

@test "5000 nested blocks: IndentationError as CPython" {
    need_python311
    gen "
for i in range(5000): print(' ' * i + 'if True:')
print(' ' * 5000 + 'pass')" blocks.aio
    run_file blocks.aio
    python_last blocks.aio
    [ "$status" -eq 1 ]
    [ "$last" = "$py_last" ]
    [ "$last" = "IndentationError: too many levels of indentation" ]
}

@test "100000 unary minus: RecursionError from the compiler, no stack overflow" {
    gen "print('x = ' + '-' * 100000 + '1')" minus.aio
    run_file minus.aio
    [ "$status" -eq 1 ]
    [ "$last" = "RecursionError: maximum recursion depth exceeded during compilation" ]
}

@test "100000-deep expression chains end in a clean error" {
    gen "print('x = ' + 'not ' * 100000 + '1')" not.aio
    gen "print('x = ' + '~' * 100000 + '1')" invert.aio
    gen "print('x = ' + '2 ** ' * 100000 + '1')" pow.aio
    gen "print('x = ' + 'lambda: ' * 100000 + '1')" lambda.aio
    gen "print('x = 1' + ' if 1 else 1' * 100000)" ifexp.aio
    for f in not invert pow lambda ifexp; do
        run_file $f.aio
        [ "$status" -eq 1 ]
        [ "$last" = "RecursionError: maximum recursion depth exceeded during compilation" ]
    done
}

@test "100000-long postfix and binary chains: RecursionError as CPython" {
    need_python311
    gen "print('x = ' + '1 + ' * 100000 + '1')" binop.aio
    gen "print('x = a' + '.b' * 100000)" attr.aio
    gen "print('x = a' + '[0]' * 100000)" subscript.aio
    gen "print('x = f' + '()' * 100000)" call.aio
    for f in binop attr subscript call; do
        run_file $f.aio
        python_last $f.aio
        [ "$status" -eq 1 ]
        [ "$last" = "$py_last" ]
    done
}

@test "long flat sources run: 100000 statements, comparisons, and-chains" {
    gen "print('x = 1\n' * 100000 + 'print(x)')" statements.aio
    gen "print('x = 1' + ' < 2' * 50000 + '\nprint(x)')" compare.aio
    gen "print('x = 1' + ' and 1' * 100000 + '\nprint(x)')" boolop.aio
    for f in statements compare boolop; do
        run_file $f.aio
        [ "$status" -eq 0 ]
    done
    run_file statements.aio
    [ "$out" = "1" ]
}

@test "70000-item list, tuple, set and dict displays run as in CPython" {
    need_python311
    gen "print('x = [' + '1, ' * 70000 + ']\\nprint(len(x))\\ny = (' + '2, ' * 70000 + ')\\nprint(len(y), y[-1])\\nz = {' + ', '.join(str(i) for i in range(70000)) + '}\\nprint(len(z))\\nd = {' + ', '.join(f'{i % 50}: {i}' for i in range(70000)) + '}\\nprint(len(d), d[3])')" big.aio
    run_file big.aio
    [ "$status" -eq 0 ]
    [ "$out" = "$(python3 big.aio)" ]
    [ "$out" = "70000
70000 2
70000
50 69953" ]
}

@test "invalid UTF-8 in source: SyntaxError with line and caret" {
    printf 'print("never")\nx = 1  # caf\xe9\n' > latin1.aio
    run_file latin1.aio
    [ "$status" -eq 1 ]
    [ "$out" = "" ]
    grep -q '^  File "latin1.aio", line 2$' run.err
    grep -q '^ *\^$' run.err
    [[ $last == "SyntaxError: (unicode error) 'utf-8' codec can't decode byte 0xe9"* ]]
}

@test "NUL byte in source: SyntaxError as CPython, with the line" {
    need_python311
    printf 'print("never")\nx = 1\0\n' > nul.aio
    run_file nul.aio
    python_last nul.aio
    [ "$status" -eq 1 ]
    [ "$out" = "" ]
    [ "$last" = "$py_last" ]
    grep -q '^  File "nul.aio", line 2$' run.err
}

@test "stdout printed before an error comes first through a pipe" {
    printf 'for i in range(3):\n    print("line", i)\nraise ValueError("after")\n' > order.aio
    combined=$("$ASYNCRUN" order.aio 2>&1 </dev/null | cat)
    expected="line 0
line 1
line 2
Traceback (most recent call last):
  File \"order.aio\", line 3, in <module>
    raise ValueError(\"after\")
ValueError: after"
    [ "$combined" = "$expected" ]
}

@test "200000 lines printed before an error all arrive through a pipe" {
    printf 'for i in range(200000):\n    print(i)\n1 / 0\n' > big.aio
    "$ASYNCRUN" big.aio 2>err.txt </dev/null | cat >out.txt || true
    [ "$(wc -l <out.txt)" -eq 200000 ]
    [ "$(tail -n 1 out.txt)" = "199999" ]
    [ "$(tail -n 1 err.txt)" = "ZeroDivisionError: division by zero" ]
}

@test "stdout before an error in a call_soon callback and after it, through a pipe" {
    cat > cb.aio <<'EOF'
import asyncio
def bad():
    print("in bad")
    raise ValueError("callback failed")
async def main():
    asyncio.get_running_loop().call_soon(bad)
    await asyncio.sleep(0)
    print("loop goes on")
asyncio.run(main())
EOF
    combined=$("$ASYNCRUN" cb.aio 2>&1 </dev/null | cat)
    [ "$(printf '%s\n' "$combined" | head -n 1)" = "in bad" ]
    [[ $(printf '%s\n' "$combined" | sed -n 2p) == "Exception in callback bad()"* ]]
    [ "$(printf '%s\n' "$combined" | tail -n 2 | head -n 1)" = "ValueError: callback failed" ]
    [ "$(printf '%s\n' "$combined" | tail -n 1)" = "loop goes on" ]
}

@test "sys.exit runs pending finally blocks and flushes stdout into a pipe" {
    printf 'import sys\ntry:\n    print("body")\n    sys.exit(3)\nfinally:\n    print("finally")\n' > ex.aio
    "$ASYNCRUN" ex.aio </dev/null | cat >out.txt
    status=${PIPESTATUS[0]}
    [ "$status" -eq 3 ]
    [ "$(cat out.txt)" = "body
finally" ]
}

@test "sys.exit in asyncio.run's main task: finally runs, its status, stderr empty as CPython" {
    need_python311
    cp "$REPO/tests/fuzz/regress/system_exit_in_main_task.aio" ex.aio
    status=0
    "$ASYNCRUN" ex.aio >out.txt 2>err.txt </dev/null || status=$?
    py_status=0
    python3 ex.aio >py_out.txt 2>py_err.txt </dev/null || py_status=$?
    [ "$status" -eq 5 ]
    [ "$py_status" -eq 5 ]
    [ "$(cat out.txt)" = "$(cat py_out.txt)" ]
    [ ! -s err.txt ]
    [ ! -s py_err.txt ]
}

@test "print into a closed pipe: BrokenPipeError at the print, status 1, as CPython (no SIGPIPE death)" {
    need_python311
    printf 'for i in range(1000000):\n    print(i)\n' > bp.aio
    "$ASYNCRUN" bp.aio 2>err.txt </dev/null | head -n 1 >out.txt
    status=${PIPESTATUS[0]}
    python3 bp.aio 2>py_err.txt </dev/null | head -n 1 >/dev/null
    py_status=${PIPESTATUS[0]}
    [ "$status" -eq 1 ]
    [ "$py_status" -eq 1 ]
    [ "$(cat out.txt)" = "0" ]
    [ "$(tail -n 1 err.txt)" = "$(tail -n 1 py_err.txt)" ]
    [ "$(tail -n 1 err.txt)" = "BrokenPipeError: [Errno 32] Broken pipe" ]
}

@test "every bad-input golden exits below 128 with its error on stderr" {
    n=0
    for script in "$REPO"/scripts/bad/*.aio; do
        name=${script%.aio}
        want=0
        [ -f "$name.rc" ] && want=$(cat "$name.rc")
        [ "$want" -lt 128 ]
        if [ "$want" -ne 0 ] && ! grep -q 'sys.exit(' "$script"; then
            # a failing script says what it expects on stderr
            grep -q '^# expect error: ' "$script"
        fi
        n=$((n + 1))
    done
    [ "$n" -ge 100 ]
}

@test "fuzzer regression inputs run without a crash, a hang or a sanitizer report" {
    shopt -s nullglob
    failed=0
    # (regress/fuel/ holds programs that end only under the exec harness's
    # instruction budget: tests/fuzz/run.sh replays them)
    for input in "$REPO"/tests/fuzz/regress/*; do
        [ -f "$input" ] || continue
        status=0
        timeout 20 "$ASYNCRUN" --clock=virtual "$input" >/dev/null 2>run.err </dev/null || status=$?
        if [ "$status" -ge 124 ]; then
            echo "${input#"$REPO"/}: exit status $status$([ "$status" -eq 124 ] && echo ' (timeout)')" >&2
            tail -n 3 run.err >&2
            failed=1
        fi
        # under the sanitizer build: no leak, no undefined behaviour
        if grep -q -e 'Sanitizer' -e 'runtime error:' run.err; then
            echo "${input#"$REPO"/}: $(grep -m1 -e 'Sanitizer' -e 'runtime error:' run.err)" >&2
            failed=1
        fi
    done
    [ "$failed" -eq 0 ]
}

@test "repr, == and hash of 100000-deep data built in a loop: RecursionError, no stack overflow" {
    cat > data.aio <<'EOF2'
x = []
y = []
t = ()
d = {}
for i in range(100000):
    x = [x]
    y = [y]
    t = (t,)
    d = {1: d}
for f in (lambda: repr(x), lambda: str(d), lambda: x == y, lambda: x < y,
          lambda: hash(t), lambda: x.count(y), lambda: f"{t}"):
    try:
        f()
        print("no error")
    except RecursionError as e:
        print("RecursionError")
print(repr(x))
EOF2
    run_file data.aio
    [ "$status" -eq 1 ]
    [ "$out" = "$(printf 'RecursionError\n%.0s' 1 2 3 4 5 6 7)" ]
    [ "$last" = "RecursionError: maximum recursion depth exceeded while getting the repr of an object" ]
}

@test "finished tasks are freed: 400000 awaited tasks run in 64 MB of address space" {
    # The sanitizer build reserves terabytes of shadow memory: no ulimit there.
    if grep -q __asan_init "$ASYNCRUN"; then skip "AddressSanitizer build"; fi
    cat >many_tasks.aio <<'PY'
import asyncio
async def one(i):
    await asyncio.sleep(0)
    return i
async def main():
    total = 0
    for i in range(400000):
        total += await asyncio.create_task(one(i))
    print(total, len(asyncio.all_tasks()))
asyncio.run(main())
PY
    status=0
    out=$(ulimit -v 65536 && timeout 60 "$ASYNCRUN" many_tasks.aio 2>&1) || status=$?
    [ "$status" -eq 0 ] || { echo "$out" >&2; return 1; }
    [ "$out" = "79999800000 1" ]
}
