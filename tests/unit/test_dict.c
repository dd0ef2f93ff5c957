// tests/unit/test_dict.c - the compact ordered dict checked against a reference.
// The reference is a plain array of (key, value) pairs in insertion order:
// every lookup, length and iteration order must agree with it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/ops.h"
#include "runtime/vm.h"

static int passed;
static int failed;

// In a test function returning bool: report and abandon the test.
#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
            return false;                                                  \
        }                                                                  \
    } while (0)

static void run(VM *vm, const char *name, bool (*test)(VM *)) {
    if (test(vm)) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL %s\n", name);
    }
}

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t next_random(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static uint32_t random_below(uint32_t n) { return (uint32_t)((next_random() >> 32) % n); }

// ---- helpers ------------------------------------------------------------------

static bool get_int(VM *vm, ObjDict *d, Value key, int64_t *out, bool *found) {
    Value v;
    if (!dict_get(vm, d, key, &v, found)) return false;
    if (*found) *out = IS_INT(v) ? AS_INT(v) : -999999;
    return true;
}

static bool put(VM *vm, ObjDict *d, Value key, int64_t value) {
    return dict_set(vm, d, key, INT_VAL(value));
}

static bool del(VM *vm, ObjDict *d, Value key, bool *found) {
    return dict_delete(vm, d, key, found);
}

// Keys of d in iteration order equal keys[0, n) (ints).
static bool order_is(ObjDict *d, const int64_t *keys, uint32_t n) {
    uint32_t pos = 0, i = 0;
    Value k, v;
    while (dict_next(d, &pos, &k, &v)) {
        CHECK(i < n);
        CHECK(IS_INT(k));
        CHECK(AS_INT(k) == keys[i]);
        i++;
    }
    CHECK(i == n);
    CHECK(d->count == n);
    return true;
}

// ---- tests --------------------------------------------------------------------

static bool test_empty(VM *vm) {
    ObjDict *d = dict_new(vm);
    bool found = true;
    Value v;
    CHECK(d->count == 0);
    CHECK(dict_get(vm, d, INT_VAL(1), &v, &found));
    CHECK(!found);
    CHECK(del(vm, d, INT_VAL(1), &found));
    CHECK(!found);
    CHECK(dict_find_str(d, str_intern(vm, "x", 1)) == NULL);
    uint32_t pos = 0;
    CHECK(!dict_next(d, &pos, &v, &v));
    return true;
}

// Insertion order survives updates (position kept), deletes (holes skipped),
// re-insertion (moves to the end) and many resizes.
static bool test_order(VM *vm) {
    ObjDict *d = dict_new(vm);
    enum { N = 1000 };
    static int64_t expect[5 * N + 1];
    uint32_t n = 0;
    for (int64_t i = 0; i < N; i++) {
        int64_t key = (i * 7919) % N;  // scrambled, distinct
        CHECK(put(vm, d, INT_VAL(key), i));
        expect[n++] = key;
        if (i % 97 == 0) CHECK(order_is(d, expect, n));
    }
    CHECK(order_is(d, expect, n));
    // update in place keeps the position
    CHECK(put(vm, d, INT_VAL(expect[10]), -1));
    CHECK(order_is(d, expect, n));
    // delete every third key
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        bool found;
        if (i % 3 == 0) {
            CHECK(del(vm, d, INT_VAL(expect[i]), &found));
            CHECK(found);
        } else {
            expect[kept++] = expect[i];
        }
    }
    n = kept;
    CHECK(order_is(d, expect, n));
    // re-insert a deleted key and update an existing one: only the new one moves
    CHECK(put(vm, d, INT_VAL(0), 5));  // key 0 was the first key, deleted
    expect[n++] = 0;
    CHECK(put(vm, d, INT_VAL(expect[1]), 6));
    CHECK(order_is(d, expect, n));
    // grow a lot more, deleting some on the way: order kept through resizes
    for (int64_t i = N; i < 5 * N; i++) {
        CHECK(put(vm, d, INT_VAL(i), i));
        expect[n++] = i;
        if (i % 5 == 0 && i - 3 >= N) {
            bool found;
            CHECK(del(vm, d, INT_VAL(i - 3), &found));
            CHECK(found);
            for (uint32_t j = 0; j < n; j++) {
                if (expect[j] == i - 3) {
                    memmove(expect + j, expect + j + 1, sizeof(int64_t) * (n - j - 1));
                    n--;
                    break;
                }
            }
        }
    }
    CHECK(order_is(d, expect, n));
    return true;
}

