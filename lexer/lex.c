// lexer/lex.c - UTF-8 source text to tokens, following CPython 3.11's tokenizer.
// One forward pass; decoded strings live in an arena that only lex_free frees.
#include "lexer/lex.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INDENT 100   // CPython's MAXINDENT: at most 99 nested blocks
#define MAX_BRACKETS 200 // CPython's MAXLEVEL
#define TABSIZE 8
#define NO_CHAR (-1)     // what nextc reads past the end of the input
#define ARENA_CHUNK 4000

#if defined(__GNUC__)
#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PRINTF_LIKE(fmt, args)
#endif

static const char *const kind_text[] = {
#define X(name, text) text,
    TOKEN_KINDS(X)
#undef X
};

static const unsigned char kind_len[] = {
#define X(name, text) (unsigned char)(sizeof(text) - 1),
    TOKEN_KINDS(X)
#undef X
};

typedef struct Chunk {
    struct Chunk *next;
    size_t used, cap;
    char data[];
} Chunk;

typedef struct {
    char ch;
    int line, col;
} Bracket;

struct Lexer {
    const char *src, *end; // src is past any BOM
    const char *p;         // scan position
    const char *line_start;
    int line;
    const char *first_line_start; // the line col_base applies to
    int first_line, col_base;
    bool expression_only;
    bool at_bol;          // a logical line starts: measure its indentation
    bool line_has_tokens; // since the last NEWLINE
    bool finished;        // EOF or ERROR was returned; repeat `final`
    Token final;

    // CPython rejects a NUL byte when it reads the line holding it.
    const char *nul_line_start;
    int nul_line;
    bool nul_pending;

    int pending; // INDENTs (> 0) or DEDENTs (< 0) still to hand out
    int pend_line, pend_col;
    const char *pend_start;
    size_t pend_length;

    int indent_depth;
    int indents[MAX_INDENT];     // widths with tabs to multiples of 8
    int alt_indents[MAX_INDENT]; // widths with tabs as 1, for TabError
    int depth;
    Bracket brackets[MAX_BRACKETS];

    // A string that failed to decode: CPython reports it at the token after
    // the string (or after the run of adjacent strings).
    bool deferred;
    char deferred_msg[256];
    // The last error is one CPython's tokenizer lets through as a token
    // (its parser or our subset rejects it): SOFT_TOKEN, or SOFT_STRING for
    // a string literal. Matters only after a deferred string error.
    enum { SOFT_NONE, SOFT_TOKEN, SOFT_STRING } soft;

    const char *err_type;
    char err_msg[320];
    int err_line, err_col;

    Chunk *chunks;
};

static void out_of_memory(void) {
    fputs("asyncrun: out of memory\n", stderr);
    abort();
}

// ---------------------------------------------------------------------------
// Arena for decoded strings

static char *arena_alloc(Lexer *lexer, size_t n) {
    Chunk *head = lexer->chunks;
    if (head && head->cap - head->used >= n) {
        char *s = head->data + head->used;
        head->used += n;
        return s;
    }
    size_t cap = n > ARENA_CHUNK / 2 ? n : ARENA_CHUNK;
    Chunk *chunk = malloc(sizeof(Chunk) + cap);
    if (!chunk) out_of_memory();
    chunk->cap = cap;
    chunk->used = n;
    if (head && cap == n) {
        // A big one-off: keep the head's free space for later strings.
        chunk->next = head->next;
        head->next = chunk;
    } else {
        chunk->next = head;
        lexer->chunks = chunk;
    }
    return chunk->data;
}

// Give back the unused tail of the latest allocation [s, s+allocated).
static void arena_trim(Lexer *lexer, char *s, size_t allocated, size_t used) {
    Chunk *head = lexer->chunks;
    if (head && s + allocated == head->data + head->used)
        head->used -= allocated - used;
}

// ---------------------------------------------------------------------------
// Characters

static inline bool is_digit(int c) { return c >= '0' && c <= '9'; }

static inline bool is_hex(int c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline int hex_value(int c) {
    if (c <= '9') return c - '0';
    return (c | 0x20) - 'a' + 10;
}

static inline bool is_ident_start(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c >= 128;
}

static inline bool is_ident_char(int c) {
    return is_ident_start(c) || is_digit(c);
}

static inline bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

// CPython's UTF-8 decoder verdict on [s, s+n): true when valid, else the
// failing range [*bad, *bad_end) and the reason CPython gives.
static bool utf8_check(const unsigned char *s, size_t n, size_t *bad,
                       size_t *bad_end, const char **why) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t left = n - i;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0xC2 || c > 0xF4) {
            *bad = i;
            *bad_end = i + 1;
            *why = "invalid start byte";
            return false;
        }
        if (c < 0xE0) {
            if (left < 2) goto end_of_data;
            if (!is_cont(s[i + 1])) goto bad1;
            i += 2;
            continue;
        }
        if (c < 0xF0) {
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F; // surrogates
            if (left >= 2 && (s[i + 1] < lo || s[i + 1] > hi)) goto bad1;
            if (left < 3) goto end_of_data;
            if (!is_cont(s[i + 2])) goto bad2;
            i += 3;
            continue;
        }
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F; // above U+10FFFF
        if (left >= 2 && (s[i + 1] < lo || s[i + 1] > hi)) goto bad1;
        if (left >= 3 && !is_cont(s[i + 2])) goto bad2;
        if (left < 4) goto end_of_data;
        if (!is_cont(s[i + 3])) goto bad3;
        i += 4;
        continue;
    end_of_data:
        *bad = i;
        *bad_end = n;
        *why = "unexpected end of data";
        return false;
    bad1:
        *bad = i;
        *bad_end = i + 1;
        *why = "invalid continuation byte";
        return false;
    bad2:
        *bad = i;
        *bad_end = i + 2;
        *why = "invalid continuation byte";
        return false;
    bad3:
        *bad = i;
        *bad_end = i + 3;
        *why = "invalid continuation byte";
        return false;
    }
    return true;
}

