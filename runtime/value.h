// runtime/value.h - the tagged 16-byte value every slot holds.
// Small immutables (None, bools, 64-bit ints, floats) live inside the value;
// everything else is an Obj on the heap. Touch values only through the macros.
#ifndef ASYNCRUN_VALUE_H
#define ASYNCRUN_VALUE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct Obj Obj;

// VAL_EMPTY marks an unbound local and "no value" in internal slots; it
// never reaches Python code. Bit 0x10 marks heap objects.
typedef enum {
    VAL_NONE = 0,
    VAL_BOOL = 1,
    VAL_INT = 2,
    VAL_FLOAT = 3,
    VAL_EMPTY = 4,
    VAL_OBJ = 0x10,
} ValueTag;

typedef struct {
    uint8_t tag;
    union {
        bool b;
        int64_t i;
        double f;
        Obj *o;
    } as;
} Value;

#define IS_NONE(v) ((v).tag == VAL_NONE)
#define IS_BOOL(v) ((v).tag == VAL_BOOL)
#define IS_INT(v) ((v).tag == VAL_INT)
#define IS_FLOAT(v) ((v).tag == VAL_FLOAT)
#define IS_EMPTY(v) ((v).tag == VAL_EMPTY)
#define IS_OBJ(v) (((v).tag & VAL_OBJ) != 0)

#define AS_BOOL(v) ((v).as.i != 0)
#define AS_INT(v) ((v).as.i)
#define AS_FLOAT(v) ((v).as.f)
#define AS_OBJ(v) ((v).as.o)

#define NONE_VAL ((Value){VAL_NONE, {.i = 0}})
#define EMPTY_VAL ((Value){VAL_EMPTY, {.i = 0}})
#define BOOL_VAL(x) ((Value){VAL_BOOL, {.i = (x) ? 1 : 0}})
#define TRUE_VAL BOOL_VAL(1)
#define FALSE_VAL BOOL_VAL(0)
#define INT_VAL(x) ((Value){VAL_INT, {.i = (int64_t)(x)}})
#define FLOAT_VAL(x) ((Value){VAL_FLOAT, {.f = (double)(x)}})
#define OBJ_VAL(x) ((Value){VAL_OBJ, {.o = (Obj *)(x)}})

// int or bool (bool is a subclass of int in Python)
#define IS_INTLIKE(v) ((v).tag == VAL_INT || (v).tag == VAL_BOOL)
#define AS_INTLIKE(v) ((v).as.i)

// Identity as Python's `is`: same tag and same bits.
static inline bool value_same(Value a, Value b) {
    if (a.tag != b.tag) return false;
    switch (a.tag) {
    case VAL_NONE:
    case VAL_EMPTY:
        return true;
    case VAL_FLOAT:
        return a.as.i == b.as.i;
    default:
        return a.as.i == b.as.i;
    }
}

#endif
