// runtime/tuple.c - tuple objects: indexing and slicing, +, * and the methods index and count.
// Immutable once built; the items live inline after the header.
#include <string.h>

#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/ops.h"

ObjTuple *tuple_new(VM *vm, uint32_t length) {
    ObjTuple *t = (ObjTuple *)gc_alloc_object(vm, sizeof(ObjTuple) + sizeof(Value) * length,
                                              OBJ_TUPLE);
    t->length = length;
    for (uint32_t i = 0; i < length; i++) t->items[i] = NONE_VAL;
    return t;
}

ObjTuple *tuple_from(VM *vm, const Value *items, uint32_t length) {
    ObjTuple *t = tuple_new(vm, length);
    if (length) memcpy(t->items, items, sizeof(Value) * length);
    return t;
}

bool tuple_getitem(VM *vm, ObjTuple *t, Value key, Value *out) {
    if (IS_INTLIKE(key)) {
        int64_t i = AS_INTLIKE(key);
        if (i < 0) i += t->length;
        if (i < 0 || i >= (int64_t)t->length)
            return vm_raise(vm, CLS_INDEX_ERROR, "tuple index out of range");
        *out = t->items[i];
        return true;
    }
    if (IS_OBJ_TYPE(key, OBJ_SLICE)) {
        int64_t start, stop, step;
        int64_t n = range_slice_indices(vm, key, t->length, &start, &stop, &step);
        if (n < 0) return false;
        if (step == 1 && n == (int64_t)t->length) {
            *out = OBJ_VAL(t);
            return true;
        }
        ObjTuple *r = tuple_new(vm, (uint32_t)n);
        for (int64_t k = 0, i = start; k < n; k++, i += step) r->items[k] = t->items[i];
        *out = OBJ_VAL(r);
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "tuple indices must be integers or slices, not %s",
                    value_type_name(vm, key));
}

ObjTuple *tuple_concat(VM *vm, ObjTuple *a, ObjTuple *b) {
    if (b->length == 0) return a;
    if (a->length == 0) return b;
    ObjTuple *t = tuple_new(vm, a->length + b->length);
    memcpy(t->items, a->items, sizeof(Value) * a->length);
    memcpy(t->items + a->length, b->items, sizeof(Value) * b->length);
    return t;
}

ObjTuple *tuple_repeat(VM *vm, ObjTuple *t, int64_t count) {
    if (count == 1 || (t->length == 0 && count > 0)) return t;
    if (count <= 0 || t->length == 0) return tuple_new(vm, 0);
    if ((uint64_t)count > (UINT32_MAX / 16) / t->length) {
        vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
        return NULL;
    }
    ObjTuple *r = tuple_new(vm, (uint32_t)(t->length * count));
    for (int64_t k = 0; k < count; k++)
        memcpy(r->items + k * t->length, t->items, sizeof(Value) * t->length);
    return r;
}

// Optional start/stop of index(): ints only (None is refused, as CPython).
static bool index_bound(VM *vm, Value v, int64_t length, int64_t *out) {
    if (!IS_INTLIKE(v))
        return vm_raise(vm, CLS_TYPE_ERROR,
                        "slice indices must be integers or have an __index__ method");
    int64_t i = AS_INTLIKE(v);
    if (i < 0) {
        i += length;
        if (i < 0) i = 0;
    }
    *out = i;
    return true;
}

// a == b as the == operator (identity first, as CPython): 1, 0, or -1 with
// the exception raised (RecursionError on deep nesting, a failing __eq__).
static int same_or_equal(VM *vm, Value a, Value b) {
    if (value_same(a, b)) return 1;
    Value r;
    if (!value_compare(vm, CMP_EQ, a, b, &r)) return -1;
    return value_truthy(r);
}

static bool tuple_index(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (argc < 2)
        return vm_raise(vm, CLS_TYPE_ERROR, "index expected at least 1 argument, got %d",
                        argc - 1);
    if (argc > 4)
        return vm_raise(vm, CLS_TYPE_ERROR, "index expected at most 3 arguments, got %d",
                        argc - 1);
    ObjTuple *t = (ObjTuple *)AS_OBJ(args[0]);
    int64_t start = 0, stop = t->length;
    if (argc > 2 && !index_bound(vm, args[2], t->length, &start)) return false;
    if (argc > 3 && !index_bound(vm, args[3], t->length, &stop)) return false;
    if (stop > (int64_t)t->length) stop = t->length;
    for (int64_t i = start; i < stop; i++) {
        int r = same_or_equal(vm, t->items[i], args[1]);
        if (r < 0) return false;
        if (r) {
            *out = INT_VAL(i);
            return true;
        }
    }
    return vm_raise(vm, CLS_VALUE_ERROR, "tuple.index(x): x not in tuple");
}

static bool tuple_count(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (argc != 2)
        return vm_raise(vm, CLS_TYPE_ERROR, "tuple.count() takes exactly one argument (%d given)",
                        argc - 1);
    ObjTuple *t = (ObjTuple *)AS_OBJ(args[0]);
    int64_t n = 0;
    for (uint32_t i = 0; i < t->length; i++) {
        int r = same_or_equal(vm, t->items[i], args[1]);
        if (r < 0) return false;
        n += r;
    }
    *out = INT_VAL(n);
    return true;
}

void tuple_init_class(VM *vm, ObjClass *cls) {
    class_add_method(vm, cls, "index", tuple_index, false);
    class_add_method(vm, cls, "count", tuple_count, false);
}
