// runtime/dict.c - dict objects in CPython's compact ordered layout, the methods and the views.
// entries[0, used) in insertion order (deleted: key EMPTY); the index is resized at 2/3.
#include <stdlib.h>
#include <string.h>

#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/ops.h"

#define IX_EMPTY (-1)
#define IX_DUMMY (-2)
#define MIN_INDEX 8
#define PERTURB_SHIFT 5

static inline uint32_t usable_size(uint32_t index_size) { return index_size * 2 / 3; }

// CPython's hash of an int: value modulo 2**61 - 1 keeping the sign, -1 -> -2.
static inline uint64_t int_hash(int64_t v) {
    const uint64_t modulus = (1ull << 61) - 1;
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int64_t h = (int64_t)(mag % modulus);
    if (v < 0) h = -h;
    if (h == -1) h = -2;
    return (uint64_t)h;
}

// Strings use their cached hash, ints the formula above, the rest value_hash.
static inline bool key_hash(VM *vm, Value key, uint64_t *out) {
    if (IS_OBJ_TYPE(key, OBJ_STRING)) {
        *out = str_hash((ObjString *)AS_OBJ(key));
        return true;
    }
    if (IS_INTLIKE(key)) {
        *out = int_hash(AS_INTLIKE(key));
        return true;
    }
    return value_hash(vm, key, out);
}

bool dict_key_hash(VM *vm, Value key, uint64_t *out) { return key_hash(vm, key, out); }

static inline bool keys_equal(Value a, Value b) {
    if (value_same(a, b)) return true;
    if (IS_OBJ_TYPE(a, OBJ_STRING)) {
        if (!IS_OBJ_TYPE(b, OBJ_STRING)) return false;
        const ObjString *x = (ObjString *)AS_OBJ(a), *y = (ObjString *)AS_OBJ(b);
        return x->length == y->length && memcmp(x->chars, y->chars, x->length) == 0;
    }
    return value_equal(a, b);
}

ObjDict *dict_new(VM *vm) { return ALLOC_OBJ(vm, ObjDict, OBJ_DICT); }

// Entry number of key, or -1; *pos gets its slot in the index.
static int64_t lookup(const ObjDict *d, Value key, uint64_t hash, size_t *pos) {
    if (!d->index_size) return -1;
    size_t mask = d->index_size - 1;
    size_t i = (size_t)hash & mask;
    uint64_t perturb = hash;
    for (;;) {
        int32_t ix = d->index[i];
        if (ix == IX_EMPTY) return -1;
        if (ix >= 0) {
            const DictEntry *e = &d->entries[ix];
            if (e->hash == hash && keys_equal(e->key, key)) {
                if (pos) *pos = i;
                return ix;
            }
        }
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + (size_t)perturb + 1) & mask;
    }
}

// First free (empty or deleted) index slot for hash.
static size_t free_slot(const ObjDict *d, uint64_t hash) {
    size_t mask = d->index_size - 1;
    size_t i = (size_t)hash & mask;
    uint64_t perturb = hash;
    while (d->index[i] >= 0) {
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + (size_t)perturb + 1) & mask;
    }
    return i;
}

// Rebuild with an index of at least `min_size` slots, compacting entries.
static bool resize(VM *vm, ObjDict *d, uint64_t min_size) {
    uint64_t size = MIN_INDEX;
    while (size < min_size) size <<= 1;
    if (size > (1u << 30)) return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
    uint32_t cap = usable_size((uint32_t)size);
    int32_t *index = gc_realloc(vm, NULL, 0, sizeof(int32_t) * size);
    DictEntry *entries = gc_realloc(vm, NULL, 0, sizeof(DictEntry) * cap);
    if (!index || !entries) {
        free(index);
        free(entries);
        return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
    }
    memset(index, 0xFF, sizeof(int32_t) * size);  // all IX_EMPTY
    uint32_t n = 0;
    for (uint32_t k = 0; k < d->used; k++)
        if (!IS_EMPTY(d->entries[k].key)) entries[n++] = d->entries[k];
    gc_realloc(vm, d->entries, sizeof(DictEntry) * d->capacity, 0);
    gc_realloc(vm, d->index, sizeof(int32_t) * d->index_size, 0);
    d->entries = entries;
    d->index = index;
    d->capacity = cap;
    d->index_size = (uint32_t)size;
    d->used = n;
    d->count = n;
    for (uint32_t k = 0; k < n; k++) index[free_slot(d, entries[k].hash)] = (int32_t)k;
    return true;
}

