// tests/unit/test_lex.c - the lexer against CPython 3.11's tokenizer.
// Expected messages and positions come from python3.11 running the source as
// a file (SyntaxError.offset - 1 = our col).
#include "lexer/lex.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void check(bool ok, int line, const char *fmt, ...) {
    if (ok) {
        passed++;
        return;
    }
    failed++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "test_lex.c:%d: ", line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

#define CHECK(cond, ...) check((cond), __LINE__, __VA_ARGS__)

// Lex [src] (NUL-terminated, or [len] bytes) into [out]; returns the count,
// the last token being EOF or ERROR.
#define MAX_TOKENS 4096
static int lex_all(Lexer *lexer, Token *out) {
    int n = 0;
    while (n < MAX_TOKENS) {
        out[n] = lex_next(lexer);
        if (out[n].kind == TK_EOF || out[n].kind == TK_ERROR) return n + 1;
        n++;
    }
    return n;
}

static Token toks[MAX_TOKENS];

// The token kinds of [src] must be exactly [want] (ending with TK_EOF).
static void expect_kinds_at(int line, const char *src, const TokenKind *want,
                            int nwant) {
    Lexer *lexer = lex_new(src, strlen(src));
    int n = lex_all(lexer, toks);
    bool ok = n == nwant;
    for (int i = 0; ok && i < n; i++) ok = toks[i].kind == want[i];
    if (!ok) {
        char got[2048] = "", exp[2048] = "";
        for (int i = 0; i < n && strlen(got) < 1900; i++) {
            strcat(got, lex_kind_name(toks[i].kind));
            strcat(got, " | ");
        }
        for (int i = 0; i < nwant && strlen(exp) < 1900; i++) {
            strcat(exp, lex_kind_name(want[i]));
            strcat(exp, " | ");
        }
        if (toks[n - 1].kind == TK_ERROR)
            strcat(got, lex_error_message(lexer));
        check(false, line, "kinds of %s\n  got  %s\n  want %s", src, got, exp);
    } else {
        check(true, line, "");
    }
    lex_free(lexer);
}

#define EXPECT_KINDS(src, ...)                                                \
    expect_kinds_at(__LINE__, src, (const TokenKind[]){__VA_ARGS__},          \
                    (int)(sizeof((const TokenKind[]){__VA_ARGS__}) /          \
                          sizeof(TokenKind)))

// Lexing [src, src+len) must end in an error with these details.
static void expect_error_at(int line, const char *src, size_t len,
                            const char *type, const char *msg, int eline,
                            int ecol) {
    Lexer *lexer = lex_new(src, len);
    int n = lex_all(lexer, toks);
    Token last = toks[n - 1];
    if (last.kind != TK_ERROR) {
        check(false, line, "no error for %s (want %s)", src, msg);
    } else {
        bool ok = strcmp(lex_error_type(lexer), type) == 0 &&
                  strcmp(lex_error_message(lexer), msg) == 0 &&
                  lex_error_line(lexer) == eline &&
                  lex_error_col(lexer) == ecol && last.line == eline &&
                  last.col == ecol;
        check(ok, line, "error for %s\n  got  %s: %s (%d:%d)\n  want %s: %s (%d:%d)",
              src, lex_error_type(lexer), lex_error_message(lexer),
              lex_error_line(lexer), lex_error_col(lexer), type, msg, eline,
              ecol);
        // Errors are sticky.
        Token again = lex_next(lexer);
        CHECK(again.kind == TK_ERROR &&
                  strcmp(lex_error_message(lexer), msg) == 0,
              "error not sticky for %s", src);
    }
    lex_free(lexer);
}

#define EXPECT_ERROR(src, type, msg, line, col)                               \
    expect_error_at(__LINE__, src, strlen(src), type, msg, line, col)
#define EXPECT_ERROR_N(src, type, msg, line, col)                             \
    expect_error_at(__LINE__, src, sizeof(src) - 1, type, msg, line, col)
#define SYNTAX(src, msg, line, col) EXPECT_ERROR(src, "SyntaxError", msg, line, col)

// The [index]th token of [src]; its str is gone (the lexer is freed).
static Token nth(const char *src, int index) {
    Lexer *lexer = lex_new(src, strlen(src));
    int n = lex_all(lexer, toks);
    Token t = index < n ? toks[index] : toks[n - 1];
    lex_free(lexer); // token strings are not used after this
    return t;
}

static void expect_pos_at(int line, const char *src, int index, TokenKind kind,
                          int tline, int tcol) {
    Token t = nth(src, index);
    check(t.kind == kind && t.line == tline && t.col == tcol, line,
          "token %d of %s: got %s at %d:%d, want %s at %d:%d", index, src,
          lex_kind_name(t.kind), t.line, t.col, lex_kind_name(kind), tline,
          tcol);
}

#define EXPECT_POS(src, index, kind, line, col)                               \
    expect_pos_at(__LINE__, src, index, kind, line, col)

// ---------------------------------------------------------------------------

static void test_basic_tokens(void) {
    EXPECT_KINDS("x = 1\n", TK_NAME, TK_ASSIGN, TK_INT, TK_NEWLINE, TK_EOF);
    EXPECT_KINDS("", TK_EOF);
    EXPECT_KINDS("\n\n  \n# only a comment\n", TK_EOF);
    EXPECT_KINDS("x", TK_NAME, TK_NEWLINE, TK_EOF);
    EXPECT_KINDS("x  # trailing comment", TK_NAME, TK_NEWLINE, TK_EOF);
    EXPECT_KINDS("a.b(c)[d]{e}", TK_NAME, TK_DOT, TK_NAME, TK_LPAREN, TK_NAME,
                 TK_RPAREN, TK_LBRACKET, TK_NAME, TK_RBRACKET, TK_LBRACE,
                 TK_NAME, TK_RBRACE, TK_NEWLINE, TK_EOF);
    EXPECT_KINDS("x = ...; y = ..", TK_NAME, TK_ASSIGN, TK_ELLIPSIS, TK_SEMI,
                 TK_NAME, TK_ASSIGN, TK_DOT, TK_DOT, TK_NEWLINE, TK_EOF);
    EXPECT_KINDS("1..real", TK_FLOAT, TK_DOT, TK_NAME, TK_NEWLINE, TK_EOF);
    EXPECT_KINDS("x=1if y else 2", TK_NAME, TK_ASSIGN, TK_INT, TK_IF, TK_NAME,
                 TK_ELSE, TK_INT, TK_NEWLINE, TK_EOF);
    EXPECT_KINDS("1or 2, 1and 3, 1in x, 1is y, 1not in z", TK_INT, TK_OR,
                 TK_INT, TK_COMMA, TK_INT, TK_AND, TK_INT, TK_COMMA, TK_INT,
                 TK_IN, TK_NAME, TK_COMMA, TK_INT, TK_IS, TK_NAME, TK_COMMA,
                 TK_INT, TK_NOT, TK_IN, TK_NAME, TK_NEWLINE, TK_EOF);
    EXPECT_KINDS("ur = bf = fb", TK_NAME, TK_ASSIGN, TK_NAME, TK_ASSIGN, TK_NAME,
                 TK_NEWLINE, TK_EOF);
    EXPECT_KINDS("ur'x'", TK_NAME, TK_STRING, TK_NEWLINE, TK_EOF);
    EXPECT_KINDS("été = naïve + 中文", TK_NAME, TK_ASSIGN, TK_NAME, TK_PLUS,
                 TK_NAME, TK_NEWLINE, TK_EOF);

    Token t = nth("x = abc_1", 2);
    CHECK(t.kind == TK_NAME && t.length == 5 && memcmp(t.start, "abc_1", 5) == 0,
          "name text");
}

