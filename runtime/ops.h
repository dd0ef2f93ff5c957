// runtime/ops.h - Python's operations on any value: truth, equality, hashing,
// ordering, arithmetic, str/repr, attributes, items, iteration, len.
// The dispatch loop inlines int/float fast paths and calls these otherwise.
#ifndef ASYNCRUN_OPS_H
#define ASYNCRUN_OPS_H

#include "runtime/vm.h"

// Binary operators (same order as AstOp's binary ones).
typedef enum {
    BIN_ADD, BIN_SUB, BIN_MUL, BIN_MATMUL, BIN_DIV, BIN_FLOORDIV, BIN_MOD,
    BIN_POW, BIN_LSHIFT, BIN_RSHIFT, BIN_AND, BIN_OR, BIN_XOR,
} BinaryOp;

// Rich comparisons (same order as AstOp's AST_LT..AST_NE).
typedef enum { CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_EQ, CMP_NE } CompareOp;

bool value_truthy(Value v);
// == for every builtin type (1 == 1.0 == True, containers deeply).
bool value_equal(Value a, Value b);
// Python's hash; false + TypeError "unhashable type: 'list'".
bool value_hash(VM *vm, Value v, uint64_t *out);
// a OP b for the ordering operators and ==/!=; TypeError
// "'<' not supported between instances of 'int' and 'str'".
bool value_compare(VM *vm, CompareOp op, Value a, Value b, Value *out);
// a OP b; inplace for augmented assignment (list += extends in place).
// Errors as CPython: "unsupported operand type(s) for +: 'int' and 'str'",
// "division by zero", "integer division or modulo by zero", OverflowError
// on 64-bit overflow ("integer overflow: result does not fit in 64 bits").
bool value_binary(VM *vm, BinaryOp op, Value a, Value b, bool inplace,
                  Value *out);
bool value_negate(VM *vm, Value v, Value *out);
bool value_positive(VM *vm, Value v, Value *out);
bool value_invert(VM *vm, Value v, Value *out);

// str(v) and repr(v) appended to buf; false on error (e.g. recursion).
bool value_str(VM *vm, Value v, StrBuf *buf);
bool value_repr(VM *vm, Value v, StrBuf *buf);
ObjString *value_to_str(VM *vm, Value v);   // NULL on error
ObjString *int_to_str(VM *vm, int64_t value); // str(value)
// bool(v), calling a user class's __bool__ or __len__: 1, 0, or -1 (error)
int value_truth(VM *vm, Value v);
ObjString *value_to_repr(VM *vm, Value v);  // NULL on error
ObjString *value_to_ascii(VM *vm, Value v); // ascii(v); NULL on error
// format(v, spec) as f-strings and str.format use it.
bool value_format(VM *vm, Value v, ObjString *spec, StrBuf *buf);

// Attributes: methods come from the class dict (bound on access);
// modules, functions, exceptions, futures have their own. AttributeError as
// CPython: "'int' object has no attribute 'foo'",
// "module 'asyncio' has no attribute 'foo'".
bool value_getattr(VM *vm, Value obj, ObjString *name, Value *out);
// dir(obj): the sorted attribute names (own, then along the class chain).
ObjList *value_dir(VM *vm, Value obj);
bool value_setattr(VM *vm, Value obj, ObjString *name, Value value);
bool value_delattr(VM *vm, Value obj, ObjString *name); // del obj.name
// For LOAD_METHOD: when obj's class dict holds a callable `name`, set
// *method to it and return 1 (call with obj as args[0]); else look up the
// attribute as value_getattr (return 0, *method = the value) or fail (-1).
int value_get_method(VM *vm, Value obj, ObjString *name, Value *method);

bool value_getitem(VM *vm, Value obj, Value key, Value *out);
bool value_setitem(VM *vm, Value obj, Value key, Value value);
bool value_delitem(VM *vm, Value obj, Value key);
bool value_contains(VM *vm, Value container, Value item, bool *out);
bool value_len(VM *vm, Value v, int64_t *out);

// Iteration: value_iter makes an iterator; iter_next returns 1 with an item,
// 0 when exhausted, -1 on error.
bool value_iter(VM *vm, Value v, Value *out);
int iter_next(VM *vm, Value iter, Value *out);

// The items of any iterable as a fresh list (for unpacking, *args, list()).
ObjList *value_to_list(VM *vm, Value iterable);

// Slices: normalise (start, stop, step) for a sequence of length n as
// CPython's PySlice_AdjustIndices; returns the slice length.
int64_t slice_adjust(int64_t length, int64_t *start, int64_t *stop,
                     int64_t step);
ObjSlice *slice_new(VM *vm, Value start, Value stop, Value step);
// A slice's bounds as CPython's PySlice_Unpack: None -> the defaults for the
// step's direction; false + TypeError for non-int bounds, ValueError
// "slice step cannot be zero". Follow with slice_adjust.
bool slice_unpack(VM *vm, const ObjSlice *slice, int64_t *start,
                  int64_t *stop, int64_t *step);

// Calling a functools.partial (mod_functools.c): the stored positional
// arguments, then args; stored keywords overridden by the call's.
bool partial_call(VM *vm, ObjPartial *partial, Value *args, int argc,
                  ObjTuple *kwnames, Value *out);

// repr() of futures, tasks, handles, loops and sleeps (written by the
// asyncio files); value_repr calls it for OBJ_FUTURE/TASK/HANDLE/LOOP/SLEEP.
bool async_repr(VM *vm, Value v, StrBuf *buf);

#endif
