// runtime/iter.c - the builtin iterators (ObjIter kinds), iter() and next(), value_to_list.
// Iterators that run bytecode (map, filter, iter(f, x)) root fresh values across vm_call.
#include <string.h>

#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/ops.h"

ObjIter *iter_new(VM *vm, IterKind kind, Value source) {
    ObjIter *it = ALLOC_OBJ(vm, ObjIter, OBJ_ITER);
    it->kind = (uint8_t)kind;
    it->source = source;
    it->extra = NONE_VAL;
    it->step = 1;
    switch (kind) {
    case ITER_RANGE: {
        // As object.h says (and the dispatch loop's FOR_ITER relies on):
        // index = next value, stop = end (exclusive), step.
        ObjRange *r = (ObjRange *)AS_OBJ(source);
        it->index = r->start;
        it->stop = r->stop;
        it->step = r->step;
        break;
    }
    case ITER_DICT_KEYS:
    case ITER_DICT_VALUES:
    case ITER_DICT_ITEMS:
        it->expect = ((ObjDict *)AS_OBJ(source))->count;
        it->stop = it->expect;  // items still expected
        break;
    case ITER_SET:
        it->expect = ((ObjSet *)AS_OBJ(source))->used;
        break;
    case ITER_REVERSED:
        if (IS_OBJ_TYPE(source, OBJ_RANGE)) {
            // range(last, first - step, -step), saturating at the int64 ends
            ObjRange *r = (ObjRange *)AS_OBJ(source);
            int64_t n = range_length(r);
            it->kind = ITER_RANGE;
            it->step = r->step == INT64_MIN ? INT64_MAX : -r->step;
            if (n == 0) {
                it->index = it->stop = 0;
            } else {
                it->index = (int64_t)((uint64_t)r->start + (uint64_t)(n - 1) * (uint64_t)r->step);
                if (__builtin_sub_overflow(r->start, r->step, &it->stop))
                    it->stop = r->step > 0 ? INT64_MIN : INT64_MAX;
            }
        } else if (IS_OBJ_TYPE(source, OBJ_LIST)) {
            it->index = (int64_t)((ObjList *)AS_OBJ(source))->length - 1;
        } else if (IS_OBJ_TYPE(source, OBJ_TUPLE)) {
            it->index = (int64_t)((ObjTuple *)AS_OBJ(source))->length - 1;
        } else if (IS_OBJ_TYPE(source, OBJ_STRING)) {
            it->index = ((ObjString *)AS_OBJ(source))->length;  // byte offset of the end
        }
        break;
    default:
        break;
    }
    return it;
}

// Look up a dunder method on an instance's class (user-defined iterators).
static Value *instance_method(VM *vm, Value v, const char *name) {
    if (!IS_OBJ_TYPE(v, OBJ_INSTANCE)) return NULL;
    return class_lookup(((ObjInstance *)AS_OBJ(v))->cls, str_intern(vm, name, strlen(name)));
}

bool value_iter(VM *vm, Value v, Value *out) {
    if (IS_OBJ(v)) {
        IterKind kind;
        Value source = v;
        switch ((ObjType)OBJ_TYPE(v)) {
        case OBJ_ITER:
            *out = v;
            return true;
        case OBJ_LIST: kind = ITER_LIST; break;
        case OBJ_TUPLE: kind = ITER_TUPLE; break;
        case OBJ_STRING: kind = ITER_STR; break;
        case OBJ_RANGE: kind = ITER_RANGE; break;
        case OBJ_DICT: kind = ITER_DICT_KEYS; break;
        case OBJ_SET: kind = ITER_SET; break;
        case OBJ_DICTVIEW: {
            ObjDictView *view = (ObjDictView *)AS_OBJ(v);
            kind = (IterKind)view->kind;
            source = OBJ_VAL(view->dict);
            break;
        }
        case OBJ_INSTANCE: {
            Value *method = instance_method(vm, v, "__iter__");
            if (!method) goto not_iterable;
            Value self = v;
            return vm_call(vm, *method, &self, 1, NULL, out);
        }
        default:
            goto not_iterable;
        }
        *out = OBJ_VAL(iter_new(vm, kind, source));
        return true;
    }
not_iterable:
    return vm_raise(vm, CLS_TYPE_ERROR, "'%s' object is not iterable", value_type_name(vm, v));
}

