// runtime/ops.c - Python's operations on any value: truth, equality, hashing,
// ordering, arithmetic, str/repr, format, attributes, items and len.
// Ints are exact int64: a result outside that range raises OverflowError.
#include "runtime/ops.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/numfmt.h"

// Nesting deeper than this in C-recursive operations (repr, ==, hash)
// raises RecursionError even when sys.setrecursionlimit allows more, so the
// C stack never overflows.
#define C_RECURSION_CAP 20000

static int depth_limit(VM *vm) {
    int limit = vm ? vm->recursion_limit : C_RECURSION_CAP;
    return limit > C_RECURSION_CAP ? C_RECURSION_CAP : limit;
}

static bool overflow_error(VM *vm) {
    return vm_raise(vm, CLS_OVERFLOW_ERROR,
                    "integer overflow: result does not fit in 64 bits");
}

static bool is_number(Value v) {
    return v.tag == VAL_INT || v.tag == VAL_BOOL || v.tag == VAL_FLOAT;
}

static double as_double(Value v) {
    return IS_FLOAT(v) ? AS_FLOAT(v) : (double)AS_INTLIKE(v);
}

static bool is_type(Value v, ObjType type) { return IS_OBJ_TYPE(v, type); }

static bool is_set(Value v) { return IS_OBJ_TYPE(v, OBJ_SET); }

// dict.keys() and dict.items() are set-like; values() is not.
static bool is_setlike_view(Value v) {
    return IS_OBJ_TYPE(v, OBJ_DICTVIEW) && ((ObjDictView *)AS_OBJ(v))->kind != ITER_DICT_VALUES;
}

// ---- truth -----------------------------------------------------------------

bool value_truthy(Value v) {
    switch (v.tag) {
    case VAL_NONE:
    case VAL_EMPTY:
        return false;
    case VAL_BOOL:
    case VAL_INT:
        return v.as.i != 0;
    case VAL_FLOAT:
        return v.as.f != 0.0;
    default:
        break;
    }
    Obj *o = AS_OBJ(v);
    switch ((ObjType)o->type) {
    case OBJ_STRING: return ((ObjString *)o)->length != 0;
    case OBJ_TUPLE: return ((ObjTuple *)o)->length != 0;
    case OBJ_LIST: return ((ObjList *)o)->length != 0;
    case OBJ_DICT: return ((ObjDict *)o)->count != 0;
    case OBJ_SET: return ((ObjSet *)o)->used != 0;
    case OBJ_RANGE: return range_length((ObjRange *)o) != 0;
    case OBJ_DICTVIEW: return ((ObjDictView *)o)->dict->count != 0;
    default: return true;
    }
}

// ---- equality --------------------------------------------------------------

