#!/usr/bin/env bats
# tests/core.bats - the everyday Python core (issue 3) where the golden
# scripts cannot look: the last stderr line and exit status of error cases,
# compared with python3 running the same snippet; stdin, arguments and
# sys.exit messages; and the documented 64-bit int difference, which has no
# CPython golden. Run as `ASYNCRUN=/abs/path/asyncrun bats tests/core.bats`.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    common_setup
}

# same_as_python FILE [ARG...]: asyncrun and python3 print the same stdout,
# the same last stderr line and exit with the same status (stdin empty, or
# $STDIN when set).
same_as_python() {
    local f=$1
    shift
    local input=${STDIN:-}
    local py_rc=0 ar_rc=0
    printf '%s' "$input" | python3 "$f" "$@" >py.out 2>py.err || py_rc=$?
    printf '%s' "$input" | "$ASYNCRUN" "$f" "$@" >ar.out 2>ar.err || ar_rc=$?
    local py_last ar_last
    py_last=$(tail -n 1 py.err)
    ar_last=$(tail -n 1 ar.err)
    if [ "$py_rc" -ne "$ar_rc" ] || [ "$py_last" != "$ar_last" ] || ! cmp -s py.out ar.out; then
        echo "--- $f"
        cat "$f"
        echo "--- python3: status $py_rc, last stderr line: $py_last"
        cat py.out
        echo "--- asyncrun: status $ar_rc, last stderr line: $ar_last"
        cat ar.out
        return 1
    fi
}

# check_snippets FILE: FILE holds snippets separated by lines '#---'; each one
# runs alone through same_as_python.
check_snippets() {
    local n=0 failed=0
    awk -v dir=snip 'BEGIN { n = 0; system("mkdir -p " dir); f = dir "/s0.aio" }
        /^#---$/ { n++; f = dir "/s" n ".aio"; next }
        { print > f }' "$1"
    for s in snip/s*.aio; do
        n=$((n + 1))
        same_as_python "$s" || failed=$((failed + 1))
    done
    echo "$n snippets, $failed differ"
    [ "$failed" -eq 0 ]
}