// Append a key known to be absent.
static bool insert_new(VM *vm, ObjDict *d, Value key, Value value, uint64_t hash) {
    if (d->used >= d->capacity && !resize(vm, d, (uint64_t)d->count * 3 + 1)) return false;
    d->index[free_slot(d, hash)] = (int32_t)d->used;
    DictEntry *e = &d->entries[d->used++];
    e->key = key;
    e->value = value;
    e->hash = hash;
    d->count++;
    d->version++;
    return true;
}

static bool set_hashed(VM *vm, ObjDict *d, Value key, Value value, uint64_t hash) {
    int64_t ix = lookup(d, key, hash, NULL);
    if (ix >= 0) {
        d->entries[ix].value = value;
        return true;
    }
    return insert_new(vm, d, key, value, hash);
}

bool dict_get(VM *vm, ObjDict *dict, Value key, Value *out, bool *found) {
    uint64_t hash;
    if (!key_hash(vm, key, &hash)) return false;
    int64_t ix = lookup(dict, key, hash, NULL);
    *found = ix >= 0;
    if (ix >= 0) *out = dict->entries[ix].value;
    return true;
}

bool dict_set(VM *vm, ObjDict *dict, Value key, Value value) {
    uint64_t hash;
    if (!key_hash(vm, key, &hash)) return false;
    return set_hashed(vm, dict, key, value, hash);
}

static void delete_at(ObjDict *d, size_t pos, int64_t ix) {
    d->index[pos] = IX_DUMMY;
    d->entries[ix].key = EMPTY_VAL;
    d->entries[ix].value = EMPTY_VAL;
    d->count--;
}

bool dict_delete(VM *vm, ObjDict *dict, Value key, bool *found) {
    uint64_t hash;
    if (!key_hash(vm, key, &hash)) return false;
    size_t pos = 0;
    int64_t ix = lookup(dict, key, hash, &pos);
    *found = ix >= 0;
    if (ix >= 0) delete_at(dict, pos, ix);
    return true;
}

Value *dict_find_str(ObjDict *dict, ObjString *key) {
    if (!dict->index_size) return NULL;
    size_t mask = dict->index_size - 1;
    uint64_t hash = str_hash(key);
    size_t i = (size_t)hash & mask;
    uint64_t perturb = hash;
    for (;;) {
        int32_t ix = dict->index[i];
        if (ix == IX_EMPTY) return NULL;
        if (ix >= 0) {
            DictEntry *e = &dict->entries[ix];
            if (IS_OBJ(e->key) && AS_OBJ(e->key) == (Obj *)key) return &e->value;
            if (e->hash == hash && IS_OBJ_TYPE(e->key, OBJ_STRING)) {
                ObjString *k = (ObjString *)AS_OBJ(e->key);
                if (k->length == key->length && memcmp(k->chars, key->chars, k->length) == 0)
                    return &e->value;
            }
        }
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + (size_t)perturb + 1) & mask;
    }
}

void dict_set_str(VM *vm, ObjDict *dict, ObjString *key, Value value) {
    Value *slot = dict_find_str(dict, key);
    if (slot) {
        *slot = value;
        return;
    }
    if (!insert_new(vm, dict, OBJ_VAL(key), value, str_hash(key))) {
        fputs("asyncrun: out of memory\n", stderr);
        abort();
    }
}

bool dict_next(ObjDict *d, uint32_t *pos, Value *key, Value *value) {
    while (*pos < d->used) {
        DictEntry *e = &d->entries[(*pos)++];
        if (!IS_EMPTY(e->key)) {
            if (key) *key = e->key;
            if (value) *value = e->value;
            return true;
        }
    }
    return false;
}

ObjDict *dict_copy(VM *vm, ObjDict *d) {
    ObjDict *r = dict_new(vm);
    if (d->count == 0) return r;
    if (!resize(vm, r, (uint64_t)d->count * 3 / 2 + 1)) return NULL;
    for (uint32_t k = 0; k < d->used; k++) {
        DictEntry *e = &d->entries[k];
        if (IS_EMPTY(e->key)) continue;
        r->index[free_slot(r, e->hash)] = (int32_t)r->used;
        r->entries[r->used++] = *e;
        r->count++;
    }
    return r;
}

