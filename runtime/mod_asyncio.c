// runtime/mod_asyncio.c - the asyncio module: run, sleep, gather, tasks and
// loop accessors. Mirrors asyncio/runners.py, tasks.py (gather) and
// events.py (get_event_loop) so that output order matches CPython.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/async.h"
#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/modules.h"
#include "runtime/ops.h"

bool loop_create_task(VM *vm, ObjLoop *loop, Value coro, Value name, Value *out);

static bool running_loop(VM *vm, ObjLoop **out) {
    *out = loop_get_running(vm);
    if (!*out) return vm_raise(vm, CLS_RUNTIME_ERROR, "no running event loop");
    return true;
}

bool asyncio_get_event_loop(VM *vm, Value *out) {
    ObjLoop *loop = loop_get_running(vm);
    if (!loop) {
        if (!vm->current_loop) {
            if (vm->loop_set_called)
                return vm_raise(vm, CLS_RUNTIME_ERROR, "There is no current event loop in thread 'MainThread'.");
            vm->current_loop = loop_new(vm);
        }
        loop = vm->current_loop;
    }
    *out = OBJ_VAL(loop);
    return true;
}

static bool f_get_event_loop(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!native_arity(vm, "get_event_loop", argc, 0, 0)) return false;
    return asyncio_get_event_loop(vm, out);
}

static bool f_new_event_loop(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!native_arity(vm, "new_event_loop", argc, 0, 0)) return false;
    *out = OBJ_VAL(loop_new(vm));
    return true;
}

static bool f_set_event_loop(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!native_arity(vm, "set_event_loop", argc, 1, 1)) return false;
    if (!IS_NONE(args[0]) && !IS_OBJ_TYPE(args[0], OBJ_LOOP))
        return vm_raise(vm, CLS_TYPE_ERROR, "loop must be an instance of AbstractEventLoop or None, not '%s'",
                        value_type_name(vm, args[0]));
    vm->loop_set_called = true;
    vm->current_loop = IS_NONE(args[0]) ? NULL : (ObjLoop *)AS_OBJ(args[0]);
    *out = NONE_VAL;
    return true;
}

static bool f_get_running_loop(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!native_arity(vm, "get_running_loop", argc, 0, 0) || !running_loop(vm, &loop)) return false;
    *out = OBJ_VAL(loop);
    return true;
}

bool asyncio_sleep_args(VM *vm, Value *args, int argc, ObjTuple *kw, double *delay_out, Value *result) {
    static const char *const names[] = {"delay", "result", NULL};
    Value opts[2] = {EMPTY_VAL, NONE_VAL};
    for (int i = 0; i < argc && i < 2; i++) opts[i] = args[i];
    if (argc > 2)
        return vm_raise(vm, CLS_TYPE_ERROR, "sleep() takes from 1 to 2 positional arguments but %d were given", argc);
    if (!native_kwargs(vm, "sleep", args, argc, kw, names, opts)) return false;
    if (IS_EMPTY(opts[0])) return vm_raise(vm, CLS_TYPE_ERROR, "sleep() missing 1 required positional argument: 'delay'");
    double delay;
    if (IS_INTLIKE(opts[0])) delay = (double)AS_INT(opts[0]);
    else if (IS_FLOAT(opts[0])) delay = AS_FLOAT(opts[0]);
    else return vm_raise(vm, CLS_TYPE_ERROR, "'<=' not supported between instances of '%s' and 'int'",
                         value_type_name(vm, opts[0]));
    if (isnan(delay)) return vm_raise(vm, CLS_VALUE_ERROR, "Invalid delay: NaN (not a number)");
    *delay_out = delay;
    *result = opts[1];
    return true;
}

bool asyncio_sleep(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    double delay;
    Value result;
    if (!asyncio_sleep_args(vm, args, argc, kw, &delay, &result)) return false;
    ObjSleep *sl = ALLOC_OBJ(vm, ObjSleep, OBJ_SLEEP);
    sl->delay = delay;
    sl->result = result;
    *out = OBJ_VAL(sl);
    return true;
}

static bool f_create_task(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    static const char *const names[] = {"name", "context", NULL};
    Value opts[2] = {NONE_VAL, NONE_VAL};
    ObjLoop *loop = NULL;
    if (!native_arity(vm, "create_task", argc, 1, 1) || !native_kwargs(vm, "create_task", args, argc, kw, names, opts))
        return false;
    if (!running_loop(vm, &loop)) return false;
    return loop_create_task(vm, loop, args[0], opts[0], out);
}

