// runtime/set.c - set and frozenset on CPython's own table (setobject.c), methods and operators.
// Iteration order is table order, so every placement follows setobject.c step for step.
#include <stdlib.h>
#include <string.h>

#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/ops.h"

// Following setobject.c means: 9 linear probes then perturbation, growth x4
// at 3/5 fill, the last deleted slot seen reused on insert, bulk merges into
// empty tables, intersection iterating the smaller set, and so on.
#define LINEAR_PROBES 9
#define PERTURB_SHIFT 5
#define MIN_SIZE 8

static inline bool is_unused(const SetEntry *e) { return IS_EMPTY(e->key) && e->hash == 0; }

static inline bool keys_equal(Value a, Value b) {
    if (value_same(a, b)) return true;
    if (IS_OBJ_TYPE(a, OBJ_STRING)) {
        if (!IS_OBJ_TYPE(b, OBJ_STRING)) return false;
        const ObjString *x = (ObjString *)AS_OBJ(a), *y = (ObjString *)AS_OBJ(b);
        return x->length == y->length && memcmp(x->chars, y->chars, x->length) == 0;
    }
    return value_equal(a, b);
}

static SetEntry *new_table(VM *vm, size_t size) {
    SetEntry *t = gc_realloc(vm, NULL, 0, sizeof(SetEntry) * size);
    if (!t) return NULL;
    for (size_t i = 0; i < size; i++) {
        t[i].key = EMPTY_VAL;
        t[i].hash = 0;
    }
    return t;
}

static void free_table(VM *vm, ObjSet *s) {
    gc_realloc(vm, s->table, sizeof(SetEntry) * ((size_t)s->mask + 1), 0);
    s->table = NULL;
}

ObjSet *set_new(VM *vm, bool frozen) {
    ObjSet *s = ALLOC_OBJ(vm, ObjSet, OBJ_SET);
    s->frozen = frozen;
    s->table = new_table(vm, MIN_SIZE);
    if (!s->table) {
        fputs("asyncrun: out of memory\n", stderr);
        abort();
    }
    s->mask = MIN_SIZE - 1;
    return s;
}

void set_mark(VM *vm, ObjSet *s) {
    if (!s->table) return;
    for (size_t i = 0; i <= s->mask; i++) gc_mark_value(vm, s->table[i].key);
}

void set_free_table(ObjSet *s) {
    free(s->table);
    s->table = NULL;
}

static SetEntry *find_entry(const ObjSet *s, Value key, uint64_t hash) {
    size_t mask = s->mask;
    size_t i = (size_t)hash & mask;
    uint64_t perturb = hash;
    for (;;) {
        SetEntry *e = &s->table[i];
        int probes = (i + LINEAR_PROBES <= mask) ? LINEAR_PROBES : 0;
        do {
            if (is_unused(e)) return NULL;
            if (e->hash == hash && !IS_EMPTY(e->key) && keys_equal(e->key, key)) return e;
            e++;
        } while (probes--);
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + 1 + (size_t)perturb) & mask;
    }
}

// Insert into a fresh table (no deleted slots, key absent).
static void insert_clean(SetEntry *table, size_t mask, Value key, uint64_t hash) {
    size_t i = (size_t)hash & mask;
    uint64_t perturb = hash;
    SetEntry *e;
    for (;;) {
        e = &table[i];
        if (IS_EMPTY(e->key)) goto found;
        if (i + LINEAR_PROBES <= mask) {
            for (int j = 0; j < LINEAR_PROBES; j++) {
                e++;
                if (IS_EMPTY(e->key)) goto found;
            }
        }
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + 1 + (size_t)perturb) & mask;
    }
found:
    e->key = key;
    e->hash = hash;
}