// An exhausted iterator stays exhausted, as CPython's do: list iterators
// (whose source FOR_ITER reads directly) move past any length, the others
// drop their source (every kind checks its source's type first).
static int exhausted(ObjIter *it) {
    if (it->kind == ITER_LIST) it->index = INT64_MAX;
    else it->source = NONE_VAL;
    return 0;
}

static int next_dict(VM *vm, ObjIter *it, Value *out) {
    if (!IS_OBJ_TYPE(it->source, OBJ_DICT)) return 0;
    ObjDict *d = (ObjDict *)AS_OBJ(it->source);
    if (d->count != it->expect) {
        it->expect = UINT32_MAX;  // sticky, as CPython
        vm_raise(vm, CLS_RUNTIME_ERROR, "dictionary changed size during iteration");
        return -1;
    }
    while (it->index < (int64_t)d->used) {
        DictEntry *e = &d->entries[it->index++];
        if (IS_EMPTY(e->key)) continue;
        if (it->stop-- <= 0) {
            // same size, other keys: deleted and re-added while iterating
            it->expect = UINT32_MAX;
            vm_raise(vm, CLS_RUNTIME_ERROR, "dictionary keys changed during iteration");
            return -1;
        }
        if (it->kind == ITER_DICT_KEYS) {
            *out = e->key;
        } else if (it->kind == ITER_DICT_VALUES) {
            *out = e->value;
        } else {
            ObjTuple *t = tuple_new(vm, 2);
            t->items[0] = e->key;
            t->items[1] = e->value;
            *out = OBJ_VAL(t);
        }
        return 1;
    }
    return exhausted(it);
}

static int next_set(VM *vm, ObjIter *it, Value *out) {
    if (!IS_OBJ_TYPE(it->source, OBJ_SET)) return 0;
    ObjSet *s = (ObjSet *)AS_OBJ(it->source);
    if (s->used != it->expect) {
        it->expect = UINT32_MAX;
        vm_raise(vm, CLS_RUNTIME_ERROR, "Set changed size during iteration");
        return -1;
    }
    uint32_t pos = (uint32_t)it->index;
    if (set_next(s, &pos, out)) {
        it->index = pos;
        return 1;
    }
    return exhausted(it);
}

static int next_str(VM *vm, ObjIter *it, Value *out) {
    if (!IS_OBJ_TYPE(it->source, OBJ_STRING)) return 0;
    ObjString *s = (ObjString *)AS_OBJ(it->source);
    if (it->index >= (int64_t)s->length) return exhausted(it);
    uint8_t b = (uint8_t)s->chars[it->index];
    if (b < 0x80) {
        it->index++;
        *out = OBJ_VAL(str_from_codepoint(vm, b));
        return 1;
    }
    int width;
    uint32_t cp = utf8_decode(s->chars + it->index, &width);
    it->index += width;
    *out = OBJ_VAL(str_from_codepoint(vm, cp));
    return 1;
}

static int next_reversed(VM *vm, ObjIter *it, Value *out) {
    Value src = it->source;
    if (IS_OBJ_TYPE(src, OBJ_LIST)) {
        ObjList *l = (ObjList *)AS_OBJ(src);
        if (it->index >= 0 && it->index < (int64_t)l->length) {
            *out = l->items[it->index--];
            return 1;
        }
        return exhausted(it);
    }
    if (IS_OBJ_TYPE(src, OBJ_TUPLE)) {
        ObjTuple *t = (ObjTuple *)AS_OBJ(src);
        if (it->index >= 0 && it->index < (int64_t)t->length) {
            *out = t->items[it->index--];
            return 1;
        }
        return exhausted(it);
    }
    if (IS_OBJ_TYPE(src, OBJ_STRING)) {
        ObjString *s = (ObjString *)AS_OBJ(src);
        if (it->index <= 0) return exhausted(it);
        int64_t i = it->index - 1;
        while (i > 0 && ((uint8_t)s->chars[i] & 0xC0) == 0x80) i--;
        int width;
        uint32_t cp = utf8_decode(s->chars + i, &width);
        it->index = i;
        *out = OBJ_VAL(str_from_codepoint(vm, cp));
        return 1;
    }
    return 0;
}

