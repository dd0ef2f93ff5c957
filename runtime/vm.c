// runtime/vm.c - creating and freeing the VM: builtin classes, the builtins
// namespace, the builtin module table, buffered stdout and temporary roots.
#include "runtime/vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/async.h"
#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/modules.h"

volatile sig_atomic_t vm_interrupt = 0;

ObjClass *class_new(VM *vm, const char *name, ObjClass *base) {
    ObjClass *cls = ALLOC_OBJ(vm, ObjClass, OBJ_CLASS);
    cls->name = str_intern(vm, name, strlen(name));
    cls->base = base;
    cls->dict = dict_new(vm);
    cls->module = "builtins";
    return cls;
}

void class_add_method(VM *vm, ObjClass *cls, const char *name, NativeFn fn,
                      bool takes_kwargs) {
    ObjNative *native = native_new(vm, name, fn, takes_kwargs);
    dict_set_str(vm, cls->dict, str_intern(vm, name, strlen(name)), OBJ_VAL(native));
}

Value *class_lookup(ObjClass *cls, ObjString *name) {
    for (; cls; cls = cls->base) {
        Value *found = dict_find_str(cls->dict, name);
        if (found) return found;
    }
    return NULL;
}

static void make_classes(VM *vm) {
#define X(id, name) vm->classes[CLS_##id] = class_new(vm, name, NULL);
    BUILTIN_CLASSES(X)
#undef X
    for (int i = 1; i < CLS_BASE_EXCEPTION; i++) vm->classes[i]->base = vm->classes[CLS_OBJECT];
    vm->classes[CLS_BOOL]->base = vm->classes[CLS_INT];
    vm->classes[CLS_TASK]->base = vm->classes[CLS_FUTURE];
    vm->classes[CLS_TIMER_HANDLE]->base = vm->classes[CLS_HANDLE];
    // each kind of iterator has CPython's type name; methods live on 'iterator'
    for (int id = CLS_LIST_ITERATOR; id <= CLS_CALLABLE_ITERATOR; id++)
        vm->classes[id]->base = vm->classes[CLS_ITERATOR];
#define X(id, name, base) vm->classes[CLS_##id] = class_new(vm, name, vm->classes[CLS_##base]);
    BUILTIN_EXCEPTIONS(X)
#undef X
    vm->classes[CLS_FUTURE]->module = "asyncio";
    vm->classes[CLS_TASK]->module = "asyncio";
    vm->classes[CLS_HANDLE]->module = "asyncio";
    vm->classes[CLS_TIMER_HANDLE]->module = "asyncio";
    vm->classes[CLS_LOOP]->module = "asyncio.unix_events";
    vm->classes[CLS_PARTIAL]->module = "functools";
    vm->classes[CLS_CANCELLED_ERROR]->module = "asyncio.exceptions";
    vm->classes[CLS_INVALID_STATE_ERROR]->module = "asyncio.exceptions";
    vm->classes[CLS_QUEUE_EMPTY]->module = "asyncio.queues";
    vm->classes[CLS_QUEUE_FULL]->module = "asyncio.queues";

    str_init_class(vm, vm->classes[CLS_STR]);
    tuple_init_class(vm, vm->classes[CLS_TUPLE]);
    list_init_class(vm, vm->classes[CLS_LIST]);
    dict_init_class(vm, vm->classes[CLS_DICT]);
    dictview_init_classes(vm);
    set_init_class(vm, vm->classes[CLS_SET], false);
    set_init_class(vm, vm->classes[CLS_FROZENSET], true);
    range_init_class(vm, vm->classes[CLS_RANGE]);
    coroutine_init_class(vm, vm->classes[CLS_COROUTINE]);
    exception_init_classes(vm);
}

VM *vm_new(void) {
    VM *vm = calloc(1, sizeof(VM));
    if (!vm) return NULL;
    vm->next_gc = 4u << 20;
    vm->exception = EMPTY_VAL;
    vm->recursion_limit = 1000;
    vm->fuel = -1;
    vm->fiber = &vm->main_fiber;
    vm->main_fiber.handling = NONE_VAL;
    vm->timer_seq = 1;
    const char *stress = getenv("ASYNCRUN_GC_STRESS");
    vm->gc_stress = stress && stress[0] && stress[0] != '0';
    vm->s_main = str_intern(vm, "__main__", 8);
    vm->s_name = str_intern(vm, "__name__", 8);
    vm->s_init = str_intern(vm, "__init__", 8);
    vm->s_empty = str_intern(vm, "", 0);
    vm->builtins = dict_new(vm);
    vm->modules = dict_new(vm);
    vm->argv = list_new(vm, 0);
    make_classes(vm);
    builtins_init(vm);
    class_init_builtins(vm);
    vm->main_globals = dict_new(vm);
    dict_set_str(vm, vm->main_globals, vm->s_name, OBJ_VAL(vm->s_main));
    return vm;
}

