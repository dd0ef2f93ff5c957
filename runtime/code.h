// runtime/code.h - code objects: creation by the compiler, line lookup and
// the disassembler (--disasm).
#ifndef ASYNCRUN_CODE_H
#define ASYNCRUN_CODE_H

#include <stdio.h>

#include "runtime/opcodes.h"
#include "runtime/vm.h"

ObjCode *code_new(VM *vm);
// Source line of the instruction at index `at`.
static inline int code_line(const ObjCode *code, uint32_t at) {
    return at < code->count ? (int)code->lines[at] : code->first_line;
}
// Print code and, recursively, every code object among its constants.
void code_disassemble(VM *vm, ObjCode *code, FILE *out);

#endif