// Each inner iterator's next item into items[]; 0 as soon as one ends.
static int next_all(VM *vm, ObjTuple *iters, ObjTuple *items) {
    for (uint32_t i = 0; i < iters->length; i++) {
        int r = iter_next(vm, iters->items[i], &items->items[i]);
        if (r <= 0) return r;
    }
    return 1;
}

static int next_zip(VM *vm, ObjIter *it, Value *out) {
    if (!IS_OBJ_TYPE(it->extra, OBJ_TUPLE)) return 0;
    ObjTuple *iters = (ObjTuple *)AS_OBJ(it->extra);
    if (iters->length == 0) return 0;
    ObjTuple *items = tuple_new(vm, iters->length);
    vm_push_root(vm, OBJ_VAL(items));
    int r = next_all(vm, iters, items);
    vm_pop_roots(vm, 1);
    if (r > 0) *out = OBJ_VAL(items);
    return r;
}

static int next_map(VM *vm, ObjIter *it, Value *out) {
    if (!IS_OBJ_TYPE(it->source, OBJ_TUPLE)) return 0;
    ObjTuple *iters = (ObjTuple *)AS_OBJ(it->source);
    ObjTuple *items = tuple_new(vm, iters->length);
    vm_push_root(vm, OBJ_VAL(items));
    int r = next_all(vm, iters, items);
    if (r > 0 && !vm_call(vm, it->extra, items->items, (int)items->length, NULL, out)) r = -1;
    vm_pop_roots(vm, 1);
    return r;
}

static int next_filter(VM *vm, ObjIter *it, Value *out) {
    for (;;) {
        Value item;
        int r = iter_next(vm, it->source, &item);
        if (r <= 0) return r;
        bool keep;
        if (IS_NONE(it->extra)) {
            int t = value_truth(vm, item);
            if (t < 0) return -1;
            keep = t;
        } else {
            vm_push_root(vm, item);
            Value arg = item, res;
            bool ok = vm_call(vm, it->extra, &arg, 1, NULL, &res);
            vm_pop_roots(vm, 1);
            if (!ok) return -1;
            int t = value_truth(vm, res);
            if (t < 0) return -1;
            keep = t;
        }
        if (keep) {
            *out = item;
            return 1;
        }
    }
}

static int next_instance(VM *vm, Value v, Value *out) {
    Value *method = instance_method(vm, v, "__next__");
    if (!method) {
        vm_raise(vm, CLS_TYPE_ERROR, "'%s' object is not an iterator", value_type_name(vm, v));
        return -1;
    }
    Value self = v;
    if (vm_call(vm, *method, &self, 1, NULL, out)) return 1;
    if (exception_matches(vm, vm->exception, CLS_STOP_ITERATION)) {
        vm->exception = EMPTY_VAL;
        return 0;
    }
    return -1;
}