void vm_free(VM *vm) {
    if (!vm) return;
    vm_flush_out(vm);
    vm->exception = EMPTY_VAL;
    vm->collecting = true; // no collection while the last reports run
    gc_report_all(vm);
    vm_flush_out(vm);
    gc_free_all(vm);
    free(vm->main_fiber.stack);
    if (vm->main_fiber.frames != &vm->main_fiber.first_frame) free(vm->main_fiber.frames);
    for (int i = 0; i <= VM_MAX_NATIVE_DEPTH && vm->aux_fibers[i]; i++) {
        free(vm->aux_fibers[i]->stack);
        if (vm->aux_fibers[i]->frames != &vm->aux_fibers[i]->first_frame) free(vm->aux_fibers[i]->frames);
        free(vm->aux_fibers[i]);
    }
    free(vm->intern);
    free(vm->roots);
    strbuf_free(&vm->out);
    free(vm);
}

void vm_grow_roots(VM *vm) {
    size_t cap = vm->root_capacity ? vm->root_capacity * 2 : 64;
    Value *roots = realloc(vm->roots, cap * sizeof(Value));
    if (!roots) abort();
    vm->roots = roots;
    vm->root_capacity = cap;
}

void vm_write_out(VM *vm, const char *chars, size_t length) {
    strbuf_append(&vm->out, chars, length);
    if (vm->out.length >= 8192) vm_flush_out(vm);
}

void vm_flush_out(VM *vm) {
    size_t done = 0;
    while (done < vm->out.length) {
        ssize_t n = write(STDOUT_FILENO, vm->out.chars + done, vm->out.length - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            vm->out_errno = n < 0 ? errno : EIO;
            break;
        }
        done += (size_t)n;
    }
    vm->out.length = 0;
}

bool vm_check_out(VM *vm) {
    int err = vm->out_errno;
    if (!err) return true;
    vm->out_errno = 0;
    int cls = err == EPIPE ? CLS_BROKEN_PIPE_ERROR : CLS_OS_ERROR;
    Value args[2] = {INT_VAL(err), OBJ_VAL(str_from_cstr(vm, strerror(err)))};
    vm_push_root(vm, args[1]);
    ObjTuple *t = tuple_from(vm, args, 2);
    vm_pop_roots(vm, 1);
    return vm_raise_value(vm, OBJ_VAL(exception_new(vm, vm->classes[cls], t)));
}