// 100k random set / get / delete against a reference table.
static bool test_random(VM *vm) {
    enum { KEYS = 3000, OPS = 100000 };
    static int64_t ref_value[KEYS];
    static bool ref_present[KEYS];
    static int64_t ref_order[KEYS];  // keys in insertion order
    uint32_t ref_count = 0;
    memset(ref_present, 0, sizeof ref_present);
    ObjDict *d = dict_new(vm);
    for (int op = 0; op < OPS; op++) {
        int64_t key = random_below(KEYS);
        // the same key as an int, a float or (for 0 and 1) a bool
        Value kv = INT_VAL(key);
        switch (random_below(4)) {
        case 1: kv = FLOAT_VAL((double)key); break;
        case 2: if (key <= 1) kv = BOOL_VAL(key); break;
        default: break;
        }
        uint32_t what = random_below(10);
        if (what < 5) {
            int64_t value = (int64_t)random_below(1000000);
            CHECK(put(vm, d, kv, value));
            if (!ref_present[key]) {
                ref_present[key] = true;
                ref_order[ref_count++] = key;
            }
            ref_value[key] = value;
        } else if (what < 8) {
            int64_t got = 0;
            bool found;
            CHECK(get_int(vm, d, kv, &got, &found));
            CHECK(found == ref_present[key]);
            if (found) CHECK(got == ref_value[key]);
        } else {
            bool found;
            CHECK(del(vm, d, kv, &found));
            CHECK(found == ref_present[key]);
            if (found) {
                ref_present[key] = false;
                uint32_t j = 0;
                for (uint32_t i = 0; i < ref_count; i++)
                    if (ref_order[i] != key) ref_order[j++] = ref_order[i];
                ref_count = j;
            }
        }
        CHECK(d->count == ref_count);
        if (op % 5000 == 0) {
            // iteration yields the keys in insertion order, with their values
            uint32_t pos = 0, i = 0;
            Value k, v;
            while (dict_next(d, &pos, &k, &v)) {
                CHECK(i < ref_count);
                int64_t want = ref_order[i++];
                CHECK(IS_INT(k) || IS_FLOAT(k) || IS_BOOL(k));
                int64_t got = IS_FLOAT(k) ? (int64_t)AS_FLOAT(k) : AS_INTLIKE(k);
                CHECK(got == want);
                CHECK(IS_INT(v) && AS_INT(v) == ref_value[want]);
            }
            CHECK(i == ref_count);
        }
    }
    // everything the reference holds is found, nothing else
    for (int64_t key = 0; key < KEYS; key++) {
        int64_t got = 0;
        bool found;
        CHECK(get_int(vm, d, INT_VAL(key), &got, &found));
        CHECK(found == ref_present[key]);
        if (found) CHECK(got == ref_value[key]);
    }
    return true;
}

// 1, 1.0 and True are one key; the first key object inserted is kept.
static bool test_numeric_equivalence(VM *vm) {
    ObjDict *d = dict_new(vm);
    CHECK(put(vm, d, INT_VAL(1), 10));
    CHECK(put(vm, d, FLOAT_VAL(1.0), 20));
    CHECK(put(vm, d, TRUE_VAL, 30));
    CHECK(d->count == 1);
    uint32_t pos = 0;
    Value k, v;
    CHECK(dict_next(d, &pos, &k, &v));
    CHECK(IS_INT(k) && AS_INT(k) == 1);
    CHECK(IS_INT(v) && AS_INT(v) == 30);
    int64_t got = 0;
    bool found;
    CHECK(get_int(vm, d, FLOAT_VAL(1.0), &got, &found));
    CHECK(found && got == 30);
    CHECK(get_int(vm, d, TRUE_VAL, &got, &found));
    CHECK(found && got == 30);
    // 0, 0.0, -0.0 and False
    CHECK(put(vm, d, FALSE_VAL, 1));
    CHECK(get_int(vm, d, FLOAT_VAL(-0.0), &got, &found));
    CHECK(found && got == 1);
    CHECK(get_int(vm, d, INT_VAL(0), &got, &found));
    CHECK(found && got == 1);
    CHECK(d->count == 2);
    // non-integral floats and big ints stay distinct
    CHECK(put(vm, d, FLOAT_VAL(1.5), 2));
    CHECK(put(vm, d, INT_VAL((int64_t)1 << 62), 3));
    CHECK(put(vm, d, FLOAT_VAL(4611686018427387904.0), 4));  // == 2**62
    CHECK(put(vm, d, INT_VAL(-1), 5));
    CHECK(put(vm, d, INT_VAL(-2), 6));  // hash(-1) == hash(-2) in CPython
    CHECK(d->count == 6);
    CHECK(get_int(vm, d, INT_VAL((int64_t)1 << 62), &got, &found));
    CHECK(found && got == 4);
    CHECK(get_int(vm, d, INT_VAL(-1), &got, &found));
    CHECK(found && got == 5);
    CHECK(get_int(vm, d, INT_VAL(-2), &got, &found));
    CHECK(found && got == 6);
    bool deleted;
    CHECK(del(vm, d, FLOAT_VAL(1.0), &deleted));
    CHECK(deleted);
    CHECK(get_int(vm, d, INT_VAL(1), &got, &found));
    CHECK(!found);
    return true;
}

