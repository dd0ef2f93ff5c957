// tests/unit/test_parse.c - parser tests: tree dumps, node fields, positions,
// error messages and places. Expected dumps and errors come from CPython 3.11.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser/ast.h"

static int passed, failed;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (cond) {                                                            \
            passed++;                                                          \
        } else {                                                               \
            failed++;                                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);               \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

typedef struct {
    const char *src;
    const char *expected; // the module's statements, one line per node joined by spaces
} DumpCase;

typedef struct {
    const char *src;
    const char *type;
    const char *message;
    int line, col;
} ErrorCase;

// Generated from CPython 3.11's ast (shape) and compile() (errors), then
// checked against this parser.
static const DumpCase dump_cases[] = {
    // expression statement
    {"f(x)",
     "(expr (call (name f) (name x)))"},
    // assignment
    {"x = 1",
     "(assign (name x) (int 1))"},
    // chained assignment
    {"a = b = c",
     "(assign (name a) (name b) (name c))"},
    // tuple target with starred item
    {"a, *rest = xs",
     "(assign (tuple (name a) (starred (name rest))) (name xs))"},
    // nested targets
    {"(a, b), c = t",
     "(assign (tuple (tuple (name a) (name b)) (name c)) (name t))"},
    // list target
    {"[a, [b, *c]] = y",
     "(assign (list (name a) (list (name b) (starred (name c)))) (name y))"},
    // attribute and subscript targets
    {"a.b, c[0] = 1, 2",
     "(assign (tuple (attr b (name a)) (subscript (name c) (int 0))) (tuple (int 1) (int 2)))"},
    // augmented assignment, every operator
    {"x += 1; x -= 1; x *= 1; x @= 1; x /= 1; x //= 1; x %= 1; x **= 1; x <<= 1; x >>= 1; x &= 1; x |= 1; x ^= 1",
     "(augassign += (name x) (int 1)) (augassign -= (name x) (int 1)) (augassign *= (name x) (int 1)) (augassign @= (name x) (int 1)) (augassign /= (name x) (int 1)) (augassign //= (name x) (int 1)) (augassign %= (name x) (int 1)) (augassign **= (name x) (int 1)) (augassign <<= (name x) (int 1)) (augassign >>= (name x) (int 1)) (augassign &= (name x) (int 1)) (augassign |= (name x) (int 1)) (augassign ^= (name x) (int 1))"},
    // annotated assignment
    {"x: int = 1\ny: list[int]\na.b: str = 's'",
     "(annassign (name x) (name int) (int 1)) (annassign (name y) (subscript (name list) (name int))) (annassign (attr b (name a)) (name str) (str \"s\"))"},
    // del
    {"del a, b[0]\ndel (c, d)",
     "(del (name a) (subscript (name b) (int 0))) (del (tuple (name c) (name d)))"},
    // pass break continue
    {"while x:\n    pass\n    break\n    continue",
     "(while (name x) (body (pass) (break) (continue)))"},
    // return
    {"def f():\n    return\n    return 1\n    return 1, *a",
     "(def f (body (return) (return (int 1)) (return (tuple (int 1) (starred (name a))))))"},
    // raise
    {"raise\nraise E\nraise E('m') from None",
     "(raise) (raise (name E)) (raise (call (name E) (str \"m\")) (none))"},
    // global nonlocal
    {"def f():\n    global a, b\n    nonlocal c",
     "(def f (body (global a, b) (nonlocal c)))"},
    // if elif else
    {"if a:\n    x\nelif b:\n    y\nelse:\n    z",
     "(if (name a) (body (expr (name x))) (orelse (if (name b) (body (expr (name y))) (orelse (expr (name z))))))"},
    // while else
    {"while a:\n    x\nelse:\n    y",
     "(while (name a) (body (expr (name x))) (orelse (expr (name y))))"},
    // for else with tuple target
    {"for k, v in d.items():\n    x\nelse:\n    y",
     "(for (tuple (name k) (name v)) (call (attr items (name d))) (body (expr (name x))) (orelse (expr (name y))))"},
    // async for, async with, await
    {"async def f():\n    async for x in y:\n        await x\n    async with a as b:\n        pass",
     "(def async f (body (for async (name x) (name y) (body (expr (await (name x))))) (with async (item (name a) (name b)) (body (pass)))))"},
    // try except as else finally
    {"try:\n    a\nexcept (A, B) as e:\n    b\nexcept C:\n    c\nexcept:\n    d\nelse:\n    e\nfinally:\n    f",
     "(try (body (expr (name a))) (except as e (tuple (name A) (name B)) (body (expr (name b)))) (except (name C) (body (expr (name c)))) (except (body (expr (name d)))) (orelse (expr (name e))) (finally (expr (name f))))"},
    // try finally
    {"try:\n    a\nfinally:\n    b",
     "(try (body (expr (name a))) (finally (expr (name b))))"},
    // with: several items and targets
    {"with a as b, c as (d, e), f:\n    pass",
     "(with (item (name a) (name b)) (item (name c) (tuple (name d) (name e))) (item (name f)) (body (pass)))"},
    // with: parenthesized items
    {"with (a as b, c,):\n    pass",
     "(with (item (name a) (name b)) (item (name c)) (body (pass)))"},
    // with: parenthesized tuple context
    {"with (a, b) as c:\n    pass",
     "(with (item (tuple (name a) (name b)) (name c)) (body (pass)))"},
    // def: every parameter kind, annotations dropped
    {"@dec\n@mod.dec(1)\ndef f(a, b: int = 1, *args: str, c, d=2, **kw) -> bool:\n    pass",
     "(def f (decorator (name dec)) (decorator (call (attr dec (name mod)) (int 1))) (param a) (param b (int 1)) (param *args) (param c kwonly) (param d kwonly (int 2)) (param **kw) (returns (name bool)) (body (pass)))"},
    // def: bare star
    {"def f(a, *, b, c=1): pass",
     "(def f (param a) (param b kwonly) (param c kwonly (int 1)) (body (pass)))"},
    // async def
    {"async def f(): return await g()",
     "(def async f (body (return (await (call (name g))))))"},
    // class
    {"@d\nclass C(A, B, metaclass=M, **kw):\n    x = 1",
     "(class C (decorator (name d)) (name A) (name B) (kw metaclass (name M)) (kw ** (name kw)) (body (assign (name x) (int 1))))"},
    // import
    {"import a.b.c\nimport a as b, c",
     "(import a.b.c) (import a as b, c)"},
    // from import
    {"from a.b import c as d, e\nfrom a import (b, c,)\nfrom a import *",
     "(from a.b import c as d, e) (from a import b, c) (from a import *)"},
    // assert
    {"assert x\nassert x, 'message'",
     "(assert (name x)) (assert (name x) (str \"message\"))"},
    // semicolons and one-line body
    {"if x: a; b;",
     "(if (name x) (body (expr (name a)) (expr (name b))))"},
    // lambda
    {"f = lambda: 0\ng = lambda x, y=1, *a, k, **kw: x",
     "(assign (name f) (lambda (return (int 0)))) (assign (name g) (lambda (param x) (param y (int 1)) (param *a) (param k kwonly) (param **kw) (return (name x))))"},
    // precedence: unary minus and power
    {"-2 ** 2",
     "(expr (unary - (binop ** (int 2) (int 2))))"},
    // power is right-associative, exponent may be negative
    {"2 ** 3 ** -1",
     "(expr (binop ** (int 2) (binop ** (int 3) (unary - (int 1)))))"},
    // precedence: or/and
    {"a or b and c",
     "(expr (boolop or (name a) (boolop and (name b) (name c))))"},
    // precedence: not binds looser than ==
    {"not a == b",
     "(expr (unary not (compare == (name a) (name b))))"},
    // conditional chains to the right
    {"a if b else c if d else e",
     "(expr (ifexp (name b) (name a) (ifexp (name d) (name c) (name e))))"},
    // lambda body holds a conditional
    {"lambda: x if y else z",
     "(expr (lambda (return (ifexp (name y) (name x) (name z)))))"},
    // arithmetic and bitwise precedence
    {"a | b ^ c & d << e + f * g",
     "(expr (binop | (name a) (binop ^ (name b) (binop & (name c) (binop << (name d) (binop + (name e) (binop * (name f) (name g))))))))"},
    // left associativity
    {"a - b - c",
     "(expr (binop - (binop - (name a) (name b)) (name c)))"},
    // every binary operator
    {"a + b - c * d @ e / f // g % h",
     "(expr (binop - (binop + (name a) (name b)) (binop % (binop // (binop / (binop @ (binop * (name c) (name d)) (name e)) (name f)) (name g)) (name h))))"},
    // unary operators
    {"~a + -b * +c",
     "(expr (binop + (unary ~ (name a)) (binop * (unary - (name b)) (unary + (name c)))))"},
    // chained comparison
    {"a < b <= c",
     "(expr (compare < <= (name a) (name b) (name c)))"},
    // every comparison
    {"a == b != c > d >= e in f not in g is h is not i",
     "(expr (compare == != > >= in not-in is is-not (name a) (name b) (name c) (name d) (name e) (name f) (name g) (name h) (name i)))"},
    // await binds tighter than power
    {"async def f(): await a ** 2",
     "(def async f (body (expr (binop ** (await (name a)) (int 2)))))"},
    // calls: positional, starred, keywords, **
    {"f(a, *b, c=1, **d)",
     "(expr (call (name f) (name a) (starred (name b)) (kw c (int 1)) (kw ** (name d))))"},
    // call with a generator expression
    {"f(x for x in y)",
     "(expr (call (name f) (genexp (name x) (gen (name x) (name y)))))"},
    // attribute, call, subscript chain
    {"a.b(c)[d].e",
     "(expr (attr e (subscript (call (attr b (name a)) (name c)) (name d))))"},
    // slices
    {"a[1:2]\na[:]\na[::3]\na[:2]",
     "(expr (subscript (name a) (slice (int 1) (int 2)))) (expr (subscript (name a) (slice))) (expr (subscript (name a) (slice - - (int 3)))) (expr (subscript (name a) (slice - (int 2))))"},
    // tuple of slices
    {"a[1:2, ::3]",
     "(expr (subscript (name a) (tuple (slice (int 1) (int 2)) (slice - - (int 3)))))"},
    // tuple index, starred index
    {"a[1, 2]\na[*b]",
     "(expr (subscript (name a) (tuple (int 1) (int 2)))) (expr (subscript (name a) (tuple (starred (name b)))))"},
    // adjacent strings join
    {"'a' \"b\" '''c'''",
     "(expr (str \"abc\"))"},
    // string escapes
    {"'tab\\tnl\\n\\x41\\u00e9'",
     "(expr (str \"tab\\tnl\\nAé\"))"},
    // constants
    {"(None, True, False, ..., 1, 2.5, 99999999999999999999)",
     "(expr (tuple (none) (true) (false) (ellipsis) (int 1) (float 2.5) (int big)))"},
    // tuples and groups
    {"()\n(1,)\n(1, 2)\n(a)\n1, 2",
     "(expr (tuple)) (expr (tuple (int 1))) (expr (tuple (int 1) (int 2))) (expr (name a)) (expr (tuple (int 1) (int 2)))"},
    // generator expression
    {"(x for x in y)",
     "(expr (genexp (name x) (gen (name x) (name y))))"},
    // walrus
    {"(x := 5)\nif (n := len(a)) > 1: pass",
     "(expr (walrus (name x) (int 5))) (if (compare > (walrus (name n) (call (name len) (name a))) (int 1)) (body (pass)))"},
    // yield
    {"def g():\n    yield\n    x = yield a, b\n    yield (yield)",
     "(def g (body (expr (yield)) (assign (name x) (yield (tuple (name a) (name b)))) (expr (yield (yield)))))"},
    // list, list comprehension
    {"[1, *a]\n[x for x in y if x for z in x if z]",
     "(expr (list (int 1) (starred (name a)))) (expr (listcomp (name x) (gen (name x) (name y) (name x)) (gen (name z) (name x) (name z))))"},
    // async comprehension
    {"async def f(): return [x async for x in y]",
     "(def async f (body (return (listcomp (name x) (gen async (name x) (name y))))))"},
    // dict, dict spread, set
    {"{}\n{1: 2, **d}\n{1, *s}",
     "(expr (dict)) (expr (dict (int 1) (int 2) (** (name d)))) (expr (set (int 1) (starred (name s))))"},
    // dict and set comprehensions
    {"{k: v for k, v in d}\n{x for x in y}",
     "(expr (dictcomp (name k) (name v) (gen (tuple (name k) (name v)) (name d)))) (expr (setcomp (name x) (gen (name x) (name y))))"},
    // f-string: fields and conversions
    {"f'a{x}b{y!r}{z!s}{w!a}'",
     "(expr (fstring (str \"a\") (formatted (name x)) (str \"b\") (formatted !r (name y)) (formatted !s (name z)) (formatted !a (name w))))"},
    // f-string: nested format spec
    {"f'{x:>{width}.{prec}f}'",
     "(expr (fstring (formatted (name x) (fstring (str \">\") (formatted (name width)) (str \".\") (formatted (name prec)) (str \"f\")))))"},
    // f-string: self-documenting, spaces kept, repr default
    {"f'{x=}{ y = }'",
     "(expr (fstring (str \"x=\") (formatted !r (name x)) (str \" y = \") (formatted !r (name y))))"},
    // f-string: '=' with a conversion or a spec
    {"f'{x=!s}{y=:>4}'",
     "(expr (fstring (str \"x=\") (formatted !s (name x)) (str \"y=\") (formatted (name y) (fstring (str \">4\")))))"},
    // f-string: doubled braces
    {"f'{{a}}{x}}}'",
     "(expr (fstring (str \"{a}\") (formatted (name x)) (str \"}\")))"},
    // f-string: joined with plain strings
    {"'a' f'b{x}c' 'd'",
     "(expr (fstring (str \"ab\") (formatted (name x)) (str \"cd\")))"},
    // f-string: empty spec, raw
    {"f'{x:}'\nrf'\\n{x}'",
     "(expr (fstring (formatted (name x) (fstring)))) (expr (fstring (str \"\\\\n\") (formatted (name x))))"},
    // f-string: strings and comparisons in fields
    {"f\"{d['k']}{a != b}{a<b}\"",
     "(expr (fstring (formatted (subscript (name d) (str \"k\"))) (formatted (compare != (name a) (name b))) (formatted (compare < (name a) (name b)))))"},
    // f-string: tuple and nested f-string in fields
    {"f'{a, b}{f\"{c}\"}'",
     "(expr (fstring (formatted (tuple (name a) (name b))) (formatted (fstring (formatted (name c))))))"},
    // async def with decorators and annotations
    {"@d\nasync def f(x: int) -> None:\n    pass",
     "(def async f (decorator (name d)) (param x) (returns (none)) (body (pass)))"},
};

