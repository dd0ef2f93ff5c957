// runtime/class.c - classes written in the language: building one from its
// body, constructing instances (or exceptions, for subclasses of
// BaseException), super(), and calling the special methods a user class
// defines (__repr__, __eq__, __len__, ...) for the generic operations.
#include <stdlib.h>
#include <string.h>

#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/ops.h"

static bool class_construct(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out);

bool class_is_user(const ObjClass *cls) { return cls->construct == class_construct; }

static bool is_exception_class(VM *vm, ObjClass *cls) {
    return class_is_subclass(cls, vm->classes[CLS_BASE_EXCEPTION]);
}

bool class_build(VM *vm, Value body, Value name_v, Value bases_v, Value *out) {
    ObjTuple *bases = (ObjTuple *)AS_OBJ(bases_v);
    ObjClass *base = vm->classes[CLS_OBJECT];
    if (bases->length > 1)
        return vm_raise(vm, CLS_TYPE_ERROR, "multiple inheritance is not supported in asyncrun");
    if (bases->length == 1) {
        Value b = bases->items[0];
        if (!IS_OBJ_TYPE(b, OBJ_CLASS)) return vm_raise(vm, CLS_TYPE_ERROR, "bases must be types");
        base = (ObjClass *)AS_OBJ(b);
        if (!class_is_user(base) && base != vm->classes[CLS_OBJECT] && !is_exception_class(vm, base))
            return vm_raise(vm, CLS_TYPE_ERROR, "subclassing the builtin type '%s' is not supported in asyncrun",
                            base->name->chars);
    }
    ObjDict *ns = dict_new(vm);
    vm_push_root(vm, OBJ_VAL(ns));
    Value arg = OBJ_VAL(ns), ignored;
    bool ok = vm_call(vm, body, &arg, 1, NULL, &ignored);
    vm_pop_roots(vm, 1);
    if (!ok) return false;
    ObjString *name = (ObjString *)AS_OBJ(name_v);
    ObjClass *cls = class_new(vm, name->chars, base);
    cls->dict = ns;
    cls->construct = class_construct;
    // the module is the defining code's __name__ (interned, kept by its globals)
    Value *module = IS_OBJ_TYPE(body, OBJ_FUNCTION)
                        ? dict_find_str(((ObjFunction *)AS_OBJ(body))->globals, vm->s_name) : NULL;
    ObjString *module_name = module && IS_OBJ_TYPE(*module, OBJ_STRING) ? (ObjString *)AS_OBJ(*module) : vm->s_main;
    cls->module = module_name->chars;
    if (!dict_find_str(ns, str_intern(vm, "__module__", 10)))
        dict_set_str(vm, ns, str_intern(vm, "__module__", 10), OBJ_VAL(module_name));
    uint32_t pos = 0;
    Value key, value;
    while (dict_next(ns, &pos, &key, &value))
        if (IS_OBJ_TYPE(value, OBJ_FUNCTION) && !((ObjFunction *)AS_OBJ(value))->owner)
            ((ObjFunction *)AS_OBJ(value))->owner = cls;
    *out = OBJ_VAL(cls);
    return true;
}

static bool class_construct(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjClass *cls = (ObjClass *)AS_OBJ(args[0]);
    int nkw = kw ? (int)kw->length : 0;
    Value obj;
    bool exception = is_exception_class(vm, cls);
    if (exception) {
        obj = OBJ_VAL(exception_new(vm, cls, tuple_from(vm, args + 1, (uint32_t)(argc - 1))));
    } else {
        ObjInstance *inst = ALLOC_OBJ(vm, ObjInstance, OBJ_INSTANCE);
        inst->cls = cls;
        inst->dict = dict_new(vm);
        obj = OBJ_VAL(inst);
    }
    Value *init = class_lookup(cls, str_intern(vm, "__init__", 8));
    if (init && IS_OBJ_TYPE(*init, OBJ_FUNCTION)) {
        Value small[16];
        int total = argc + nkw;
        Value *argv = total <= 16 ? small : malloc(sizeof(Value) * (size_t)total);
        if (!argv) return vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
        argv[0] = obj;
        if (total > 1) memcpy(argv + 1, args + 1, sizeof(Value) * (size_t)(total - 1));
        vm_push_root(vm, obj);
        Value result;
        bool ok = vm_call(vm, *init, argv, argc, kw, &result);
        vm_pop_roots(vm, 1);
        if (argv != small) free(argv);
        if (!ok) return false;
        if (!IS_NONE(result))
            return vm_raise(vm, CLS_TYPE_ERROR, "__init__() should return None, not '%s'",
                            value_type_name(vm, result));
    } else if (nkw || (argc > 1 && !exception)) {
        return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes no arguments", cls->name->chars);
    }
    *out = obj;
    return true;
}

