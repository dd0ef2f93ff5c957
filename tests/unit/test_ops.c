// tests/unit/test_ops.c - the generic operations checked against CPython 3.11:
// floor division and modulo signs, overflow errors, hashes, repr, ordering.
// Every expected number and string was printed by python3.
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/containers.h"
#include "runtime/ops.h"

static int passed;
static int failed;
static VM *vm;

// In a test function returning bool: report and abandon the test.
#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
            return false;                                                  \
        }                                                                  \
    } while (0)

static void run(const char *name, bool (*test)(void)) {
    vm->exception = EMPTY_VAL;
    if (test()) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL %s\n", name);
    }
}

static Value S(const char *s) { return OBJ_VAL(str_from_cstr(vm, s)); }

static Value T(int n, ...) {
    va_list ap;
    va_start(ap, n);
    ObjTuple *t = tuple_new(vm, (uint32_t)n);
    for (int i = 0; i < n; i++) t->items[i] = va_arg(ap, Value);
    va_end(ap);
    return OBJ_VAL(t);
}

static Value L(int n, ...) {
    va_list ap;
    va_start(ap, n);
    ObjList *l = list_new(vm, 0);
    for (int i = 0; i < n; i++) list_append(vm, l, va_arg(ap, Value));
    va_end(ap);
    return OBJ_VAL(l);
}

// repr(v) == expect
static bool repr_is(Value v, const char *expect) {
    StrBuf buf;
    strbuf_init(&buf);
    bool ok = value_repr(vm, v, &buf);
    bool same = ok && strcmp(buf.chars ? buf.chars : "", expect) == 0;
    if (!same) fprintf(stderr, "  repr: got '%s', want '%s'\n", ok ? buf.chars : "<error>", expect);
    strbuf_free(&buf);
    return same;
}

// The pending exception is `cls` with str() == msg; clears it.
static bool raised(ClassId cls, const char *msg) {
    if (!exception_matches(vm, vm->exception, cls)) {
        fprintf(stderr, "  expected %s\n", vm->classes[cls]->name->chars);
        return false;
    }
    ObjString *s = value_to_str(vm, vm->exception);
    bool same = s && strcmp(s->chars, msg) == 0;
    if (!same) fprintf(stderr, "  message: got '%s', want '%s'\n", s ? s->chars : "?", msg);
    vm->exception = EMPTY_VAL;
    return same;
}

static bool bin_is(BinaryOp op, Value a, Value b, const char *expect) {
    Value r;
    if (!value_binary(vm, op, a, b, false, &r)) {
        fprintf(stderr, "  unexpected error for '%s'\n", expect);
        return false;
    }
    return repr_is(r, expect);
}

static bool bin_fails(BinaryOp op, Value a, Value b, ClassId cls, const char *msg) {
    Value r;
    if (value_binary(vm, op, a, b, false, &r)) {
        fprintf(stderr, "  no error, wanted '%s'\n", msg);
        return false;
    }
    return raised(cls, msg);
}

static bool hash_is(Value v, int64_t expect) {
    uint64_t h;
    if (!value_hash(vm, v, &h)) return false;
    if ((int64_t)h != expect)
        fprintf(stderr, "  hash: got %" PRId64 ", want %" PRId64 "\n", (int64_t)h, expect);
    return (int64_t)h == expect;
}

static bool cmp_is(CompareOp op, Value a, Value b, bool expect) {
    Value r;
    if (!value_compare(vm, op, a, b, &r)) return false;
    return IS_BOOL(r) && AS_BOOL(r) == expect;
}

// ---- tests ------------------------------------------------------------------------------

