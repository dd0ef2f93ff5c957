// runtime/code.c - code objects and the disassembler behind --disasm.
// The listing shape follows `python -m dis`: line, offset, name, argument
// and a readable note (constant, name, jump target).
#include "runtime/code.h"

#include "runtime/gc.h"
#include "runtime/ops.h"

const char *const opcode_names[OP__COUNT] = {
#define X(name) #name,
    OPCODES(X)
#undef X
};

ObjCode *code_new(VM *vm) {
    ObjCode *code = ALLOC_OBJ(vm, ObjCode, OBJ_CODE);
    code->plain_argc = -1;
    return code;
}

static void print_value(VM *vm, Value v, FILE *out) {
    StrBuf buf;
    strbuf_init(&buf);
    if (IS_OBJ_TYPE(v, OBJ_CODE)) {
        strbuf_printf(&buf, "<code object %s>", ((ObjCode *)AS_OBJ(v))->name->chars);
    } else if (!value_repr(vm, v, &buf)) {
        vm->exception = EMPTY_VAL;
        strbuf_append_cstr(&buf, "?");
    }
    fwrite(buf.chars, 1, buf.length, out);
    strbuf_free(&buf);
}

static void note(VM *vm, const ObjCode *code, uint32_t ins, FILE *out) {
    uint32_t arg = INSTR_ARG(ins);
    switch (INSTR_OP(ins)) {
    case OP_LOAD_CONST:
        fputs(" (", out);
        print_value(vm, code->consts[arg], out);
        fputc(')', out);
        break;
    case OP_LOAD_GLOBAL: case OP_STORE_GLOBAL: case OP_DELETE_GLOBAL:
    case OP_LOAD_ATTR: case OP_STORE_ATTR: case OP_DELETE_ATTR: case OP_LOAD_METHOD:
    case OP_IMPORT_NAME: case OP_IMPORT_FROM: case OP_LOAD_NAME: case OP_STORE_NAME: case OP_DELETE_NAME:
        fprintf(out, " (%s)", code->names[arg]->chars);
        break;
    case OP_LOAD_FAST2:
        if ((arg & 0xFFF) < code->local_count && (arg >> 12) < code->local_count)
            fprintf(out, " (%s, %s)", code->local_names[arg & 0xFFF]->chars, code->local_names[arg >> 12]->chars);
        break;
    case OP_LOAD_FAST: case OP_STORE_FAST: case OP_DELETE_FAST:
    case OP_LOAD_CELL: case OP_STORE_CELL: case OP_DELETE_CELL:
    case OP_LOAD_CELL_REF: case OP_MAKE_CELL:
        if (arg < code->local_count) fprintf(out, " (%s)", code->local_names[arg]->chars);
        break;
    case OP_LOAD_FREE: case OP_STORE_FREE: case OP_LOAD_FREE_REF:
        if (arg < code->free_count) fprintf(out, " (%s)", code->free_names[arg]->chars);
        break;
    case OP_JUMP: case OP_JUMP_BACK: case OP_POP_JUMP_IF_FALSE:
    case OP_POP_JUMP_IF_TRUE: case OP_JUMP_IF_FALSE_OR_POP:
    case OP_JUMP_IF_TRUE_OR_POP: case OP_FOR_ITER: case OP_JUMP_IF_NOT_LT: case OP_JUMP_IF_NOT_LE:
    case OP_JUMP_IF_NOT_GT: case OP_JUMP_IF_NOT_GE: case OP_JUMP_IF_NOT_EQ: case OP_JUMP_IF_NOT_NE:
        fprintf(out, " (to %u)", arg);
        break;
    case OP_LOAD_SMALL_INT: case OP_ADD_SMALL_INT: case OP_SUB_SMALL_INT: case OP_MUL_SMALL_INT:
    case OP_MOD_SMALL_INT: case OP_IADD_SMALL_INT: case OP_ISUB_SMALL_INT:
        fprintf(out, " (%d)", (int)((int32_t)(arg << 8) >> 8));
        break;
    default:
        break;
    }
}

void code_disassemble(VM *vm, ObjCode *code, FILE *out) {
    fprintf(out, "Disassembly of %s (%s, line %d):\n", code->name->chars,
            code->filename->chars, code->first_line);
    int last_line = -1;
    for (uint32_t i = 0; i < code->count; i++) {
        uint32_t ins = code->code[i];
        int line = (int)code->lines[i];
        if (line != last_line) {
            if (i > 0) fputc('\n', out);
            fprintf(out, "%4d ", line);
            last_line = line;
        } else {
            fputs("     ", out);
        }
        fprintf(out, "%6u %-22s %u", i, opcode_names[INSTR_OP(ins)], INSTR_ARG(ins));
        note(vm, code, ins, out);
        fputc('\n', out);
    }
    if (code->exc_count) {
        fputs("ExceptionTable:\n", out);
        for (uint32_t i = 0; i < code->exc_count; i++) {
            const ExcEntry *e = &code->exc_table[i];
            fprintf(out, "  %u to %u -> %u [%u]\n", e->start, e->end, e->handler, e->depth);
        }
    }
    fputc('\n', out);
    for (uint32_t i = 0; i < code->const_count; i++)
        if (IS_OBJ_TYPE(code->consts[i], OBJ_CODE))
            code_disassemble(vm, (ObjCode *)AS_OBJ(code->consts[i]), out);
}
