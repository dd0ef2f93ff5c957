// parser/parse.c - tokens to the syntax tree of ast.h, by recursive descent.
// The first error wins; its wording and place follow CPython 3.11.
#include "parser/ast.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexer/lex.h"

// Nesting past MAX_DEPTH (recursion through expressions, unary operators and
// `**`, plus long operator and trailer chains, which nest the tree as deep)
// is refused as CPython's compiler refuses it, so neither this parser nor a
// recursive walk of the tree can overflow the C stack.
enum { MAX_DEPTH = 2990, FSTRING_MAX_PARENS = 200 };

// How reading on from a token as a new expression went (see juxtaposed).
enum { TRIAL_UNKNOWN, TRIAL_OK, TRIAL_GENERIC_ERROR, TRIAL_ERROR };

typedef struct {
    Token t;
    int end_line, end_col; // just after the token
    signed char trial;     // memo for juxtaposed: TRIAL_*
} Tok;

typedef struct {
    Lexer *lexer;
    const char *src; // the module's source (NULL in an f-string field)
    size_t len;
    Arena *arena;
    ParseResult *result;
    Tok *toks; // tokens fetched; toks[pos] is the current one
    int ntoks, cap, pos;
    bool failed;
    bool lexer_failed; // the recorded error came from this parser's lexer
    bool fatal;        // a lexer error: no alternative can take it back
    bool generic;      // the failure is a bare "invalid syntax"
    // Errors CPython finds after parsing (symbol table, then compiler): kept
    // aside and reported only if the whole module parses.
    struct {
        int line, col;
        char message[128];
    } late[2];
    int quiet;         // > 0 while trying an alternative: errors not kept
    int no_invalid;    // > 0: skip the checks that look for a better message
    int depth;
    int level;               // brackets open around the current token
    int peeked_past;         // toks index of a `not`/`async` CPython reads past
    long steps;              // tokens consumed, counting re-reads by tries
    int last_line, last_col; // end of the last significant token consumed
    bool in_field;           // parsing an f-string field's expression
    int field_line, field_col;
} Parser;

typedef struct {
    int pos, last_line, last_col, level, depth;
} Mark;

typedef struct {
    Node **items;
    int count, cap;
} Vec;

typedef struct {
    char *chars;
    size_t length, cap;
} Buf;

typedef enum { TARGET_STAR, TARGET_DEL, TARGET_FOR } TargetKind;

static Node *expression(Parser *p);
static Node *named_expression(Parser *p);
static Node *named_expr(Parser *p, bool check_equals);
static Node *star_named_expression(Parser *p);
static Node *star_expressions(Parser *p, bool *bare_tuple);
static Node *disjunction(Parser *p);
static Node *bitwise_or(Parser *p);
static Node *factor(Parser *p);
static Node *yield_expr(Parser *p);
static Node *group_contents(Parser *p, TokenKind close, const Tok *open);
static void statement(Parser *p, Vec *out);
static void simple_stmts(Parser *p, Vec *out);

// ---------------------------------------------------------------- memory

static void *grow(Parser *p, void *items, int *cap, size_t size, int count) {
    int ncap = *cap ? *cap * 2 : 4;
    void *fresh = arena_alloc(p->arena, (size_t)ncap * size);
    if (count) memcpy(fresh, items, (size_t)count * size);
    *cap = ncap;
    return fresh;
}

#define PUSH(p, array, count, cap, value)                                      \
    do {                                                                       \
        if ((count) == (cap))                                                  \
            (array) = grow((p), (array), &(cap), sizeof *(array), (count));    \
        (array)[(count)++] = (value);                                          \
    } while (0)

static void push(Parser *p, Vec *vec, Node *node) {
    PUSH(p, vec->items, vec->count, vec->cap, node);
}

static NodeList list_of(const Vec *vec) {
    NodeList list = {vec->items, vec->count};
    return list;
}

static NodeList list_one(Parser *p, Node *node) {
    Vec vec = {0};
    push(p, &vec, node);
    return list_of(&vec);
}

static Name name_copy(Parser *p, const char *chars, size_t length) {
    char *copy = arena_alloc(p->arena, length + 1);
    if (length) memcpy(copy, chars, length);
    copy[length] = '\0';
    Name name = {copy, (int)length};
    return name;
}

static void buf_append(Parser *p, Buf *buf, const char *chars, size_t length) {
    if (buf->length + length + 1 > buf->cap) {
        size_t cap = buf->cap ? buf->cap * 2 : 32;
        while (cap < buf->length + length + 1) cap *= 2;
        char *fresh = arena_alloc(p->arena, cap);
        if (buf->length) memcpy(fresh, buf->chars, buf->length);
        buf->chars = fresh;
        buf->cap = cap;
    }
    if (length) memcpy(buf->chars + buf->length, chars, length);
    buf->length += length;
    buf->chars[buf->length] = '\0';
}

// ---------------------------------------------------------------- errors

// In an f-string field parser errors get CPython's "f-string: " prefix
// (its tokenizer errors do not).
static void record(Parser *p, const char *type, int line, int col,
                   const char *message, bool from_parser) {
    ParseResult *r = p->result;
    size_t cap = sizeof r->error_message, n = 0;
    if (p->in_field) {
        // CPython 3.11 compiles a field as "(expr)" on its own, so columns on
        // the field's first line count from that opening parenthesis.
        if (from_parser) {
            const char *prefix = "f-string: ";
            n = strlen(prefix);
            memcpy(r->error_message, prefix, n);
        }
        if (line == p->field_line) col = col - p->field_col + 1;
    }
    size_t m = strlen(message);
    if (m > cap - 1 - n) m = cap - 1 - n;
    memcpy(r->error_message + n, message, m);
    r->error_message[n + m] = '\0';
    r->error_type = type;
    r->error_line = line;
    r->error_col = col;
}