static bool table_resize(VM *vm, ObjSet *s, uint64_t minused) {
    uint64_t size = MIN_SIZE;
    while (size <= minused) size <<= 1;
    if (size == MIN_SIZE && s->mask == MIN_SIZE - 1 && s->fill == s->used) return true;
    if (size > (1u << 31)) return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
    SetEntry *table = new_table(vm, (size_t)size);
    if (!table) return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
    size_t mask = (size_t)size - 1;
    for (size_t i = 0; i <= s->mask; i++)
        if (!IS_EMPTY(s->table[i].key))
            insert_clean(table, mask, s->table[i].key, s->table[i].hash);
    free_table(vm, s);
    s->table = table;
    s->mask = (uint32_t)mask;
    s->fill = s->used;
    return true;
}

static bool add_entry(VM *vm, ObjSet *s, Value key, uint64_t hash) {
    size_t mask = s->mask;
    size_t i = (size_t)hash & mask;
    uint64_t perturb = hash;
    SetEntry *freeslot = NULL;
    SetEntry *e;
    for (;;) {
        e = &s->table[i];
        int probes = (i + LINEAR_PROBES <= mask) ? LINEAR_PROBES : 0;
        do {
            if (IS_EMPTY(e->key)) {
                if (e->hash == 0) goto found_unused;
                freeslot = e;  // a deleted slot: CPython 3.11 keeps the last one seen
            } else if (e->hash == hash && keys_equal(e->key, key)) {
                return true;
            }
            e++;
        } while (probes--);
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + 1 + (size_t)perturb) & mask;
    }
found_unused:
    if (freeslot) {
        s->used++;
        freeslot->key = key;
        freeslot->hash = hash;
        return true;
    }
    s->fill++;
    s->used++;
    e->key = key;
    e->hash = hash;
    if ((size_t)s->fill * 5 < mask * 3) return true;
    return table_resize(vm, s, s->used > 50000 ? (uint64_t)s->used * 2 : (uint64_t)s->used * 4);
}

static bool discard_entry(ObjSet *s, Value key, uint64_t hash) {
    SetEntry *e = find_entry(s, key, hash);
    if (!e) return false;
    e->key = EMPTY_VAL;
    e->hash = SET_DUMMY;
    s->used--;
    return true;
}

bool set_add(VM *vm, ObjSet *s, Value item) {
    uint64_t hash;
    if (!dict_key_hash(vm, item, &hash)) return false;
    return add_entry(vm, s, item, hash);
}

bool set_contains(VM *vm, ObjSet *s, Value item, bool *out) {
    uint64_t hash;
    if (!dict_key_hash(vm, item, &hash)) return false;
    *out = find_entry(s, item, hash) != NULL;
    return true;
}

bool set_discard(VM *vm, ObjSet *s, Value item, bool *found) {
    uint64_t hash;
    if (!dict_key_hash(vm, item, &hash)) return false;
    *found = discard_entry(s, item, hash);
    return true;
}

bool set_next(ObjSet *s, uint32_t *pos, Value *item) {
    while (*pos <= s->mask) {
        SetEntry *e = &s->table[(*pos)++];
        if (!IS_EMPTY(e->key)) {
            *item = e->key;
            return true;
        }
    }
    return false;
}

static void clear_table(VM *vm, ObjSet *s) {
    SetEntry *t = new_table(vm, MIN_SIZE);
    if (!t) {
        fputs("asyncrun: out of memory\n", stderr);
        abort();
    }
    free_table(vm, s);
    s->table = t;
    s->mask = MIN_SIZE - 1;
    s->fill = s->used = 0;
}

// Exchange the contents of two sets (set_swap_bodies).
static void swap_bodies(ObjSet *a, ObjSet *b) {
    SetEntry *t = a->table;
    a->table = b->table;
    b->table = t;
    uint32_t m = a->mask, f = a->fill, u = a->used;
    a->mask = b->mask;
    a->fill = b->fill;
    a->used = b->used;
    b->mask = m;
    b->fill = f;
    b->used = u;
}

