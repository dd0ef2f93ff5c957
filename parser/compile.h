// parser/compile.h - AST to code objects: scope analysis (local, global,
// nonlocal, cell, free) and bytecode emission with a line table and an
// exception table.
#ifndef ASYNCRUN_COMPILE_H
#define ASYNCRUN_COMPILE_H

#include "parser/ast.h"
#include "runtime/vm.h"

typedef struct {
    char type[32];      // "SyntaxError", "IndentationError", ...
    char message[256];
    int line;           // 1-based
    int col;            // 0-based byte column
} CompileError;

typedef enum {
    COMPILE_FILE,       // a module
    COMPILE_INTERACTIVE // REPL input: expression statements print, top-level await
} CompileMode;

// Let the runtime compile library code (vm->compile).
void compile_install(VM *vm);

// Parse and compile source text. NULL with *err filled on a syntax error.
ObjCode *compile_source(VM *vm, const char *src, size_t len, const char *filename,
                        CompileMode mode, CompileError *err);

#endif
