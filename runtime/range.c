// runtime/range.c - range objects (length, indexing, slicing, membership) and slice arithmetic.
// A range never materialises its items; lengths use unsigned arithmetic (no overflow).
#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/ops.h"

ObjRange *range_new(VM *vm, int64_t start, int64_t stop, int64_t step) {
    ObjRange *r = ALLOC_OBJ(vm, ObjRange, OBJ_RANGE);
    r->start = start;
    r->stop = stop;
    r->step = step;
    return r;
}

int64_t range_length(const ObjRange *r) {
    uint64_t n;
    if (r->step > 0) {
        if (r->start >= r->stop) return 0;
        n = ((uint64_t)r->stop - (uint64_t)r->start - 1) / (uint64_t)r->step + 1;
    } else {
        if (r->start <= r->stop) return 0;
        uint64_t step = (uint64_t)0 - (uint64_t)r->step;
        n = ((uint64_t)r->start - (uint64_t)r->stop - 1) / step + 1;
    }
    return n > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)n;
}

// Item i (0 <= i < length) without overflow.
static int64_t item_at(const ObjRange *r, int64_t i) {
    return (int64_t)((uint64_t)r->start + (uint64_t)i * (uint64_t)r->step);
}

static bool slice_part(VM *vm, Value v, int64_t *out) {
    if (IS_INTLIKE(v)) {
        *out = AS_INTLIKE(v);
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR,
                    "slice indices must be integers or None or have an __index__ method");
}

int64_t range_slice_indices(VM *vm, Value slice, int64_t length, int64_t *start,
                            int64_t *stop, int64_t *step) {
    const ObjSlice *s = (const ObjSlice *)AS_OBJ(slice);
    // PySlice_Unpack
    if (IS_NONE(s->step)) {
        *step = 1;
    } else {
        if (!slice_part(vm, s->step, step)) return -1;
        if (*step == 0) {
            vm_raise(vm, CLS_VALUE_ERROR, "slice step cannot be zero");
            return -1;
        }
        if (*step < -INT64_MAX) *step = -INT64_MAX;
    }
    if (IS_NONE(s->start)) *start = *step < 0 ? INT64_MAX : 0;
    else if (!slice_part(vm, s->start, start)) return -1;
    if (IS_NONE(s->stop)) *stop = *step < 0 ? INT64_MIN : INT64_MAX;
    else if (!slice_part(vm, s->stop, stop)) return -1;
    // PySlice_AdjustIndices
    if (*start < 0) {
        *start += length;
        if (*start < 0) *start = *step < 0 ? -1 : 0;
    } else if (*start >= length) {
        *start = *step < 0 ? length - 1 : length;
    }
    if (*stop < 0) {
        *stop += length;
        if (*stop < 0) *stop = *step < 0 ? -1 : 0;
    } else if (*stop >= length) {
        *stop = *step < 0 ? length - 1 : length;
    }
    if (*step < 0) {
        if (*stop < *start) return (*start - *stop - 1) / (-*step) + 1;
    } else if (*start < *stop) {
        return (*stop - *start - 1) / *step + 1;
    }
    return 0;
}

bool range_getitem(VM *vm, ObjRange *r, Value key, Value *out) {
    int64_t len = range_length(r);
    if (IS_INTLIKE(key)) {
        int64_t i = AS_INTLIKE(key);
        if (i < 0) i += len;
        if (i < 0 || i >= len)
            return vm_raise(vm, CLS_INDEX_ERROR, "range object index out of range");
        *out = INT_VAL(item_at(r, i));
        return true;
    }
    if (IS_OBJ_TYPE(key, OBJ_SLICE)) {
        int64_t start, stop, step;
        if (range_slice_indices(vm, key, len, &start, &stop, &step) < 0) return false;
        int64_t new_step;
        if (__builtin_mul_overflow(r->step, step, &new_step))
            return vm_raise(vm, CLS_OVERFLOW_ERROR,
                            "integer overflow: result does not fit in 64 bits");
        *out = OBJ_VAL(range_new(vm, item_at(r, start), item_at(r, stop), new_step));
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "range indices must be integers or slices, not %s",
                    value_type_name(vm, key));
}

// Position of integer v in r, or -1.
static int64_t position(const ObjRange *r, int64_t v) {
    if (r->step > 0) {
        if (v < r->start || v >= r->stop) return -1;
        uint64_t off = (uint64_t)v - (uint64_t)r->start;
        if (off % (uint64_t)r->step) return -1;
        return (int64_t)(off / (uint64_t)r->step);
    }
    if (v > r->start || v <= r->stop) return -1;
    uint64_t off = (uint64_t)r->start - (uint64_t)v;
    uint64_t step = (uint64_t)0 - (uint64_t)r->step;
    if (off % step) return -1;
    return (int64_t)(off / step);
}

// An int equal to v (ints, bools, integral floats), for membership tests.
static bool integral(Value v, int64_t *out) {
    if (IS_INTLIKE(v)) {
        *out = AS_INTLIKE(v);
        return true;
    }
    if (IS_FLOAT(v)) {
        double d = AS_FLOAT(v);
        if (d >= -9.2233720368547758e18 && d < 9.2233720368547758e18 && d == (double)(int64_t)d) {
            *out = (int64_t)d;
            return true;
        }
    }
    return false;
}

bool range_contains(const ObjRange *r, Value item) {
    int64_t v;
    return integral(item, &v) && position(r, v) >= 0;
}

bool range_equal(const ObjRange *a, const ObjRange *b) {
    if (a == b) return true;
    int64_t n = range_length(a);
    if (n != range_length(b)) return false;
    if (n == 0) return true;
    if (a->start != b->start) return false;
    return n == 1 || a->step == b->step;
}

static bool range_index(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (argc != 2)
        return vm_raise(vm, CLS_TYPE_ERROR, "range.index() takes exactly one argument (%d given)",
                        argc - 1);
    ObjRange *r = (ObjRange *)AS_OBJ(args[0]);
    int64_t v, pos = -1;
    if (integral(args[1], &v)) pos = position(r, v);
    if (pos < 0) {
        ObjString *s = value_to_repr(vm, args[1]);
        if (!s) return false;
        return vm_raise(vm, CLS_VALUE_ERROR, "%s is not in range", s->chars);
    }
    *out = INT_VAL(pos);
    return true;
}

static bool range_count(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (argc != 2)
        return vm_raise(vm, CLS_TYPE_ERROR, "range.count() takes exactly one argument (%d given)",
                        argc - 1);
    *out = INT_VAL(range_contains((ObjRange *)AS_OBJ(args[0]), args[1]) ? 1 : 0);
    return true;
}

void range_init_class(VM *vm, ObjClass *cls) {
    class_add_method(vm, cls, "index", range_index, false);
    class_add_method(vm, cls, "count", range_count, false);
}