// Decode one code point of valid UTF-8 at [s], storing its size in *size.
static uint32_t utf8_decode(const unsigned char *s, int *size) {
    if (s[0] < 0xE0) {
        *size = 2;
        return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    }
    if (s[0] < 0xF0) {
        *size = 3;
        return (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 |
               (s[2] & 0x3F);
    }
    *size = 4;
    return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
           (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
}

// Lone surrogates from \uD800 escapes are written as generalized UTF-8.
static size_t utf8_encode(char *out, uint32_t cp) {
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

// Non-ASCII code points that can never be part of an identifier, for
// CPython's "invalid character" message: punctuation, symbols, spaces and
// emoji people paste by accident. Every other code point >= 0x80 is accepted
// as an identifier character (no full XID_Start/XID_Continue tables).
static const struct {
    uint32_t lo, hi;
    bool printable;
} not_identifier[] = {
    {0x0080, 0x00A0, false}, {0x00A1, 0x00A9, true},  {0x00AB, 0x00AC, true},
    {0x00AD, 0x00AD, false}, {0x00AE, 0x00B4, true},  {0x00B6, 0x00B6, true},
    {0x00B8, 0x00B9, true},  {0x00BB, 0x00BF, true},  {0x00D7, 0x00D7, true},
    {0x00F7, 0x00F7, true},  {0x2000, 0x200F, false}, {0x2010, 0x2027, true},
    {0x2028, 0x202F, false}, {0x2030, 0x203E, true},  {0x2041, 0x2053, true},
    {0x2055, 0x205E, true},  {0x205F, 0x206F, false}, {0x20A0, 0x20C0, true},
    {0x2190, 0x2426, true},  {0x2460, 0x2B73, true},  {0x3000, 0x3000, false},
    {0x3001, 0x3004, true},  {0x3008, 0x3020, true},  {0xFEFF, 0xFEFF, false},
    {0xFF01, 0xFF0F, true},  {0xFF1A, 0xFF20, true},  {0xFF3B, 0xFF3E, true},
    {0xFF40, 0xFF40, true},  {0xFF5B, 0xFF65, true},  {0xFFFC, 0xFFFD, true},
    {0x1F300, 0x1F6D7, true}, {0x1F900, 0x1FA53, true},
};

// Characters that may continue an identifier but not start one (a few
// common ones: middle dot, combining accents, other scripts' digits).
static const struct {
    uint32_t lo, hi;
} not_identifier_start[] = {
    {0x00B7, 0x00B7}, {0x0300, 0x036F}, {0x0660, 0x0669}, {0x06F0, 0x06F9},
    {0x0966, 0x096F}, {0x203F, 0x2040}, {0x2054, 0x2054}, {0xFF10, 0xFF19},
};

static bool cannot_start_identifier(uint32_t cp) {
    for (size_t i = 0; i < sizeof not_identifier_start /
                               sizeof not_identifier_start[0]; i++)
        if (cp >= not_identifier_start[i].lo && cp <= not_identifier_start[i].hi)
            return true;
    return false;
}

// 0 when [cp] may be in an identifier, 1 when it is a printable
// non-identifier character, 2 when it is a non-printable one.
static int identifier_verdict(uint32_t cp) {
    size_t lo = 0, hi = sizeof not_identifier / sizeof not_identifier[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < not_identifier[mid].lo)
            hi = mid;
        else if (cp > not_identifier[mid].hi)
            lo = mid + 1;
        else
            return not_identifier[mid].printable ? 1 : 2;
    }
    return 0;
}

// ---------------------------------------------------------------------------
// Positions and errors

static inline Token make_token(TokenKind kind, int line, int col,
                               const char *start, size_t length) {
    Token t = {.kind = kind, .line = line, .col = col, .start = start,
               .length = (int)length};
    return t;
}

static inline int base_for(const Lexer *lexer, const char *line_start) {
    return line_start == lexer->first_line_start ? lexer->col_base : 0;
}

// Byte column of [p] in the current line, as a token's col_offset.
static inline int col_of(const Lexer *lexer, const char *p) {
    return (int)(p - lexer->line_start) + base_for(lexer, lexer->line_start);
}

// Column CPython's tokenizer errors report: the character count up to its
// read position [cur] (a 1-based offset), minus one.
static int char_col(const Lexer *lexer, const char *line_start,
                    const char *cur) {
    int n = 0;
    for (const char *s = line_start; s < cur; s++)
        n += !is_cont((unsigned char)*s);
    return n - 1 + base_for(lexer, line_start);
}

// Length in bytes of the line starting at [line_start], without its newline.
static int line_length(const Lexer *lexer, const char *line_start) {
    const char *e = line_start;
    while (e < lexer->end && *e != '\n' && *e != '\r') e++;
    return (int)(e - line_start) + base_for(lexer, line_start);
}

// The line CPython is on at end of input: a final newline ends the last
// line rather than starting a new one.
static int eof_line(const Lexer *lexer, const char *p) {
    if (p == lexer->line_start && lexer->line > lexer->first_line)
        return lexer->line - 1;
    return lexer->line;
}

static Token fail(Lexer *lexer, const char *type, int line, int col,
                  const char *fmt, ...) PRINTF_LIKE(5, 6);

static Token fail(Lexer *lexer, const char *type, int line, int col,
                  const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lexer->err_msg, sizeof lexer->err_msg, fmt, ap);
    va_end(ap);
    lexer->err_type = type;
    lexer->err_line = line;
    lexer->err_col = col;
    lexer->soft = SOFT_NONE;
    return make_token(TK_ERROR, line, col, lexer->p, 0);
}

// CPython reports this one with offset 0: no column.
static Token nul_error(Lexer *lexer) {
    return fail(lexer, "SyntaxError", lexer->nul_line, -1,
                "source code cannot contain null bytes");
}

// The lexer moved past a line break to [p]; false when the new line holds a
// NUL byte.
static inline bool next_line(Lexer *lexer, const char *p) {
    lexer->line++;
    lexer->line_start = p;
    return p != lexer->nul_line_start;
}

// [p] is at '\r' or '\n': the position after the line break.
static inline const char *skip_newline(const Lexer *lexer, const char *p) {
    if (*p == '\r' && p + 1 < lexer->end && p[1] == '\n') return p + 2;
    return p + 1;
}

static Token never_closed(Lexer *lexer) {
    const Bracket *b = &lexer->brackets[lexer->depth - 1];
    return fail(lexer, "SyntaxError", b->line, b->col, "'%c' was never closed",
                b->ch);
}

static void codec_error(char *buf, size_t size, const char *codec,
                        unsigned char byte, size_t start, size_t end,
                        const char *why) {
    if (end - start == 1)
        snprintf(buf, size,
                 "(unicode error) '%s' codec can't decode byte 0x%02x in "
                 "position %zu: %s",
                 codec, byte, start, why);
    else
        snprintf(buf, size,
                 "(unicode error) '%s' codec can't decode bytes in position "
                 "%zu-%zu: %s",
                 codec, start, end - 1, why);
}

static Token fail_codec(Lexer *lexer, int line, int col, unsigned char byte,
                        size_t start, size_t end, const char *why) {
    char msg[200];
    codec_error(msg, sizeof msg, "utf-8", byte, start, end, why);
    return fail(lexer, "SyntaxError", line, col, "%s", msg);
}

// ---------------------------------------------------------------------------
// String bodies

// Check a string body's UTF-8 the way CPython 3.11's string parser meets it:
// whole, or (when escapes get processed) one run of non-ASCII bytes at a time.
static bool check_body_utf8(const unsigned char *u, size_t n, bool escapes,
                            char *err, size_t errlen) {
    size_t bad, bad_end;
    const char *why;
    if (!escapes) {
        if (utf8_check(u, n, &bad, &bad_end, &why)) return true;
        codec_error(err, errlen, "utf-8", u[bad], bad, bad_end, why);
        return false;
    }
    for (size_t i = 0; i < n;) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && u[j] >= 0x80) j++;
        if (!utf8_check(u + i, j - i, &bad, &bad_end, &why)) {
            codec_error(err, errlen, "utf-8", u[i + bad], bad, bad_end, why);
            return false;
        }
        i = j;
    }
    return true;
}

