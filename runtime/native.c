// runtime/native.c - native functions and builtin modules: creating them and
// checking their arguments with CPython's error messages.
#include <string.h>

#include "runtime/gc.h"

ObjNative *native_new(VM *vm, const char *name, NativeFn fn, bool takes_kwargs) {
    ObjNative *native = ALLOC_OBJ(vm, ObjNative, OBJ_NATIVE);
    native->fn = fn;
    native->name = name;
    native->self = EMPTY_VAL;
    native->takes_kwargs = takes_kwargs;
    return native;
}

void define_native(VM *vm, ObjDict *dict, const char *name, NativeFn fn,
                   bool takes_kwargs) {
    ObjNative *native = native_new(vm, name, fn, takes_kwargs);
    dict_set_str(vm, dict, str_intern(vm, name, strlen(name)), OBJ_VAL(native));
}

ObjModule *module_new(VM *vm, const char *name) {
    ObjModule *module = ALLOC_OBJ(vm, ObjModule, OBJ_MODULE);
    module->name = str_intern(vm, name, strlen(name));
    module->dict = dict_new(vm);
    dict_set_str(vm, module->dict, vm->s_name, OBJ_VAL(module->name));
    return module;
}

bool native_kwargs(VM *vm, const char *fn, Value *args, int argc,
                   ObjTuple *kwnames, const char *const *names, Value *outs) {
    if (!kwnames) return true;
    for (uint32_t i = 0; i < kwnames->length; i++) {
        ObjString *key = (ObjString *)AS_OBJ(kwnames->items[i]);
        int j = 0;
        while (names[j] && strcmp(names[j], key->chars) != 0) j++;
        if (!names[j])
            return vm_raise(vm, CLS_TYPE_ERROR, "%s() got an unexpected keyword argument '%s'",
                            fn, key->chars);
        outs[j] = args[argc + (int)i];
    }
    return true;
}

bool native_arity(VM *vm, const char *fn, int argc, int min, int max) {
    if (argc >= min && (max < 0 || argc <= max)) return true;
    if (min == max) {
        if (min == 0)
            return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes no arguments (%d given)", fn, argc);
        if (min == 1)
            return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes exactly one argument (%d given)", fn,
                            argc);
        return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes exactly %d arguments (%d given)", fn, min,
                        argc);
    }
    if (argc < min)
        return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes at least %d argument%s (%d given)", fn,
                        min, min == 1 ? "" : "s", argc);
    return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes at most %d argument%s (%d given)", fn, max,
                    max == 1 ? "" : "s", argc);
}