static bool test_int_floor_semantics(void) {
    // 7//2, -7//2, 7//-2, -7//-2 and the same with %
    CHECK(bin_is(BIN_FLOORDIV, INT_VAL(7), INT_VAL(2), "3"));
    CHECK(bin_is(BIN_FLOORDIV, INT_VAL(-7), INT_VAL(2), "-4"));
    CHECK(bin_is(BIN_FLOORDIV, INT_VAL(7), INT_VAL(-2), "-4"));
    CHECK(bin_is(BIN_FLOORDIV, INT_VAL(-7), INT_VAL(-2), "3"));
    CHECK(bin_is(BIN_MOD, INT_VAL(7), INT_VAL(2), "1"));
    CHECK(bin_is(BIN_MOD, INT_VAL(-7), INT_VAL(2), "1"));
    CHECK(bin_is(BIN_MOD, INT_VAL(7), INT_VAL(-2), "-1"));
    CHECK(bin_is(BIN_MOD, INT_VAL(-7), INT_VAL(-2), "-1"));
    CHECK(bin_is(BIN_MOD, INT_VAL(INT64_MIN), INT_VAL(-1), "0"));
    CHECK(bin_is(BIN_DIV, INT_VAL(7), INT_VAL(2), "3.5"));
    CHECK(bin_is(BIN_DIV, INT_VAL(-7), INT_VAL(2), "-3.5"));
    CHECK(bin_is(BIN_DIV, INT_VAL(1), INT_VAL(3), "0.3333333333333333"));
    CHECK(bin_is(BIN_DIV, INT_VAL(9007199254740993), INT_VAL(1), "9007199254740992.0"));
    CHECK(bin_is(BIN_ADD, TRUE_VAL, TRUE_VAL, "2"));
    CHECK(bin_is(BIN_AND, TRUE_VAL, TRUE_VAL, "True"));
    CHECK(bin_is(BIN_XOR, TRUE_VAL, TRUE_VAL, "False"));
    CHECK(bin_is(BIN_AND, TRUE_VAL, INT_VAL(3), "1"));
    return true;
}

static bool test_float_floor_semantics(void) {
    // 7.5//2, -7.5//2, 7.5//-2, -7.5//-2 and % ; -0.0%1 ; 0.0%-1 ; 3 % -0.5
    CHECK(bin_is(BIN_FLOORDIV, FLOAT_VAL(7.5), INT_VAL(2), "3.0"));
    CHECK(bin_is(BIN_FLOORDIV, FLOAT_VAL(-7.5), INT_VAL(2), "-4.0"));
    CHECK(bin_is(BIN_FLOORDIV, FLOAT_VAL(7.5), INT_VAL(-2), "-4.0"));
    CHECK(bin_is(BIN_FLOORDIV, FLOAT_VAL(-7.5), INT_VAL(-2), "3.0"));
    CHECK(bin_is(BIN_MOD, FLOAT_VAL(7.5), INT_VAL(2), "1.5"));
    CHECK(bin_is(BIN_MOD, FLOAT_VAL(-7.5), INT_VAL(2), "0.5"));
    CHECK(bin_is(BIN_MOD, FLOAT_VAL(7.5), INT_VAL(-2), "-0.5"));
    CHECK(bin_is(BIN_MOD, FLOAT_VAL(-7.5), INT_VAL(-2), "-1.5"));
    CHECK(bin_is(BIN_MOD, FLOAT_VAL(-0.0), INT_VAL(1), "0.0"));
    CHECK(bin_is(BIN_MOD, FLOAT_VAL(0.0), INT_VAL(-1), "-0.0"));
    CHECK(bin_is(BIN_MOD, INT_VAL(3), FLOAT_VAL(-0.5), "-0.0"));
    CHECK(bin_is(BIN_ADD, FLOAT_VAL(0.1), FLOAT_VAL(0.2), "0.30000000000000004"));
    CHECK(bin_is(BIN_MUL, FLOAT_VAL(1e8), FLOAT_VAL(1e8), "1e+16"));
    return true;
}

static bool test_powers_and_shifts(void) {
    CHECK(bin_is(BIN_POW, INT_VAL(2), INT_VAL(-2), "0.25"));
    CHECK(bin_is(BIN_POW, INT_VAL(-2), INT_VAL(-1), "-0.5"));
    CHECK(bin_is(BIN_POW, INT_VAL(2), INT_VAL(62), "4611686018427387904"));
    CHECK(bin_is(BIN_POW, INT_VAL(-2), INT_VAL(63), "-9223372036854775808"));
    CHECK(bin_is(BIN_POW, FLOAT_VAL(-8.0), INT_VAL(3), "-512.0"));
    CHECK(bin_is(BIN_RSHIFT, INT_VAL(-1), INT_VAL(100), "-1"));
    CHECK(bin_is(BIN_RSHIFT, INT_VAL(-8), INT_VAL(1), "-4"));
    CHECK(bin_is(BIN_LSHIFT, INT_VAL(5), INT_VAL(2), "20"));
    CHECK(bin_is(BIN_LSHIFT, INT_VAL(-1), INT_VAL(63), "-9223372036854775808"));
    return true;
}