static const ErrorCase error_cases[] = {
    // generic error at the offending token
    {"a b\n", "SyntaxError",
     "invalid syntax", 1, 2},
    {"print(1 2)\n", "SyntaxError",
     "invalid syntax. Perhaps you forgot a comma?", 1, 6},
    {"x = [1, 2 3]\n", "SyntaxError",
     "invalid syntax. Perhaps you forgot a comma?", 1, 8},
    {"if x\n    y\n", "SyntaxError",
     "expected ':'", 1, 4},
    {"if x:\npass\n", "IndentationError",
     "expected an indented block after 'if' statement on line 1", 2, 0},
    {"for x in y:\n    pass\nelse:\nz\n", "IndentationError",
     "expected an indented block after 'else' statement on line 3", 4, 0},
    {"def f():\nreturn\n", "IndentationError",
     "expected an indented block after function definition on line 1", 2, 0},
    {"class C:\nx = 1\n", "IndentationError",
     "expected an indented block after class definition on line 1", 2, 0},
    {"try:\npass\n", "IndentationError",
     "expected an indented block after 'try' statement on line 1", 2, 0},
    {"try:\n    pass\nexcept E:\npass\n", "IndentationError",
     "expected an indented block after 'except' statement on line 3", 4, 0},
    {"try:\n    pass\nfinally:\npass\n", "IndentationError",
     "expected an indented block after 'finally' statement on line 3", 4, 0},
    {"with a:\npass\n", "IndentationError",
     "expected an indented block after 'with' statement on line 1", 2, 0},
    {"while x:\npass\n", "IndentationError",
     "expected an indented block after 'while' statement on line 1", 2, 0},
    {"if x:\n    pass\nelif y:\npass\n", "IndentationError",
     "expected an indented block after 'elif' statement on line 3", 4, 0},
    {"  x = 1\n", "IndentationError",
     "unexpected indent", 1, 1},
    {"if x:\n    a\n        b\n", "IndentationError",
     "unexpected indent", 3, 7},
    // from the lexer
    {"if x:\n        a\n    b\n", "IndentationError",
     "unindent does not match any outer indentation level", 3, 5},
    // from the lexer
    {"x = (1,\ny = 2\n", "SyntaxError",
     "'(' was never closed", 1, 4},
    // a later tokenizer error wins
    {"a b\n\"abc\n", "SyntaxError",
     "unterminated string literal (detected at line 2)", 2, 0},
    // an unclosed bracket below the error does not
    {"a b\n(\n", "SyntaxError",
     "invalid syntax", 1, 2},
    {"try:\n    x\ny\n", "SyntaxError",
     "expected 'except' or 'finally' block", 3, 0},
    // at the end of input: the length of the last line
    {"try:\n    x\n", "SyntaxError",
     "expected 'except' or 'finally' block", 2, 5},
    {"else: x\n", "SyntaxError",
     "invalid syntax", 1, 0},
    {"f() = 1\n", "SyntaxError",
     "cannot assign to function call here. Maybe you meant '==' instead of '='?", 1, 0},
    {"1 = x\n", "SyntaxError",
     "cannot assign to literal here. Maybe you meant '==' instead of '='?", 1, 0},
    {"x = f() = 1\n", "SyntaxError",
     "cannot assign to function call", 1, 4},
    {"(a, f()) = 1\n", "SyntaxError",
     "cannot assign to function call", 1, 4},
    {"a, b + 1 = 2\n", "SyntaxError",
     "cannot assign to expression here. Maybe you meant '==' instead of '='?", 1, 3},
    {"True = 1\n", "SyntaxError",
     "cannot assign to True", 1, 0},
    {"x = yield = 1\n", "SyntaxError",
     "assignment to yield expression not possible", 1, 4},
    {"f() += 1\n", "SyntaxError",
     "'function call' is an illegal expression for augmented assignment", 1, 0},
    {"(a, b): int\n", "SyntaxError",
     "only single target (not tuple) can be annotated", 1, 0},
    {"a + 1: int\n", "SyntaxError",
     "illegal target for annotation", 1, 0},
    {"for f() in x: pass\n", "SyntaxError",
     "cannot assign to function call", 1, 4},
    {"del f()\n", "SyntaxError",
     "cannot delete function call", 1, 4},
    {"with a as f(): pass\n", "SyntaxError",
     "cannot assign to function call", 1, 10},
    {"if x = 1: pass\n", "SyntaxError",
     "invalid syntax. Maybe you meant '==' or ':=' instead of '='?", 1, 3},
    {"f(a.b=1)\n", "SyntaxError",
     "expression cannot contain assignment, perhaps you meant \"==\"?", 1, 2},
    {"f(a=1, b)\n", "SyntaxError",
     "positional argument follows keyword argument", 1, 8},
    {"f(**a, b)\n", "SyntaxError",
     "positional argument follows keyword argument unpacking", 1, 8},
    {"f(**a, *b)\n", "SyntaxError",
     "iterable argument unpacking follows keyword argument unpacking", 1, 7},
    {"f(a for a in b, c)\n", "SyntaxError",
     "Generator expression must be parenthesized", 1, 2},
    {"def f(a=1, b): pass\n", "SyntaxError",
     "non-default argument follows default argument", 1, 11},
    {"lambda x=1, y: 1\n", "SyntaxError",
     "non-default argument follows default argument", 1, 12},
    {"def f(*): pass\n", "SyntaxError",
     "named arguments must follow bare *", 1, 6},
    {"def f(a=): pass\n", "SyntaxError",
     "expected default value expression", 1, 7},
    {"x = 1 if 2\n", "SyntaxError",
     "expected 'else' after 'if' expression", 1, 4},
    {"x = {1: 2, 3}\n", "SyntaxError",
     "':' expected after dictionary key", 1, 11},
    {"x = {1: }\n", "SyntaxError",
     "expression expected after dictionary key and ':'", 1, 6},
    {"x = (**a)\n", "SyntaxError",
     "cannot use double starred expression here", 1, 5},
    {"(*a) = 1\n", "SyntaxError",
     "cannot use starred expression here", 1, 1},
    {"print 'x'\n", "SyntaxError",
     "Missing parentheses in call to 'print'. Did you mean print(...)?", 1, 0},
    {"try:\n    pass\nexcept E, F:\n    pass\n", "SyntaxError",
     "multiple exception types must be parenthesized", 3, 7},
    {"def f() -> : pass\n", "SyntaxError",
     "expected ':'", 1, 8},
    {"x = a not b\n", "SyntaxError",
     "invalid syntax", 1, 10},
    {"f\"{}\"\n", "SyntaxError",
     "f-string: empty expression not allowed", 1, 5},
    {"f\"{x\"\n", "SyntaxError",
     "f-string: expecting '}'", 1, 5},
    {"f\"}\"\n", "SyntaxError",
     "f-string: single '}' is not allowed", 1, 4},
    {"f\"{x!z}\"\n", "SyntaxError",
     "f-string: invalid conversion character: expected 's', 'r', or 'a'", 1, 8},
    {"f\"{x:{y:{z}}}\"\n", "SyntaxError",
     "f-string: expressions nested too deeply", 1, 14},
    // columns inside a field count from CPython's '('
    {"x = 1\ny = f\"abc {x b} d\"\n", "SyntaxError",
     "f-string: invalid syntax. Perhaps you forgot a comma?", 2, 1},
    {"f\"{a)}\"\n", "SyntaxError",
     "f-string: unmatched ')'", 1, 7},
    {"f\"{*a}\"\n", "SyntaxError",
     "f-string: cannot use starred expression here", 1, 1},
    {"f\"{x\\n}\"\n", "SyntaxError",
     "f-string expression part cannot include a backslash", 1, 8},
    {"f\"{#}\"\n", "SyntaxError",
     "f-string expression part cannot include '#'", 1, 6},
    // scanner errors point at the token after the string
    {"x = f\"{}\" + 1\n", "SyntaxError",
     "f-string: empty expression not allowed", 1, 10},
};

