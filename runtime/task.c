// runtime/task.c - asyncio.Task: a coroutine running on its own fiber,
// stepped by the event loop as CPython's Task.__step / __wakeup do.
// A sleeping task parks in the timer heap directly (no future, no handle);
// when its timer fires it takes one extra trip through the ready queue, as
// CPython's sleep future + wakeup callback would.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runtime/async.h"
#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/ops.h"

// Room for a coroutine's whole first frame inside the task object when the
// two fit a small-object size class.
static uint32_t inline_stack_slots(Value coro) {
    if (!IS_OBJ_TYPE(coro, OBJ_COROUTINE)) return 0;
    uint32_t need = interp_start_stack_need((ObjCoroutine *)AS_OBJ(coro));
    return sizeof(ObjTask) + need * sizeof(Value) <= GC_SIZE_CLASSES * 16 ? need : 0;
}

ObjTask *task_new(VM *vm, ObjLoop *loop, Value coro, ObjString *name) {
    uint32_t slots = inline_stack_slots(coro);
    ObjTask *task = (ObjTask *)gc_alloc_object(vm, sizeof(ObjTask) + slots * sizeof(Value), OBJ_TASK);
    future_init(&task->fut, loop);
    fiber_init(&task->fiber);
    task->fiber.task = task;
    if (slots) {
        task->inline_slots = (uint8_t)slots;
        task->fiber.stack = task_inline_stack(task);
        task->fiber.stack_capacity = slots;
    }
    task->coro = IS_OBJ(coro) ? AS_OBJ(coro) : NULL;
    *task_resume_value(task) = NONE_VAL;
    if (!name) task->number = ++vm->task_counter; // named on demand (task_name)
    task->name = name;
    task->resume_kind = RESUME_START;
    task->run_state = TASK_SCHEDULED;
    loop_schedule(vm, loop, (Obj *)task);
    loop_track_task(loop, task);
    return task;
}

ObjString *task_name(VM *vm, ObjTask *task) {
    if (!task->name) {
        char buf[32];
        snprintf(buf, sizeof buf, "Task-%llu", (unsigned long long)task->number);
        task->name = str_from_cstr(vm, buf);
    }
    return task->name;
}

bool task_wait_future(VM *vm, ObjTask *task, ObjFuture *f) {
    task->waiting_on = f;
    task->run_state = TASK_WAITING;
    return future_add_callback(vm, f, OBJ_VAL(task), CB_WAKE_TASK);
}

bool task_sleep(VM *vm, ObjTask *task, double delay, Value result) {
    ObjLoop *loop = task->fut.loop;
    task->resume_kind = RESUME_VALUE;
    *task_resume_value(task) = result;
    if (!(delay > 0)) {
        // sleep(0): a bare yield; the task goes to the back of the ready queue
        task->run_state = TASK_SCHEDULED;
        return loop_schedule(vm, loop, (Obj *)task);
    }
    uint64_t seq;
    if (!loop_add_timer(vm, loop, loop_time(vm) + delay, (Obj *)task, &seq)) return false;
    task->sleep_seq = seq;
    task->run_state = TASK_SLEEPING;
    return true;
}

bool task_cancel(VM *vm, ObjTask *task, Value msg) {
    task->fut.log_traceback = false;
    if (future_done(&task->fut)) return false;
    task->num_cancels_requested++;
    if (task->run_state == TASK_WAITING && task->waiting_on) {
        if (future_cancel(vm, task->waiting_on, msg)) return true;
    } else if (task->run_state == TASK_SLEEPING) {
        // cancel the sleep: the wakeup throws CancelledError(msg)
        task->sleep_seq = 0;
        task->fut.loop->cancelled_timers++;
        task->run_state = TASK_SCHEDULED;
        task->resume_kind = RESUME_THROW;
        *task_resume_value(task) = cancelled_error_new(vm, msg);
        loop_schedule(vm, task->fut.loop, (Obj *)task);
        return true;
    }
    task->must_cancel = true;
    task->fut.cancel_msg = msg;
    return true;
}

static bool finish_with_exception(VM *vm, ObjTask *task, Value exc) {
    if (exception_matches(vm, exc, CLS_CANCELLED_ERROR)) {
        // Future.cancel() without a message; result() re-raises the original
        future_cancel_plain(vm, &task->fut, NONE_VAL);
        task->fut.exception = exc;
        return true;
    }
    if (!future_set_exception(vm, &task->fut, exc)) return false;
    if (exception_matches(vm, exc, CLS_KEYBOARD_INTERRUPT) || exception_matches(vm, exc, CLS_SYSTEM_EXIT))
        return vm_raise_value(vm, exc);
    return true;
}

