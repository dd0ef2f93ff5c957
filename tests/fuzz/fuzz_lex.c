// tests/fuzz/fuzz_lex.c - libFuzzer harness: the lexer over arbitrary bytes.
// Every input must end in TK_EOF or TK_ERROR within a bounded number of
// tokens; an error must come with a type, a message and a sane position.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lexer/lex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *src = (const char *)data;
    Lexer *lexer = lex_new(src, size);
    if (!lexer) return 0;
    // At most one token per byte plus NEWLINE and the DEDENTs at the end.
    size_t budget = 2 * size + 16;
    for (;;) {
        Token t = lex_next(lexer);
        if (t.kind == TK_ERROR) {
            const char *type = lex_error_type(lexer);
            const char *msg = lex_error_message(lexer);
            if (!type || !msg || !type[0] || !msg[0]) abort();
            if (lex_error_line(lexer) < 1 || lex_error_col(lexer) < -1) abort();
            const char *line;
            size_t length;
            lex_source_line(src, size, lex_error_line(lexer), &line, &length);
            break;
        }
        if (t.kind == TK_EOF) break;
        if (t.kind < 0 || t.kind >= TK__COUNT) abort();
        if (t.line < 1 || t.col < 0 || t.length < 0) abort();
        if (t.start && (t.start < src || t.start + t.length > src + size)) abort();
        if (budget-- == 0) abort(); // the lexer does not advance
    }
    // Once finished, it stays finished.
    Token again = lex_next(lexer);
    if (again.kind != TK_EOF && again.kind != TK_ERROR) abort();
    lex_free(lexer);

    // The escape decoder on the same bytes, raw and cooked.
    char err[256];
    size_t out_len;
    for (int raw = 0; raw < 2; raw++) {
        char *s = lex_decode_escapes(src, size, raw, &out_len, err, sizeof err);
        free(s);
    }
    return 0;
}