// ast_dump's text with each newline and its indentation turned into a space.
static char *dump_text(const Node *node, bool positions) {
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f) abort();
    if (positions)
        ast_dump_positions(node, f);
    else
        ast_dump(node, f);
    fclose(f);
    char *out = text;
    for (char *in = text; *in; in++) {
        if (*in == '\n') {
            while (in[1] == ' ') in++;
            if (in[1]) *out++ = ' ';
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
    return text;
}

// The dump of the module's body, without "(module " and its ")".
static char *body_text(const Node *module) {
    char *text = dump_text(module, false);
    size_t n = strlen(text);
    const char *prefix = "(module ";
    size_t skip = strncmp(text, prefix, strlen(prefix)) == 0 ? strlen(prefix) : 0;
    memmove(text, text + skip, n - skip + 1);
    n -= skip;
    if (n && text[n - 1] == ')') text[n - 1] = '\0';
    return text;
}

static ParseResult parse(const char *src) { return parse_module(src, strlen(src)); }

static void check_dumps(void) {
    for (size_t i = 0; i < sizeof dump_cases / sizeof dump_cases[0]; i++) {
        const DumpCase *c = &dump_cases[i];
        ParseResult r = parse(c->src);
        if (!r.module) {
            CHECK(false, "%s\n  error %s: %s @%d:%d", c->src, r.error_type,
                  r.error_message, r.error_line, r.error_col);
            continue;
        }
        char *got = body_text(r.module);
        CHECK(strcmp(got, c->expected) == 0, "%s\n  expected %s\n  got      %s", c->src,
              c->expected, got);
        free(got);
        ast_free(&r);
    }
}

static void check_errors(void) {
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        const ErrorCase *c = &error_cases[i];
        ParseResult r = parse(c->src);
        CHECK(!r.module && r.arena == NULL, "%s\n  parsed, expected an error", c->src);
        if (r.module) {
            ast_free(&r);
            continue;
        }
        bool same = r.error_type && strcmp(r.error_type, c->type) == 0 &&
                    strcmp(r.error_message, c->message) == 0 && r.error_line == c->line &&
                    r.error_col == c->col;
        CHECK(same, "%s\n  expected %s: %s @%d:%d\n  got      %s: %s @%d:%d", c->src, c->type,
              c->message, c->line, c->col, r.error_type, r.error_message, r.error_line,
              r.error_col);
        ast_free(&r); // harmless on an error result
    }
}

