// runtime/opcodes.h - every bytecode instruction, listed once (X-macro).
// Instructions are 32-bit words: opcode in the low 8 bits, argument in the
// high 24. The enum, the jump table and the disassembler derive from here.
#ifndef ASYNCRUN_OPCODES_H
#define ASYNCRUN_OPCODES_H

#define OPCODES(X)                                                             \
    X(NOP) X(POP_TOP) X(COPY) X(SWAP)                                          \
    X(LOAD_CONST) X(LOAD_NONE) X(LOAD_TRUE) X(LOAD_FALSE) X(LOAD_SMALL_INT)    \
    X(LOAD_FAST) X(LOAD_FAST2) X(STORE_FAST) X(DELETE_FAST)                                  \
    X(LOAD_CELL) X(STORE_CELL) X(DELETE_CELL) X(LOAD_FREE) X(STORE_FREE)       \
    X(LOAD_CELL_REF) X(LOAD_FREE_REF) X(MAKE_CELL)                             \
    X(LOAD_GLOBAL) X(STORE_GLOBAL) X(DELETE_GLOBAL)                            \
    X(LOAD_ATTR) X(STORE_ATTR) X(DELETE_ATTR) X(LOAD_METHOD)                                  \
    X(BINARY_SUBSCR) X(STORE_SUBSCR) X(DELETE_SUBSCR) X(BUILD_SLICE)           \
    X(ADD_SMALL_INT) X(SUB_SMALL_INT) X(MUL_SMALL_INT) X(MOD_SMALL_INT)        \
    X(IADD_SMALL_INT) X(ISUB_SMALL_INT)                                        \
    X(BINARY_ADD) X(BINARY_SUB) X(BINARY_MUL) X(BINARY_MATMUL) X(BINARY_DIV)   \
    X(BINARY_FLOORDIV) X(BINARY_MOD) X(BINARY_POW) X(BINARY_LSHIFT)            \
    X(BINARY_RSHIFT) X(BINARY_AND) X(BINARY_OR) X(BINARY_XOR) X(INPLACE_OP)    \
    X(UNARY_NEG) X(UNARY_POS) X(UNARY_NOT) X(UNARY_INVERT)                     \
    X(COMPARE_LT) X(COMPARE_LE) X(COMPARE_GT) X(COMPARE_GE) X(COMPARE_EQ)      \
    X(COMPARE_NE) X(IS_OP) X(CONTAINS_OP)                                      \
    X(JUMP) X(JUMP_BACK) X(POP_JUMP_IF_FALSE) X(POP_JUMP_IF_TRUE)              \
    X(JUMP_IF_FALSE_OR_POP) X(JUMP_IF_TRUE_OR_POP)                             \
    X(GET_ITER) X(FOR_ITER)                                                    \
    X(BUILD_TUPLE) X(BUILD_LIST) X(BUILD_SET) X(BUILD_MAP) X(BUILD_STRING)     \
    X(LIST_APPEND) X(SET_ADD) X(MAP_ADD) X(LIST_EXTEND) X(SET_UPDATE)          \
    X(DICT_UPDATE) X(DICT_MERGE) X(LIST_TO_TUPLE)                              \
    X(UNPACK_SEQUENCE) X(UNPACK_EX) X(FORMAT_VALUE)                            \
    X(CALL) X(CALL_KW) X(CALL_EX) X(CALL_METHOD) X(CALL_METHOD_KW)             \
    X(MAKE_FUNCTION) X(RETURN_VALUE) X(AWAIT)                                  \
    X(IMPORT_NAME) X(IMPORT_FROM)                                              \
    X(RAISE_VARARGS) X(RERAISE) X(PUSH_EXC_INFO) X(POP_EXCEPT)                 \
    X(CHECK_EXC_MATCH) X(LOAD_ASSERTION_ERROR) X(PRINT_EXPR)                   \
    X(BEFORE_WITH) X(WITH_EXCEPT_START)                                        \
    X(JUMP_IF_NOT_LT) X(JUMP_IF_NOT_LE) X(JUMP_IF_NOT_GT) X(JUMP_IF_NOT_GE)    \
    X(JUMP_IF_NOT_EQ) X(JUMP_IF_NOT_NE)                                        \
    X(LOAD_NAME) X(STORE_NAME) X(DELETE_NAME) X(BUILD_CLASS)

typedef enum {
#define X(name) OP_##name,
    OPCODES(X)
#undef X
    OP__COUNT
} Opcode;

#define INSTR(op, arg) ((uint32_t)(op) | ((uint32_t)(arg) << 8))
#define INSTR_OP(ins) ((ins) & 0xFF)
#define INSTR_ARG(ins) ((ins) >> 8)
#define ARG_MAX 0xFFFFFF

// FORMAT_VALUE argument bits
enum { FMT_CONV_MASK = 3, FMT_STR = 1, FMT_REPR = 2, FMT_ASCII = 3, FMT_HAS_SPEC = 4 };
// LIST_EXTEND argument bit: *args of a call (the callable is below the list)
enum { LIST_EXTEND_CALL = 0x100 };
// MAKE_FUNCTION argument bits
enum { MF_DEFAULTS = 1, MF_KWDEFAULTS = 2, MF_CLOSURE = 4 };

extern const char *const opcode_names[OP__COUNT];

#endif