static bool merge(VM *vm, ObjSet *so, ObjSet *other) {
    if (other == so || other->used == 0) return true;
    if (((size_t)so->fill + other->used) * 5 >= (size_t)so->mask * 3 &&
        !table_resize(vm, so, ((uint64_t)so->used + other->used) * 2))
        return false;
    if (so->fill == 0 && so->mask == other->mask && other->fill == other->used) {
        memcpy(so->table, other->table, sizeof(SetEntry) * ((size_t)other->mask + 1));
        so->fill = other->fill;
        so->used = other->used;
        return true;
    }
    if (so->fill == 0) {
        so->fill = so->used = other->used;
        for (size_t i = 0; i <= other->mask; i++)
            if (!IS_EMPTY(other->table[i].key))
                insert_clean(so->table, so->mask, other->table[i].key, other->table[i].hash);
        return true;
    }
    for (size_t i = 0; i <= other->mask; i++) {
        SetEntry *e = &other->table[i];
        if (!IS_EMPTY(e->key) && !add_entry(vm, so, e->key, e->hash)) return false;
    }
    return true;
}

static bool is_set(Value v) { return IS_OBJ_TYPE(v, OBJ_SET); }
#define AS_SET(v) ((ObjSet *)AS_OBJ(v))

bool set_update(VM *vm, ObjSet *s, Value other) {
    if (is_set(other)) return merge(vm, s, AS_SET(other));
    if (IS_OBJ_TYPE(other, OBJ_DICT)) {
        ObjDict *d = (ObjDict *)AS_OBJ(other);
        if (((size_t)s->fill + d->count) * 5 >= (size_t)s->mask * 3 &&
            !table_resize(vm, s, ((uint64_t)s->used + d->count) * 2))
            return false;
        for (uint32_t k = 0; k < d->used; k++) {
            DictEntry *e = &d->entries[k];
            if (!IS_EMPTY(e->key) && !add_entry(vm, s, e->key, e->hash)) return false;
        }
        return true;
    }
    Value it;
    if (!value_iter(vm, other, &it)) return false;
    vm_push_root(vm, it);
    Value item;
    int r;
    while ((r = iter_next(vm, it, &item)) > 0) {
        if (!set_add(vm, s, item)) {
            r = -1;
            break;
        }
    }
    vm_pop_roots(vm, 1);
    return r == 0;
}

ObjSet *set_copy(VM *vm, ObjSet *s, bool frozen) {
    ObjSet *r = set_new(vm, frozen);
    if (!merge(vm, r, s)) return NULL;
    return r;
}

// A new set of `frozen`'s kind holding the items of an iterable.
static ObjSet *set_from(VM *vm, bool frozen, Value iterable) {
    ObjSet *r = set_new(vm, frozen);
    vm_push_root(vm, OBJ_VAL(r));
    bool ok = set_update(vm, r, iterable);
    vm_pop_roots(vm, 1);
    return ok ? r : NULL;
}

ObjSet *set_new_constant(VM *vm, const Value *items, uint32_t n) {
    ObjSet *first = set_new(vm, true);
    for (uint32_t i = 0; i < n; i++)
        if (!set_add(vm, first, items[i])) return NULL;
    ObjSet *second = set_new(vm, true);
    uint32_t pos = 0;
    Value item;
    while (set_next(first, &pos, &item))
        if (!set_add(vm, second, item)) return NULL;
    return second;
}

// ---- the algebra, as setobject.c ---------------------------------------------------