// Copy [raw, raw+len) to [out] with CRLF and CR turned into LF, as CPython
// reads source. Returns the new length.
static size_t copy_newlines(const char *raw, size_t len, char *out) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = raw[i];
        if (c == '\r') {
            c = '\n';
            if (i + 1 < len && raw[i + 1] == '\n') i++;
        }
        out[n++] = c;
    }
    return n;
}

// Decode a string body as CPython 3.11 does (Parser/string_parser.c). [out]
// holds len + 1 bytes: decoding never makes the text longer. Error positions
// count as CPython's unicode-escape decoder does: on a copy where every
// non-ASCII character is spelled \UXXXXXXXX.
static bool decode_body(const char *raw, size_t len, bool is_raw, char *out,
                        size_t *out_len, char *err, size_t errlen) {
    size_t n = copy_newlines(raw, len, out);
    unsigned char *u = (unsigned char *)out;
    bool escapes = !is_raw && memchr(out, '\\', n) != NULL;
    if (!check_body_utf8(u, n, escapes, err, errlen)) return false;
    if (!escapes) {
        out[n] = '\0';
        *out_len = n;
        return true;
    }
    size_t r = 0, w = 0, pos = 0;
    while (r < n) {
        unsigned c = u[r];
        if (c != '\\') {
            if (c < 0x80) {
                out[w++] = (char)c;
                r++;
                pos++;
            } else {
                size_t k = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
                memmove(out + w, out + r, k);
                w += k;
                r += k;
                pos += 10;
            }
            continue;
        }
        size_t at = pos;
        if (++r >= n) {
            codec_error(err, errlen, "unicodeescape", '\\', at, at + 1,
                        "\\ at end of string");
            return false;
        }
        c = u[r];
        if (c >= 0x80) { // kept as a literal backslash, spelled \u005c
            out[w++] = '\\';
            pos += 6;
            continue;
        }
        r++;
        pos += 2;
        int digits = 0;
        const char *truncated = NULL;
        switch (c) {
        case '\n': break;
        case '\\':
        case '\'':
        case '"': out[w++] = (char)c; break;
        case 'a': out[w++] = '\a'; break;
        case 'b': out[w++] = '\b'; break;
        case 'f': out[w++] = '\f'; break;
        case 'n': out[w++] = '\n'; break;
        case 'r': out[w++] = '\r'; break;
        case 't': out[w++] = '\t'; break;
        case 'v': out[w++] = '\v'; break;
        case '0': case '1': case '2': case '3':
        case '4': case '5': case '6': case '7': {
            uint32_t v = c - '0';
            for (int k = 0; k < 2 && r < n && u[r] >= '0' && u[r] <= '7'; k++) {
                v = v * 8 + (u[r++] - '0');
                pos++;
            }
            w += utf8_encode(out + w, v);
            break;
        }
        case 'x': digits = 2; truncated = "truncated \\xXX escape"; break;
        case 'u': digits = 4; truncated = "truncated \\uXXXX escape"; break;
        case 'U': digits = 8; truncated = "truncated \\UXXXXXXXX escape"; break;
        case 'N':
            snprintf(err, errlen, "(unicode error) \\N{...} escapes are not "
                                  "supported in asyncrun");
            return false;
        default: // unknown escapes keep their backslash
            out[w++] = '\\';
            out[w++] = (char)c;
            break;
        }
        if (!digits) continue;
        uint32_t v = 0;
        for (int k = 0; k < digits; k++) {
            if (r >= n || !is_hex(u[r])) {
                codec_error(err, errlen, "unicodeescape", '\\', at, pos,
                            truncated);
                return false;
            }
            v = v * 16 + (uint32_t)hex_value(u[r++]);
            pos++;
        }
        if (v > 0x10FFFF) {
            codec_error(err, errlen, "unicodeescape", '\\', at, pos,
                        "illegal Unicode character");
            return false;
        }
        w += utf8_encode(out + w, v);
    }
    out[w] = '\0';
    *out_len = w;
    return true;
}

char *lex_decode_escapes(const char *raw, size_t len, bool is_raw,
                         size_t *out_len, char *errbuf, size_t errlen) {
    char *out = malloc(len + 1);
    if (!out) out_of_memory();
    if (!decode_body(raw, len, is_raw, out, out_len, errbuf, errlen)) {
        free(out);
        return NULL;
    }
    return out;
}

// ---------------------------------------------------------------------------
// Comments, line continuation, indentation

// [lexer->p] is at '#': move to the line break (or end), checking UTF-8.
static bool skip_comment(Lexer *lexer, Token *err) {
    const unsigned char *start = (const unsigned char *)lexer->p;
    const unsigned char *p = start, *end = (const unsigned char *)lexer->end;
    bool high = false;
    while (p < end && *p != '\n' && *p != '\r') high |= *p++ >= 0x80;
    lexer->p = (const char *)p;
    size_t bad, bad_end;
    const char *why;
    if (high && !utf8_check(start, (size_t)(p - start), &bad, &bad_end, &why)) {
        lexer->p = (const char *)start + bad;
        *err = fail_codec(lexer, lexer->line, col_of(lexer, lexer->p),
                          start[bad], bad, bad_end, why);
        return false;
    }
    return true;
}

