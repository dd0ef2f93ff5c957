// runtime/list.c - list objects: indexing, slice assignment, +, *, sorting and the list methods.
// items[0, length) are live; capacity grows geometrically (x1.5 + 8).
#include <stdlib.h>
#include <string.h>

#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/ops.h"

static bool reserve(VM *vm, ObjList *l, uint64_t need) {
    if (need <= l->capacity) return true;
    if (need > UINT32_MAX / 2) return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
    uint64_t cap = (uint64_t)l->capacity + (l->capacity >> 1) + 8;
    if (cap < need) cap = need;
    if (cap > UINT32_MAX / 2) cap = need;
    Value *items = gc_realloc(vm, l->items, sizeof(Value) * l->capacity, sizeof(Value) * cap);
    if (!items) return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
    l->items = items;
    l->capacity = (uint32_t)cap;
    return true;
}

ObjList *list_new(VM *vm, uint32_t capacity) {
    ObjList *l = ALLOC_OBJ(vm, ObjList, OBJ_LIST);
    if (capacity) {
        l->items = gc_realloc(vm, NULL, 0, sizeof(Value) * capacity);
        if (l->items) l->capacity = capacity;
    }
    return l;
}

bool list_append(VM *vm, ObjList *list, Value value) {
    if (list->length == list->capacity && !reserve(vm, list, (uint64_t)list->length + 1))
        return false;
    list->items[list->length++] = value;
    return true;
}

ObjList *list_from(VM *vm, const Value *items, uint32_t length) {
    ObjList *l = list_new(vm, length);
    if (length) {
        if (!l->items) {
            vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
            return NULL;
        }
        memcpy(l->items, items, sizeof(Value) * length);
    }
    l->length = length;
    return l;
}

static bool bad_index(VM *vm, Value key) {
    return vm_raise(vm, CLS_TYPE_ERROR, "list indices must be integers or slices, not %s",
                    value_type_name(vm, key));
}

bool list_getitem(VM *vm, ObjList *l, Value key, Value *out) {
    if (IS_INTLIKE(key)) {
        int64_t i = AS_INTLIKE(key);
        if (i < 0) i += l->length;
        if (i < 0 || i >= (int64_t)l->length)
            return vm_raise(vm, CLS_INDEX_ERROR, "list index out of range");
        *out = l->items[i];
        return true;
    }
    if (IS_OBJ_TYPE(key, OBJ_SLICE)) {
        int64_t start, stop, step;
        int64_t n = range_slice_indices(vm, key, l->length, &start, &stop, &step);
        if (n < 0) return false;
        ObjList *r = list_new(vm, (uint32_t)n);
        if (n && !r->items) return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
        for (int64_t k = 0, i = start; k < n; k++, i += step) r->items[k] = l->items[i];
        r->length = (uint32_t)n;
        *out = OBJ_VAL(r);
        return true;
    }
    return bad_index(vm, key);
}

// Replace items [lo, lo + n) by `count` values.
static bool replace_range(VM *vm, ObjList *l, uint32_t lo, uint32_t n, const Value *vals,
                          uint32_t count) {
    if (count > n && !reserve(vm, l, (uint64_t)l->length + (count - n))) return false;
    uint32_t tail = l->length - lo - n;
    memmove(l->items + lo + count, l->items + lo + n, sizeof(Value) * tail);
    if (count) memcpy(l->items + lo, vals, sizeof(Value) * count);
    l->length = l->length - n + count;
    return true;
}

