// runtime/builtins.c - the builtins namespace: print, len, sorted, min, ...,
// the construct functions of int, str, list, ... and the builtin classes.
// Argument errors use CPython's wording, which differs between functions.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/modules.h"
#include "runtime/numfmt.h"
#include "runtime/ops.h"
#include "runtime/unicode.h"

// ---- argument checking -----------------------------------------------------------

// CPython's _PyArg_CheckPositional: "name expected at most 1 argument, got 2".
static bool check_args(VM *vm, const char *name, int argc, int min, int max) {
    if (argc >= min && (max < 0 || argc <= max)) return true;
    int n = argc < min ? min : max;
    const char *how = min == max ? "" : argc < min ? "at least " : "at most ";
    return vm_raise(vm, CLS_TYPE_ERROR, "%s expected %s%d argument%s, got %d", name, how, n,
                    n == 1 ? "" : "s", argc);
}

// Argument Clinic's keyword check: "'x' is an invalid keyword argument for print()".
static bool clinic_kwargs(VM *vm, const char *fn, Value *args, int argc, ObjTuple *kwnames,
                          const char *const *names, Value *outs) {
    if (!kwnames) return true;
    for (uint32_t i = 0; i < kwnames->length; i++) {
        ObjString *key = (ObjString *)AS_OBJ(kwnames->items[i]);
        int j = 0;
        while (names[j] && strcmp(names[j], key->chars) != 0) j++;
        if (!names[j])
            return vm_raise(vm, CLS_TYPE_ERROR, "'%s' is an invalid keyword argument for %s()",
                            key->chars, fn);
    }
    return native_kwargs(vm, fn, args, argc, kwnames, names, outs);
}

static int kwcount(ObjTuple *kwnames) { return kwnames ? (int)kwnames->length : 0; }

static bool no_kwargs(VM *vm, const char *fn, ObjTuple *kwnames) {
    if (kwcount(kwnames) == 0) return true;
    return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes no keyword arguments", fn);
}

static bool as_index(VM *vm, Value v, int64_t *out) {
    if (IS_INTLIKE(v)) {
        *out = AS_INTLIKE(v);
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "'%s' object cannot be interpreted as an integer",
                    value_type_name(vm, v));
}

static bool is_str(Value v) { return IS_OBJ_TYPE(v, OBJ_STRING); }
static ObjString *as_str(Value v) { return (ObjString *)AS_OBJ(v); }

// A tuple used as a scratch array of roots while bytecode runs (key
// functions, write methods): the collector sees whatever it holds.
static ObjTuple *hold_new(VM *vm, uint32_t slots) {
    ObjTuple *hold = tuple_new(vm, slots);
    vm_push_root(vm, OBJ_VAL(hold));
    return hold;
}

static bool float_to_int(VM *vm, double d, int64_t *out) {
    if (isnan(d)) return vm_raise(vm, CLS_VALUE_ERROR, "cannot convert float NaN to integer");
    if (isinf(d))
        return vm_raise(vm, CLS_OVERFLOW_ERROR, "cannot convert float infinity to integer");
    double t = trunc(d);
    if (t < -9223372036854775808.0 || t >= 9223372036854775808.0)
        return vm_raise(vm, CLS_OVERFLOW_ERROR, "integer overflow: result does not fit in 64 bits");
    *out = (int64_t)t;
    return true;
}

// ---- output --------------------------------------------------------------------------

typedef enum { TO_STDOUT, TO_STDERR, TO_OBJECT } WriterKind;

typedef struct {
    WriterKind kind;
    Value file;
} Writer;

static Writer writer_for(VM *vm, Value file) {
    Writer w = {TO_STDOUT, file};
    if (IS_NONE(file)) return w;
    if (IS_OBJ_TYPE(file, OBJ_INSTANCE)) {
        ObjInstance *inst = (ObjInstance *)AS_OBJ(file);
        if (inst->cls == vm->classes[CLS_TEXTIO]) {
            w.kind = inst->native == (void *)stderr ? TO_STDERR : TO_STDOUT;
            return w;
        }
    }
    w.kind = TO_OBJECT;
    return w;
}

static bool call_method(VM *vm, Value obj, const char *name, Value *args, int argc, Value *out) {
    Value method;
    ObjString *key = str_intern(vm, name, strlen(name));
    int kind = value_get_method(vm, obj, key, &method);
    if (kind < 0) return false;
    if (kind == 0) return vm_call(vm, method, args, argc, NULL, out);
    Value all[4];
    all[0] = obj;
    for (int i = 0; i < argc && i < 3; i++) all[i + 1] = args[i];
    return vm_call(vm, method, all, argc + 1, NULL, out);
}

static bool writer_write(VM *vm, Writer *w, const char *chars, size_t length) {
    switch (w->kind) {
    case TO_STDOUT:
        vm_write_out(vm, chars, length);
        return true;
    case TO_STDERR:
        vm_flush_out(vm);
        fwrite(chars, 1, length, stderr);
        fflush(stderr);
        return true;
    case TO_OBJECT: {
        Value s = OBJ_VAL(str_new(vm, chars, length)), ignored;
        return call_method(vm, w->file, "write", &s, 1, &ignored);
    }
    }
    return true;
}

static bool writer_flush(VM *vm, Writer *w) {
    Value ignored;
    switch (w->kind) {
    case TO_STDOUT: vm_flush_out(vm); return true;
    case TO_STDERR: return true;
    case TO_OBJECT: return call_method(vm, w->file, "flush", NULL, 0, &ignored);
    }
    return true;
}

static bool str_or_none(VM *vm, const char *what, Value v) {
    if (IS_NONE(v) || is_str(v)) return true;
    return vm_raise(vm, CLS_TYPE_ERROR, "%s must be None or a string, not %s", what,
                    value_type_name(vm, v));
}