// [lexer->p] is at a backslash outside a string: join the next line.
static bool continuation(Lexer *lexer, bool at_bol, Token *err) {
    const char *q = lexer->p + 1, *end = lexer->end;
    const char *line_start = lexer->line_start;
    int line = lexer->line;
    if (q < end) {
        if (*q != '\n' && *q != '\r') {
            *err = fail(lexer, "SyntaxError", line, col_of(lexer, q),
                        "unexpected character after line continuation "
                        "character");
            return false;
        }
        q = skip_newline(lexer, q);
        lexer->p = q;
        if (!next_line(lexer, q)) {
            *err = nul_error(lexer);
            return false;
        }
        if (q < end) return true;
    }
    lexer->p = end;
    if (lexer->depth > 0) {
        *err = never_closed(lexer);
        return false;
    }
    // At the start of a line CPython 3.11 reports no column (offset 0).
    int col = at_bol ? -1 : line_length(lexer, line_start);
    *err = fail(lexer, "SyntaxError", line, col, "unexpected EOF while parsing");
    return false;
}

static bool tab_error(Lexer *lexer, Token *err) {
    *err = fail(lexer, "TabError", lexer->line, 0,
                "inconsistent use of tabs and spaces in indentation");
    return false;
}

// At the start of a logical line: skip blank and comment-only lines, measure
// the indentation of the next one and queue its INDENT or DEDENTs.
static bool indentation(Lexer *lexer, Token *err) {
    const char *end = lexer->end;
    for (;;) {
        const char *p = lexer->p;
        int col = 0, altcol = 0, cont_col = 0;
        while (p < end) {
            if (*p == ' ') {
                col++;
                altcol++;
            } else if (*p == '\t') {
                col = (col / TABSIZE + 1) * TABSIZE;
                altcol++;
            } else if (*p == '\f') {
                col = altcol = 0;
            } else if (*p == '\\') {
                // The first backslash fixes the indentation (CPython 3.11.7).
                if (!cont_col) cont_col = col;
                lexer->p = p;
                if (!continuation(lexer, true, err)) return false;
                p = lexer->p;
                continue;
            } else {
                break;
            }
            p++;
        }
        lexer->p = p;
        if (p < end && (*p == '#' || *p == '\n' || *p == '\r')) {
            if (*p == '#' && !skip_comment(lexer, err)) return false;
            p = lexer->p;
            if (p < end) {
                p = skip_newline(lexer, p);
                lexer->p = p;
                if (!next_line(lexer, p)) {
                    *err = nul_error(lexer);
                    return false;
                }
            }
            continue;
        }
        if (p >= end) col = altcol = cont_col = 0;
        if (cont_col) col = altcol = cont_col;

        int top = lexer->indent_depth;
        if (col == lexer->indents[top]) {
            if (altcol != lexer->alt_indents[top]) return tab_error(lexer, err);
        } else if (col > lexer->indents[top]) {
            if (top + 1 >= MAX_INDENT) {
                *err = fail(lexer, "IndentationError", lexer->line, 0,
                            "too many levels of indentation");
                return false;
            }
            if (altcol <= lexer->alt_indents[top]) return tab_error(lexer, err);
            top++;
            lexer->indents[top] = col;
            lexer->alt_indents[top] = altcol;
            lexer->indent_depth = top;
            lexer->pending = 1;
            lexer->pend_line = lexer->line;
            lexer->pend_col = col_of(lexer, lexer->line_start);
            lexer->pend_start = lexer->line_start;
            lexer->pend_length = (size_t)(p - lexer->line_start);
        } else {
            int dedents = 0;
            while (top > 0 && col < lexer->indents[top]) {
                top--;
                dedents++;
            }
            if (col != lexer->indents[top]) {
                *err = fail(lexer, "IndentationError", lexer->line,
                            line_length(lexer, lexer->line_start),
                            "unindent does not match any outer indentation "
                            "level");
                return false;
            }
            if (altcol != lexer->alt_indents[top]) return tab_error(lexer, err);
            lexer->indent_depth = top;
            lexer->pending = -dedents;
            if (p >= end) {
                lexer->pend_line = eof_line(lexer, p);
                lexer->pend_col = 0;
            } else {
                lexer->pend_line = lexer->line;
                lexer->pend_col = col_of(lexer, p);
            }
            lexer->pend_start = p;
            lexer->pend_length = 0;
        }
        return true;
    }
}

static Token pending_token(Lexer *lexer) {
    TokenKind kind = lexer->pending > 0 ? TK_INDENT : TK_DEDENT;
    lexer->pending += lexer->pending > 0 ? -1 : 1;
    return make_token(kind, lexer->pend_line, lexer->pend_col,
                      lexer->pend_start, lexer->pend_length);
}

// ---------------------------------------------------------------------------
// Names

static TokenKind keyword(const char *s, size_t n) {
    if (n < 2 || n > 8) return TK_NAME;
    for (int k = TK_FIRST_KEYWORD; k <= TK_LAST_KEYWORD; k++)
        if (kind_len[k] == n && kind_text[k][0] == s[0] &&
            memcmp(kind_text[k], s, n) == 0)
            return (TokenKind)k;
    return TK_NAME;
}

// A name with non-ASCII bytes in [start, start+n): valid UTF-8 first (the
// whole name, as CPython decodes it), then no character that cannot be in
// an identifier.
static bool check_name(Lexer *lexer, const char *start, size_t n, Token *err) {
    const unsigned char *u = (const unsigned char *)start;
    size_t bad, bad_end;
    const char *why;
    if (!utf8_check(u, n, &bad, &bad_end, &why)) {
        // CPython points at the name's last byte.
        lexer->p = start + bad;
        *err = fail_codec(lexer, lexer->line, col_of(lexer, start + n) - 1,
                          u[bad], bad, bad_end, why);
        return false;
    }
    for (size_t i = 0; i < n;) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        int size;
        uint32_t cp = utf8_decode(u + i, &size);
        int verdict = identifier_verdict(cp);
        if (!verdict && i == 0 && cannot_start_identifier(cp)) verdict = 1;
        if (verdict) {
            lexer->p = start + i;
            int col = char_col(lexer, lexer->line_start, start + i + size);
            if (verdict == 1)
                *err = fail(lexer, "SyntaxError", lexer->line, col,
                            "invalid character '%.*s' (U+%04X)", size,
                            start + i, (unsigned)cp);
            else
                *err = fail(lexer, "SyntaxError", lexer->line, col,
                            "invalid non-printable character U+%04X",
                            (unsigned)cp);
            return false;
        }
        i += (size_t)size;
    }
    return true;
}