static bool test_arith_errors(void) {
    const char *ovf = "integer overflow: result does not fit in 64 bits";
    CHECK(bin_fails(BIN_ADD, INT_VAL(INT64_MAX), INT_VAL(1), CLS_OVERFLOW_ERROR, ovf));
    CHECK(bin_fails(BIN_MUL, INT_VAL(INT64_MAX), INT_VAL(2), CLS_OVERFLOW_ERROR, ovf));
    CHECK(bin_fails(BIN_POW, INT_VAL(2), INT_VAL(63), CLS_OVERFLOW_ERROR, ovf));
    CHECK(bin_fails(BIN_LSHIFT, INT_VAL(1), INT_VAL(63), CLS_OVERFLOW_ERROR, ovf));
    CHECK(bin_fails(BIN_FLOORDIV, INT_VAL(INT64_MIN), INT_VAL(-1), CLS_OVERFLOW_ERROR, ovf));
    CHECK(bin_fails(BIN_DIV, INT_VAL(1), INT_VAL(0), CLS_ZERO_DIVISION_ERROR, "division by zero"));
    CHECK(bin_fails(BIN_DIV, FLOAT_VAL(1), INT_VAL(0), CLS_ZERO_DIVISION_ERROR,
                    "float division by zero"));
    CHECK(bin_fails(BIN_FLOORDIV, INT_VAL(1), INT_VAL(0), CLS_ZERO_DIVISION_ERROR,
                    "integer division or modulo by zero"));
    CHECK(bin_fails(BIN_MOD, INT_VAL(1), INT_VAL(0), CLS_ZERO_DIVISION_ERROR,
                    "integer modulo by zero"));
    CHECK(bin_fails(BIN_FLOORDIV, FLOAT_VAL(1), INT_VAL(0), CLS_ZERO_DIVISION_ERROR,
                    "float floor division by zero"));
    CHECK(bin_fails(BIN_MOD, FLOAT_VAL(1), INT_VAL(0), CLS_ZERO_DIVISION_ERROR, "float modulo"));
    CHECK(bin_fails(BIN_POW, INT_VAL(0), INT_VAL(-1), CLS_ZERO_DIVISION_ERROR,
                    "0.0 cannot be raised to a negative power"));
    CHECK(bin_fails(BIN_LSHIFT, INT_VAL(1), INT_VAL(-1), CLS_VALUE_ERROR, "negative shift count"));
    CHECK(bin_fails(BIN_ADD, INT_VAL(1), S("a"), CLS_TYPE_ERROR,
                    "unsupported operand type(s) for +: 'int' and 'str'"));
    CHECK(bin_fails(BIN_ADD, S("a"), INT_VAL(1), CLS_TYPE_ERROR,
                    "can only concatenate str (not \"int\") to str"));
    CHECK(bin_fails(BIN_ADD, L(0), T(0), CLS_TYPE_ERROR,
                    "can only concatenate list (not \"tuple\") to list"));
    CHECK(bin_fails(BIN_MUL, L(0), FLOAT_VAL(1.5), CLS_TYPE_ERROR,
                    "can't multiply sequence by non-int of type 'float'"));
    CHECK(bin_fails(BIN_POW, INT_VAL(1), S("a"), CLS_TYPE_ERROR,
                    "unsupported operand type(s) for ** or pow(): 'int' and 'str'"));
    Value r;
    CHECK(!value_negate(vm, S("a"), &r));
    CHECK(raised(CLS_TYPE_ERROR, "bad operand type for unary -: 'str'"));
    return true;
}