static bool f_ensure_future(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    static const char *const names[] = {"loop", NULL};
    Value loop_v = NONE_VAL;
    if (!native_arity(vm, "ensure_future", argc, 1, 1) ||
        !native_kwargs(vm, "ensure_future", args, argc, kw, names, &loop_v))
        return false;
    if (IS_OBJ_TYPE(args[0], OBJ_FUTURE) || IS_OBJ_TYPE(args[0], OBJ_TASK)) {
        *out = args[0];
        return true;
    }
    if (IS_NONE(loop_v) && !asyncio_get_event_loop(vm, &loop_v)) return false;
    ObjFuture *f = NULL;
    if (!loop_ensure_future(vm, (ObjLoop *)AS_OBJ(loop_v), args[0], &f)) return false;
    *out = OBJ_VAL(f);
    return true;
}

static bool f_iscoroutine(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!native_arity(vm, "iscoroutine", argc, 1, 1)) return false;
    *out = BOOL_VAL(IS_OBJ_TYPE(args[0], OBJ_COROUTINE) || IS_OBJ_TYPE(args[0], OBJ_SLEEP));
    return true;
}

static bool f_iscoroutinefunction(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!native_arity(vm, "iscoroutinefunction", argc, 1, 1)) return false;
    *out = BOOL_VAL(IS_OBJ_TYPE(args[0], OBJ_FUNCTION) &&
                    (((ObjFunction *)AS_OBJ(args[0]))->code->flags & CODE_ASYNC));
    return true;
}

static bool f_current_task(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!native_arity(vm, "current_task", argc, 0, 1)) return false;
    if (argc == 1 && IS_OBJ_TYPE(args[0], OBJ_LOOP)) loop = (ObjLoop *)AS_OBJ(args[0]);
    else if (!running_loop(vm, &loop)) return false;
    *out = loop->current_task ? OBJ_VAL(loop->current_task) : NONE_VAL;
    return true;
}

static bool f_all_tasks(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!native_arity(vm, "all_tasks", argc, 0, 1)) return false;
    if (argc == 1 && IS_OBJ_TYPE(args[0], OBJ_LOOP)) loop = (ObjLoop *)AS_OBJ(args[0]);
    else if (!running_loop(vm, &loop)) return false;
    ObjSet *set = set_new(vm, false);
    for (ObjTask *t = loop_live_tasks(loop); t; t = t->next_in_loop)
        if (!set_add(vm, set, OBJ_VAL(t))) return false;
    *out = OBJ_VAL(set);
    return true;
}

// ---- gather ----------------------------------------------------------------------------
// state list: [outer future, children tuple, finished count, return_exceptions, cancel requested]

static bool gather_done(VM *vm, ObjList *state, ObjFuture *fut) {
    ObjFuture *outer = (ObjFuture *)AS_OBJ(state->items[0]);
    ObjTuple *children = (ObjTuple *)AS_OBJ(state->items[1]);
    int64_t finished = AS_INT(state->items[2]) + 1;
    state->items[2] = INT_VAL(finished);
    bool return_exceptions = AS_BOOL(state->items[3]);
    if (future_done(outer)) {
        if (fut->state != FUT_CANCELLED) fut->log_traceback = false;
        return true;
    }
    if (!return_exceptions) {
        if (fut->state == FUT_CANCELLED) {
            Value exc = !IS_NONE(fut->exception) ? fut->exception : cancelled_error_new(vm, fut->cancel_msg);
            return future_set_exception(vm, outer, exc);
        }
        if (!IS_NONE(fut->exception)) {
            fut->log_traceback = false;
            return future_set_exception(vm, outer, fut->exception);
        }
    }
    if (finished < (int64_t)children->length) return true;
    ObjList *results = list_new(vm, children->length);
    for (uint32_t i = 0; i < children->length; i++) {
        ObjFuture *c = (ObjFuture *)AS_OBJ(children->items[i]);
        Value res;
        if (c->state == FUT_CANCELLED) {
            res = !IS_NONE(c->exception) ? c->exception : cancelled_error_new(vm, c->cancel_msg);
        } else if (!IS_NONE(c->exception)) {
            c->log_traceback = false;
            res = c->exception;
        } else {
            res = c->result;
        }
        list_append(vm, results, res);
    }
    if (AS_BOOL(state->items[4])) {
        ObjFuture *last = (ObjFuture *)AS_OBJ(children->items[children->length - 1]);
        Value exc = !IS_NONE(last->exception) && last->state == FUT_CANCELLED ? last->exception
                                                                              : cancelled_error_new(vm, NONE_VAL);
        return future_set_exception(vm, outer, exc);
    }
    return future_set_result(vm, outer, OBJ_VAL(results));
}

