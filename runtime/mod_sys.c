// runtime/mod_sys.c - the sys module: argv, exit, stdout/stderr, the
// recursion limit and version constants.
// stdout writes go through the VM's buffer; stderr flushes it first.
#include <stdio.h>
#include <string.h>

#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/modules.h"

static bool sys_exit(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (argc > 1)
        return vm_raise(vm, CLS_TYPE_ERROR, "exit expected at most 1 argument, got %d", argc);
    ObjTuple *t = tuple_from(vm, args, (uint32_t)argc);
    return vm_raise_value(vm, OBJ_VAL(exception_new(vm, vm->classes[CLS_SYSTEM_EXIT], t)));
}

static bool sys_getrecursionlimit(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!native_arity(vm, "sys.getrecursionlimit", argc, 0, 0)) return false;
    *out = INT_VAL(vm->recursion_limit);
    return true;
}

static bool sys_setrecursionlimit(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!native_arity(vm, "sys.setrecursionlimit", argc, 1, 1)) return false;
    if (!IS_INTLIKE(args[0]))
        return vm_raise(vm, CLS_TYPE_ERROR, "'%s' object cannot be interpreted as an integer",
                        value_type_name(vm, args[0]));
    int64_t n = AS_INTLIKE(args[0]);
    if (n < 1)
        return vm_raise(vm, CLS_VALUE_ERROR, "recursion limit must be greater or equal than 1");
    if (n > 0x7fffffff)
        return vm_raise(vm, CLS_OVERFLOW_ERROR, "Python int too large to convert to C int");
    vm->recursion_limit = (int)n;
    *out = NONE_VAL;
    return true;
}

// TextIOWrapper.write(s): the number of code points written.
static bool textio_write(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!native_arity(vm, "write", argc - 1, 1, 1)) return false;
    if (!IS_OBJ_TYPE(args[1], OBJ_STRING))
        return vm_raise(vm, CLS_TYPE_ERROR, "write() argument must be str, not %s",
                        value_type_name(vm, args[1]));
    ObjInstance *self = (ObjInstance *)AS_OBJ(args[0]);
    ObjString *s = (ObjString *)AS_OBJ(args[1]);
    if (self->native == (void *)stderr) {
        vm_flush_out(vm);
        fwrite(s->chars, 1, s->length, stderr);
        fflush(stderr);
    } else {
        vm_write_out(vm, s->chars, s->length);
        if (!vm_check_out(vm)) return false;
    }
    *out = INT_VAL(s->cp_length);
    return true;
}

static bool textio_flush(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!native_arity(vm, "flush", argc - 1, 0, 0)) return false;
    ObjInstance *self = (ObjInstance *)AS_OBJ(args[0]);
    if (self->native == (void *)stderr) fflush(stderr);
    else vm_flush_out(vm);
    *out = NONE_VAL;
    return self->native == (void *)stderr || vm_check_out(vm);
}

static void set_str(VM *vm, ObjDict *dict, const char *name, const char *value) {
    dict_set_str(vm, dict, str_intern(vm, name, strlen(name)), OBJ_VAL(str_from_cstr(vm, value)));
}

static void set_value(VM *vm, ObjDict *dict, const char *name, Value value) {
    dict_set_str(vm, dict, str_intern(vm, name, strlen(name)), value);
}

static ObjInstance *stream_new(VM *vm, FILE *file, const char *name) {
    ObjInstance *inst = ALLOC_OBJ(vm, ObjInstance, OBJ_INSTANCE);
    inst->cls = vm->classes[CLS_TEXTIO];
    inst->dict = dict_new(vm);
    inst->native = file;
    set_str(vm, inst->dict, "name", name);
    set_str(vm, inst->dict, "mode", "w");
    set_str(vm, inst->dict, "encoding", "utf-8");
    return inst;
}

ObjModule *mod_sys_new(VM *vm) {
    ObjModule *m = module_new(vm, "sys");
    ObjDict *d = m->dict;
    ObjClass *textio = vm->classes[CLS_TEXTIO];
    textio->module = "_io";
    if (!dict_find_str(textio->dict, str_intern(vm, "write", 5))) {
        class_add_method(vm, textio, "write", textio_write, false);
        class_add_method(vm, textio, "flush", textio_flush, false);
    }
    set_value(vm, d, "argv", OBJ_VAL(vm->argv));
    set_value(vm, d, "modules", OBJ_VAL(vm->modules));
    set_value(vm, d, "stdout", OBJ_VAL(stream_new(vm, stdout, "<stdout>")));
    set_value(vm, d, "stderr", OBJ_VAL(stream_new(vm, stderr, "<stderr>")));
    set_str(vm, d, "version", "3.11.0 (asyncrun)");
    set_str(vm, d, "platform", "linux");
    set_value(vm, d, "maxsize", INT_VAL(INT64_MAX));
    Value version[5] = {INT_VAL(3), INT_VAL(11), INT_VAL(0),
                        OBJ_VAL(str_from_cstr(vm, "final")), INT_VAL(0)};
    set_value(vm, d, "version_info", OBJ_VAL(tuple_from(vm, version, 5)));
    define_native(vm, d, "exit", sys_exit, false);
    define_native(vm, d, "getrecursionlimit", sys_getrecursionlimit, false);
    define_native(vm, d, "setrecursionlimit", sys_setrecursionlimit, false);
    return m;
}