static bool builtin_print(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    static const char *const names[] = {"sep", "end", "file", "flush", NULL};
    Value kw[4] = {NONE_VAL, NONE_VAL, NONE_VAL, FALSE_VAL};
    if (!clinic_kwargs(vm, "print", args, argc, kwnames, names, kw)) return false;
    if (!str_or_none(vm, "sep", kw[0]) || !str_or_none(vm, "end", kw[1])) return false;
    Writer w = writer_for(vm, kw[2]);
    if (w.kind == TO_OBJECT) {
        Value method;
        if (!value_getattr(vm, kw[2], str_intern(vm, "write", 5), &method)) return false;
    }
    const char *sep = IS_NONE(kw[0]) ? " " : as_str(kw[0])->chars;
    size_t sep_len = IS_NONE(kw[0]) ? 1 : as_str(kw[0])->length;
    const char *end = IS_NONE(kw[1]) ? "\n" : as_str(kw[1])->chars;
    size_t end_len = IS_NONE(kw[1]) ? 1 : as_str(kw[1])->length;
    StrBuf buf;
    strbuf_init(&buf);
    bool ok = true;
    for (int i = 0; ok && i < argc; i++) {
        if (i > 0) ok = writer_write(vm, &w, sep, sep_len);
        buf.length = 0;
        if (ok) ok = value_str(vm, args[i], &buf);
        if (ok) ok = writer_write(vm, &w, buf.chars ? buf.chars : "", buf.length);
    }
    strbuf_free(&buf);
    if (ok) ok = writer_write(vm, &w, end, end_len);
    if (ok && value_truthy(kw[3])) ok = writer_flush(vm, &w);
    if (ok && w.kind == TO_STDOUT) ok = vm_check_out(vm);
    *out = NONE_VAL;
    return ok;
}

static bool builtin_input(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!check_args(vm, "input", argc, 0, 1)) return false;
    if (argc == 1 && !IS_NONE(args[0])) {
        StrBuf buf;
        strbuf_init(&buf);
        if (!value_str(vm, args[0], &buf)) {
            strbuf_free(&buf);
            return false;
        }
        vm_write_out(vm, buf.chars ? buf.chars : "", buf.length);
        strbuf_free(&buf);
    }
    vm_flush_out(vm);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n <= 0) {
        free(line);
        return vm_raise(vm, CLS_EOF_ERROR, "EOF when reading a line");
    }
    if (line[n - 1] == '\n') n--;
    *out = OBJ_VAL(str_new(vm, line, (size_t)n));
    free(line);
    return true;
}

// ---- sequences and iteration ---------------------------------------------------------

static bool builtin_len(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!native_arity(vm, "len", argc, 1, 1)) return false;
    int64_t n;
    if (!value_len(vm, args[0], &n)) return false;
    *out = INT_VAL(n);
    return true;
}

static bool range_construct(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    argc--;
    args++;
    if (!no_kwargs(vm, "range", kwnames) || !check_args(vm, "range", argc, 1, 3)) return false;
    int64_t v[3] = {0, 0, 1};
    for (int i = 0; i < argc; i++)
        if (!as_index(vm, args[i], &v[i])) return false;
    if (argc == 1) {
        v[1] = v[0];
        v[0] = 0;
    }
    if (v[2] == 0) return vm_raise(vm, CLS_VALUE_ERROR, "range() arg 3 must not be zero");
    *out = OBJ_VAL(range_new(vm, v[0], v[1], v[2]));
    return true;
}

static bool slice_construct(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    argc--;
    args++;
    if (!no_kwargs(vm, "slice", kwnames) || !check_args(vm, "slice", argc, 1, 3)) return false;
    if (argc == 1) *out = OBJ_VAL(slice_new(vm, NONE_VAL, args[0], NONE_VAL));
    else *out = OBJ_VAL(slice_new(vm, args[0], args[1], argc == 3 ? args[2] : NONE_VAL));
    return true;
}

static bool builtin_enumerate(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    static const char *const names[] = {"iterable", "start", NULL};
    Value kw[2] = {EMPTY_VAL, INT_VAL(0)};
    if (argc > 2)
        return vm_raise(vm, CLS_TYPE_ERROR, "enumerate() takes at most 2 arguments (%d given)",
                        argc + kwcount(kwnames));
    for (int i = 0; i < argc; i++) kw[i] = args[i];
    if (!clinic_kwargs(vm, "enumerate", args, argc, kwnames, names, kw)) return false;
    if (IS_EMPTY(kw[0]))
        return vm_raise(vm, CLS_TYPE_ERROR, "enumerate() missing required argument 'iterable'");
    int64_t start = 0;
    if (!as_index(vm, kw[1], &start)) return false;
    Value inner;
    if (!value_iter(vm, kw[0], &inner)) return false;
    ObjIter *it = iter_new(vm, ITER_ENUMERATE, inner);
    it->index = start;
    *out = OBJ_VAL(it);
    return true;
}

// A tuple of iterators over args[0..count).
static ObjTuple *iterators_of(VM *vm, Value *args, int count) {
    ObjTuple *iters = tuple_new(vm, (uint32_t)count);
    for (int i = 0; i < count; i++)
        if (!value_iter(vm, args[i], &iters->items[i])) return NULL;
    return iters;
}

static bool builtin_zip(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    static const char *const names[] = {"strict", NULL};
    Value kw[1] = {FALSE_VAL};
    if (!clinic_kwargs(vm, "zip", args, argc, kwnames, names, kw)) return false;
    ObjTuple *iters = iterators_of(vm, args, argc);
    if (!iters) return false;
    ObjIter *it = iter_new(vm, ITER_ZIP, NONE_VAL);
    it->extra = OBJ_VAL(iters);
    *out = OBJ_VAL(it);
    return true;
}

static bool builtin_map(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (argc < 2) return vm_raise(vm, CLS_TYPE_ERROR, "map() must have at least two arguments.");
    ObjTuple *iters = iterators_of(vm, args + 1, argc - 1);
    if (!iters) return false;
    ObjIter *it = iter_new(vm, ITER_MAP, OBJ_VAL(iters));
    it->extra = args[0];
    *out = OBJ_VAL(it);
    return true;
}

static bool builtin_filter(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!check_args(vm, "filter", argc, 2, 2)) return false;
    Value inner;
    if (!value_iter(vm, args[1], &inner)) return false;
    ObjIter *it = iter_new(vm, ITER_FILTER, inner);
    it->extra = args[0];
    *out = OBJ_VAL(it);
    return true;
}

static bool builtin_reversed(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!no_kwargs(vm, "reversed", kwnames) || !check_args(vm, "reversed", argc, 1, 1))
        return false;
    Value seq = args[0];
    if (IS_OBJ_TYPE(seq, OBJ_DICT) || IS_OBJ_TYPE(seq, OBJ_DICTVIEW)) {
        ObjList *items = value_to_list(vm, seq);
        if (!items) return false;
        seq = OBJ_VAL(items);
    }
    if (!IS_OBJ_TYPE(seq, OBJ_LIST) && !IS_OBJ_TYPE(seq, OBJ_TUPLE) && !is_str(seq) &&
        !IS_OBJ_TYPE(seq, OBJ_RANGE))
        return vm_raise(vm, CLS_TYPE_ERROR, "'%s' object is not reversible",
                        value_type_name(vm, seq));
    *out = OBJ_VAL(iter_new(vm, ITER_REVERSED, seq));
    return true;
}