static bool test_sequences(void) {
    CHECK(bin_is(BIN_MUL, INT_VAL(2), S("ab"), "'abab'"));
    CHECK(bin_is(BIN_MUL, L(1, INT_VAL(1)), INT_VAL(3), "[1, 1, 1]"));
    CHECK(bin_is(BIN_ADD, T(1, INT_VAL(1)), T(1, INT_VAL(2)), "(1, 2)"));
    CHECK(bin_is(BIN_MUL, T(1, INT_VAL(1)), INT_VAL(-1), "()"));
    return true;
}

static bool test_hashes(void) {
    CHECK(hash_is(INT_VAL(-1), -2));
    CHECK(hash_is(INT_VAL(-2), -2));
    CHECK(hash_is(TRUE_VAL, 1));
    CHECK(hash_is(INT_VAL(((int64_t)1 << 61) - 1), 0));
    CHECK(hash_is(INT_VAL((int64_t)1 << 61), 1));
    CHECK(hash_is(INT_VAL(INT64_MIN), -4));
    CHECK(hash_is(INT_VAL(INT64_MAX), 3));
    CHECK(hash_is(FLOAT_VAL(1.5), 1152921504606846977));
    CHECK(hash_is(FLOAT_VAL(-1.5), -1152921504606846977));
    CHECK(hash_is(FLOAT_VAL(0.1), 230584300921369408));
    CHECK(hash_is(FLOAT_VAL(1e300), 1224995262755759164));
    CHECK(hash_is(FLOAT_VAL(1e-300), 482449582752280463));
    CHECK(hash_is(FLOAT_VAL(1e100), 1822893315824342674));
    CHECK(hash_is(FLOAT_VAL(-0.0), 0));
    CHECK(hash_is(FLOAT_VAL(INFINITY), 314159));
    CHECK(hash_is(FLOAT_VAL(4611686018427387904.0), 2));
    CHECK(hash_is(FLOAT_VAL(2.0), 2));
    CHECK(hash_is(T(2, INT_VAL(1), INT_VAL(2)), -3550055125485641917));
    CHECK(hash_is(T(0), 5740354900026072187));
    CHECK(hash_is(T(1, INT_VAL(1)), -6644214454873602895));
    CHECK(hash_is(T(2, T(2, INT_VAL(1), INT_VAL(2)), INT_VAL(3)), -333907151259015829));
    CHECK(hash_is(T(2, FLOAT_VAL(1.5), INT_VAL(-1)), -9002791676578425913));
    ObjSet *fs = set_new(vm, true);
    CHECK(hash_is(OBJ_VAL(fs), 133146708735736));
    for (int i = 1; i <= 3; i++) CHECK(set_add(vm, fs, INT_VAL(i)));
    CHECK(hash_is(OBJ_VAL(fs), -272375401224217160));
    uint64_t h;
    CHECK(!value_hash(vm, L(0), &h));
    CHECK(raised(CLS_TYPE_ERROR, "unhashable type: 'list'"));
    CHECK(!value_hash(vm, T(1, L(0)), &h));
    CHECK(raised(CLS_TYPE_ERROR, "unhashable type: 'list'"));
    return true;
}