bool list_setitem(VM *vm, ObjList *l, Value key, Value value) {
    if (IS_INTLIKE(key)) {
        int64_t i = AS_INTLIKE(key);
        if (i < 0) i += l->length;
        if (i < 0 || i >= (int64_t)l->length)
            return vm_raise(vm, CLS_INDEX_ERROR, "list assignment index out of range");
        l->items[i] = value;
        return true;
    }
    if (!IS_OBJ_TYPE(key, OBJ_SLICE)) return bad_index(vm, key);
    int64_t start, stop, step;
    int64_t n = range_slice_indices(vm, key, l->length, &start, &stop, &step);
    if (n < 0) return false;
    // The new items, copied first (the value may be the list itself).
    ObjList *src;
    if (IS_OBJ_TYPE(value, OBJ_LIST) || IS_OBJ_TYPE(value, OBJ_TUPLE)) {
        src = IS_OBJ_TYPE(value, OBJ_LIST)
                  ? list_from(vm, ((ObjList *)AS_OBJ(value))->items,
                              ((ObjList *)AS_OBJ(value))->length)
                  : list_from(vm, ((ObjTuple *)AS_OBJ(value))->items,
                              ((ObjTuple *)AS_OBJ(value))->length);
        if (!src) return false;
    } else {
        Value it;
        if (!value_iter(vm, value, &it)) {
            if (exception_matches(vm, vm->exception, CLS_TYPE_ERROR)) {
                vm->exception = EMPTY_VAL;
                return vm_raise(vm, CLS_TYPE_ERROR,
                                step == 1 ? "can only assign an iterable"
                                          : "must assign iterable to extended slice");
            }
            return false;
        }
        src = value_to_list(vm, it);
        if (!src) return false;
    }
    if (step == 1) {
        // CPython's list_ass_slice: stop before start inserts at start.
        return replace_range(vm, l, (uint32_t)start, (uint32_t)n, src->items, src->length);
    }
    if (src->length != n)
        return vm_raise(vm, CLS_VALUE_ERROR,
                        "attempt to assign sequence of size %u to extended slice of size %lld",
                        src->length, (long long)n);
    for (int64_t k = 0, i = start; k < n; k++, i += step) l->items[i] = src->items[k];
    return true;
}

bool list_delitem(VM *vm, ObjList *l, Value key) {
    if (IS_INTLIKE(key)) {
        int64_t i = AS_INTLIKE(key);
        if (i < 0) i += l->length;
        if (i < 0 || i >= (int64_t)l->length)
            return vm_raise(vm, CLS_INDEX_ERROR, "list assignment index out of range");
        return replace_range(vm, l, (uint32_t)i, 1, NULL, 0);
    }
    if (!IS_OBJ_TYPE(key, OBJ_SLICE)) return bad_index(vm, key);
    int64_t start, stop, step;
    int64_t n = range_slice_indices(vm, key, l->length, &start, &stop, &step);
    if (n < 0) return false;
    if (n == 0) return true;
    if (step == 1) return replace_range(vm, l, (uint32_t)start, (uint32_t)n, NULL, 0);
    if (step < 0) {
        // Same set of positions walked upwards.
        start = start + (n - 1) * step;
        step = -step;
    }
    uint32_t w = (uint32_t)start;
    int64_t next_del = start, deleted = 0;
    for (uint32_t r = (uint32_t)start; r < l->length; r++) {
        if (deleted < n && r == next_del) {
            deleted++;
            next_del += step;
            continue;
        }
        l->items[w++] = l->items[r];
    }
    l->length = w;
    return true;
}

ObjList *list_concat(VM *vm, ObjList *a, ObjList *b) {
    ObjList *l = list_new(vm, a->length + b->length);
    if (a->length + b->length && !l->items) {
        vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
        return NULL;
    }
    if (a->length) memcpy(l->items, a->items, sizeof(Value) * a->length);
    if (b->length) memcpy(l->items + a->length, b->items, sizeof(Value) * b->length);
    l->length = a->length + b->length;
    return l;
}

ObjList *list_repeat(VM *vm, ObjList *l, int64_t count) {
    if (count <= 0 || l->length == 0) return list_new(vm, 0);
    if ((uint64_t)count > (UINT32_MAX / 16) / l->length) {
        vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
        return NULL;
    }
    uint32_t n = (uint32_t)(l->length * count);
    ObjList *r = list_new(vm, n);
    if (!r->items) {
        vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
        return NULL;
    }
    uint32_t len = l->length;
    for (int64_t k = 0; k < count; k++) memcpy(r->items + k * len, l->items, sizeof(Value) * len);
    r->length = n;
    return r;
}

