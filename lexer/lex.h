// lexer/lex.h - UTF-8 source text to tokens, each with its line and column.
// The lexer owns every decoded string it hands out until lex_free.
#ifndef ASYNCRUN_LEX_H
#define ASYNCRUN_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Every token kind once: X(name, text). Keywords carry their spelling so the
// lexer can recognise them and the parser can name them in messages.
#define TOKEN_KINDS(X)                                                         \
    X(EOF, "end of file") X(NEWLINE, "newline") X(INDENT, "indent")            \
    X(DEDENT, "dedent") X(NAME, "name") X(INT, "integer")                      \
    X(FLOAT, "float") X(STRING, "string") X(FSTRING, "f-string")              \
    X(ERROR, "error")                                                          \
    X(LPAREN, "(") X(RPAREN, ")") X(LBRACKET, "[") X(RBRACKET, "]")            \
    X(LBRACE, "{") X(RBRACE, "}") X(COMMA, ",") X(COLON, ":") X(DOT, ".")      \
    X(SEMI, ";") X(ARROW, "->") X(ELLIPSIS, "...") X(WALRUS, ":=")             \
    X(PLUS, "+") X(MINUS, "-") X(STAR, "*") X(SLASH, "/")                      \
    X(DSLASH, "//") X(PERCENT, "%") X(DSTAR, "**") X(AT, "@")                  \
    X(AMP, "&") X(PIPE, "|") X(CARET, "^") X(TILDE, "~")                       \
    X(LSHIFT, "<<") X(RSHIFT, ">>")                                            \
    X(LT, "<") X(GT, ">") X(LE, "<=") X(GE, ">=") X(EQEQ, "==") X(NE, "!=")    \
    X(ASSIGN, "=") X(PLUSEQ, "+=") X(MINUSEQ, "-=") X(STAREQ, "*=")            \
    X(SLASHEQ, "/=") X(DSLASHEQ, "//=") X(PERCENTEQ, "%=") X(DSTAREQ, "**=")   \
    X(AMPEQ, "&=") X(PIPEEQ, "|=") X(CARETEQ, "^=") X(LSHIFTEQ, "<<=")         \
    X(RSHIFTEQ, ">>=") X(ATEQ, "@=")                                           \
    X(FALSE, "False") X(NONE, "None") X(TRUE, "True") X(AND, "and")            \
    X(AS, "as") X(ASSERT, "assert") X(ASYNC, "async") X(AWAIT, "await")        \
    X(BREAK, "break") X(CLASS, "class") X(CONTINUE, "continue")                \
    X(DEF, "def") X(DEL, "del") X(ELIF, "elif") X(ELSE, "else")                \
    X(EXCEPT, "except") X(FINALLY, "finally") X(FOR, "for") X(FROM, "from")    \
    X(GLOBAL, "global") X(IF, "if") X(IMPORT, "import") X(IN, "in")            \
    X(IS, "is") X(LAMBDA, "lambda") X(NONLOCAL, "nonlocal") X(NOT, "not")      \
    X(OR, "or") X(PASS, "pass") X(RAISE, "raise") X(RETURN, "return")          \
    X(TRY, "try") X(WHILE, "while") X(WITH, "with") X(YIELD, "yield")

typedef enum {
#define X(name, text) TK_##name,
    TOKEN_KINDS(X)
#undef X
    TK__COUNT
} TokenKind;

// First and last keyword kinds, for "is this a keyword" checks.
#define TK_FIRST_KEYWORD TK_FALSE
#define TK_LAST_KEYWORD TK_YIELD

typedef struct {
    TokenKind kind;
    int line;          // 1-based
    int col;           // 0-based byte offset in the line, as CPython's col_offset
    const char *start; // the token's source text (points into the source)
    int length;        // its length in bytes
    // TK_INT: value in i (OverflowError-worthy literals set big = true and, for exactly 2**63,
    //   i = INT64_MIN, whose negation fits; otherwise
    //   leave i at 0).
    // TK_FLOAT: value in f.
    // TK_STRING: decoded bytes (escapes processed, UTF-8) in str/str_len,
    //   NUL-terminated; is_bytes is never set (no bytes literals in the
    //   subset). Adjacent strings come as separate tokens.
    // TK_FSTRING: the raw body between the quotes in str/str_len, escapes NOT
    //   processed and braces left in place; is_raw tells whether it was rf"..".
    //   The parser splits it into literal parts and {expr!r:spec} fields.
    // TK_NAME: the identifier in start/length.
    // TK_NEWLINE: starts at the comment ending the line, if any (as CPython).
    // TK_INDENT: col 0, start/length cover the indentation; CPython reports
    //   "unexpected indent" at col length - 1. TK_DEDENT: at the next token,
    //   length 0. At end of input DEDENT and EOF sit on the last line, col 0.
    // TK_ERROR: message in the lexer's error fields.
    int64_t i;
    double f;
    bool big;
    bool is_raw;
    char *str;
    size_t str_len;
} Token;

typedef struct Lexer Lexer;

// A lexer over [src, src+len). The source must outlive the lexer. The text is
// checked for valid UTF-8 and NUL bytes as it is scanned. line_offset and
// col_offset shift every reported position (used for f-string fields).
Lexer *lex_new(const char *src, size_t len);
Lexer *lex_new_at(const char *src, size_t len, int line, int col,
                  bool expression_only);
void lex_free(Lexer *lexer);

// The next token. After TK_ERROR or TK_EOF every call returns the same kind.
// At end of input the lexer emits NEWLINE (if the last logical line had
// tokens), then one DEDENT per open indent, then EOF.
// expression_only lexers (f-string fields) emit no NEWLINE/INDENT/DEDENT.
Token lex_next(Lexer *lexer);

// Error details after TK_ERROR: "SyntaxError" or "IndentationError" (or
// "TabError"), the message as CPython words it, and the 1-based line and
// 0-based column it points at. The column is CPython's SyntaxError.offset - 1
// when it runs the file: counted in characters for its tokenizer's own errors
// (bad characters, literals, brackets, unterminated strings), in bytes
// otherwise, and -1 where CPython gives no column (NUL bytes, a backslash
// line at end of input).
const char *lex_error_type(const Lexer *lexer);
const char *lex_error_message(const Lexer *lexer);
int lex_error_line(const Lexer *lexer);
int lex_error_col(const Lexer *lexer);

// Source line `line` (1-based) without its newline, for error displays.
// Returns false when there is no such line.
bool lex_source_line(const char *src, size_t len, int line, const char **start,
                     size_t *length);

const char *lex_kind_name(TokenKind kind);

// Decode Python string escapes (\n \t \\ \' \" \xNN \uNNNN \UNNNNNNNN,
// octal, line continuation) in [raw, raw+len); with is_raw only a backslash
// before the quote/newline is kept as is. Returns a malloc'd NUL-terminated
// buffer (caller frees) with its length in *out_len, or NULL with CPython's
// message in errbuf. Used for f-string literal parts.
char *lex_decode_escapes(const char *raw, size_t len, bool is_raw,
                         size_t *out_len, char *errbuf, size_t errlen);

#endif