// The raw format: one node per line, two spaces per level, ")" closing the
// line of the last child, "-" for a missing optional child.
static void check_format(void) {
    ParseResult r = parse("x = a[:2]\n");
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    ast_dump(r.module, f);
    fclose(f);
    const char *expected = "(module\n"
                           "  (assign\n"
                           "    (name x)\n"
                           "    (subscript\n"
                           "      (name a)\n"
                           "      (slice\n"
                           "        -\n"
                           "        (int 2)))))\n";
    CHECK(strcmp(text, expected) == 0, "format:\n%s", text);
    free(text);
    ast_free(&r);
}

static const Node *stmt(const ParseResult *r, int i) { return r->module->as.list.items[i]; }

#define CHECK_SPAN(node, l, c, el, ec)                                          \
    CHECK((node)->line == (l) && (node)->col == (c) && (node)->end_line == (el) && \
              (node)->end_col == (ec),                                         \
          "%s: %d:%d-%d:%d, expected %d:%d-%d:%d", #node, (node)->line, (node)->col, \
          (node)->end_line, (node)->end_col, l, c, el, ec)

// Positions as CPython's ast gives them (checked with python3).
static void check_positions(void) {
    ParseResult r = parse("x = (a + b) * c\n");
    const Node *assign = stmt(&r, 0);
    CHECK_SPAN(assign, 1, 0, 1, 15);
    const Node *mul = assign->as.assign.value;
    CHECK_SPAN(mul, 1, 4, 1, 15); // starts at the '('
    CHECK_SPAN(mul->as.binop.left, 1, 5, 1, 10);
    ast_free(&r);

    r = parse("foo.bar(1, k=2)\n");
    const Node *call = stmt(&r, 0)->as.unary.operand;
    CHECK_SPAN(call, 1, 0, 1, 15);
    CHECK_SPAN(call->as.call.func, 1, 0, 1, 7);
    CHECK(call->as.call.keyword_count == 1 && call->as.call.keywords[0].line == 1 &&
              call->as.call.keywords[0].col == 11,
          "keyword position");
    ast_free(&r);

    r = parse("a, b = 1, 2\n");
    CHECK_SPAN(stmt(&r, 0)->as.assign.targets.items[0], 1, 0, 1, 4);
    CHECK_SPAN(stmt(&r, 0)->as.assign.value, 1, 7, 1, 11);
    ast_free(&r);

    r = parse("if a:\n    x = 1\nelse:\n    y = 2\n");
    CHECK_SPAN(stmt(&r, 0), 1, 0, 4, 9);
    ast_free(&r);

    r = parse("@d\ndef f(a, *b):\n    pass\n");
    const Node *fn = stmt(&r, 0);
    CHECK_SPAN(fn, 2, 0, 3, 8); // at `def`, not at the decorator
    CHECK(fn->as.function.param_count == 2 && fn->as.function.params[1].line == 2 &&
              fn->as.function.params[1].col == 10,
          "param position");
    ast_free(&r);

    r = parse("s = f\"ab{x + 1}\"\n");
    const Node *fstr = stmt(&r, 0)->as.assign.value;
    CHECK_SPAN(fstr, 1, 4, 1, 16);
    CHECK(fstr->kind == N_FSTRING && fstr->as.list.count == 2, "f-string parts");
    CHECK_SPAN(fstr->as.list.items[1]->as.formatted.value, 1, 9, 1, 14); // inside the field
    ast_free(&r);

    r = parse("s = \"\"\"a\nbc\"\"\"\n");
    CHECK_SPAN(stmt(&r, 0)->as.assign.value, 1, 4, 2, 5);
    ast_free(&r);

    r = parse("try:\n    pass\nexcept E as e:\n    pass\n");
    const ExceptHandler *h = &stmt(&r, 0)->as.try_.handlers[0];
    CHECK(h->line == 3 && h->col == 0, "handler at %d:%d", h->line, h->col);
    ast_free(&r);

    r = parse("f(x for x in y)\n");
    CHECK_SPAN(stmt(&r, 0)->as.unary.operand->as.call.args.items[0], 1, 1, 1, 15);
    ast_free(&r);

    // every node of a small program, in ast_dump_positions' format
    r = parse("for i in range(3):\n    print(i, end='')\n");
    char *text = dump_text(r.module, true);
    const char *expected =
        "(module (for @1:0-2:20 (name i @1:4-1:5) (call @1:9-1:17 (name range @1:9-1:14) "
        "(int 3 @1:15-1:16)) (body (expr @2:4-2:20 (call @2:4-2:20 (name print @2:4-2:9) "
        "(name i @2:10-2:11) (kw end @2:13 (str \"\" @2:17-2:19)))))))";
    CHECK(strcmp(text, expected) == 0, "positions dump:\n  %s", text);
    free(text);
    ast_free(&r);
}