// ---------------------------------------------------------------------------
// Strings

// [quote] is at the opening quote of a string whose prefix starts at [start].
static Token scan_string(Lexer *lexer, const char *start, const char *quote,
                         bool saw_b, bool saw_r, bool saw_f) {
    const char *end = lexer->end, *q = quote;
    const char *first_line_start = lexer->line_start;
    int first_line = lexer->line;
    char qc = *q;
    bool triple = q + 2 < end && q[1] == qc && q[2] == qc;
    q += triple ? 3 : 1;
    const char *body = q, *body_end;
    for (;;) {
        if (q >= end) {
            int detected = eof_line(lexer, q);
            lexer->p = start;
            return fail(lexer, "SyntaxError", first_line,
                        char_col(lexer, first_line_start, start + 1),
                        triple ? "unterminated triple-quoted string literal "
                                 "(detected at line %d)"
                               : "unterminated string literal (detected at "
                                 "line %d)",
                        detected);
        }
        char c = *q;
        if (c == qc) {
            if (!triple) {
                body_end = q++;
                break;
            }
            if (q + 2 < end && q[1] == qc && q[2] == qc) {
                body_end = q;
                q += 3;
                break;
            }
            q++;
        } else if (c == '\n' || c == '\r') {
            if (!triple) {
                int detected = lexer->line;
                lexer->p = start;
                return fail(lexer, "SyntaxError", first_line,
                            char_col(lexer, first_line_start, start + 1),
                            "unterminated string literal (detected at line "
                            "%d)",
                            detected);
            }
            q = skip_newline(lexer, q);
            if (!next_line(lexer, q)) return nul_error(lexer);
        } else if (c == '\\') {
            q++;
            if (q < end) {
                if (*q == '\n' || *q == '\r') {
                    q = skip_newline(lexer, q);
                    if (!next_line(lexer, q)) return nul_error(lexer);
                } else {
                    q++;
                }
            }
        } else {
            q++;
        }
    }
    lexer->p = q;
    int col = (int)(start - first_line_start) + base_for(lexer, first_line_start);
    if (saw_b) {
        lexer->p = start;
        Token err = fail(lexer, "SyntaxError", first_line, col,
                         "bytes literals are not supported in asyncrun");
        lexer->soft = SOFT_STRING;
        lexer->p = q;
        return err;
    }
    Token t = make_token(saw_f ? TK_FSTRING : TK_STRING, first_line, col,
                         start, (size_t)(q - start));
    t.is_raw = saw_r;
    size_t raw_len = (size_t)(body_end - body);
    char *out = arena_alloc(lexer, raw_len + 1);
    char *msg = lexer->deferred ? NULL : lexer->deferred_msg;
    size_t msg_len = lexer->deferred ? 0 : sizeof lexer->deferred_msg;
    bool ok;
    if (saw_f) {
        // The parser decodes f-string parts; only check the text here.
        t.str_len = copy_newlines(body, raw_len, out);
        out[t.str_len] = '\0';
        bool escapes = !saw_r && memchr(out, '\\', t.str_len) != NULL;
        ok = check_body_utf8((const unsigned char *)out, t.str_len, escapes,
                             msg, msg_len);
    } else {
        ok = decode_body(body, raw_len, saw_r, out, &t.str_len, msg, msg_len);
        if (!ok) {
            out[0] = '\0';
            t.str_len = 0;
        }
    }
    arena_trim(lexer, out, raw_len + 1, t.str_len + 1);
    t.str = out;
    if (!ok) lexer->deferred = true;
    return t;
}

// ---------------------------------------------------------------------------
// Numbers, mirroring tok_get's number states so errors land where CPython's do

static inline int nextc(const char **q, const char *end) {
    if (*q >= end) return NO_CHAR;
    return (unsigned char)*(*q)++;
}

static inline void backup(const char **q, int c) {
    if (c != NO_CHAR) (*q)--;
}

static Token number_error(Lexer *lexer, const char *cur, const char *what) {
    lexer->p = cur;
    return fail(lexer, "SyntaxError", lexer->line,
                char_col(lexer, lexer->line_start, cur), "%s", what);
}

// [q] is just past the keyword's first letter: does the rest of [word] and
// then a non-name character follow?
static bool followed_by(const char *q, const char *end, const char *word) {
    for (; *word; word++, q++)
        if (q >= end || *q != *word) return false;
    return q >= end || !is_ident_char((unsigned char)*q);
}

// tok_get's verify_end_of_number: [c] was just read and *q is past it. A
// number may run into one of the keywords "and else for if in is not or"
// (CPython only warns), not into other ASCII name characters.
static bool end_of_number(Lexer *lexer, const char **q, int c,
                          const char *kind, Token *err) {
    const char *end = lexer->end;
    bool keyword_follows = false;
    switch (c) {
    case 'a': keyword_follows = followed_by(*q, end, "nd"); break;
    case 'e': keyword_follows = followed_by(*q, end, "lse"); break;
    case 'f': keyword_follows = followed_by(*q, end, "or"); break;
    case 'i':
        keyword_follows =
            *q < end && (**q == 'f' || **q == 'n' || **q == 's');
        break;
    case 'o': keyword_follows = followed_by(*q, end, "r"); break;
    case 'n': keyword_follows = followed_by(*q, end, "ot"); break;
    default: break;
    }
    if (!keyword_follows && c != NO_CHAR && c < 128 && is_ident_char(c)) {
        backup(q, c);
        lexer->p = *q;
        *err = fail(lexer, "SyntaxError", lexer->line,
                    char_col(lexer, lexer->line_start, *q), "invalid %s literal",
                    kind);
        return false;
    }
    return true;
}

// tok_decimal_tail: digits with single underscores between them. Returns
// the first character after them, or 0 after an error.
static int decimal_tail(Lexer *lexer, const char **q, Token *err) {
    const char *end = lexer->end;
    int c;
    for (;;) {
        do c = nextc(q, end);
        while (is_digit(c));
        if (c != '_') return c;
        c = nextc(q, end);
        if (!is_digit(c)) {
            backup(q, c);
            *err = number_error(lexer, *q, "invalid decimal literal");
            return 0;
        }
    }
}