@test "uncaught errors: last stderr line and status as python3's (numbers, strings)" {
    need_python311
    cat > cases.txt <<'EOF'
print(1 // 0)
#---
x = 2.5
print(x % 0)
#---
print(int("12x"))
#---
print(int("z", 37))
#---
print(float("1.2.3"))
#---
print(round(float("inf")))
#---
print(int(float("nan")))
#---
print(1 << -2)
#---
print(pow(2, -1, 4))
#---
print(0 ** -1)
#---
print("abc"[3])
#---
print("abc".index("z"))
#---
print("a" + 1)
#---
print("%d" % "x")
#---
print("{} {}".format(1))
#---
print(format(1.5, "d"))
#---
print(format(-1, "c"))
#---
print(chr(0x110000))
#---
print(ord("ab"))
#---
print("x".center(5, "ab"))
#---
print(-"a")
EOF
    check_snippets cases.txt
}

@test "uncaught errors: last stderr line and status as python3's (collections)" {
    need_python311
    cat > cases.txt <<'EOF'
print([1, 2][2])
#---
d = {"a": 1}
print(d["b"])
#---
print({}.popitem())
#---
print(set().pop())
#---
s = {1}
s.remove(2)
#---
print({[1]: 2})
#---
print(hash({}))
#---
l = [1, 2, 3]
l[::2] = [1]
#---
print([1].index(5))
#---
print((1, 2).index(3))
#---
t = (1,)
t[0] = 2
#---
a, b = [1, 2, 3]
#---
a, b, c = "ab"
#---
print(sorted([1, "a"]))
#---
print(max([]))
#---
d = {1: 2}
for k in d:
    d[k + 1] = 0
#---
print(list(5))
#---
print(next(iter([])))
#---
print(dict([(1, 2, 3)]))
EOF
    check_snippets cases.txt
}

@test "uncaught errors: last stderr line and status as python3's (functions, exceptions)" {
    need_python311
    cat > cases.txt <<'EOF'
def f(a, b):
    pass
f(1)
#---
def f(a):
    pass
f(1, 2)
#---
def f(*, key):
    pass
f(1)
#---
def f(a):
    pass
f(1, a=2)
#---
def f(**kw):
    pass
f(1)
#---
def f(a, b=1):
    pass
f(c=3)
#---
print(undefined_name)
#---
def f():
    print(x)
    x = 1
f()
#---
def f():
    return f()
f()
#---
assert 1 > 2, "one is not greater"
#---
assert False
#---
try:
    1 / 0
except ZeroDivisionError as e:
    raise ValueError("converted") from e
#---
try:
    {}["k"]
except KeyError:
    raise TypeError("while handling")
#---
raise
#---
raise ValueError
#---
raise KeyError("a", "b")
#---
raise RuntimeError()
#---
raise NotImplementedError("later")
#---
x = None
x()
#---
x = 5
x.foo
#---
import nosuchmodule
EOF
    check_snippets cases.txt
}

@test "sys.exit: status and message as python3's" {
    need_python311
    local code
    for code in 'sys.exit()' 'sys.exit(0)' 'sys.exit(3)' 'sys.exit(None)' 'sys.exit(True)' \
        'sys.exit("fatal: no input")' 'sys.exit(["list"])' 'raise SystemExit(5)' \
        'raise SystemExit("a", "b")'; do
        printf 'import sys\nprint("out")\nsys.stderr.write("err line\\n")\n%s\nprint("never")\n' \
            "$code" > exit.aio
        same_as_python exit.aio
        diff py.err ar.err
    done
}

@test "sys.argv, input() from stdin and the prompt, as python3" {
    need_python311
    cat > io.aio <<'EOF'
import sys
print(sys.argv[1:], len(sys.argv))
name = input("name? ")
print("hello", repr(name))
lines = []
while True:
    try:
        lines.append(input())
    except EOFError:
        break
print(lines)
EOF
    STDIN=$'Ann\nsecond line\n  spaced  \r\nno newline at end' same_as_python io.aio one "two words" ""
    STDIN='' same_as_python io.aio
}

@test "sys.stdout.write and sys.stderr.write interleave with print as python3" {
    need_python311
    cat > streams.aio <<'EOF'
import sys
n = sys.stdout.write("abc")
print(n)
sys.stderr.write("to stderr\n")
print("x", "y", file=sys.stderr)
print(sys.stderr.write("é€\n"))
EOF
    same_as_python streams.aio
    diff py.err ar.err
}

# ---- 64-bit integers: a documented difference, no CPython golden -------------

@test "an int result beyond 64 bits raises OverflowError, status 1" {
    local snippet
    for snippet in 'print(2 ** 63)' 'print(9223372036854775807 + 1)' \
        'x = -9223372036854775807 - 1
print(x - 1)' 'print(3037000500 * 3037000500)' 'print(1 << 63)' \
        'print(abs(-9223372036854775807 - 1))' 'print(int("9223372036854775808"))' \
        'print(int(1e19))' 'x = 9223372036854775807
x += 1'; do
        printf '%s\n' "print(\"before\")" "$snippet" > big.aio
        run --separate-stderr "$ASYNCRUN" big.aio
        [ "$status" -eq 1 ] || { echo "status $status for: $snippet"; return 1; }
        [ "$output" = "before" ]
        [ "${stderr_lines[-1]}" = "OverflowError: integer overflow: result does not fit in 64 bits" ] ||
            { echo "for: $snippet"; echo "$stderr"; return 1; }
    done
}

@test "the 64-bit limits themselves work" {
    run --separate-stderr "$ASYNCRUN" -c 'a = 9223372036854775807
b = -a - 1
print(a, b, a // -1, b + a, b // 2, -(b + 1), 2 ** 62 * -2)'
    [ "$status" -eq 0 ]
    [ "$output" = "9223372036854775807 -9223372036854775808 -9223372036854775807 -1 -4611686018427387904 9223372036854775807 -9223372036854775808" ]
}

@test "the overflow is catchable as OverflowError and ArithmeticError" {
    run --separate-stderr "$ASYNCRUN" -c 'try:
    print(2 ** 64)
except ArithmeticError as e:
    print(type(e).__name__, e)'
    [ "$status" -eq 0 ]
    [ "$output" = "OverflowError integer overflow: result does not fit in 64 bits" ]
}

# ---- Unicode: every character's str predicates and case mappings -------------

@test "str predicates, case mappings and int() of every assigned plane's characters match python3" {
    need_python311
    cat > uni.aio <<'EOF2'
# Checksums per block of 0x4000 code points (planes 0-3 and 14: the others
# hold no assigned characters).
blocks = list(range(0, 0x40000, 0x4000)) + list(range(0xE0000, 0xF0000, 0x4000))
for block in blocks:
    total = 0
    for c in range(block, block + 0x4000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        ch = chr(c)
        bits = (ch.isalpha(), ch.isdigit(), ch.isdecimal(), ch.isnumeric(), ch.isspace(),
                ch.isupper(), ch.islower(), ch.istitle(), ch.isprintable(), ch.isidentifier(),
                ("a" + ch).isidentifier(), ch.isalnum())
        v = 0
        for b in bits:
            v = v * 2 + b
        for m in (ch.upper(), ch.lower(), ch.title(), ch.casefold(), ch.swapcase(), repr(ch)):
            for k in m:
                v = (v * 31 + ord(k)) % 1000000007
        if ch.isdecimal():
            v += int(ch * 2)
        total = (total * 7 + v) % 1000000007
    print(hex(block), total)
EOF2
    same_as_python uni.aio
}