static bool builtin_sorted(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    static const char *const names[] = {"key", "reverse", NULL};
    Value kw[2] = {NONE_VAL, FALSE_VAL};
    if (!check_args(vm, "sorted", argc, 1, 1)) return false;
    if (!clinic_kwargs(vm, "sort", args, argc, kwnames, names, kw)) return false;
    ObjList *list = value_to_list(vm, args[0]);
    if (!list) return false;
    vm_push_root(vm, OBJ_VAL(list));
    bool ok = list_sort(vm, list, kw[0], value_truthy(kw[1]));
    vm_pop_roots(vm, 1);
    if (!ok) return false;
    *out = OBJ_VAL(list);
    return true;
}

// min() and max(): one iterable or several arguments; key= and default=.
static bool min_max(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out, bool is_max) {
    const char *name = is_max ? "max" : "min";
    static const char *const names[] = {"key", "default", NULL};
    Value kw[2] = {NONE_VAL, EMPTY_VAL};
    if (argc == 0) return check_args(vm, name, argc, 1, -1);
    if (kwcount(kwnames) > 2)
        return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes at most 2 keyword arguments (%d given)",
                        name, kwcount(kwnames));
    if (!clinic_kwargs(vm, name, args, argc, kwnames, names, kw)) return false;
    if (argc > 1 && !IS_EMPTY(kw[1]))
        return vm_raise(vm, CLS_TYPE_ERROR,
                        "Cannot specify a default for %s() with multiple positional arguments",
                        name);
    // hold: iterator, best item, best key, current item, current key
    ObjTuple *hold = hold_new(vm, 5);
    bool ok = true, found = false;
    if (argc == 1) {
        ok = value_iter(vm, args[0], &hold->items[0]);
    } else {
        ObjTuple *t = tuple_from(vm, args, (uint32_t)argc);
        hold->items[1] = OBJ_VAL(t);
        ok = value_iter(vm, OBJ_VAL(t), &hold->items[0]);
    }
    while (ok) {
        int r = iter_next(vm, hold->items[0], &hold->items[3]);
        if (r <= 0) {
            ok = r == 0;
            break;
        }
        hold->items[4] = hold->items[3];
        if (!IS_NONE(kw[0]) && !vm_call(vm, kw[0], &hold->items[3], 1, NULL, &hold->items[4])) {
            ok = false;
            break;
        }
        if (!found) {
            found = true;
        } else {
            Value better;
            if (!value_compare(vm, is_max ? CMP_GT : CMP_LT, hold->items[4], hold->items[2],
                               &better)) {
                ok = false;
                break;
            }
            if (!AS_BOOL(better)) continue;
        }
        hold->items[1] = hold->items[3];
        hold->items[2] = hold->items[4];
    }
    vm_pop_roots(vm, 1);
    if (!ok) return false;
    if (!found) {
        if (!IS_EMPTY(kw[1])) {
            *out = kw[1];
            return true;
        }
        return vm_raise(vm, CLS_VALUE_ERROR, "%s() arg is an empty sequence", name);
    }
    *out = hold->items[1];
    return true;
}

static bool builtin_min(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    return min_max(vm, args, argc, kwnames, out, false);
}

static bool builtin_max(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    return min_max(vm, args, argc, kwnames, out, true);
}

static bool builtin_sum(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    static const char *const names[] = {"start", NULL};
    Value kw[1] = {INT_VAL(0)};
    if (argc == 0)
        return vm_raise(vm, CLS_TYPE_ERROR,
                        "sum() takes at least 1 positional argument (0 given)");
    if (argc + kwcount(kwnames) > 2)
        return vm_raise(vm, CLS_TYPE_ERROR, "sum() takes at most 2 arguments (%d given)",
                        argc + kwcount(kwnames));
    if (argc == 2) kw[0] = args[1];
    if (!clinic_kwargs(vm, "sum", args, argc, kwnames, names, kw)) return false;
    if (is_str(kw[0]))
        return vm_raise(vm, CLS_TYPE_ERROR, "sum() can't sum strings [use ''.join(seq) instead]");
    // hold: iterator, accumulator, item
    ObjTuple *hold = hold_new(vm, 3);
    hold->items[1] = kw[0];
    bool ok = value_iter(vm, args[0], &hold->items[0]);
    while (ok) {
        int r = iter_next(vm, hold->items[0], &hold->items[2]);
        if (r <= 0) {
            ok = r == 0;
            break;
        }
        ok = value_binary(vm, BIN_ADD, hold->items[1], hold->items[2], false, &hold->items[1]);
    }
    vm_pop_roots(vm, 1);
    if (!ok) return false;
    *out = hold->items[1];
    return true;
}

static bool any_all(VM *vm, Value *args, int argc, Value *out, bool is_any) {
    if (!native_arity(vm, is_any ? "any" : "all", argc, 1, 1)) return false;
    ObjTuple *hold = hold_new(vm, 2);
    bool ok = value_iter(vm, args[0], &hold->items[0]);
    bool result = !is_any;
    while (ok) {
        int r = iter_next(vm, hold->items[0], &hold->items[1]);
        if (r <= 0) {
            ok = r == 0;
            break;
        }
        int t = value_truth(vm, hold->items[1]);
        if (t < 0) {
            ok = false;
            break;
        }
        if ((t != 0) == is_any) {
            result = is_any;
            break;
        }
    }
    vm_pop_roots(vm, 1);
    *out = BOOL_VAL(result);
    return ok;
}

static bool builtin_any(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    return any_all(vm, args, argc, out, true);
}

static bool builtin_all(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    return any_all(vm, args, argc, out, false);
}

static bool builtin_iter(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!check_args(vm, "iter", argc, 1, 2)) return false;
    if (argc == 1) return value_iter(vm, args[0], out);
    Value callable = args[0];
    bool ok = IS_OBJ(callable) && (OBJ_TYPE(callable) == OBJ_FUNCTION ||
                                   OBJ_TYPE(callable) == OBJ_NATIVE ||
                                   OBJ_TYPE(callable) == OBJ_BOUND ||
                                   OBJ_TYPE(callable) == OBJ_CLASS ||
                                   OBJ_TYPE(callable) == OBJ_PARTIAL);
    if (!ok) return vm_raise(vm, CLS_TYPE_ERROR, "iter(v, w): v must be callable");
    ObjIter *it = iter_new(vm, ITER_CALLABLE, callable);
    it->extra = args[1];
    *out = OBJ_VAL(it);
    return true;
}