// String keys: equal strings from different objects find each other, the
// interned fast path agrees with the generic one, and str never equals int.
static bool test_string_keys(VM *vm) {
    ObjDict *d = dict_new(vm);
    enum { N = 2000 };
    char buf[32];
    for (int i = 0; i < N; i++) {
        int len = snprintf(buf, sizeof buf, "key%d", i);
        ObjString *s = (i % 2) ? str_intern(vm, buf, (size_t)len) : str_new(vm, buf, (size_t)len);
        CHECK(put(vm, d, OBJ_VAL(s), i));
    }
    CHECK(d->count == N);
    for (int i = 0; i < N; i++) {
        int len = snprintf(buf, sizeof buf, "key%d", i);
        ObjString *fresh = str_new(vm, buf, (size_t)len);
        int64_t got = -1;
        bool found;
        CHECK(get_int(vm, d, OBJ_VAL(fresh), &got, &found));
        CHECK(found && got == i);
        Value *slot = dict_find_str(d, fresh);
        CHECK(slot && IS_INT(*slot) && AS_INT(*slot) == i);
        slot = dict_find_str(d, str_intern(vm, buf, (size_t)len));
        CHECK(slot && AS_INT(*slot) == i);
    }
    CHECK(dict_find_str(d, str_from_cstr(vm, "missing")) == NULL);
    // dict_set_str updates in place and appends new keys at the end
    dict_set_str(vm, d, str_from_cstr(vm, "key5"), INT_VAL(-5));
    dict_set_str(vm, d, str_intern(vm, "zzz", 3), INT_VAL(7));
    CHECK(d->count == N + 1);
    uint32_t pos = 0;
    Value k, v, last = NONE_VAL;
    while (dict_next(d, &pos, &k, &v)) last = k;
    CHECK(IS_OBJ_TYPE(last, OBJ_STRING) && strcmp(((ObjString *)AS_OBJ(last))->chars, "zzz") == 0);
    CHECK(AS_INT(*dict_find_str(d, str_from_cstr(vm, "key5"))) == -5);
    // "1" and 1 are different keys; the empty string is a key
    CHECK(put(vm, d, OBJ_VAL(str_from_cstr(vm, "1")), 100));
    CHECK(put(vm, d, INT_VAL(1), 101));
    CHECK(put(vm, d, OBJ_VAL(vm->s_empty), 102));
    int64_t got;
    bool found;
    CHECK(get_int(vm, d, OBJ_VAL(str_new(vm, "1", 1)), &got, &found));
    CHECK(found && got == 100);
    CHECK(get_int(vm, d, INT_VAL(1), &got, &found));
    CHECK(found && got == 101);
    CHECK(get_int(vm, d, OBJ_VAL(str_new(vm, "", 0)), &got, &found));
    CHECK(found && got == 102);
    CHECK(d->count == N + 4);
    return true;
}