// Fields the dump does not show, or shows only indirectly.
static void check_fields(void) {
    ParseResult r = parse("x = 99999999999999999999 + 9223372036854775807\n");
    const Node *sum = stmt(&r, 0)->as.assign.value;
    CHECK(sum->as.binop.left->as.int_.big, "big literal flagged");
    CHECK(!sum->as.binop.right->as.int_.big &&
              sum->as.binop.right->as.int_.value == INT64_C(9223372036854775807),
          "int64 max");
    ast_free(&r);

    r = parse("s = 'a\\x00b'\n");
    const Node *s = stmt(&r, 0)->as.assign.value;
    CHECK(s->kind == N_STR && s->as.str.length == 3 && s->as.str.chars[1] == '\0' &&
              s->as.str.chars[3] == '\0',
          "string with a NUL byte");
    ast_free(&r);

    r = parse("f'{x=}{y!a:>3}'\n");
    const Node *f = stmt(&r, 0)->as.unary.operand;
    CHECK(f->as.list.count == 3, "parts");
    CHECK(f->as.list.items[0]->kind == N_STR && strcmp(f->as.list.items[0]->as.str.chars, "x=") == 0,
          "self-documenting text");
    CHECK(f->as.list.items[1]->as.formatted.conversion == 'r' &&
              f->as.list.items[1]->as.formatted.spec == NULL,
          "x= converts with repr");
    CHECK(f->as.list.items[2]->as.formatted.conversion == 'a' &&
              f->as.list.items[2]->as.formatted.spec->kind == N_FSTRING,
          "conversion and spec");
    ast_free(&r);

    r = parse("f(**a, k=1)\nimport m\nfrom m import n as o, p\n");
    const Node *call = stmt(&r, 0)->as.unary.operand;
    CHECK(call->as.call.keywords[0].name.chars == NULL &&
              strcmp(call->as.call.keywords[1].name.chars, "k") == 0,
          "keyword names");
    CHECK(stmt(&r, 1)->as.import.aliases[0].chars == NULL, "no alias");
    const Node *from = stmt(&r, 2);
    CHECK(strcmp(from->as.import.module.chars, "m") == 0 && from->as.import.count == 2 &&
              strcmp(from->as.import.aliases[0].chars, "o") == 0 &&
              from->as.import.aliases[1].chars == NULL,
          "from import names");
    ast_free(&r);

    r = parse("async def f(a, *b, c=1, **d):\n    async with x: pass\n    async for y in z: pass\n"
              "g = lambda: 1\n{**a, 'b': 1}\n");
    const Node *fn = stmt(&r, 0);
    CHECK(fn->as.function.is_async && !fn->as.function.is_lambda, "async def");
    CHECK(fn->as.function.params[0].kind == PARAM_POSITIONAL &&
              fn->as.function.params[1].kind == PARAM_VARARGS &&
              fn->as.function.params[2].kind == PARAM_KWONLY &&
              fn->as.function.params[2].default_value != NULL &&
              fn->as.function.params[3].kind == PARAM_VARKW,
          "parameter kinds");
    CHECK(fn->as.function.body.items[0]->as.with.is_async, "async with");
    CHECK(fn->as.function.body.items[1]->as.for_.is_async, "async for");
    const Node *lam = stmt(&r, 1)->as.assign.value;
    CHECK(lam->kind == N_LAMBDA && lam->as.function.is_lambda &&
              strcmp(lam->as.function.name.chars, "<lambda>") == 0 &&
              lam->as.function.body.count == 1 &&
              lam->as.function.body.items[0]->kind == N_RETURN,
          "lambda body is one return");
    const Node *dict = stmt(&r, 2)->as.unary.operand;
    CHECK(dict->as.dict.keys.items[0] == NULL && dict->as.dict.keys.items[1] != NULL,
          "dict spread has no key");
    ast_free(&r);

    r = parse("try:\n    pass\nexcept:\n    pass\n");
    const ExceptHandler *h = &stmt(&r, 0)->as.try_.handlers[0];
    CHECK(h->type == NULL && h->name.chars == NULL, "bare except");
    ast_free(&r);
}