static bool gather_callback(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out);

static bool f_gather(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    static const char *const names[] = {"return_exceptions", NULL};
    Value return_exceptions = FALSE_VAL;
    if (!native_kwargs(vm, "gather", args, argc, kw, names, &return_exceptions)) return false;
    ObjLoop *loop = loop_get_running(vm);
    if (argc == 0) {
        Value lv;
        if (!loop && !asyncio_get_event_loop(vm, &lv)) return false;
        if (!loop) loop = (ObjLoop *)AS_OBJ(lv);
        ObjFuture *outer = future_new(vm, loop);
        future_set_result(vm, outer, OBJ_VAL(list_new(vm, 0)));
        *out = OBJ_VAL(outer);
        return true;
    }
    ObjTuple *children = tuple_new(vm, (uint32_t)argc);
    vm_push_root(vm, OBJ_VAL(children));
    // the same awaitable twice maps to the same future: a mark bit in each
    // argument's header finds repeats without a table (cleared below)
    bool ok = true;
    for (int i = 0; i < argc && ok; i++) {
        Value arg = args[i];
        ObjFuture *f = NULL;
        bool found = false;
        if (IS_OBJ(arg) && (AS_OBJ(arg)->flags & OBJ_FLAG_GATHER_SEEN)) {
            for (int j = 0; j < i && !f; j++)
                if (value_same(args[j], arg)) f = (ObjFuture *)AS_OBJ(children->items[j]);
            found = f != NULL;
        }
        if (!f) {
            ObjLoop *target = loop;
            if (IS_OBJ_TYPE(arg, OBJ_FUTURE) || IS_OBJ_TYPE(arg, OBJ_TASK)) target = ((ObjFuture *)AS_OBJ(arg))->loop;
            if (!target) {
                Value lv;
                if (!asyncio_get_event_loop(vm, &lv)) {
                    ok = false;
                    break;
                }
                target = (ObjLoop *)AS_OBJ(lv);
            }
            if (!loop_ensure_future(vm, target, arg, &f)) {
                ok = false;
                break;
            }
        }
        if (!loop) loop = f->loop;
        children->items[i] = OBJ_VAL(f);
        if (!found && IS_OBJ(arg)) AS_OBJ(arg)->flags |= OBJ_FLAG_GATHER_SEEN;
    }
    for (int i = 0; i < argc; i++)
        if (IS_OBJ(args[i])) AS_OBJ(args[i])->flags &= (uint8_t)~OBJ_FLAG_GATHER_SEEN;
    if (!ok) {
        vm_pop_roots(vm, 1);
        return false;
    }
    ObjFuture *outer = future_new(vm, loop);
    ObjList *state = list_new(vm, 5);
    list_append(vm, state, OBJ_VAL(outer));
    list_append(vm, state, OBJ_VAL(children));
    list_append(vm, state, INT_VAL(0));
    list_append(vm, state, BOOL_VAL(value_truthy(return_exceptions)));
    list_append(vm, state, FALSE_VAL);
    outer->result = OBJ_VAL(state);
    outer->obj.flags |= OBJ_FLAG_GATHERING;
    ObjBound *cb = ALLOC_OBJ(vm, ObjBound, OBJ_BOUND);
    cb->receiver = OBJ_VAL(state);
    cb->method = OBJ_VAL(native_new(vm, "_done_callback", gather_callback, false));
    for (uint32_t i = 0; i < children->length; i++) {
        // a future listed twice gets one callback per listing, as in CPython
        if (!future_add_callback(vm, (ObjFuture *)AS_OBJ(children->items[i]), OBJ_VAL(cb), CB_CALL)) {
            vm_pop_roots(vm, 1);
            return false;
        }
    }
    vm_pop_roots(vm, 1);
    *out = OBJ_VAL(outer);
    return true;
}