static void test_operators(void) {
    // Every operator and delimiter of TOKEN_KINDS, in order, space separated.
    char src[512] = "";
    int cols[TK__COUNT];
    for (int k = TK_LPAREN; k <= TK_ATEQ; k++) {
        cols[k] = (int)strlen(src);
        strcat(src, lex_kind_name((TokenKind)k));
        strcat(src, " ");
    }
    Lexer *lexer = lex_new(src, strlen(src));
    for (int k = TK_LPAREN; k <= TK_ATEQ; k++) {
        Token t = lex_next(lexer);
        CHECK(t.kind == (TokenKind)k && t.col == cols[k] &&
                  t.length == (int)strlen(lex_kind_name((TokenKind)k)),
              "operator %s: got %s at col %d", lex_kind_name((TokenKind)k),
              lex_kind_name(t.kind), t.col);
    }
    CHECK(lex_next(lexer).kind == TK_NEWLINE, "newline after operators");
    lex_free(lexer);

    // Longest match.
    EXPECT_KINDS("a**=b//=c<<=d>>=e", TK_NAME, TK_DSTAREQ, TK_NAME, TK_DSLASHEQ,
                 TK_NAME, TK_LSHIFTEQ, TK_NAME, TK_RSHIFTEQ, TK_NAME,
                 TK_NEWLINE, TK_EOF);
    EXPECT_KINDS("a->b:=c!=d==e", TK_NAME, TK_ARROW, TK_NAME, TK_WALRUS, TK_NAME,
                 TK_NE, TK_NAME, TK_EQEQ, TK_NAME, TK_NEWLINE, TK_EOF);
    EXPECT_KINDS("-1**-2", TK_MINUS, TK_INT, TK_DSTAR, TK_MINUS, TK_INT,
                 TK_NEWLINE, TK_EOF);
}

static void test_keywords(void) {
    for (int k = TK_FIRST_KEYWORD; k <= TK_LAST_KEYWORD; k++) {
        const char *word = lex_kind_name((TokenKind)k);
        Lexer *lexer = lex_new(word, strlen(word));
        Token t = lex_next(lexer);
        CHECK(t.kind == (TokenKind)k, "keyword %s lexed as %s", word,
              lex_kind_name(t.kind));
        lex_free(lexer);
    }
    // Soft keywords and near misses are names.
    const char *names[] = {"match", "case", "type", "_", "iff", "Import",
                           "true", "none", "asyncx", "awai"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        Lexer *lexer = lex_new(names[i], strlen(names[i]));
        CHECK(lex_next(lexer).kind == TK_NAME, "%s should be a name", names[i]);
        lex_free(lexer);
    }
}

static void test_positions(void) {
    const char *src = "x = foo(1,\n        2)  # c\ny\n";
    EXPECT_POS(src, 0, TK_NAME, 1, 0);
    EXPECT_POS(src, 1, TK_ASSIGN, 1, 2);
    EXPECT_POS(src, 2, TK_NAME, 1, 4);
    EXPECT_POS(src, 3, TK_LPAREN, 1, 7);
    EXPECT_POS(src, 5, TK_COMMA, 1, 9);
    EXPECT_POS(src, 6, TK_INT, 2, 8);
    EXPECT_POS(src, 7, TK_RPAREN, 2, 9);
    // NEWLINE starts at the comment before the line break, as in CPython.
    EXPECT_POS(src, 8, TK_NEWLINE, 2, 12);
    EXPECT_POS(src, 9, TK_NAME, 3, 0);
    EXPECT_POS(src, 10, TK_NEWLINE, 3, 1);
    // EOF is on the last line.
    EXPECT_POS(src, 11, TK_EOF, 3, 0);
    // Missing final newline: NEWLINE after the last token.
    EXPECT_POS("x = 1", 3, TK_NEWLINE, 1, 5);
    EXPECT_POS("x = 1", 4, TK_EOF, 1, 0);
    // Byte columns.
    EXPECT_POS("s = 'é' + x", 4, TK_NAME, 1, 11);
    // Multi-line string: starts where it starts.
    EXPECT_POS("x = '''a\nb''' + y", 2, TK_STRING, 1, 4);
    EXPECT_POS("x = '''a\nb''' + y", 3, TK_PLUS, 2, 5);
}