// head, then piece `times` times, then tail (malloc'd).
static char *repeat(const char *head, const char *piece, int times, const char *tail) {
    size_t h = strlen(head), n = strlen(piece), t = strlen(tail);
    char *s = malloc(h + n * (size_t)times + t + 1);
    memcpy(s, head, h);
    for (int i = 0; i < times; i++) memcpy(s + h + n * (size_t)i, piece, n);
    memcpy(s + h + n * (size_t)times, tail, t + 1);
    return s;
}

static void expect_error(const char *what, char *src, const char *type, const char *message) {
    ParseResult r = parse(src);
    CHECK(!r.module && r.error_type && strcmp(r.error_type, type) == 0 &&
              strcmp(r.error_message, message) == 0,
          "%s: got %s: %s", what, r.error_type ? r.error_type : "no error",
          r.module ? "" : r.error_message);
    ast_free(&r);
    free(src);
}

static void expect_ok(const char *what, char *src) {
    ParseResult r = parse(src);
    CHECK(r.module != NULL, "%s: %s: %s", what, r.error_type, r.error_message);
    ast_free(&r);
    free(src);
}

// Deep input must end in an error, never in a C stack overflow. Like
// CPython's compiler the limit sits near 3000 levels of nesting.
static void check_nesting(void) {
    const char *deep = "maximum recursion depth exceeded during compilation";
    expect_error("100000 unary minus", repeat("", "-", 100000, "1\n"), "RecursionError", deep);
    expect_error("5000 not", repeat("", "not ", 5000, "x\n"), "RecursionError", deep);
    expect_error("5000 ~-", repeat("", "~-", 2500, "x\n"), "RecursionError", deep);
    expect_error("3000 powers", repeat("", "2**", 3000, "2\n"), "RecursionError", deep);
    expect_error("5000 lambdas", repeat("", "lambda:", 5000, "1\n"), "RecursionError", deep);
    expect_error("5000 conditionals", repeat("", "1 if 1 else ", 5000, "1\n"), "RecursionError",
                 deep);
    expect_error("100000 additions", repeat("", "1+", 100000, "1\n"), "RecursionError", deep);
    expect_error("100000 attributes", repeat("a", ".b", 100000, "\n"), "RecursionError", deep);
    expect_error("5000 calls", repeat("f", "()", 5000, "\n"), "RecursionError", deep);
    expect_error("5000 elifs", repeat("if x: pass\n", "elif x: pass\n", 5000, ""),
                 "RecursionError", deep);
    expect_error("10000 parentheses", repeat("", "(", 10000, "\n"), "SyntaxError",
                 "too many nested parentheses");
    expect_ok("2989 unary minus (CPython's limit too)", repeat("", "-", 2989, "1\n"));
    expect_ok("2000 additions", repeat("", "1+", 2000, "1\n"));
    char *closers = repeat("1", ")", 199, "\n");
    expect_ok("199 parentheses", repeat("", "(", 199, closers));
    free(closers);
    expect_ok("100000 statements", repeat("", "x = 1; y = [x]\n", 100000, ""));

    // 101 nested blocks: the lexer's limit
    char *src = malloc(200000), *p = src;
    for (int i = 0; i < 101; i++) p += sprintf(p, "%*sif x:\n", i, "");
    sprintf(p, "%*spass\n", 101, "");
    expect_error("101 nested ifs", src, "IndentationError", "too many levels of indentation");
    src = malloc(200000);
    p = src;
    for (int i = 0; i < 99; i++) p += sprintf(p, "%*sif x:\n", i, "");
    sprintf(p, "%*spass\n", 99, "");
    expect_ok("99 nested ifs", src);
}

