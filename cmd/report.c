// cmd/report.c - syntax errors and SystemExit statuses reported as CPython does.
// Shared by the command (cmd/main.c) and the interactive session (cmd/repl.c).
#include "cmd/report.h"

#include <stdio.h>

#include "lexer/lex.h"
#include "runtime/containers.h"
#include "runtime/ops.h"

// Code points before byte column `col` of the line, for the caret.
static size_t char_column(const char *line, size_t length, size_t col) {
    if (col > length) col = length;
    return utf8_count(line, col);
}

void report_syntax_error(const char *filename, const char *src, size_t len, const CompileError *err) {
    fprintf(stderr, "  File \"%s\", line %d\n", filename, err->line);
    const char *line;
    size_t line_len;
    if (err->line > 0 && lex_source_line(src, len, err->line, &line, &line_len)) {
        size_t skip = 0;
        while (skip < line_len && (line[skip] == ' ' || line[skip] == '\t' || line[skip] == '\f')) skip++;
        size_t end = line_len;
        while (end > skip && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r')) end--;
        fprintf(stderr, "    %.*s\n", (int)(end - skip), line + skip);
        // no caret where CPython has no column or it falls in the indentation
        // ("unexpected indent")
        if (err->col >= 0 && (size_t)err->col >= skip) {
            size_t caret = char_column(line + skip, line_len - skip, (size_t)err->col - skip);
            fprintf(stderr, "    %*s^\n", (int)caret, "");
        }
    }
    fprintf(stderr, "%s: %s\n", err->type, err->message);
    fflush(stderr);
}

int report_exit_status(VM *vm, Value exc) {
    ObjException *e = (ObjException *)AS_OBJ(exc);
    Value code = e->args && e->args->length == 1 ? e->args->items[0]
                 : e->args && e->args->length > 1 ? OBJ_VAL(e->args) : NONE_VAL;
    if (IS_NONE(code)) return 0;
    if (IS_INTLIKE(code)) return (int)(AS_INT(code) & 0xFF);
    ObjString *s = value_to_str(vm, code);
    vm_flush_out(vm);
    if (s) fprintf(stderr, "%s\n", s->chars);
    else vm->exception = EMPTY_VAL;
    return 1;
}