static bool builtin_next(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!check_args(vm, "next", argc, 1, 2)) return false;
    if (!IS_OBJ_TYPE(args[0], OBJ_ITER))
        return vm_raise(vm, CLS_TYPE_ERROR, "'%s' object is not an iterator",
                        value_type_name(vm, args[0]));
    int r = iter_next(vm, args[0], out);
    if (r > 0) return true;
    if (r < 0) return false;
    if (argc == 2) {
        *out = args[1];
        return true;
    }
    return vm_raise_value(
        vm, OBJ_VAL(exception_new(vm, vm->classes[CLS_STOP_ITERATION], NULL)));
}

// ---- numbers ----------------------------------------------------------------------------

static bool builtin_abs(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!native_arity(vm, "abs", argc, 1, 1)) return false;
    Value v = args[0];
    if (IS_INTLIKE(v)) {
        int64_t i = AS_INTLIKE(v);
        if (i == INT64_MIN)
            return vm_raise(vm, CLS_OVERFLOW_ERROR,
                            "integer overflow: result does not fit in 64 bits");
        *out = INT_VAL(i < 0 ? -i : i);
        return true;
    }
    if (IS_FLOAT(v)) {
        *out = FLOAT_VAL(fabs(AS_FLOAT(v)));
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "bad operand type for abs(): '%s'", value_type_name(vm, v));
}

// round(int, negative ndigits): to a multiple of 10**-ndigits, ties to even.
static bool round_int(VM *vm, int64_t x, int64_t ndigits, Value *out) {
    if (ndigits >= 0) {
        *out = INT_VAL(x);
        return true;
    }
    if (ndigits < -18) {
        *out = INT_VAL(0);
        return true;
    }
    int64_t p = 1;
    for (int64_t i = 0; i < -ndigits; i++) p *= 10;
    int64_t r = x % p;
    if (r < 0) r += p;
    int64_t q = (x - r) / p; // floor(x / p)
    if (r * 2 > p || (r * 2 == p && (q & 1))) q++;
    int64_t result;
    if (__builtin_mul_overflow(q, p, &result))
        return vm_raise(vm, CLS_OVERFLOW_ERROR, "integer overflow: result does not fit in 64 bits");
    *out = INT_VAL(result);
    return true;
}

static bool builtin_round(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    static const char *const names[] = {"number", "ndigits", NULL};
    Value kw[2] = {EMPTY_VAL, NONE_VAL};
    if (argc + kwcount(kwnames) > 2)
        return vm_raise(vm, CLS_TYPE_ERROR, "round() takes at most 2 arguments (%d given)",
                        argc + kwcount(kwnames));
    for (int i = 0; i < argc; i++) kw[i] = args[i];
    if (!clinic_kwargs(vm, "round", args, argc, kwnames, names, kw)) return false;
    if (IS_EMPTY(kw[0]))
        return vm_raise(vm, CLS_TYPE_ERROR, "round() missing required argument 'number' (pos 1)");
    Value x = kw[0];
    if (!IS_INTLIKE(x) && !IS_FLOAT(x))
        return vm_raise(vm, CLS_TYPE_ERROR, "type %s doesn't define __round__ method",
                        value_type_name(vm, x));
    int64_t nd = 0;
    if (!IS_NONE(kw[1]) && !as_index(vm, kw[1], &nd)) return false;
    if (IS_INTLIKE(x)) {
        if (IS_NONE(kw[1])) {
            *out = INT_VAL(AS_INTLIKE(x));
            return true;
        }
        return round_int(vm, AS_INTLIKE(x), nd, out);
    }
    double d = AS_FLOAT(x);
    if (IS_NONE(kw[1])) {
        double r = round(d);
        if (fabs(d - r) == 0.5) r = 2.0 * round(d / 2.0);
        int64_t i;
        if (!float_to_int(vm, r, &i)) return false;
        *out = INT_VAL(i);
        return true;
    }
    if (nd > 400) nd = 400;
    if (nd < -400) nd = -400;
    *out = FLOAT_VAL(numfmt_round(d, (int)nd));
    return true;
}

static bool builtin_divmod(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!check_args(vm, "divmod", argc, 2, 2)) return false;
    Value a = args[0], b = args[1], items[2];
    bool numbers = (IS_INTLIKE(a) || IS_FLOAT(a)) && (IS_INTLIKE(b) || IS_FLOAT(b));
    if (!numbers)
        return vm_raise(vm, CLS_TYPE_ERROR,
                        "unsupported operand type(s) for divmod(): '%s' and '%s'",
                        value_type_name(vm, a), value_type_name(vm, b));
    if ((IS_FLOAT(a) || IS_FLOAT(b)) &&
        (IS_FLOAT(b) ? AS_FLOAT(b) == 0.0 : AS_INTLIKE(b) == 0))
        return vm_raise(vm, CLS_ZERO_DIVISION_ERROR, "float divmod()");
    if (!IS_FLOAT(a) && !IS_FLOAT(b) && AS_INTLIKE(b) == 0)
        return vm_raise(vm, CLS_ZERO_DIVISION_ERROR, "integer division or modulo by zero");
    if (!value_binary(vm, BIN_FLOORDIV, a, b, false, &items[0])) return false;
    if (!value_binary(vm, BIN_MOD, a, b, false, &items[1])) return false;
    *out = OBJ_VAL(tuple_from(vm, items, 2));
    return true;
}

static int64_t mulmod(int64_t a, int64_t b, int64_t m) {
    return (int64_t)(((__int128)a * b) % m);
}

// Modular inverse of a (0 <= a < m) or -1.
static int64_t mod_inverse(int64_t a, int64_t m) {
    int64_t t = 0, new_t = 1, r = m, new_r = a;
    while (new_r != 0) {
        int64_t q = r / new_r, tmp;
        tmp = t - q * new_t;
        t = new_t;
        new_t = tmp;
        tmp = r - q * new_r;
        r = new_r;
        new_r = tmp;
    }
    if (r != 1) return -1;
    return t < 0 ? t + m : t;
}

