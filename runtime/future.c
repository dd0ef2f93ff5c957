// runtime/future.c - asyncio.Future: a result that arrives later. Done
// callbacks always run through the loop's ready queue (call_soon), also when
// added after completion, as in CPython's futures.py.
#include <stdlib.h>
#include <string.h>

#include "runtime/async.h"
#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/ops.h"

void future_init(ObjFuture *f, ObjLoop *loop) {
    f->state = FUT_PENDING;
    f->loop = loop;
    f->result = NONE_VAL;
    f->exception = NONE_VAL;
    f->cancel_msg = NONE_VAL;
}

ObjFuture *future_new(VM *vm, ObjLoop *loop) {
    ObjFuture *f = ALLOC_OBJ(vm, ObjFuture, OBJ_FUTURE);
    future_init(f, loop);
    return f;
}

Value cancelled_error_new(VM *vm, Value msg) {
    ObjTuple *args = IS_NONE(msg) ? tuple_new(vm, 0) : tuple_from(vm, &msg, 1);
    return OBJ_VAL(exception_new(vm, vm->classes[CLS_CANCELLED_ERROR], args));
}

static void wake_task(VM *vm, ObjTask *task) {
    if (task->run_state != TASK_WAITING) return;
    task->run_state = TASK_SCHEDULED;
    task->resume_kind = RESUME_FUTURE;
    loop_schedule(vm, task->fut.loop, (Obj *)task);
}

static void schedule_one(VM *vm, ObjFuture *f, FutureCallback cb) {
    if (cb.kind == CB_WAKE_TASK) {
        wake_task(vm, (ObjTask *)AS_OBJ(cb.fn));
    } else {
        loop_schedule_done_callback(vm, f->loop, cb.fn, f);
    }
}

void future_callbacks_release(ObjFuture *f) {
    if (f->callbacks != &f->one_callback) free(f->callbacks);
    f->callbacks = NULL;
    f->callback_count = 0;
    f->callback_shift = 0;
}

static void schedule_callbacks(VM *vm, ObjFuture *f) {
    // done now: nothing is added to the array while it is walked
    for (uint32_t i = 0; i < f->callback_count; i++) schedule_one(vm, f, f->callbacks[i]);
    future_callbacks_release(f);
}

bool future_set_result(VM *vm, ObjFuture *f, Value result) {
    if (f->state != FUT_PENDING) return vm_raise(vm, CLS_INVALID_STATE_ERROR, "invalid state");
    f->result = result;
    f->state = FUT_FINISHED;
    schedule_callbacks(vm, f);
    return true;
}

bool future_set_exception(VM *vm, ObjFuture *f, Value exc) {
    if (f->state != FUT_PENDING) return vm_raise(vm, CLS_INVALID_STATE_ERROR, "invalid state");
    if (IS_OBJ_TYPE(exc, OBJ_CLASS)) {
        Value made;
        if (!vm_call(vm, exc, NULL, 0, NULL, &made)) return false;
        exc = made;
    }
    if (!IS_OBJ_TYPE(exc, OBJ_EXCEPTION))
        return vm_raise(vm, CLS_TYPE_ERROR, "invalid exception object");
    if (exception_matches(vm, exc, CLS_STOP_ITERATION))
        return vm_raise(vm, CLS_TYPE_ERROR,
                        "StopIteration interacts badly with generators and cannot be raised into a Future");
    f->exception = exc;
    f->state = FUT_FINISHED;
    f->log_traceback = true;
    gc_watch(vm, (Obj *)f);
    schedule_callbacks(vm, f);
    return true;
}

bool future_cancel_plain(VM *vm, ObjFuture *f, Value msg) {
    if (f->state != FUT_PENDING) return false;
    f->log_traceback = false;
    f->state = FUT_CANCELLED;
    f->cancel_msg = msg;
    schedule_callbacks(vm, f);
    return true;
}