// Deleted slots are reused: inserting and deleting forever keeps the table
// small, and a deleted key's index slot serves the next insertion.
static bool test_tombstone_reuse(VM *vm) {
    ObjDict *d = dict_new(vm);
    CHECK(put(vm, d, INT_VAL(-7), 0));
    for (int64_t i = 0; i < 200000; i++) {
        bool found;
        CHECK(put(vm, d, INT_VAL(i), i));
        CHECK(d->count == 2);
        CHECK(del(vm, d, INT_VAL(i), &found));
        CHECK(found);
        CHECK(d->count == 1);
        CHECK(d->index_size <= 8);  // compacted, never grown
    }
    int64_t got;
    bool found;
    CHECK(get_int(vm, d, INT_VAL(-7), &got, &found));
    CHECK(found && got == 0);
    // the same key deleted and re-added many times
    for (int i = 0; i < 1000; i++) {
        CHECK(put(vm, d, INT_VAL(42), i));
        CHECK(del(vm, d, INT_VAL(42), &found));
        CHECK(found);
    }
    CHECK(d->count == 1 && d->index_size <= 8);
    // a full table of tombstones then new keys: lookups of absent keys end
    for (int64_t i = 0; i < 5; i++) CHECK(put(vm, d, INT_VAL(100 + i), i));
    for (int64_t i = 0; i < 5; i++) CHECK(del(vm, d, INT_VAL(100 + i), &found));
    CHECK(get_int(vm, d, INT_VAL(12345), &got, &found));
    CHECK(!found);
    return true;
}

// Unhashable keys raise TypeError "unhashable type: 'list'".
static bool test_unhashable(VM *vm) {
    ObjDict *d = dict_new(vm);
    ObjList *l = list_new(vm, 0);
    Value v;
    bool found;
    CHECK(!dict_set(vm, d, OBJ_VAL(l), INT_VAL(1)));
    CHECK(exception_matches(vm, vm->exception, CLS_TYPE_ERROR));
    vm->exception = EMPTY_VAL;
    CHECK(!dict_get(vm, d, OBJ_VAL(l), &v, &found));
    CHECK(exception_matches(vm, vm->exception, CLS_TYPE_ERROR));
    vm->exception = EMPTY_VAL;
    CHECK(d->count == 0);
    // tuples of hashables are keys
    ObjTuple *t = tuple_new(vm, 2);
    t->items[0] = INT_VAL(1);
    t->items[1] = OBJ_VAL(str_from_cstr(vm, "a"));
    ObjTuple *t2 = tuple_from(vm, t->items, 2);
    CHECK(dict_set(vm, d, OBJ_VAL(t), INT_VAL(9)));
    CHECK(dict_get(vm, d, OBJ_VAL(t2), &v, &found));
    CHECK(found && AS_INT(v) == 9);
    return true;
}

// copy, update, equality and clear.
static bool test_copy_update(VM *vm) {
    ObjDict *a = dict_new(vm);
    for (int64_t i = 0; i < 100; i++) CHECK(put(vm, a, INT_VAL(i), i * i));
    bool found;
    for (int64_t i = 0; i < 100; i += 2) CHECK(del(vm, a, INT_VAL(i), &found));
    ObjDict *b = dict_copy(vm, a);
    CHECK(b && b->count == 50);
    CHECK(dict_equal(a, b));
    static int64_t odd[50];
    for (int i = 0; i < 50; i++) odd[i] = 2 * i + 1;
    CHECK(order_is(b, odd, 50));
    CHECK(put(vm, b, INT_VAL(1), 0));
    CHECK(!dict_equal(a, b));
    ObjDict *c = dict_new(vm);
    CHECK(put(vm, c, INT_VAL(1000), 1));
    CHECK(dict_update(vm, c, OBJ_VAL(a)));
    CHECK(c->count == 51);
    dict_clear(vm, c);
    CHECK(c->count == 0);
    CHECK(put(vm, c, INT_VAL(3), 3));
    CHECK(c->count == 1);
    return true;
}

int main(void) {
    VM *vm = vm_new();
    if (!vm) {
        fprintf(stderr, "vm_new failed\n");
        return 1;
    }
    run(vm, "empty", test_empty);
    run(vm, "order", test_order);
    run(vm, "random", test_random);
    run(vm, "numeric_equivalence", test_numeric_equivalence);
    run(vm, "string_keys", test_string_keys);
    run(vm, "tombstone_reuse", test_tombstone_reuse);
    run(vm, "unhashable", test_unhashable);
    run(vm, "copy_update", test_copy_update);
    vm_free(vm);
    printf("dict: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