static bool builtin_pow(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    static const char *const names[] = {"base", "exp", "mod", NULL};
    Value kw[3] = {EMPTY_VAL, EMPTY_VAL, NONE_VAL};
    if (argc + kwcount(kwnames) > 3)
        return vm_raise(vm, CLS_TYPE_ERROR, "pow() takes at most 3 arguments (%d given)",
                        argc + kwcount(kwnames));
    for (int i = 0; i < argc; i++) kw[i] = args[i];
    if (!clinic_kwargs(vm, "pow", args, argc, kwnames, names, kw)) return false;
    if (IS_EMPTY(kw[0]))
        return vm_raise(vm, CLS_TYPE_ERROR, "pow() missing required argument 'base' (pos 1)");
    if (IS_EMPTY(kw[1]))
        return vm_raise(vm, CLS_TYPE_ERROR, "pow() missing required argument 'exp' (pos 2)");
    if (IS_NONE(kw[2])) return value_binary(vm, BIN_POW, kw[0], kw[1], false, out);
    if (!IS_INTLIKE(kw[0]) || !IS_INTLIKE(kw[1]) || !IS_INTLIKE(kw[2])) {
        bool numbers = true;
        for (int i = 0; i < 3; i++) numbers = numbers && (IS_INTLIKE(kw[i]) || IS_FLOAT(kw[i]));
        if (numbers)
            return vm_raise(vm, CLS_TYPE_ERROR,
                            "pow() 3rd argument not allowed unless all arguments are integers");
        return vm_raise(vm, CLS_TYPE_ERROR,
                        "unsupported operand type(s) for ** or pow(): '%s', '%s', '%s'",
                        value_type_name(vm, kw[0]), value_type_name(vm, kw[1]),
                        value_type_name(vm, kw[2]));
    }
    int64_t base = AS_INTLIKE(kw[0]), exp = AS_INTLIKE(kw[1]), mod = AS_INTLIKE(kw[2]);
    if (mod == 0) return vm_raise(vm, CLS_VALUE_ERROR, "pow() 3rd argument cannot be 0");
    if (mod == INT64_MIN)
        return vm_raise(vm, CLS_OVERFLOW_ERROR, "integer overflow: result does not fit in 64 bits");
    int64_t m = mod < 0 ? -mod : mod;
    int64_t b = base % m;
    if (b < 0) b += m;
    uint64_t e = exp < 0 ? (uint64_t)0 - (uint64_t)exp : (uint64_t)exp;
    if (exp < 0 && m > 1) {
        b = mod_inverse(b, m);
        if (b < 0)
            return vm_raise(vm, CLS_VALUE_ERROR, "base is not invertible for the given modulus");
    }
    int64_t r = 1 % m;
    while (e > 0) {
        if (e & 1) r = mulmod(r, b, m);
        b = mulmod(b, b, m);
        e >>= 1;
    }
    if (mod < 0 && r != 0) r -= m;
    *out = INT_VAL(r);
    return true;
}

static bool int_base(VM *vm, Value *args, int argc, Value *out, const char *name, int base) {
    if (!native_arity(vm, name, argc, 1, 1)) return false;
    int64_t v = 0;
    if (!as_index(vm, args[0], &v)) return false;
    StrBuf buf;
    strbuf_init(&buf);
    numfmt_int_base(v, base, &buf);
    *out = OBJ_VAL(str_new(vm, buf.chars, buf.length));
    strbuf_free(&buf);
    return true;
}

static bool builtin_hex(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    return int_base(vm, args, argc, out, "hex", 16);
}

static bool builtin_oct(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    return int_base(vm, args, argc, out, "oct", 8);
}

static bool builtin_bin(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    return int_base(vm, args, argc, out, "bin", 2);
}

static bool builtin_ord(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!native_arity(vm, "ord", argc, 1, 1)) return false;
    if (!is_str(args[0]))
        return vm_raise(vm, CLS_TYPE_ERROR, "ord() expected string of length 1, but %s found",
                        value_type_name(vm, args[0]));
    ObjString *s = as_str(args[0]);
    if (s->cp_length != 1)
        return vm_raise(vm, CLS_TYPE_ERROR,
                        "ord() expected a character, but string of length %u found", s->cp_length);
    int width;
    *out = INT_VAL(utf8_decode(s->chars, &width));
    return true;
}

static bool builtin_chr(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!native_arity(vm, "chr", argc, 1, 1)) return false;
    int64_t cp = 0;
    if (!as_index(vm, args[0], &cp)) return false;
    if (cp < 0 || cp > 0x10FFFF)
        return vm_raise(vm, CLS_VALUE_ERROR, "chr() arg not in range(0x110000)");
    *out = OBJ_VAL(str_from_codepoint(vm, (uint32_t)cp));
    return true;
}

// ---- objects -------------------------------------------------------------------------------

static bool builtin_repr(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!native_arity(vm, "repr", argc, 1, 1)) return false;
    ObjString *s = value_to_repr(vm, args[0]);
    if (!s) return false;
    *out = OBJ_VAL(s);
    return true;
}

static bool builtin_ascii(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!native_arity(vm, "ascii", argc, 1, 1)) return false;
    ObjString *s = value_to_ascii(vm, args[0]);
    if (!s) return false;
    *out = OBJ_VAL(s);
    return true;
}

static bool builtin_hash(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!native_arity(vm, "hash", argc, 1, 1)) return false;
    uint64_t h;
    if (!value_hash(vm, args[0], &h)) return false;
    *out = INT_VAL((int64_t)h);
    return true;
}

static bool builtin_id(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!native_arity(vm, "id", argc, 1, 1)) return false;
    Value v = args[0];
    if (IS_OBJ(v)) {
        *out = INT_VAL((int64_t)(uintptr_t)AS_OBJ(v));
    } else {
        // Immediates have no address: equal values share an id, as CPython's
        // cached small ints do.
        uint64_t h;
        value_hash(vm, v, &h);
        *out = INT_VAL((int64_t)((h ^ ((uint64_t)v.tag << 56)) & INT64_MAX));
    }
    return true;
}

static bool is_callable(Value v) {
    if (!IS_OBJ(v)) return false;
    switch (OBJ_TYPE(v)) {
    case OBJ_FUNCTION:
    case OBJ_NATIVE:
    case OBJ_BOUND:
    case OBJ_CLASS:
    case OBJ_PARTIAL:
        return true;
    default:
        return false;
    }
}

static bool builtin_callable(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!native_arity(vm, "callable", argc, 1, 1)) return false;
    *out = BOOL_VAL(is_callable(args[0]));
    return true;
}

static bool attr_name(VM *vm, Value v) {
    if (is_str(v)) return true;
    return vm_raise(vm, CLS_TYPE_ERROR, "attribute name must be string, not '%s'",
                    value_type_name(vm, v));
}

static bool builtin_getattr(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!check_args(vm, "getattr", argc, 2, 3) || !attr_name(vm, args[1])) return false;
    if (value_getattr(vm, args[0], as_str(args[1]), out)) return true;
    if (argc == 3 && exception_matches(vm, vm->exception, CLS_ATTRIBUTE_ERROR)) {
        vm->exception = EMPTY_VAL;
        *out = args[2];
        return true;
    }
    return false;
}