bool future_cancel(VM *vm, ObjFuture *f, Value msg) {
    if (f->obj.type == OBJ_TASK) return task_cancel(vm, (ObjTask *)f, msg);
    if (f->state != FUT_PENDING) return false;
    if (f->obj.flags & OBJ_FLAG_GATHERING) {
        // a gathering future cancels its children instead
        ObjList *state = (ObjList *)AS_OBJ(f->result);
        ObjTuple *children = (ObjTuple *)AS_OBJ(state->items[1]);
        bool any = false;
        for (uint32_t i = 0; i < children->length; i++)
            if (future_cancel(vm, (ObjFuture *)AS_OBJ(children->items[i]), msg)) any = true;
        if (any) state->items[4] = TRUE_VAL;
        return any;
    }
    return future_cancel_plain(vm, f, msg);
}

static bool raise_cancelled(VM *vm, ObjFuture *f) {
    if (!IS_NONE(f->exception)) return vm_raise_value(vm, f->exception);
    return vm_raise_value(vm, cancelled_error_new(vm, f->cancel_msg));
}

bool future_result(VM *vm, ObjFuture *f, Value *out) {
    switch ((FutureState)f->state) {
    case FUT_CANCELLED:
        return raise_cancelled(vm, f);
    case FUT_PENDING:
        return vm_raise(vm, CLS_INVALID_STATE_ERROR, "Result is not set.");
    case FUT_FINISHED:
        break;
    }
    f->log_traceback = false;
    if (!IS_NONE(f->exception)) return vm_raise_value(vm, f->exception);
    *out = f->result;
    return true;
}

bool future_add_callback(VM *vm, ObjFuture *f, Value fn, CallbackKind kind) {
    FutureCallback cb = {fn, (uint8_t)kind};
    if (f->state != FUT_PENDING) {
        schedule_one(vm, f, cb);
        return true;
    }
    if (!f->callbacks) {
        f->callbacks = &f->one_callback;
        f->callback_shift = 0;
    } else if (f->callback_count == 1u << f->callback_shift) {
        // full: double the array (the inline one moves to the heap)
        bool was_inline = f->callbacks == &f->one_callback;
        FutureCallback *callbacks = f->callback_shift < 31
            ? realloc(was_inline ? NULL : f->callbacks, sizeof(FutureCallback) << (f->callback_shift + 1))
            : NULL;
        if (!callbacks) return vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
        if (was_inline) callbacks[0] = f->one_callback;
        f->callbacks = callbacks;
        f->callback_shift++;
    }
    f->callbacks[f->callback_count++] = cb;
    return true;
}

// ---- Python-visible methods -------------------------------------------------------

static bool self_future(VM *vm, Value *args, int argc, const char *name, ObjFuture **out) {
    if (argc < 1 || !(IS_OBJ_TYPE(args[0], OBJ_FUTURE) || IS_OBJ_TYPE(args[0], OBJ_TASK)))
        return vm_raise(vm, CLS_TYPE_ERROR, "descriptor '%s' requires a 'Future' object", name);
    *out = (ObjFuture *)AS_OBJ(args[0]);
    return true;
}

static bool m_result(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjFuture *f = NULL;
    if (!self_future(vm, args, argc, "result", &f) || !native_arity(vm, "result", argc - 1, 0, 0)) return false;
    return future_result(vm, f, out);
}

static bool m_exception(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjFuture *f = NULL;
    if (!self_future(vm, args, argc, "exception", &f) || !native_arity(vm, "exception", argc - 1, 0, 0)) return false;
    if (f->state == FUT_CANCELLED) return raise_cancelled(vm, f);
    if (f->state == FUT_PENDING) return vm_raise(vm, CLS_INVALID_STATE_ERROR, "Exception is not set.");
    f->log_traceback = false;
    *out = f->exception;
    return true;
}

static bool m_done(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjFuture *f = NULL;
    if (!self_future(vm, args, argc, "done", &f) || !native_arity(vm, "done", argc - 1, 0, 0)) return false;
    *out = BOOL_VAL(f->state != FUT_PENDING);
    return true;
}

static bool m_cancelled(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjFuture *f = NULL;
    if (!self_future(vm, args, argc, "cancelled", &f) || !native_arity(vm, "cancelled", argc - 1, 0, 0)) return false;
    *out = BOOL_VAL(f->state == FUT_CANCELLED);
    return true;
}