bool list_extend(VM *vm, ObjList *l, Value iterable) {
    if (IS_OBJ_TYPE(iterable, OBJ_LIST) || IS_OBJ_TYPE(iterable, OBJ_TUPLE)) {
        bool is_list = IS_OBJ_TYPE(iterable, OBJ_LIST);
        uint32_t n = is_list ? ((ObjList *)AS_OBJ(iterable))->length
                             : ((ObjTuple *)AS_OBJ(iterable))->length;
        if (!reserve(vm, l, (uint64_t)l->length + n)) return false;
        // Read the source after reserving: it may be l itself.
        const Value *src = is_list ? ((ObjList *)AS_OBJ(iterable))->items
                                   : ((ObjTuple *)AS_OBJ(iterable))->items;
        if (n) memmove(l->items + l->length, src, sizeof(Value) * n);
        l->length += n;
        return true;
    }
    // A range knows its length: reserve it first, as CPython's length hint,
    // so that list(range(10**12)) is a MemoryError at once, not after
    // billions of appends.
    if (IS_OBJ_TYPE(iterable, OBJ_RANGE) &&
        !reserve(vm, l, (uint64_t)l->length + (uint64_t)range_length((ObjRange *)AS_OBJ(iterable))))
        return false;
    Value it;
    if (!value_iter(vm, iterable, &it)) return false;
    vm_push_root(vm, it);
    Value item;
    int r;
    while ((r = iter_next(vm, it, &item)) > 0) {
        if (!list_append(vm, l, item)) {
            r = -1;
            break;
        }
    }
    vm_pop_roots(vm, 1);
    return r == 0;
}

// ---- sorting --------------------------------------------------------------------
// CPython's timsort compares only with `<`. Short lists follow its exact
// comparison sequence (count_run, then binary insertion), so errors such as
// "'<' not supported between instances of 'str' and 'int'" name the same
// pair; longer ones are sorted by runs of binary insertion merged bottom-up
// (same result: any stable sort gives the same order).

typedef struct {
    VM *vm;
    Value *keys;
    bool failed;
} SortCtx;

// keys[a] < keys[b]; sets ctx->failed on error.
static bool less(SortCtx *ctx, uint32_t a, uint32_t b) {
    if (ctx->failed) return false;
    Value x = ctx->keys[a], y = ctx->keys[b];
    if (IS_INT(x) && IS_INT(y)) return AS_INT(x) < AS_INT(y);
    if (IS_FLOAT(x) && IS_FLOAT(y)) return AS_FLOAT(x) < AS_FLOAT(y);
    if (IS_OBJ_TYPE(x, OBJ_STRING) && IS_OBJ_TYPE(y, OBJ_STRING))
        return str_compare((ObjString *)AS_OBJ(x), (ObjString *)AS_OBJ(y)) < 0;
    Value r;
    if (!value_compare(ctx->vm, CMP_LT, x, y, &r)) {
        ctx->failed = true;
        return false;
    }
    return value_truthy(r);
}

static void reverse_idx(uint32_t *idx, uint32_t n) {
    for (uint32_t a = 0, b = n; a + 1 < b; a++, b--) {
        uint32_t t = idx[a];
        idx[a] = idx[b - 1];
        idx[b - 1] = t;
    }
}

// Binary insertion of idx[start, n) into the sorted prefix idx[0, start).
static void binary_insert(SortCtx *ctx, uint32_t *idx, uint32_t start, uint32_t n) {
    if (start == 0) start = 1;
    for (; start < n && !ctx->failed; start++) {
        uint32_t pivot = idx[start];
        uint32_t l = 0, r = start;
        while (l < r) {
            uint32_t p = l + ((r - l) >> 1);
            if (less(ctx, pivot, idx[p])) r = p;
            else l = p + 1;
        }
        memmove(idx + l + 1, idx + l, sizeof(uint32_t) * (start - l));
        idx[l] = pivot;
    }
}