static ObjSet *intersection(VM *vm, ObjSet *so, Value other) {
    if (is_set(other) && AS_SET(other) == so) return set_copy(vm, so, so->frozen);
    ObjSet *result = set_new(vm, so->frozen);
    if (is_set(other)) {
        ObjSet *a = so, *b = AS_SET(other);
        if (b->used > a->used) {
            ObjSet *t = a;
            a = b;
            b = t;
        }
        for (size_t i = 0; i <= b->mask; i++) {
            SetEntry *e = &b->table[i];
            if (IS_EMPTY(e->key)) continue;
            if (find_entry(a, e->key, e->hash) && !add_entry(vm, result, e->key, e->hash))
                return NULL;
        }
        return result;
    }
    vm_push_root(vm, OBJ_VAL(result));
    Value it;
    if (!value_iter(vm, other, &it)) {
        vm_pop_roots(vm, 1);
        return NULL;
    }
    vm_push_root(vm, it);
    Value key;
    int r;
    while ((r = iter_next(vm, it, &key)) > 0) {
        uint64_t hash;
        if (!dict_key_hash(vm, key, &hash)) {
            r = -1;
            break;
        }
        if (find_entry(so, key, hash)) {
            if (!add_entry(vm, result, key, hash)) {
                r = -1;
                break;
            }
            if (result->used >= so->used) break;
        }
    }
    vm_pop_roots(vm, 2);
    return r < 0 ? NULL : result;
}

static bool difference_update(VM *vm, ObjSet *so, Value other) {
    if (is_set(other) && AS_SET(other) == so) {
        clear_table(vm, so);
        return true;
    }
    if (is_set(other)) {
        ObjSet *o = AS_SET(other);
        if ((o->used >> 3) > so->used) {
            o = intersection(vm, so, other);
            if (!o) return false;
        }
        for (size_t i = 0; i <= o->mask; i++) {
            SetEntry *e = &o->table[i];
            if (!IS_EMPTY(e->key)) discard_entry(so, e->key, e->hash);
        }
    } else {
        Value it;
        if (!value_iter(vm, other, &it)) return false;
        vm_push_root(vm, it);
        Value key;
        int r;
        while ((r = iter_next(vm, it, &key)) > 0) {
            bool found;
            if (!set_discard(vm, so, key, &found)) {
                r = -1;
                break;
            }
        }
        vm_pop_roots(vm, 1);
        if (r < 0) return false;
    }
    // More than a quarter dummies: rebuild.
    if ((size_t)(so->fill - so->used) <= (size_t)so->mask / 4) return true;
    return table_resize(vm, so, so->used > 50000 ? (uint64_t)so->used * 2 : (uint64_t)so->used * 4);
}

static ObjSet *copy_and_difference(VM *vm, ObjSet *so, Value other) {
    ObjSet *r = set_copy(vm, so, so->frozen);
    if (!r) return NULL;
    vm_push_root(vm, OBJ_VAL(r));
    bool ok = difference_update(vm, r, other);
    vm_pop_roots(vm, 1);
    return ok ? r : NULL;
}

static ObjSet *difference(VM *vm, ObjSet *so, Value other) {
    uint32_t other_size;
    if (is_set(other)) other_size = AS_SET(other)->used;
    else if (IS_OBJ_TYPE(other, OBJ_DICT)) other_size = ((ObjDict *)AS_OBJ(other))->count;
    else return copy_and_difference(vm, so, other);
    if ((so->used >> 2) > other_size) return copy_and_difference(vm, so, other);
    ObjSet *result = set_new(vm, so->frozen);
    for (size_t i = 0; i <= so->mask; i++) {
        SetEntry *e = &so->table[i];
        if (IS_EMPTY(e->key)) continue;
        bool in_other;
        if (is_set(other)) {
            in_other = find_entry(AS_SET(other), e->key, e->hash) != NULL;
        } else {
            Value v;
            if (!dict_get(vm, (ObjDict *)AS_OBJ(other), e->key, &v, &in_other)) return NULL;
        }
        if (!in_other && !add_entry(vm, result, e->key, e->hash)) return NULL;
    }
    return result;
}