static void test_indentation(void) {
    EXPECT_KINDS("if a:\n"
                 "    if b:\n"
                 "        x\n"
                 "    y\n"
                 "\n"
                 "            # comment at an odd indent\n"
                 "  \n"
                 "z\n",
                 TK_IF, TK_NAME, TK_COLON, TK_NEWLINE, TK_INDENT, TK_IF,
                 TK_NAME, TK_COLON, TK_NEWLINE, TK_INDENT, TK_NAME, TK_NEWLINE,
                 TK_DEDENT, TK_NAME, TK_NEWLINE, TK_DEDENT, TK_NAME, TK_NEWLINE,
                 TK_EOF);
    // Dedent by several levels at once.
    EXPECT_KINDS("if a:\n  if b:\n    if c:\n      x\ny\n", TK_IF, TK_NAME,
                 TK_COLON, TK_NEWLINE, TK_INDENT, TK_IF, TK_NAME, TK_COLON,
                 TK_NEWLINE, TK_INDENT, TK_IF, TK_NAME, TK_COLON, TK_NEWLINE,
                 TK_INDENT, TK_NAME, TK_NEWLINE, TK_DEDENT, TK_DEDENT,
                 TK_DEDENT, TK_NAME, TK_NEWLINE, TK_EOF);
    EXPECT_KINDS("if a:\n  if b:\n    x\n  y\nz\n", TK_IF, TK_NAME, TK_COLON,
                 TK_NEWLINE, TK_INDENT, TK_IF, TK_NAME, TK_COLON, TK_NEWLINE,
                 TK_INDENT, TK_NAME, TK_NEWLINE, TK_DEDENT, TK_NAME, TK_NEWLINE,
                 TK_DEDENT, TK_NAME, TK_NEWLINE, TK_EOF);
    // At end of input: NEWLINE, one DEDENT per open block, EOF.
    EXPECT_KINDS("if a:\n  if b:\n    x", TK_IF, TK_NAME, TK_COLON, TK_NEWLINE,
                 TK_INDENT, TK_IF, TK_NAME, TK_COLON, TK_NEWLINE, TK_INDENT,
                 TK_NAME, TK_NEWLINE, TK_DEDENT, TK_DEDENT, TK_EOF);
    EXPECT_KINDS("if a:\n  x\n  # trailing comment\n   ", TK_IF, TK_NAME,
                 TK_COLON, TK_NEWLINE, TK_INDENT, TK_NAME, TK_NEWLINE,
                 TK_DEDENT, TK_EOF);
    // Brackets join lines and ignore their indentation.
    EXPECT_KINDS("x = [\n    1,\n  2,\n        3,\n]\ny\n", TK_NAME, TK_ASSIGN,
                 TK_LBRACKET, TK_INT, TK_COMMA, TK_INT, TK_COMMA, TK_INT,
                 TK_COMMA, TK_RBRACKET, TK_NEWLINE, TK_NAME, TK_NEWLINE,
                 TK_EOF);
    EXPECT_KINDS("f(a,  # comment\n\n  # another\n  b)\n", TK_NAME, TK_LPAREN,
                 TK_NAME, TK_COMMA, TK_NAME, TK_RPAREN, TK_NEWLINE, TK_EOF);
    EXPECT_KINDS("if a:\n    x = (1,\n2)\n    y\n", TK_IF, TK_NAME, TK_COLON,
                 TK_NEWLINE, TK_INDENT, TK_NAME, TK_ASSIGN, TK_LPAREN, TK_INT,
                 TK_COMMA, TK_INT, TK_RPAREN, TK_NEWLINE, TK_NAME, TK_NEWLINE,
                 TK_DEDENT, TK_EOF);
    // Backslash continuation.
    EXPECT_KINDS("x = 1 + \\\n  2\n", TK_NAME, TK_ASSIGN, TK_INT, TK_PLUS, TK_INT,
                 TK_NEWLINE, TK_EOF);
    EXPECT_POS("x = 1 + \\\n  2\n", 4, TK_INT, 2, 2);
    EXPECT_KINDS("x = 1 \\\n\ny\n", TK_NAME, TK_ASSIGN, TK_INT, TK_NEWLINE,
                 TK_NAME, TK_NEWLINE, TK_EOF);
    EXPECT_KINDS("\\\nx\n", TK_NAME, TK_NEWLINE, TK_EOF);
    // The first backslash of a line fixes its indentation (CPython 3.11.7).
    EXPECT_KINDS("if a:\n  \\\n    y\n", TK_IF, TK_NAME, TK_COLON, TK_NEWLINE,
                 TK_INDENT, TK_NAME, TK_NEWLINE, TK_DEDENT, TK_EOF);
    // Tabs advance to multiples of 8; a form feed resets the count.
    EXPECT_KINDS("if a:\n\tx\n\ty\n", TK_IF, TK_NAME, TK_COLON, TK_NEWLINE,
                 TK_INDENT, TK_NAME, TK_NEWLINE, TK_NAME, TK_NEWLINE, TK_DEDENT,
                 TK_EOF);
    EXPECT_KINDS("if a:\n    x\n  \f    y\n", TK_IF, TK_NAME, TK_COLON,
                 TK_NEWLINE, TK_INDENT, TK_NAME, TK_NEWLINE, TK_NAME,
                 TK_NEWLINE, TK_DEDENT, TK_EOF);

    // INDENT covers the indentation; DEDENT sits at the next token.
    const char *src = "if a:\n    x\n  # c\ny\n";
    Token ind = nth(src, 4);
    CHECK(ind.kind == TK_INDENT && ind.line == 2 && ind.col == 0 &&
              ind.length == 4,
          "indent token %s %d:%d len %d", lex_kind_name(ind.kind), ind.line,
          ind.col, ind.length);
    EXPECT_POS(src, 7, TK_DEDENT, 4, 0);
    EXPECT_POS("if a:\n    if b:\n        x\n    y\n", 12, TK_DEDENT, 4, 4);
    EXPECT_POS("if a:\n    x\n", 7, TK_DEDENT, 2, 0);
    EXPECT_POS("if a:\n    x\n", 8, TK_EOF, 2, 0);
}