// count_run + binary insertion over idx[0, n), as CPython for one run.
static void sort_run(SortCtx *ctx, uint32_t *idx, uint32_t n) {
    if (n < 2) return;
    uint32_t run = 2;
    if (less(ctx, idx[1], idx[0])) {
        while (run < n && less(ctx, idx[run], idx[run - 1])) run++;
        reverse_idx(idx, run);
    } else {
        while (run < n && !less(ctx, idx[run], idx[run - 1])) run++;
    }
    binary_insert(ctx, idx, run, n);
}

static void merge(SortCtx *ctx, uint32_t *idx, uint32_t *tmp, uint32_t lo, uint32_t mid,
                  uint32_t hi) {
    uint32_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi) {
        if (less(ctx, idx[j], idx[i])) tmp[k++] = idx[j++];
        else tmp[k++] = idx[i++];
        if (ctx->failed) return;
    }
    while (i < mid) tmp[k++] = idx[i++];
    while (j < hi) tmp[k++] = idx[j++];
    memcpy(idx + lo, tmp + lo, sizeof(uint32_t) * (hi - lo));
}

#define SORT_RUN 32

static bool sort_indices(SortCtx *ctx, uint32_t *idx, uint32_t n) {
    if (n < 64) {
        sort_run(ctx, idx, n);
        return !ctx->failed;
    }
    for (uint32_t lo = 0; lo < n && !ctx->failed; lo += SORT_RUN)
        sort_run(ctx, idx + lo, n - lo < SORT_RUN ? n - lo : SORT_RUN);
    uint32_t *tmp = malloc(sizeof(uint32_t) * n);
    if (!tmp) {
        vm_raise(ctx->vm, CLS_MEMORY_ERROR, "%s", "");
        return false;
    }
    for (uint32_t width = SORT_RUN; width < n && !ctx->failed; width *= 2) {
        for (uint32_t lo = 0; lo + width < n && !ctx->failed; lo += 2 * width) {
            uint32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            merge(ctx, idx, tmp, lo, lo + width, hi);
        }
    }
    free(tmp);
    return !ctx->failed;
}

bool list_sort(VM *vm, ObjList *l, Value key, bool reverse) {
    uint32_t n = l->length;
    if (n < 2 && IS_NONE(key)) return true;
    // Work on a private copy of the items: key functions may run bytecode
    // (and so the collector) or even mutate the list.
    ObjList *vals = list_from(vm, l->items, n);
    if (!vals) return false;
    if (reverse) {
        for (uint32_t a = 0, b = n; a + 1 < b; a++, b--) {
            Value t = vals->items[a];
            vals->items[a] = vals->items[b - 1];
            vals->items[b - 1] = t;
        }
    }
    vm_push_root(vm, OBJ_VAL(vals));
    ObjList *keys = vals;
    if (!IS_NONE(key)) {
        keys = list_new(vm, n);
        vm_push_root(vm, OBJ_VAL(keys));
        for (uint32_t i = 0; i < n; i++) {
            Value arg = vals->items[i], k;
            if (!vm_call(vm, key, &arg, 1, NULL, &k)) {
                vm_pop_roots(vm, 2);
                return false;
            }
            list_append(vm, keys, k);
        }
    }
    uint32_t *idx = malloc(sizeof(uint32_t) * (n ? n : 1));
    if (!idx) {
        vm_pop_roots(vm, keys == vals ? 1 : 2);
        return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
    }
    for (uint32_t i = 0; i < n; i++) idx[i] = i;
    SortCtx ctx = {vm, keys->items, false};
    bool ok = sort_indices(&ctx, idx, n);
    if (ok) {
        if (l->length != n) {
            ok = vm_raise(vm, CLS_VALUE_ERROR, "list modified during sort");
        } else {
            for (uint32_t i = 0; i < n; i++) {
                uint32_t from = reverse ? idx[n - 1 - i] : idx[i];
                l->items[i] = vals->items[from];
            }
        }
    }
    free(idx);
    vm_pop_roots(vm, keys == vals ? 1 : 2);
    return ok;
}