static bool m_cancel(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjFuture *f = NULL;
    if (!self_future(vm, args, argc, "cancel", &f)) return false;
    static const char *const names[] = {"msg", NULL};
    Value msg = argc > 1 ? args[1] : NONE_VAL;
    if (!native_arity(vm, "cancel", argc - 1, 0, 1) || !native_kwargs(vm, "cancel", args, argc, kw, names, &msg))
        return false;
    *out = BOOL_VAL(future_cancel(vm, f, msg));
    return IS_EMPTY(vm->exception);
}

static bool m_set_result(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjFuture *f = NULL;
    if (!self_future(vm, args, argc, "set_result", &f) || !native_arity(vm, "set_result", argc - 1, 1, 1))
        return false;
    if (f->obj.type == OBJ_TASK) return vm_raise(vm, CLS_RUNTIME_ERROR, "Task does not support set_result operation");
    *out = NONE_VAL;
    return future_set_result(vm, f, args[1]);
}

static bool m_set_exception(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjFuture *f = NULL;
    if (!self_future(vm, args, argc, "set_exception", &f) || !native_arity(vm, "set_exception", argc - 1, 1, 1))
        return false;
    if (f->obj.type == OBJ_TASK)
        return vm_raise(vm, CLS_RUNTIME_ERROR, "Task does not support set_exception operation");
    *out = NONE_VAL;
    return future_set_exception(vm, f, args[1]);
}

static bool m_add_done_callback(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjFuture *f = NULL;
    if (!self_future(vm, args, argc, "add_done_callback", &f)) return false;
    static const char *const names[] = {"context", NULL};
    Value context = NONE_VAL;
    if (!native_arity(vm, "add_done_callback", argc - 1, 1, 1) ||
        !native_kwargs(vm, "add_done_callback", args, argc, kw, names, &context))
        return false;
    *out = NONE_VAL;
    return future_add_callback(vm, f, args[1], CB_CALL);
}

static bool m_remove_done_callback(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjFuture *f = NULL;
    if (!self_future(vm, args, argc, "remove_done_callback", &f) ||
        !native_arity(vm, "remove_done_callback", argc - 1, 1, 1))
        return false;
    uint32_t kept = 0, removed = 0;
    for (uint32_t i = 0; i < f->callback_count; i++) {
        FutureCallback cb = f->callbacks[i];
        if (cb.kind == CB_CALL && value_equal(cb.fn, args[1])) removed++;
        else f->callbacks[kept++] = cb;
    }
    f->callback_count = kept;
    *out = INT_VAL(removed);
    return true;
}

static bool m_get_loop(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjFuture *f = NULL;
    if (!self_future(vm, args, argc, "get_loop", &f)) return false;
    *out = OBJ_VAL(f->loop);
    return true;
}

static bool construct_future(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    static const char *const names[] = {"loop", NULL};
    Value loop = NONE_VAL;
    if (!native_arity(vm, "Future", argc - 1, 0, 0) || !native_kwargs(vm, "Future", args, argc, kw, names, &loop))
        return false;
    ObjLoop *l = IS_OBJ_TYPE(loop, OBJ_LOOP) ? (ObjLoop *)AS_OBJ(loop) : loop_get_running(vm);
    if (!l) {
        Value v;
        if (!asyncio_get_event_loop(vm, &v)) return false;
        l = (ObjLoop *)AS_OBJ(v);
    }
    *out = OBJ_VAL(future_new(vm, l));
    return true;
}

void future_init_class(VM *vm, ObjClass *cls) {
    cls->construct = construct_future;
    class_add_method(vm, cls, "result", m_result, false);
    class_add_method(vm, cls, "exception", m_exception, false);
    class_add_method(vm, cls, "done", m_done, false);
    class_add_method(vm, cls, "cancelled", m_cancelled, false);
    class_add_method(vm, cls, "cancel", m_cancel, true);
    class_add_method(vm, cls, "set_result", m_set_result, false);
    class_add_method(vm, cls, "set_exception", m_set_exception, false);
    class_add_method(vm, cls, "add_done_callback", m_add_done_callback, true);
    class_add_method(vm, cls, "remove_done_callback", m_remove_done_callback, false);
    class_add_method(vm, cls, "get_loop", m_get_loop, false);
}