// Errors CPython's symbol table and compiler find: reported once the whole
// module parses, symbol table first.
static void check_late_errors(void) {
    ParseResult r = parse("f(a=1, a=2)\ndef g(b, b): pass\n");
    CHECK(!r.module && strcmp(r.error_message, "duplicate argument 'b' in function definition") == 0 &&
              r.error_line == 2 && r.error_col == 9,
          "duplicate argument: %s @%d:%d", r.error_message, r.error_line, r.error_col);
    ast_free(&r);
    r = parse("f(a=1, a=2)\n");
    CHECK(!r.module && strcmp(r.error_message, "keyword argument repeated: a") == 0 &&
              r.error_line == 1 && r.error_col == 7,
          "keyword repeated: %s @%d:%d", r.error_message, r.error_line, r.error_col);
    ast_free(&r);
    r = parse("def f(a, a): pass\nx = (\n");
    CHECK(!r.module && strcmp(r.error_message, "'(' was never closed") == 0,
          "a syntax error comes first: %s", r.error_message);
    ast_free(&r);
}

// The arena hands out zeroed, aligned blocks, big ones included.
static void check_arena(void) {
    Arena *arena = arena_new();
    bool ok = true;
    for (int i = 0; i < 10000 && ok; i++) {
        size_t size = (size_t)(i % 7 == 0 ? 100000 : i % 97 + 1);
        unsigned char *block = arena_alloc(arena, size);
        for (size_t k = 0; k < size; k++) ok = ok && block[k] == 0;
        ok = ok && ((uintptr_t)block % sizeof(void *)) == 0;
        memset(block, 0xAB, size);
    }
    CHECK(ok, "arena blocks zeroed and aligned");
    arena_free(arena);
}

int main(void) {
    check_dumps();
    check_errors();
    check_format();
    check_positions();
    check_fields();
    check_nesting();
    check_late_errors();
    check_arena();
    printf("parse: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