// ---- methods ----------------------------------------------------------------------

#define SELF ((ObjList *)AS_OBJ(args[0]))

static bool no_args(VM *vm, const char *name, int argc) {
    if (argc == 1) return true;
    return vm_raise(vm, CLS_TYPE_ERROR, "list.%s() takes no arguments (%d given)", name,
                    argc - 1);
}

static bool one_arg(VM *vm, const char *name, int argc) {
    if (argc == 2) return true;
    return vm_raise(vm, CLS_TYPE_ERROR, "list.%s() takes exactly one argument (%d given)",
                    name, argc - 1);
}

static bool as_index(VM *vm, Value v, int64_t *out) {
    if (IS_INTLIKE(v)) {
        *out = AS_INTLIKE(v);
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "'%s' object cannot be interpreted as an integer",
                    value_type_name(vm, v));
}

// a == b as the == operator (identity first, as CPython): 1, 0, or -1 with
// the exception raised (RecursionError on deep nesting, a failing __eq__).
static int same_or_equal(VM *vm, Value a, Value b) {
    if (value_same(a, b)) return 1;
    Value r;
    if (!value_compare(vm, CMP_EQ, a, b, &r)) return -1;
    return value_truthy(r);
}

static bool list_append_method(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!one_arg(vm, "append", argc)) return false;
    if (!list_append(vm, SELF, args[1])) return false;
    *out = NONE_VAL;
    return true;
}

static bool list_extend_method(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!one_arg(vm, "extend", argc)) return false;
    if (!list_extend(vm, SELF, args[1])) return false;
    *out = NONE_VAL;
    return true;
}

static bool list_insert(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (argc != 3)
        return vm_raise(vm, CLS_TYPE_ERROR, "insert expected 2 arguments, got %d", argc - 1);
    int64_t i = 0;
    if (!as_index(vm, args[1], &i)) return false;
    ObjList *l = SELF;
    if (i < 0) {
        i += l->length;
        if (i < 0) i = 0;
    }
    if (i > (int64_t)l->length) i = l->length;
    Value v = args[2];
    if (!replace_range(vm, l, (uint32_t)i, 0, &v, 1)) return false;
    *out = NONE_VAL;
    return true;
}

static bool list_pop(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (argc > 2)
        return vm_raise(vm, CLS_TYPE_ERROR, "pop expected at most 1 argument, got %d", argc - 1);
    int64_t i = -1;
    if (argc == 2 && !as_index(vm, args[1], &i)) return false;
    ObjList *l = SELF;
    if (l->length == 0) return vm_raise(vm, CLS_INDEX_ERROR, "pop from empty list");
    if (i < 0) i += l->length;
    if (i < 0 || i >= (int64_t)l->length)
        return vm_raise(vm, CLS_INDEX_ERROR, "pop index out of range");
    *out = l->items[i];
    if (i == (int64_t)l->length - 1) l->length--;
    else replace_range(vm, l, (uint32_t)i, 1, NULL, 0);
    return true;
}

static bool list_remove(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!one_arg(vm, "remove", argc)) return false;
    ObjList *l = SELF;
    for (uint32_t i = 0; i < l->length; i++) {
        int r = same_or_equal(vm, l->items[i], args[1]);
        if (r < 0) return false;
        if (r) {
            replace_range(vm, l, i, 1, NULL, 0);
            *out = NONE_VAL;
            return true;
        }
    }
    return vm_raise(vm, CLS_VALUE_ERROR, "list.remove(x): x not in list");
}

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