static void int_value(Token *t, const char *s, size_t n, int base) {
    uint64_t v = 0;
    bool over = false;
    for (size_t i = base == 10 ? 0 : 2; i < n; i++) {
        if (s[i] == '_') continue;
        unsigned d = (unsigned)hex_value((unsigned char)s[i]);
        if (v > (UINT64_MAX - d) / (unsigned)base)
            over = true;
        else
            v = v * (unsigned)base + d;
    }
    if (over || v > (uint64_t)INT64_MAX) {
        t->big = true;
        // exactly 2**63: -9223372036854775808 still fits once negated
        if (!over && v == (uint64_t)INT64_MAX + 1) t->i = INT64_MIN;
    } else {
        t->i = (int64_t)v;
    }
}

static void float_value(Token *t, const char *s, size_t n) {
    char small[128];
    char *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf) out_of_memory();
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_') buf[k++] = s[i];
    buf[k] = '\0';
    t->f = strtod(buf, NULL);
    if (buf != small) free(buf);
}

// [start] is at a digit, or at '.' before a digit.
static Token scan_number(Lexer *lexer, const char *start) {
    const char *end = lexer->end, *q = start;
    Token err;
    int base = 10;
    bool is_float = false;
    int c = nextc(&q, end);
    if (c == '.') {
        c = nextc(&q, end);
        goto fraction;
    }
    if (c == '0') {
        c = nextc(&q, end);
        if (c == 'x' || c == 'X') {
            base = 16;
            c = nextc(&q, end);
            do {
                if (c == '_') c = nextc(&q, end);
                if (!is_hex(c)) {
                    backup(&q, c);
                    return number_error(lexer, q, "invalid hexadecimal literal");
                }
                do c = nextc(&q, end);
                while (is_hex(c));
            } while (c == '_');
            if (!end_of_number(lexer, &q, c, "hexadecimal", &err)) return err;
        } else if (c == 'o' || c == 'O' || c == 'b' || c == 'B') {
            bool octal = c == 'o' || c == 'O';
            int top = octal ? '7' : '1';
            const char *kind = octal ? "octal" : "binary";
            base = octal ? 8 : 2;
            c = nextc(&q, end);
            do {
                if (c == '_') c = nextc(&q, end);
                if (c < '0' || c > top) {
                    if (is_digit(c))
                        goto bad_digit;
                    backup(&q, c);
                    return number_error(lexer, q,
                                        octal ? "invalid octal literal"
                                              : "invalid binary literal");
                }
                do c = nextc(&q, end);
                while (c >= '0' && c <= top);
            } while (c == '_');
            if (is_digit(c)) {
            bad_digit:
                lexer->p = q;
                err = fail(lexer, "SyntaxError", lexer->line,
                           char_col(lexer, lexer->line_start, q),
                           "invalid digit '%c' in %s literal", c, kind);
                return err;
            }
            if (!end_of_number(lexer, &q, c, kind, &err)) return err;
        } else {
            bool nonzero = false;
            // Maybe an old-style octal; "0", "00", "0_0" are fine.
            for (;;) {
                if (c == '_') {
                    c = nextc(&q, end);
                    if (!is_digit(c)) {
                        backup(&q, c);
                        return number_error(lexer, q,
                                            "invalid decimal literal");
                    }
                }
                if (c != '0') break;
                c = nextc(&q, end);
            }
            if (is_digit(c)) {
                nonzero = true;
                c = decimal_tail(lexer, &q, &err);
                if (c == 0) return err;
            }
            if (c == '.') {
                c = nextc(&q, end);
                goto fraction;
            }
            if (c == 'e' || c == 'E') goto exponent;
            if (c == 'j' || c == 'J') goto imaginary;
            if (nonzero) {
                // CPython gives this one a byte column.
                lexer->p = start;
                return fail(lexer, "SyntaxError", lexer->line,
                            col_of(lexer, start),
                            "leading zeros in decimal integer literals are "
                            "not permitted; use an 0o prefix for octal "
                            "integers");
            }
            if (!end_of_number(lexer, &q, c, "decimal", &err)) return err;
        }
        goto done;
    }
    c = decimal_tail(lexer, &q, &err);
    if (c == 0) return err;
    if (c == '.') {
        c = nextc(&q, end);
    fraction:
        is_float = true;
        if (is_digit(c)) {
            c = decimal_tail(lexer, &q, &err);
            if (c == 0) return err;
        }
    }
    if (c == 'e' || c == 'E') {
        int e;
    exponent:
        e = c;
        c = nextc(&q, end);
        if (c == '+' || c == '-') {
            c = nextc(&q, end);
            if (!is_digit(c)) {
                backup(&q, c);
                return number_error(lexer, q, "invalid decimal literal");
            }
        } else if (!is_digit(c)) {
            // "1else": the number ends before the 'e'.
            backup(&q, c);
            if (!end_of_number(lexer, &q, e, "decimal", &err)) return err;
            backup(&q, e);
            goto finish;
        }
        c = decimal_tail(lexer, &q, &err);
        if (c == 0) return err;
        is_float = true;
    }
    if (c == 'j' || c == 'J') {
    imaginary:
        c = nextc(&q, end);
        if (!end_of_number(lexer, &q, c, "imaginary", &err)) return err;
        lexer->p = start;
        err = fail(lexer, "SyntaxError", lexer->line, col_of(lexer, start),
                   "complex numbers are not supported in asyncrun");
        lexer->soft = SOFT_TOKEN;
        return err;
    }
    if (!end_of_number(lexer, &q, c, "decimal", &err)) return err;
done:
    backup(&q, c);
finish:
    lexer->p = q;
    size_t n = (size_t)(q - start);
    Token t = make_token(is_float ? TK_FLOAT : TK_INT, lexer->line,
                         col_of(lexer, start), start, n);
    if (is_float)
        float_value(&t, start, n);
    else
        int_value(&t, start, n, base);
    return t;
}

// ---------------------------------------------------------------------------
// Operators and brackets