static bool symmetric_difference_update(VM *vm, ObjSet *so, Value other) {
    if (is_set(other) && AS_SET(other) == so) {
        clear_table(vm, so);
        return true;
    }
    if (IS_OBJ_TYPE(other, OBJ_DICT)) {
        ObjDict *d = (ObjDict *)AS_OBJ(other);
        for (uint32_t k = 0; k < d->used; k++) {
            DictEntry *e = &d->entries[k];
            if (IS_EMPTY(e->key)) continue;
            if (!discard_entry(so, e->key, e->hash) && !add_entry(vm, so, e->key, e->hash))
                return false;
        }
        return true;
    }
    ObjSet *o = is_set(other) ? AS_SET(other) : set_from(vm, so->frozen, other);
    if (!o) return false;
    for (size_t i = 0; i <= o->mask; i++) {
        SetEntry *e = &o->table[i];
        if (IS_EMPTY(e->key)) continue;
        if (!discard_entry(so, e->key, e->hash) && !add_entry(vm, so, e->key, e->hash))
            return false;
    }
    return true;
}

static ObjSet *symmetric_difference(VM *vm, ObjSet *so, Value other) {
    ObjSet *r = set_from(vm, so->frozen, other);
    if (!r) return NULL;
    if (!symmetric_difference_update(vm, r, OBJ_VAL(so))) return NULL;
    return r;
}

bool set_is_subset(ObjSet *a, ObjSet *b) {
    if (a->used > b->used) return false;
    for (size_t i = 0; i <= a->mask; i++) {
        SetEntry *e = &a->table[i];
        if (!IS_EMPTY(e->key) && !find_entry(b, e->key, e->hash)) return false;
    }
    return true;
}

bool set_equal(ObjSet *a, ObjSet *b) { return a->used == b->used && set_is_subset(a, b); }

bool set_binary(VM *vm, char op, ObjSet *a, ObjSet *b, bool inplace, Value *out) {
    Value other = OBJ_VAL(b);
    ObjSet *r = NULL;
    switch (op) {
    case '|':
        if (inplace) {
            if (!set_update(vm, a, other)) return false;
            r = a;
        } else {
            r = set_copy(vm, a, a->frozen);
            if (r && a != b && !set_update(vm, r, other)) return false;
        }
        break;
    case '&':
        r = intersection(vm, a, other);
        if (r && inplace) {
            swap_bodies(a, r);
            r = a;
        }
        break;
    case '-':
        if (inplace) {
            if (!difference_update(vm, a, other)) return false;
            r = a;
        } else {
            r = difference(vm, a, other);
        }
        break;
    case '^':
        if (inplace) {
            if (!symmetric_difference_update(vm, a, other)) return false;
            r = a;
        } else {
            r = symmetric_difference(vm, a, other);
        }
        break;
    default:
        return vm_raise(vm, CLS_TYPE_ERROR, "bad set operator");
    }
    if (!r) return false;
    *out = OBJ_VAL(r);
    return true;
}

// ---- methods ---------------------------------------------------------------------------

#define SELF AS_SET(args[0])

static const char *kind_name(ObjSet *s) { return s->frozen ? "frozenset" : "set"; }

static bool raise_key_error(VM *vm, Value key) {
    ObjTuple *t = tuple_new(vm, 1);
    t->items[0] = key;
    return vm_raise_value(vm, OBJ_VAL(exception_new(vm, vm->classes[CLS_KEY_ERROR], t)));
}

static bool no_args(VM *vm, const char *name, Value *args, int argc) {
    if (argc == 1) return true;
    return vm_raise(vm, CLS_TYPE_ERROR, "%s.%s() takes no arguments (%d given)",
                    kind_name(SELF), name, argc - 1);
}

static bool one_arg(VM *vm, const char *name, Value *args, int argc) {
    if (argc == 2) return true;
    return vm_raise(vm, CLS_TYPE_ERROR, "%s.%s() takes exactly one argument (%d given)",
                    kind_name(SELF), name, argc - 1);
}

static bool set_add_method(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!one_arg(vm, "add", args, argc)) return false;
    if (!set_add(vm, SELF, args[1])) return false;
    *out = NONE_VAL;
    return true;
}

static bool set_remove(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!one_arg(vm, "remove", args, argc)) return false;
    bool found;
    if (!set_discard(vm, SELF, args[1], &found)) return false;
    if (!found) return raise_key_error(vm, args[1]);
    *out = NONE_VAL;
    return true;
}