static bool list_index(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (argc < 2)
        return vm_raise(vm, CLS_TYPE_ERROR, "index expected at least 1 argument, got %d",
                        argc - 1);
    if (argc > 4)
        return vm_raise(vm, CLS_TYPE_ERROR, "index expected at most 3 arguments, got %d",
                        argc - 1);
    ObjList *l = SELF;
    int64_t start = 0, stop = l->length;
    if (argc > 2 && !index_bound(vm, args[2], l->length, &start)) return false;
    if (argc > 3 && !index_bound(vm, args[3], l->length, &stop)) return false;
    for (int64_t i = start; i < stop && i < (int64_t)l->length; i++) {
        int r = same_or_equal(vm, l->items[i], args[1]);
        if (r < 0) return false;
        if (r) {
            *out = INT_VAL(i);
            return true;
        }
    }
    ObjString *r = value_to_repr(vm, args[1]);
    if (!r) return false;
    return vm_raise(vm, CLS_VALUE_ERROR, "%s is not in list", r->chars);
}

static bool list_count(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!one_arg(vm, "count", argc)) return false;
    ObjList *l = SELF;
    int64_t n = 0;
    for (uint32_t i = 0; i < l->length; i++) {
        int r = same_or_equal(vm, l->items[i], args[1]);
        if (r < 0) return false;
        n += r;
    }
    *out = INT_VAL(n);
    return true;
}

static bool list_sort_method(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (argc > 1) return vm_raise(vm, CLS_TYPE_ERROR, "sort() takes no positional arguments");
    Value key = NONE_VAL;
    int64_t reverse = 0;
    if (kwnames) {
        for (uint32_t k = 0; k < kwnames->length; k++) {
            ObjString *name = (ObjString *)AS_OBJ(kwnames->items[k]);
            Value v = args[argc + (int)k];
            if (strcmp(name->chars, "key") == 0) {
                key = v;
            } else if (strcmp(name->chars, "reverse") == 0) {
                if (!as_index(vm, v, &reverse)) return false;
            } else {
                return vm_raise(vm, CLS_TYPE_ERROR,
                                "'%s' is an invalid keyword argument for sort()", name->chars);
            }
        }
    }
    if (!list_sort(vm, SELF, key, reverse != 0)) return false;
    *out = NONE_VAL;
    return true;
}

static bool list_reverse(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "reverse", argc)) return false;
    ObjList *l = SELF;
    for (uint32_t a = 0, b = l->length; a + 1 < b; a++, b--) {
        Value t = l->items[a];
        l->items[a] = l->items[b - 1];
        l->items[b - 1] = t;
    }
    *out = NONE_VAL;
    return true;
}

static bool list_copy(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "copy", argc)) return false;
    ObjList *r = list_from(vm, SELF->items, SELF->length);
    if (!r) return false;
    *out = OBJ_VAL(r);
    return true;
}

static bool list_clear(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "clear", argc)) return false;
    ObjList *l = SELF;
    gc_realloc(vm, l->items, sizeof(Value) * l->capacity, 0);
    l->items = NULL;
    l->length = l->capacity = 0;
    *out = NONE_VAL;
    return true;
}

void list_init_class(VM *vm, ObjClass *cls) {
    class_add_method(vm, cls, "append", list_append_method, false);
    class_add_method(vm, cls, "extend", list_extend_method, false);
    class_add_method(vm, cls, "insert", list_insert, false);
    class_add_method(vm, cls, "pop", list_pop, false);
    class_add_method(vm, cls, "remove", list_remove, false);
    class_add_method(vm, cls, "index", list_index, false);
    class_add_method(vm, cls, "count", list_count, false);
    class_add_method(vm, cls, "sort", list_sort_method, true);
    class_add_method(vm, cls, "reverse", list_reverse, false);
    class_add_method(vm, cls, "copy", list_copy, false);
    class_add_method(vm, cls, "clear", list_clear, false);
}