static Token scan_operator(Lexer *lexer, const char *p) {
    const char *end = lexer->end;
    int c1 = p + 1 < end ? (unsigned char)p[1] : 0;
    int c2 = p + 2 < end ? (unsigned char)p[2] : 0;
    TokenKind kind;
    size_t n = 1;
    unsigned char c = (unsigned char)*p;
    switch (c) {
    case '(':
    case '[':
    case '{':
        if (lexer->depth >= MAX_BRACKETS) {
            lexer->p = p;
            return fail(lexer, "SyntaxError", lexer->line,
                        char_col(lexer, lexer->line_start, p + 1),
                        "too many nested parentheses");
        }
        lexer->brackets[lexer->depth++] =
            (Bracket){(char)c, lexer->line, col_of(lexer, p)};
        kind = c == '(' ? TK_LPAREN : c == '[' ? TK_LBRACKET : TK_LBRACE;
        break;
    case ')':
    case ']':
    case '}': {
        // the column walks the whole line: compute it only for an error
        if (lexer->depth == 0) {
            int col = char_col(lexer, lexer->line_start, p + 1);
            lexer->p = p;
            return fail(lexer, "SyntaxError", lexer->line, col,
                        "unmatched '%c'", c);
        }
        const Bracket *b = &lexer->brackets[--lexer->depth];
        char want = b->ch == '(' ? ')' : b->ch == '[' ? ']' : '}';
        if (c != want) {
            int col = char_col(lexer, lexer->line_start, p + 1);
            lexer->p = p;
            if (b->line != lexer->line)
                return fail(lexer, "SyntaxError", lexer->line, col,
                            "closing parenthesis '%c' does not match opening "
                            "parenthesis '%c' on line %d",
                            c, b->ch, b->line);
            return fail(lexer, "SyntaxError", lexer->line, col,
                        "closing parenthesis '%c' does not match opening "
                        "parenthesis '%c'",
                        c, b->ch);
        }
        kind = c == ')' ? TK_RPAREN : c == ']' ? TK_RBRACKET : TK_RBRACE;
        break;
    }
    case ',': kind = TK_COMMA; break;
    case ';': kind = TK_SEMI; break;
    case '~': kind = TK_TILDE; break;
    case ':':
        kind = c1 == '=' ? (n = 2, TK_WALRUS) : TK_COLON;
        break;
    case '.':
        kind = c1 == '.' && c2 == '.' ? (n = 3, TK_ELLIPSIS) : TK_DOT;
        break;
    case '+': kind = c1 == '=' ? (n = 2, TK_PLUSEQ) : TK_PLUS; break;
    case '-':
        kind = c1 == '>'   ? (n = 2, TK_ARROW)
               : c1 == '=' ? (n = 2, TK_MINUSEQ)
                           : TK_MINUS;
        break;
    case '*':
        if (c1 == '*')
            kind = c2 == '=' ? (n = 3, TK_DSTAREQ) : (n = 2, TK_DSTAR);
        else
            kind = c1 == '=' ? (n = 2, TK_STAREQ) : TK_STAR;
        break;
    case '/':
        if (c1 == '/')
            kind = c2 == '=' ? (n = 3, TK_DSLASHEQ) : (n = 2, TK_DSLASH);
        else
            kind = c1 == '=' ? (n = 2, TK_SLASHEQ) : TK_SLASH;
        break;
    case '%': kind = c1 == '=' ? (n = 2, TK_PERCENTEQ) : TK_PERCENT; break;
    case '&': kind = c1 == '=' ? (n = 2, TK_AMPEQ) : TK_AMP; break;
    case '|': kind = c1 == '=' ? (n = 2, TK_PIPEEQ) : TK_PIPE; break;
    case '^': kind = c1 == '=' ? (n = 2, TK_CARETEQ) : TK_CARET; break;
    case '@': kind = c1 == '=' ? (n = 2, TK_ATEQ) : TK_AT; break;
    case '=': kind = c1 == '=' ? (n = 2, TK_EQEQ) : TK_ASSIGN; break;
    case '<':
        if (c1 == '<')
            kind = c2 == '=' ? (n = 3, TK_LSHIFTEQ) : (n = 2, TK_LSHIFT);
        else if (c1 == '=')
            kind = (n = 2, TK_LE);
        else if (c1 == '>') // CPython lexes "<>" and its parser rejects it
            goto invalid_syntax;
        else
            kind = TK_LT;
        break;
    case '>':
        if (c1 == '>')
            kind = c2 == '=' ? (n = 3, TK_RSHIFTEQ) : (n = 2, TK_RSHIFT);
        else
            kind = c1 == '=' ? (n = 2, TK_GE) : TK_GT;
        break;
    case '!':
        if (c1 != '=') goto invalid_syntax;
        kind = TK_NE;
        n = 2;
        break;
    default:
        lexer->p = p;
        if (c < 0x20 || c == 0x7F) // (NUL bytes are caught per line)
            return fail(lexer, "SyntaxError", lexer->line,
                        char_col(lexer, lexer->line_start, p + 1),
                        "invalid non-printable character U+%04X", c);
        goto invalid_syntax;
    }
    lexer->p = p + n;
    return make_token(kind, lexer->line, col_of(lexer, p), p, n);
invalid_syntax:;
    // CPython's tokenizer passes these on and its parser stops at them.
    lexer->p = p;
    Token err = fail(lexer, "SyntaxError", lexer->line, col_of(lexer, p),
                     "invalid syntax");
    lexer->soft = SOFT_TOKEN;
    return err;
}

// ---------------------------------------------------------------------------
// The scanner

static Token scan_name(Lexer *lexer, const char *start) {
    const char *end = lexer->end, *q = start;
    bool saw_b = false, saw_r = false, saw_u = false, saw_f = false;
    // String prefixes, in the combinations CPython accepts.
    while (q < end) {
        char c = *q;
        if (!(saw_b || saw_u || saw_f) && (c == 'b' || c == 'B'))
            saw_b = true;
        else if (!(saw_b || saw_u || saw_r || saw_f) && (c == 'u' || c == 'U'))
            saw_u = true;
        else if (!(saw_r || saw_u) && (c == 'r' || c == 'R'))
            saw_r = true;
        else if (!(saw_f || saw_b || saw_u) && (c == 'f' || c == 'F'))
            saw_f = true;
        else
            break;
        q++;
        if (q < end && (*q == '"' || *q == '\''))
            return scan_string(lexer, start, q, saw_b, saw_r, saw_f);
    }
    bool high = false;
    while (q < end && is_ident_char((unsigned char)*q)) high |= *q++ & 0x80;
    size_t n = (size_t)(q - start);
    TokenKind kind = TK_NAME;
    if (high) {
        Token err;
        if (!check_name(lexer, start, n, &err)) return err;
    } else {
        kind = keyword(start, n);
    }
    lexer->p = q;
    return make_token(kind, lexer->line, col_of(lexer, start), start, n);
}