// Exact comparison of an int64 with a double: -1, 0, 1, or 2 when d is NaN.
static int cmp_int_float(int64_t i, double d) {
    if (isnan(d)) return 2;
    if (d >= 9223372036854775808.0) return -1;
    if (d < -9223372036854775808.0) return 1;
    double t = trunc(d);
    int64_t ti = (int64_t)t;
    if (i != ti) return i < ti ? -1 : 1;
    double frac = d - t;
    return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

// 1 equal, 0 not, -1 error (RecursionError raised; only when vm != NULL).
static int equal_rec(VM *vm, Value a, Value b, int depth);

static int item_equal(VM *vm, Value a, Value b, int depth) {
    if (value_same(a, b)) return 1; // identity first, as CPython (a NaN equals itself)
    return equal_rec(vm, a, b, depth);
}

static int seq_equal(VM *vm, const Value *a, uint32_t na, const Value *b,
                     uint32_t nb, int depth) {
    if (na != nb) return 0;
    for (uint32_t i = 0; i < na; i++) {
        int r = item_equal(vm, a[i], b[i], depth);
        if (r != 1) return r;
    }
    return 1;
}

// The entry of `d` with an equal key (hash from the other dict's entry).
// Tries position `hint` first: equal dicts are usually in the same order.
static int find_entry(VM *vm, ObjDict *d, Value key, uint64_t hash,
                      uint32_t hint, int depth, DictEntry **found) {
    *found = NULL;
    if (hint < d->used) {
        DictEntry *e = &d->entries[hint];
        if (!IS_EMPTY(e->key) && e->hash == hash) {
            int r = item_equal(vm, e->key, key, depth);
            if (r < 0) return -1;
            if (r) {
                *found = e;
                return 1;
            }
        }
    }
    for (uint32_t i = 0; i < d->used; i++) {
        DictEntry *e = &d->entries[i];
        if (IS_EMPTY(e->key) || e->hash != hash || i == hint) continue;
        int r = item_equal(vm, e->key, key, depth);
        if (r < 0) return -1;
        if (r) {
            *found = e;
            return 1;
        }
    }
    return 0;
}

static int equal_dicts(VM *vm, ObjDict *a, ObjDict *b, bool values, int depth) {
    if (a->count != b->count) return 0;
    uint32_t pos = 0;
    for (uint32_t i = 0; i < a->used; i++) {
        DictEntry *e = &a->entries[i];
        if (IS_EMPTY(e->key)) continue;
        DictEntry *other;
        int r = find_entry(vm, b, e->key, e->hash, pos++, depth, &other);
        if (r != 1) return r;
        if (values) {
            r = item_equal(vm, e->value, other->value, depth);
            if (r != 1) return r;
        }
    }
    return 1;
}

// d.keys() == {...}: the same size and every item of the set a key (the
// stored hashes are shared by dicts and sets).
static int keys_equal_set(VM *vm, Obj *view, Obj *set, int depth) {
    ObjDictView *v = (ObjDictView *)view;
    ObjSet *s = (ObjSet *)set;
    if (v->kind != ITER_DICT_KEYS || v->dict->count != s->used) return 0;
    for (uint32_t i = 0; i <= s->mask; i++) {
        SetEntry *e = &s->table[i];
        if (IS_EMPTY(e->key)) continue;
        DictEntry *found;
        int r = find_entry(vm, v->dict, e->key, e->hash, UINT32_MAX, depth, &found);
        if (r != 1) return r;
    }
    return 1;
}

static int equal_rec(VM *vm, Value a, Value b, int depth) {
    if (is_number(a) && is_number(b)) {
        if (!IS_FLOAT(a) && !IS_FLOAT(b)) return AS_INTLIKE(a) == AS_INTLIKE(b);
        if (IS_FLOAT(a) && IS_FLOAT(b)) return AS_FLOAT(a) == AS_FLOAT(b);
        if (IS_FLOAT(a)) return cmp_int_float(AS_INTLIKE(b), AS_FLOAT(a)) == 0;
        return cmp_int_float(AS_INTLIKE(a), AS_FLOAT(b)) == 0;
    }
    if (!IS_OBJ(a) || !IS_OBJ(b)) return a.tag == b.tag && value_same(a, b);
    Obj *x = AS_OBJ(a), *y = AS_OBJ(b);
    if (x == y) return 1;
    if (depth > depth_limit(vm)) {
        if (!vm) return 0;
        vm_raise(vm, CLS_RECURSION_ERROR,
                 "maximum recursion depth exceeded in comparison");
        return -1;
    }
    depth++;
    if (x->type == OBJ_DICTVIEW && y->type == OBJ_SET) return keys_equal_set(vm, x, y, depth);
    if (x->type == OBJ_SET && y->type == OBJ_DICTVIEW) return keys_equal_set(vm, y, x, depth);
    if (x->type != y->type) return 0;
    switch ((ObjType)x->type) {
    case OBJ_STRING:
        return str_equal((ObjString *)x, (ObjString *)y);
    case OBJ_TUPLE: {
        ObjTuple *s = (ObjTuple *)x, *t = (ObjTuple *)y;
        return seq_equal(vm, s->items, s->length, t->items, t->length, depth);
    }
    case OBJ_LIST: {
        ObjList *s = (ObjList *)x, *t = (ObjList *)y;
        return seq_equal(vm, s->items, s->length, t->items, t->length, depth);
    }
    case OBJ_DICT:
        return equal_dicts(vm, (ObjDict *)x, (ObjDict *)y, true, depth);
    case OBJ_SET:
        return set_equal((ObjSet *)x, (ObjSet *)y);
    case OBJ_RANGE:
        return range_equal((ObjRange *)x, (ObjRange *)y);
    case OBJ_SLICE: {
        ObjSlice *r = (ObjSlice *)x, *s = (ObjSlice *)y;
        int e = item_equal(vm, r->start, s->start, depth);
        if (e == 1) e = item_equal(vm, r->stop, s->stop, depth);
        if (e == 1) e = item_equal(vm, r->step, s->step, depth);
        return e;
    }
    case OBJ_BOUND: {
        // a.append == a.append: the same receiver (by identity) and method.
        ObjBound *m = (ObjBound *)x, *n = (ObjBound *)y;
        return value_same(m->receiver, n->receiver) && value_same(m->method, n->method);
    }
    case OBJ_DICTVIEW: {
        ObjDictView *v = (ObjDictView *)x, *w = (ObjDictView *)y;
        if (v->kind != w->kind || v->kind != ITER_DICT_KEYS) return 0;
        return equal_dicts(vm, v->dict, w->dict, false, depth);
    }
    default:
        return 0;
    }
}

bool value_equal(Value a, Value b) { return equal_rec(NULL, a, b, 0) == 1; }

// ---- hashing ----------------------------------------------------------------

#define HASH_BITS 61
#define HASH_MODULUS (((uint64_t)1 << HASH_BITS) - 1)
#define HASH_INF 314159
#define HASH_NONE 0xFCA86420u

static uint64_t hash_int(int64_t v) {
    uint64_t x = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    x %= HASH_MODULUS;
    int64_t h = v < 0 ? -(int64_t)x : (int64_t)x;
    if (h == -1) h = -2;
    return (uint64_t)h;
}

// CPython's _Py_HashDouble (NaN hashes to 0: there is no object identity).
static uint64_t hash_double(double v) {
    if (!isfinite(v)) {
        if (isinf(v)) return v > 0 ? HASH_INF : (uint64_t)-(int64_t)HASH_INF;
        return 0;
    }
    int e;
    double m = frexp(v, &e);
    int sign = 1;
    if (m < 0) {
        sign = -1;
        m = -m;
    }
    uint64_t x = 0;
    while (m) {
        x = ((x << 28) & HASH_MODULUS) | x >> (HASH_BITS - 28);
        m *= 268435456.0;
        e -= 28;
        uint64_t y = (uint64_t)m;
        m -= (double)y;
        x += y;
        if (x >= HASH_MODULUS) x -= HASH_MODULUS;
    }
    e = e >= 0 ? e % HASH_BITS : HASH_BITS - 1 - ((-1 - e) % HASH_BITS);
    x = ((x << e) & HASH_MODULUS) | x >> (HASH_BITS - e);
    x = x * (uint64_t)(int64_t)sign;
    if (x == (uint64_t)-1) x = (uint64_t)-2;
    return x;
}

static uint64_t hash_pointer(const void *p) {
    uint64_t y = (uint64_t)(uintptr_t)p;
    y = (y >> 4) | (y << 60);
    if (y == (uint64_t)-1) y = (uint64_t)-2;
    return y;
}

#define XXPRIME_1 11400714785074694791ULL
#define XXPRIME_2 14029467366897019727ULL
#define XXPRIME_5 2870177450012600261ULL

// CPython's tuplehash over already computed item hashes.
static uint64_t hash_lanes(const uint64_t *lanes, uint64_t count) {
    uint64_t acc = XXPRIME_5;
    for (uint64_t i = 0; i < count; i++) {
        acc += lanes[i] * XXPRIME_2;
        acc = (acc << 31) | (acc >> 33);
        acc *= XXPRIME_1;
    }
    acc += count ^ (XXPRIME_5 ^ 3527539UL);
    if (acc == (uint64_t)-1) return 1546275796;
    return acc;
}

static uint64_t shuffle_bits(uint64_t h) {
    return ((h ^ 89869747UL) ^ (h << 16)) * 3644798167UL;
}

static bool hash_rec(VM *vm, Value v, uint64_t *out, int depth);

static bool hash_tuple(VM *vm, ObjTuple *t, uint64_t *out, int depth) {
    uint64_t acc = XXPRIME_5;
    for (uint32_t i = 0; i < t->length; i++) {
        uint64_t lane;
        if (!hash_rec(vm, t->items[i], &lane, depth)) return false;
        acc += lane * XXPRIME_2;
        acc = (acc << 31) | (acc >> 33);
        acc *= XXPRIME_1;
    }
    acc += (uint64_t)t->length ^ (XXPRIME_5 ^ 3527539UL);
    if (acc == (uint64_t)-1) acc = 1546275796;
    *out = acc;
    return true;
}

// CPython's frozenset_hash: order-independent xor of shuffled item hashes.
static bool hash_frozenset(VM *vm, ObjSet *s, uint64_t *out, int depth) {
    uint64_t hash = 0;
    uint32_t pos = 0;
    Value key;
    while (set_next(s, &pos, &key)) {
        uint64_t h;
        if (!hash_rec(vm, key, &h, depth)) return false;
        hash ^= shuffle_bits(h);
    }
    hash ^= ((uint64_t)s->used + 1) * 1927868237UL;
    hash ^= (hash >> 11) ^ (hash >> 25);
    hash = hash * 69069U + 907133923UL;
    if (hash == (uint64_t)-1) hash = 590923713UL;
    *out = hash;
    return true;
}

static bool hash_rec(VM *vm, Value v, uint64_t *out, int depth) {
    switch (v.tag) {
    case VAL_NONE:
    case VAL_EMPTY:
        *out = HASH_NONE;
        return true;
    case VAL_BOOL:
    case VAL_INT:
        *out = hash_int(v.as.i);
        return true;
    case VAL_FLOAT:
        *out = hash_double(v.as.f);
        return true;
    default:
        break;
    }
    Obj *o = AS_OBJ(v);
    if (depth > depth_limit(vm))
        return vm_raise(vm, CLS_RECURSION_ERROR, "maximum recursion depth exceeded");
    switch ((ObjType)o->type) {
    case OBJ_STRING:
        *out = str_hash((ObjString *)o);
        return true;
    case OBJ_TUPLE:
        return hash_tuple(vm, (ObjTuple *)o, out, depth + 1);
    case OBJ_SET:
        if (((ObjSet *)o)->frozen) return hash_frozenset(vm, (ObjSet *)o, out, depth + 1);
        break;
    case OBJ_RANGE: {
        ObjRange *r = (ObjRange *)o;
        int64_t n = range_length(r);
        uint64_t lanes[3] = {hash_int(n), HASH_NONE, HASH_NONE};
        if (n > 0) lanes[1] = hash_int(r->start);
        if (n > 1) lanes[2] = hash_int(r->step);
        *out = hash_lanes(lanes, 3);
        return true;
    }
    case OBJ_BOUND: {
        ObjBound *b = (ObjBound *)o;
        uint64_t h;
        if (!hash_rec(vm, b->method, &h, depth + 1)) return false;
        uint64_t self = IS_OBJ(b->receiver) ? hash_pointer(AS_OBJ(b->receiver))
                                            : hash_int(b->receiver.as.i);
        *out = self ^ h;
        if (*out == (uint64_t)-1) *out = (uint64_t)-2;
        return true;
    }
    case OBJ_LIST:
    case OBJ_DICT:
    case OBJ_SLICE:
    case OBJ_DICTVIEW:
        break;
    default:
        *out = hash_pointer(o);
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "unhashable type: '%s'", value_type_name(vm, v));
}

bool value_hash(VM *vm, Value v, uint64_t *out) {
    if (IS_OBJ_TYPE(v, OBJ_INSTANCE)) {
        Value r;
        int k = instance_special(vm, v, "__hash__", NULL, 0, &r);
        if (k < 0) return false;
        if (k > 0) {
            if (!IS_INTLIKE(r)) return vm_raise(vm, CLS_TYPE_ERROR, "__hash__ method should return an integer");
            *out = (uint64_t)AS_INT(r);
            return true;
        }
        ObjClass *cls = value_class(vm, v);
        if (class_is_user(cls) && class_lookup(cls, str_intern(vm, "__eq__", 6)))
            return vm_raise(vm, CLS_TYPE_ERROR, "unhashable type: '%s'", cls->name->chars);
    }
    return hash_rec(vm, v, out, 0);
}

// a OP b through a user class's __lt__/__eq__/...: 1 done, 0 not defined.
static int user_compare(VM *vm, CompareOp op, Value a, Value b, Value *out) {
    static const char *const names[] = {"__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"};
    static const CompareOp reflected[] = {CMP_GT, CMP_GE, CMP_LT, CMP_LE, CMP_EQ, CMP_NE};
    int k = IS_OBJ_TYPE(a, OBJ_INSTANCE) ? instance_special(vm, a, names[op], &b, 1, out) : 0;
    if (k == 0 && IS_OBJ_TYPE(b, OBJ_INSTANCE))
        k = instance_special(vm, b, names[reflected[op]], &a, 1, out);
    if (k == 0 && op == CMP_NE && IS_OBJ_TYPE(a, OBJ_INSTANCE)) {
        k = instance_special(vm, a, "__eq__", &b, 1, out);
        if (k > 0) *out = BOOL_VAL(!value_truthy(*out));
    }
    return k;
}

// ---- comparison -------------------------------------------------------------

static const char *const cmp_symbols[] = {"<", "<=", ">", ">=", "==", "!="};

static bool cmp_result(CompareOp op, int c) {
    switch (op) {
    case CMP_LT: return c < 0;
    case CMP_LE: return c <= 0;
    case CMP_GT: return c > 0;
    case CMP_GE: return c >= 0;
    case CMP_EQ: return c == 0;
    case CMP_NE: return c != 0;
    }
    return false;
}

static int num_cmp(Value a, Value b) {
    if (!IS_FLOAT(a) && !IS_FLOAT(b)) {
        int64_t x = AS_INTLIKE(a), y = AS_INTLIKE(b);
        return x < y ? -1 : x > y;
    }
    if (IS_FLOAT(a) && IS_FLOAT(b)) {
        double x = AS_FLOAT(a), y = AS_FLOAT(b);
        if (isnan(x) || isnan(y)) return 2;
        return x < y ? -1 : x > y;
    }
    if (IS_FLOAT(a)) {
        int c = cmp_int_float(AS_INTLIKE(b), AS_FLOAT(a));
        return c == 2 ? 2 : -c;
    }
    return cmp_int_float(AS_INTLIKE(a), AS_FLOAT(b));
}

static bool compare_rec(VM *vm, CompareOp op, Value a, Value b, Value *out, int depth);

static bool seq_compare(VM *vm, CompareOp op, const Value *a, uint32_t na,
                        const Value *b, uint32_t nb, Value *out, int depth) {
    uint32_t n = na < nb ? na : nb;
    for (uint32_t i = 0; i < n; i++) {
        int r = item_equal(vm, a[i], b[i], depth);
        if (r < 0) return false;
        if (!r) {
            if (op == CMP_EQ || op == CMP_NE) {
                *out = BOOL_VAL(op == CMP_NE);
                return true;
            }
            return compare_rec(vm, op, a[i], b[i], out, depth);
        }
    }
    *out = BOOL_VAL(cmp_result(op, na < nb ? -1 : na > nb));
    return true;
}

static bool set_compare(VM *vm, CompareOp op, ObjSet *a, ObjSet *b, Value *out) {
    bool r;
    uint32_t na = a->used, nb = b->used;
    switch (op) {
    case CMP_LT:
    case CMP_LE:
        if (op == CMP_LT && na >= nb) {
            *out = FALSE_VAL;
            return true;
        }
        r = set_is_subset(a, b);
        break;
    case CMP_GT:
    case CMP_GE:
        if (op == CMP_GT && na <= nb) {
            *out = FALSE_VAL;
            return true;
        }
        r = set_is_subset(b, a);
        break;
    default:
        r = false;
        break;
    }
    *out = BOOL_VAL(r);
    return true;
}

static bool compare_rec(VM *vm, CompareOp op, Value a, Value b, Value *out, int depth) {
    if (is_number(a) && is_number(b)) {
        int c = num_cmp(a, b);
        *out = BOOL_VAL(c == 2 ? op == CMP_NE : cmp_result(op, c));
        return true;
    }
    if (op == CMP_EQ || op == CMP_NE) {
        int r = equal_rec(vm, a, b, depth);
        if (r < 0) return false;
        *out = BOOL_VAL((r == 1) == (op == CMP_EQ));
        return true;
    }
    if (IS_OBJ(a) && IS_OBJ(b)) {
        Obj *x = AS_OBJ(a), *y = AS_OBJ(b);
        if (depth > depth_limit(vm))
            return vm_raise(vm, CLS_RECURSION_ERROR,
                            "maximum recursion depth exceeded in comparison");
        if (x->type == OBJ_STRING && y->type == OBJ_STRING) {
            *out = BOOL_VAL(cmp_result(op, str_compare((ObjString *)x, (ObjString *)y)));
            return true;
        }
        if (x->type == OBJ_TUPLE && y->type == OBJ_TUPLE) {
            ObjTuple *s = (ObjTuple *)x, *t = (ObjTuple *)y;
            return seq_compare(vm, op, s->items, s->length, t->items, t->length, out,
                               depth + 1);
        }
        if (x->type == OBJ_LIST && y->type == OBJ_LIST) {
            ObjList *s = (ObjList *)x, *t = (ObjList *)y;
            return seq_compare(vm, op, s->items, s->length, t->items, t->length, out,
                               depth + 1);
        }
        if (x->type == OBJ_SET && y->type == OBJ_SET)
            return set_compare(vm, op, (ObjSet *)x, (ObjSet *)y, out);
    }
    return vm_raise(vm, CLS_TYPE_ERROR,
                    "'%s' not supported between instances of '%s' and '%s'",
                    cmp_symbols[op], value_type_name(vm, a), value_type_name(vm, b));
}

// A set-like dict view compared with a set or another such view: compare
// set(a) with set(b), as CPython's dictview_richcompare.
static bool view_compare(VM *vm, CompareOp op, Value a, Value b, Value *out) {
    Value side[2] = {a, b};
    size_t pushed = 0;
    bool ok = true;
    for (int i = 0; i < 2 && ok; i++) {
        if (is_set(side[i])) continue;
        ObjSet *s = set_new(vm, false);
        vm_push_root(vm, OBJ_VAL(s));
        pushed++;
        ok = set_update(vm, s, side[i]);
        side[i] = OBJ_VAL(s);
    }
    if (ok) ok = compare_rec(vm, op, side[0], side[1], out, 0);
    vm_pop_roots(vm, pushed);
    return ok;
}

bool value_compare(VM *vm, CompareOp op, Value a, Value b, Value *out) {
    if ((is_setlike_view(a) && (is_set(b) || is_setlike_view(b))) ||
        (is_setlike_view(b) && is_set(a)))
        return view_compare(vm, op, a, b, out);
    if (IS_OBJ_TYPE(a, OBJ_INSTANCE) || IS_OBJ_TYPE(b, OBJ_INSTANCE)) {
        int k = user_compare(vm, op, a, b, out);
        if (k != 0) return k > 0;
    }
    return compare_rec(vm, op, a, b, out, 0);
}

// ---- arithmetic -------------------------------------------------------------

static const char *const bin_symbols[] = {
    "+", "-", "*", "@", "/", "//", "%", "** or pow()", "<<", ">>", "&", "|", "^",
};
static const char *const inplace_symbols[] = {
    "+=", "-=", "*=", "@=", "/=", "//=", "%=", "**=", "<<=", ">>=", "&=", "|=", "^=",
};

static bool unsupported(VM *vm, BinaryOp op, Value a, Value b, bool inplace) {
    if ((unsigned)op > BIN_XOR) op = BIN_ADD;
    return vm_raise(vm, CLS_TYPE_ERROR, "unsupported operand type(s) for %s: '%s' and '%s'",
                    inplace ? inplace_symbols[op] : bin_symbols[op],
                    value_type_name(vm, a), value_type_name(vm, b));
}

// OverflowError(34, 'Numerical result out of range'), as float ** raises it.
static bool range_error(VM *vm) {
    Value items[2] = {INT_VAL(34), OBJ_VAL(str_from_cstr(vm, "Numerical result out of range"))};
    ObjTuple *args = tuple_from(vm, items, 2);
    return vm_raise_value(vm, OBJ_VAL(exception_new(vm, vm->classes[CLS_OVERFLOW_ERROR], args)));
}

static bool is_odd_integer(double x) { return fmod(x, 2.0) == 1.0 || fmod(x, 2.0) == -1.0; }

// CPython's float_pow, special cases included.
static bool float_pow(VM *vm, double iv, double iw, Value *out) {
    if (iw == 0) {
        *out = FLOAT_VAL(1.0);
        return true;
    }
    if (isnan(iv)) {
        *out = FLOAT_VAL(iv);
        return true;
    }
    if (isnan(iw)) {
        *out = FLOAT_VAL(iv == 1.0 ? 1.0 : iw);
        return true;
    }
    if (isinf(iw)) {
        iv = fabs(iv);
        if (iv == 1.0) *out = FLOAT_VAL(1.0);
        else if ((iw > 0.0) == (iv > 1.0)) *out = FLOAT_VAL(fabs(iw));
        else *out = FLOAT_VAL(0.0);
        return true;
    }
    if (isinf(iv)) {
        bool odd = is_odd_integer(iw);
        if (iw > 0.0) *out = FLOAT_VAL(odd ? iv : fabs(iv));
        else *out = FLOAT_VAL(odd ? copysign(0.0, iv) : 0.0);
        return true;
    }
    if (iv == 0.0) {
        if (iw < 0.0)
            return vm_raise(vm, CLS_ZERO_DIVISION_ERROR,
                            "0.0 cannot be raised to a negative power");
        *out = FLOAT_VAL(is_odd_integer(iw) ? iv : 0.0);
        return true;
    }
    bool negate = false;
    if (iv < 0.0) {
        // Python returns a complex number here; we have none.
        if (iw != floor(iw))
            return vm_raise(vm, CLS_VALUE_ERROR,
                            "negative number cannot be raised to a fractional power");
        iv = -iv;
        negate = is_odd_integer(iw);
    }
    if (iv == 1.0) {
        *out = FLOAT_VAL(negate ? -1.0 : 1.0);
        return true;
    }
    double ix = pow(iv, iw);
    if (isinf(ix)) return range_error(vm);
    *out = FLOAT_VAL(negate ? -ix : ix);
    return true;
}

static bool int_pow(VM *vm, int64_t base, int64_t exp, Value *out) {
    if (exp < 0) {
        if (base == 0)
            return vm_raise(vm, CLS_ZERO_DIVISION_ERROR,
                            "0.0 cannot be raised to a negative power");
        return float_pow(vm, (double)base, (double)exp, out);
    }
    int64_t result = 1;
    // Squaring overflows only when the result would too: the remaining
    // exponent is non-zero, so the squared base still gets multiplied in.
    while (exp > 0) {
        if ((exp & 1) && __builtin_mul_overflow(result, base, &result))
            return overflow_error(vm);
        exp >>= 1;
        if (exp > 0 && __builtin_mul_overflow(base, base, &base)) return overflow_error(vm);
    }
    *out = INT_VAL(result);
    return true;
}

// x / y for ints, correctly rounded when both fit in a double's mantissa.
static double int_true_divide(int64_t x, int64_t y) {
    const int64_t exact = (int64_t)1 << 53;
    if (x <= exact && x >= -exact && y <= exact && y >= -exact)
        return (double)x / (double)y;
    return (double)((long double)x / (long double)y);
}

static bool int_binary(VM *vm, BinaryOp op, Value a, Value b, Value *out) {
    int64_t x = AS_INTLIKE(a), y = AS_INTLIKE(b), r;
    switch (op) {
    case BIN_ADD:
        if (__builtin_add_overflow(x, y, &r)) return overflow_error(vm);
        break;
    case BIN_SUB:
        if (__builtin_sub_overflow(x, y, &r)) return overflow_error(vm);
        break;
    case BIN_MUL:
        if (__builtin_mul_overflow(x, y, &r)) return overflow_error(vm);
        break;
    case BIN_DIV:
        if (y == 0) return vm_raise(vm, CLS_ZERO_DIVISION_ERROR, "division by zero");
        *out = FLOAT_VAL(int_true_divide(x, y));
        return true;
    case BIN_FLOORDIV:
        if (y == 0)
            return vm_raise(vm, CLS_ZERO_DIVISION_ERROR, "integer division or modulo by zero");
        if (x == INT64_MIN && y == -1) return overflow_error(vm);
        r = x / y;
        if (x % y != 0 && ((x < 0) != (y < 0))) r--;
        break;
    case BIN_MOD:
        if (y == 0) return vm_raise(vm, CLS_ZERO_DIVISION_ERROR, "integer modulo by zero");
        if (y == -1) {
            r = 0;
            break;
        }
        r = x % y;
        if (r != 0 && ((r < 0) != (y < 0))) r += y;
        break;
    case BIN_POW:
        return int_pow(vm, x, y, out);
    case BIN_LSHIFT:
        if (y < 0) return vm_raise(vm, CLS_VALUE_ERROR, "negative shift count");
        if (x == 0) {
            r = 0;
            break;
        }
        if (y >= 64) return overflow_error(vm);
        r = (int64_t)((uint64_t)x << y);
        if ((r >> y) != x) return overflow_error(vm);
        break;
    case BIN_RSHIFT:
        if (y < 0) return vm_raise(vm, CLS_VALUE_ERROR, "negative shift count");
        r = y >= 64 ? (x < 0 ? -1 : 0) : x >> y;
        break;
    case BIN_AND:
    case BIN_OR:
    case BIN_XOR:
        r = op == BIN_AND ? (x & y) : op == BIN_OR ? (x | y) : (x ^ y);
        if (IS_BOOL(a) && IS_BOOL(b)) {
            *out = BOOL_VAL(r);
            return true;
        }
        break;
    default:
        return unsupported(vm, op, a, b, false);
    }
    *out = INT_VAL(r);
    return true;
}

// CPython's float floor division and modulo (signs follow the divisor).
static void float_divmod(double vx, double wx, double *floordiv, double *mod) {
    double m = fmod(vx, wx);
    double div = (vx - m) / wx;
    if (m) {
        if ((wx < 0) != (m < 0)) {
            m += wx;
            div -= 1.0;
        }
    } else {
        m = copysign(0.0, wx);
    }
    double fd;
    if (div) {
        fd = floor(div);
        if (div - fd > 0.5) fd += 1.0;
    } else {
        fd = copysign(0.0, vx / wx);
    }
    *floordiv = fd;
    *mod = m;
}

static bool float_binary(VM *vm, BinaryOp op, Value a, Value b, bool inplace, Value *out) {
    double x = as_double(a), y = as_double(b), fd, m;
    switch (op) {
    case BIN_ADD: *out = FLOAT_VAL(x + y); return true;
    case BIN_SUB: *out = FLOAT_VAL(x - y); return true;
    case BIN_MUL: *out = FLOAT_VAL(x * y); return true;
    case BIN_DIV:
        if (y == 0.0) return vm_raise(vm, CLS_ZERO_DIVISION_ERROR, "float division by zero");
        *out = FLOAT_VAL(x / y);
        return true;
    case BIN_FLOORDIV:
        if (y == 0.0)
            return vm_raise(vm, CLS_ZERO_DIVISION_ERROR, "float floor division by zero");
        float_divmod(x, y, &fd, &m);
        *out = FLOAT_VAL(fd);
        return true;
    case BIN_MOD:
        if (y == 0.0) return vm_raise(vm, CLS_ZERO_DIVISION_ERROR, "float modulo");
        float_divmod(x, y, &fd, &m);
        *out = FLOAT_VAL(m);
        return true;
    case BIN_POW:
        return float_pow(vm, x, y, out);
    default:
        return unsupported(vm, op, a, b, inplace);
    }
}

static bool concat_error(VM *vm, const char *type, Value b) {
    return vm_raise(vm, CLS_TYPE_ERROR, "can only concatenate %s (not \"%s\") to %s", type,
                    value_type_name(vm, b), type);
}

static bool repeat(VM *vm, Value seq, Value count, bool inplace, Value *out) {
    if (!IS_INTLIKE(count))
        return vm_raise(vm, CLS_TYPE_ERROR, "can't multiply sequence by non-int of type '%s'",
                        value_type_name(vm, count));
    int64_t n = AS_INTLIKE(count);
    if (n < 0) n = 0;
    Obj *o = AS_OBJ(seq);
    Obj *r = NULL;
    switch ((ObjType)o->type) {
    case OBJ_STRING: r = (Obj *)str_repeat(vm, (ObjString *)o, n); break;
    case OBJ_TUPLE: r = (Obj *)tuple_repeat(vm, (ObjTuple *)o, n); break;
    case OBJ_LIST: {
        ObjList *l = (ObjList *)o;
        ObjList *rep = list_repeat(vm, l, n);
        if (!rep) return false;
        if (inplace) {
            // Swap the arrays: the list keeps its identity, the temporary
            // list takes the old items to the collector.
            Value *items = l->items;
            uint32_t length = l->length, capacity = l->capacity;
            l->items = rep->items;
            l->length = rep->length;
            l->capacity = rep->capacity;
            rep->items = items;
            rep->length = length;
            rep->capacity = capacity;
            *out = seq;
            return true;
        }
        r = (Obj *)rep;
        break;
    }
    default:
        break;
    }
    if (!r) return false;
    *out = OBJ_VAL(r);
    return true;
}

static bool is_sequence(Value v) {
    return is_type(v, OBJ_STRING) || is_type(v, OBJ_LIST) || is_type(v, OBJ_TUPLE);
}

static char set_op_char(BinaryOp op);

// view OP iterable, iterable OP view: a new set, set(a) OP set(b), as
// CPython's dictviews_or/and/sub/xor (any iterable on either side).
static bool view_binary(VM *vm, BinaryOp op, Value a, Value b, Value *out) {
    ObjSet *x = set_new(vm, false);
    vm_push_root(vm, OBJ_VAL(x));
    ObjSet *y = set_new(vm, false);
    vm_push_root(vm, OBJ_VAL(y));
    bool ok = set_update(vm, x, a) && set_update(vm, y, b) &&
              set_binary(vm, set_op_char(op), x, y, true, out);
    vm_pop_roots(vm, 2);
    return ok;
}

static char set_op_char(BinaryOp op) {
    return op == BIN_SUB ? '-' : op == BIN_AND ? '&' : op == BIN_XOR ? '^' : '|';
}

bool value_binary(VM *vm, BinaryOp op, Value a, Value b, bool inplace, Value *out) {
    if (IS_OBJ_TYPE(a, OBJ_INSTANCE) || IS_OBJ_TYPE(b, OBJ_INSTANCE)) {
        static const char *const names[] = {"add", "sub", "mul", "matmul", "truediv", "floordiv", "mod",
                                            "pow", "lshift", "rshift", "and", "or", "xor"};
        char name[16];
        int k = 0;
        if (inplace && IS_OBJ_TYPE(a, OBJ_INSTANCE)) {
            snprintf(name, sizeof name, "__i%s__", names[op]);
            k = instance_special(vm, a, name, &b, 1, out);
        }
        if (k == 0 && IS_OBJ_TYPE(a, OBJ_INSTANCE)) {
            snprintf(name, sizeof name, "__%s__", names[op]);
            k = instance_special(vm, a, name, &b, 1, out);
        }
        if (k == 0 && IS_OBJ_TYPE(b, OBJ_INSTANCE)) {
            snprintf(name, sizeof name, "__r%s__", names[op]);
            k = instance_special(vm, b, name, &a, 1, out);
        }
        if (k != 0) return k > 0;
    }
    if (is_number(a) && is_number(b)) {
        if (IS_FLOAT(a) || IS_FLOAT(b)) return float_binary(vm, op, a, b, inplace, out);
        if (op == BIN_MATMUL) return unsupported(vm, op, a, b, inplace);
        return int_binary(vm, op, a, b, out);
    }
    switch (op) {
    case BIN_ADD:
        if (is_type(a, OBJ_STRING)) {
            if (!is_type(b, OBJ_STRING)) return concat_error(vm, "str", b);
            ObjString *joined = str_concat(vm, (ObjString *)AS_OBJ(a), (ObjString *)AS_OBJ(b));
            if (!joined) return false;
            *out = OBJ_VAL(joined);
            return true;
        }
        if (is_type(a, OBJ_LIST)) {
            if (inplace) {
                if (!list_extend(vm, (ObjList *)AS_OBJ(a), b)) return false;
                *out = a;
                return true;
            }
            if (!is_type(b, OBJ_LIST)) return concat_error(vm, "list", b);
            *out = OBJ_VAL(list_concat(vm, (ObjList *)AS_OBJ(a), (ObjList *)AS_OBJ(b)));
            return true;
        }
        if (is_type(a, OBJ_TUPLE)) {
            if (!is_type(b, OBJ_TUPLE)) return concat_error(vm, "tuple", b);
            *out = OBJ_VAL(tuple_concat(vm, (ObjTuple *)AS_OBJ(a), (ObjTuple *)AS_OBJ(b)));
            return true;
        }
        break;
    case BIN_MUL:
        if (is_sequence(a)) return repeat(vm, a, b, inplace, out);
        if (is_sequence(b)) return repeat(vm, b, a, false, out);
        break;
    case BIN_MOD:
        if (is_type(a, OBJ_STRING)) return str_percent(vm, (ObjString *)AS_OBJ(a), b, out);
        break;
    case BIN_SUB:
    case BIN_AND:
    case BIN_XOR:
        if (is_set(a) && is_set(b))
            return set_binary(vm, set_op_char(op), (ObjSet *)AS_OBJ(a), (ObjSet *)AS_OBJ(b),
                              inplace, out);
        if (is_setlike_view(a) || is_setlike_view(b)) return view_binary(vm, op, a, b, out);
        break;
    case BIN_OR:
        if (is_set(a) && is_set(b))
            return set_binary(vm, set_op_char(op), (ObjSet *)AS_OBJ(a), (ObjSet *)AS_OBJ(b),
                              inplace, out);
        if (is_setlike_view(a) || is_setlike_view(b)) return view_binary(vm, op, a, b, out);
        if (is_type(a, OBJ_DICT) && inplace) {
            if (!dict_update(vm, (ObjDict *)AS_OBJ(a), b)) return false;
            *out = a;
            return true;
        }
        if (is_type(a, OBJ_DICT) && is_type(b, OBJ_DICT)) {
            ObjDict *d = dict_copy(vm, (ObjDict *)AS_OBJ(a));
            if (!dict_update(vm, d, b)) return false;
            *out = OBJ_VAL(d);
            return true;
        }
        break;
    default:
        break;
    }
    return unsupported(vm, op, a, b, inplace);
}

static bool bad_unary(VM *vm, const char *op, Value v) {
    return vm_raise(vm, CLS_TYPE_ERROR, "bad operand type for unary %s: '%s'", op,
                    value_type_name(vm, v));
}

bool value_negate(VM *vm, Value v, Value *out) {
    if (IS_INTLIKE(v)) {
        if (AS_INTLIKE(v) == INT64_MIN) return overflow_error(vm);
        *out = INT_VAL(-AS_INTLIKE(v));
        return true;
    }
    if (IS_FLOAT(v)) {
        *out = FLOAT_VAL(-AS_FLOAT(v));
        return true;
    }
    return bad_unary(vm, "-", v);
}

bool value_positive(VM *vm, Value v, Value *out) {
    if (IS_INTLIKE(v)) {
        *out = INT_VAL(AS_INTLIKE(v));
        return true;
    }
    if (IS_FLOAT(v)) {
        *out = v;
        return true;
    }
    return bad_unary(vm, "+", v);
}

bool value_invert(VM *vm, Value v, Value *out) {
    if (IS_INTLIKE(v)) {
        *out = INT_VAL(~AS_INTLIKE(v));
        return true;
    }
    return bad_unary(vm, "~", v);
}

// ---- str and repr -------------------------------------------------------------

// Containers being printed, innermost first: a container met again inside
// itself prints as [...] / {...}.
typedef struct ReprFrame {
    const Obj *obj;
    const struct ReprFrame *up;
} ReprFrame;

typedef struct {
    VM *vm;
    const ReprFrame *top;
    int depth;
} ReprCtx;

static bool repr_rec(ReprCtx *ctx, Value v, StrBuf *buf, bool as_str);

static bool in_progress(const ReprCtx *ctx, const Obj *o) {
    for (const ReprFrame *f = ctx->top; f; f = f->up)
        if (f->obj == o) return true;
    return false;
}

static void append_addr(StrBuf *buf, const void *p) {
    strbuf_printf(buf, "0x%" PRIxPTR, (uintptr_t)p);
}

static void append_str(StrBuf *buf, const ObjString *s) {
    if (s) strbuf_append(buf, s->chars, s->length);
}

// "name" for builtins, "module.name" otherwise (CancelledError's module is
// "asyncio.exceptions").
static void append_class_name(StrBuf *buf, const ObjClass *cls) {
    if (cls->module && strcmp(cls->module, "builtins") != 0) {
        strbuf_append_cstr(buf, cls->module);
        strbuf_append_char(buf, '.');
    }
    append_str(buf, cls->name);
}

static const ObjString *function_qualname(const ObjFunction *f) {
    if (f->code && f->code->qualname) return f->code->qualname;
    if (f->name) return f->name;
    return f->code ? f->code->name : NULL;
}

static bool repr_items(ReprCtx *ctx, const Value *items, uint32_t count, StrBuf *buf) {
    for (uint32_t i = 0; i < count; i++) {
        if (i) strbuf_append(buf, ", ", 2);
        if (!repr_rec(ctx, items[i], buf, false)) return false;
    }
    return true;
}

static bool repr_dict_items(ReprCtx *ctx, ObjDict *d, uint8_t kind, StrBuf *buf) {
    uint32_t pos = 0;
    Value key, value;
    bool first = true;
    while (dict_next(d, &pos, &key, &value)) {
        if (!first) strbuf_append(buf, ", ", 2);
        first = false;
        switch (kind) {
        case ITER_DICT_KEYS:
            if (!repr_rec(ctx, key, buf, false)) return false;
            break;
        case ITER_DICT_VALUES:
            if (!repr_rec(ctx, value, buf, false)) return false;
            break;
        case ITER_DICT_ITEMS:
            strbuf_append_char(buf, '(');
            if (!repr_rec(ctx, key, buf, false)) return false;
            strbuf_append(buf, ", ", 2);
            if (!repr_rec(ctx, value, buf, false)) return false;
            strbuf_append_char(buf, ')');
            break;
        default: // a dict: key: value
            if (!repr_rec(ctx, key, buf, false)) return false;
            strbuf_append(buf, ": ", 2);
            if (!repr_rec(ctx, value, buf, false)) return false;
            break;
        }
    }
    return true;
}

static const char *iter_name(const ObjIter *it) {
    switch ((IterKind)it->kind) {
    case ITER_RANGE: return "range_iterator";
    case ITER_LIST: return "list_iterator";
    case ITER_TUPLE: return "tuple_iterator";
    case ITER_STR: {
        const ObjString *s =
            IS_OBJ_TYPE(it->source, OBJ_STRING) ? (ObjString *)AS_OBJ(it->source) : NULL;
        return s && s->length != s->cp_length ? "str_iterator" : "str_ascii_iterator";
    }
    case ITER_DICT_KEYS: return "dict_keyiterator";
    case ITER_DICT_VALUES: return "dict_valueiterator";
    case ITER_DICT_ITEMS: return "dict_itemiterator";
    case ITER_ENUMERATE: return "enumerate";
    case ITER_ZIP: return "zip";
    case ITER_MAP: return "map";
    case ITER_FILTER: return "filter";
    case ITER_REVERSED:
        return IS_OBJ_TYPE(it->source, OBJ_LIST) ? "list_reverseiterator" : "reversed";
    case ITER_CALLABLE: return "callable_iterator";
    case ITER_SET: return "set_iterator";
    }
    return "iterator";
}

// OSError(errno, strerror[, filename]): its args as CPython reads them.
static bool os_error_args(VM *vm, const ObjException *e) {
    uint32_t n = e->args ? e->args->length : 0;
    return n >= 2 && n <= 5 && class_is_subclass(e->cls, vm->classes[CLS_OS_ERROR]);
}

static bool exception_str(ReprCtx *ctx, ObjException *e, StrBuf *buf) {
    uint32_t n = e->args ? e->args->length : 0;
    if (n == 0) return true;
    if (os_error_args(ctx->vm, e)) {
        // "[Errno 32] Broken pipe", then ": 'name'" with a filename
        strbuf_append_cstr(buf, "[Errno ");
        if (!repr_rec(ctx, e->args->items[0], buf, true)) return false;
        strbuf_append_cstr(buf, "] ");
        if (!repr_rec(ctx, e->args->items[1], buf, true)) return false;
        if (n >= 3 && !IS_NONE(e->args->items[2])) {
            strbuf_append_cstr(buf, ": ");
            if (!repr_rec(ctx, e->args->items[2], buf, false)) return false;
        }
        return true;
    }
    if (n == 1) {
        bool key_error = class_is_subclass(e->cls, ctx->vm->classes[CLS_KEY_ERROR]);
        return repr_rec(ctx, e->args->items[0], buf, !key_error);
    }
    return repr_rec(ctx, OBJ_VAL(e->args), buf, false);
}

static bool exception_repr(ReprCtx *ctx, ObjException *e, StrBuf *buf) {
    append_str(buf, e->cls->name);
    uint32_t n = e->args ? e->args->length : 0;
    if (n == 0) {
        strbuf_append(buf, "()", 2);
        return true;
    }
    if (n == 1) {
        strbuf_append_char(buf, '(');
        if (!repr_rec(ctx, e->args->items[0], buf, false)) return false;
        strbuf_append_char(buf, ')');
        return true;
    }
    return repr_rec(ctx, OBJ_VAL(e->args), buf, false);
}

static bool repr_instance(ReprCtx *ctx, ObjInstance *inst, StrBuf *buf) {
    VM *vm = ctx->vm;
    if (inst->cls == vm->classes[CLS_ELLIPSIS]) {
        strbuf_append_cstr(buf, "Ellipsis");
        return true;
    }
    strbuf_append_char(buf, '<');
    append_class_name(buf, inst->cls);
    if (inst->cls == vm->classes[CLS_TEXTIO] && inst->dict) {
        static const char *const fields[] = {"name", "mode", "encoding"};
        for (int i = 0; i < 3; i++) {
            Value *v = dict_find_str(inst->dict, str_intern(vm, fields[i], strlen(fields[i])));
            if (!v) continue;
            strbuf_printf(buf, " %s=", fields[i]);
            if (!repr_rec(ctx, *v, buf, false)) return false;
        }
    } else {
        strbuf_append_cstr(buf, " object at ");
        append_addr(buf, inst);
    }
    strbuf_append_char(buf, '>');
    return true;
}

static bool repr_partial(ReprCtx *ctx, ObjPartial *p, StrBuf *buf) {
    strbuf_append_cstr(buf, "functools.partial(");
    if (!repr_rec(ctx, p->func, buf, false)) return false;
    if (p->args) {
        for (uint32_t i = 0; i < p->args->length; i++) {
            strbuf_append(buf, ", ", 2);
            if (!repr_rec(ctx, p->args->items[i], buf, false)) return false;
        }
    }
    if (p->kwargs) {
        uint32_t pos = 0;
        Value key, value;
        while (dict_next(p->kwargs, &pos, &key, &value)) {
            strbuf_append(buf, ", ", 2);
            if (!repr_rec(ctx, key, buf, true)) return false;
            strbuf_append_char(buf, '=');
            if (!repr_rec(ctx, value, buf, false)) return false;
        }
    }
    strbuf_append_char(buf, ')');
    return true;
}

static bool repr_native(VM *vm, ObjNative *n, Value receiver, StrBuf *buf) {
    if (IS_EMPTY(receiver) || IS_OBJ_TYPE(receiver, OBJ_MODULE)) {
        strbuf_printf(buf, "<built-in function %s>", n->name);
        return true;
    }
    strbuf_printf(buf, "<built-in method %s of ", n->name);
    append_class_name(buf, value_class(vm, receiver));
    strbuf_append_cstr(buf, " object at ");
    append_addr(buf, IS_OBJ(receiver) ? (void *)AS_OBJ(receiver) : (void *)n);
    strbuf_append_char(buf, '>');
    return true;
}

static bool repr_obj(ReprCtx *ctx, Value v, StrBuf *buf, bool as_str) {
    VM *vm = ctx->vm;
    Obj *o = AS_OBJ(v);
    ReprFrame frame = {o, ctx->top};
    bool ok = true;
    switch ((ObjType)o->type) {
    case OBJ_STRING:
        if (as_str) append_str(buf, (ObjString *)o);
        else str_repr((ObjString *)o, buf);
        return true;
    case OBJ_TUPLE: {
        ObjTuple *t = (ObjTuple *)o;
        if (in_progress(ctx, o)) {
            strbuf_append_cstr(buf, "(...)");
            return true;
        }
        ctx->top = &frame;
        strbuf_append_char(buf, '(');
        ok = repr_items(ctx, t->items, t->length, buf);
        if (t->length == 1) strbuf_append_char(buf, ',');
        strbuf_append_char(buf, ')');
        break;
    }
    case OBJ_LIST: {
        ObjList *l = (ObjList *)o;
        if (in_progress(ctx, o)) {
            strbuf_append_cstr(buf, "[...]");
            return true;
        }
        ctx->top = &frame;
        strbuf_append_char(buf, '[');
        ok = repr_items(ctx, l->items, l->length, buf);
        strbuf_append_char(buf, ']');
        break;
    }
    case OBJ_DICT:
        if (in_progress(ctx, o)) {
            strbuf_append_cstr(buf, "{...}");
            return true;
        }
        ctx->top = &frame;
        strbuf_append_char(buf, '{');
        ok = repr_dict_items(ctx, (ObjDict *)o, 0xff, buf);
        strbuf_append_char(buf, '}');
        break;
    case OBJ_SET: {
        ObjSet *s = (ObjSet *)o;
        const char *name = s->frozen ? "frozenset" : "set";
        if (s->used == 0) {
            strbuf_printf(buf, "%s()", name);
            return true;
        }
        if (in_progress(ctx, o)) {
            strbuf_printf(buf, "%s(...)", name);
            return true;
        }
        ctx->top = &frame;
        if (s->frozen) strbuf_append_cstr(buf, "frozenset(");
        strbuf_append_char(buf, '{');
        uint32_t pos = 0;
        Value key;
        bool first = true;
        while (ok && set_next(s, &pos, &key)) {
            if (!first) strbuf_append(buf, ", ", 2);
            first = false;
            ok = repr_rec(ctx, key, buf, false);
        }
        strbuf_append_char(buf, '}');
        if (s->frozen) strbuf_append_char(buf, ')');
        break;
    }
    case OBJ_DICTVIEW: {
        ObjDictView *dv = (ObjDictView *)o;
        if (in_progress(ctx, o)) {
            strbuf_append_cstr(buf, "...");
            return true;
        }
        ctx->top = &frame;
        strbuf_append_cstr(buf, dv->kind == ITER_DICT_KEYS     ? "dict_keys(["
                                : dv->kind == ITER_DICT_VALUES ? "dict_values(["
                                                               : "dict_items([");
        ok = repr_dict_items(ctx, dv->dict, dv->kind, buf);
        strbuf_append_cstr(buf, "])");
        break;
    }
    case OBJ_RANGE: {
        ObjRange *r = (ObjRange *)o;
        strbuf_printf(buf, "range(%" PRId64 ", %" PRId64, r->start, r->stop);
        if (r->step != 1) strbuf_printf(buf, ", %" PRId64, r->step);
        strbuf_append_char(buf, ')');
        return true;
    }
    case OBJ_SLICE: {
        ObjSlice *s = (ObjSlice *)o;
        strbuf_append_cstr(buf, "slice(");
        ok = repr_rec(ctx, s->start, buf, false);
        strbuf_append(buf, ", ", 2);
        ok = ok && repr_rec(ctx, s->stop, buf, false);
        strbuf_append(buf, ", ", 2);
        ok = ok && repr_rec(ctx, s->step, buf, false);
        strbuf_append_char(buf, ')');
        return ok;
    }
    case OBJ_ITER:
        strbuf_printf(buf, "<%s object at ", iter_name((ObjIter *)o));
        append_addr(buf, o);
        strbuf_append_char(buf, '>');
        return true;
    case OBJ_CODE: {
        ObjCode *c = (ObjCode *)o;
        strbuf_append_cstr(buf, "<code object ");
        append_str(buf, c->name);
        strbuf_append_cstr(buf, " at ");
        append_addr(buf, o);
        strbuf_append_cstr(buf, ", file \"");
        append_str(buf, c->filename);
        strbuf_printf(buf, "\", line %d>", c->first_line);
        return true;
    }
    case OBJ_FUNCTION:
        strbuf_append_cstr(buf, "<function ");
        append_str(buf, function_qualname((ObjFunction *)o));
        strbuf_append_cstr(buf, " at ");
        append_addr(buf, o);
        strbuf_append_char(buf, '>');
        return true;
    case OBJ_CELL: {
        ObjCell *c = (ObjCell *)o;
        strbuf_append_cstr(buf, "<cell at ");
        append_addr(buf, o);
        if (IS_EMPTY(c->value)) {
            strbuf_append_cstr(buf, ": empty>");
        } else {
            strbuf_printf(buf, ": %s object at ", value_type_name(vm, c->value));
            append_addr(buf, IS_OBJ(c->value) ? (void *)AS_OBJ(c->value) : (void *)c);
            strbuf_append_char(buf, '>');
        }
        return true;
    }
    case OBJ_NATIVE:
        return repr_native(vm, (ObjNative *)o, ((ObjNative *)o)->self, buf);
    case OBJ_BOUND: {
        ObjBound *b = (ObjBound *)o;
        if (IS_OBJ_TYPE(b->method, OBJ_NATIVE))
            return repr_native(vm, (ObjNative *)AS_OBJ(b->method), b->receiver, buf);
        if (in_progress(ctx, o)) {
            strbuf_append_cstr(buf, "...");
            return true;
        }
        ctx->top = &frame;
        strbuf_append_cstr(buf, "<bound method ");
        if (IS_OBJ_TYPE(b->method, OBJ_FUNCTION))
            append_str(buf, function_qualname((ObjFunction *)AS_OBJ(b->method)));
        else
            strbuf_append_char(buf, '?');
        strbuf_append_cstr(buf, " of ");
        ok = repr_rec(ctx, b->receiver, buf, false);
        strbuf_append_char(buf, '>');
        break;
    }
    case OBJ_CLASS:
        strbuf_append_cstr(buf, "<class '");
        append_class_name(buf, (ObjClass *)o);
        strbuf_append_cstr(buf, "'>");
        return true;
    case OBJ_EXCEPTION:
        if (in_progress(ctx, o)) {
            strbuf_append_cstr(buf, "...");
            return true;
        }
        ctx->top = &frame;
        ok = as_str ? exception_str(ctx, (ObjException *)o, buf)
                    : exception_repr(ctx, (ObjException *)o, buf);
        break;
    case OBJ_MODULE:
        strbuf_append_cstr(buf, "<module '");
        append_str(buf, ((ObjModule *)o)->name);
        strbuf_append_cstr(buf, "' (built-in)>");
        return true;
    case OBJ_COROUTINE: {
        ObjCoroutine *c = (ObjCoroutine *)o;
        strbuf_append_cstr(buf, "<coroutine object ");
        if (c->func) append_str(buf, function_qualname(c->func));
        strbuf_append_cstr(buf, " at ");
        append_addr(buf, o);
        strbuf_append_char(buf, '>');
        return true;
    }
    case OBJ_FUTURE:
    case OBJ_TASK:
    case OBJ_HANDLE:
    case OBJ_LOOP:
    case OBJ_SLEEP:
        return async_repr(vm, v, buf);
    case OBJ_PARTIAL:
        if (in_progress(ctx, o)) {
            strbuf_append_cstr(buf, "...");
            return true;
        }
        ctx->top = &frame;
        ok = repr_partial(ctx, (ObjPartial *)o, buf);
        break;
    case OBJ_INSTANCE:
        return repr_instance(ctx, (ObjInstance *)o, buf);
    case OBJ_SUPER:
        strbuf_printf(buf, "<super: <class '%s'>, <%s object>>", ((ObjSuper *)o)->start->name->chars,
                      value_type_name(vm, ((ObjSuper *)o)->self));
        break;
    case OBJ__COUNT:
        break;
    }
    ctx->top = frame.up;
    return ok;
}

static bool repr_rec(ReprCtx *ctx, Value v, StrBuf *buf, bool as_str) {
    switch (v.tag) {
    case VAL_NONE:
    case VAL_EMPTY:
        strbuf_append_cstr(buf, "None");
        return true;
    case VAL_BOOL:
        strbuf_append_cstr(buf, AS_BOOL(v) ? "True" : "False");
        return true;
    case VAL_INT: {
        char digits[NUMFMT_INT_CHARS];
        char *start = numfmt_int_decimal(AS_INT(v), digits);
        strbuf_append(buf, start, (size_t)(digits + NUMFMT_INT_CHARS - start));
        return true;
    }
    case VAL_FLOAT:
        numfmt_float_repr(AS_FLOAT(v), buf);
        return true;
    default:
        break;
    }
    if (ctx->depth >= depth_limit(ctx->vm))
        return vm_raise(ctx->vm, CLS_RECURSION_ERROR,
                        "maximum recursion depth exceeded while getting the repr of an object");
    if (OBJ_TYPE(v) == OBJ_INSTANCE || OBJ_TYPE(v) == OBJ_EXCEPTION) {
        // a user class's __str__ / __repr__
        Value r;
        int k = as_str ? instance_special(ctx->vm, v, "__str__", NULL, 0, &r) : 0;
        if (k == 0) k = instance_special(ctx->vm, v, "__repr__", NULL, 0, &r);
        if (k < 0) return false;
        if (k > 0) {
            if (!IS_OBJ_TYPE(r, OBJ_STRING))
                return vm_raise(ctx->vm, CLS_TYPE_ERROR, "%s returned non-string (type %s)",
                                as_str ? "__str__" : "__repr__", value_type_name(ctx->vm, r));
            append_str(buf, (ObjString *)AS_OBJ(r));
            return true;
        }
    }
    ctx->depth++;
    bool ok = repr_obj(ctx, v, buf, as_str);
    ctx->depth--;
    return ok;
}

bool value_str(VM *vm, Value v, StrBuf *buf) {
    ReprCtx ctx = {vm, NULL, 0};
    return repr_rec(&ctx, v, buf, true);
}

bool value_repr(VM *vm, Value v, StrBuf *buf) {
    ReprCtx ctx = {vm, NULL, 0};
    return repr_rec(&ctx, v, buf, false);
}

static ObjString *buf_to_string(VM *vm, StrBuf *buf, bool ok) {
    if (!ok) {
        strbuf_free(buf);
        return NULL;
    }
    if (buf->length == 0) {
        strbuf_free(buf);
        return vm->s_empty;
    }
    if (buf->length >= UINT32_MAX) { // longer than a string can be
        strbuf_free(buf);
        vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
        return NULL;
    }
    ObjString *s = str_new(vm, buf->chars, buf->length);
    strbuf_free(buf);
    return s;
}

ObjString *int_to_str(VM *vm, int64_t value) {
    char digits[NUMFMT_INT_CHARS];
    char *start = numfmt_int_decimal(value, digits);
    return str_new(vm, start, (size_t)(digits + NUMFMT_INT_CHARS - start));
}

ObjString *value_to_str(VM *vm, Value v) {
    if (IS_OBJ_TYPE(v, OBJ_STRING)) return (ObjString *)AS_OBJ(v);
    if (IS_INT(v)) return int_to_str(vm, AS_INT(v));
    StrBuf buf;
    strbuf_init(&buf);
    return buf_to_string(vm, &buf, value_str(vm, v, &buf));
}

ObjString *value_to_repr(VM *vm, Value v) {
    if (IS_INT(v)) return int_to_str(vm, AS_INT(v));
    StrBuf buf;
    strbuf_init(&buf);
    return buf_to_string(vm, &buf, value_repr(vm, v, &buf));
}

// ascii(v): repr(v) with every non-ASCII code point escaped as \xhh, \uhhhh
// or \Uhhhhhhhh.
ObjString *value_to_ascii(VM *vm, Value v) {
    ObjString *r = value_to_repr(vm, v);
    if (!r || r->length == r->cp_length) return r;
    StrBuf buf;
    strbuf_init(&buf);
    for (size_t i = 0; i < r->length;) {
        int width;
        uint32_t c = utf8_decode(r->chars + i, &width);
        if (c < 0x80) strbuf_append_char(&buf, (char)c);
        else if (c <= 0xFF) strbuf_printf(&buf, "\\x%02x", c);
        else if (c <= 0xFFFF) strbuf_printf(&buf, "\\u%04x", c);
        else strbuf_printf(&buf, "\\U%08x", c);
        i += (size_t)width;
    }
    return buf_to_string(vm, &buf, true);
}

// ---- format -------------------------------------------------------------------

static bool parse_spec(VM *vm, ObjString *spec, FormatSpec *fs, char *err, size_t errlen) {
    size_t n = spec->length;
    if (n >= sizeof vm->spec_cache[0].text) return numfmt_parse_spec(spec->chars, n, fs, err, errlen);
    uint32_t h = str_hash(spec); // kept on the (constant) spec string
    unsigned slot = (h ^ h >> 16) % 8u;
    SpecCacheEntry *c = &vm->spec_cache[slot];
    if (c->length == n && memcmp(c->text, spec->chars, n) == 0) {
        *fs = c->spec;
        return true;
    }
    if (!numfmt_parse_spec(spec->chars, n, fs, err, errlen)) return false;
    if (!fs->invalid) { // (invalid points into the spec text)
        memcpy(c->text, spec->chars, n);
        c->length = (uint8_t)n;
        c->spec = *fs;
    }
    return true;
}

bool value_format(VM *vm, Value v, ObjString *spec, StrBuf *buf) {
    if (!spec || spec->length == 0) return value_str(vm, v, buf);
    if (!IS_INTLIKE(v) && !IS_FLOAT(v) && !IS_OBJ_TYPE(v, OBJ_STRING))
        return vm_raise(vm, CLS_TYPE_ERROR, "unsupported format string passed to %s.__format__",
                        value_type_name(vm, v));
    FormatSpec fs;
    char err[160];
    if (!parse_spec(vm, spec, &fs, err, sizeof err)) return vm_raise(vm, CLS_VALUE_ERROR, "%s", err);
    bool ok;
    if (IS_INTLIKE(v)) {
        if (fs.type && strchr("eEfFgG%", fs.type))
            ok = numfmt_format_float((double)AS_INTLIKE(v), &fs, buf, err, sizeof err);
        else
            ok = numfmt_format_int(AS_INTLIKE(v), &fs, buf, err, sizeof err);
    } else if (IS_FLOAT(v)) {
        ok = numfmt_format_float(AS_FLOAT(v), &fs, buf, err, sizeof err);
    } else {
        ObjString *s = (ObjString *)AS_OBJ(v);
        ok = numfmt_format_str(s->chars, s->length, &fs, buf, err, sizeof err);
    }
    if (!ok) {
        // format(-1, 'c') is CPython's one OverflowError here (numfmt.h)
        ClassId cls = strncmp(err, "%c arg", 6) == 0 ? CLS_OVERFLOW_ERROR
                      : err[0] == '\0'                ? CLS_MEMORY_ERROR
                                                      : CLS_VALUE_ERROR;
        return vm_raise(vm, cls, "%s", err);
    }
    return true;
}

// ---- attributes -----------------------------------------------------------------

static bool name_is(const ObjString *name, const char *s) { return strcmp(name->chars, s) == 0; }

static Value str_val(VM *vm, const char *s) { return OBJ_VAL(str_from_cstr(vm, s)); }

static Value maybe(const void *obj) { return obj ? OBJ_VAL((Obj *)obj) : NONE_VAL; }

static Value bind(VM *vm, Value receiver, Value method) {
    if (!IS_OBJ_TYPE(method, OBJ_NATIVE) && !IS_OBJ_TYPE(method, OBJ_FUNCTION)) return method;
    ObjBound *b = ALLOC_OBJ(vm, ObjBound, OBJ_BOUND);
    b->receiver = receiver;
    b->method = method;
    return OBJ_VAL(b);
}

static ObjTuple *empty_tuple(VM *vm) { return tuple_new(vm, 0); }

// Attributes stored in the object itself (not in its class): 1 found,
// 0 absent. Never raises.
static int own_attr(VM *vm, Value obj, ObjString *name, Value *out) {
    if (IS_INTLIKE(obj)) {
        if (name_is(name, "real") || name_is(name, "numerator")) *out = INT_VAL(AS_INTLIKE(obj));
        else if (name_is(name, "imag")) *out = INT_VAL(0);
        else if (name_is(name, "denominator")) *out = INT_VAL(1);
        else return 0;
        return 1;
    }
    if (IS_FLOAT(obj)) {
        if (name_is(name, "real")) *out = obj;
        else if (name_is(name, "imag")) *out = FLOAT_VAL(0.0);
        else return 0;
        return 1;
    }
    if (!IS_OBJ(obj)) return 0;
    Obj *o = AS_OBJ(obj);
    switch ((ObjType)o->type) {
    case OBJ_MODULE: {
        ObjModule *m = (ObjModule *)o;
        Value *v = m->dict ? dict_find_str(m->dict, name) : NULL;
        if (v) *out = *v;
        else if (name_is(name, "__name__")) *out = maybe(m->name);
        else if (name_is(name, "__dict__") && m->dict) *out = OBJ_VAL(m->dict);
        else return 0;
        return 1;
    }
    case OBJ_INSTANCE: {
        ObjInstance *inst = (ObjInstance *)o;
        Value *v = inst->dict ? dict_find_str(inst->dict, name) : NULL;
        if (!v) return 0;
        *out = *v;
        return 1;
    }
    case OBJ_CLASS: {
        ObjClass *c = (ObjClass *)o;
        if (name_is(name, "__name__") || name_is(name, "__qualname__")) {
            *out = OBJ_VAL(c->name);
        } else if (name_is(name, "__module__")) {
            *out = str_val(vm, c->module ? c->module : "builtins");
        } else if (name_is(name, "__base__")) {
            *out = maybe(c->base);
        } else if (name_is(name, "__bases__")) {
            Value base = maybe(c->base);
            *out = OBJ_VAL(c->base ? tuple_from(vm, &base, 1) : empty_tuple(vm));
        } else if (name_is(name, "__doc__")) {
            *out = NONE_VAL;
        } else {
            Value *v = class_lookup(c, name);
            if (!v) return 0;
            *out = *v;
        }
        return 1;
    }
    case OBJ_FUNCTION: {
        ObjFunction *f = (ObjFunction *)o;
        if (name_is(name, "__name__")) {
            *out = maybe(f->name ? f->name : f->code->name);
        } else if (name_is(name, "__qualname__")) {
            *out = maybe(function_qualname(f));
        } else if (name_is(name, "__doc__")) {
            *out = NONE_VAL;
        } else if (name_is(name, "__module__")) {
            Value *v = f->globals ? dict_find_str(f->globals, vm->s_name) : NULL;
            *out = v ? *v : NONE_VAL;
        } else if (name_is(name, "__defaults__")) {
            *out = maybe(f->defaults);
        } else if (name_is(name, "__kwdefaults__")) {
            *out = maybe(f->kwdefaults);
        } else if (name_is(name, "__code__")) {
            *out = OBJ_VAL(f->code);
        } else if (name_is(name, "__globals__")) {
            *out = maybe(f->globals);
        } else {
            return 0;
        }
        return 1;
    }
    case OBJ_NATIVE: {
        ObjNative *n = (ObjNative *)o;
        if (name_is(name, "__name__") || name_is(name, "__qualname__"))
            *out = str_val(vm, n->name);
        else if (name_is(name, "__self__"))
            *out = IS_EMPTY(n->self) ? NONE_VAL : n->self;
        else if (name_is(name, "__doc__"))
            *out = NONE_VAL;
        else
            return 0;
        return 1;
    }
    case OBJ_BOUND: {
        ObjBound *b = (ObjBound *)o;
        if (name_is(name, "__self__")) {
            *out = b->receiver;
            return 1;
        }
        if (name_is(name, "__func__")) {
            *out = b->method;
            return 1;
        }
        if (name_is(name, "__name__") || name_is(name, "__qualname__") ||
            name_is(name, "__doc__") || name_is(name, "__module__"))
            return own_attr(vm, b->method, name, out);
        return 0;
    }
    case OBJ_EXCEPTION: {
        ObjException *e = (ObjException *)o;
        if (name_is(name, "args"))
            *out = OBJ_VAL(e->args ? e->args : empty_tuple(vm));
        else if (name_is(name, "__cause__"))
            *out = e->cause;
        else if (name_is(name, "__context__"))
            *out = e->context;
        else if (name_is(name, "__suppress_context__"))
            *out = BOOL_VAL(e->suppress_context);
        else if (name_is(name, "__traceback__"))
            *out = NONE_VAL;
        else if (name_is(name, "value") &&
                 class_is_subclass(e->cls, vm->classes[CLS_STOP_ITERATION]))
            *out = e->value;
        else if (name_is(name, "code") &&
                 class_is_subclass(e->cls, vm->classes[CLS_SYSTEM_EXIT]))
            *out = e->value;
        else if ((name_is(name, "errno") || name_is(name, "strerror") || name_is(name, "filename")) &&
                 class_is_subclass(e->cls, vm->classes[CLS_OS_ERROR])) {
            int at = name_is(name, "errno") ? 0 : name_is(name, "strerror") ? 1 : 2;
            *out = os_error_args(vm, e) && (uint32_t)at < e->args->length ? e->args->items[at] : NONE_VAL;
        } else if (e->dict && dict_find_str(e->dict, name))
            *out = *dict_find_str(e->dict, name);
        else
            return 0;
        return 1;
    }
    case OBJ_COROUTINE: {
        ObjCoroutine *c = (ObjCoroutine *)o;
        if (name_is(name, "__name__") && c->func)
            *out = maybe(c->func->name ? c->func->name : c->func->code->name);
        else if (name_is(name, "__qualname__") && c->func)
            *out = maybe(function_qualname(c->func));
        else if (name_is(name, "cr_code") && c->func)
            *out = OBJ_VAL(c->func->code);
        else if (name_is(name, "cr_running"))
            *out = BOOL_VAL(c->state == CORO_RUNNING);
        else
            return 0;
        return 1;
    }
    case OBJ_CODE: {
        ObjCode *c = (ObjCode *)o;
        if (name_is(name, "co_name")) *out = maybe(c->name);
        else if (name_is(name, "co_qualname")) *out = maybe(c->qualname ? c->qualname : c->name);
        else if (name_is(name, "co_filename")) *out = maybe(c->filename);
        else if (name_is(name, "co_firstlineno")) *out = INT_VAL(c->first_line);
        else if (name_is(name, "co_argcount")) *out = INT_VAL(c->param_count);
        else return 0;
        return 1;
    }
    case OBJ_PARTIAL: {
        ObjPartial *p = (ObjPartial *)o;
        if (name_is(name, "func")) *out = p->func;
        else if (name_is(name, "args")) *out = OBJ_VAL(p->args ? p->args : empty_tuple(vm));
        else if (name_is(name, "keywords")) *out = OBJ_VAL(p->kwargs ? p->kwargs : dict_new(vm));
        else return 0;
        return 1;
    }
    case OBJ_RANGE: {
        ObjRange *r = (ObjRange *)o;
        if (name_is(name, "start")) *out = INT_VAL(r->start);
        else if (name_is(name, "stop")) *out = INT_VAL(r->stop);
        else if (name_is(name, "step")) *out = INT_VAL(r->step);
        else return 0;
        return 1;
    }
    case OBJ_SLICE: {
        ObjSlice *s = (ObjSlice *)o;
        if (name_is(name, "start")) *out = s->start;
        else if (name_is(name, "stop")) *out = s->stop;
        else if (name_is(name, "step")) *out = s->step;
        else return 0;
        return 1;
    }
    default:
        return 0;
    }
}

// AttributeError; its `value` slot keeps (obj, name) for the "Did you
// mean" suggestion exception_print offers, as CPython's name/obj attributes.
static bool attr_error(VM *vm, Value obj, ObjString *name) {
    if (IS_OBJ_TYPE(obj, OBJ_MODULE)) {
        ObjModule *m = (ObjModule *)AS_OBJ(obj);
        vm_raise(vm, CLS_ATTRIBUTE_ERROR, "module '%s' has no attribute '%s'",
                 m->name ? m->name->chars : "?", name->chars);
    } else if (IS_OBJ_TYPE(obj, OBJ_CLASS)) {
        vm_raise(vm, CLS_ATTRIBUTE_ERROR, "type object '%s' has no attribute '%s'",
                 ((ObjClass *)AS_OBJ(obj))->name->chars, name->chars);
    } else {
        vm_raise(vm, CLS_ATTRIBUTE_ERROR, "'%s' object has no attribute '%s'",
                 value_type_name(vm, obj), name->chars);
    }
    Value pair[2] = {obj, OBJ_VAL(name)};
    ((ObjException *)AS_OBJ(vm->exception))->value = OBJ_VAL(tuple_from(vm, pair, 2));
    return false;
}

// Attribute names own_attr answers, by object type (dir() lists them).
static const char *const *special_names(Value obj) {
    static const char *const ints[] = {"denominator", "imag", "numerator", "real", NULL};
    static const char *const floats[] = {"imag", "real", NULL};
    static const char *const classes[] = {"__base__", "__bases__", "__doc__", "__module__",
                                          "__name__", "__qualname__", NULL};
    static const char *const functions[] = {"__code__", "__defaults__", "__doc__",
                                            "__globals__", "__kwdefaults__", "__module__",
                                            "__name__", "__qualname__", NULL};
    static const char *const natives[] = {"__doc__", "__name__", "__qualname__", "__self__",
                                          NULL};
    static const char *const bounds[] = {"__doc__", "__func__", "__module__", "__name__",
                                         "__qualname__", "__self__", NULL};
    static const char *const exceptions[] = {"__cause__", "__context__", "__suppress_context__",
                                             "__traceback__", "args", NULL};
    static const char *const coroutines[] = {"__name__", "__qualname__", "cr_code", "cr_running",
                                             NULL};
    static const char *const codes[] = {"co_argcount", "co_filename", "co_firstlineno",
                                        "co_name", "co_qualname", NULL};
    static const char *const partials[] = {"args", "func", "keywords", NULL};
    static const char *const ranges[] = {"start", "step", "stop", NULL};
    static const char *const modules[] = {"__name__", NULL};
    static const char *const none[] = {NULL};
    if (IS_INTLIKE(obj)) return ints;
    if (IS_FLOAT(obj)) return floats;
    if (!IS_OBJ(obj)) return none;
    switch ((ObjType)OBJ_TYPE(obj)) {
    case OBJ_CLASS: return classes;
    case OBJ_FUNCTION: return functions;
    case OBJ_NATIVE: return natives;
    case OBJ_BOUND: return bounds;
    case OBJ_EXCEPTION: return exceptions;
    case OBJ_COROUTINE: return coroutines;
    case OBJ_CODE: return codes;
    case OBJ_PARTIAL: return partials;
    case OBJ_RANGE:
    case OBJ_SLICE: return ranges;
    case OBJ_MODULE: return modules;
    default: return none;
    }
}

static void dir_add(VM *vm, ObjDict *seen, ObjString *name) {
    if (!dict_find_str(seen, name)) dict_set_str(vm, seen, name, NONE_VAL);
}

static void dir_add_dict(VM *vm, ObjDict *seen, ObjDict *d) {
    uint32_t pos = 0;
    Value key, value;
    while (d && dict_next(d, &pos, &key, &value))
        if (IS_OBJ_TYPE(key, OBJ_STRING)) dir_add(vm, seen, (ObjString *)AS_OBJ(key));
}

static int compare_names(const void *a, const void *b) {
    const ObjString *x = (ObjString *)AS_OBJ(*(const Value *)a);
    const ObjString *y = (ObjString *)AS_OBJ(*(const Value *)b);
    return strcmp(x->chars, y->chars);
}

ObjList *value_dir(VM *vm, Value obj) {
    ObjDict *seen = dict_new(vm);
    for (const char *const *n = special_names(obj); *n; n++)
        dir_add(vm, seen, str_intern(vm, *n, strlen(*n)));
    if (IS_OBJ_TYPE(obj, OBJ_MODULE)) {
        dir_add_dict(vm, seen, ((ObjModule *)AS_OBJ(obj))->dict);
    } else {
        if (IS_OBJ_TYPE(obj, OBJ_INSTANCE))
            dir_add_dict(vm, seen, ((ObjInstance *)AS_OBJ(obj))->dict);
        ObjClass *cls =
            IS_OBJ_TYPE(obj, OBJ_CLASS) ? (ObjClass *)AS_OBJ(obj) : value_class(vm, obj);
        for (; cls; cls = cls->base) dir_add_dict(vm, seen, cls->dict);
        dir_add(vm, seen, str_intern(vm, "__class__", 9));
    }
    ObjList *names = list_new(vm, seen->count);
    uint32_t pos = 0;
    Value key, value;
    while (dict_next(seen, &pos, &key, &value)) list_append(vm, names, key);
    if (names->length > 1) qsort(names->items, names->length, sizeof(Value), compare_names);
    return names;
}

bool value_getattr(VM *vm, Value obj, ObjString *name, Value *out) {
    if (IS_OBJ_TYPE(obj, OBJ_SUPER)) return super_getattr(vm, (ObjSuper *)AS_OBJ(obj), name, out);
    if (own_attr(vm, obj, name, out)) return true;
    if (name_is(name, "__class__")) {
        *out = OBJ_VAL(value_class(vm, obj));
        return true;
    }
    Value *v = class_lookup(value_class(vm, obj), name);
    if (v) {
        *out = bind(vm, obj, *v);
        return true;
    }
    return attr_error(vm, obj, name);
}

int value_get_method(VM *vm, Value obj, ObjString *name, Value *method) {
    if (IS_OBJ_TYPE(obj, OBJ_SUPER)) return super_getattr(vm, (ObjSuper *)AS_OBJ(obj), name, method) ? 0 : -1;
    bool own_first = IS_OBJ_TYPE(obj, OBJ_MODULE) || IS_OBJ_TYPE(obj, OBJ_CLASS) ||
                     IS_OBJ_TYPE(obj, OBJ_INSTANCE);
    if (!own_first || !own_attr(vm, obj, name, method)) {
        Value *v = class_lookup(value_class(vm, obj), name);
        if (v && (IS_OBJ_TYPE(*v, OBJ_NATIVE) || IS_OBJ_TYPE(*v, OBJ_FUNCTION))) {
            *method = *v;
            return 1;
        }
    } else {
        return 0;
    }
    return value_getattr(vm, obj, name, method) ? 0 : -1;
}

static bool set_exception_attr(VM *vm, ObjException *e, ObjString *name, Value value,
                               bool *handled) {
    *handled = true;
    bool is_exc = IS_NONE(value) || IS_OBJ_TYPE(value, OBJ_EXCEPTION);
    if (name_is(name, "__cause__")) {
        if (!is_exc)
            return vm_raise(vm, CLS_TYPE_ERROR,
                            "exception cause must be None or derive from BaseException");
        e->cause = value;
        e->suppress_context = true;
    } else if (name_is(name, "__context__")) {
        if (!is_exc)
            return vm_raise(vm, CLS_TYPE_ERROR,
                            "exception context must be None or derive from BaseException");
        e->context = value;
    } else if (name_is(name, "__suppress_context__")) {
        e->suppress_context = value_truthy(value);
    } else if (name_is(name, "__traceback__")) {
        if (!IS_NONE(value))
            return vm_raise(vm, CLS_TYPE_ERROR, "__traceback__ must be a traceback or None");
    } else if (name_is(name, "args")) {
        ObjList *items = value_to_list(vm, value);
        if (!items) return false;
        e->args = tuple_from(vm, items->items, items->length);
    } else if ((name_is(name, "value") &&
                class_is_subclass(e->cls, vm->classes[CLS_STOP_ITERATION])) ||
               (name_is(name, "code") &&
                class_is_subclass(e->cls, vm->classes[CLS_SYSTEM_EXIT]))) {
        e->value = value;
    } else {
        *handled = false;
    }
    return true;
}

// Remove name from an attribute dict: false when it was not there.
static bool delete_from(VM *vm, ObjDict *dict, ObjString *name, bool *ok) {
    bool found = false;
    *ok = !dict || dict_delete(vm, dict, OBJ_VAL(name), &found);
    return found;
}

bool value_delattr(VM *vm, Value obj, ObjString *name) {
    bool ok = true;
    const char *type = value_type_name(vm, obj);
    if (IS_OBJ(obj)) {
        Obj *o = AS_OBJ(obj);
        switch ((ObjType)o->type) {
        case OBJ_MODULE:
            if (delete_from(vm, ((ObjModule *)o)->dict, name, &ok) || !ok) return ok;
            return vm_raise(vm, CLS_ATTRIBUTE_ERROR, "'module' object has no attribute '%s'", name->chars);
        case OBJ_INSTANCE:
            if (delete_from(vm, ((ObjInstance *)o)->dict, name, &ok) || !ok) return ok;
            return vm_raise(vm, CLS_ATTRIBUTE_ERROR, "'%s' object has no attribute '%s'", type, name->chars);
        case OBJ_EXCEPTION:
            if (delete_from(vm, ((ObjException *)o)->dict, name, &ok) || !ok) return ok;
            return vm_raise(vm, CLS_ATTRIBUTE_ERROR, "'%s' object has no attribute '%s'", type, name->chars);
        case OBJ_CLASS: {
            ObjClass *cls = (ObjClass *)o;
            if (!class_is_user(cls))
                return vm_raise(vm, CLS_TYPE_ERROR, "cannot set '%s' attribute of immutable type '%s'",
                                name->chars, cls->name->chars);
            if (name_is(name, "__name__") || name_is(name, "__qualname__"))
                return vm_raise(vm, CLS_TYPE_ERROR, "cannot delete '%s' attribute of immutable type '%s'",
                                name->chars, cls->name->chars);
            if (delete_from(vm, cls->dict, name, &ok) || !ok) return ok;
            return vm_raise(vm, CLS_ATTRIBUTE_ERROR, "type object '%s' has no attribute '%s'",
                            cls->name->chars, name->chars);
        }
        default:
            break;
        }
    }
    if (class_lookup(value_class(vm, obj), name))
        return vm_raise(vm, CLS_ATTRIBUTE_ERROR, "'%s' object attribute '%s' is read-only", type, name->chars);
    return vm_raise(vm, CLS_ATTRIBUTE_ERROR, "'%s' object has no attribute '%s'", type, name->chars);
}

bool value_setattr(VM *vm, Value obj, ObjString *name, Value value) {
    if (IS_OBJ(obj)) {
        Obj *o = AS_OBJ(obj);
        switch ((ObjType)o->type) {
        case OBJ_MODULE: {
            ObjModule *m = (ObjModule *)o;
            if (!m->dict) m->dict = dict_new(vm);
            dict_set_str(vm, m->dict, name, value);
            return true;
        }
        case OBJ_INSTANCE: {
            ObjInstance *inst = (ObjInstance *)o;
            if (!inst->dict) inst->dict = dict_new(vm);
            dict_set_str(vm, inst->dict, name, value);
            return true;
        }
        case OBJ_CLASS:
            if (class_is_user((ObjClass *)o)) {
                dict_set_str(vm, ((ObjClass *)o)->dict, name, value);
                return true;
            }
            return vm_raise(vm, CLS_TYPE_ERROR, "cannot set '%s' attribute of immutable type '%s'",
                            name->chars, ((ObjClass *)o)->name->chars);
        case OBJ_EXCEPTION: {
            bool handled;
            ObjException *e = (ObjException *)o;
            if (!set_exception_attr(vm, e, name, value, &handled)) return false;
            if (handled) return true;
            if (!e->dict) e->dict = dict_new(vm);
            dict_set_str(vm, e->dict, name, value);
            return true;
        }
        case OBJ_FUNCTION:
            if (name_is(name, "__name__")) {
                if (!IS_OBJ_TYPE(value, OBJ_STRING))
                    return vm_raise(vm, CLS_TYPE_ERROR,
                                    "__name__ must be set to a string object");
                ((ObjFunction *)o)->name = (ObjString *)AS_OBJ(value);
                return true;
            }
            break;
        default:
            break;
        }
    }
    Value found;
    if (!IS_OBJ_TYPE(obj, OBJ_EXCEPTION) && own_attr(vm, obj, name, &found)) {
        if (IS_OBJ_TYPE(obj, OBJ_RANGE))
            return vm_raise(vm, CLS_ATTRIBUTE_ERROR, "readonly attribute");
        return vm_raise(vm, CLS_ATTRIBUTE_ERROR, "attribute '%s' of '%s' objects is not writable",
                        name->chars, value_type_name(vm, obj));
    }
    if (class_lookup(value_class(vm, obj), name))
        return vm_raise(vm, CLS_ATTRIBUTE_ERROR, "'%s' object attribute '%s' is read-only",
                        value_type_name(vm, obj), name->chars);
    return vm_raise(vm, CLS_ATTRIBUTE_ERROR, "'%s' object has no attribute '%s'",
                    value_type_name(vm, obj), name->chars);
}

// ---- slices -----------------------------------------------------------------------

ObjSlice *slice_new(VM *vm, Value start, Value stop, Value step) {
    ObjSlice *s = ALLOC_OBJ(vm, ObjSlice, OBJ_SLICE);
    s->start = start;
    s->stop = stop;
    s->step = step;
    return s;
}

static bool slice_index(VM *vm, Value v, int64_t *out) {
    if (IS_INTLIKE(v)) {
        *out = AS_INTLIKE(v);
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR,
                    "slice indices must be integers or None or have an __index__ method");
}

bool slice_unpack(VM *vm, const ObjSlice *slice, int64_t *start, int64_t *stop,
                  int64_t *step) {
    if (IS_NONE(slice->step)) {
        *step = 1;
    } else {
        if (!slice_index(vm, slice->step, step)) return false;
        if (*step == 0) return vm_raise(vm, CLS_VALUE_ERROR, "slice step cannot be zero");
        if (*step < -INT64_MAX) *step = -INT64_MAX;
    }
    if (IS_NONE(slice->start)) *start = *step < 0 ? INT64_MAX : 0;
    else if (!slice_index(vm, slice->start, start)) return false;
    if (IS_NONE(slice->stop)) *stop = *step < 0 ? INT64_MIN : INT64_MAX;
    else if (!slice_index(vm, slice->stop, stop)) return false;
    return true;
}

int64_t slice_adjust(int64_t length, int64_t *start, int64_t *stop, int64_t step) {
    if (*start < 0) {
        *start += length;
        if (*start < 0) *start = step < 0 ? -1 : 0;
    } else if (*start >= length) {
        *start = step < 0 ? length - 1 : length;
    }
    if (*stop < 0) {
        *stop += length;
        if (*stop < 0) *stop = step < 0 ? -1 : 0;
    } else if (*stop >= length) {
        *stop = step < 0 ? length - 1 : length;
    }
    if (step < 0) {
        if (*stop < *start) return (*start - *stop - 1) / (-step) + 1;
    } else if (*start < *stop) {
        return (*stop - *start - 1) / step + 1;
    }
    return 0;
}

// ---- items -------------------------------------------------------------------------

static bool key_error(VM *vm, Value key) {
    ObjTuple *args = tuple_from(vm, &key, 1);
    return vm_raise_value(vm, OBJ_VAL(exception_new(vm, vm->classes[CLS_KEY_ERROR], args)));
}

bool value_getitem(VM *vm, Value obj, Value key, Value *out) {
    if (IS_OBJ_TYPE(obj, OBJ_INSTANCE)) {
        int k = instance_special(vm, obj, "__getitem__", &key, 1, out);
        if (k != 0) return k > 0;
    }
    if (IS_OBJ(obj)) {
        Obj *o = AS_OBJ(obj);
        switch ((ObjType)o->type) {
        case OBJ_STRING: return str_getitem(vm, (ObjString *)o, key, out);
        case OBJ_LIST: return list_getitem(vm, (ObjList *)o, key, out);
        case OBJ_TUPLE: return tuple_getitem(vm, (ObjTuple *)o, key, out);
        case OBJ_RANGE: return range_getitem(vm, (ObjRange *)o, key, out);
        case OBJ_DICT: {
            bool found;
            if (!dict_get(vm, (ObjDict *)o, key, out, &found)) return false;
            return found || key_error(vm, key);
        }
        case OBJ_CLASS:
            return vm_raise(vm, CLS_TYPE_ERROR, "type '%s' is not subscriptable",
                            ((ObjClass *)o)->name->chars);
        default:
            break;
        }
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "'%s' object is not subscriptable",
                    value_type_name(vm, obj));
}

bool value_setitem(VM *vm, Value obj, Value key, Value value) {
    if (IS_OBJ_TYPE(obj, OBJ_INSTANCE)) {
        Value args[2] = {key, value}, ignored;
        int k = instance_special(vm, obj, "__setitem__", args, 2, &ignored);
        if (k != 0) return k > 0;
    }
    if (IS_OBJ_TYPE(obj, OBJ_LIST)) return list_setitem(vm, (ObjList *)AS_OBJ(obj), key, value);
    if (IS_OBJ_TYPE(obj, OBJ_DICT)) return dict_set(vm, (ObjDict *)AS_OBJ(obj), key, value);
    return vm_raise(vm, CLS_TYPE_ERROR, "'%s' object does not support item assignment",
                    value_type_name(vm, obj));
}

bool value_delitem(VM *vm, Value obj, Value key) {
    if (IS_OBJ_TYPE(obj, OBJ_LIST)) return list_delitem(vm, (ObjList *)AS_OBJ(obj), key);
    if (IS_OBJ_TYPE(obj, OBJ_DICT)) {
        bool found;
        if (!dict_delete(vm, (ObjDict *)AS_OBJ(obj), key, &found)) return false;
        return found || key_error(vm, key);
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "'%s' object doesn't support item deletion",
                    value_type_name(vm, obj));
}

static bool seq_contains(VM *vm, const Value *items, uint32_t count, Value item, bool *out) {
    for (uint32_t i = 0; i < count; i++) {
        int r = item_equal(vm, items[i], item, 0);
        if (r < 0) return false;
        if (r) {
            *out = true;
            return true;
        }
    }
    *out = false;
    return true;
}

static bool iter_contains(VM *vm, Value iterable, Value item, bool *out) {
    Value it;
    if (!value_iter(vm, iterable, &it)) return false;
    *out = false;
    for (;;) {
        Value v;
        int r = iter_next(vm, it, &v);
        if (r < 0) return false;
        if (r == 0) return true;
        int e = item_equal(vm, v, item, 0);
        if (e < 0) return false;
        if (e) {
            *out = true;
            return true;
        }
    }
}

bool value_contains(VM *vm, Value container, Value item, bool *out) {
    if (IS_OBJ_TYPE(container, OBJ_INSTANCE)) {
        Value r;
        int k = instance_special(vm, container, "__contains__", &item, 1, &r);
        if (k < 0) return false;
        if (k > 0) {
            *out = value_truthy(r);
            return true;
        }
    }
    if (IS_OBJ(container)) {
        Obj *o = AS_OBJ(container);
        switch ((ObjType)o->type) {
        case OBJ_STRING:
            if (!IS_OBJ_TYPE(item, OBJ_STRING))
                return vm_raise(vm, CLS_TYPE_ERROR,
                                "'in <string>' requires string as left operand, not %s",
                                value_type_name(vm, item));
            *out = str_contains((ObjString *)o, (ObjString *)AS_OBJ(item));
            return true;
        case OBJ_LIST:
            return seq_contains(vm, ((ObjList *)o)->items, ((ObjList *)o)->length, item, out);
        case OBJ_TUPLE:
            return seq_contains(vm, ((ObjTuple *)o)->items, ((ObjTuple *)o)->length, item, out);
        case OBJ_DICT: {
            Value v;
            return dict_get(vm, (ObjDict *)o, item, &v, out);
        }
        case OBJ_SET:
            return set_contains(vm, (ObjSet *)o, item, out);
        case OBJ_RANGE:
            *out = range_contains((ObjRange *)o, item);
            return true;
        case OBJ_DICTVIEW:
            return dictview_contains(vm, (ObjDictView *)o, item, out);
        case OBJ_ITER:
            return iter_contains(vm, container, item, out);
        default:
            break;
        }
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "argument of type '%s' is not iterable",
                    value_type_name(vm, container));
}

bool value_len(VM *vm, Value v, int64_t *out) {
    if (IS_OBJ_TYPE(v, OBJ_INSTANCE)) {
        Value r;
        int k = instance_special(vm, v, "__len__", NULL, 0, &r);
        if (k < 0) return false;
        if (k > 0) {
            if (!IS_INTLIKE(r))
                return vm_raise(vm, CLS_TYPE_ERROR, "'%s' object cannot be interpreted as an integer",
                                value_type_name(vm, r));
            if (AS_INT(r) < 0) return vm_raise(vm, CLS_VALUE_ERROR, "__len__() should return >= 0");
            *out = AS_INT(r);
            return true;
        }
    }
    if (IS_OBJ(v)) {
        Obj *o = AS_OBJ(v);
        switch ((ObjType)o->type) {
        case OBJ_STRING: *out = ((ObjString *)o)->cp_length; return true;
        case OBJ_TUPLE: *out = ((ObjTuple *)o)->length; return true;
        case OBJ_LIST: *out = ((ObjList *)o)->length; return true;
        case OBJ_DICT: *out = ((ObjDict *)o)->count; return true;
        case OBJ_SET: *out = ((ObjSet *)o)->used; return true;
        case OBJ_RANGE: *out = range_length((ObjRange *)o); return true;
        case OBJ_DICTVIEW: *out = ((ObjDictView *)o)->dict->count; return true;
        default: break;
        }
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "object of type '%s' has no len()",
                    value_type_name(vm, v));
}