// A child's done callback: bound to the gather state, called with the child.
static bool gather_callback(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    *out = NONE_VAL;
    (void)argc;
    return gather_done(vm, (ObjList *)AS_OBJ(args[0]), (ObjFuture *)AS_OBJ(args[1]));
}

// ---- asyncio.run ----------------------------------------------------------------------

static bool run_shutdown_step(VM *vm, ObjLoop *loop) {
    ObjTask *t = task_new(vm, loop, NONE_VAL, NULL);
    Value ignored;
    return loop_run_until_complete(vm, loop, OBJ_VAL(t), &ignored);
}

static bool cancel_all_tasks(VM *vm, ObjLoop *loop) {
    ObjList *pending = list_new(vm, 0);
    vm_push_root(vm, OBJ_VAL(pending));
    for (ObjTask *t = loop_live_tasks(loop); t; t = t->next_in_loop) list_append(vm, pending, OBJ_VAL(t));
    bool ok = true;
    if (pending->length) {
        for (uint32_t i = 0; i < pending->length; i++) task_cancel(vm, (ObjTask *)AS_OBJ(pending->items[i]), NONE_VAL);
        Value gathered;
        ObjTuple *kwnames = tuple_new(vm, 1);
        kwnames->items[0] = OBJ_VAL(str_intern(vm, "return_exceptions", 17));
        Value *argv = malloc(sizeof(Value) * (pending->length + 1));
        if (!argv) return vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
        memcpy(argv, pending->items, sizeof(Value) * pending->length);
        argv[pending->length] = TRUE_VAL;
        ok = f_gather(vm, argv, (int)pending->length, kwnames, &gathered);
        free(argv);
        Value ignored;
        if (ok) ok = loop_run_until_complete(vm, loop, gathered, &ignored);
        for (uint32_t i = 0; ok && i < pending->length; i++) {
            ObjTask *t = (ObjTask *)AS_OBJ(pending->items[i]);
            if (t->fut.state == FUT_CANCELLED || IS_NONE(t->fut.exception)) continue;
            loop_report(vm, loop, "unhandled exception during asyncio.run() shutdown", t->fut.exception,
                        OBJ_VAL(t));
        }
    }
    vm_pop_roots(vm, 1);
    return ok;
}

static bool f_run(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    static const char *const names[] = {"debug", NULL};
    Value debug = NONE_VAL;
    if (!native_arity(vm, "run", argc, 1, 1) || !native_kwargs(vm, "run", args, argc, kw, names, &debug)) return false;
    if (vm->running_loop)
        return vm_raise(vm, CLS_RUNTIME_ERROR, "asyncio.run() cannot be called from a running event loop");
    if (!IS_OBJ_TYPE(args[0], OBJ_COROUTINE) && !IS_OBJ_TYPE(args[0], OBJ_SLEEP)) {
        StrBuf buf;
        strbuf_init(&buf);
        if (!value_repr(vm, args[0], &buf)) return false;
        vm_raise(vm, CLS_VALUE_ERROR, "a coroutine was expected, got %s", buf.chars);
        strbuf_free(&buf);
        return false;
    }
    ObjLoop *loop = loop_new(vm);
    vm_push_root(vm, OBJ_VAL(loop));
    vm->current_loop = loop;
    vm->loop_set_called = true;
    ObjTask *task = task_new(vm, loop, args[0], NULL);
    bool ok = loop_run_until_complete(vm, loop, OBJ_VAL(task), out);
    Value exc = ok ? EMPTY_VAL : vm->exception;
    vm->exception = EMPTY_VAL;
    // SystemExit / KeyboardInterrupt out of the main task propagates with its
    // traceback; CPython never also reports it as "never retrieved"
    if (!ok && value_same(exc, task->fut.exception)) task->fut.log_traceback = false;
    vm_push_root(vm, exc);
    // Runner.close(): cancel what is left, then the two shutdown steps
    bool closing = cancel_all_tasks(vm, loop) && run_shutdown_step(vm, loop) && run_shutdown_step(vm, loop);
    if (!closing && ok) {
        ok = false;
        exc = vm->exception;
    }
    vm->exception = EMPTY_VAL;
    vm->current_loop = NULL;
    loop->closed = true;
    loop->ready_count = 0;
    loop->timers.count = 0;
    vm_pop_roots(vm, 2);
    if (!ok) return vm_raise_value(vm, exc);
    return true;
}