ObjClass *value_class(VM *vm, Value v) {
    switch (v.tag) {
    case VAL_NONE: return vm->classes[CLS_NONETYPE];
    case VAL_BOOL: return vm->classes[CLS_BOOL];
    case VAL_INT: return vm->classes[CLS_INT];
    case VAL_FLOAT: return vm->classes[CLS_FLOAT];
    case VAL_EMPTY: return vm->classes[CLS_NONETYPE];
    default: break;
    }
    Obj *o = AS_OBJ(v);
    switch ((ObjType)o->type) {
    case OBJ_STRING: return vm->classes[CLS_STR];
    case OBJ_TUPLE: return vm->classes[CLS_TUPLE];
    case OBJ_LIST: return vm->classes[CLS_LIST];
    case OBJ_DICT: return vm->classes[CLS_DICT];
    case OBJ_SET: return vm->classes[((ObjSet *)o)->frozen ? CLS_FROZENSET : CLS_SET];
    case OBJ_RANGE: return vm->classes[CLS_RANGE];
    case OBJ_ITER: {
        ObjIter *it = (ObjIter *)o;
        switch ((IterKind)it->kind) {
        case ITER_RANGE: return vm->classes[CLS_RANGE_ITERATOR];
        case ITER_LIST: return vm->classes[CLS_LIST_ITERATOR];
        case ITER_TUPLE: return vm->classes[CLS_TUPLE_ITERATOR];
        case ITER_STR: {
            const ObjString *s = IS_OBJ_TYPE(it->source, OBJ_STRING) ? (ObjString *)AS_OBJ(it->source) : NULL;
            return vm->classes[s && s->cp_length != s->length ? CLS_STR_ITERATOR : CLS_STR_ASCII_ITERATOR];
        }
        case ITER_DICT_KEYS: return vm->classes[CLS_DICT_KEYITERATOR];
        case ITER_DICT_VALUES: return vm->classes[CLS_DICT_VALUEITERATOR];
        case ITER_DICT_ITEMS: return vm->classes[CLS_DICT_ITEMITERATOR];
        case ITER_SET: return vm->classes[CLS_SET_ITERATOR];
        case ITER_ENUMERATE: return vm->classes[CLS_ENUMERATE];
        case ITER_ZIP: return vm->classes[CLS_ZIP];
        case ITER_MAP: return vm->classes[CLS_MAP];
        case ITER_FILTER: return vm->classes[CLS_FILTER];
        case ITER_REVERSED:
            return vm->classes[IS_OBJ_TYPE(it->source, OBJ_LIST) ? CLS_LIST_REVERSEITERATOR : CLS_REVERSED];
        case ITER_CALLABLE: return vm->classes[CLS_CALLABLE_ITERATOR];
        }
        return vm->classes[CLS_ITERATOR];
    }
    case OBJ_CODE: return vm->classes[CLS_CODE];
    case OBJ_FUNCTION: return vm->classes[CLS_FUNCTION];
    case OBJ_CELL: return vm->classes[CLS_CELL];
    case OBJ_NATIVE: return vm->classes[CLS_BUILTIN_FUNCTION];
    case OBJ_BOUND: return vm->classes[CLS_METHOD];
    case OBJ_CLASS: return vm->classes[CLS_TYPE];
    case OBJ_EXCEPTION: return ((ObjException *)o)->cls;
    case OBJ_MODULE: return vm->classes[CLS_MODULE];
    case OBJ_COROUTINE: return vm->classes[CLS_COROUTINE];
    case OBJ_FUTURE: return vm->classes[CLS_FUTURE];
    case OBJ_TASK: return vm->classes[CLS_TASK];
    case OBJ_HANDLE:
        return vm->classes[((ObjHandle *)o)->is_timer ? CLS_TIMER_HANDLE : CLS_HANDLE];
    case OBJ_LOOP: return vm->classes[CLS_LOOP];
    case OBJ_PARTIAL: return vm->classes[CLS_PARTIAL];
    case OBJ_SLEEP: return vm->classes[CLS_SLEEP];
    case OBJ_DICTVIEW: {
        uint8_t kind = ((ObjDictView *)o)->kind;
        return vm->classes[kind == ITER_DICT_KEYS ? CLS_DICT_KEYS
                           : kind == ITER_DICT_VALUES ? CLS_DICT_VALUES : CLS_DICT_ITEMS];
    }
    case OBJ_SLICE: return vm->classes[CLS_SLICE];
    case OBJ_SUPER: return vm->classes[CLS_SUPER];
    case OBJ_INSTANCE: return ((ObjInstance *)o)->cls;
    case OBJ__COUNT: break;
    }
    return vm->classes[CLS_OBJECT];
}

const char *value_type_name(VM *vm, Value v) { return value_class(vm, v)->name->chars; }

bool vm_import(VM *vm, ObjString *name, Value *out) {
    Value *found = dict_find_str(vm->modules, name);
    if (found) {
        *out = *found;
        return true;
    }
    ObjModule *module = NULL;
    if (strcmp(name->chars, "asyncio") == 0) module = mod_asyncio_new(vm);
    else if (strcmp(name->chars, "functools") == 0) module = mod_functools_new(vm);
    else if (strcmp(name->chars, "time") == 0) module = mod_time_new(vm);
    else if (strcmp(name->chars, "sys") == 0) module = mod_sys_new(vm);
    if (!module && !IS_EMPTY(vm->exception)) return false; // the module failed to initialise
    if (!module)
        return vm_raise(vm, CLS_MODULE_NOT_FOUND_ERROR, "No module named '%s'", name->chars);
    dict_set_str(vm, vm->modules, name, OBJ_VAL(module));
    *out = OBJ_VAL(module);
    return true;
}
