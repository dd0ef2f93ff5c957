// tests/fuzz/fuzz_compile.c - libFuzzer harness: compile_source with a fresh
// VM (file mode, or interactive mode when the first byte is odd), the
// disassembler over the result, then vm_free: nothing may leak.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "parser/compile.h"
#include "runtime/code.h"
#include "runtime/vm.h"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    devnull = fopen("/dev/null", "w");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    VM *vm = vm_new();
    if (!vm) abort();
    CompileMode mode = size > 0 && (data[0] & 1) && data[0] != '\n' ? COMPILE_INTERACTIVE
                                                                    : COMPILE_FILE;
    CompileError err;
    ObjCode *code = compile_source(vm, (const char *)data, size, "<fuzz>", mode, &err);
    if (code) {
        code_disassemble(vm, code, devnull);
    } else {
        if (!err.type[0] || !err.message[0] || err.line < 0) abort();
    }
    vm_free(vm);
    return 0;
}