int iter_next(VM *vm, Value iter, Value *out) {
    if (!IS_OBJ_TYPE(iter, OBJ_ITER)) {
        if (IS_OBJ_TYPE(iter, OBJ_INSTANCE)) return next_instance(vm, iter, out);
        vm_raise(vm, CLS_TYPE_ERROR, "'%s' object is not an iterator",
                 value_type_name(vm, iter));
        return -1;
    }
    ObjIter *it = (ObjIter *)AS_OBJ(iter);
    switch ((IterKind)it->kind) {
    case ITER_RANGE:
        if (it->step > 0 ? it->index >= it->stop : it->index <= it->stop) return 0;
        *out = INT_VAL(it->index);
        if (__builtin_add_overflow(it->index, it->step, &it->index)) it->index = it->stop;
        return 1;
    case ITER_LIST: {
        if (!IS_OBJ_TYPE(it->source, OBJ_LIST)) return 0;
        ObjList *l = (ObjList *)AS_OBJ(it->source);
        if (it->index < (int64_t)l->length) {
            *out = l->items[it->index++];
            return 1;
        }
        return exhausted(it);
    }
    case ITER_TUPLE: {
        if (!IS_OBJ_TYPE(it->source, OBJ_TUPLE)) return 0;
        ObjTuple *t = (ObjTuple *)AS_OBJ(it->source);
        if (it->index < (int64_t)t->length) {
            *out = t->items[it->index++];
            return 1;
        }
        return exhausted(it);
    }
    case ITER_STR:
        return next_str(vm, it, out);
    case ITER_DICT_KEYS:
    case ITER_DICT_VALUES:
    case ITER_DICT_ITEMS:
        return next_dict(vm, it, out);
    case ITER_SET:
        return next_set(vm, it, out);
    case ITER_ENUMERATE: {
        if (IS_NONE(it->source)) return 0;
        Value item;
        int r = iter_next(vm, it->source, &item);
        if (r <= 0) return r;
        ObjTuple *t = tuple_new(vm, 2);
        t->items[0] = INT_VAL(it->index);
        t->items[1] = item;
        it->index++;
        *out = OBJ_VAL(t);
        return 1;
    }
    case ITER_ZIP:
        return next_zip(vm, it, out);
    case ITER_MAP:
        return next_map(vm, it, out);
    case ITER_FILTER:
        return next_filter(vm, it, out);
    case ITER_REVERSED:
        return next_reversed(vm, it, out);
    case ITER_CALLABLE: {
        if (IS_NONE(it->source)) return 0;
        if (!vm_call(vm, it->source, NULL, 0, NULL, out)) return -1;
        if (value_same(*out, it->extra) || value_equal(*out, it->extra)) {
            it->source = NONE_VAL;
            return 0;
        }
        return 1;
    }
    }
    return 0;
}

ObjList *value_to_list(VM *vm, Value iterable) {
    if (IS_OBJ_TYPE(iterable, OBJ_LIST)) {
        ObjList *l = (ObjList *)AS_OBJ(iterable);
        return list_from(vm, l->items, l->length);
    }
    if (IS_OBJ_TYPE(iterable, OBJ_TUPLE)) {
        ObjTuple *t = (ObjTuple *)AS_OBJ(iterable);
        return list_from(vm, t->items, t->length);
    }
    Value it;
    if (!value_iter(vm, iterable, &it)) return NULL;
    ObjList *list;
    if (IS_OBJ_TYPE(iterable, OBJ_RANGE)) {
        // its length is known: a MemoryError at once for list(range(10**12))
        int64_t n = range_length((ObjRange *)AS_OBJ(iterable));
        if (n > (int64_t)(UINT32_MAX / 2)) {
            vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
            return NULL;
        }
        list = list_new(vm, (uint32_t)n);
        if (n && !list->items) {
            vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
            return NULL;
        }
    } else {
        list = list_new(vm, 0);
    }
    if (IS_OBJ_TYPE(iterable, OBJ_RANGE) || IS_OBJ_TYPE(iterable, OBJ_STRING) ||
        IS_OBJ_TYPE(iterable, OBJ_DICT) || IS_OBJ_TYPE(iterable, OBJ_SET) ||
        IS_OBJ_TYPE(iterable, OBJ_DICTVIEW)) {
        // Builtin iterators over builtin containers never run bytecode.
        Value item;
        int r;
        while ((r = iter_next(vm, it, &item)) > 0)
            if (!list_append(vm, list, item)) return NULL;
        return r == 0 ? list : NULL;
    }
    vm_push_root(vm, it);
    vm_push_root(vm, OBJ_VAL(list));
    Value item;
    int r;
    while ((r = iter_next(vm, it, &item)) > 0) {
        if (!list_append(vm, list, item)) {
            r = -1;
            break;
        }
    }
    vm_pop_roots(vm, 2);
    return r == 0 ? list : NULL;
}