void dict_clear(VM *vm, ObjDict *d) {
    gc_realloc(vm, d->entries, sizeof(DictEntry) * d->capacity, 0);
    gc_realloc(vm, d->index, sizeof(int32_t) * d->index_size, 0);
    d->entries = NULL;
    d->index = NULL;
    d->count = d->used = d->capacity = d->index_size = 0;
}

// One element of an update sequence: a pair.
static bool update_pair(VM *vm, ObjDict *d, Value item, uint32_t n) {
    Value *kv;
    uint32_t len;
    ObjList *tmp = NULL;
    if (IS_OBJ_TYPE(item, OBJ_TUPLE)) {
        kv = ((ObjTuple *)AS_OBJ(item))->items;
        len = ((ObjTuple *)AS_OBJ(item))->length;
    } else if (IS_OBJ_TYPE(item, OBJ_LIST)) {
        kv = ((ObjList *)AS_OBJ(item))->items;
        len = ((ObjList *)AS_OBJ(item))->length;
    } else {
        Value it;
        if (!value_iter(vm, item, &it)) {
            if (!exception_matches(vm, vm->exception, CLS_TYPE_ERROR)) return false;
            vm->exception = EMPTY_VAL;
            return vm_raise(vm, CLS_TYPE_ERROR,
                            "cannot convert dictionary update sequence element #%u to a sequence",
                            n);
        }
        tmp = value_to_list(vm, it);
        if (!tmp) return false;
        kv = tmp->items;
        len = tmp->length;
    }
    if (len != 2)
        return vm_raise(vm, CLS_VALUE_ERROR,
                        "dictionary update sequence element #%u has length %u; 2 is required", n,
                        len);
    return dict_set(vm, d, kv[0], kv[1]);
}

bool dict_update(VM *vm, ObjDict *d, Value other) {
    if (IS_OBJ_TYPE(other, OBJ_DICT)) {
        ObjDict *o = (ObjDict *)AS_OBJ(other);
        if (o == d) return true;
        for (uint32_t k = 0; k < o->used; k++) {
            DictEntry *e = &o->entries[k];
            if (!IS_EMPTY(e->key) && !set_hashed(vm, d, e->key, e->value, e->hash)) return false;
        }
        return true;
    }
    Value it;
    if (!value_iter(vm, other, &it)) return false;
    vm_push_root(vm, it);
    Value item;
    int r;
    uint32_t n = 0;
    while ((r = iter_next(vm, it, &item)) > 0) {
        if (!update_pair(vm, d, item, n++)) {
            r = -1;
            break;
        }
    }
    vm_pop_roots(vm, 1);
    return r == 0;
}

bool dict_equal(ObjDict *a, ObjDict *b) {
    if (a == b) return true;
    if (a->count != b->count) return false;
    for (uint32_t k = 0; k < a->used; k++) {
        DictEntry *e = &a->entries[k];
        if (IS_EMPTY(e->key)) continue;
        int64_t ix = lookup(b, e->key, e->hash, NULL);
        if (ix < 0) return false;
        Value v = b->entries[ix].value;
        if (!value_same(v, e->value) && !value_equal(v, e->value)) return false;
    }
    return true;
}

// ---- errors and argument checks ----------------------------------------------------

static bool raise_key_error(VM *vm, Value key) {
    ObjTuple *args = tuple_new(vm, 1);
    args->items[0] = key;
    return vm_raise_value(vm, OBJ_VAL(exception_new(vm, vm->classes[CLS_KEY_ERROR], args)));
}

static bool no_args(VM *vm, const char *name, int argc) {
    if (argc == 1) return true;
    return vm_raise(vm, CLS_TYPE_ERROR, "dict.%s() takes no arguments (%d given)", name,
                    argc - 1);
}

// "get expected at least 1 argument, got 0"
static bool check_positional(VM *vm, const char *name, int argc, int min, int max) {
    int n = argc - 1;
    if (n < min)
        return vm_raise(vm, CLS_TYPE_ERROR, "%s expected at least %d argument%s, got %d", name,
                        min, min == 1 ? "" : "s", n);
    if (n > max)
        return vm_raise(vm, CLS_TYPE_ERROR, "%s expected at most %d argument%s, got %d", name,
                        max, max == 1 ? "" : "s", n);
    return true;
}