static bool builtin_hasattr(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!check_args(vm, "hasattr", argc, 2, 2) || !attr_name(vm, args[1])) return false;
    Value v;
    if (value_getattr(vm, args[0], as_str(args[1]), &v)) {
        *out = TRUE_VAL;
        return true;
    }
    if (!exception_matches(vm, vm->exception, CLS_ATTRIBUTE_ERROR)) return false;
    vm->exception = EMPTY_VAL;
    *out = FALSE_VAL;
    return true;
}

static bool builtin_setattr(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!check_args(vm, "setattr", argc, 3, 3) || !attr_name(vm, args[1])) return false;
    *out = NONE_VAL;
    return value_setattr(vm, args[0], as_str(args[1]), args[2]);
}

static bool builtin_format(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!check_args(vm, "format", argc, 1, 2)) return false;
    ObjString *spec = NULL;
    if (argc == 2) {
        if (!is_str(args[1]))
            return vm_raise(vm, CLS_TYPE_ERROR, "format() argument 2 must be str, not %s",
                            value_type_name(vm, args[1]));
        spec = as_str(args[1]);
    }
    StrBuf buf;
    strbuf_init(&buf);
    bool ok = value_format(vm, args[0], spec, &buf);
    if (ok) *out = OBJ_VAL(str_new(vm, buf.chars ? buf.chars : "", buf.length));
    strbuf_free(&buf);
    return ok;
}

// isinstance/issubclass: classinfo is a class or a (nested) tuple of them.
static bool class_matches(VM *vm, ObjClass *cls, Value info, const char *fn, const char *what,
                          bool *out) {
    if (IS_OBJ_TYPE(info, OBJ_CLASS)) {
        *out = class_is_subclass(cls, (ObjClass *)AS_OBJ(info));
        return true;
    }
    if (IS_OBJ_TYPE(info, OBJ_TUPLE)) {
        ObjTuple *t = (ObjTuple *)AS_OBJ(info);
        for (uint32_t i = 0; i < t->length; i++) {
            if (!class_matches(vm, cls, t->items[i], fn, what, out)) return false;
            if (*out) return true;
        }
        *out = false;
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "%s() arg 2 must be %s", fn, what);
}

static bool builtin_isinstance(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!check_args(vm, "isinstance", argc, 2, 2)) return false;
    bool r;
    if (!class_matches(vm, value_class(vm, args[0]), args[1], "isinstance",
                       "a type, a tuple of types, or a union", &r))
        return false;
    *out = BOOL_VAL(r);
    return true;
}

static bool builtin_issubclass(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!check_args(vm, "issubclass", argc, 2, 2)) return false;
    if (!IS_OBJ_TYPE(args[0], OBJ_CLASS))
        return vm_raise(vm, CLS_TYPE_ERROR, "issubclass() arg 1 must be a class");
    bool r;
    if (!class_matches(vm, (ObjClass *)AS_OBJ(args[0]), args[1], "issubclass",
                       "a class, a tuple of classes, or a union", &r))
        return false;
    *out = BOOL_VAL(r);
    return true;
}

static bool builtin_dir(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!check_args(vm, "dir", argc, 0, 1)) return false;
    if (argc == 1) {
        *out = OBJ_VAL(value_dir(vm, args[0]));
        return true;
    }
    // No frame introspection: the names of the main module.
    ObjList *names = list_new(vm, 0);
    uint32_t pos = 0;
    Value key, value;
    while (dict_next(vm->main_globals, &pos, &key, &value)) list_append(vm, names, key);
    vm_push_root(vm, OBJ_VAL(names));
    bool ok = list_sort(vm, names, NONE_VAL, false);
    vm_pop_roots(vm, 1);
    *out = OBJ_VAL(names);
    return ok;
}

static bool builtin_exit(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!check_args(vm, "exit", argc, 0, 1)) return false;
    ObjTuple *t = tuple_from(vm, args, (uint32_t)argc);
    return vm_raise_value(vm, OBJ_VAL(exception_new(vm, vm->classes[CLS_SYSTEM_EXIT], t)));
}

// ---- class construct functions (args[0] is the class) ----------------------------------------

static bool type_construct(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (argc - 1 == 3)
        return vm_raise(vm, CLS_TYPE_ERROR, "type() with 3 arguments is not supported");
    if (argc - 1 != 1 || kwcount(kwnames))
        return vm_raise(vm, CLS_TYPE_ERROR, "type() takes 1 or 3 arguments");
    *out = OBJ_VAL(value_class(vm, args[1]));
    return true;
}

static bool object_construct(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (argc > 1 || kwcount(kwnames))
        return vm_raise(vm, CLS_TYPE_ERROR, "object() takes no arguments");
    ObjInstance *inst = ALLOC_OBJ(vm, ObjInstance, OBJ_INSTANCE);
    inst->cls = (ObjClass *)AS_OBJ(args[0]);
    *out = OBJ_VAL(inst);
    return true;
}

static bool bool_construct(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!no_kwargs(vm, "bool", kwnames) || !check_args(vm, "bool", argc - 1, 0, 1)) return false;
    int t = argc > 1 ? value_truth(vm, args[1]) : 0;
    if (t < 0) return false;
    *out = BOOL_VAL(t);
    return true;
}

// The text int() and float() parse: non-ASCII whitespace becomes ' ' and
// decimal digits of any script their ASCII digit; any other non-ASCII
// character ends the text with '?', which no number accepts (CPython's
// _PyUnicode_TransformDecimalAndSpaceToASCII). *owned is set when the
// result was allocated (free it).
static const char *number_text(ObjString *s, size_t *length, char **owned) {
    *owned = NULL;
    *length = s->length;
    if (s->length == s->cp_length) return s->chars;
    char *t = malloc((size_t)s->length + 1);
    if (!t) abort();
    size_t n = 0;
    for (size_t i = 0; i < s->length;) {
        int w;
        uint32_t c = utf8_decode(s->chars + i, &w);
        i += (size_t)w;
        int digit = c < 128 ? -1 : unicode_decimal_value(c);
        if (c < 127) t[n++] = (char)c;
        else if (unicode_isspace(c)) t[n++] = ' ';
        else if (digit >= 0) t[n++] = (char)('0' + digit);
        else {
            t[n++] = '?';
            break;
        }
    }
    t[n] = '\0';
    *owned = t;
    *length = n;
    return t;
}