static bool test_repr(void) {
    ObjDict *d = dict_new(vm);
    CHECK(dict_set(vm, d, S("a"), NONE_VAL));
    ObjSet *s = set_new(vm, false);
    CHECK(set_add(vm, s, INT_VAL(1)) && set_add(vm, s, INT_VAL(2)));
    Value v = L(10, INT_VAL(1), L(2, INT_VAL(2), T(1, INT_VAL(3))), OBJ_VAL(d), T(0), OBJ_VAL(s),
                OBJ_VAL(set_new(vm, true)), S("it's"), FLOAT_VAL(1.0), FLOAT_VAL(-0.0), TRUE_VAL);
    CHECK(repr_is(v, "[1, [2, (3,)], {'a': None}, (), {1, 2}, frozenset(), \"it's\", 1.0, -0.0, "
                     "True]"));
    Value rec = L(1, INT_VAL(1));
    list_append(vm, (ObjList *)AS_OBJ(rec), rec);
    CHECK(repr_is(rec, "[1, [...]]"));
    ObjDict *rd = dict_new(vm);
    CHECK(dict_set(vm, rd, S("a"), OBJ_VAL(rd)));
    CHECK(repr_is(OBJ_VAL(rd), "{'a': {...}}"));
    CHECK(repr_is(OBJ_VAL(range_new(vm, 0, 5, 1)), "range(0, 5)"));
    CHECK(repr_is(OBJ_VAL(range_new(vm, 1, 5, 2)), "range(1, 5, 2)"));
    CHECK(repr_is(OBJ_VAL(slice_new(vm, NONE_VAL, NONE_VAL, INT_VAL(-1))),
                  "slice(None, None, -1)"));
    CHECK(repr_is(OBJ_VAL(vm->classes[CLS_INT]), "<class 'int'>"));
    CHECK(repr_is(OBJ_VAL(vm->classes[CLS_CANCELLED_ERROR]),
                  "<class 'asyncio.exceptions.CancelledError'>"));
    ObjException *e = exception_from_message(vm, vm->classes[CLS_VALUE_ERROR], "x");
    CHECK(repr_is(OBJ_VAL(e), "ValueError('x')"));
    Value key = S("a");
    ObjException *k = exception_new(vm, vm->classes[CLS_KEY_ERROR], tuple_from(vm, &key, 1));
    ObjString *ks = value_to_str(vm, OBJ_VAL(k));
    CHECK(ks && strcmp(ks->chars, "'a'") == 0);
    // Deep nesting is a RecursionError, not a crash.
    Value deep = L(0);
    for (int i = 0; i < 100000; i++) deep = L(1, deep);
    StrBuf buf;
    strbuf_init(&buf);
    CHECK(!value_repr(vm, deep, &buf));
    strbuf_free(&buf);
    CHECK(raised(CLS_RECURSION_ERROR,
                 "maximum recursion depth exceeded while getting the repr of an object"));
    return true;
}

static bool test_compare(void) {
    CHECK(cmp_is(CMP_LT, INT_VAL(1), FLOAT_VAL(2.5), true));
    CHECK(cmp_is(CMP_EQ, INT_VAL(1), FLOAT_VAL(1.0), true));
    CHECK(cmp_is(CMP_EQ, TRUE_VAL, INT_VAL(1), true));
    CHECK(cmp_is(CMP_EQ, INT_VAL(9007199254740993), FLOAT_VAL(9007199254740992.0), false));
    CHECK(cmp_is(CMP_GT, INT_VAL(9007199254740993), FLOAT_VAL(9007199254740992.0), true));
    CHECK(cmp_is(CMP_LT, FLOAT_VAL(NAN), INT_VAL(1), false));
    CHECK(cmp_is(CMP_NE, FLOAT_VAL(NAN), FLOAT_VAL(NAN), true));
    CHECK(cmp_is(CMP_LT, T(2, INT_VAL(1), INT_VAL(2)), T(2, INT_VAL(1), INT_VAL(3)), true));
    CHECK(cmp_is(CMP_LT, T(1, INT_VAL(1)), T(2, INT_VAL(1), INT_VAL(0)), true));
    CHECK(cmp_is(CMP_EQ, L(1, INT_VAL(1)), L(1, FLOAT_VAL(1.0)), true));
    CHECK(cmp_is(CMP_EQ, L(0), T(0), false));
    CHECK(cmp_is(CMP_LT, S("a"), S("b"), true));
    CHECK(cmp_is(CMP_EQ, NONE_VAL, NONE_VAL, true));
    CHECK(value_equal(S("x"), S("x")));
    Value r;
    CHECK(!value_compare(vm, CMP_LT, INT_VAL(1), S("a"), &r));
    CHECK(raised(CLS_TYPE_ERROR, "'<' not supported between instances of 'int' and 'str'"));
    CHECK(!value_compare(vm, CMP_LT, L(2, INT_VAL(1), INT_VAL(2)), L(2, INT_VAL(1), S("a")), &r));
    CHECK(raised(CLS_TYPE_ERROR, "'<' not supported between instances of 'int' and 'str'"));
    ObjSet *a = set_new(vm, false), *b = set_new(vm, true);
    CHECK(set_add(vm, a, INT_VAL(1)) && set_add(vm, b, INT_VAL(1)) && set_add(vm, b, INT_VAL(2)));
    CHECK(cmp_is(CMP_LT, OBJ_VAL(a), OBJ_VAL(b), true));
    CHECK(cmp_is(CMP_GE, OBJ_VAL(a), OBJ_VAL(b), false));
    CHECK(set_add(vm, a, INT_VAL(2)));
    CHECK(cmp_is(CMP_EQ, OBJ_VAL(a), OBJ_VAL(b), true));
    return true;
}