static void error_at(Parser *p, const char *type, int line, int col,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void error_at(Parser *p, const char *type, int line, int col,
                     const char *fmt, ...) {
    if (p->failed) return;
    p->failed = true;
    p->generic = strcmp(fmt, "invalid syntax") == 0;
    if (p->quiet) return;
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    record(p, type, line, col, message, true);
}

#define syntax_error(p, line, col, ...)                                        \
    error_at((p), "SyntaxError", (line), (col), __VA_ARGS__)
#define node_error(p, node, ...)                                               \
    error_at((p), "SyntaxError", (node)->line, (node)->col, __VA_ARGS__)

enum { LATE_SYMTABLE, LATE_COMPILER };

static void late_error(Parser *p, int stage, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

// The same text parses to the same call or parameter list whichever way it
// is tried, so errors found while trying alternatives count as well.
static void late_error(Parser *p, int stage, int line, int col, const char *fmt, ...) {
    if (p->late[stage].message[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->late[stage].message, sizeof p->late[stage].message, fmt, ap);
    va_end(ap);
    p->late[stage].line = line;
    p->late[stage].col = col;
}

// As in CPython, a tokenizer error ends the parse even while an alternative
// is being tried.
static void lexer_error(Parser *p) {
    if (p->fatal || (p->failed && !p->quiet)) return; // first error wins
    p->failed = true;
    p->fatal = true;
    p->lexer_failed = true;
    record(p, lex_error_type(p->lexer), lex_error_line(p->lexer),
           lex_error_col(p->lexer), lex_error_message(p->lexer), false);
}

// ---------------------------------------------------------------- tokens

static void token_end(Tok *tok) {
    const Token *t = &tok->t;
    int line = t->line, col = t->col;
    if (t->start && (t->kind == TK_STRING || t->kind == TK_FSTRING)) {
        int last_newline = -1;
        for (int i = 0; i < t->length; i++) {
            if (t->start[i] == '\n') {
                line++;
                last_newline = i;
            }
        }
        col = last_newline >= 0 ? t->length - last_newline - 1 : col + t->length;
    } else if (t->kind != TK_NEWLINE && t->kind != TK_INDENT &&
               t->kind != TK_DEDENT && t->kind != TK_EOF) {
        col += t->length;
    }
    tok->end_line = line;
    tok->end_col = col;
}

static void fetch(Parser *p) {
    if (p->ntoks == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->toks = realloc(p->toks, (size_t)p->cap * sizeof *p->toks);
        if (!p->toks) {
            fputs("asyncrun: out of memory\n", stderr);
            abort();
        }
    }
    Tok *tok = &p->toks[p->ntoks];
    TokenKind last = p->ntoks ? p->toks[p->ntoks - 1].t.kind : TK_NEWLINE;
    if (last == TK_EOF || last == TK_ERROR) {
        *tok = p->toks[p->ntoks - 1];
    } else {
        tok->t = lex_next(p->lexer);
        token_end(tok);
    }
    tok->trial = TRIAL_UNKNOWN;
    p->ntoks++;
}

static Tok *tok_at(Parser *p, int ahead) {
    while (p->pos + ahead >= p->ntoks) fetch(p);
    return &p->toks[p->pos + ahead];
}

// The current token. Reaching a lexer error records it.
static Tok *cur(Parser *p) {
    Tok *tok = tok_at(p, 0);
    if (tok->t.kind == TK_ERROR) lexer_error(p);
    return tok;
}

static TokenKind kind(Parser *p) { return cur(p)->t.kind; }
static TokenKind kind_at(Parser *p, int ahead) { return tok_at(p, ahead)->t.kind; }

static void advance(Parser *p) {
    Tok *tok = cur(p);
    TokenKind k = tok->t.kind;
    if (k == TK_EOF || k == TK_ERROR) return;
    if (k != TK_NEWLINE && k != TK_INDENT && k != TK_DEDENT) {
        p->last_line = tok->end_line;
        p->last_col = tok->end_col;
    }
    p->pos++;
    p->steps++;
}

// Trying alternatives only to word an error better can re-read the same
// tokens at every nesting level; past this budget the plain message is used,
// so no input makes the parser exponential.
static bool retry_budget_spent(const Parser *p) {
    return p->steps > 100000 + 64L * p->ntoks;
}

static bool accept(Parser *p, TokenKind k) {
    if (kind(p) != k) return false;
    advance(p);
    return true;
}

static Mark mark(Parser *p) {
    Mark m = {p->pos, p->last_line, p->last_col, p->level, p->depth};
    return m;
}

static void reset(Parser *p, Mark m) {
    p->pos = m.pos;
    p->last_line = m.last_line;
    p->last_col = m.last_col;
    p->level = m.level;
    p->depth = m.depth;
}

// Start quietly trying an alternative; end_try says whether it parsed and
// forgets any error it met.
static Mark begin_try(Parser *p) {
    p->quiet++;
    return mark(p);
}

static bool end_try(Parser *p) {
    bool ok = !p->failed;
    if (!p->fatal) p->failed = false;
    p->quiet--;
    return ok;
}

// Where an error at `tok` points. At the end of input CPython counts the
// whole last line as the column; an INDENT shows the column before the next
// token, a DEDENT none (-1).
static void error_position(Parser *p, const Tok *tok, int *line, int *col) {
    *line = tok->t.line;
    *col = tok->t.col;
    if (p->src && (tok->t.kind == TK_EOF || tok->t.kind == TK_DEDENT) &&
        tok->t.start == p->src + p->len) {
        const char *start;
        size_t length;
        if (lex_source_line(p->src, p->len, tok->t.line, &start, &length))
            *col = (int)length;
    } else if (tok->t.kind == TK_INDENT) {
        const Tok *next = tok + 1 < p->toks + p->ntoks ? tok + 1 : tok;
        *line = next->t.line;
        *col = next->t.col - 1;
    } else if (tok->t.kind == TK_DEDENT) {
        *col = -1;
    }
}

// The generic error at the current token ("unexpected indent" at an INDENT).
static void invalid_syntax(Parser *p) {
    Tok *tok = cur(p);
    if (p->failed) return;
    if (tok->t.kind == TK_INDENT || tok->t.kind == TK_DEDENT) {
        tok_at(p, 1); // error_position looks at the token after an INDENT
        tok = cur(p);
        int line, col;
        error_position(p, tok, &line, &col);
        error_at(p, "IndentationError", line, col, tok->t.kind == TK_INDENT
                                                       ? "unexpected indent"
                                                       : "unexpected unindent");
    } else {
        // After an operand CPython reads past a `not` that is not `not in`,
        // and past an `async` that is not `async for` where a comprehension
        // may start, before giving up.
        if (p->peeked_past == p->pos && (tok->t.kind == TK_NOT || tok->t.kind == TK_ASYNC))
            tok = tok_at(p, 1);
        int line, col;
        error_position(p, tok, &line, &col);
        syntax_error(p, line, col, "invalid syntax");
    }
}

// A bare "invalid syntax" already recorded moves to `tok`, where CPython's
// first pass stopped.
static void relocate_generic(Parser *p, const Tok *tok) {
    if (!p->failed || p->fatal || p->quiet || !p->generic) return;
    int line, col;
    error_position(p, tok, &line, &col);
    ParseResult *r = p->result;
    if (line > r->error_line || (line == r->error_line && col > r->error_col)) {
        r->error_line = line;
        r->error_col = col;
    }
}

static void error_here(Parser *p, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void error_here(Parser *p, const char *type, const char *fmt, ...) {
    Tok *tok = cur(p);
    if (p->failed) return;
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (tok->t.kind == TK_INDENT) {
        tok_at(p, 1); // error_position looks at the token after an INDENT
        tok = cur(p);
    }
    int line, col;
    error_position(p, tok, &line, &col);
    error_at(p, type, line, col, "%s", message);
}

static bool expect(Parser *p, TokenKind k) {
    if (accept(p, k)) return true;
    invalid_syntax(p);
    return false;
}

static void too_deep(Parser *p) {
    Tok *tok = cur(p);
    error_at(p, "RecursionError", tok->t.line, tok->t.col,
             "maximum recursion depth exceeded during compilation");
    p->generic = true; // no alternative is worth re-reading for its message
}

static bool enter(Parser *p) {
    if (p->depth >= MAX_DEPTH) {
        too_deep(p);
        return false;
    }
    p->depth++;
    return true;
}

// A chain of `length` operators or trailers nests the tree that deep.
static bool chain_ok(Parser *p, int length) {
    if (p->depth + length <= MAX_DEPTH) return true;
    too_deep(p);
    return false;
}

// ---------------------------------------------------------------- nodes

static Node *node_new(Parser *p, NodeKind k, int line, int col) {
    Node *node = arena_alloc(p->arena, sizeof *node);
    node->kind = k;
    node->line = line;
    node->col = col;
    node->end_line = p->last_line;
    node->end_col = p->last_col;
    return node;
}

static Node *node_at(Parser *p, NodeKind k, const Tok *tok) {
    return node_new(p, k, tok->t.line, tok->t.col);
}

// Where the current token starts: compound nodes begin at their first token,
// which may be a '(' before their left operand's own start.
typedef struct {
    int line, col;
} Start;

static Start here(Parser *p) {
    Tok *tok = cur(p);
    Start s = {tok->t.line, tok->t.col};
    return s;
}

static Node *node_from(Parser *p, NodeKind k, Start s) { return node_new(p, k, s.line, s.col); }

static Node *finish(Parser *p, Node *node) {
    node->end_line = p->last_line;
    node->end_col = p->last_col;
    return node;
}

static bool starts_expression(TokenKind k) {
    switch (k) {
    case TK_NAME: case TK_INT: case TK_FLOAT: case TK_STRING: case TK_FSTRING:
    case TK_LPAREN: case TK_LBRACKET: case TK_LBRACE: case TK_MINUS:
    case TK_PLUS: case TK_TILDE: case TK_NOT: case TK_LAMBDA: case TK_AWAIT:
    case TK_NONE: case TK_TRUE: case TK_FALSE: case TK_ELLIPSIS:
        return true;
    default:
        return false;
    }
}

static bool tok_is(const Tok *tok, const char *text) {
    size_t n = strlen(text);
    return tok->t.kind == TK_NAME && (size_t)tok->t.length == n &&
           memcmp(tok->t.start, text, n) == 0;
}

// CPython's _PyPegen_get_expr_name: how messages name an expression.
static const char *expr_name(const Node *e) {
    switch (e->kind) {
    case N_ATTR: return "attribute";
    case N_SUBSCRIPT: return "subscript";
    case N_STARRED: return "starred";
    case N_NAME: return "name";
    case N_LIST: return "list";
    case N_TUPLE: return "tuple";
    case N_LAMBDA: return "lambda";
    case N_CALL: return "function call";
    case N_BOOLOP: case N_BINOP: case N_UNARY: return "expression";
    case N_GENEXP: return "generator expression";
    case N_YIELD: return "yield expression";
    case N_AWAIT: return "await expression";
    case N_LISTCOMP: return "list comprehension";
    case N_SETCOMP: return "set comprehension";
    case N_DICTCOMP: return "dict comprehension";
    case N_DICT: return "dict literal";
    case N_SET: return "set display";
    case N_FSTRING: case N_FORMATTED: return "f-string expression";
    case N_NONE: return "None";
    case N_TRUE: return "True";
    case N_FALSE: return "False";
    case N_ELLIPSIS: return "ellipsis";
    case N_INT: case N_FLOAT: case N_STR: return "literal";
    case N_COMPARE: return "comparison";
    case N_IFEXP: return "conditional expression";
    case N_WALRUS: return "named expression";
    default: return "expression";
    }
}

// The part of `e` that cannot be assigned to (or deleted), or NULL.
static Node *invalid_target(Node *e, TargetKind k) {
    switch (e->kind) {
    case N_TUPLE:
    case N_LIST:
        for (int i = 0; i < e->as.list.count; i++) {
            Node *bad = invalid_target(e->as.list.items[i], k);
            if (bad) return bad;
        }
        return NULL;
    case N_STARRED:
        if (k == TARGET_DEL) return e;
        return invalid_target(e->as.unary.operand, k);
    case N_COMPARE:
        // `for f() in x` read as one expression: look left of the `in`
        if (k != TARGET_FOR) return e;
        return e->as.compare.ops[0] == AST_IN ? invalid_target(e->as.compare.left, k) : NULL;
    case N_NAME:
    case N_ATTR:
    case N_SUBSCRIPT:
        return NULL;
    default:
        return e;
    }
}

static bool check_target(Parser *p, Node *e, TargetKind k) {
    Node *bad = invalid_target(e, k);
    if (!bad) return true;
    node_error(p, bad, k == TARGET_DEL ? "cannot delete %s" : "cannot assign to %s",
               expr_name(bad));
    return false;
}

// A tuple written with parentheses starts before its first item.
static bool parenthesized_tuple(const Node *e) {
    if (e->kind != N_TUPLE) return false;
    if (e->as.list.count == 0) return true;
    const Node *first = e->as.list.items[0];
    return first->line != e->line || first->col != e->col;
}

// The atom an expression starts with (its leftmost operand, recursively).
static const Node *leftmost(const Node *e) {
    for (;;) {
        const Node *next = NULL;
        switch (e->kind) {
        case N_BINOP: next = e->as.binop.left; break;
        case N_COMPARE: next = e->as.compare.left; break;
        case N_BOOLOP: next = e->as.boolop.values.items[0]; break;
        case N_IFEXP: next = e->as.ifexp.body; break;
        case N_ATTR: next = e->as.attr.object; break;
        case N_SUBSCRIPT: next = e->as.subscript.object; break;
        case N_CALL: next = e->as.call.func; break;
        default: break;
        }
        if (!next || next->line != e->line || next->col != e->col) return e;
        e = next;
    }
}

// ---------------------------------------------------------------- atoms

static Node *field_expression(Parser *p, const char *text, size_t length,
                              int line, int col);

typedef struct {
    Parser *p;
    const char *body;
    size_t length;
    bool raw;
    int line, col; // where body[0] is in the source
    Node *whole;   // the joined string: parts take its position
    const Tok *tok;
} FString;

static void fstring_error(FString *fs, const char *message) {
    // CPython reports these at the token after the string literals.
    Tok *tok = cur(fs->p);
    syntax_error(fs->p, tok->t.line, tok->t.col, "%s", message);
}

static void position_of(const FString *fs, size_t index, int *line, int *col) {
    int l = fs->line, c = fs->col;
    for (size_t i = 0; i < index; i++) {
        if (fs->body[i] == '\n') {
            l++;
            c = 0;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static bool literal_append(FString *fs, Buf *lit, const char *raw, size_t length) {
    if (length == 0) return true;
    // A backslash left alone before a brace (f"\{x}") stays a backslash.
    size_t trailing = 0;
    while (trailing < length && raw[length - 1 - trailing] == '\\') trailing++;
    bool lone = !fs->raw && trailing % 2 == 1;
    char errbuf[200];
    size_t out_len = 0;
    char *decoded = lex_decode_escapes(raw, length - (lone ? 1 : 0), fs->raw,
                                       &out_len, errbuf, sizeof errbuf);
    if (!decoded) {
        fstring_error(fs, errbuf);
        return false;
    }
    buf_append(fs->p, lit, decoded, out_len);
    free(decoded);
    if (lone) buf_append(fs->p, lit, "\\", 1);
    return true;
}

static void literal_flush(Parser *p, Vec *parts, Buf *lit, const Node *whole) {
    if (lit->length == 0) return;
    Node *s = node_new(p, N_STR, whole->line, whole->col);
    s->end_line = whole->end_line;
    s->end_col = whole->end_col;
    s->as.str.chars = lit->chars;
    s->as.str.length = (int)lit->length;
    push(p, parts, s);
    Buf empty = {0};
    *lit = empty;
}

static bool fstring_body(FString *fs, size_t *i, int level, Vec *parts, Buf *lit);

// A replacement field at body[*i] == '{', scanned as CPython 3.11's
// fstring_find_expr does before the expression itself is parsed.
static bool fstring_field(FString *fs, size_t *i, int level, Vec *parts, Buf *lit) {
    Parser *p = fs->p;
    const char *s = fs->body;
    size_t end = fs->length;
    if (level >= 2) {
        fstring_error(fs, "f-string: expressions nested too deeply");
        return false;
    }
    (*i)++;
    size_t expr_start = *i;
    char quote = 0;
    int string_type = 0, depth = 0;
    char stack[FSTRING_MAX_PARENS];
    char message[128];
    for (; *i < end; (*i)++) {
        char ch = s[*i];
        if (ch == '\\') {
            fstring_error(fs, "f-string expression part cannot include a backslash");
            return false;
        }
        if (quote) {
            if (ch == quote) {
                if (string_type == 3) {
                    if (*i + 2 < end && s[*i + 1] == ch && s[*i + 2] == ch) {
                        *i += 2;
                        string_type = 0;
                        quote = 0;
                    }
                } else {
                    string_type = 0;
                    quote = 0;
                }
            }
            continue;
        }
        if (ch == '\'' || ch == '"') {
            if (*i + 2 < end && s[*i + 1] == ch && s[*i + 2] == ch) {
                string_type = 3;
                *i += 2;
            } else {
                string_type = 1;
            }
            quote = ch;
        } else if (ch == '[' || ch == '{' || ch == '(') {
            if (depth >= FSTRING_MAX_PARENS) {
                fstring_error(fs, "f-string: too many nested parenthesis");
                return false;
            }
            stack[depth++] = ch;
        } else if (ch == '#') {
            fstring_error(fs, "f-string expression part cannot include '#'");
            return false;
        } else if (depth == 0 && (ch == '!' || ch == ':' || ch == '}' ||
                                  ch == '=' || ch == '>' || ch == '<')) {
            if (*i + 1 < end && s[*i + 1] == '=' && ch != ':' && ch != '}') {
                (*i)++; // != == <= >=
                continue;
            }
            if (ch == '>' || ch == '<') continue;
            break;
        } else if (ch == ']' || ch == '}' || ch == ')') {
            if (!depth) {
                snprintf(message, sizeof message, "f-string: unmatched '%c'", ch);
                fstring_error(fs, message);
                return false;
            }
            char open = stack[--depth];
            if (!((open == '(' && ch == ')') || (open == '[' && ch == ']') ||
                  (open == '{' && ch == '}'))) {
                snprintf(message, sizeof message,
                         "f-string: closing parenthesis '%c' does not match "
                         "opening parenthesis '%c'",
                         ch, open);
                fstring_error(fs, message);
                return false;
            }
        }
    }
    size_t expr_end = *i;
    if (quote) {
        fstring_error(fs, "f-string: unterminated string");
        return false;
    }
    if (depth) {
        snprintf(message, sizeof message, "f-string: unmatched '%c'", stack[depth - 1]);
        fstring_error(fs, message);
        return false;
    }
    if (*i >= end) {
        fstring_error(fs, "f-string: expecting '}'");
        return false;
    }
    size_t k = expr_start;
    while (k < expr_end && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\f'))
        k++;
    if (k == expr_end) {
        char c = s[expr_end];
        if (c == '!' || c == ':' || c == '=') {
            snprintf(message, sizeof message, "f-string: expression required before '%c'", c);
            fstring_error(fs, message);
        } else {
            fstring_error(fs, "f-string: empty expression not allowed");
        }
        return false;
    }
    int line, col;
    position_of(fs, expr_start, &line, &col);
    Node *value = field_expression(p, s + expr_start, expr_end - expr_start, line, col);
    if (!value) return false;

    bool self_documenting = false;
    if (s[*i] == '=') {
        (*i)++;
        while (*i < end && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' ||
                            s[*i] == '\r' || s[*i] == '\f' || s[*i] == '\v'))
            (*i)++;
        if (*i >= end) {
            fstring_error(fs, "f-string: expecting '}'");
            return false;
        }
        self_documenting = true;
        buf_append(p, lit, s + expr_start, *i - expr_start);
    }
    int conversion = 0;
    if (s[*i] == '!') {
        (*i)++;
        if (*i >= end) {
            fstring_error(fs, "f-string: expecting '}'");
            return false;
        }
        conversion = (unsigned char)s[(*i)++];
        if (conversion != 's' && conversion != 'r' && conversion != 'a') {
            fstring_error(fs, "f-string: invalid conversion character: "
                              "expected 's', 'r', or 'a'");
            return false;
        }
    }
    Node *spec = NULL;
    if (*i < end && s[*i] == ':') {
        (*i)++;
        if (*i >= end) {
            fstring_error(fs, "f-string: expecting '}'");
            return false;
        }
        Vec spec_parts = {0};
        Buf spec_lit = {0};
        spec = node_new(p, N_FSTRING, fs->tok->t.line, fs->tok->t.col);
        spec->end_line = fs->tok->end_line;
        spec->end_col = fs->tok->end_col;
        if (!fstring_body(fs, i, level + 1, &spec_parts, &spec_lit)) return false;
        literal_flush(p, &spec_parts, &spec_lit, fs->whole);
        spec->as.list = list_of(&spec_parts);
    }
    if (*i >= end || s[*i] != '}') {
        fstring_error(fs, "f-string: expecting '}'");
        return false;
    }
    (*i)++;
    if (self_documenting && !spec && !conversion) conversion = 'r';
    literal_flush(p, parts, lit, fs->whole);
    Node *field = node_new(p, N_FORMATTED, fs->whole->line, fs->whole->col);
    field->end_line = fs->whole->end_line;
    field->end_col = fs->whole->end_col;
    field->as.formatted.value = value;
    field->as.formatted.conversion = conversion;
    field->as.formatted.spec = spec;
    push(p, parts, field);
    return true;
}

// Literal text and fields from body[*i]: to the end at level 0, to the '}'
// closing a format spec at level 1 and 2 (left in place for the caller).
static bool fstring_body(FString *fs, size_t *i, int level, Vec *parts, Buf *lit) {
    const char *s = fs->body;
    size_t end = fs->length;
    for (;;) {
        size_t start = *i;
        while (*i < end) {
            char ch = s[(*i)++];
            if (!fs->raw && ch == '\\' && *i < end) {
                ch = s[(*i)++];
                if (ch == 'N') {
                    // \N{NAME}: its braces are not a field
                    if (*i < end && s[(*i)++] == '{') {
                        while (*i < end && s[(*i)++] != '}') {
                        }
                    }
                    continue;
                }
            }
            if (ch == '{' || ch == '}') {
                if (level == 0) {
                    if (*i < end && s[*i] == ch) {
                        // doubled: keep one, go on after the other
                        if (!literal_append(fs, lit, s + start, *i - start)) return false;
                        (*i)++;
                        start = *i;
                        continue;
                    }
                    if (ch == '}') {
                        fstring_error(fs, "f-string: single '}' is not allowed");
                        return false;
                    }
                }
                (*i)--;
                break;
            }
        }
        if (!literal_append(fs, lit, s + start, *i - start)) return false;
        if (*i >= end || s[*i] == '}') break;
        if (!fstring_field(fs, i, level, parts, lit)) return false;
    }
    if (level != 0 && (*i >= end || s[*i] != '}')) {
        fstring_error(fs, "f-string: expecting '}'");
        return false;
    }
    return true;
}

static bool fstring_token(Parser *p, const Tok *tok, Node *whole, Vec *parts, Buf *lit) {
    // The body's place in the source: after the prefix letters and quotes.
    const char *text = tok->t.start;
    int prefix = 0;
    while (prefix < tok->t.length && text[prefix] != '"' && text[prefix] != '\'') prefix++;
    int quotes = 1;
    if (prefix + 6 <= tok->t.length && text[prefix + 1] == text[prefix] &&
        text[prefix + 2] == text[prefix])
        quotes = 3;
    FString fs = {p, tok->t.str, tok->t.str_len, tok->t.is_raw, tok->t.line,
                  tok->t.col + prefix + quotes, whole, tok};
    size_t i = 0;
    return fstring_body(&fs, &i, 0, parts, lit);
}

// Adjacent string literals: one N_STR, or one N_FSTRING if any is an f-string.
static Node *strings(Parser *p) {
    int first = p->pos;
    bool any_f = false;
    while (kind(p) == TK_STRING || kind(p) == TK_FSTRING) {
        if (kind(p) == TK_FSTRING) any_f = true;
        advance(p);
    }
    int last = p->pos;
    Node *node = node_at(p, any_f ? N_FSTRING : N_STR, &p->toks[first]);
    finish(p, node);
    if (!any_f) {
        Buf buf = {0};
        buf_append(p, &buf, "", 0);
        for (int i = first; i < last; i++)
            buf_append(p, &buf, p->toks[i].t.str, p->toks[i].t.str_len);
        node->as.str.chars = buf.chars;
        node->as.str.length = (int)buf.length;
        return node;
    }
    Vec parts = {0};
    Buf lit = {0};
    for (int i = first; i < last; i++) {
        Tok tok = p->toks[i];
        if (tok.t.kind == TK_STRING) {
            buf_append(p, &lit, tok.t.str, tok.t.str_len);
        } else if (!fstring_token(p, &tok, node, &parts, &lit)) {
            return NULL;
        }
    }
    literal_flush(p, &parts, &lit, node);
    node->as.list = list_of(&parts);
    return node;
}

// A field's expression, parsed by a lexer of its own over the field's text.
static Node *field_expression(Parser *p, const char *text, size_t length,
                              int line, int col) {
    Parser sub = {0};
    sub.lexer = lex_new_at(text, length, line, col, true);
    sub.arena = p->arena;
    sub.result = p->result;
    sub.quiet = p->quiet;
    sub.depth = p->depth;
    sub.level = 1; // as if inside the parentheses CPython wraps it in
    sub.last_line = line;
    sub.last_col = col;
    sub.in_field = true;
    sub.peeked_past = -1;
    sub.field_line = line;
    sub.field_col = col;
    Node *value = group_contents(&sub, TK_EOF, NULL);
    if (value && kind(&sub) != TK_EOF) invalid_syntax(&sub);
    if (sub.failed) {
        p->failed = true;
        p->generic = sub.generic;
    }
    if (sub.fatal) p->fatal = true;
    lex_free(sub.lexer);
    free(sub.toks);
    return sub.failed ? NULL : value;
}

static bool is_comp_start(Parser *p) {
    if (kind(p) == TK_FOR) return true;
    if (kind(p) != TK_ASYNC) return false;
    if (kind_at(p, 1) == TK_FOR) return true;
    p->peeked_past = p->pos;
    return false;
}

static Node *star_targets(Parser *p, bool *bare_tuple);

// The targets after `for`, and the `in`. Without the `in`, CPython reads
// them as an expression to find a better message.
static Node *for_targets(Parser *p) {
    Mark m = begin_try(p);
    Node *target = star_targets(p, NULL);
    bool ok = target && kind(p) == TK_IN;
    ok = end_try(p) && ok;
    if (p->fatal) return NULL;
    if (ok) {
        if (!check_target(p, target, TARGET_FOR)) return NULL;
        advance(p);
        return target;
    }
    int stop = p->pos;
    reset(p, m);
    if (retry_budget_spent(p)) {
        p->pos = stop;
        invalid_syntax(p);
        return NULL;
    }
    Mark t = begin_try(p);
    Node *e = star_expressions(p, NULL);
    bool generic = p->generic;
    ok = end_try(p) && e;
    if (p->fatal) return NULL;
    if (ok) {
        if (!check_target(p, e, TARGET_FOR)) return NULL;
    } else if (!generic) {
        reset(p, t);
        star_expressions(p, NULL);
        if (p->failed) return NULL;
    }
    reset(p, m);
    p->pos = stop;
    invalid_syntax(p);
    return NULL;
}

static bool comprehension_clauses(Parser *p, Node *comp) {
    Comprehension *gens = NULL;
    int count = 0, cap = 0;
    while (is_comp_start(p)) {
        Comprehension c;
        memset(&c, 0, sizeof c);
        if (kind(p) == TK_ASYNC) {
            c.is_async = true;
            advance(p);
        }
        advance(p); // for
        c.target = for_targets(p);
        if (!c.target) return false;
        c.iter = disjunction(p);
        if (!c.iter) return false;
        Vec ifs = {0};
        while (accept(p, TK_IF)) {
            Node *cond = disjunction(p);
            if (!cond) return false;
            push(p, &ifs, cond);
        }
        c.ifs = list_of(&ifs);
        PUSH(p, gens, count, cap, c);
    }
    comp->as.comp.generators = gens;
    comp->as.comp.generator_count = count;
    return true;
}

// elt (and value for a dict) then the for/if clauses, closed by `close`.
static Node *comprehension(Parser *p, NodeKind k, Node *elt, Node *value,
                           const Tok *open, TokenKind close) {
    Node *comp = open ? node_at(p, k, open) : node_new(p, k, elt->line, elt->col);
    comp->as.comp.elt = elt;
    comp->as.comp.value = value;
    if (!comprehension_clauses(p, comp)) return NULL;
    if (!expect(p, close)) return NULL;
    return finish(p, comp);
}

// Inside ( ): empty tuple, yield, group, tuple or generator expression.
// An f-string field is parsed the same way with close = EOF and no open.
static Node *group_contents(Parser *p, TokenKind close, const Tok *open) {
    if (open && kind(p) == close) {
        Node *t = node_at(p, N_TUPLE, open);
        advance(p);
        return finish(p, t);
    }
    if (kind(p) == TK_YIELD) {
        Node *y = yield_expr(p);
        if (!y || !expect(p, close)) return NULL;
        return y;
    }
    if (kind(p) == TK_DSTAR) {
        Tok dstar = *cur(p);
        advance(p);
        if (!expression(p)) return NULL;
        if (kind(p) == close)
            syntax_error(p, dstar.t.line, dstar.t.col, "cannot use double starred expression here");
        else
            invalid_syntax(p);
        return NULL;
    }
    Start start = here(p);
    Node *first = star_named_expression(p);
    if (!first) return NULL;
    if (first->kind != N_STARRED && is_comp_start(p))
        return comprehension(p, N_GENEXP, first, NULL, open, close);
    if (kind(p) == TK_COMMA) {
        Node *t = open ? node_at(p, N_TUPLE, open) : node_from(p, N_TUPLE, start);
        Vec items = {0};
        push(p, &items, first);
        while (accept(p, TK_COMMA)) {
            if (kind(p) == close) break;
            Node *item = star_named_expression(p);
            if (!item) return NULL;
            push(p, &items, item);
        }
        t->as.list = list_of(&items);
        if (!open) finish(p, t);
        if (!expect(p, close)) return NULL;
        return open ? finish(p, t) : t;
    }
    if (kind(p) != close) {
        invalid_syntax(p);
        return NULL;
    }
    if (first->kind == N_STARRED) {
        node_error(p, first, "cannot use starred expression here");
        return NULL;
    }
    advance(p);
    return first;
}

static Node *star_named_expression(Parser *p) {
    if (kind(p) != TK_STAR) return named_expression(p);
    Tok star = *cur(p);
    advance(p);
    Node *operand = bitwise_or(p);
    if (!operand) return NULL;
    Node *s = node_at(p, N_STARRED, &star);
    s->as.unary.operand = operand;
    return finish(p, s);
}

static Node *list_atom(Parser *p) {
    Tok open = *cur(p);
    advance(p);
    p->level++;
    Node *list = node_at(p, N_LIST, &open);
    Vec items = {0};
    if (kind(p) != TK_RBRACKET) {
        Node *first = star_named_expression(p);
        if (!first) return NULL;
        if (is_comp_start(p)) {
            if (first->kind == N_STARRED) {
                node_error(p, first, "iterable unpacking cannot be used in comprehension");
                return NULL;
            }
            Node *comp = comprehension(p, N_LISTCOMP, first, NULL, &open, TK_RBRACKET);
            p->level--;
            return comp;
        }
        push(p, &items, first);
        while (accept(p, TK_COMMA)) {
            if (kind(p) == TK_RBRACKET) break;
            Node *item = star_named_expression(p);
            if (!item) return NULL;
            push(p, &items, item);
        }
    }
    if (!expect(p, TK_RBRACKET)) return NULL;
    p->level--;
    list->as.list = list_of(&items);
    return finish(p, list);
}

// After a dictionary key, at its ':'.
static Node *dict_value(Parser *p) {
    Tok colon_tok = *cur(p);
    advance(p);
    TokenKind k = kind(p);
    if (k == TK_RBRACE || k == TK_COMMA) {
        syntax_error(p, colon_tok.t.line, colon_tok.t.col,
                     "expression expected after dictionary key and ':'");
        return NULL;
    }
    if (k == TK_STAR) {
        error_here(p, "SyntaxError", "cannot use a starred expression in a dictionary value");
        return NULL;
    }
    return expression(p);
}

static Node *brace_atom(Parser *p) {
    Tok open = *cur(p);
    advance(p);
    p->level++;
    Vec keys = {0}, values = {0};
    bool is_dict = true;
    if (kind(p) == TK_RBRACE) goto done;
    // The first item decides between dict and set.
    if (kind(p) == TK_DSTAR) {
        advance(p);
        Node *v = bitwise_or(p);
        if (!v) return NULL;
        push(p, &keys, NULL);
        push(p, &values, v);
    } else {
        Node *first = star_named_expression(p);
        if (!first) return NULL;
        if (kind(p) == TK_COLON && first->kind != N_STARRED && first->kind != N_WALRUS) {
            Node *v = dict_value(p);
            if (!v) return NULL;
            if (is_comp_start(p)) {
                Node *comp = comprehension(p, N_DICTCOMP, first, v, &open, TK_RBRACE);
                p->level--;
                return comp;
            }
            push(p, &keys, first);
            push(p, &values, v);
        } else {
            is_dict = false;
            if (is_comp_start(p)) {
                if (first->kind == N_STARRED) {
                    node_error(p, first, "iterable unpacking cannot be used in comprehension");
                    return NULL;
                }
                Node *comp = comprehension(p, N_SETCOMP, first, NULL, &open, TK_RBRACE);
                p->level--;
                return comp;
            }
            push(p, &values, first);
        }
    }
    while (accept(p, TK_COMMA)) {
        if (kind(p) == TK_RBRACE) break;
        if (!is_dict) {
            Node *item = star_named_expression(p);
            if (!item) return NULL;
            push(p, &values, item);
        } else if (accept(p, TK_DSTAR)) {
            Node *v = bitwise_or(p);
            if (!v) return NULL;
            push(p, &keys, NULL);
            push(p, &values, v);
        } else {
            // CPython reads later keys without its extra checks
            p->no_invalid++;
            Node *k = expression(p);
            p->no_invalid--;
            if (!k) return NULL;
            if (kind(p) != TK_COLON) {
                syntax_error(p, k->end_line, k->end_col - 1, "':' expected after dictionary key");
                return NULL;
            }
            Node *v = dict_value(p);
            if (!v) return NULL;
            push(p, &keys, k);
            push(p, &values, v);
        }
    }
done:
    if (!expect(p, TK_RBRACE)) return NULL;
    p->level--;
    Node *node = node_at(p, is_dict ? N_DICT : N_SET, &open);
    if (is_dict) {
        node->as.dict.keys = list_of(&keys);
        node->as.dict.values = list_of(&values);
    } else {
        node->as.list = list_of(&values);
    }
    return finish(p, node);
}

static Node *atom(Parser *p) {
    Tok *tok = cur(p);
    Node *node;
    switch (tok->t.kind) {
    case TK_NAME:
        node = node_at(p, N_NAME, tok);
        node->as.name = name_copy(p, tok->t.start, (size_t)tok->t.length);
        break;
    case TK_TRUE: node = node_at(p, N_TRUE, tok); break;
    case TK_FALSE: node = node_at(p, N_FALSE, tok); break;
    case TK_NONE: node = node_at(p, N_NONE, tok); break;
    case TK_ELLIPSIS: node = node_at(p, N_ELLIPSIS, tok); break;
    case TK_INT:
        node = node_at(p, N_INT, tok);
        node->as.int_.value = tok->t.i;
        node->as.int_.big = tok->t.big;
        break;
    case TK_FLOAT:
        node = node_at(p, N_FLOAT, tok);
        node->as.float_value = tok->t.f;
        break;
    case TK_STRING:
    case TK_FSTRING:
        return strings(p);
    case TK_LPAREN: {
        Tok open = *tok;
        advance(p);
        p->level++;
        Node *inner = group_contents(p, TK_RPAREN, &open);
        if (inner) p->level--;
        return inner;
    }
    case TK_LBRACKET: return list_atom(p);
    case TK_LBRACE: return brace_atom(p);
    default:
        invalid_syntax(p);
        return NULL;
    }
    advance(p);
    return finish(p, node);
}

// ---------------------------------------------------------------- primary

static bool arguments(Parser *p, NodeList *args_out, Keyword **keywords_out,
                      int *keyword_count, const Tok *open, bool allow_genexp) {
    Vec args = {0};
    Keyword *keywords = NULL;
    int count = 0, cap = 0;
    const char *misplaced = NULL; // a positional argument after keywords
    Node *genexp = NULL;
    while (kind(p) != TK_RPAREN) {
        Tok tok = *cur(p);
        if (p->failed) return false;
        TokenKind k = tok.t.kind;
        if (k == TK_STAR) {
            advance(p);
            Node *v = expression(p);
            if (!v) return false;
            for (int i = 0; i < count; i++) {
                if (!keywords[i].name.chars) {
                    syntax_error(p, tok.t.line, tok.t.col,
                                 "iterable argument unpacking follows keyword "
                                 "argument unpacking");
                    return false;
                }
            }
            Node *s = node_at(p, N_STARRED, &tok);
            s->as.unary.operand = v;
            push(p, &args, finish(p, s));
        } else if (k == TK_DSTAR) {
            advance(p);
            Node *v = expression(p);
            if (!v) return false;
            Keyword kw = {{NULL, 0}, v, tok.t.line, tok.t.col};
            PUSH(p, keywords, count, cap, kw);
        } else if (k == TK_NAME && kind_at(p, 1) == TK_ASSIGN) {
            advance(p);
            advance(p);
            Node *v = expression(p);
            if (!v) return false;
            if (is_comp_start(p)) {
                syntax_error(p, tok.t.line, tok.t.col,
                             "invalid syntax. Maybe you meant '==' or ':=' instead of '='?");
                return false;
            }
            Keyword kw = {name_copy(p, tok.t.start, (size_t)tok.t.length), v,
                          tok.t.line, tok.t.col};
            for (int i = 0; i < count; i++)
                if (keywords[i].name.chars && strcmp(keywords[i].name.chars, kw.name.chars) == 0)
                    late_error(p, LATE_COMPILER, kw.line, kw.col, "keyword argument repeated: %s",
                               kw.name.chars);
            PUSH(p, keywords, count, cap, kw);
        } else if ((k == TK_TRUE || k == TK_FALSE || k == TK_NONE) &&
                   kind_at(p, 1) == TK_ASSIGN) {
            syntax_error(p, tok.t.line, tok.t.col, "cannot assign to %s",
                         lex_kind_name(k));
            return false;
        } else {
            Node *e = named_expr(p, false);
            if (!e) return false;
            if (is_comp_start(p)) {
                if (!allow_genexp && !args.count && !count) {
                    invalid_syntax(p);
                    return false;
                }
                genexp = node_at(p, N_GENEXP, open);
                genexp->as.comp.elt = e;
                if (!comprehension_clauses(p, genexp)) return false;
                if (!allow_genexp || args.count || count || kind(p) == TK_COMMA) {
                    node_error(p, e, "Generator expression must be parenthesized");
                    return false;
                }
                push(p, &args, genexp);
                break;
            }
            if (kind(p) == TK_ASSIGN) {
                node_error(p, e, "expression cannot contain assignment, perhaps "
                                 "you meant \"==\"?");
                return false;
            }
            if (count && !misplaced) {
                misplaced = "positional argument follows keyword argument";
                for (int i = 0; i < count; i++)
                    if (!keywords[i].name.chars)
                        misplaced = "positional argument follows keyword argument unpacking";
            }
            push(p, &args, e);
        }
        if (kind(p) != TK_COMMA) break;
        advance(p);
    }
    if (misplaced) {
        error_here(p, "SyntaxError", "%s", misplaced);
        return false;
    }
    if (!expect(p, TK_RPAREN)) return false;
    if (genexp) finish(p, genexp); // f(x for x in y): the call's parentheses
    *args_out = list_of(&args);
    *keywords_out = keywords;
    *keyword_count = count;
    return true;
}

static Node *slice_item(Parser *p) {
    Tok start = *cur(p);
    if (start.t.kind == TK_STAR) {
        advance(p);
        Node *v = expression(p);
        if (!v) return NULL;
        Node *s = node_at(p, N_STARRED, &start);
        s->as.unary.operand = v;
        return finish(p, s);
    }
    Node *lower = NULL;
    if (start.t.kind != TK_COLON) {
        lower = named_expression(p);
        if (!lower) return NULL;
        if (kind(p) != TK_COLON) return lower;
    }
    Node *slice = node_at(p, N_SLICE, &start);
    advance(p); // ':'
    slice->as.slice.lower = lower;
    if (starts_expression(kind(p))) {
        slice->as.slice.upper = expression(p);
        if (!slice->as.slice.upper) return NULL;
    }
    if (accept(p, TK_COLON) && starts_expression(kind(p))) {
        slice->as.slice.step = expression(p);
        if (!slice->as.slice.step) return NULL;
    }
    return finish(p, slice);
}

static Node *subscript(Parser *p, Node *object, Start start) {
    advance(p); // '['
    p->level++;
    Start first = here(p);
    Node *index = slice_item(p);
    if (!index) return NULL;
    if (kind(p) == TK_COMMA) {
        Node *t = node_from(p, N_TUPLE, first);
        Vec items = {0};
        push(p, &items, index);
        while (accept(p, TK_COMMA)) {
            if (kind(p) == TK_RBRACKET) break;
            Node *item = slice_item(p);
            if (!item) return NULL;
            push(p, &items, item);
        }
        t->as.list = list_of(&items);
        index = finish(p, t);
    } else if (index->kind == N_STARRED) {
        // a[*b] indexes with the tuple (*b,)
        Node *t = node_from(p, N_TUPLE, first);
        t->as.list = list_one(p, index);
        index = finish(p, t);
    }
    if (!expect(p, TK_RBRACKET)) return NULL;
    p->level--;
    Node *node = node_from(p, N_SUBSCRIPT, start);
    node->as.subscript.object = object;
    node->as.subscript.index = index;
    return finish(p, node);
}

static Node *primary(Parser *p) {
    Start start = here(p);
    Node *node = atom(p);
    if (!node) return NULL;
    for (int chain = 1;; chain++) {
        TokenKind k = kind(p);
        if (k == TK_DOT) {
            advance(p);
            Tok *name = cur(p);
            if (name->t.kind != TK_NAME) {
                invalid_syntax(p);
                return NULL;
            }
            Node *attr = node_from(p, N_ATTR, start);
            attr->as.attr.object = node;
            attr->as.attr.name = name_copy(p, name->t.start, (size_t)name->t.length);
            advance(p);
            node = finish(p, attr);
        } else if (k == TK_LPAREN) {
            Tok open = *cur(p);
            advance(p);
            p->level++;
            Node *call = node_from(p, N_CALL, start);
            call->as.call.func = node;
            if (!arguments(p, &call->as.call.args, &call->as.call.keywords,
                           &call->as.call.keyword_count, &open, true))
                return NULL;
            p->level--;
            node = finish(p, call);
        } else if (k == TK_LBRACKET) {
            node = subscript(p, node, start);
            if (!node) return NULL;
        } else {
            return node;
        }
        if (!chain_ok(p, chain)) return NULL;
    }
}

// ---------------------------------------------------------------- operators

static Node *await_primary(Parser *p) {
    if (kind(p) != TK_AWAIT) return primary(p);
    Tok tok = *cur(p);
    advance(p);
    Node *operand = primary(p);
    if (!operand) return NULL;
    Node *node = node_at(p, N_AWAIT, &tok);
    node->as.unary.operand = operand;
    return finish(p, node);
}

static Node *power(Parser *p) {
    Start start = here(p);
    Node *base = await_primary(p);
    if (!base || kind(p) != TK_DSTAR) return base;
    advance(p);
    if (!enter(p)) return NULL;
    Node *exponent = factor(p);
    p->depth--;
    if (!exponent) return NULL;
    Node *node = node_from(p, N_BINOP, start);
    node->as.binop.op = AST_POW;
    node->as.binop.left = base;
    node->as.binop.right = exponent;
    return finish(p, node);
}

static Node *factor(Parser *p) {
    AstOp op;
    switch (kind(p)) {
    case TK_MINUS: op = AST_NEG; break;
    case TK_PLUS: op = AST_POS; break;
    case TK_TILDE: op = AST_INVERT; break;
    default: return power(p);
    }
    Tok tok = *cur(p);
    advance(p);
    if (!enter(p)) return NULL;
    Node *operand = factor(p);
    p->depth--;
    if (!operand) return NULL;
    Node *node = node_at(p, N_UNARY, &tok);
    node->as.unary.op = op;
    node->as.unary.operand = operand;
    return finish(p, node);
}

static int binary_precedence(TokenKind k, AstOp *op) {
    switch (k) {
    case TK_PIPE: *op = AST_BITOR; return 1;
    case TK_CARET: *op = AST_BITXOR; return 2;
    case TK_AMP: *op = AST_BITAND; return 3;
    case TK_LSHIFT: *op = AST_LSHIFT; return 4;
    case TK_RSHIFT: *op = AST_RSHIFT; return 4;
    case TK_PLUS: *op = AST_ADD; return 5;
    case TK_MINUS: *op = AST_SUB; return 5;
    case TK_STAR: *op = AST_MUL; return 6;
    case TK_SLASH: *op = AST_DIV; return 6;
    case TK_DSLASH: *op = AST_FLOORDIV; return 6;
    case TK_PERCENT: *op = AST_MOD; return 6;
    case TK_AT: *op = AST_MATMUL; return 6;
    default: return 0;
    }
}

// Precedence climbing over | ^ & << >> + - * / // % @, all left-associative.
static Node *binary(Parser *p, int min_precedence) {
    Start start = here(p);
    Node *left = factor(p);
    if (!left) return NULL;
    for (int chain = 1;; chain++) {
        AstOp op;
        int precedence = binary_precedence(kind(p), &op);
        if (precedence == 0 || precedence < min_precedence) return left;
        advance(p);
        Node *right = binary(p, precedence + 1);
        if (!right || !chain_ok(p, chain)) return NULL;
        Node *node = node_from(p, N_BINOP, start);
        node->as.binop.op = op;
        node->as.binop.left = left;
        node->as.binop.right = right;
        left = finish(p, node);
    }
}

static Node *bitwise_or(Parser *p) { return binary(p, 1); }

static bool compare_op(Parser *p, AstOp *op) {
    switch (kind(p)) {
    case TK_LT: *op = AST_LT; break;
    case TK_LE: *op = AST_LE; break;
    case TK_GT: *op = AST_GT; break;
    case TK_GE: *op = AST_GE; break;
    case TK_EQEQ: *op = AST_EQ; break;
    case TK_NE: *op = AST_NE; break;
    case TK_IN: *op = AST_IN; break;
    case TK_NOT:
        if (kind_at(p, 1) != TK_IN) {
            p->peeked_past = p->pos;
            return false;
        }
        advance(p);
        *op = AST_NOT_IN;
        break;
    case TK_IS:
        if (kind_at(p, 1) == TK_NOT) {
            advance(p);
            *op = AST_IS_NOT;
        } else {
            *op = AST_IS;
        }
        break;
    default:
        return false;
    }
    advance(p);
    return true;
}

static Node *comparison(Parser *p) {
    Start start = here(p);
    Node *left = bitwise_or(p);
    if (!left) return NULL;
    AstOp op;
    if (!compare_op(p, &op)) return left;
    AstOp *ops = NULL;
    int count = 0, cap = 0;
    Vec comparators = {0};
    do {
        PUSH(p, ops, count, cap, op);
        Node *right = bitwise_or(p);
        if (!right) return NULL;
        push(p, &comparators, right);
    } while (compare_op(p, &op));
    Node *node = node_from(p, N_COMPARE, start);
    node->as.compare.left = left;
    node->as.compare.ops = ops;
    node->as.compare.comparators = list_of(&comparators);
    return finish(p, node);
}

static Node *inversion(Parser *p) {
    if (kind(p) != TK_NOT) return comparison(p);
    Tok tok = *cur(p);
    advance(p);
    if (!enter(p)) return NULL;
    Node *operand = inversion(p);
    p->depth--;
    if (!operand) return NULL;
    Node *node = node_at(p, N_UNARY, &tok);
    node->as.unary.op = AST_NOT;
    node->as.unary.operand = operand;
    return finish(p, node);
}

static Node *bool_chain(Parser *p, bool is_or) {
    TokenKind k = is_or ? TK_OR : TK_AND;
    Start start = here(p);
    Node *first = is_or ? bool_chain(p, false) : inversion(p);
    if (!first || kind(p) != k) return first;
    Vec values = {0};
    push(p, &values, first);
    while (accept(p, k)) {
        Node *next = is_or ? bool_chain(p, false) : inversion(p);
        if (!next) return NULL;
        push(p, &values, next);
    }
    Node *node = node_from(p, N_BOOLOP, start);
    node->as.boolop.op = is_or ? AST_OR : AST_AND;
    node->as.boolop.values = list_of(&values);
    return finish(p, node);
}

static Node *disjunction(Parser *p) { return bool_chain(p, true); }

// ---------------------------------------------------------------- functions

// def f(a, (b, c)): at the '('.
static void parenthesized_params(Parser *p, TokenKind close) {
    Tok open = *cur(p);
    Mark m = begin_try(p);
    advance(p);
    bool ok = kind(p) == TK_NAME;
    while (ok && accept(p, TK_NAME) && accept(p, TK_COMMA)) {
        if (kind(p) == TK_RPAREN) break;
        ok = kind(p) == TK_NAME;
    }
    ok = ok && accept(p, TK_RPAREN);
    ok = end_try(p) && ok;
    reset(p, m);
    if (!ok) {
        invalid_syntax(p);
        return;
    }
    syntax_error(p, open.t.line, open.t.col,
                 close == TK_RPAREN ? "Function parameters cannot be parenthesized"
                                    : "Lambda expression parameters cannot be parenthesized");
}

// Parameters up to `close` (not consumed): `)` for def, `:` for lambda.
static bool parameters(Parser *p, Node *fn, TokenKind close, bool annotations) {
    Param *params = NULL;
    int count = 0, cap = 0;
    bool seen_default = false, seen_star = false, seen_varkw = false;
    while (kind(p) != close) {
        Tok tok = *cur(p);
        if (p->failed) return false;
        if (seen_varkw) {
            if (tok.t.kind == TK_NAME || tok.t.kind == TK_STAR || tok.t.kind == TK_DSTAR) {
                syntax_error(p, tok.t.line, tok.t.col,
                             "arguments cannot follow var-keyword argument");
            } else {
                invalid_syntax(p);
            }
            return false;
        }
        Param param;
        memset(&param, 0, sizeof param);
        if (tok.t.kind == TK_DSTAR || tok.t.kind == TK_STAR) {
            advance(p);
            if (tok.t.kind == TK_STAR && seen_star &&
                (kind(p) == TK_NAME || kind(p) == TK_COMMA)) {
                syntax_error(p, tok.t.line, tok.t.col, "* argument may appear only once");
                return false;
            }
            if (tok.t.kind == TK_STAR && kind(p) != TK_NAME) {
                // bare *: keyword-only parameters must follow
                if (kind(p) == close || (kind(p) == TK_COMMA &&
                                         (kind_at(p, 1) == close || kind_at(p, 1) == TK_DSTAR))) {
                    if (close == TK_RPAREN) {
                        syntax_error(p, tok.t.line, tok.t.col, "named arguments must follow bare *");
                    } else {
                        if (kind(p) == TK_COMMA) advance(p);
                        error_here(p, "SyntaxError", "named arguments must follow bare *");
                    }
                    return false;
                }
                if (kind(p) != TK_COMMA) {
                    invalid_syntax(p);
                    return false;
                }
                seen_star = true;
                advance(p);
                continue;
            }
            if (kind(p) != TK_NAME) {
                invalid_syntax(p);
                return false;
            }
            Tok name = *cur(p);
            advance(p);
            param.name = name_copy(p, name.t.start, (size_t)name.t.length);
            param.line = name.t.line;
            param.col = name.t.col;
            param.kind = tok.t.kind == TK_STAR ? PARAM_VARARGS : PARAM_VARKW;
            if (tok.t.kind == TK_STAR) seen_star = true;
            else seen_varkw = true;
            if (annotations && accept(p, TK_COLON) && !expression(p)) return false;
            if (kind(p) == TK_ASSIGN) {
                error_here(p, "SyntaxError", tok.t.kind == TK_STAR
                                                 ? "var-positional argument cannot have default value"
                                                 : "var-keyword argument cannot have default value");
                return false;
            }
        } else if (tok.t.kind == TK_NAME) {
            advance(p);
            param.name = name_copy(p, tok.t.start, (size_t)tok.t.length);
            param.line = tok.t.line;
            param.col = tok.t.col;
            param.kind = seen_star ? PARAM_KWONLY : PARAM_POSITIONAL;
            if (annotations && accept(p, TK_COLON) && !expression(p)) return false;
            if (kind(p) == TK_ASSIGN) {
                Tok eq = *cur(p);
                advance(p);
                if (close == TK_RPAREN && (kind(p) == TK_RPAREN || kind(p) == TK_COMMA)) {
                    syntax_error(p, eq.t.line, eq.t.col, "expected default value expression");
                    return false;
                }
                param.default_value = expression(p);
                if (!param.default_value) return false;
                if (!seen_star) seen_default = true;
            } else if (seen_default && !seen_star) {
                syntax_error(p, tok.t.line, tok.t.col,
                             "non-default argument follows default argument");
                return false;
            }
        } else if (tok.t.kind == TK_LPAREN) {
            parenthesized_params(p, close);
            return false;
        } else if (tok.t.kind == TK_SLASH) {
            syntax_error(p, tok.t.line, tok.t.col,
                         "positional-only parameters ('/') are not supported");
            return false;
        } else {
            invalid_syntax(p);
            return false;
        }
        for (int i = 0; i < count; i++)
            if (strcmp(params[i].name.chars, param.name.chars) == 0)
                late_error(p, LATE_SYMTABLE, param.line, param.col,
                           "duplicate argument '%s' in function definition", param.name.chars);
        PUSH(p, params, count, cap, param);
        if (kind(p) != TK_COMMA) break;
        advance(p);
    }
    fn->as.function.params = params;
    fn->as.function.param_count = count;
    return true;
}

static Node *lambdef(Parser *p) {
    Tok tok = *cur(p);
    advance(p);
    Node *fn = node_at(p, N_LAMBDA, &tok);
    fn->as.function.name = name_copy(p, "<lambda>", 8);
    fn->as.function.is_lambda = true;
    if (!parameters(p, fn, TK_COLON, false) || !expect(p, TK_COLON)) return NULL;
    Node *body = expression(p);
    if (!body) return NULL;
    Node *ret = node_new(p, N_RETURN, body->line, body->col);
    ret->as.unary.operand = body;
    ret->end_line = body->end_line;
    ret->end_col = body->end_col;
    fn->as.function.body = list_one(p, ret);
    return finish(p, fn);
}

// ---------------------------------------------------------------- expressions

// `a b` inside brackets: CPython suggests the missing comma, or for print
// and exec the missing parentheses.
// CPython's expression_without_invalid succeeds as soon as one operand
// parses: every operator after it is optional to a PEG parser.
static bool operand(Parser *p) {
    TokenKind k = kind(p);
    while (k == TK_MINUS || k == TK_PLUS || k == TK_TILDE || k == TK_NOT || k == TK_AWAIT) {
        advance(p);
        k = kind(p);
    }
    if (k == TK_LAMBDA) return lambdef(p) != NULL;
    if (!atom(p)) return false;
    kind(p); // CPython looks for a trailer: a tokenizer error there wins
    return !p->fatal;
}

// A disjunction `a` followed by the start of another expression: what
// CPython's second pass tries there. First `a b` inside brackets, with `b`
// read as a bare operand: the missing comma. Then a leading NAME followed by
// anything but '(': the rest is read with every check on (an error inside it
// wins), and for print and exec the missing parentheses are reported. True
// when an error is set.
static bool juxtaposed(Parser *p, int start, Node *a) {
    if (retry_budget_spent(p)) {
        invalid_syntax(p);
        return true;
    }
    // (a copy: parsing on may fetch tokens and move p->toks)
    const Tok first_tok = p->toks[start], *first = &first_tok;
    bool name = first->t.kind == TK_NAME;
    bool legacy = tok_is(first, "print") || tok_is(first, "exec");
    TokenKind second = p->toks[start + 1].t.kind;
    bool excluded = name && (second == TK_STRING || second == TK_FSTRING ||
                             tok_is(first, "match") || tok_is(first, "case") ||
                             tok_is(first, "_"));
    bool operand_ok = false;
    if (!excluded) {
        Mark m = begin_try(p);
        p->no_invalid++;
        operand_ok = operand(p);
        p->no_invalid--;
        operand_ok = end_try(p) && operand_ok;
        if (p->fatal) return true;
        reset(p, m);
        if (operand_ok && !legacy && p->level > 0) {
            node_error(p, a, "invalid syntax. Perhaps you forgot a comma?");
            return true;
        }
    }
    if (!name || second == TK_LPAREN) return false;
    Mark m = mark(p);
    p->pos = start + 1;
    Mark t = begin_try(p);
    // Remembered per token: nested juxtapositions would otherwise re-read the
    // rest of the line twice per level.
    bool ok, generic;
    signed char *trial = &p->toks[start + 1].trial;
    if (*trial != TRIAL_UNKNOWN) {
        ok = *trial == TRIAL_OK;
        generic = *trial == TRIAL_GENERIC_ERROR;
        end_try(p);
    } else {
        ok = star_expressions(p, NULL) != NULL;
        generic = p->generic;
        ok = end_try(p) && ok;
        if (p->fatal) return true;
        p->toks[start + 1].trial = ok ? TRIAL_OK : generic ? TRIAL_GENERIC_ERROR : TRIAL_ERROR;
    }
    // (Once an operand was read there, CPython reuses it: nothing inside
    // the rest gets reported.)
    if (!ok && !generic && !operand_ok) {
        reset(p, t);
        star_expressions(p, NULL); // its own error comes first
        return p->failed;
    }
    reset(p, m);
    if (!(ok || operand_ok) || !legacy) return false;
    const char *which = tok_is(first, "print") ? "print" : "exec";
    node_error(p, a, "Missing parentheses in call to '%s'. Did you mean %s(...)?", which, which);
    return true;
}

// `body if test else orelse`, at the `if`.
static Node *conditional(Parser *p, Node *body, Start first) {
    advance(p);
    Node *test = disjunction(p);
    if (!test) return NULL;
    if (kind(p) != TK_ELSE) {
        if (kind(p) == TK_COLON || p->no_invalid)
            invalid_syntax(p);
        else
            node_error(p, body, "expected 'else' after 'if' expression");
        return NULL;
    }
    advance(p);
    Node *orelse = expression(p);
    if (!orelse) return NULL;
    Node *node = node_from(p, N_IFEXP, first);
    node->as.ifexp.test = test;
    node->as.ifexp.body = body;
    node->as.ifexp.orelse = orelse;
    return finish(p, node);
}

static Node *expression_body(Parser *p) {
    if (kind(p) == TK_LAMBDA) return lambdef(p);
    int start = p->pos;
    Start first = here(p);
    Node *body = disjunction(p);
    if (!body) return NULL;
    TokenKind k = kind(p);
    if (k == TK_IF) {
        if (!p->no_invalid) return conditional(p, body, first);
        // Without the error checks a failed conditional leaves the operand.
        Mark m = begin_try(p);
        Node *node = conditional(p, body, first);
        bool ok = end_try(p) && node;
        if (p->fatal) return NULL;
        if (ok) return node;
        reset(p, m);
        return body;
    }
    if (!p->no_invalid && starts_expression(k) && juxtaposed(p, start, body))
        return NULL;
    return body;
}

static Node *expression(Parser *p) {
    if (!enter(p)) return NULL;
    Node *node = expression_body(p);
    p->depth--;
    return node;
}

// `x = 1` where a condition or an item belongs: CPython guesses '==' was meant.
static void equals_instead_of_compare(Parser *p, Node *e) {
    if (p->no_invalid) return;
    const Node *left = leftmost(e);
    if (left->kind == N_LIST || left->kind == N_GENEXP || left->kind == N_TRUE ||
        left->kind == N_FALSE || left->kind == N_NONE || parenthesized_tuple(left))
        return;
    switch (e->kind) {
    case N_COMPARE: case N_BOOLOP: case N_IFEXP: case N_LAMBDA: case N_STARRED:
    case N_YIELD: case N_WALRUS:
        return;
    case N_UNARY:
        if (e->as.unary.op == AST_NOT) return;
        break;
    default:
        break;
    }
    Mark m = begin_try(p);
    advance(p); // '='
    p->no_invalid++;
    Node *value = bitwise_or(p);
    p->no_invalid--;
    bool ok = value && kind(p) != TK_ASSIGN && kind(p) != TK_WALRUS;
    ok = end_try(p) && ok;
    reset(p, m);
    if (!ok) return;
    if (e->kind == N_NAME)
        node_error(p, e, "invalid syntax. Maybe you meant '==' or ':=' instead of '='?");
    else
        node_error(p, e, "cannot assign to %s here. Maybe you meant '==' instead of '='?",
                   expr_name(e));
}

static Node *named_expr(Parser *p, bool check_equals) {
    if (kind(p) == TK_NAME && kind_at(p, 1) == TK_WALRUS) {
        Tok tok = *cur(p);
        Node *target = node_at(p, N_NAME, &tok);
        target->as.name = name_copy(p, tok.t.start, (size_t)tok.t.length);
        advance(p);
        finish(p, target);
        advance(p);
        Node *value = expression(p);
        if (!value) return NULL;
        Node *node = node_at(p, N_WALRUS, &tok);
        node->as.binop.left = target;
        node->as.binop.right = value;
        return finish(p, node);
    }
    Node *e = expression(p);
    if (!e) return NULL;
    if (kind(p) == TK_WALRUS) {
        // CPython names the bad target only when a value follows
        Mark m = begin_try(p);
        advance(p);
        bool ok = expression(p) != NULL;
        ok = end_try(p) && ok;
        if (p->fatal) return NULL;
        reset(p, m);
        if (ok)
            node_error(p, e, "cannot use assignment expressions with %s", expr_name(e));
        else
            invalid_syntax(p);
        return NULL;
    }
    if (check_equals && kind(p) == TK_ASSIGN) {
        equals_instead_of_compare(p, e);
        if (p->failed) return NULL;
    }
    return e;
}

static Node *named_expression(Parser *p) { return named_expr(p, true); }

static Node *star_expression(Parser *p) {
    if (kind(p) != TK_STAR) return expression(p);
    Tok star = *cur(p);
    advance(p);
    Node *operand = bitwise_or(p);
    if (!operand) return NULL;
    Node *s = node_at(p, N_STARRED, &star);
    s->as.unary.operand = operand;
    return finish(p, s);
}

// Comma-separated items without brackets, as a tuple if there is a comma.
static Node *comma_list(Parser *p, bool *bare_tuple, Node *(*item)(Parser *)) {
    if (bare_tuple) *bare_tuple = false;
    Start start = here(p);
    Node *first = item(p);
    if (!first || kind(p) != TK_COMMA) return first;
    Node *t = node_from(p, N_TUPLE, start);
    Vec items = {0};
    push(p, &items, first);
    while (accept(p, TK_COMMA)) {
        TokenKind k = kind(p);
        if (!starts_expression(k) && k != TK_STAR) break;
        Node *next = item(p);
        if (!next) return NULL;
        push(p, &items, next);
    }
    t->as.list = list_of(&items);
    if (bare_tuple) *bare_tuple = true;
    return finish(p, t);
}

static Node *star_expressions(Parser *p, bool *bare_tuple) {
    return comma_list(p, bare_tuple, star_expression);
}

static Node *star_target(Parser *p) {
    if (kind(p) != TK_STAR) return bitwise_or(p);
    Tok star = *cur(p);
    advance(p);
    Node *operand = bitwise_or(p);
    if (!operand) return NULL;
    Node *s = node_at(p, N_STARRED, &star);
    s->as.unary.operand = operand;
    return finish(p, s);
}

// Targets of for loops and comprehensions: stop before `in`.
static Node *star_targets(Parser *p, bool *bare_tuple) {
    return comma_list(p, bare_tuple, star_target);
}

static Node *del_target(Parser *p) {
    if (kind(p) != TK_STAR) return primary(p);
    Tok star = *cur(p);
    advance(p);
    Node *operand = primary(p);
    if (!operand) return NULL;
    Node *s = node_at(p, N_STARRED, &star);
    s->as.unary.operand = operand;
    return finish(p, s);
}

static Node *yield_expr(Parser *p) {
    Tok tok = *cur(p);
    advance(p);
    if (kind(p) == TK_FROM) {
        error_here(p, "SyntaxError", "'yield from' is not supported");
        return NULL;
    }
    Node *node = node_at(p, N_YIELD, &tok);
    if (starts_expression(kind(p)) || kind(p) == TK_STAR) {
        node->as.unary.operand = star_expressions(p, NULL);
        if (!node->as.unary.operand) return NULL;
    }
    return finish(p, node);
}

// ---------------------------------------------------------------- statements

static bool block(Parser *p, Vec *body, const char *what, int line) {
    if (kind(p) != TK_NEWLINE) {
        // one line: `if x: a; b`
        TokenKind k = kind(p);
        if (k == TK_IF || k == TK_WHILE || k == TK_FOR || k == TK_TRY || k == TK_WITH ||
            k == TK_DEF || k == TK_CLASS || k == TK_AT || k == TK_ASYNC) {
            invalid_syntax(p);
            return false;
        }
        simple_stmts(p, body);
        return !p->failed;
    }
    advance(p);
    if (kind(p) != TK_INDENT) {
        error_here(p, "IndentationError", "expected an indented block after %s on line %d",
                   what, line);
        return false;
    }
    advance(p);
    while (!p->failed && kind(p) != TK_DEDENT && kind(p) != TK_EOF) statement(p, body);
    if (p->failed) return false;
    advance(p); // DEDENT
    return true;
}

// ':' before a block. CPython insists on it after some keywords (`forced`),
// after others it only says so when the line ends there.
static bool colon(Parser *p, bool forced) {
    if (accept(p, TK_COLON)) return true;
    if (forced || kind(p) == TK_NEWLINE)
        error_here(p, "SyntaxError", "expected ':'");
    else
        invalid_syntax(p);
    return false;
}

static Node *condition(Parser *p) { return named_expression(p); }

static Node *if_stmt(Parser *p) {
    Tok tok = *cur(p);
    advance(p);
    Node *root = node_at(p, N_IF, &tok);
    Vec chain = {0};
    push(p, &chain, root);
    Node *node = root;
    const char *what = "'if' statement";
    for (;;) {
        node->as.cond.test = condition(p);
        if (!node->as.cond.test || !colon(p, false)) return NULL;
        Vec body = {0};
        if (!block(p, &body, what, node->line)) return NULL;
        node->as.cond.body = list_of(&body);
        if (kind(p) == TK_ELIF) {
            Tok elif = *cur(p);
            advance(p);
            Node *next = node_at(p, N_IF, &elif);
            node->as.cond.orelse = list_one(p, next);
            push(p, &chain, next);
            if (!chain_ok(p, chain.count)) return NULL; // each elif nests
            node = next;
            what = "'elif' statement";
            continue;
        }
        if (kind(p) == TK_ELSE) {
            Tok e = *cur(p);
            advance(p);
            if (!colon(p, true)) return NULL;
            Vec orelse = {0};
            if (!block(p, &orelse, "'else' statement", e.t.line)) return NULL;
            node->as.cond.orelse = list_of(&orelse);
        }
        break;
    }
    for (int i = 0; i < chain.count; i++) finish(p, chain.items[i]);
    return root;
}

static bool else_block(Parser *p, NodeList *orelse) {
    if (kind(p) != TK_ELSE) return true;
    Tok e = *cur(p);
    advance(p);
    if (!colon(p, true)) return false;
    Vec body = {0};
    if (!block(p, &body, "'else' statement", e.t.line)) return false;
    *orelse = list_of(&body);
    return true;
}

static Node *while_stmt(Parser *p) {
    Tok tok = *cur(p);
    advance(p);
    Node *node = node_at(p, N_WHILE, &tok);
    node->as.cond.test = condition(p);
    if (!node->as.cond.test || !colon(p, false)) return NULL;
    Vec body = {0};
    if (!block(p, &body, "'while' statement", tok.t.line)) return NULL;
    node->as.cond.body = list_of(&body);
    if (!else_block(p, &node->as.cond.orelse)) return NULL;
    return finish(p, node);
}

static Node *for_stmt(Parser *p, const Tok *async_tok) {
    Tok start = async_tok ? *async_tok : *cur(p);
    if (async_tok) advance(p);
    Tok tok = *cur(p);
    advance(p);
    Node *node = node_at(p, N_FOR, &start);
    node->as.for_.is_async = async_tok != NULL;
    node->as.for_.target = for_targets(p);
    if (!node->as.for_.target) return NULL;
    node->as.for_.iter = star_expressions(p, NULL);
    if (!node->as.for_.iter || !colon(p, false)) return NULL;
    Vec body = {0};
    if (!block(p, &body, "'for' statement", tok.t.line)) return NULL;
    node->as.for_.body = list_of(&body);
    if (!else_block(p, &node->as.for_.orelse)) return NULL;
    return finish(p, node);
}

static Node *try_stmt(Parser *p) {
    Tok tok = *cur(p);
    advance(p);
    Node *node = node_at(p, N_TRY, &tok);
    if (!colon(p, true)) return NULL;
    Vec body = {0};
    if (!block(p, &body, "'try' statement", tok.t.line)) return NULL;
    node->as.try_.body = list_of(&body);
    ExceptHandler *handlers = NULL;
    int count = 0, cap = 0;
    while (kind(p) == TK_EXCEPT) {
        Tok ex = *cur(p);
        advance(p);
        ExceptHandler h;
        memset(&h, 0, sizeof h);
        h.line = ex.t.line;
        h.col = ex.t.col;
        if (kind(p) == TK_STAR) {
            error_here(p, "SyntaxError", "'except*' is not supported");
            return NULL;
        }
        if (kind(p) != TK_COLON && kind(p) != TK_NEWLINE) {
            h.type = expression(p);
            if (!h.type) return NULL;
            if (kind(p) == TK_COMMA) {
                node_error(p, h.type, "multiple exception types must be parenthesized");
                return NULL;
            }
            if (accept(p, TK_AS)) {
                Tok *name = cur(p);
                if (name->t.kind != TK_NAME) {
                    invalid_syntax(p);
                    return NULL;
                }
                h.name = name_copy(p, name->t.start, (size_t)name->t.length);
                advance(p);
            }
        }
        if (!colon(p, false)) return NULL;
        Vec hbody = {0};
        if (!block(p, &hbody, "'except' statement", ex.t.line)) return NULL;
        h.body = list_of(&hbody);
        PUSH(p, handlers, count, cap, h);
    }
    node->as.try_.handlers = handlers;
    node->as.try_.handler_count = count;
    if (count && !else_block(p, &node->as.try_.orelse)) return NULL;
    if (kind(p) == TK_FINALLY) {
        Tok f = *cur(p);
        advance(p);
        if (!colon(p, true)) return NULL;
        Vec fbody = {0};
        if (!block(p, &fbody, "'finally' statement", f.t.line)) return NULL;
        node->as.try_.finalbody = list_of(&fbody);
    } else if (!count) {
        error_here(p, "SyntaxError", "expected 'except' or 'finally' block");
        return NULL;
    }
    return finish(p, node);
}

static bool with_item(Parser *p, WithItem *item) {
    item->context = expression(p);
    if (!item->context) return false;
    item->target = NULL;
    if (!accept(p, TK_AS)) return true;
    item->target = star_target(p);
    return item->target && check_target(p, item->target, TARGET_STAR);
}

// Items up to ':' (or ')' when parenthesized).
static bool with_items(Parser *p, Node *node, bool parenthesized) {
    WithItem *items = NULL;
    int count = 0, cap = 0;
    for (;;) {
        WithItem item;
        if (!with_item(p, &item)) return false;
        PUSH(p, items, count, cap, item);
        if (!accept(p, TK_COMMA)) break;
        if (parenthesized && kind(p) == TK_RPAREN) break;
    }
    node->as.with.items = items;
    node->as.with.item_count = count;
    return true;
}

static Node *with_stmt(Parser *p, const Tok *async_tok) {
    Tok start = async_tok ? *async_tok : *cur(p);
    if (async_tok) advance(p);
    Tok tok = *cur(p);
    advance(p);
    Node *node = node_at(p, N_WITH, &start);
    node->as.with.is_async = async_tok != NULL;
    bool done = false;
    int far = -1;
    if (kind(p) == TK_LPAREN) {
        // with (a as b, c): ... - unless the parentheses belong to an expression
        Mark m = begin_try(p);
        advance(p);
        p->level++;
        bool ok = with_items(p, node, true) && accept(p, TK_RPAREN);
        if (ok) far = p->pos;
        ok = ok && kind(p) == TK_COLON;
        p->level--;
        done = end_try(p) && ok;
        if (p->fatal) return NULL;
        if (!done) reset(p, m);
    }
    if (!done && !with_items(p, node, false)) {
        if (far >= 0) relocate_generic(p, &p->toks[far]);
        return NULL;
    }
    if (!colon(p, false)) {
        if (far >= 0) relocate_generic(p, &p->toks[far]);
        return NULL;
    }
    Vec body = {0};
    if (!block(p, &body, "'with' statement", tok.t.line)) return NULL;
    node->as.with.body = list_of(&body);
    return finish(p, node);
}

static Node *funcdef(Parser *p, const Tok *async_tok, Vec *decorators) {
    Tok start = async_tok ? *async_tok : *cur(p);
    if (async_tok) advance(p);
    Tok def = *cur(p);
    advance(p);
    Node *fn = node_at(p, N_FUNCDEF, &start);
    fn->as.function.is_async = async_tok != NULL;
    if (decorators) fn->as.function.decorators = list_of(decorators);
    Tok *name = cur(p);
    if (name->t.kind != TK_NAME) {
        invalid_syntax(p);
        return NULL;
    }
    fn->as.function.name = name_copy(p, name->t.start, (size_t)name->t.length);
    advance(p);
    if (kind(p) != TK_LPAREN) {
        error_here(p, "SyntaxError", "expected '('");
        return NULL;
    }
    advance(p);
    p->level++;
    if (!parameters(p, fn, TK_RPAREN, true) || !expect(p, TK_RPAREN)) return NULL;
    p->level--;
    if (kind(p) == TK_ARROW) {
        // CPython insists on the ':' when no annotation follows the arrow
        Tok arrow = *cur(p);
        Mark m = begin_try(p);
        advance(p);
        Node *returns = expression(p);
        bool ok = end_try(p) && returns;
        if (p->fatal) return NULL;
        if (!ok) {
            reset(p, m);
            syntax_error(p, arrow.t.line, arrow.t.col, "expected ':'");
            return NULL;
        }
        fn->as.function.returns = returns;
    }
    if (!colon(p, true)) return NULL;
    Vec body = {0};
    if (!block(p, &body, "function definition", def.t.line)) return NULL;
    fn->as.function.body = list_of(&body);
    return finish(p, fn);
}

static Node *classdef(Parser *p, Vec *decorators) {
    Tok tok = *cur(p);
    advance(p);
    Node *cls = node_at(p, N_CLASSDEF, &tok);
    if (decorators) cls->as.classdef.decorators = list_of(decorators);
    Tok *name = cur(p);
    if (name->t.kind != TK_NAME) {
        invalid_syntax(p);
        return NULL;
    }
    cls->as.classdef.name = name_copy(p, name->t.start, (size_t)name->t.length);
    advance(p);
    if (kind(p) == TK_LPAREN) {
        Tok open = *cur(p);
        advance(p);
        p->level++;
        if (!arguments(p, &cls->as.classdef.bases, &cls->as.classdef.keywords,
                       &cls->as.classdef.keyword_count, &open, false))
            return NULL;
        p->level--;
    }
    if (!colon(p, false)) return NULL;
    Vec body = {0};
    if (!block(p, &body, "class definition", tok.t.line)) return NULL;
    cls->as.classdef.body = list_of(&body);
    return finish(p, cls);
}

static Node *decorated(Parser *p) {
    Vec decorators = {0};
    while (accept(p, TK_AT)) {
        Node *d = named_expression(p);
        if (!d || !expect(p, TK_NEWLINE)) return NULL;
        push(p, &decorators, d);
    }
    if (kind(p) == TK_DEF) return funcdef(p, NULL, &decorators);
    if (kind(p) == TK_ASYNC && kind_at(p, 1) == TK_DEF) {
        Tok async_tok = *cur(p);
        return funcdef(p, &async_tok, &decorators);
    }
    if (kind(p) == TK_CLASS) return classdef(p, &decorators);
    invalid_syntax(p);
    return NULL;
}

static bool dotted_name(Parser *p, Name *out) {
    Buf buf = {0};
    buf_append(p, &buf, "", 0);
    for (;;) {
        Tok *tok = cur(p);
        if (tok->t.kind != TK_NAME) {
            invalid_syntax(p);
            return false;
        }
        buf_append(p, &buf, tok->t.start, (size_t)tok->t.length);
        advance(p);
        if (kind(p) != TK_DOT) break;
        advance(p);
        buf_append(p, &buf, ".", 1);
    }
    out->chars = buf.chars;
    out->length = (int)buf.length;
    return true;
}

static bool alias(Parser *p, Name *out) {
    memset(out, 0, sizeof *out);
    if (!accept(p, TK_AS)) return true;
    Tok *tok = cur(p);
    if (tok->t.kind != TK_NAME) {
        invalid_syntax(p);
        return false;
    }
    *out = name_copy(p, tok->t.start, (size_t)tok->t.length);
    advance(p);
    return true;
}

static Node *import_stmt(Parser *p) {
    Tok tok = *cur(p);
    advance(p);
    Node *node = node_at(p, N_IMPORT, &tok);
    Name *names = NULL, *aliases = NULL;
    int count = 0, cap = 0, acap = 0;
    do {
        Name name, as;
        if (!dotted_name(p, &name) || !alias(p, &as)) return NULL;
        PUSH(p, names, count, cap, name);
        count--;
        PUSH(p, aliases, count, acap, as);
    } while (accept(p, TK_COMMA));
    node->as.import.names = names;
    node->as.import.aliases = aliases;
    node->as.import.count = count;
    return finish(p, node);
}

static Node *from_import(Parser *p) {
    Tok tok = *cur(p);
    advance(p);
    Node *node = node_at(p, N_IMPORTFROM, &tok);
    if (kind(p) == TK_DOT || kind(p) == TK_ELLIPSIS) {
        error_here(p, "SyntaxError", "relative imports are not supported");
        return NULL;
    }
    if (!dotted_name(p, &node->as.import.module) || !expect(p, TK_IMPORT)) return NULL;
    Name *names = NULL, *aliases = NULL;
    int count = 0, cap = 0, acap = 0;
    if (kind(p) == TK_STAR) {
        advance(p);
        Name star = name_copy(p, "*", 1), none = {NULL, 0};
        PUSH(p, names, count, cap, star);
        count--;
        PUSH(p, aliases, count, acap, none);
    } else {
        bool parens = accept(p, TK_LPAREN);
        if (parens) p->level++;
        for (;;) {
            Tok *name = cur(p);
            if (name->t.kind != TK_NAME) {
                invalid_syntax(p);
                return NULL;
            }
            Name n = name_copy(p, name->t.start, (size_t)name->t.length), as;
            advance(p);
            if (!alias(p, &as)) return NULL;
            PUSH(p, names, count, cap, n);
            count--;
            PUSH(p, aliases, count, acap, as);
            if (!accept(p, TK_COMMA)) break;
            if (parens && kind(p) == TK_RPAREN) break;
            if (!parens && kind(p) == TK_NEWLINE) {
                error_here(p, "SyntaxError",
                           "trailing comma not allowed without surrounding parentheses");
                return NULL;
            }
        }
        if (parens) {
            if (!expect(p, TK_RPAREN)) return NULL;
            p->level--;
        }
    }
    node->as.import.names = names;
    node->as.import.aliases = aliases;
    node->as.import.count = count;
    return finish(p, node);
}

static Node *names_stmt(Parser *p, NodeKind k) {
    Tok tok = *cur(p);
    advance(p);
    Node *node = node_at(p, k, &tok);
    Name *names = NULL;
    int count = 0, cap = 0;
    do {
        Tok *name = cur(p);
        if (name->t.kind != TK_NAME) {
            invalid_syntax(p);
            return NULL;
        }
        Name n = name_copy(p, name->t.start, (size_t)name->t.length);
        PUSH(p, names, count, cap, n);
        advance(p);
    } while (accept(p, TK_COMMA));
    node->as.names.names = names;
    node->as.names.count = count;
    return finish(p, node);
}

// CPython's invalid_named_expression reached through invalid_assignment: for
// `E = V` where E ends the first target list, before the generic message.
static void assignment_guess(Parser *p, Node *first, bool bare, int after_equals) {
    Node *e = bare ? first->as.list.items[first->as.list.count - 1] : first;
    Mark m = mark(p);
    p->pos = after_equals - 1; // at the '='
    equals_instead_of_compare(p, e);
    if (!p->failed) reset(p, m);
}

static Node *assignment(Parser *p, Node *first, bool bare, bool bare_yield, Start start) {
    Vec groups = {0};
    push(p, &groups, first);
    int after_equals = p->pos + 1;
    for (;;) {
        Node *target = groups.items[groups.count - 1];
        if (bare_yield || invalid_target(target, TARGET_STAR)) {
            assignment_guess(p, first, bare, after_equals);
            if (p->failed) return NULL;
            if (bare_yield)
                node_error(p, target, "assignment to yield expression not possible");
            else
                check_target(p, target, TARGET_STAR);
            return NULL;
        }
        advance(p); // '='
        bare_yield = kind(p) == TK_YIELD;
        Node *value = bare_yield ? yield_expr(p) : star_expressions(p, NULL);
        if (!value) return NULL;
        push(p, &groups, value);
        if (kind(p) != TK_ASSIGN) break;
    }
    Node *node = node_from(p, N_ASSIGN, start);
    node->as.assign.value = groups.items[groups.count - 1];
    groups.count--;
    node->as.assign.targets = list_of(&groups);
    return finish(p, node);
}

static bool augmented_op(TokenKind k, AstOp *op) {
    switch (k) {
    case TK_PLUSEQ: *op = AST_ADD; return true;
    case TK_MINUSEQ: *op = AST_SUB; return true;
    case TK_STAREQ: *op = AST_MUL; return true;
    case TK_ATEQ: *op = AST_MATMUL; return true;
    case TK_SLASHEQ: *op = AST_DIV; return true;
    case TK_DSLASHEQ: *op = AST_FLOORDIV; return true;
    case TK_PERCENTEQ: *op = AST_MOD; return true;
    case TK_DSTAREQ: *op = AST_POW; return true;
    case TK_LSHIFTEQ: *op = AST_LSHIFT; return true;
    case TK_RSHIFTEQ: *op = AST_RSHIFT; return true;
    case TK_AMPEQ: *op = AST_BITAND; return true;
    case TK_PIPEEQ: *op = AST_BITOR; return true;
    case TK_CARETEQ: *op = AST_BITXOR; return true;
    default: return false;
    }
}

static bool single_target(const Node *e) {
    return e->kind == N_NAME || e->kind == N_ATTR || e->kind == N_SUBSCRIPT;
}

static Node *expression_statement(Parser *p) {
    Start start = here(p);
    bool bare = false;
    Node *first = kind(p) == TK_YIELD ? yield_expr(p) : star_expressions(p, &bare);
    if (!first) return NULL;
    TokenKind k = kind(p);
    AstOp op;
    if (k == TK_COLON) {
        if (!single_target(first)) {
            // CPython names the bad target only when an annotation follows
            Mark m = begin_try(p);
            advance(p);
            bool ok = expression(p) != NULL;
            ok = end_try(p) && ok;
            if (p->fatal) return NULL;
            reset(p, m);
            if (!ok) {
                invalid_syntax(p);
                return NULL;
            }
            if (first->kind == N_TUPLE || first->kind == N_LIST)
                node_error(p, first, "only single target (not %s) can be annotated",
                           first->kind == N_TUPLE ? "tuple" : "list");
            else
                node_error(p, first, "illegal target for annotation");
            return NULL;
        }
        advance(p);
        Node *node = node_from(p, N_ANNASSIGN, start);
        node->as.annassign.target = first;
        node->as.annassign.annotation = expression(p);
        if (!node->as.annassign.annotation) return NULL;
        if (accept(p, TK_ASSIGN)) {
            node->as.annassign.value =
                kind(p) == TK_YIELD ? yield_expr(p) : star_expressions(p, NULL);
            if (!node->as.annassign.value) return NULL;
        }
        return finish(p, node);
    }
    if (augmented_op(k, &op)) {
        if (!single_target(first)) {
            // CPython names the bad target only when a value follows
            Mark m = begin_try(p);
            advance(p);
            bool ok = (kind(p) == TK_YIELD ? yield_expr(p) : star_expressions(p, NULL)) != NULL;
            ok = end_try(p) && ok;
            if (p->fatal) return NULL;
            reset(p, m);
            if (ok)
                node_error(p, first, "'%s' is an illegal expression for augmented assignment",
                           expr_name(first));
            else
                invalid_syntax(p);
            return NULL;
        }
        advance(p);
        Node *node = node_from(p, N_AUGASSIGN, start);
        node->as.augassign.target = first;
        node->as.augassign.op = op;
        node->as.augassign.value = kind(p) == TK_YIELD ? yield_expr(p) : star_expressions(p, NULL);
        if (!node->as.augassign.value) return NULL;
        return finish(p, node);
    }
    if (k == TK_ASSIGN) return assignment(p, first, bare, first->kind == N_YIELD && start.col == first->col && start.line == first->line, start);
    Node *node = node_from(p, N_EXPR_STMT, start);
    node->as.unary.operand = first;
    return finish(p, node);
}

static Node *simple_stmt(Parser *p) {
    Tok tok = *cur(p);
    Node *node;
    switch (tok.t.kind) {
    case TK_PASS: case TK_BREAK: case TK_CONTINUE:
        node = node_at(p, tok.t.kind == TK_PASS ? N_PASS
                          : tok.t.kind == TK_BREAK ? N_BREAK : N_CONTINUE, &tok);
        advance(p);
        return finish(p, node);
    case TK_RETURN:
        advance(p);
        node = node_at(p, N_RETURN, &tok);
        if (starts_expression(kind(p)) || kind(p) == TK_STAR) {
            node->as.unary.operand = star_expressions(p, NULL);
            if (!node->as.unary.operand) return NULL;
        }
        return finish(p, node);
    case TK_RAISE:
        advance(p);
        node = node_at(p, N_RAISE, &tok);
        if (starts_expression(kind(p))) {
            node->as.raise.exc = expression(p);
            if (!node->as.raise.exc) return NULL;
            if (accept(p, TK_FROM)) {
                node->as.raise.cause = expression(p);
                if (!node->as.raise.cause) return NULL;
            }
        }
        return finish(p, node);
    case TK_GLOBAL: return names_stmt(p, N_GLOBAL);
    case TK_NONLOCAL: return names_stmt(p, N_NONLOCAL);
    case TK_IMPORT: return import_stmt(p);
    case TK_FROM: return from_import(p);
    case TK_ASSERT: {
        advance(p);
        node = node_at(p, N_ASSERT, &tok);
        node->as.assert_.test = expression(p);
        if (!node->as.assert_.test) return NULL;
        if (accept(p, TK_COMMA)) {
            node->as.assert_.msg = expression(p);
            if (!node->as.assert_.msg) return NULL;
        }
        return finish(p, node);
    }
    case TK_DEL: {
        advance(p);
        node = node_at(p, N_DEL, &tok);
        // First as CPython's del_targets, then as an expression for a message.
        Mark m = begin_try(p);
        bool bare = false;
        Node *targets = comma_list(p, &bare, del_target);
        bool ok = targets && (kind(p) == TK_SEMI || kind(p) == TK_NEWLINE);
        ok = end_try(p) && ok;
        if (p->fatal) return NULL;
        if (ok) {
            if (!check_target(p, targets, TARGET_DEL)) return NULL;
            node->as.list = bare ? targets->as.list : list_one(p, targets);
            return finish(p, node);
        }
        int stop = p->pos;
        reset(p, m);
        Mark t = begin_try(p);
        Node *e = star_expressions(p, NULL);
        bool generic = p->generic;
        ok = end_try(p) && e;
        if (p->fatal) return NULL;
        reset(p, t);
        if (ok && !check_target(p, e, TARGET_DEL)) return NULL;
        if (!ok && !generic) {
            star_expressions(p, NULL); // its own error comes first
            return NULL;
        }
        p->pos = stop;
        invalid_syntax(p);
        return NULL;
    }
    default:
        return expression_statement(p);
    }
}

static void simple_stmts(Parser *p, Vec *out) {
    for (;;) {
        Node *s = simple_stmt(p);
        if (!s) return;
        push(p, out, s);
        if (!accept(p, TK_SEMI) || kind(p) == TK_NEWLINE) break;
    }
    expect(p, TK_NEWLINE);
}

static void statement(Parser *p, Vec *out) {
    Node *s;
    switch (kind(p)) {
    case TK_IF: s = if_stmt(p); break;
    case TK_WHILE: s = while_stmt(p); break;
    case TK_FOR: s = for_stmt(p, NULL); break;
    case TK_TRY: s = try_stmt(p); break;
    case TK_WITH: s = with_stmt(p, NULL); break;
    case TK_DEF: s = funcdef(p, NULL, NULL); break;
    case TK_CLASS: s = classdef(p, NULL); break;
    case TK_AT: s = decorated(p); break;
    case TK_ASYNC: {
        Tok async_tok = *cur(p);
        switch (kind_at(p, 1)) {
        case TK_DEF: s = funcdef(p, &async_tok, NULL); break;
        case TK_FOR: s = for_stmt(p, &async_tok); break;
        case TK_WITH: s = with_stmt(p, &async_tok); break;
        default:
            advance(p);
            invalid_syntax(p);
            return;
        }
        break;
    }
    case TK_INDENT:
    case TK_DEDENT:
        invalid_syntax(p);
        return;
    default:
        simple_stmts(p, out);
        return;
    }
    if (s) push(p, out, s);
}

// ---------------------------------------------------------------- module

// After a parser error CPython reads on: a later tokenizer error replaces it,
// except an unclosed bracket opened on or after the error's line and the
// indentation errors it only raises when the parser asks.
static void check_rest(Parser *p) {
    if (p->lexer_failed || !p->result->error_type) return;
    if (strncmp(p->result->error_message, "unexpected ", 11) == 0 &&
        strcmp(p->result->error_type, "IndentationError") == 0)
        return; // unexpected indent/unindent: CPython stops right there
    if (p->ntoks && p->toks[p->ntoks - 1].t.kind == TK_EOF) return;
    // CPython compares with the line of the last token its parser read.
    int far_line = p->result->error_line;
    for (int i = p->ntoks - 1; i >= 0; i--) {
        if (p->toks[i].t.kind != TK_ERROR) {
            far_line = p->toks[i].t.line;
            break;
        }
    }
    for (;;) {
        Token t = lex_next(p->lexer);
        if (t.kind == TK_EOF) return;
        if (t.kind != TK_ERROR) continue;
        const char *type = lex_error_type(p->lexer);
        const char *message = lex_error_message(p->lexer);
        // Errors CPython's tokenizer leaves to its parser do not count.
        if (strcmp(type, "SyntaxError") != 0 || strcmp(message, "invalid syntax") == 0 ||
            strcmp(message, "unexpected EOF while parsing") == 0 ||
            strcmp(message, "unexpected character after line continuation character") == 0)
            return;
        size_t n = strlen(message), suffix = strlen("was never closed");
        if (n >= suffix && strcmp(message + n - suffix, "was never closed") == 0 &&
            lex_error_line(p->lexer) >= far_line)
            return;
        record(p, type, lex_error_line(p->lexer), lex_error_col(p->lexer), message, false);
        return;
    }
}

ParseResult parse_module(const char *src, size_t len) {
    ParseResult result;
    memset(&result, 0, sizeof result);
    result.arena = arena_new();
    Parser p;
    memset(&p, 0, sizeof p);
    p.lexer = lex_new(src, len);
    p.src = src;
    p.len = len;
    p.arena = result.arena;
    p.result = &result;
    p.last_line = 1;
    p.peeked_past = -1;
    Node *module = node_new(&p, N_MODULE, 1, 0);
    Vec body = {0};
    while (!p.failed && kind(&p) != TK_EOF) {
        if (p.pos > 0) {
            // Keep only the tokens of the statement to come.
            memmove(p.toks, p.toks + p.pos, (size_t)(p.ntoks - p.pos) * sizeof *p.toks);
            p.ntoks -= p.pos;
            p.pos = 0;
            p.peeked_past = -1;
        }
        if (accept(&p, TK_NEWLINE)) continue;
        statement(&p, &body);
    }
    for (int stage = 0; !p.failed && stage < 2; stage++) {
        if (p.late[stage].message[0]) {
            p.failed = true;
            record(&p, "SyntaxError", p.late[stage].line, p.late[stage].col, p.late[stage].message,
                   true);
        }
    }
    if (p.failed) {
        if (!result.error_type) {
            Tok *tok = tok_at(&p, 0);
            record(&p, "SyntaxError", tok->t.line, tok->t.col, "invalid syntax", true);
        }
        check_rest(&p);
    }
    lex_free(p.lexer);
    free(p.toks);
    if (p.failed) {
        arena_free(result.arena);
        result.arena = NULL;
        return result;
    }
    module->as.list = list_of(&body);
    finish(&p, module);
    result.module = module;
    return result;
}

void ast_free(ParseResult *result) {
    if (!result) return;
    arena_free(result->arena);
    result->arena = NULL;
    result->module = NULL;
}