static void test_indentation_errors(void) {
    EXPECT_ERROR("if x:\n\ty = 1\n        z = 2\n", "TabError",
                 "inconsistent use of tabs and spaces in indentation", 3, 0);
    EXPECT_ERROR("if x:\n        y = 1\n\tz = 2\n", "TabError",
                 "inconsistent use of tabs and spaces in indentation", 3, 0);
    EXPECT_ERROR("if x:\n    \ty = 1\n\tz\n", "TabError",
                 "inconsistent use of tabs and spaces in indentation", 3, 0);
    EXPECT_ERROR("if x:\n    if y:\n        a\n  b\n", "IndentationError",
                 "unindent does not match any outer indentation level", 4, 3);
    EXPECT_ERROR("if x:\n    if y:\n        a\n  b  # comment\n",
                 "IndentationError",
                 "unindent does not match any outer indentation level", 4, 14);
    EXPECT_ERROR("if x:\n    y\n  é\n", "IndentationError",
                 "unindent does not match any outer indentation level", 3, 4);
    // A backslash in the indentation fixes the line's indentation there.
    EXPECT_ERROR("if x:\n    y\n  \\\n    z\n", "IndentationError",
                 "unindent does not match any outer indentation level", 4, 5);

    // 99 nested blocks are fine, the 100th indent is not.
    static char deep[40000];
    for (int levels = 99; levels <= 100; levels++) {
        char *p = deep;
        for (int i = 0; i <= levels; i++) {
            for (int k = 0; k < i; k++) *p++ = ' ';
            strcpy(p, i < levels ? "if x:\n" : "pass\n");
            p += strlen(p);
        }
        if (levels == 99) {
            Lexer *lexer = lex_new(deep, strlen(deep));
            int n = lex_all(lexer, toks);
            int dedents = 0;
            for (int i = 0; i < n; i++) dedents += toks[i].kind == TK_DEDENT;
            CHECK(toks[n - 1].kind == TK_EOF && dedents == 99,
                  "99 levels: %s, %d dedents", lex_kind_name(toks[n - 1].kind),
                  dedents);
            lex_free(lexer);
        } else {
            EXPECT_ERROR(deep, "IndentationError",
                         "too many levels of indentation", 101, 0);
        }
    }
}

static void test_bracket_errors(void) {
    SYNTAX("x = (1,\n", "'(' was never closed", 1, 4);
    SYNTAX("x = (1,\n\n  # c\n", "'(' was never closed", 1, 4);
    SYNTAX("x = [1,\n(2,\n", "'(' was never closed", 2, 0);
    SYNTAX("x = {'a': [1,", "'[' was never closed", 1, 10);
    SYNTAX("x = )\n", "unmatched ')'", 1, 4);
    SYNTAX("}\n", "unmatched '}'", 1, 0);
    SYNTAX("x = (]\n",
           "closing parenthesis ']' does not match opening parenthesis '('", 1,
           5);
    SYNTAX("x = (1\n  ]\n",
           "closing parenthesis ']' does not match opening parenthesis '(' on "
           "line 1",
           2, 2);
    SYNTAX("x = {1:[2,\n3)\n",
           "closing parenthesis ')' does not match opening parenthesis '[' on "
           "line 1",
           2, 1);
    // Tokenizer errors count characters, not bytes.
    SYNTAX("x = \"é\" + )\n", "unmatched ')'", 1, 10);

    // MAXLEVEL is 200.
    static char src[1000];
    for (int n = 200; n <= 201; n++) {
        strcpy(src, "x = ");
        for (int i = 0; i < n; i++) strcat(src, "(");
        for (int i = 0; i < n; i++) strcat(src, ")");
        strcat(src, "\n");
        if (n == 200)
            EXPECT_KINDS("x = ((((()))))\n", TK_NAME, TK_ASSIGN, TK_LPAREN,
                         TK_LPAREN, TK_LPAREN, TK_LPAREN, TK_LPAREN, TK_RPAREN,
                         TK_RPAREN, TK_RPAREN, TK_RPAREN, TK_RPAREN, TK_NEWLINE,
                         TK_EOF);
        Lexer *lexer = lex_new(src, strlen(src));
        int count = lex_all(lexer, toks);
        if (n == 200)
            CHECK(toks[count - 1].kind == TK_EOF, "200 nested brackets: %s",
                  lex_error_message(lexer));
        lex_free(lexer);
        if (n == 201) SYNTAX(src, "too many nested parentheses", 1, 204);
    }
}

static void test_continuation_errors(void) {
    SYNTAX("x = 1 \\ y\n", "unexpected character after line continuation "
                          "character", 1, 7);
    SYNTAX("x = 1\ny = 2 \\ z\n", "unexpected character after line "
                                 "continuation character", 2, 7);
    SYNTAX("x = 1 \\", "unexpected EOF while parsing", 1, 7);
    SYNTAX("x = 1 \\\n", "unexpected EOF while parsing", 1, 7);
    SYNTAX("x = 1 + \\\n  \\\n", "unexpected EOF while parsing", 2, 3);
    // A backslash that starts a line: CPython gives no column.
    SYNTAX("x = 1\n\\\n", "unexpected EOF while parsing", 2, -1);
    SYNTAX("x = (1 \\\n", "'(' was never closed", 1, 4);
}