static bool test_truth_and_items(void) {
    CHECK(!value_truthy(INT_VAL(0)) && !value_truthy(FLOAT_VAL(0.0)) && !value_truthy(S("")));
    CHECK(!value_truthy(NONE_VAL) && !value_truthy(L(0)) && !value_truthy(T(0)));
    CHECK(value_truthy(S("a")) && value_truthy(FLOAT_VAL(-0.5)));
    int64_t n;
    CHECK(value_len(vm, S("h\xc3\xa9"), &n) && n == 2);
    CHECK(!value_len(vm, INT_VAL(1), &n));
    CHECK(raised(CLS_TYPE_ERROR, "object of type 'int' has no len()"));
    ObjDict *d = dict_new(vm);
    Value out;
    CHECK(!value_getitem(vm, OBJ_VAL(d), S("k"), &out));
    CHECK(raised(CLS_KEY_ERROR, "'k'"));
    CHECK(!value_getitem(vm, INT_VAL(1), INT_VAL(0), &out));
    CHECK(raised(CLS_TYPE_ERROR, "'int' object is not subscriptable"));
    CHECK(!value_setitem(vm, T(0), INT_VAL(0), INT_VAL(0)));
    CHECK(raised(CLS_TYPE_ERROR, "'tuple' object does not support item assignment"));
    bool in;
    CHECK(!value_contains(vm, INT_VAL(1), INT_VAL(1), &in));
    CHECK(raised(CLS_TYPE_ERROR, "argument of type 'int' is not iterable"));
    CHECK(value_contains(vm, OBJ_VAL(range_new(vm, 0, 10, 3)), INT_VAL(9), &in) && in);
    CHECK(value_contains(vm, OBJ_VAL(range_new(vm, 0, 10, 3)), FLOAT_VAL(6.5), &in) && !in);
    CHECK(value_getitem(vm, OBJ_VAL(range_new(vm, 1, 10, 2)),
                        OBJ_VAL(slice_new(vm, INT_VAL(-1), INT_VAL(0), INT_VAL(-2))), &out));
    CHECK(repr_is(out, "range(9, 1, -4)"));
    int64_t start = INT64_MAX, stop = INT64_MIN;
    CHECK(slice_adjust(5, &start, &stop, -1) == 5 && start == 4 && stop == -1);
    return true;
}

static bool test_format(void) {
    StrBuf buf;
    strbuf_init(&buf);
    CHECK(value_format(vm, INT_VAL(5), str_from_cstr(vm, ".2f"), &buf));
    CHECK(strcmp(buf.chars, "5.00") == 0);
    buf.length = 0;
    CHECK(value_format(vm, TRUE_VAL, vm->s_empty, &buf));
    CHECK(strcmp(buf.chars, "True") == 0);
    strbuf_free(&buf);
    CHECK(!value_format(vm, L(0), str_from_cstr(vm, "x"), &buf));
    CHECK(raised(CLS_TYPE_ERROR, "unsupported format string passed to list.__format__"));
    return true;
}

int main(void) {
    vm = vm_new();
    if (!vm) return 1;
    run("int floor semantics", test_int_floor_semantics);
    run("float floor semantics", test_float_floor_semantics);
    run("powers and shifts", test_powers_and_shifts);
    run("arithmetic errors", test_arith_errors);
    run("sequences", test_sequences);
    run("hashes", test_hashes);
    run("repr", test_repr);
    run("compare", test_compare);
    run("truth and items", test_truth_and_items);
    run("format", test_format);
    printf("ops: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