bool task_step(VM *vm, ObjTask *task) {
    if (future_done(&task->fut)) return true;
    ObjLoop *loop = task->fut.loop;
    Fiber *fiber = &task->fiber;
    task->run_state = TASK_IDLE;

    Value exc = EMPTY_VAL;
    Value value = NONE_VAL;
    switch ((ResumeKind)task->resume_kind) {
    case RESUME_START:
    case RESUME_VALUE:
        value = *task_resume_value(task);
        break;
    case RESUME_FUTURE: {
        ObjFuture *f = task->waiting_on;
        task->waiting_on = NULL;
        if (f && !future_result(vm, f, &value)) {
            exc = vm->exception;
            vm->exception = EMPTY_VAL;
        }
        break;
    }
    case RESUME_THROW:
        exc = *task_resume_value(task);
        break;
    }
    *task_resume_value(task) = NONE_VAL;
    if (task->must_cancel) {
        if (IS_EMPTY(exc) || !exception_matches(vm, exc, CLS_CANCELLED_ERROR))
            exc = cancelled_error_new(vm, task->fut.cancel_msg);
        task->must_cancel = false;
    }

    ObjTask *outer = loop->current_task;
    loop->current_task = task;
    RunResult r;
    if (task->resume_kind == RESUME_START) {
        task->resume_kind = RESUME_VALUE;
        if (!IS_EMPTY(exc)) {
            // throwing into a coroutine that never started: it just raises
            if (task->coro && task->coro->type == OBJ_COROUTINE) ((ObjCoroutine *)task->coro)->state = CORO_DONE;
            vm->exception = exc;
            r = RUN_ERROR;
        } else if (task->coro && task->coro->type == OBJ_COROUTINE) {
            if (!interp_start_coroutine(vm, fiber, (ObjCoroutine *)task->coro)) r = RUN_ERROR;
            else r = interp_run(vm, fiber);
        } else if (task->coro && task->coro->type == OBJ_SLEEP) {
            ObjSleep *sl = (ObjSleep *)task->coro;
            r = task_sleep(vm, task, sl->delay, sl->result) ? RUN_SUSPEND : RUN_ERROR;
        } else {
            // no coroutine: returns None at once (asyncio.run's shutdown steps)
            loop->current_task = outer;
            return future_set_result(vm, &task->fut, NONE_VAL);
        }
    } else if (fiber->frame_count == 0) {
        // a task running a bare awaitable (e.g. a sleep) has no frames
        loop->current_task = outer;
        if (!IS_EMPTY(exc)) return finish_with_exception(vm, task, exc);
        return future_set_result(vm, &task->fut, value);
    } else {
        if (!IS_EMPTY(exc)) {
            vm->exception = exc;
        } else {
            fiber->stack[fiber->sp++] = value;
        }
        r = interp_run(vm, fiber);
    }
    loop->current_task = outer;

    switch (r) {
    case RUN_RETURN: {
        Value result = fiber->stack[fiber->sp - 1];
        fiber->sp = 0;
        if (task->must_cancel) {
            task->must_cancel = false;
            future_cancel_plain(vm, &task->fut, task->fut.cancel_msg);
            return true;
        }
        return future_set_result(vm, &task->fut, result);
    }
    case RUN_ERROR: {
        Value e = vm->exception;
        vm->exception = EMPTY_VAL;
        fiber->sp = 0;
        fiber->frame_count = 0;
        return finish_with_exception(vm, task, e);
    }
    case RUN_SUSPEND:
        fiber_trim_stack(fiber);
        if (task->must_cancel) {
            if (task->run_state == TASK_WAITING && task->waiting_on) {
                if (future_cancel(vm, task->waiting_on, task->fut.cancel_msg)) task->must_cancel = false;
            } else if (task->run_state == TASK_SLEEPING) {
                task->must_cancel = false;
                task->sleep_seq = 0;
                loop->cancelled_timers++;
                task->run_state = TASK_SCHEDULED;
                task->resume_kind = RESUME_THROW;
                *task_resume_value(task) = cancelled_error_new(vm, task->fut.cancel_msg);
                loop_schedule(vm, loop, (Obj *)task);
            }
        }
        return true;
    }
    return true;
}

// ---- Python-visible methods -------------------------------------------------------

static bool self_task(VM *vm, Value *args, int argc, ObjTask **out) {
    if (argc < 1 || !IS_OBJ_TYPE(args[0], OBJ_TASK))
        return vm_raise(vm, CLS_TYPE_ERROR, "descriptor requires a 'Task' object");
    *out = (ObjTask *)AS_OBJ(args[0]);
    return true;
}

static bool m_get_name(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjTask *t = NULL;
    if (!self_task(vm, args, argc, &t)) return false;
    *out = OBJ_VAL(task_name(vm, t));
    return true;
}

static bool m_set_name(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjTask *t = NULL;
    if (!self_task(vm, args, argc, &t) || !native_arity(vm, "set_name", argc - 1, 1, 1)) return false;
    ObjString *s = value_to_str(vm, args[1]);
    if (!s) return false;
    t->name = s;
    *out = NONE_VAL;
    return true;
}

static bool m_get_coro(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjTask *t = NULL;
    if (!self_task(vm, args, argc, &t)) return false;
    *out = t->coro ? OBJ_VAL(t->coro) : NONE_VAL;
    return true;
}

static bool m_cancelling(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjTask *t = NULL;
    if (!self_task(vm, args, argc, &t)) return false;
    *out = INT_VAL(t->num_cancels_requested);
    return true;
}

static bool m_uncancel(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjTask *t = NULL;
    if (!self_task(vm, args, argc, &t)) return false;
    if (t->num_cancels_requested > 0) t->num_cancels_requested--;
    *out = INT_VAL(t->num_cancels_requested);
    return true;
}

void task_init_class(VM *vm, ObjClass *cls) {
    class_add_method(vm, cls, "get_name", m_get_name, false);
    class_add_method(vm, cls, "set_name", m_set_name, false);
    class_add_method(vm, cls, "get_coro", m_get_coro, false);
    class_add_method(vm, cls, "cancelling", m_cancelling, false);
    class_add_method(vm, cls, "uncancel", m_uncancel, false);
}
