#!/usr/bin/env bats
# tests/repl.bats - the interactive session, piped (`asyncrun -i` over stdin)
# and on a real terminal (tmux), plus the rest of the command line: signals,
# shebang scripts, ASYNCRUN_CLOCK, --help, the man page and `make install`.
# Run as `ASYNCRUN=/abs/path/asyncrun bats tests/repl.bats`. Where python3 -i
# or python3 -m asyncio share a behaviour, the expectation comes from them.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    common_setup || return 1
    # never touch the real ~/.asyncrun_history
    export HOME=$WORK
    export ASYNCRUN_HISTORY=$WORK/history
    unset ASYNCRUN_CLOCK
}

teardown() {
    if [ -n "${TMUX_SOCK:-}" ]; then
        tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
    fi
}

# session FILE [ARGS...]: pipe FILE into `asyncrun -i -q ARGS`; stdout, stderr
# and status in $out, $err, $status.
session() {
    local input=$1
    shift
    status=0
    timeout 20 "$ASYNCRUN" -i -q "$@" <"$input" >session.out 2>session.err || status=$?
    out=$(cat session.out)
    err=$(cat session.err)
}

# --- piped sessions -----------------------------------------------------------

@test "piped -i: definitions, echo of values (not None), _ and calls" {
    cat > in.txt <<'EOF'
x = 6 * 7
x
None
print("printed")
_
def double(n):
    return n * 2

double(x)
_ + 1
'quoted'
[1, "two", (3,)]
EOF
    session in.txt
    [ "$status" -eq 0 ]
    [ "$out" = "42
printed
42
84
85
'quoted'
[1, 'two', (3,)]" ]
}

@test "piped -i: stdout and prompts on stderr match python3 -i" {
    need_python311
    cat > in.txt <<'EOF'
x = 3
x
for i in range(x):
    i * 10

if x > 2:
    print("big")
else:
    print("small")

class Box:
    def __init__(self, v):
        self.v = v
    def get(self):
        return self.v

Box(5).get()
y = [1,
     2,
     3]
y
s = """two
lines"""
s
_
# a comment
x = (x +
  # a comment inside brackets

  1)
x
EOF
    session in.txt
    python3 -q -i <in.txt >py.out 2>py.err
    [ "$status" -eq 0 ]
    diff session.out py.out
    diff session.err py.err
}

@test "piped -i: an incomplete block at end of input still runs, as python3 -i" {
    need_python311
    printf 'for c in "ab":\n    print(c)' > in.txt
    session in.txt
    python3 -q -i <in.txt >py.out 2>py.err
    [ "$status" -eq 0 ]
    [ "$out" = "a
b" ]
    diff session.out py.out
    diff session.err py.err
}

@test "piped -i: an error prints its traceback, then the session goes on with its state" {
    cat > in.txt <<'EOF'
kept = "still here"
def boom():
    return 1 / 0

boom()
print("after the error")
kept
undefined_name
kept
EOF
    session in.txt
    [ "$status" -eq 0 ]
    [ "$out" = "after the error
'still here'
'still here'" ]
    [[ "$err" == *"Traceback (most recent call last):"* ]]
    [[ "$err" == *'File "<stdin>", line 1, in <module>'* ]]
    [[ "$err" == *'File "<stdin>", line 2, in boom'* ]]
    [[ "$err" == *"ZeroDivisionError: division by zero"* ]]
    [[ "$err" == *"NameError: name 'undefined_name' is not defined"* ]]
}

@test "piped -i: syntax errors are shown with their caret as python3 -i shows them" {
    need_python311
    cat > in.txt <<'EOF'
x = = 1
print("ok")
if True:
    pass
y = 2
  indented
f(1))
print("end")
EOF
    session in.txt
    python3 -q -i <in.txt >py.out 2>py.err
    [ "$status" -eq 0 ]
    [ "$out" = "ok
end" ]
    diff session.out py.out
    diff session.err py.err
}

@test "piped -i: a blank line ends a block; a block with nothing in it is an error" {
    need_python311
    printf 'if True:\n\nprint("next")\n' > in.txt
    session in.txt
    python3 -q -i <in.txt >py.out 2>py.err
    [ "$out" = "next" ]
    diff session.out py.out
    diff session.err py.err
}

@test "piped -i: top-level await, with a task from an earlier line running meanwhile" {
    cat > in.txt <<'EOF'
async def later(msg, delay):
    await asyncio.sleep(delay)
    print(msg)
    return msg

t = asyncio.create_task(later("from the background task", 0.05))
print("task created")
await asyncio.sleep(0.1)
t.done()
t.result()
await later("awaited directly", 0)
_
r = await asyncio.gather(later("g1", 0.02), later("g2", 0.01))
r
EOF
    session in.txt
    [ "$status" -eq 0 ]
    [ "$out" = "task created
from the background task
True
'from the background task'
awaited directly
'awaited directly'
'awaited directly'
g2
g1
['g1', 'g2']" ]
    [[ "$err" != *Error* && "$err" != *Traceback* ]]
}

@test "piped -i: tasks keep running across prompts while later lines await" {
    cat > in.txt <<'EOF'
ticks = []
async def ticker():
    for i in range(3):
        await asyncio.sleep(0.03)
        ticks.append(i)
        print("tick", i)

t = asyncio.create_task(ticker())
ticks
await asyncio.sleep(0.05)
ticks
await t
ticks
EOF
    session in.txt
    [ "$status" -eq 0 ]
    [ "$out" = "[]
tick 0
[0]
tick 1
tick 2
[0, 1, 2]" ]
}

@test "piped -i: the tutorial's coroutine chain, adapted to top-level await" {
    cat > in.txt <<'EOF'
async def main():
    print("主协程")
    print("等待result1协程运行")
    res1 = await result1()
    print("等待result2协程运行")
    res2 = await result2(res1)
    return (res1,res2)

async def result1():
    print("这是result1协程")
    return "result1"

async def result2(arg):
    print("这是result2协程")
    return f"result2接收了一个参数,{arg}"

result = await main()
print(f"获取返回值:{result}")
EOF
    session in.txt
    [ "$status" -eq 0 ]
    [ "$out" = "$(grep -v 关闭事件循环 "$REPO/scripts/tutorial/03_coroutine_chain.out")" ]
}

@test "piped -i: asyncio is bound in a session without a program, as python3 -m asyncio" {
    printf 'asyncio.sleep\n' > in.txt
    session in.txt
    [ "$status" -eq 0 ]
    [[ "$out" == "<function sleep"* || "$out" == "<built-in function sleep"* ]]
}

@test "piped -i: end of input exits 0 after a newline on stderr, as python3 -i" {
    need_python311
    printf 'x = 1\n' > in.txt
    session in.txt
    [ "$status" -eq 0 ]
    [ "$err" = ">>> >>> " ]
    [ "$(tail -c 1 session.err | od -An -c | tr -d ' ')" = '\n' ]
    : > empty.txt
    session empty.txt
    [ "$status" -eq 0 ]
    python3 -q -i <empty.txt 2>py.err
    diff session.err py.err
}

@test "piped -i: exit(N) and sys.exit(...) end the session with their status" {
    printf 'print("before")\nexit(3)\nprint("never")\n' > in.txt
    session in.txt
    [ "$status" -eq 3 ]
    [ "$out" = "before" ]
    printf 'import sys\nsys.exit("bye")\n' > in.txt
    session in.txt
    [ "$status" -eq 1 ]
    [[ "$err" == *"bye" ]]
    printf 'quit()\n' > in.txt
    session in.txt
    [ "$status" -eq 0 ]
}

@test "the banner names the version and how to leave; -q drops it" {
    printf '1\n' > in.txt
    run --separate-stderr "$ASYNCRUN" -i <in.txt
    [ "$status" -eq 0 ]
    [ "$output" = "1" ]
    [[ "${stderr_lines[0]}" == "asyncrun "[0-9]*.[0-9]*.[0-9]* ]]
    [[ "$stderr" == *"Ctrl-D"* && "$stderr" == *"exit()"* ]]
    session in.txt
    [ "$err" = ">>> >>> " ]
}

@test "without -i, stdin that is not a terminal is one program: no prompts, no echo" {
    printf 'x = 5\nx\nprint(x)\n' > in.txt
    run --separate-stderr "$ASYNCRUN" <in.txt
    [ "$status" -eq 0 ]
    [ "$output" = "5" ]
    [ -z "$stderr" ]
}

@test "-i FILE runs the file, then a session in its globals; sys.argv[0] is FILE" {
    printf 'import sys\nname = "from the file"\nprint("file ran", sys.argv)\n' > prog.aio
    printf 'name\nsys.argv\n' > in.txt
    session in.txt prog.aio arg1
    [ "$status" -eq 0 ]
    [ "$out" = "file ran ['prog.aio', 'arg1']
'from the file'
['prog.aio', 'arg1']" ]
    [ "$err" = ">>> >>> >>> " ]
}

@test "-i FILE: the session starts even when the file fails, as python3 -i" {
    need_python311
    printf 'x = 1\n1 / 0\n' > fails.aio
    printf 'x\n' > in.txt
    session in.txt fails.aio
    python3 -q -i fails.aio <in.txt >py.out 2>py.err
    [ "$status" -eq 0 ]
    [ "$out" = "1" ]
    diff session.out py.out
    [[ "$err" == *"ZeroDivisionError: division by zero"* ]]
    [ "${err: -8}" = ">>> >>> " ]
    printf 'import sys\nsys.exit(4)\n' > exits.aio
    session in.txt exits.aio
    [ "$status" -eq 0 ]
    [[ "$err" == *"SystemExit: 4"* ]]
}

@test "-i -c CODE runs CODE, then the session" {
    printf 'y * 2\n' > in.txt
    session in.txt -c 'y = 21'
    [ "$status" -eq 0 ]
    [ "$out" = "42" ]
}

@test "piped -i: SIGINT while code runs raises KeyboardInterrupt in it; the session goes on" {
    mkfifo in.fifo
    "$ASYNCRUN" -i -q <in.fifo >session.out 2>session.err 3>&- &
    local pid=$!
    exec 8>in.fifo
    printf 'def spin():\n    while True:\n        pass\n\n' >&8
    printf 'print("spinning")\nspin()\n' >&8
    local i
    for i in $(seq 100); do grep -q spinning session.out && break; sleep 0.05; done
    sleep 0.2
    kill -INT "$pid"
    sleep 0.3
    printf 'print("alive")\n' >&8
    exec 8>&-
    wait "$pid"
    [ "$(sed -n 1p session.out)" = "spinning" ]
    [ "$(tail -n 1 session.out)" = "alive" ]
    grep -q '^KeyboardInterrupt$' session.err
    grep -q 'Traceback (most recent call last):' session.err
}

@test "piped -i: SIGINT at the prompt discards the pending lines" {
    mkfifo in.fifo
    "$ASYNCRUN" -i -q <in.fifo >session.out 2>session.err 3>&- &
    local pid=$!
    exec 8>in.fifo
    printf 'if True:\n    print("discarded")\n' >&8
    sleep 0.3
    kill -INT "$pid"
    sleep 0.2
    printf 'print("fresh")\n' >&8
    exec 8>&-
    wait "$pid"
    [ "$(cat session.out)" = "fresh" ]
    grep -q '^KeyboardInterrupt$' session.err
}

@test "piped -i: SIGINT during a top-level await interrupts the sleep" {
    mkfifo in.fifo
    "$ASYNCRUN" -i -q <in.fifo >session.out 2>session.err 3>&- &
    local pid=$!
    exec 8>in.fifo
    printf 'print("sleeping")\nawait asyncio.sleep(30)\n' >&8
    local i
    for i in $(seq 100); do grep -q sleeping session.out && break; sleep 0.05; done
    sleep 0.2
    local start=$SECONDS
    kill -INT "$pid"
    sleep 0.3
    printf 'print("awake")\n' >&8
    exec 8>&-
    wait "$pid"
    [ $((SECONDS - start)) -lt 10 ]
    [ "$(cat session.out)" = "sleeping
awake" ]
    grep -q 'KeyboardInterrupt$' session.err
}

@test "piped -i: after an interrupted await the next await still works" {
    mkfifo in.fifo
    "$ASYNCRUN" -i -q <in.fifo >session.out 2>session.err 3>&- &
    local pid=$!
    exec 8>in.fifo
    printf 'async def slow():\n    try:\n        await asyncio.sleep(30)\n    finally:\n        print("cleanup")\n\n' >&8
    printf 'print("go")\nawait slow()\n' >&8
    local i
    for i in $(seq 100); do grep -q go session.out && break; sleep 0.05; done
    sleep 0.2
    kill -INT "$pid"
    sleep 0.3
    printf 'await asyncio.sleep(0.01)\nprint("after")\nwhile True: pass\n\n' >&8
    sleep 0.5
    kill -INT "$pid"
    sleep 0.3
    printf 'await asyncio.sleep(0.01)\nprint("end")\n' >&8
    exec 8>&-
    wait "$pid"
    [ "$(cat session.out)" = "go
cleanup
after
end" ]
    ! grep -q RuntimeError session.err
}

# --- the command line -----------------------------------------------------------

@test "a script starting with #!/usr/bin/env asyncrun runs as an executable" {
    mkdir bin
    ln -s "$ASYNCRUN" bin/asyncrun
    printf '#!/usr/bin/env asyncrun\nimport sys\nprint("shebang ok", sys.argv[1:])\n' > script.aio
    chmod +x script.aio
    PATH="$WORK/bin:$PATH" run --separate-stderr ./script.aio a b
    [ "$status" -eq 0 ]
    [ "$output" = "shebang ok ['a', 'b']" ]
    run --separate-stderr "$ASYNCRUN" script.aio
    [ "$output" = "shebang ok []" ]
}

@test "ASYNCRUN_CLOCK=virtual is the default --clock; the option wins; a bad value exits 2" {
    cat > clock.aio <<'EOF'
import asyncio
async def main():
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await asyncio.sleep(100)
    print(loop.time() - t0)
asyncio.run(main())
EOF
    local start=$SECONDS
    ASYNCRUN_CLOCK=virtual run --separate-stderr timeout 10 "$ASYNCRUN" clock.aio
    [ "$status" -eq 0 ]
    [ "$output" = "100.0" ]
    [ $((SECONDS - start)) -lt 5 ]
    printf 'import asyncio\nasync def main():\n    await asyncio.sleep(0.3)\n    print("slept")\nasyncio.run(main())\n' > real.aio
    local t0
    t0=$(date +%s%N)
    ASYNCRUN_CLOCK=virtual run --separate-stderr "$ASYNCRUN" --clock=real real.aio
    [ "$status" -eq 0 ]
    [ "$output" = "slept" ]
    [ $(( ($(date +%s%N) - t0) / 1000000 )) -ge 250 ]
    ASYNCRUN_CLOCK=bogus run --separate-stderr "$ASYNCRUN" real.aio
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [[ "$stderr" == *bogus* ]]
}

@test "a Ctrl-C (SIGINT) in a script raises KeyboardInterrupt: traceback, then death by SIGINT" {
    cat > spin.aio <<'EOF'
print("started", flush=True)
while True:
    pass
EOF
    "$ASYNCRUN" spin.aio >out.txt 2>err.txt 3>&- &
    local pid=$! i
    for i in $(seq 100); do grep -q started out.txt && break; sleep 0.05; done
    kill -INT "$pid"
    local status=0
    wait "$pid" || status=$?
    [ "$status" -eq 130 ]
    [ "$(cat out.txt)" = "started" ]
    [ "$(tail -n 1 err.txt)" = "KeyboardInterrupt" ]
    [ "$(head -n 1 err.txt)" = "Traceback (most recent call last):" ]
}

@test "a Ctrl-C in a busy loop is raised inside it: try/finally and except see it" {
    cat > spin.aio <<'EOF'
print("started", flush=True)
try:
    try:
        while True:
            pass
    finally:
        print("finally ran")
except KeyboardInterrupt:
    print("caught")
EOF
    "$ASYNCRUN" spin.aio >out.txt 2>err.txt 3>&- &
    local pid=$! i
    for i in $(seq 100); do grep -q started out.txt && break; sleep 0.05; done
    kill -INT "$pid"
    local status=0
    wait "$pid" || status=$?
    [ "$status" -eq 0 ]
    [ "$(cat out.txt)" = "started
finally ran
caught" ]
    [ -z "$(cat err.txt)" ]
}

@test "a script can catch KeyboardInterrupt, and SIGINT cuts a long asyncio.sleep short" {
    cat > catch.aio <<'EOF'
import asyncio
async def main():
    print("sleeping", flush=True)
    await asyncio.sleep(60)
try:
    asyncio.run(main())
except KeyboardInterrupt:
    print("caught")
EOF
    "$ASYNCRUN" catch.aio >out.txt 2>err.txt 3>&- &
    local pid=$! i start=$SECONDS
    for i in $(seq 100); do grep -q sleeping out.txt && break; sleep 0.05; done
    sleep 0.1
    kill -INT "$pid"
    local status=0
    wait "$pid" || status=$?
    [ "$status" -eq 0 ]
    [ $((SECONDS - start)) -lt 10 ]
    [ "$(cat out.txt)" = "sleeping
caught" ]
}

@test "--help documents every option, the environment and the exit statuses" {
    run --separate-stderr "$ASYNCRUN" --help
    [ "$status" -eq 0 ]
    local word
    for word in " -c " " -i " " -q " " - " --clock=real --clock=virtual --disasm -V --version -h --help \
                ASYNCRUN_CLOCK ASYNCRUN_HISTORY "Exit status" 130 "sys.argv"; do
        [[ "$output" == *"$word"* ]] || { echo "help lacks '$word'"; return 1; }
    done
}

@test "man/asyncrun.1 documents the options and exit statuses and formats cleanly" {
    local page=$REPO/man/asyncrun.1
    [ -f "$page" ]
    local word
    for word in '\-c' '\-i' '\-q' '\-\-clock' '\-\-disasm' '\-\-version' '\-\-help' ASYNCRUN_CLOCK \
                ASYNCRUN_HISTORY asyncrun_history 'EXIT STATUS' 130 Ctrl-R; do
        grep -qF -- "$word" "$page" || { echo "man page lacks $word"; return 1; }
    done
    if command -v groff >/dev/null; then
        run groff -man -Tutf8 -ww -z "$page"
        [ "$status" -eq 0 ]
        [ -z "$output" ]
    fi
}

@test "make install puts the binary and the man page under DESTDIR/PREFIX" {
    command -v make >/dev/null || skip "make not installed"
    # the build directory of the binary under test; -o: install it as it is,
    # never rebuild it (with other flags) from here
    local build=${ASYNCRUN%/asyncrun}
    build=${build#"$REPO"/}
    [ "$build" != "$ASYNCRUN" ] || skip "ASYNCRUN is not a build of this repository"
    run make -s -C "$REPO" -o "$build/asyncrun" install BUILD="$build" DESTDIR="$WORK/stage" PREFIX=/opt/ar
    [ "$status" -eq 0 ]
    [ -x "$WORK/stage/opt/ar/bin/asyncrun" ]
    cmp "$REPO/man/asyncrun.1" "$WORK/stage/opt/ar/share/man/man1/asyncrun.1"
    run "$WORK/stage/opt/ar/bin/asyncrun" -c 'print("installed")'
    [ "$output" = "installed" ]
}

# --- the line editor, on a terminal (tmux) ------------------------------------------

# tmux_start [ARGS...]: asyncrun ARGS in a 60x20 terminal; the exit status
# shows as "[exit N]" when it ends.
tmux_start() {
    command -v tmux >/dev/null || skip "tmux not installed"
    TMUX_SOCK=$WORK/tmux.sock
    local cmd
    cmd=$(printf '%q ' env TERM=xterm ASYNCRUN_HISTORY="$ASYNCRUN_HISTORY" HOME="$HOME" "$ASYNCRUN" "$@")
    tmux -S "$TMUX_SOCK" -u -f /dev/null new-session -d -x "${TMUX_COLS:-60}" -y 20 \
        "$cmd; echo \"[exit \$?]\"; sleep 600"
    wait_for '>>>'
}

tm() { tmux -S "$TMUX_SOCK" "$@"; }
screen() { tm capture-pane -p; }
cursor() { tm display-message -p '#{cursor_x},#{cursor_y}'; }
# the screen row the cursor is on
cursor_line() { screen | sed -n "$(( $(tm display-message -p '#{cursor_y}') + 1 ))p"; }

# wait_for TEXT: until the screen shows TEXT (5 s at most)
wait_for() {
    local i
    for i in $(seq 100); do
        screen | grep -qF -- "$1" && return 0
        sleep 0.05
    done
    echo "timed out waiting for '$1'; the screen:"
    screen
    return 1
}

screen_line() { screen | sed -n "$1p"; }
count() { screen | grep -c -- "$1"; }

# keys KEY...: send keys to the terminal
keys() {
    tm send-keys "$@"
    sleep 0.05
}

# eventually WANT CMD...: until CMD prints WANT (3 s at most), as the editor
# redraws after the keys arrive
eventually() {
    local want=$1 got i
    shift
    for i in $(seq 60); do
        got=$("$@")
        [ "$got" = "$want" ] && return 0
        sleep 0.05
    done
    echo "$*: expected '$want', got '$got'; the screen:"
    screen
    return 1
}

@test "terminal: typing a line runs it; values echo; the banner shows" {
    tmux_start
    screen | grep -q '^asyncrun [0-9]'
    keys 'x = 6 * 7' Enter
    keys 'x' Enter
    wait_for '42'
    eventually 3 count '^>>>'
}

@test "terminal: cursor movement and editing in a Chinese string use display columns" {
    tmux_start -q
    keys 's = "中文"'
    # '>>> s = "' is 9 columns, each CJK character 2
    eventually "14,0" cursor
    keys Left
    eventually "13,0" cursor
    keys Left
    eventually "11,0" cursor
    keys X
    eventually "12,0" cursor
    eventually '>>> s = "中X文"' cursor_line
    keys Home
    eventually "4,0" cursor
    keys C-e
    eventually "15,0" cursor
    keys Left Left BSpace BSpace
    eventually '>>> s = "文"' cursor_line
    eventually "9,0" cursor
    keys C-a Right Right Right Right Right Right DC
    eventually '>>> s = "文' cursor_line
    keys '"' Enter 's' Enter
    wait_for "'文'"
    keys 'len("一二三")' Enter
    wait_for '3'
}

@test "terminal: a line wider than the terminal wraps, and the cursor follows it" {
    TMUX_COLS=20 tmux_start -q
    keys 's = "一二三四五六七八九十"'
    # 9 columns of '>>> s = "', five CJK characters fill 19; the sixth wraps
    eventually '>>> s = "一二三四五' screen_line 1
    eventually '六七八九十"' screen_line 2
    eventually "11,1" cursor
    keys Left Left Left Left Left Left
    eventually "0,1" cursor
    keys Left
    eventually "17,0" cursor
    keys Right X
    eventually '>>> s = "一二三四五X' screen_line 1
    keys End Enter 'len(s)' Enter
    wait_for '11'
}

@test "terminal: word moves and kills (Alt-B/F, Ctrl-W/K/U/Y)" {
    tmux_start -q
    keys 'alpha beta gamma'
    keys M-b
    eventually "15,0" cursor
    keys M-b M-b
    eventually "4,0" cursor
    keys M-f
    eventually "9,0" cursor
    keys C-k
    eventually ">>> alpha" cursor_line
    keys C-y
    eventually ">>> alpha beta gamma" cursor_line
    keys C-w
    eventually ">>> alpha beta" cursor_line
    eventually "15,0" cursor
    keys C-u
    eventually ">>>" cursor_line
    keys 'print("clean")' Enter
    wait_for 'clean'
}

@test "terminal: blocks continue with '... ', auto-indent after ':', a blank line runs them" {
    tmux_start -q
    keys 'for i in range(2):' Enter
    wait_for '...'
    eventually "8,1" cursor
    keys 'if i:' Enter
    eventually "12,2" cursor
    keys 'print("one")' Enter
    eventually "12,3" cursor
    keys BSpace
    eventually "8,3" cursor
    keys 'print("i", i)' Enter
    keys Enter
    wait_for 'i 1'
    eventually "i 0
one
i 1
>>>" screen_line 6,9
}

@test "terminal: up/down recall history; history persists in ASYNCRUN_HISTORY" {
    tmux_start -q
    keys 'first = 1' Enter
    keys 'second = 2' Enter
    keys Up
    eventually ">>> second = 2" cursor_line
    keys Up
    eventually ">>> first = 1" cursor_line
    keys Down
    eventually ">>> second = 2" cursor_line
    keys Down
    eventually ">>>" cursor_line
    keys Up Up C-e ' + 10' Enter 'first' Enter
    wait_for '11'
    keys C-d
    wait_for '[exit 0]'
    [ "$(cat "$ASYNCRUN_HISTORY")" = "first = 1
second = 2
first = 1 + 10
first" ]
    tm kill-server
    tmux_start -q
    keys Up Up
    eventually ">>> first = 1 + 10" cursor_line
}

@test "terminal: Ctrl-R searches the history backwards" {
    printf 'alpha = 1\nbeta = 2\nalphabet = 3\n' > "$ASYNCRUN_HISTORY"
    tmux_start -q
    keys C-r 'alp'
    eventually "(reverse-i-search)\`alp': alphabet = 3" cursor_line
    keys C-r
    eventually "(reverse-i-search)\`alp': alpha = 1" cursor_line
    keys Enter
    keys 'alpha' Enter
    wait_for '1'
    keys C-r 'zzz'
    eventually "(failed reverse-i-search)\`zzz':" cursor_line
    keys C-g
    eventually ">>>" cursor_line
}

@test "terminal: history keeps at most 1000 entries; ASYNCRUN_HISTORY='' keeps none" {
    seq -f 'old_%g = 0' 1 1200 > "$ASYNCRUN_HISTORY"
    tmux_start -q
    keys 'new_entry = 1' Enter C-d
    wait_for '[exit 0]'
    [ "$(wc -l < "$ASYNCRUN_HISTORY")" -eq 1000 ]
    [ "$(head -n 1 "$ASYNCRUN_HISTORY")" = "old_202 = 0" ]
    [ "$(tail -n 1 "$ASYNCRUN_HISTORY")" = "new_entry = 1" ]
    tm kill-server
    rm -f "$ASYNCRUN_HISTORY" "$HOME/.asyncrun_history"
    ASYNCRUN_HISTORY= tmux_start -q
    keys 'x = 1' Enter C-d
    wait_for '[exit 0]'
    [ ! -e "$ASYNCRUN_HISTORY" ]
    [ ! -e "$HOME/.asyncrun_history" ]
}

@test "terminal: without ASYNCRUN_HISTORY the history goes to ~/.asyncrun_history" {
    unset ASYNCRUN_HISTORY
    command -v tmux >/dev/null || skip "tmux not installed"
    TMUX_SOCK=$WORK/tmux.sock
    tmux -S "$TMUX_SOCK" -u -f /dev/null new-session -d -x 60 -y 20 \
        "env -u ASYNCRUN_HISTORY HOME=$(printf %q "$HOME") $(printf %q "$ASYNCRUN") -q; echo \"[exit \$?]\"; sleep 600"
    wait_for '>>>'
    keys 'home_line = 1' Enter C-d
    wait_for '[exit 0]'
    [ "$(cat "$HOME/.asyncrun_history")" = "home_line = 1" ]
}

@test "terminal: Tab completes keywords, builtins, globals and attributes, as python3" {
    tmux_start -q
    keys 'pri' Tab
    eventually ">>> print(" cursor_line
    keys C-u 'whi' Tab
    eventually ">>> while" cursor_line
    eventually "10,0" cursor
    keys C-u 'my_long_variable = 5' Enter
    keys 'my_lo' Tab
    eventually ">>> my_long_variable" cursor_line
    keys Enter
    wait_for '5'
    keys 'asyncio.sle' Tab
    eventually ">>> asyncio.sleep(" cursor_line
    keys C-u 'class K:' Enter '    def method_one(self): pass' Enter '    def method_two(self): pass' Enter Enter
    keys 'K.meth' Tab
    eventually ">>> K.method_" cursor_line
    keys Tab Tab
    wait_for 'method_one('
    screen | grep -q 'method_two('
    eventually ">>> K.method_" cursor_line
    keys 'two' Tab
    eventually ">>> K.method_two(" cursor_line
}

@test "terminal: Ctrl-C discards the line, interrupts running code, and the session goes on" {
    tmux_start -q
    keys 'kept = "yes"' Enter
    keys 'discard me' C-c
    wait_for 'KeyboardInterrupt'
    eventually 1 count '^>>> discard me^C$'
    keys 'while True: pass' Enter Enter
    sleep 0.3
    keys C-c
    wait_for 'Traceback'
    eventually 2 count '^KeyboardInterrupt$'
    keys 'kept' Enter
    wait_for "'yes'"
}

@test "terminal: Ctrl-D on an empty line leaves with status 0; elsewhere it deletes" {
    tmux_start -q
    keys 'abc' Left Left C-d
    eventually ">>> ac" cursor_line
    keys C-e C-u C-d
    wait_for '[exit 0]'
}

@test "terminal: Ctrl-L clears the screen and keeps the line" {
    tmux_start -q
    keys 'print("x" * 3)' Enter
    wait_for 'xxx'
    keys 'kept line' C-l
    eventually ">>> kept line" screen_line 1
    eventually "13,0" cursor
}

@test "terminal: output without a newline is not overwritten by the prompt" {
    tmux_start -q
    keys 'print("partial", end="")' Enter
    wait_for 'partial'
    eventually "partial" screen_line 2
    eventually ">>>" cursor_line
}

@test "terminal: pasted code keeps its indentation and its blank lines" {
    tmux_start -q
    printf 'async def main():\n    print("hello")\n\n    await asyncio.sleep(0.01)\n    print("world")\n\n' > paste.txt
    tm load-buffer paste.txt
    tm paste-buffer -p
    sleep 0.3
    keys 'await main()' Enter
    wait_for 'world'
    eventually 1 count '^hello$'
    ! screen | grep -q Error
}