static bool set_discard_method(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!one_arg(vm, "discard", args, argc)) return false;
    bool found;
    if (!set_discard(vm, SELF, args[1], &found)) return false;
    *out = NONE_VAL;
    return true;
}

static bool set_pop(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "pop", args, argc)) return false;
    ObjSet *s = SELF;
    if (s->used == 0)
        return raise_key_error(vm, OBJ_VAL(str_from_cstr(vm, "pop from an empty set")));
    size_t i = s->finger & s->mask;
    while (IS_EMPTY(s->table[i].key)) {
        i++;
        if (i > s->mask) i = 0;
    }
    *out = s->table[i].key;
    s->table[i].key = EMPTY_VAL;
    s->table[i].hash = SET_DUMMY;
    s->used--;
    s->finger = (uint32_t)(i + 1);
    return true;
}

static bool set_clear(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "clear", args, argc)) return false;
    clear_table(vm, SELF);
    *out = NONE_VAL;
    return true;
}

static bool set_copy_method(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "copy", args, argc)) return false;
    ObjSet *s = SELF;
    if (s->frozen) {
        *out = args[0];
        return true;
    }
    ObjSet *r = set_copy(vm, s, false);
    if (!r) return false;
    *out = OBJ_VAL(r);
    return true;
}

static bool set_union(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjSet *so = SELF;
    ObjSet *r = set_copy(vm, so, so->frozen);
    if (!r) return false;
    vm_push_root(vm, OBJ_VAL(r));
    for (int i = 1; i < argc; i++) {
        if (is_set(args[i]) && AS_SET(args[i]) == so) continue;
        if (!set_update(vm, r, args[i])) {
            vm_pop_roots(vm, 1);
            return false;
        }
    }
    vm_pop_roots(vm, 1);
    *out = OBJ_VAL(r);
    return true;
}

static bool set_update_method(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    for (int i = 1; i < argc; i++)
        if (!set_update(vm, SELF, args[i])) return false;
    *out = NONE_VAL;
    return true;
}

// Roots: args are on the caller's stack; fresh intermediate results are
// pushed while later arguments are iterated.
static ObjSet *intersection_multi(VM *vm, Value *args, int argc) {
    ObjSet *so = SELF;
    if (argc == 1) return set_copy(vm, so, so->frozen);
    ObjSet *result = so;
    size_t pushed = 0;
    for (int i = 1; i < argc; i++) {
        ObjSet *next = intersection(vm, result, args[i]);
        if (!next) {
            vm_pop_roots(vm, pushed);
            return NULL;
        }
        result = next;
        vm_push_root(vm, OBJ_VAL(result));
        pushed++;
    }
    vm_pop_roots(vm, pushed);
    return result;
}

static bool set_intersection(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjSet *r = intersection_multi(vm, args, argc);
    if (!r) return false;
    *out = OBJ_VAL(r);
    return true;
}

static bool set_intersection_update(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjSet *r = intersection_multi(vm, args, argc);
    if (!r) return false;
    swap_bodies(SELF, r);
    *out = NONE_VAL;
    return true;
}

static bool set_difference(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjSet *so = SELF;
    if (argc == 1) {
        ObjSet *r = set_copy(vm, so, so->frozen);
        if (!r) return false;
        *out = OBJ_VAL(r);
        return true;
    }
    ObjSet *r = difference(vm, so, args[1]);
    if (!r) return false;
    vm_push_root(vm, OBJ_VAL(r));
    for (int i = 2; i < argc; i++) {
        if (!difference_update(vm, r, args[i])) {
            vm_pop_roots(vm, 1);
            return false;
        }
    }
    vm_pop_roots(vm, 1);
    *out = OBJ_VAL(r);
    return true;
}

static bool set_difference_update(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    for (int i = 1; i < argc; i++)
        if (!difference_update(vm, SELF, args[i])) return false;
    *out = NONE_VAL;
    return true;
}