static void test_numbers(void) {
    const char *src = "0 7 00 0_0 0x1F 0XdeadBEEF 0o17 0O7 0b101 0B1_0 0x_f "
                      "1_000 9223372036854775807 9223372036854775808 "
                      "0xffffffffffffffff 0x7fffffffffffffff "
                      "99999999999999999999999999";
    const struct {
        int64_t i;
        bool big;
    } want[] = {{0, false},
                {7, false},
                {0, false},
                {0, false},
                {31, false},
                {0xdeadbeef, false},
                {15, false},
                {7, false},
                {5, false},
                {2, false},
                {15, false},
                {1000, false},
                {INT64_MAX, false},
                {0, true},
                {0, true},
                {INT64_MAX, false},
                {0, true}};
    Lexer *lexer = lex_new(src, strlen(src));
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        Token t = lex_next(lexer);
        CHECK(t.kind == TK_INT && t.big == want[k].big &&
                  (want[k].big || t.i == want[k].i),
              "int #%zu: %s %.*s i=%lld big=%d", k, lex_kind_name(t.kind),
              t.length, t.start, (long long)t.i, t.big);
    }
    lex_free(lexer);

    const char *fsrc = "1.5 .5 5. 1e10 1.5E-3 1_000.0 0e0 1.e5 09.5 1e5_0 "
                       "1_0.0_1 1e400 1E+2";
    const double fwant[] = {1.5,   .5,  5.,    1e10, 1.5E-3, 1000.0, 0.0,
                            1.e5,  9.5, 1e50,  10.01, HUGE_VAL, 100.0};
    lexer = lex_new(fsrc, strlen(fsrc));
    for (size_t k = 0; k < sizeof fwant / sizeof fwant[0]; k++) {
        Token t = lex_next(lexer);
        CHECK(t.kind == TK_FLOAT && t.f == fwant[k], "float #%zu: %s %.*s = %g",
              k, lex_kind_name(t.kind), t.length, t.start, t.f);
    }
    lex_free(lexer);

    // A number may run into a keyword (CPython only warns).
    EXPECT_KINDS("1else 1.else 0x1for", TK_INT, TK_ELSE, TK_FLOAT, TK_ELSE,
                 TK_INT, TK_OR, TK_NEWLINE, TK_EOF);
    Token t = nth("0x1for", 0);
    CHECK(t.kind == TK_INT && t.i == 0x1f && t.length == 4, "0x1f then or");

    const char *lz = "leading zeros in decimal integer literals are not "
                     "permitted; use an 0o prefix for octal integers";
    SYNTAX("x = 012\n", lz, 1, 4);
    SYNTAX("x = 0_7\n", lz, 1, 4);
    SYNTAX("x = 中 + 0777\n", lz, 1, 10); // a byte column
    SYNTAX("x = 1abc\n", "invalid decimal literal", 1, 4);
    SYNTAX("x = 1_\n", "invalid decimal literal", 1, 5);
    SYNTAX("x = 1__0\n", "invalid decimal literal", 1, 5);
    SYNTAX("x = 1e\n", "invalid decimal literal", 1, 4);
    SYNTAX("x = 1.5e+\n", "invalid decimal literal", 1, 8);
    SYNTAX("x = 1e_5\n", "invalid decimal literal", 1, 4);
    SYNTAX("x = 1._x\n", "invalid decimal literal", 1, 5);
    SYNTAX("x = 0.5_\n", "invalid decimal literal", 1, 7);
    SYNTAX("x = \"é\" + 1abc\n", "invalid decimal literal", 1, 10);
    SYNTAX("x = 0x\n", "invalid hexadecimal literal", 1, 5);
    SYNTAX("x = 0xg\n", "invalid hexadecimal literal", 1, 5);
    SYNTAX("x = 0o\n", "invalid octal literal", 1, 5);
    SYNTAX("x = 0o17a\n", "invalid octal literal", 1, 7);
    SYNTAX("x = 0o8\n", "invalid digit '8' in octal literal", 1, 6);
    SYNTAX("x = 0b\n", "invalid binary literal", 1, 5);
    SYNTAX("x = 0b1_\n", "invalid binary literal", 1, 7);
    SYNTAX("x = 0b2\n", "invalid digit '2' in binary literal", 1, 6);
    SYNTAX("x = 0b12\n", "invalid digit '2' in binary literal", 1, 7);
    SYNTAX("x = 1jx\n", "invalid imaginary literal", 1, 5);
    const char *complex = "complex numbers are not supported in asyncrun";
    SYNTAX("x = 1j\n", complex, 1, 4);
    SYNTAX("x = 1.5J\n", complex, 1, 4);
    SYNTAX("x = 1e5j\n", complex, 1, 4);
    SYNTAX("x = 07j\n", complex, 1, 4);
}

// The decoded value of the first string token in [src].
static void expect_string_at(int line, const char *src, const char *want,
                             size_t want_len) {
    Lexer *lexer = lex_new(src, strlen(src));
    Token t;
    do t = lex_next(lexer);
    while (t.kind != TK_STRING && t.kind != TK_EOF && t.kind != TK_ERROR);
    bool ok = t.kind == TK_STRING && t.str_len == want_len &&
              memcmp(t.str, want, want_len) == 0 && t.str[t.str_len] == '\0';
    check(ok, line, "string %s: got %s len %zu %s", src, lex_kind_name(t.kind),
          t.str_len, t.kind == TK_ERROR ? lex_error_message(lexer) : "");
    lex_free(lexer);
}

#define EXPECT_STRING(src, want)                                              \
    expect_string_at(__LINE__, src, want, sizeof(want) - 1)