#define SELF ((ObjDict *)AS_OBJ(args[0]))

// ---- methods -------------------------------------------------------------------------

static bool dict_get_method(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!check_positional(vm, "get", argc, 1, 2)) return false;
    bool found;
    if (!dict_get(vm, SELF, args[1], out, &found)) return false;
    if (!found) *out = argc > 2 ? args[2] : NONE_VAL;
    return true;
}

static bool dict_setdefault(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!check_positional(vm, "setdefault", argc, 1, 2)) return false;
    ObjDict *d = SELF;
    uint64_t hash;
    if (!key_hash(vm, args[1], &hash)) return false;
    int64_t ix = lookup(d, args[1], hash, NULL);
    if (ix >= 0) {
        *out = d->entries[ix].value;
        return true;
    }
    Value dflt = argc > 2 ? args[2] : NONE_VAL;
    if (!insert_new(vm, d, args[1], dflt, hash)) return false;
    *out = dflt;
    return true;
}

static bool dict_pop(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!check_positional(vm, "pop", argc, 1, 2)) return false;
    ObjDict *d = SELF;
    uint64_t hash;
    if (!key_hash(vm, args[1], &hash)) return false;
    size_t pos = 0;
    int64_t ix = lookup(d, args[1], hash, &pos);
    if (ix < 0) {
        if (argc > 2) {
            *out = args[2];
            return true;
        }
        return raise_key_error(vm, args[1]);
    }
    *out = d->entries[ix].value;
    delete_at(d, pos, ix);
    return true;
}

static bool dict_popitem(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "popitem", argc)) return false;
    ObjDict *d = SELF;
    if (d->count == 0)
        return raise_key_error(vm, OBJ_VAL(str_from_cstr(vm, "popitem(): dictionary is empty")));
    uint32_t k = d->used;
    while (IS_EMPTY(d->entries[k - 1].key)) k--;
    DictEntry *e = &d->entries[k - 1];
    ObjTuple *t = tuple_new(vm, 2);
    t->items[0] = e->key;
    t->items[1] = e->value;
    size_t pos = 0;
    int64_t ix = lookup(d, e->key, e->hash, &pos);
    delete_at(d, pos, ix);
    d->used = k - 1;  // the slot is free again, as CPython's popitem
    *out = OBJ_VAL(t);
    return true;
}

ObjDictView *dictview_new(VM *vm, ObjDict *d, IterKind kind) {
    ObjDictView *v = ALLOC_OBJ(vm, ObjDictView, OBJ_DICTVIEW);
    v->kind = (uint8_t)kind;
    v->dict = d;
    return v;
}

static bool dict_keys(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "keys", argc)) return false;
    *out = OBJ_VAL(dictview_new(vm, SELF, ITER_DICT_KEYS));
    return true;
}

static bool dict_values(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "values", argc)) return false;
    *out = OBJ_VAL(dictview_new(vm, SELF, ITER_DICT_VALUES));
    return true;
}

static bool dict_items(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "items", argc)) return false;
    *out = OBJ_VAL(dictview_new(vm, SELF, ITER_DICT_ITEMS));
    return true;
}

static bool dict_update_method(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!check_positional(vm, "update", argc, 0, 1)) return false;
    ObjDict *d = SELF;
    if (argc > 1 && !dict_update(vm, d, args[1])) return false;
    if (kwnames) {
        for (uint32_t k = 0; k < kwnames->length; k++)
            if (!dict_set(vm, d, kwnames->items[k], args[argc + (int)k])) return false;
    }
    *out = NONE_VAL;
    return true;
}

static bool dict_copy_method(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "copy", argc)) return false;
    ObjDict *r = dict_copy(vm, SELF);
    if (!r) return false;
    *out = OBJ_VAL(r);
    return true;
}

static bool dict_clear_method(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "clear", argc)) return false;
    dict_clear(vm, SELF);
    *out = NONE_VAL;
    return true;
}