// At end of input outside the at-bol pass.
static Token at_end(Lexer *lexer, const char *start) {
    if (lexer->depth > 0) return never_closed(lexer);
    if (lexer->line_has_tokens && !lexer->expression_only) {
        // CPython adds the missing final newline.
        lexer->line_has_tokens = false;
        lexer->at_bol = true;
        return make_token(TK_NEWLINE, lexer->line, col_of(lexer, start), start,
                          (size_t)(lexer->p - start));
    }
    if (lexer->expression_only)
        return make_token(TK_EOF, lexer->line, col_of(lexer, lexer->p),
                          lexer->p, 0);
    return make_token(TK_EOF, eof_line(lexer, lexer->p), 0, lexer->p, 0);
}

static Token scan(Lexer *lexer) {
    if (lexer->nul_pending) return nul_error(lexer);
    if (lexer->pending) return pending_token(lexer);
    if (lexer->at_bol) {
        lexer->at_bol = false;
        Token err;
        if (!indentation(lexer, &err)) return err;
        if (lexer->pending) return pending_token(lexer);
    }
    const char *end = lexer->end;
again:;
    const char *p = lexer->p;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\f')) p++;
    const char *start = p;
    lexer->p = p;
    if (p < end && *p == '#') {
        Token err;
        if (!skip_comment(lexer, &err)) return err;
        p = lexer->p;
    }
    if (p >= end) return at_end(lexer, start);
    unsigned char c = (unsigned char)*p;
    if (c == '\n' || c == '\r') {
        const char *q = skip_newline(lexer, p);
        if (lexer->depth > 0 || lexer->expression_only) {
            lexer->p = q;
            if (!next_line(lexer, q)) return nul_error(lexer);
            goto again;
        }
        // NEWLINE starts at the comment before the line break, if any.
        Token t = make_token(TK_NEWLINE, lexer->line, col_of(lexer, start),
                             start, (size_t)(p - start));
        lexer->p = q;
        lexer->at_bol = true;
        lexer->line_has_tokens = false;
        if (!next_line(lexer, q)) lexer->nul_pending = true;
        return t;
    }
    if (c == '\\') {
        Token err;
        if (!continuation(lexer, false, &err)) return err;
        goto again;
    }
    lexer->line_has_tokens = true;
    if (is_ident_start(c)) return scan_name(lexer, p);
    if (is_digit(c) || (c == '.' && p + 1 < end && is_digit(p[1])))
        return scan_number(lexer, p);
    if (c == '"' || c == '\'')
        return scan_string(lexer, p, p, false, false, false);
    return scan_operator(lexer, p);
}

Token lex_next(Lexer *lexer) {
    if (lexer->finished) return lexer->final;
    Token t = scan(lexer);
    if (lexer->deferred && t.kind != TK_ERROR) {
        // CPython decodes adjacent strings together once the parser has read
        // the token after them, and points the error at that token.
        Token next;
        do next = scan(lexer);
        while (next.kind == TK_STRING || next.kind == TK_FSTRING ||
               (next.kind == TK_ERROR && lexer->soft == SOFT_STRING));
        if (next.kind == TK_ERROR && lexer->soft == SOFT_NONE)
            t = next; // the tokenizer fails before the parser decodes
        else
            t = fail(lexer, "SyntaxError", next.line, next.col, "%s",
                     lexer->deferred_msg);
    }
    if (t.kind == TK_ERROR || t.kind == TK_EOF) {
        lexer->finished = true;
        lexer->final = t;
    }
    return t;
}

// ---------------------------------------------------------------------------
// Lifetime and queries

Lexer *lex_new_at(const char *src, size_t len, int line, int col,
                  bool expression_only) {
    Lexer *lexer = calloc(1, sizeof *lexer);
    if (!lexer) out_of_memory();
    lexer->src = src;
    lexer->end = src + len;
    lexer->p = src;
    lexer->line_start = src;
    lexer->first_line_start = src;
    lexer->line = line;
    lexer->first_line = line;
    lexer->col_base = col;
    lexer->expression_only = expression_only;
    lexer->at_bol = !expression_only;
    const char *nul = len ? memchr(src, '\0', len) : NULL;
    if (nul) {
        const char *ls = nul;
        while (ls > src && ls[-1] != '\n' && ls[-1] != '\r') ls--;
        int n = line;
        for (const char *s = src; s < ls; s++)
            if (*s == '\n' || (*s == '\r' && s[1] != '\n')) n++;
        lexer->nul_line_start = ls;
        lexer->nul_line = n;
        lexer->nul_pending = ls == src;
    }
    return lexer;
}

Lexer *lex_new(const char *src, size_t len) {
    size_t bom = len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    return lex_new_at(src + bom, len - bom, 1, 0, false);
}

void lex_free(Lexer *lexer) {
    if (!lexer) return;
    Chunk *c = lexer->chunks;
    while (c) {
        Chunk *next = c->next;
        free(c);
        c = next;
    }
    free(lexer);
}

const char *lex_error_type(const Lexer *lexer) {
    return lexer->err_type ? lexer->err_type : "SyntaxError";
}

const char *lex_error_message(const Lexer *lexer) { return lexer->err_msg; }

int lex_error_line(const Lexer *lexer) { return lexer->err_line; }

int lex_error_col(const Lexer *lexer) { return lexer->err_col; }

bool lex_source_line(const char *src, size_t len, int line, const char **start,
                     size_t *length) {
    if (line < 1) return false;
    const char *p = src, *end = src + len;
    if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) p += 3;
    for (int n = 1; n < line; n++) {
        while (p < end && *p != '\n' && *p != '\r') p++;
        if (p >= end) return false;
        p += *p == '\r' && p + 1 < end && p[1] == '\n' ? 2 : 1;
    }
    if (p >= end && line > 1) return false; // nothing after the last newline
    const char *e = p;
    while (e < end && *e != '\n' && *e != '\r') e++;
    *start = p;
    *length = (size_t)(e - p);
    return true;
}

const char *lex_kind_name(TokenKind kind) {
    if ((unsigned)kind >= TK__COUNT) return "?";
    return kind_text[kind];
}