static void test_strings(void) {
    EXPECT_STRING("'abc'", "abc");
    EXPECT_STRING("\"\"", "");
    EXPECT_STRING("''''''", "");
    EXPECT_STRING("\"it's\"", "it's");
    EXPECT_STRING("'''a\nb'''", "a\nb");
    EXPECT_STRING("\"\"\"a\"b\"\"c\"\"\"", "a\"b\"\"c");
    EXPECT_STRING("'\\n\\t\\r\\\\\\'\\\"\\a\\b\\f\\v'", "\n\t\r\\'\"\a\b\f\v");
    EXPECT_STRING("'\\0\\7\\101\\1234\\777'", "\0\a" "A" "S4\xc7\xbf");
    EXPECT_STRING("'\\x41\\x7a\\xe9'", "Az\xc3\xa9");
    EXPECT_STRING("'\\u00e9\\u20AC'", "é€");
    EXPECT_STRING("'\\U0001F600'", "\xf0\x9f\x98\x80");
    EXPECT_STRING("'\\d\\w\\8\\{'", "\\d\\w\\8\\{"); // unknown escapes kept
    EXPECT_STRING("'a\\\nb'", "ab");                 // line continuation
    EXPECT_STRING("'a\\\r\nb'", "ab");
    EXPECT_STRING("'é中😀'", "é中😀");
    EXPECT_STRING("'\\é'", "\\é");
    EXPECT_STRING("r'\\n\\x\\''", "\\n\\x\\'");
    EXPECT_STRING("R\"a\\\nb\"", "a\\\nb");
    EXPECT_STRING("u'\\n'", "\n");
    EXPECT_STRING("U'x'", "x");
    EXPECT_STRING("'''a\r\nb\rc'''", "a\nb\nc");
    EXPECT_STRING("'''a\\''''", "a'");
    EXPECT_KINDS("'a' \"b\" '''c''' r'd'", TK_STRING, TK_STRING, TK_STRING,
                 TK_STRING, TK_NEWLINE, TK_EOF);

    Token t = nth("x = r'a' + 'b'", 2);
    CHECK(t.kind == TK_STRING && t.is_raw && t.length == 4 && t.col == 4,
          "raw string token");

    // Errors.
    SYNTAX("x = 'abc\n", "unterminated string literal (detected at line 1)", 1,
           4);
    SYNTAX("x = 'abc", "unterminated string literal (detected at line 1)", 1, 4);
    SYNTAX("x = 'abc\\'\n", "unterminated string literal (detected at line 1)",
           1, 4);
    SYNTAX("x = 'abc\\\ndef\n",
           "unterminated string literal (detected at line 2)", 1, 4);
    SYNTAX("x = 'abc\\\n", "unterminated string literal (detected at line 1)",
           1, 4);
    SYNTAX("x = f'abc\n", "unterminated string literal (detected at line 1)", 1,
           4);
    SYNTAX("x = (1,\n'abc", "unterminated string literal (detected at line 2)",
           2, 0);
    SYNTAX("x = '''abc\n\n",
           "unterminated triple-quoted string literal (detected at line 2)", 1,
           4);
    SYNTAX("\"\"\"\n\n\nabc",
           "unterminated triple-quoted string literal (detected at line 4)", 1,
           0);
    SYNTAX("x = \"é\" + 'abc\n",
           "unterminated string literal (detected at line 1)", 1, 10);
    const char *bytes = "bytes literals are not supported in asyncrun";
    SYNTAX("x = b'a'\n", bytes, 1, 4);
    SYNTAX("x = Rb'a'\n", bytes, 1, 4);
    SYNTAX("x = bR'''a'''\n", bytes, 1, 4);

    // Escape errors: CPython reports them at the token after the string(s).
    SYNTAX("x = 'a\\xZZ'\n",
           "(unicode error) 'unicodeescape' codec can't decode bytes in "
           "position 1-2: truncated \\xXX escape",
           1, 11);
    SYNTAX("x = 'a\\x4'\n",
           "(unicode error) 'unicodeescape' codec can't decode bytes in "
           "position 1-3: truncated \\xXX escape",
           1, 10);
    SYNTAX("x = 'a\\u12'\n",
           "(unicode error) 'unicodeescape' codec can't decode bytes in "
           "position 1-4: truncated \\uXXXX escape",
           1, 11);
    SYNTAX("x = 'a\\U1234'\n",
           "(unicode error) 'unicodeescape' codec can't decode bytes in "
           "position 1-6: truncated \\UXXXXXXXX escape",
           1, 13);
    SYNTAX("x = 'a\\U00110000'\n",
           "(unicode error) 'unicodeescape' codec can't decode bytes in "
           "position 1-10: illegal Unicode character",
           1, 17);
    SYNTAX("x = 'a\\xZZ' 'b' + 1\n",
           "(unicode error) 'unicodeescape' codec can't decode bytes in "
           "position 1-2: truncated \\xXX escape",
           1, 16);
    SYNTAX("x = ('a\\xZZ'\n  'b')\n",
           "(unicode error) 'unicodeescape' codec can't decode bytes in "
           "position 1-2: truncated \\xXX escape",
           2, 5);
    SYNTAX("x = 'a\\xZZ'  # c\n",
           "(unicode error) 'unicodeescape' codec can't decode bytes in "
           "position 1-2: truncated \\xXX escape",
           1, 13);
    // Non-ASCII characters count as \UXXXXXXXX in the position.
    SYNTAX("x = 'é\\xZZ'\n",
           "(unicode error) 'unicodeescape' codec can't decode bytes in "
           "position 10-11: truncated \\xXX escape",
           1, 12);
    SYNTAX("x = '\\é\\xZZ'\n",
           "(unicode error) 'unicodeescape' codec can't decode bytes in "
           "position 16-17: truncated \\xXX escape",
           1, 13);
    SYNTAX("x = 'a\\\r\nb\\xZZ'\n",
           "(unicode error) 'unicodeescape' codec can't decode bytes in "
           "position 4-5: truncated \\xXX escape",
           2, 6);
    SYNTAX("x = '\\N{DASH}'\n",
           "(unicode error) \\N{...} escapes are not supported in asyncrun", 1,
           14);
    // The tokenizer's own error after the string wins; tokens only the
    // parser (or our subset) rejects do not.
    SYNTAX("x = 'a\\xZZ' )\n", "unmatched ')'", 1, 12);
    SYNTAX("x = 'a\\xZZ' 0x\n", "invalid hexadecimal literal", 1, 13);
    SYNTAX("x = ['a\\xZZ'\n", "'[' was never closed", 1, 4);
    const char *truncated = "(unicode error) 'unicodeescape' codec can't "
                            "decode bytes in position 1-2: truncated \\xXX "
                            "escape";
    SYNTAX("x = 'a\\xZZ' `\n", truncated, 1, 12);
    SYNTAX("x = 'a\\xZZ' 1j\n", truncated, 1, 12);
    SYNTAX("x = 'a\\xZZ' b'c' + 1\n", truncated, 1, 17);
}