extern const char asyncio_prelude_source[];

// Run the part of asyncio written in the language, with the module's own
// namespace as its globals.
static bool run_prelude(VM *vm, ObjModule *m) {
    if (!vm->compile) return true; // an embedder without a compiler: C parts only
    Value functools;
    if (!vm_import(vm, str_intern(vm, "functools", 9), &functools)) return false;
    Value *partial = dict_find_str(((ObjModule *)AS_OBJ(functools))->dict, str_intern(vm, "partial", 7));
    if (partial) dict_set_str(vm, m->dict, str_intern(vm, "_partial", 8), *partial);
    dict_set_str(vm, m->dict, vm->s_name, OBJ_VAL(str_intern(vm, "asyncio", 7)));
    ObjCode *code = vm->compile(vm, asyncio_prelude_source, strlen(asyncio_prelude_source), "<asyncio>");
    if (!code) return false;
    ObjFunction *fn = ALLOC_OBJ(vm, ObjFunction, OBJ_FUNCTION);
    fn->code = code;
    fn->globals = m->dict;
    fn->name = code->name;
    Value ignored;
    vm_push_root(vm, OBJ_VAL(m));
    bool ok = vm_call(vm, OBJ_VAL(fn), NULL, 0, NULL, &ignored);
    vm_pop_roots(vm, 1);
    // the exception groups TaskGroup raises are builtins in Python 3.11
    static const char *const builtin_names[] = {"ExceptionGroup", "BaseExceptionGroup"};
    for (int i = 0; ok && i < 2; i++) {
        ObjString *name = str_intern(vm, builtin_names[i], strlen(builtin_names[i]));
        Value *cls = dict_find_str(m->dict, name);
        if (!cls || !IS_OBJ_TYPE(*cls, OBJ_CLASS)) continue;
        ((ObjClass *)AS_OBJ(*cls))->module = "builtins";
        dict_set_str(vm, vm->builtins, name, *cls);
        dict_delete(vm, m->dict, OBJ_VAL(name), &(bool){false});
    }
    return ok;
}

ObjModule *mod_asyncio_new(VM *vm) {
    future_init_class(vm, vm->classes[CLS_FUTURE]);
    task_init_class(vm, vm->classes[CLS_TASK]);
    loop_init_class(vm, vm->classes[CLS_LOOP]);
    handle_init_class(vm, vm->classes[CLS_HANDLE]);
    ObjModule *m = module_new(vm, "asyncio");
    ObjDict *d = m->dict;
    define_native(vm, d, "run", f_run, true);
    define_native(vm, d, "sleep", asyncio_sleep, true);
    define_native(vm, d, "get_event_loop", f_get_event_loop, false);
    define_native(vm, d, "new_event_loop", f_new_event_loop, false);
    define_native(vm, d, "set_event_loop", f_set_event_loop, false);
    define_native(vm, d, "get_running_loop", f_get_running_loop, false);
    define_native(vm, d, "create_task", f_create_task, true);
    define_native(vm, d, "ensure_future", f_ensure_future, true);
    define_native(vm, d, "gather", f_gather, true);
    define_native(vm, d, "iscoroutine", f_iscoroutine, false);
    define_native(vm, d, "iscoroutinefunction", f_iscoroutinefunction, false);
    define_native(vm, d, "current_task", f_current_task, false);
    define_native(vm, d, "all_tasks", f_all_tasks, false);
    static const ClassId exported[] = {CLS_FUTURE, CLS_TASK, CLS_HANDLE, CLS_TIMER_HANDLE, CLS_CANCELLED_ERROR,
                                       CLS_INVALID_STATE_ERROR, CLS_TIMEOUT_ERROR, CLS_QUEUE_EMPTY, CLS_QUEUE_FULL};
    for (size_t i = 0; i < sizeof exported / sizeof exported[0]; i++) {
        ObjClass *cls = vm->classes[exported[i]];
        dict_set_str(vm, d, cls->name, OBJ_VAL(cls));
    }
    asyncio_sync_init(vm, d);
    if (!run_prelude(vm, m)) return NULL;
    return m;
}