bool super_getattr(VM *vm, ObjSuper *sup, ObjString *name, Value *out) {
    Value *v = sup->start->base ? class_lookup(sup->start->base, name) : NULL;
    if (!v) return vm_raise(vm, CLS_ATTRIBUTE_ERROR, "'super' object has no attribute '%s'", name->chars);
    if (IS_OBJ_TYPE(*v, OBJ_FUNCTION) || IS_OBJ_TYPE(*v, OBJ_NATIVE)) {
        ObjBound *b = ALLOC_OBJ(vm, ObjBound, OBJ_BOUND);
        b->receiver = sup->self;
        b->method = *v;
        *out = OBJ_VAL(b);
    } else {
        *out = *v;
    }
    return true;
}

static bool builtin_super(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjClass *start;
    Value self;
    if (argc == 2) {
        if (!IS_OBJ_TYPE(args[0], OBJ_CLASS))
            return vm_raise(vm, CLS_TYPE_ERROR, "super() argument 1 must be a type, not %s",
                            value_type_name(vm, args[0]));
        start = (ObjClass *)AS_OBJ(args[0]);
        self = args[1];
    } else if (argc == 0) {
        Fiber *fiber = vm->fiber;
        if (!fiber || fiber->frame_count == 0) return vm_raise(vm, CLS_RUNTIME_ERROR, "super(): no arguments");
        Frame *frame = &fiber->frames[fiber->frame_count - 1];
        ObjFunction *fn = frame->func;
        if (!fn->owner) return vm_raise(vm, CLS_RUNTIME_ERROR, "super(): __class__ cell not found");
        if (fn->code->param_count == 0 && !(fn->code->flags & CODE_VARARGS))
            return vm_raise(vm, CLS_RUNTIME_ERROR, "super(): no arguments");
        start = fn->owner;
        self = fiber->stack[frame->base];
        if (IS_OBJ_TYPE(self, OBJ_CELL)) self = ((ObjCell *)AS_OBJ(self))->value;
    } else {
        return vm_raise(vm, CLS_TYPE_ERROR, "super() takes 0 or 2 arguments (%d given)", argc);
    }
    ObjSuper *sup = ALLOC_OBJ(vm, ObjSuper, OBJ_SUPER);
    sup->start = start;
    sup->self = self;
    *out = OBJ_VAL(sup);
    return true;
}

static bool object_init(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (argc > 1 || (kw && kw->length))
        return vm_raise(vm, CLS_TYPE_ERROR, "object.__init__() takes exactly one argument (the instance to initialize)");
    *out = NONE_VAL;
    return true;
}

static bool exception_init(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (argc < 1 || !IS_OBJ_TYPE(args[0], OBJ_EXCEPTION))
        return vm_raise(vm, CLS_TYPE_ERROR, "descriptor '__init__' requires a 'BaseException' object");
    if (kw && kw->length)
        return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes no keyword arguments",
                        ((ObjException *)AS_OBJ(args[0]))->cls->name->chars);
    ((ObjException *)AS_OBJ(args[0]))->args = tuple_from(vm, args + 1, (uint32_t)(argc - 1));
    *out = NONE_VAL;
    return true;
}

void class_init_builtins(VM *vm) {
    define_native(vm, vm->builtins, "super", builtin_super, false);
    class_add_method(vm, vm->classes[CLS_OBJECT], "__init__", object_init, true);
    class_add_method(vm, vm->classes[CLS_BASE_EXCEPTION], "__init__", exception_init, true);
}

int instance_special(VM *vm, Value obj, const char *name, Value *args, int argc, Value *out) {
    ObjClass *cls = value_class(vm, obj);
    // user classes, and native instance classes (asyncio.Lock, Queue...)
    bool native_instance = !class_is_user(cls) && IS_OBJ_TYPE(obj, OBJ_INSTANCE);
    if (!class_is_user(cls) && !native_instance) return 0;
    Value *fn = class_lookup(cls, str_intern(vm, name, strlen(name)));
    if (!fn || !(IS_OBJ_TYPE(*fn, OBJ_FUNCTION) || (native_instance && IS_OBJ_TYPE(*fn, OBJ_NATIVE)))) return 0;
    Value argv[4];
    argv[0] = obj;
    for (int i = 0; i < argc && i < 3; i++) argv[i + 1] = args[i];
    vm_push_root(vm, obj);
    bool ok = vm_call(vm, *fn, argv, argc + 1, NULL, out);
    vm_pop_roots(vm, 1);
    return ok ? 1 : -1;
}