static void test_fstrings(void) {
    const struct {
        const char *src, *body;
        bool raw;
    } cases[] = {
        {"f'{x!r:>{width}}\\n'", "{x!r:>{width}}\\n", false},
        {"F\"a{{b}}c\"", "a{{b}}c", false},
        {"rf'\\d{x}'", "\\d{x}", true},
        {"fR'\\d'", "\\d", true},
        {"Rf''", "", true},
        {"f'''a\r\nb\"'''", "a\nb\"", false},
        {"f'a\\'b'", "a\\'b", false},
        {"f'é{x}'", "é{x}", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Lexer *lexer = lex_new(cases[i].src, strlen(cases[i].src));
        Token t = lex_next(lexer);
        size_t n = strlen(cases[i].body);
        CHECK(t.kind == TK_FSTRING && t.str_len == n &&
                  memcmp(t.str, cases[i].body, n) == 0 && t.str[n] == '\0' &&
                  t.is_raw == cases[i].raw &&
                  t.length == (int)strlen(cases[i].src),
              "f-string %s: %s raw=%d", cases[i].src, lex_kind_name(t.kind),
              t.is_raw);
        lex_free(lexer);
    }
    // The token's text stays valid until lex_free.
    const char *src = "x = f'{a}' + 'b' + f'{c}'";
    Lexer *lexer = lex_new(src, strlen(src));
    int n = lex_all(lexer, toks);
    CHECK(n == 9 && toks[2].kind == TK_FSTRING && strcmp(toks[2].str, "{a}") == 0 &&
              toks[4].kind == TK_STRING && strcmp(toks[4].str, "b") == 0 &&
              toks[6].kind == TK_FSTRING && strcmp(toks[6].str, "{c}") == 0,
          "strings stay valid until lex_free");
    lex_free(lexer);
}

static void test_bad_characters(void) {
    SYNTAX("x = $\n", "invalid syntax", 1, 4);
    SYNTAX("x = ?\n", "invalid syntax", 1, 4);
    SYNTAX("x = `\n", "invalid syntax", 1, 4);
    SYNTAX("x = a!b\n", "invalid syntax", 1, 5);
    SYNTAX("x = 1 <> 2\n", "invalid syntax", 1, 6);
    SYNTAX("x = \x01\n", "invalid non-printable character U+0001", 1, 4);
    SYNTAX("x = 1\x1b\n", "invalid non-printable character U+001B", 1, 5);
    SYNTAX("x = \x7f\n", "invalid non-printable character U+007F", 1, 4);
    SYNTAX("x = \x0b\n", "invalid non-printable character U+000B", 1, 4);
    SYNTAX("x = €\n", "invalid character '€' (U+20AC)", 1, 4);
    SYNTAX("x = a€\n", "invalid character '€' (U+20AC)", 1, 5);
    SYNTAX("x = 1€\n", "invalid character '€' (U+20AC)", 1, 5);
    SYNTAX("x = \"é\" + €\n", "invalid character '€' (U+20AC)", 1, 10);
    SYNTAX("x = \u2018a\u2019\n", "invalid character '\u2018' (U+2018)", 1, 4);
    SYNTAX("x = \u2014\n", "invalid character '\u2014' (U+2014)", 1, 4);
    SYNTAX("x = \u00b7\n", "invalid character '\u00b7' (U+00B7)", 1, 4);
    SYNTAX("x = \u00a0\n", "invalid non-printable character U+00A0", 1, 4);
    SYNTAX("x = a\u200bb\n", "invalid non-printable character U+200B", 1, 5);
    SYNTAX("x = 1\n\xef\xbb\xbfy\n", "invalid non-printable character U+FEFF", 2,
           0);
    EXPECT_KINDS("x = a\u00b7b", TK_NAME, TK_ASSIGN, TK_NAME, TK_NEWLINE,
                 TK_EOF);
}

static void test_nul_and_utf8(void) {
    const char *nul = "source code cannot contain null bytes";
    EXPECT_ERROR_N("x = 1\0\n", "SyntaxError", nul, 1, -1);
    EXPECT_ERROR_N("x = 1\ny = 2\0 + 3\n", "SyntaxError", nul, 2, -1);
    EXPECT_ERROR_N("if x:\n  y\n\0\n", "SyntaxError", nul, 3, -1);
    EXPECT_ERROR_N("x = \"\"\"\n\0\"\"\"\n", "SyntaxError", nul, 2, -1);
    EXPECT_ERROR_N("x = (1,\n\0)\n", "SyntaxError", nul, 2, -1);
    // Lines before the NUL's line are lexed normally.
    Lexer *lexer = lex_new("x\ny\0", 4);
    Token a = lex_next(lexer), b = lex_next(lexer), c = lex_next(lexer);
    CHECK(a.kind == TK_NAME && b.kind == TK_NEWLINE && c.kind == TK_ERROR,
          "tokens before the NUL line");
    lex_free(lexer);

    // Invalid UTF-8, worded as compile() does.
    EXPECT_ERROR_N("x = \"\xff\"\n", "SyntaxError",
                   "(unicode error) 'utf-8' codec can't decode byte 0xff in "
                   "position 0: invalid start byte",
                   1, 7);
    EXPECT_ERROR_N("x = \"ab\xe9\" + 1\n", "SyntaxError",
                   "(unicode error) 'utf-8' codec can't decode byte 0xe9 in "
                   "position 2: unexpected end of data",
                   1, 10);
    EXPECT_ERROR_N("x = \"\xe2\x82\"\n", "SyntaxError",
                   "(unicode error) 'utf-8' codec can't decode bytes in "
                   "position 0-1: unexpected end of data",
                   1, 8);
    EXPECT_ERROR_N("x = \"a\xe2\x82x\"\n", "SyntaxError",
                   "(unicode error) 'utf-8' codec can't decode bytes in "
                   "position 1-2: invalid continuation byte",
                   1, 10);
    EXPECT_ERROR_N("x = \"\xe0\x80\x80\"\n", "SyntaxError",
                   "(unicode error) 'utf-8' codec can't decode byte 0xe0 in "
                   "position 0: invalid continuation byte",
                   1, 9);
    EXPECT_ERROR_N("x = \"\xed\xa0\x80\"\n", "SyntaxError",
                   "(unicode error) 'utf-8' codec can't decode byte 0xed in "
                   "position 0: invalid continuation byte",
                   1, 9);
    EXPECT_ERROR_N("x = \"\"\"a\nb\xff\"\"\"\n", "SyntaxError",
                   "(unicode error) 'utf-8' codec can't decode byte 0xff in "
                   "position 3: invalid start byte",
                   2, 5);
    EXPECT_ERROR_N("ab\xff = 1\n", "SyntaxError",
                   "(unicode error) 'utf-8' codec can't decode byte 0xff in "
                   "position 2: invalid start byte",
                   1, 2);
    EXPECT_ERROR_N("x = 1\n\xff = 2\n", "SyntaxError",
                   "(unicode error) 'utf-8' codec can't decode byte 0xff in "
                   "position 0: invalid start byte",
                   2, 0);
    EXPECT_ERROR_N("x\xe2\x82" "a = 1\n", "SyntaxError",
                   "(unicode error) 'utf-8' codec can't decode bytes in "
                   "position 1-2: invalid continuation byte",
                   1, 3);
    EXPECT_ERROR_N("x = 1  # \xc3(\n", "SyntaxError",
                   "(unicode error) 'utf-8' codec can't decode byte 0xc3 in "
                   "position 2: invalid continuation byte",
                   1, 9);
}

static void test_newlines_and_bom(void) {
    const TokenKind block[] = {TK_IF,      TK_NAME,    TK_COLON, TK_NEWLINE,
                               TK_INDENT,  TK_NAME,    TK_NEWLINE, TK_DEDENT,
                               TK_NAME,    TK_NEWLINE, TK_EOF};
    const char *variants[] = {"if x:\n    y\n\nz\n", "if x:\r\n    y\r\n\r\nz\r\n",
                              "if x:\r    y\r\rz\r",
                              "\xef\xbb\xbfif x:\n    y\n\nz\n"};
    for (size_t v = 0; v < 4; v++) {
        Lexer *lexer = lex_new(variants[v], strlen(variants[v]));
        int n = lex_all(lexer, toks);
        bool ok = n == 11;
        for (int i = 0; ok && i < n; i++) ok = toks[i].kind == block[i];
        CHECK(ok && toks[0].col == 0 && toks[8].line == 4 && toks[8].col == 0,
              "newline variant %zu", v);
        lex_free(lexer);
    }
    EXPECT_POS("x = (1,\r\n     2)\r\n", 5, TK_INT, 2, 5);
    EXPECT_POS("\xef\xbb\xbfx = 1", 2, TK_INT, 1, 4);
    EXPECT_STRING("'''a\r\nb'''", "a\nb");
}

static void test_expression_mode(void) {
    // An f-string field lexed in place: line 3, starting at column 10.
    const char *field = "a +\n  b[\n1]";
    Lexer *lexer = lex_new_at(field, strlen(field), 3, 10, true);
    const TokenKind want[] = {TK_NAME,  TK_PLUS,     TK_NAME, TK_LBRACKET,
                              TK_INT,   TK_RBRACKET, TK_EOF};
    const int lines[] = {3, 3, 4, 4, 5, 5};
    const int cols[] = {10, 12, 2, 3, 0, 1};
    for (int i = 0; i < 7; i++) {
        Token t = lex_next(lexer);
        CHECK(t.kind == want[i] && (i == 6 || (t.line == lines[i] &&
                                               t.col == cols[i])),
              "expression token %d: %s at %d:%d", i, lex_kind_name(t.kind),
              t.line, t.col);
    }
    lex_free(lexer);

    lexer = lex_new_at("(x", 2, 7, 4, true);
    lex_next(lexer);
    lex_next(lexer);
    CHECK(lex_next(lexer).kind == TK_ERROR && lex_error_line(lexer) == 7 &&
              lex_error_col(lexer) == 4 &&
              strcmp(lex_error_message(lexer), "'(' was never closed") == 0,
          "unclosed bracket in a field");
    lex_free(lexer);

    lexer = lex_new_at("x $", 3, 2, 5, true);
    lex_next(lexer);
    CHECK(lex_next(lexer).kind == TK_ERROR && lex_error_col(lexer) == 7,
          "error column in a field: %d", lex_error_col(lexer));
    lex_free(lexer);

    // Not expression-only: positions still shift.
    lexer = lex_new_at("x", 1, 5, 2, false);
    Token t = lex_next(lexer);
    CHECK(t.kind == TK_NAME && t.line == 5 && t.col == 2, "lex_new_at position");
    lex_free(lexer);
}

static void test_sticky_eof(void) {
    Lexer *lexer = lex_new("if x:\n  y", 9);
    int n = lex_all(lexer, toks);
    CHECK(toks[n - 1].kind == TK_EOF, "reaches EOF");
    for (int i = 0; i < 3; i++)
        CHECK(lex_next(lexer).kind == TK_EOF, "EOF repeats");
    lex_free(lexer);
    lex_free(NULL);
}

static void test_decode_escapes(void) {
    char err[256];
    size_t n = 0;
    char *s = lex_decode_escapes("a\\tb\\x41\\u00e9\\\nc", 17, false, &n, err,
                                 sizeof err);
    CHECK(s && n == 7 && memcmp(s, "a\tbA\xc3\xa9" "c", 7) == 0 && s[n] == 0,
          "decode escapes");
    free(s);
    s = lex_decode_escapes("a\\tb\r\n", 6, true, &n, err, sizeof err);
    CHECK(s && n == 5 && memcmp(s, "a\\tb\n", 5) == 0, "raw keeps escapes");
    free(s);
    s = lex_decode_escapes("ab\\x4", 5, false, &n, err, sizeof err);
    CHECK(!s && strcmp(err, "(unicode error) 'unicodeescape' codec can't "
                            "decode bytes in position 2-4: truncated \\xXX "
                            "escape") == 0,
          "decode error: %s", s ? "none" : err);
    s = lex_decode_escapes("ab\\", 3, false, &n, err, sizeof err);
    CHECK(!s && strcmp(err, "(unicode error) 'unicodeescape' codec can't "
                            "decode byte 0x5c in position 2: \\ at end of "
                            "string") == 0,
          "trailing backslash: %s", s ? "none" : err);
    s = lex_decode_escapes("\xff", 1, true, &n, err, sizeof err);
    CHECK(!s && strcmp(err, "(unicode error) 'utf-8' codec can't decode byte "
                            "0xff in position 0: invalid start byte") == 0,
          "utf-8 error: %s", s ? "none" : err);
    s = lex_decode_escapes("", 0, false, &n, err, sizeof err);
    CHECK(s && n == 0 && s[0] == 0, "empty decode");
    free(s);
}

static void test_source_line(void) {
    const char *src = "\xef\xbb\xbf" "first\r\nsecond\rthird\n\nfifth";
    size_t len = strlen(src), n = 0;
    const char *start = NULL;
    const char *want[] = {"first", "second", "third", "", "fifth"};
    for (int line = 1; line <= 5; line++) {
        bool ok = lex_source_line(src, len, line, &start, &n);
        CHECK(ok && n == strlen(want[line - 1]) &&
                  memcmp(start, want[line - 1], n) == 0,
              "source line %d", line);
    }
    CHECK(!lex_source_line(src, len, 6, &start, &n), "no line 6");
    CHECK(!lex_source_line(src, len, 0, &start, &n), "no line 0");
    CHECK(!lex_source_line("a\n", 2, 2, &start, &n), "final newline ends line 1");
    CHECK(lex_source_line("", 0, 1, &start, &n) && n == 0, "empty source line 1");
}

static void test_kind_names(void) {
    CHECK(strcmp(lex_kind_name(TK_EOF), "end of file") == 0, "EOF name");
    CHECK(strcmp(lex_kind_name(TK_LPAREN), "(") == 0, "( name");
    CHECK(strcmp(lex_kind_name(TK_DSLASHEQ), "//=") == 0, "//= name");
    CHECK(strcmp(lex_kind_name(TK_WHILE), "while") == 0, "while name");
    CHECK(strcmp(lex_kind_name(TK__COUNT), "?") == 0, "out of range name");
}

int main(void) {
    test_basic_tokens();
    test_operators();
    test_keywords();
    test_positions();
    test_indentation();
    test_indentation_errors();
    test_bracket_errors();
    test_continuation_errors();
    test_numbers();
    test_strings();
    test_fstrings();
    test_bad_characters();
    test_nul_and_utf8();
    test_newlines_and_bom();
    test_expression_mode();
    test_sticky_eof();
    test_decode_escapes();
    test_source_line();
    test_kind_names();
    printf("lex: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
