// runtime/mod_functools.c - the functools module: partial and reduce.
// A partial of a partial is flattened, as CPython does, so repr shows one level.
#include <stdlib.h>
#include <string.h>

#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/modules.h"
#include "runtime/ops.h"

static bool callable_value(Value v) {
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

// partial(func, /, *args, **keywords); args[0] is the class.
static bool partial_construct(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    args++;
    argc--;
    if (argc < 1)
        return vm_raise(vm, CLS_TYPE_ERROR, "type 'partial' takes at least one argument");
    if (!callable_value(args[0]))
        return vm_raise(vm, CLS_TYPE_ERROR, "the first argument must be callable");
    Value func = args[0];
    ObjTuple *inner_args = NULL;
    ObjDict *kwargs = dict_new(vm);
    if (IS_OBJ_TYPE(func, OBJ_PARTIAL)) {
        ObjPartial *inner = (ObjPartial *)AS_OBJ(func);
        func = inner->func;
        inner_args = inner->args;
        if (inner->kwargs) {
            uint32_t pos = 0;
            Value key, value;
            while (dict_next(inner->kwargs, &pos, &key, &value))
                if (!dict_set(vm, kwargs, key, value)) return false;
        }
    }
    uint32_t n_inner = inner_args ? inner_args->length : 0;
    ObjTuple *all = tuple_new(vm, n_inner + (uint32_t)(argc - 1));
    for (uint32_t i = 0; i < n_inner; i++) all->items[i] = inner_args->items[i];
    for (int i = 1; i < argc; i++) all->items[n_inner + (uint32_t)i - 1] = args[i];
    int nkw = kwnames ? (int)kwnames->length : 0;
    for (int i = 0; i < nkw; i++)
        if (!dict_set(vm, kwargs, kwnames->items[i], args[argc + i])) return false;
    ObjPartial *p = ALLOC_OBJ(vm, ObjPartial, OBJ_PARTIAL);
    p->func = func;
    p->args = all;
    p->kwargs = kwargs;
    *out = OBJ_VAL(p);
    return true;
}

bool partial_call(VM *vm, ObjPartial *partial, Value *args, int argc, ObjTuple *kwnames,
                  Value *out) {
    uint32_t n_stored = partial->args ? partial->args->length : 0;
    uint32_t n_call_kw = kwnames ? kwnames->length : 0;
    uint32_t n_stored_kw = partial->kwargs ? partial->kwargs->count : 0;
    uint32_t npos = n_stored + (uint32_t)argc;
    // Keywords: the stored ones in their order (a call's value overrides in
    // place), then the call's new ones.
    uint32_t cap = npos + n_stored_kw + n_call_kw;
    Value *values = malloc(sizeof(Value) * (cap ? cap : 1));
    ObjString **names = malloc(sizeof(ObjString *) * (n_stored_kw + n_call_kw + 1));
    if (!values || !names) abort();
    for (uint32_t i = 0; i < n_stored; i++) values[i] = partial->args->items[i];
    for (int i = 0; i < argc; i++) values[n_stored + (uint32_t)i] = args[i];
    uint32_t nkw = 0;
    if (partial->kwargs) {
        uint32_t pos = 0;
        Value key, value;
        while (dict_next(partial->kwargs, &pos, &key, &value)) {
            names[nkw] = (ObjString *)AS_OBJ(key);
            values[npos + nkw++] = value;
        }
    }
    for (uint32_t i = 0; i < n_call_kw; i++) {
        ObjString *key = (ObjString *)AS_OBJ(kwnames->items[i]);
        uint32_t j = 0;
        while (j < nkw && !str_equal(names[j], key)) j++;
        names[j] = key;
        values[npos + j] = args[argc + (int)i];
        if (j == nkw) nkw++;
    }
    ObjTuple *call_names = NULL;
    if (nkw > 0) {
        call_names = tuple_new(vm, nkw);
        for (uint32_t i = 0; i < nkw; i++) call_names->items[i] = OBJ_VAL(names[i]);
        vm_push_root(vm, OBJ_VAL(call_names));
    }
    bool ok = vm_call(vm, partial->func, values, (int)npos, call_names, out);
    if (call_names) vm_pop_roots(vm, 1);
    free(values);
    free(names);
    return ok;
}

// reduce(function, iterable[, initial])
static bool functools_reduce(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (argc < 2 || argc > 3)
        return vm_raise(vm, CLS_TYPE_ERROR, "reduce expected %s %d arguments, got %d",
                        argc < 2 ? "at least" : "at most", argc < 2 ? 2 : 3, argc);
    // hold: iterator, accumulator, item
    ObjTuple *hold = tuple_new(vm, 3);
    vm_push_root(vm, OBJ_VAL(hold));
    bool ok = value_iter(vm, args[1], &hold->items[0]);
    if (!ok && exception_matches(vm, vm->exception, CLS_TYPE_ERROR)) {
        vm->exception = EMPTY_VAL;
        vm_raise(vm, CLS_TYPE_ERROR, "reduce() arg 2 must support iteration");
    }
    bool have = argc == 3;
    if (have) hold->items[1] = args[2];
    while (ok) {
        int r = iter_next(vm, hold->items[0], &hold->items[2]);
        if (r <= 0) {
            ok = r == 0;
            break;
        }
        if (!have) {
            hold->items[1] = hold->items[2];
            have = true;
            continue;
        }
        Value pair[2] = {hold->items[1], hold->items[2]};
        ok = vm_call(vm, args[0], pair, 2, NULL, &hold->items[1]);
    }
    vm_pop_roots(vm, 1);
    if (!ok) return false;
    if (!have)
        return vm_raise(vm, CLS_TYPE_ERROR, "reduce() of empty iterable with no initial value");
    *out = hold->items[1];
    return true;
}

ObjModule *mod_functools_new(VM *vm) {
    ObjModule *m = module_new(vm, "functools");
    ObjClass *partial = vm->classes[CLS_PARTIAL];
    partial->construct = partial_construct;
    dict_set_str(vm, m->dict, partial->name, OBJ_VAL(partial));
    define_native(vm, m->dict, "reduce", functools_reduce, false);
    return m;
}
