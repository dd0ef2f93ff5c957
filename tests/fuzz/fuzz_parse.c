// tests/fuzz/fuzz_parse.c - libFuzzer harness: parse_module over arbitrary
// bytes, then the AST dumper over the tree, then ast_free.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "parser/ast.h"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    devnull = fopen("/dev/null", "w");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ParseResult r = parse_module((const char *)data, size);
    if (r.module) {
        ast_dump_positions(r.module, devnull);
    } else {
        if (!r.error_type || !r.error_message[0] || r.error_line < 0) abort();
    }
    ast_free(&r);
    return 0;
}