static bool set_symmetric_difference(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!one_arg(vm, "symmetric_difference", args, argc)) return false;
    ObjSet *r = symmetric_difference(vm, SELF, args[1]);
    if (!r) return false;
    *out = OBJ_VAL(r);
    return true;
}

static bool set_symmetric_difference_update(VM *vm, Value *args, int argc, ObjTuple *kw,
                                            Value *out) {
    if (!one_arg(vm, "symmetric_difference_update", args, argc)) return false;
    if (!symmetric_difference_update(vm, SELF, args[1])) return false;
    *out = NONE_VAL;
    return true;
}

static bool set_issubset(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!one_arg(vm, "issubset", args, argc)) return false;
    ObjSet *other = is_set(args[1]) ? AS_SET(args[1]) : set_from(vm, false, args[1]);
    if (!other) return false;
    *out = BOOL_VAL(set_is_subset(SELF, other));
    return true;
}

static bool set_issuperset(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!one_arg(vm, "issuperset", args, argc)) return false;
    if (is_set(args[1])) {
        *out = BOOL_VAL(set_is_subset(AS_SET(args[1]), SELF));
        return true;
    }
    Value it;
    if (!value_iter(vm, args[1], &it)) return false;
    vm_push_root(vm, it);
    Value key;
    int r;
    *out = TRUE_VAL;
    while ((r = iter_next(vm, it, &key)) > 0) {
        bool found;
        if (!set_contains(vm, SELF, key, &found)) {
            r = -1;
            break;
        }
        if (!found) {
            *out = FALSE_VAL;
            break;
        }
    }
    vm_pop_roots(vm, 1);
    return r >= 0;
}

static bool set_isdisjoint(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!one_arg(vm, "isdisjoint", args, argc)) return false;
    ObjSet *so = SELF;
    *out = TRUE_VAL;
    if (is_set(args[1])) {
        ObjSet *a = so, *b = AS_SET(args[1]);
        if (a->used > b->used) {
            ObjSet *t = a;
            a = b;
            b = t;
        }
        for (size_t i = 0; i <= a->mask; i++) {
            SetEntry *e = &a->table[i];
            if (!IS_EMPTY(e->key) && find_entry(b, e->key, e->hash)) {
                *out = FALSE_VAL;
                return true;
            }
        }
        return true;
    }
    Value it;
    if (!value_iter(vm, args[1], &it)) return false;
    vm_push_root(vm, it);
    Value key;
    int r;
    while ((r = iter_next(vm, it, &key)) > 0) {
        bool found;
        if (!set_contains(vm, so, key, &found)) {
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

void set_init_class(VM *vm, ObjClass *cls, bool frozen) {
    if (!frozen) {
        class_add_method(vm, cls, "add", set_add_method, false);
        class_add_method(vm, cls, "remove", set_remove, false);
        class_add_method(vm, cls, "discard", set_discard_method, false);
        class_add_method(vm, cls, "pop", set_pop, false);
        class_add_method(vm, cls, "clear", set_clear, false);
        class_add_method(vm, cls, "update", set_update_method, false);
        class_add_method(vm, cls, "intersection_update", set_intersection_update, false);
        class_add_method(vm, cls, "difference_update", set_difference_update, false);
        class_add_method(vm, cls, "symmetric_difference_update",
                         set_symmetric_difference_update, false);
    }
    class_add_method(vm, cls, "copy", set_copy_method, false);
    class_add_method(vm, cls, "union", set_union, false);
    class_add_method(vm, cls, "intersection", set_intersection, false);
    class_add_method(vm, cls, "difference", set_difference, false);
    class_add_method(vm, cls, "symmetric_difference", set_symmetric_difference, false);
    class_add_method(vm, cls, "issubset", set_issubset, false);
    class_add_method(vm, cls, "issuperset", set_issuperset, false);
    class_add_method(vm, cls, "isdisjoint", set_isdisjoint, false);
}