// dict.fromkeys(iterable, value=None). Called on an instance args[0] is
// the dict; looked up on the class there is no receiver: a first argument
// that is a dict with more arguments after it is taken as the receiver.
static bool dict_fromkeys(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    Value shifted[3];
    if (!(argc >= 2 && IS_OBJ_TYPE(args[0], OBJ_DICT))) {
        if (argc > 2)
            return vm_raise(vm, CLS_TYPE_ERROR, "fromkeys expected at most 2 arguments, got %d",
                            argc);
        shifted[0] = NONE_VAL;
        for (int i = 0; i < argc; i++) shifted[i + 1] = args[i];
        args = shifted;
        argc++;
    }
    if (!check_positional(vm, "fromkeys", argc, 1, 2)) return false;
    Value value = argc > 2 ? args[2] : NONE_VAL;
    ObjDict *d = dict_new(vm);
    vm_push_root(vm, OBJ_VAL(d));
    Value it;
    if (!value_iter(vm, args[1], &it)) {
        vm_pop_roots(vm, 1);
        return false;
    }
    vm_push_root(vm, it);
    Value key;
    int r;
    while ((r = iter_next(vm, it, &key)) > 0) {
        if (!dict_set(vm, d, key, value)) {
            r = -1;
            break;
        }
    }
    vm_pop_roots(vm, 2);
    if (r < 0) return false;
    *out = OBJ_VAL(d);
    return true;
}

void dict_init_class(VM *vm, ObjClass *cls) {
    class_add_method(vm, cls, "get", dict_get_method, false);
    class_add_method(vm, cls, "setdefault", dict_setdefault, false);
    class_add_method(vm, cls, "pop", dict_pop, false);
    class_add_method(vm, cls, "popitem", dict_popitem, false);
    class_add_method(vm, cls, "keys", dict_keys, false);
    class_add_method(vm, cls, "values", dict_values, false);
    class_add_method(vm, cls, "items", dict_items, false);
    class_add_method(vm, cls, "update", dict_update_method, true);
    class_add_method(vm, cls, "copy", dict_copy_method, false);
    class_add_method(vm, cls, "clear", dict_clear_method, false);
    class_add_method(vm, cls, "fromkeys", dict_fromkeys, false);
}

// ---- views ----------------------------------------------------------------------------

bool dictview_contains(VM *vm, ObjDictView *view, Value item, bool *out) {
    ObjDict *d = view->dict;
    Value v;
    switch (view->kind) {
    case ITER_DICT_KEYS:
        return dict_get(vm, d, item, &v, out);
    case ITER_DICT_ITEMS: {
        if (!IS_OBJ_TYPE(item, OBJ_TUPLE) || ((ObjTuple *)AS_OBJ(item))->length != 2) {
            *out = false;
            return true;
        }
        ObjTuple *t = (ObjTuple *)AS_OBJ(item);
        bool found;
        if (!dict_get(vm, d, t->items[0], &v, &found)) return false;
        *out = found && (value_same(v, t->items[1]) || value_equal(v, t->items[1]));
        return true;
    }
    default: {
        uint32_t pos = 0;
        while (dict_next(d, &pos, NULL, &v)) {
            if (value_same(v, item) || value_equal(v, item)) {
                *out = true;
                return true;
            }
        }
        *out = false;
        return true;
    }
    }
}

// view.isdisjoint(iterable): True when no item of it is in the view.
static bool view_isdisjoint(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (argc != 2)
        return vm_raise(vm, CLS_TYPE_ERROR, "%s.isdisjoint() takes exactly one argument (%d given)",
                        value_type_name(vm, args[0]), argc - 1);
    ObjDictView *view = (ObjDictView *)AS_OBJ(args[0]);
    Value it;
    if (!value_iter(vm, args[1], &it)) return false;
    vm_push_root(vm, it);
    Value item;
    int r;
    *out = TRUE_VAL;
    while ((r = iter_next(vm, it, &item)) > 0) {
        bool found;
        if (!dictview_contains(vm, view, item, &found)) {
            r = -1;
            break;
        }
        if (found) {
            *out = FALSE_VAL;
            break;
        }
    }
    vm_pop_roots(vm, 1);
    return r >= 0;
}

void dictview_init_classes(VM *vm) {
    class_add_method(vm, vm->classes[CLS_DICT_KEYS], "isdisjoint", view_isdisjoint, false);
    class_add_method(vm, vm->classes[CLS_DICT_ITEMS], "isdisjoint", view_isdisjoint, false);
}