static bool int_construct(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    static const char *const names[] = {"base", NULL};
    Value kw[1] = {EMPTY_VAL};
    argc--;
    args++;
    if (argc + kwcount(kwnames) > 2)
        return vm_raise(vm, CLS_TYPE_ERROR, "int() takes at most 2 arguments (%d given)",
                        argc + kwcount(kwnames));
    if (argc == 2) kw[0] = args[1];
    if (!clinic_kwargs(vm, "int", args, argc, kwnames, names, kw)) return false;
    if (argc == 0) {
        if (!IS_EMPTY(kw[0]))
            return vm_raise(vm, CLS_TYPE_ERROR, "int() missing string argument");
        *out = INT_VAL(0);
        return true;
    }
    Value x = args[0];
    int64_t base = 10;
    if (!IS_EMPTY(kw[0])) {
        if (!as_index(vm, kw[0], &base)) return false;
        if (!is_str(x))
            return vm_raise(vm, CLS_TYPE_ERROR,
                            "int() can't convert non-string with explicit base");
        if (base != 0 && (base < 2 || base > 36))
            return vm_raise(vm, CLS_VALUE_ERROR, "int() base must be >= 2 and <= 36, or 0");
    }
    if (is_str(x)) {
        ObjString *s = as_str(x);
        int64_t v;
        size_t length;
        char *owned;
        const char *text = number_text(s, &length, &owned);
        int r = numfmt_parse_int(text, length, (int)base, &v);
        free(owned);
        if (r == 0) {
            *out = INT_VAL(v);
            return true;
        }
        if (r == 2)
            return vm_raise(vm, CLS_OVERFLOW_ERROR,
                            "integer overflow: result does not fit in 64 bits");
        StrBuf buf;
        strbuf_init(&buf);
        str_repr(s, &buf);
        vm_raise(vm, CLS_VALUE_ERROR, "invalid literal for int() with base %d: %s", (int)base,
                 buf.chars);
        strbuf_free(&buf);
        return false;
    }
    if (IS_INTLIKE(x)) {
        *out = INT_VAL(AS_INTLIKE(x));
        return true;
    }
    if (IS_FLOAT(x)) {
        int64_t v;
        if (!float_to_int(vm, AS_FLOAT(x), &v)) return false;
        *out = INT_VAL(v);
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR,
                    "int() argument must be a string, a bytes-like object or a real number, "
                    "not '%s'",
                    value_type_name(vm, x));
}

static bool float_construct(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!no_kwargs(vm, "float", kwnames) || !check_args(vm, "float", argc - 1, 0, 1))
        return false;
    if (argc == 1) {
        *out = FLOAT_VAL(0.0);
        return true;
    }
    Value x = args[1];
    if (IS_FLOAT(x)) {
        *out = x;
        return true;
    }
    if (IS_INTLIKE(x)) {
        *out = FLOAT_VAL((double)AS_INTLIKE(x));
        return true;
    }
    if (is_str(x)) {
        ObjString *s = as_str(x);
        double d;
        size_t length;
        char *owned;
        const char *text = number_text(s, &length, &owned);
        bool parsed = numfmt_parse_float(text, length, &d);
        free(owned);
        if (parsed) {
            *out = FLOAT_VAL(d);
            return true;
        }
        StrBuf buf;
        strbuf_init(&buf);
        str_repr(s, &buf);
        vm_raise(vm, CLS_VALUE_ERROR, "could not convert string to float: %s", buf.chars);
        strbuf_free(&buf);
        return false;
    }
    return vm_raise(vm, CLS_TYPE_ERROR,
                    "float() argument must be a string or a real number, not '%s'",
                    value_type_name(vm, x));
}

static bool str_construct(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    static const char *const names[] = {"object", "encoding", "errors", NULL};
    Value kw[3] = {EMPTY_VAL, EMPTY_VAL, EMPTY_VAL};
    argc--;
    args++;
    if (argc + kwcount(kwnames) > 3)
        return vm_raise(vm, CLS_TYPE_ERROR, "str() takes at most 3 arguments (%d given)",
                        argc + kwcount(kwnames));
    for (int i = 0; i < argc; i++) kw[i] = args[i];
    if (!clinic_kwargs(vm, "str", args, argc, kwnames, names, kw)) return false;
    if (!IS_EMPTY(kw[1]) || !IS_EMPTY(kw[2])) {
        for (int i = 1; i < 3; i++)
            if (!IS_EMPTY(kw[i]) && !is_str(kw[i]))
                return vm_raise(vm, CLS_TYPE_ERROR, "str() argument '%s' must be str, not %s",
                                names[i], value_type_name(vm, kw[i]));
        if (is_str(kw[0])) return vm_raise(vm, CLS_TYPE_ERROR, "decoding str is not supported");
        return vm_raise(vm, CLS_TYPE_ERROR, "decoding to str: need a bytes-like object, %s found",
                        value_type_name(vm, kw[0]));
    }
    if (IS_EMPTY(kw[0])) {
        *out = OBJ_VAL(vm->s_empty);
        return true;
    }
    ObjString *s = value_to_str(vm, kw[0]);
    if (!s) return false;
    *out = OBJ_VAL(s);
    return true;
}

// list(), tuple(), set(), frozenset(): at most one iterable, no keywords.
static ObjList *iterable_arg(VM *vm, const char *name, Value *args, int argc,
                             ObjTuple *kwnames, bool *empty) {
    *empty = false;
    if (!no_kwargs(vm, name, kwnames) || !check_args(vm, name, argc - 1, 0, 1)) return NULL;
    if (argc == 1) {
        *empty = true;
        return list_new(vm, 0);
    }
    return value_to_list(vm, args[1]);
}

static bool list_construct(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    bool empty;
    ObjList *items = iterable_arg(vm, "list", args, argc, kwnames, &empty);
    if (!items) return false;
    *out = OBJ_VAL(items);
    return true;
}

static bool tuple_construct(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (argc == 2 && IS_OBJ_TYPE(args[1], OBJ_TUPLE) && kwcount(kwnames) == 0) {
        *out = args[1];
        return true;
    }
    bool empty;
    ObjList *items = iterable_arg(vm, "tuple", args, argc, kwnames, &empty);
    if (!items) return false;
    *out = OBJ_VAL(tuple_from(vm, items->items, items->length));
    return true;
}

static bool make_set(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out, bool frozen) {
    const char *name = frozen ? "frozenset" : "set";
    if (frozen && argc == 2 && IS_OBJ_TYPE(args[1], OBJ_SET) &&
        ((ObjSet *)AS_OBJ(args[1]))->frozen && kwcount(kwnames) == 0) {
        *out = args[1];
        return true;
    }
    bool empty;
    ObjList *items = iterable_arg(vm, name, args, argc, kwnames, &empty);
    if (!items) return false;
    ObjSet *s = set_new(vm, frozen);
    for (uint32_t i = 0; i < items->length; i++)
        if (!set_add(vm, s, items->items[i])) return false;
    *out = OBJ_VAL(s);
    return true;
}

static bool set_construct(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    return make_set(vm, args, argc, kwnames, out, false);
}

static bool frozenset_construct(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    return make_set(vm, args, argc, kwnames, out, true);
}

static bool dict_construct(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!check_args(vm, "dict", argc - 1, 0, 1)) return false;
    ObjDict *d = dict_new(vm);
    if (argc == 2) {
        // An iterable of pairs may run bytecode (map, generators).
        vm_push_root(vm, OBJ_VAL(d));
        bool ok = dict_update(vm, d, args[1]);
        vm_pop_roots(vm, 1);
        if (!ok) return false;
    }
    for (int i = 0; i < kwcount(kwnames); i++)
        if (!dict_set(vm, d, kwnames->items[i], args[argc + i])) return false;
    *out = OBJ_VAL(d);
    return true;
}

// ---- the namespace ------------------------------------------------------------------------------

static bool is_internal_class(VM *vm, int id) {
    switch (id) {
    case CLS_NONETYPE: case CLS_ITERATOR: case CLS_CODE: case CLS_FUNCTION: case CLS_CELL:
    case CLS_BUILTIN_FUNCTION: case CLS_METHOD: case CLS_MODULE: case CLS_COROUTINE:
    case CLS_FUTURE: case CLS_TASK: case CLS_HANDLE: case CLS_TIMER_HANDLE: case CLS_LOOP:
    case CLS_PARTIAL: case CLS_SLEEP: case CLS_DICT_KEYS: case CLS_DICT_VALUES:
    case CLS_DICT_ITEMS: case CLS_ELLIPSIS: case CLS_TEXTIO: case CLS_CANCELLED_ERROR:
    case CLS_INVALID_STATE_ERROR: case CLS_QUEUE_EMPTY: case CLS_QUEUE_FULL:
        return true;
    case CLS_LIST_ITERATOR: case CLS_TUPLE_ITERATOR: case CLS_STR_ASCII_ITERATOR: case CLS_STR_ITERATOR:
    case CLS_RANGE_ITERATOR: case CLS_DICT_KEYITERATOR: case CLS_DICT_VALUEITERATOR:
    case CLS_DICT_ITEMITERATOR: case CLS_SET_ITERATOR: case CLS_ENUMERATE: case CLS_ZIP: case CLS_MAP:
    case CLS_FILTER: case CLS_LIST_REVERSEITERATOR: case CLS_REVERSED: case CLS_CALLABLE_ITERATOR:
        return true; // named like CPython's, but map/zip/... stay functions here
    default:
        return false;
    }
}

void builtins_init(VM *vm) {
    ObjDict *b = vm->builtins;
    for (int id = 0; id < CLS__COUNT; id++) {
        ObjClass *cls = vm->classes[id];
        if (!cls || is_internal_class(vm, id)) continue;
        dict_set_str(vm, b, cls->name, OBJ_VAL(cls));
    }
    vm->classes[CLS_OBJECT]->construct = object_construct;
    vm->classes[CLS_TYPE]->construct = type_construct;
    vm->classes[CLS_BOOL]->construct = bool_construct;
    vm->classes[CLS_INT]->construct = int_construct;
    vm->classes[CLS_FLOAT]->construct = float_construct;
    vm->classes[CLS_STR]->construct = str_construct;
    vm->classes[CLS_TUPLE]->construct = tuple_construct;
    vm->classes[CLS_LIST]->construct = list_construct;
    vm->classes[CLS_DICT]->construct = dict_construct;
    vm->classes[CLS_SET]->construct = set_construct;
    vm->classes[CLS_FROZENSET]->construct = frozenset_construct;
    vm->classes[CLS_RANGE]->construct = range_construct;
    vm->classes[CLS_SLICE]->construct = slice_construct;

    define_native(vm, b, "print", builtin_print, true);
    define_native(vm, b, "input", builtin_input, false);
    define_native(vm, b, "len", builtin_len, false);
    define_native(vm, b, "enumerate", builtin_enumerate, true);
    define_native(vm, b, "zip", builtin_zip, true);
    define_native(vm, b, "map", builtin_map, false);
    define_native(vm, b, "filter", builtin_filter, false);
    define_native(vm, b, "reversed", builtin_reversed, false);
    define_native(vm, b, "sorted", builtin_sorted, true);
    define_native(vm, b, "min", builtin_min, true);
    define_native(vm, b, "max", builtin_max, true);
    define_native(vm, b, "sum", builtin_sum, true);
    define_native(vm, b, "any", builtin_any, false);
    define_native(vm, b, "all", builtin_all, false);
    define_native(vm, b, "iter", builtin_iter, false);
    define_native(vm, b, "next", builtin_next, false);
    define_native(vm, b, "abs", builtin_abs, false);
    define_native(vm, b, "round", builtin_round, true);
    define_native(vm, b, "divmod", builtin_divmod, false);
    define_native(vm, b, "pow", builtin_pow, true);
    define_native(vm, b, "hex", builtin_hex, false);
    define_native(vm, b, "oct", builtin_oct, false);
    define_native(vm, b, "bin", builtin_bin, false);
    define_native(vm, b, "ord", builtin_ord, false);
    define_native(vm, b, "chr", builtin_chr, false);
    define_native(vm, b, "repr", builtin_repr, false);
    define_native(vm, b, "ascii", builtin_ascii, false);
    define_native(vm, b, "hash", builtin_hash, false);
    define_native(vm, b, "id", builtin_id, false);
    define_native(vm, b, "callable", builtin_callable, false);
    define_native(vm, b, "getattr", builtin_getattr, false);
    define_native(vm, b, "hasattr", builtin_hasattr, false);
    define_native(vm, b, "setattr", builtin_setattr, false);
    define_native(vm, b, "format", builtin_format, false);
    define_native(vm, b, "isinstance", builtin_isinstance, false);
    define_native(vm, b, "issubclass", builtin_issubclass, false);
    define_native(vm, b, "dir", builtin_dir, false);
    define_native(vm, b, "exit", builtin_exit, false);
    define_native(vm, b, "quit", builtin_exit, false);
}
