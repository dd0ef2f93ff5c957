// runtime/loop.c - the event loop: CPython's BaseEventLoop._run_once over a
// ring buffer of ready entries and a timer heap. Ready entries are handles
// (callbacks) and tasks due a step; timer entries are timer handles and
// sleeping tasks. Each iteration runs exactly the entries that were ready
// when it began, so a callback scheduled by a callback runs next time.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/async.h"
#include "runtime/classes.h"
#include "runtime/code.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/numfmt.h"
#include "runtime/ops.h"

#define MAXIMUM_SELECT_TIMEOUT (24 * 3600.0)
#define CLOCK_RESOLUTION 1e-09

ObjLoop *loop_new(VM *vm) {
    ObjLoop *loop = ALLOC_OBJ(vm, ObjLoop, OBJ_LOOP);
    timerheap_init(&loop->timers);
    loop->exception_handler = NONE_VAL;
    return loop;
}

void loop_track_task(ObjLoop *loop, ObjTask *task) {
    if (loop->tasks_tail) loop->tasks_tail->next_in_loop = task;
    else loop->tasks_head = task;
    loop->tasks_tail = task;
}

ObjTask *loop_live_tasks(ObjLoop *loop) {
    ObjTask **link = &loop->tasks_head;
    ObjTask *last = NULL;
    while (*link) {
        ObjTask *task = *link;
        if (future_done(&task->fut)) {
            *link = task->next_in_loop;
            task->next_in_loop = NULL;
        } else {
            last = task;
            link = &task->next_in_loop;
        }
    }
    loop->tasks_tail = last;
    return loop->tasks_head;
}

static double monotonic_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double loop_time(VM *vm) { return vm->clock_mode == CLOCK_VIRTUAL ? vm->virtual_now : monotonic_now(); }

ObjLoop *loop_get_running(VM *vm) { return vm->running_loop; }

// BaseEventLoop._check_closed. (The call_* methods check nothing else: CPython
// checks the callback only in debug mode, and a bad one fails when it runs.)
static bool check_closed(VM *vm, ObjLoop *loop) {
    return !loop->closed || vm_raise(vm, CLS_RUNTIME_ERROR, "Event loop is closed");
}

// Move the ready entries to a new ring of cap (>= ready_count) entries.
static bool ready_resize(ObjLoop *loop, uint32_t cap) {
    ReadyEntry *ready = malloc(sizeof(ReadyEntry) * cap);
    if (!ready) return false;
    for (uint32_t i = 0; i < loop->ready_count; i++)
        ready[i] = loop->ready[(loop->ready_head + i) % loop->ready_capacity];
    free(loop->ready);
    loop->ready = ready;
    loop->ready_head = 0;
    loop->ready_capacity = cap;
    return true;
}

#define READY_MIN 64

static bool ready_push(VM *vm, ObjLoop *loop, Obj *target, Obj *arg) {
    if (loop->ready_count == loop->ready_capacity &&
        !ready_resize(loop, loop->ready_capacity ? loop->ready_capacity * 2 : READY_MIN))
        return vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
    ReadyEntry *slot = &loop->ready[(loop->ready_head + loop->ready_count) % loop->ready_capacity];
    slot->target = target;
    slot->arg = arg;
    loop->ready_count++;
    return true;
}

bool loop_schedule(VM *vm, ObjLoop *loop, Obj *entry) { return ready_push(vm, loop, entry, NULL); }

bool loop_schedule_done_callback(VM *vm, ObjLoop *loop, Value callback, ObjFuture *f) {
    if (IS_OBJ(callback)) return ready_push(vm, loop, AS_OBJ(callback), (Obj *)f);
    Value arg = OBJ_VAL(f); // not callable: fails when run, with its handle
    return loop_call_soon(vm, loop, callback, &arg, 1) != NULL;
}

// A ring drained to a quarter gives half its memory back (a burst of a
// million tasks leaves no 16 MB ring behind).
static ReadyEntry ready_pop(ObjLoop *loop) {
    ReadyEntry entry = loop->ready[loop->ready_head];
    loop->ready_head = (loop->ready_head + 1) % loop->ready_capacity;
    loop->ready_count--;
    if (loop->ready_capacity > READY_MIN && loop->ready_count < loop->ready_capacity / 4)
        ready_resize(loop, loop->ready_capacity / 2); // on failure the ring stays as it is
    return entry;
}

static ObjHandle *handle_new(VM *vm, ObjLoop *loop, Value callback, const Value *args, uint32_t argc,
                             bool is_timer) {
    ObjHandle *h = (ObjHandle *)gc_alloc_object(vm, sizeof(ObjHandle) + sizeof(Value) * argc, OBJ_HANDLE);
    h->callback = callback;
    if (argc) memcpy(handle_args(h), args, sizeof(Value) * argc);
    h->argc = argc;
    h->is_timer = is_timer;
    h->loop = loop;
    return h;
}

ObjHandle *loop_call_soon(VM *vm, ObjLoop *loop, Value callback, const Value *args, uint32_t argc) {
    ObjHandle *h = handle_new(vm, loop, callback, args, argc, false);
    loop_schedule(vm, loop, (Obj *)h);
    return h;
}

bool loop_add_timer(VM *vm, ObjLoop *loop, double when, Obj *target, uint64_t *seq) {
    *seq = vm->timer_seq++;
    if (!timerheap_push(&loop->timers, when, *seq, target))
        return vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
    return true;
}

ObjHandle *loop_call_at(VM *vm, ObjLoop *loop, double when, Value callback, const Value *args, uint32_t argc) {
    ObjHandle *h = handle_new(vm, loop, callback, args, argc, true);
    h->when = when;
    if (!loop_add_timer(vm, loop, when, (Obj *)h, &h->seq)) return NULL;
    h->scheduled = true;
    return h;
}

static bool timer_dead(const TimerEntry *entry, void *ctx) {
    (void)ctx;
    Obj *target = entry->target;
    if (target->type == OBJ_HANDLE) return ((ObjHandle *)target)->cancelled;
    ObjTask *task = (ObjTask *)target;
    return task->run_state != TASK_SLEEPING || task->sleep_seq != entry->seq;
}

// ---- reporting -------------------------------------------------------------------

static void append_repr(VM *vm, Value v, StrBuf *buf) {
    if (!value_repr(vm, v, buf)) {
        vm->exception = EMPTY_VAL;
        strbuf_append_cstr(buf, "<?>");
    }
}

// "cb(1, 2) at file.aio:3" as asyncio's format_helpers write it.
static void format_callback(VM *vm, Value fn, const Value *args, uint32_t argc, StrBuf *buf) {
    if (IS_OBJ_TYPE(fn, OBJ_FUNCTION)) {
        strbuf_append_cstr(buf, ((ObjFunction *)AS_OBJ(fn))->code->qualname->chars);
    } else if (IS_OBJ_TYPE(fn, OBJ_NATIVE)) {
        strbuf_append_cstr(buf, ((ObjNative *)AS_OBJ(fn))->name);
    } else {
        append_repr(vm, fn, buf);
    }
    strbuf_append_char(buf, '(');
    for (uint32_t i = 0; i < argc; i++) {
        if (i) strbuf_append_cstr(buf, ", ");
        append_repr(vm, args[i], buf);
    }
    strbuf_append_char(buf, ')');
    if (IS_OBJ_TYPE(fn, OBJ_FUNCTION)) {
        ObjCode *code = ((ObjFunction *)AS_OBJ(fn))->code;
        strbuf_printf(buf, " at %s:%d", code->filename->chars, code->first_line);
    }
}

void loop_report(VM *vm, ObjLoop *loop, const char *message, Value exc, Value extra) {
    if (!IS_NONE(loop->exception_handler)) {
        ObjDict *context = dict_new(vm);
        dict_set_str(vm, context, str_from_cstr(vm, "message"), OBJ_VAL(str_from_cstr(vm, message)));
        if (!IS_NONE(exc)) dict_set_str(vm, context, str_from_cstr(vm, "exception"), exc);
        if (IS_OBJ_TYPE(extra, OBJ_HANDLE)) dict_set_str(vm, context, str_from_cstr(vm, "handle"), extra);
        else if (IS_OBJ(extra)) dict_set_str(vm, context, str_from_cstr(vm, "future"), extra);
        Value args[2] = {OBJ_VAL(loop), OBJ_VAL(context)};
        Value ignored;
        vm_push_root(vm, args[1]);
        bool ok = vm_call(vm, loop->exception_handler, args, 2, NULL, &ignored);
        vm_pop_roots(vm, 1);
        if (ok) return;
        exc = vm->exception;
        vm->exception = EMPTY_VAL;
        message = "Unhandled error in exception handler";
    }
    vm_flush_out(vm);
    StrBuf buf;
    strbuf_init(&buf);
    strbuf_append_cstr(&buf, message);
    if (IS_OBJ_TYPE(extra, OBJ_HANDLE)) {
        strbuf_append_cstr(&buf, "\nhandle: ");
        append_repr(vm, extra, &buf);
    } else if (IS_OBJ(extra)) {
        strbuf_append_cstr(&buf, "\nfuture: ");
        append_repr(vm, extra, &buf);
    }
    strbuf_append_char(&buf, '\n');
    fwrite(buf.chars, 1, buf.length, stderr);
    strbuf_free(&buf);
    if (!IS_NONE(exc)) exception_print(vm, exc, stderr);
    fflush(stderr);
}

// ---- running ------------------------------------------------------------------------

// An exception out of a callback: reported, and the loop goes on (except
// for KeyboardInterrupt and SystemExit).
static bool report_handle_error(VM *vm, ObjLoop *loop, ObjHandle *h, Value exc) {
    if (exception_matches(vm, exc, CLS_KEYBOARD_INTERRUPT) || exception_matches(vm, exc, CLS_SYSTEM_EXIT))
        return vm_raise_value(vm, exc);
    StrBuf msg;
    strbuf_init(&msg);
    strbuf_append_cstr(&msg, "Exception in callback ");
    format_callback(vm, h->callback, handle_args(h), h->argc, &msg);
    vm_push_root(vm, exc);
    loop_report(vm, loop, msg.chars, exc, OBJ_VAL(h));
    vm_pop_roots(vm, 1);
    strbuf_free(&msg);
    return true;
}

static bool run_handle(VM *vm, ObjLoop *loop, ObjHandle *h) {
    Value result;
    vm_push_root(vm, OBJ_VAL(h));
    bool ok = vm_call(vm, h->callback, handle_args(h), (int)h->argc, NULL, &result);
    vm_pop_roots(vm, 1);
    if (ok) return true;
    Value exc = vm->exception;
    vm->exception = EMPTY_VAL;
    return report_handle_error(vm, loop, h, exc);
}

// A future's done callback: reported like a handle if it raises (the
// handle is made only then).
static bool run_done_callback(VM *vm, ObjLoop *loop, Obj *callback, Obj *future) {
    Value fn = OBJ_VAL(callback), arg = OBJ_VAL(future), result;
    if (vm_call(vm, fn, &arg, 1, NULL, &result)) return true;
    Value exc = vm->exception;
    vm->exception = EMPTY_VAL;
    vm_push_root(vm, exc);
    ObjHandle *h = handle_new(vm, loop, fn, &arg, 1, false);
    vm_pop_roots(vm, 1);
    return report_handle_error(vm, loop, h, exc);
}

static void sleep_for(double seconds) {
    if (!(seconds > 0)) return;
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && !vm_interrupt) {
    }
}

static bool run_once(VM *vm, ObjLoop *loop) {
    TimerHeap *timers = &loop->timers;
    if (vm_interrupt) {
        vm_interrupt = 0;
        ObjClass *cls = vm->classes[CLS_KEYBOARD_INTERRUPT];
        return vm_raise_value(vm, OBJ_VAL(exception_new(vm, cls, tuple_new(vm, 0))));
    }
    if (timers->count > 100 && loop->cancelled_timers * 2 > timers->count) {
        timerheap_remove_if(timers, timer_dead, NULL);
        loop->cancelled_timers = 0;
    } else {
        while (timers->count && timer_dead(timerheap_peek(timers), NULL)) {
            timerheap_pop(timers);
            if (loop->cancelled_timers) loop->cancelled_timers--;
        }
    }

    if (!loop->ready_count && !loop->stopping) {
        if (!timers->count) {
            return vm_raise(vm, CLS_RUNTIME_ERROR,
                            "event loop deadlock: no callback or timer is scheduled, so the "
                            "awaited future can never complete");
        }
        double now = loop_time(vm);
        double when = timerheap_peek(timers)->when;
        double timeout = when - now;
        if (timeout < 0) timeout = 0;
        if (timeout > MAXIMUM_SELECT_TIMEOUT) timeout = MAXIMUM_SELECT_TIMEOUT;
        if (vm->clock_mode == CLOCK_VIRTUAL) {
            // the virtual clock jumps straight to the deadline (a real loop
            // would wake once a day on the way); one that never comes is
            // the deadlock it is
            if (isinf(when))
                return vm_raise(vm, CLS_RUNTIME_ERROR,
                                "event loop deadlock: the only timer left is at infinity, so the "
                                "awaited future can never complete");
            if (when > vm->virtual_now) vm->virtual_now = when;
        } else {
            vm_flush_out(vm);
            sleep_for(timeout);
        }
    }

    double now = loop_time(vm), end_time = now + CLOCK_RESOLUTION;
    if (end_time <= now) end_time = nextafter(now, INFINITY); // huge virtual times
    while (timers->count) {
        const TimerEntry *top = timerheap_peek(timers);
        if (top->when >= end_time) break;
        TimerEntry entry = timerheap_pop(timers);
        // the handles and tasks of a big heap are cold: fetch the next one's
        // header while this one is looked at
        if (timers->count) __builtin_prefetch(timerheap_peek(timers)->target);
        if (timer_dead(&entry, NULL)) {
            if (loop->cancelled_timers) loop->cancelled_timers--;
            continue;
        }
        Obj *target = entry.target;
        if (target->type == OBJ_HANDLE) {
            ((ObjHandle *)target)->scheduled = false;
        } else {
            ((ObjTask *)entry.target)->run_state = TASK_SLEEP_FIRED;
        }
        if (!loop_schedule(vm, loop, entry.target)) return false;
    }

    uint32_t ntodo = loop->ready_count;
    for (uint32_t i = 0; i < ntodo; i++) {
        ReadyEntry ready = ready_pop(loop);
        Obj *entry = ready.target;
        if (loop->ready_count) __builtin_prefetch(loop->ready[loop->ready_head].target); // runs next
        if (ready.arg) {
            vm_push_root(vm, OBJ_VAL(ready.arg));
            vm_push_root(vm, OBJ_VAL(entry));
            bool ok = run_done_callback(vm, loop, entry, ready.arg);
            vm_pop_roots(vm, 2);
            if (!ok) return false;
            continue;
        }
        if (entry->type == OBJ_HANDLE) {
            ObjHandle *h = (ObjHandle *)entry;
            if (h->cancelled) continue;
            if (!run_handle(vm, loop, h)) return false;
            continue;
        }
        ObjTask *task = (ObjTask *)entry;
        if (task->run_state == TASK_SLEEP_FIRED) {
            // the sleep's future completes now; the task wakes next iteration
            task->run_state = TASK_SCHEDULED;
            task->resume_kind = RESUME_VALUE;
            if (!loop_schedule(vm, loop, (Obj *)task)) return false;
        } else if (task->run_state == TASK_SCHEDULED) {
            vm_push_root(vm, OBJ_VAL(task));
            bool ok = task_step(vm, task);
            vm_pop_roots(vm, 1);
            if (!ok) return false;
        }
    }
    return true;
}

bool loop_run_forever(VM *vm, ObjLoop *loop) {
    if (!check_closed(vm, loop)) return false;
    if (loop->running) return vm_raise(vm, CLS_RUNTIME_ERROR, "This event loop is already running");
    if (vm->running_loop)
        return vm_raise(vm, CLS_RUNTIME_ERROR, "Cannot run the event loop while another loop is running");
    loop->running = true;
    vm->running_loop = loop;
    bool ok = true;
    for (;;) {
        if (!run_once(vm, loop)) {
            ok = false;
            break;
        }
        if (loop->stopping) break;
        if (vm->gc_stress || vm->bytes_allocated > vm->next_gc) gc_collect(vm);
    }
    loop->stopping = false;
    loop->running = false;
    vm->running_loop = NULL;
    return ok;
}

static bool stop_when_done(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjFuture *f = (ObjFuture *)AS_OBJ(args[0]);
    // CPython issue 22429: run_forever() already stopped for these
    bool fatal = f->state == FUT_FINISHED && (exception_matches(vm, f->exception, CLS_KEYBOARD_INTERRUPT) ||
                                              exception_matches(vm, f->exception, CLS_SYSTEM_EXIT));
    if (!fatal) f->loop->stopping = true;
    *out = NONE_VAL;
    return true;
}

static bool is_future(Value v) { return IS_OBJ_TYPE(v, OBJ_FUTURE) || IS_OBJ_TYPE(v, OBJ_TASK); }

bool loop_ensure_future(VM *vm, ObjLoop *loop, Value aw, ObjFuture **out) {
    if (is_future(aw)) {
        *out = (ObjFuture *)AS_OBJ(aw);
        return true;
    }
    if (IS_OBJ_TYPE(aw, OBJ_COROUTINE) || IS_OBJ_TYPE(aw, OBJ_SLEEP)) {
        if (!check_closed(vm, loop)) return false;
        *out = (ObjFuture *)task_new(vm, loop, aw, NULL);
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "An asyncio.Future, a coroutine or an awaitable is required");
}

bool loop_run_until_complete(VM *vm, ObjLoop *loop, Value aw, Value *out) {
    if (!check_closed(vm, loop)) return false;
    if (loop->running) return vm_raise(vm, CLS_RUNTIME_ERROR, "This event loop is already running");
    if (vm->running_loop)
        return vm_raise(vm, CLS_RUNTIME_ERROR, "Cannot run the event loop while another loop is running");
    bool new_task = !is_future(aw);
    ObjFuture *f = NULL;
    if (!loop_ensure_future(vm, loop, aw, &f)) return false;
    vm_push_root(vm, OBJ_VAL(f));
    ObjNative *stop = native_new(vm, "_run_until_complete_cb", stop_when_done, false);
    vm_push_root(vm, OBJ_VAL(stop));
    bool ok = future_add_callback(vm, f, OBJ_VAL(stop), CB_CALL) && loop_run_forever(vm, loop);
    // remove our callback if it never ran
    uint32_t kept = 0;
    for (uint32_t i = 0; i < f->callback_count; i++)
        if (!(f->callbacks[i].kind == CB_CALL && value_same(f->callbacks[i].fn, OBJ_VAL(stop))))
            f->callbacks[kept++] = f->callbacks[i];
    f->callback_count = kept;
    vm_pop_roots(vm, 2);
    if (!ok) {
        if (new_task && future_done(f) && f->state != FUT_CANCELLED) f->log_traceback = false;
        return false;
    }
    if (!future_done(f)) return vm_raise(vm, CLS_RUNTIME_ERROR, "Event loop stopped before Future completed.");
    return future_result(vm, f, out);
}

// ---- loop methods ------------------------------------------------------------------

static bool self_loop(VM *vm, Value *args, int argc, ObjLoop **out) {
    if (argc < 1 || !IS_OBJ_TYPE(args[0], OBJ_LOOP))
        return vm_raise(vm, CLS_TYPE_ERROR, "descriptor requires an event loop object");
    *out = (ObjLoop *)AS_OBJ(args[0]);
    return true;
}


static bool context_kwarg(VM *vm, const char *fn, Value *args, int argc, ObjTuple *kw) {
    static const char *const names[] = {"context", NULL};
    Value context = NONE_VAL;
    return !kw || native_kwargs(vm, fn, args, argc, kw, names, &context);
}

static bool m_call_soon(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!self_loop(vm, args, argc, &loop) || !context_kwarg(vm, "call_soon", args, argc, kw)) return false;
    if (argc < 2) return vm_raise(vm, CLS_TYPE_ERROR, "call_soon() missing 1 required positional argument: 'callback'");
    if (!check_closed(vm, loop)) return false;
    ObjHandle *h = loop_call_soon(vm, loop, args[1], args + 2, (uint32_t)(argc - 2));
    *out = OBJ_VAL(h);
    return true;
}

static bool number_arg(VM *vm, Value v, const char *what, double *out) {
    if (IS_INT(v) || IS_BOOL(v)) *out = (double)AS_INT(v);
    else if (IS_FLOAT(v)) *out = AS_FLOAT(v);
    else return vm_raise(vm, CLS_TYPE_ERROR, "unsupported operand type(s) for +: 'float' and '%s'",
                         value_type_name(vm, v));
    if (isnan(*out)) return vm_raise(vm, CLS_VALUE_ERROR, "%s must not be NaN", what);
    return true;
}

static bool m_call_later(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!self_loop(vm, args, argc, &loop) || !context_kwarg(vm, "call_later", args, argc, kw)) return false;
    if (argc < 3)
        return vm_raise(vm, CLS_TYPE_ERROR, "call_later() missing %d required positional argument%s",
                        3 - argc, argc == 2 ? ": 'callback'" : "s: 'delay' and 'callback'");
    double delay;
    if (!number_arg(vm, args[1], "delay", &delay)) return false;
    if (!check_closed(vm, loop)) return false;
    ObjHandle *h = loop_call_at(vm, loop, loop_time(vm) + delay, args[2], args + 3, (uint32_t)(argc - 3));
    if (!h) return false;
    *out = OBJ_VAL(h);
    return true;
}

static bool m_call_at(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!self_loop(vm, args, argc, &loop) || !context_kwarg(vm, "call_at", args, argc, kw)) return false;
    if (argc < 3)
        return vm_raise(vm, CLS_TYPE_ERROR, "call_at() missing %d required positional argument%s",
                        3 - argc, argc == 2 ? ": 'callback'" : "s: 'when' and 'callback'");
    double when;
    if (!number_arg(vm, args[1], "when", &when)) return false;
    if (!check_closed(vm, loop)) return false;
    ObjHandle *h = loop_call_at(vm, loop, when, args[2], args + 3, (uint32_t)(argc - 3));
    if (!h) return false;
    *out = OBJ_VAL(h);
    return true;
}

static bool m_time(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!self_loop(vm, args, argc, &loop) || !native_arity(vm, "time", argc - 1, 0, 0)) return false;
    *out = FLOAT_VAL(loop_time(vm));
    return true;
}

static bool m_run_until_complete(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!self_loop(vm, args, argc, &loop) || !native_arity(vm, "run_until_complete", argc - 1, 1, 1)) return false;
    return loop_run_until_complete(vm, loop, args[1], out);
}

static bool m_run_forever(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!self_loop(vm, args, argc, &loop) || !native_arity(vm, "run_forever", argc - 1, 0, 0)) return false;
    *out = NONE_VAL;
    return loop_run_forever(vm, loop);
}

static bool m_stop(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!self_loop(vm, args, argc, &loop) || !native_arity(vm, "stop", argc - 1, 0, 0)) return false;
    loop->stopping = true;
    *out = NONE_VAL;
    return true;
}

static bool m_close(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!self_loop(vm, args, argc, &loop) || !native_arity(vm, "close", argc - 1, 0, 0)) return false;
    if (loop->running) return vm_raise(vm, CLS_RUNTIME_ERROR, "Cannot close a running event loop");
    if (!loop->closed) {
        loop->closed = true;
        loop->ready_count = 0;
        loop->timers.count = 0;
    }
    *out = NONE_VAL;
    return true;
}

static bool m_is_closed(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!self_loop(vm, args, argc, &loop)) return false;
    *out = BOOL_VAL(loop->closed);
    return true;
}

static bool m_is_running(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!self_loop(vm, args, argc, &loop)) return false;
    *out = BOOL_VAL(loop->running);
    return true;
}

static bool m_create_future(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!self_loop(vm, args, argc, &loop) || !native_arity(vm, "create_future", argc - 1, 0, 0)) return false;
    *out = OBJ_VAL(future_new(vm, loop));
    return true;
}

bool loop_create_task(VM *vm, ObjLoop *loop, Value coro, Value name, Value *out) {
    if (!check_closed(vm, loop)) return false;
    if (!IS_OBJ_TYPE(coro, OBJ_COROUTINE) && !IS_OBJ_TYPE(coro, OBJ_SLEEP)) {
        StrBuf buf;
        strbuf_init(&buf);
        append_repr(vm, coro, &buf);
        vm_raise(vm, CLS_TYPE_ERROR, "a coroutine was expected, got %s", buf.chars);
        strbuf_free(&buf);
        return false;
    }
    ObjString *s = NULL;
    if (!IS_NONE(name)) {
        s = value_to_str(vm, name);
        if (!s) return false;
    }
    *out = OBJ_VAL(task_new(vm, loop, coro, s));
    return true;
}

static bool m_create_task(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    static const char *const names[] = {"name", "context", NULL};
    Value opts[2] = {NONE_VAL, NONE_VAL};
    if (!self_loop(vm, args, argc, &loop) || !native_arity(vm, "create_task", argc - 1, 1, 1) ||
        !native_kwargs(vm, "create_task", args, argc, kw, names, opts))
        return false;
    return loop_create_task(vm, loop, args[1], opts[0], out);
}

static bool m_set_exception_handler(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!self_loop(vm, args, argc, &loop) || !native_arity(vm, "set_exception_handler", argc - 1, 1, 1)) return false;
    loop->exception_handler = args[1];
    *out = NONE_VAL;
    return true;
}

static bool m_get_exception_handler(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!self_loop(vm, args, argc, &loop)) return false;
    *out = loop->exception_handler;
    return true;
}

static bool report_context(VM *vm, ObjLoop *loop, Value context_v, bool use_handler) {
    if (!IS_OBJ_TYPE(context_v, OBJ_DICT)) return vm_raise(vm, CLS_TYPE_ERROR, "context must be a dict");
    ObjDict *context = (ObjDict *)AS_OBJ(context_v);
    Value *message = dict_find_str(context, str_from_cstr(vm, "message"));
    Value *exc = dict_find_str(context, str_from_cstr(vm, "exception"));
    ObjString *msg = message ? value_to_str(vm, *message) : NULL;
    Value saved = loop->exception_handler;
    if (!use_handler) loop->exception_handler = NONE_VAL;
    loop_report(vm, loop, msg ? msg->chars : "Unhandled exception in event loop", exc ? *exc : NONE_VAL,
                NONE_VAL);
    loop->exception_handler = saved;
    return true;
}

static bool m_call_exception_handler(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!self_loop(vm, args, argc, &loop) || !native_arity(vm, "call_exception_handler", argc - 1, 1, 1)) return false;
    *out = NONE_VAL;
    if (IS_NONE(loop->exception_handler)) return report_context(vm, loop, args[1], false);
    Value call_args[2] = {args[0], args[1]};
    Value ignored;
    return vm_call(vm, loop->exception_handler, call_args, 2, NULL, &ignored);
}

static bool m_default_exception_handler(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjLoop *loop = NULL;
    if (!self_loop(vm, args, argc, &loop) || !native_arity(vm, "default_exception_handler", argc - 1, 1, 1))
        return false;
    *out = NONE_VAL;
    return report_context(vm, loop, args[1], false);
}

void loop_init_class(VM *vm, ObjClass *cls) {
    class_add_method(vm, cls, "call_soon", m_call_soon, true);
    class_add_method(vm, cls, "call_later", m_call_later, true);
    class_add_method(vm, cls, "call_at", m_call_at, true);
    class_add_method(vm, cls, "time", m_time, false);
    class_add_method(vm, cls, "run_until_complete", m_run_until_complete, false);
    class_add_method(vm, cls, "run_forever", m_run_forever, false);
    class_add_method(vm, cls, "stop", m_stop, false);
    class_add_method(vm, cls, "close", m_close, false);
    class_add_method(vm, cls, "is_closed", m_is_closed, false);
    class_add_method(vm, cls, "is_running", m_is_running, false);
    class_add_method(vm, cls, "create_future", m_create_future, false);
    class_add_method(vm, cls, "create_task", m_create_task, true);
    class_add_method(vm, cls, "set_exception_handler", m_set_exception_handler, false);
    class_add_method(vm, cls, "get_exception_handler", m_get_exception_handler, false);
    class_add_method(vm, cls, "call_exception_handler", m_call_exception_handler, false);
    class_add_method(vm, cls, "default_exception_handler", m_default_exception_handler, false);
}

// ---- handles ----------------------------------------------------------------------------

static bool self_handle(VM *vm, Value *args, int argc, ObjHandle **out) {
    if (argc < 1 || !IS_OBJ_TYPE(args[0], OBJ_HANDLE))
        return vm_raise(vm, CLS_TYPE_ERROR, "descriptor requires a 'Handle' object");
    *out = (ObjHandle *)AS_OBJ(args[0]);
    return true;
}

static bool h_cancel(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjHandle *h = NULL;
    if (!self_handle(vm, args, argc, &h)) return false;
    if (!h->cancelled) {
        h->cancelled = true;
        h->callback = NONE_VAL;
        h->argc = 0;
        if (h->is_timer && h->scheduled) h->loop->cancelled_timers++;
    }
    *out = NONE_VAL;
    return true;
}

static bool h_cancelled(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjHandle *h = NULL;
    if (!self_handle(vm, args, argc, &h)) return false;
    *out = BOOL_VAL(h->cancelled);
    return true;
}

static bool h_when(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjHandle *h = NULL;
    if (!self_handle(vm, args, argc, &h)) return false;
    if (!h->is_timer) return vm_raise(vm, CLS_ATTRIBUTE_ERROR, "'Handle' object has no attribute 'when'");
    *out = FLOAT_VAL(h->when);
    return true;
}

void handle_init_class(VM *vm, ObjClass *cls) {
    class_add_method(vm, cls, "cancel", h_cancel, false);
    class_add_method(vm, cls, "cancelled", h_cancelled, false);
    class_add_method(vm, vm->classes[CLS_TIMER_HANDLE], "when", h_when, false);
}

// ---- repr of the async objects (called by ops.c) ----------------------------------------

static void future_state_repr(VM *vm, ObjFuture *f, StrBuf *buf) {
    switch ((FutureState)f->state) {
    case FUT_PENDING: strbuf_append_cstr(buf, "pending"); break;
    case FUT_CANCELLED: strbuf_append_cstr(buf, "cancelled"); break;
    case FUT_FINISHED: strbuf_append_cstr(buf, "finished"); break;
    }
}

bool async_repr(VM *vm, Value v, StrBuf *buf) {
    switch (OBJ_TYPE(v)) {
    case OBJ_FUTURE: {
        ObjFuture *f = (ObjFuture *)AS_OBJ(v);
        strbuf_append_cstr(buf, "<Future ");
        future_state_repr(vm, f, buf);
        if (f->state == FUT_FINISHED) {
            if (!IS_NONE(f->exception)) {
                strbuf_append_cstr(buf, " exception=");
                append_repr(vm, f->exception, buf);
            } else {
                strbuf_append_cstr(buf, " result=");
                append_repr(vm, f->result, buf);
            }
        }
        strbuf_append_char(buf, '>');
        return true;
    }
    case OBJ_TASK: {
        ObjTask *t = (ObjTask *)AS_OBJ(v);
        strbuf_append_cstr(buf, "<Task ");
        future_state_repr(vm, &t->fut, buf);
        strbuf_append_cstr(buf, " name=");
        str_repr(task_name(vm, t), buf);
        if (t->coro && t->coro->type == OBJ_COROUTINE) {
            ObjCode *code = ((ObjCoroutine *)t->coro)->func->code;
            strbuf_printf(buf, " coro=<%s() %s %s:%d>", code->qualname->chars,
                          future_done(&t->fut) ? "done, defined at" : "running at", code->filename->chars,
                          code->first_line);
        }
        if (t->fut.state == FUT_FINISHED) {
            if (!IS_NONE(t->fut.exception)) {
                strbuf_append_cstr(buf, " exception=");
                append_repr(vm, t->fut.exception, buf);
            } else {
                strbuf_append_cstr(buf, " result=");
                append_repr(vm, t->fut.result, buf);
            }
        }
        strbuf_append_char(buf, '>');
        return true;
    }
    case OBJ_HANDLE: {
        ObjHandle *h = (ObjHandle *)AS_OBJ(v);
        // CPython's _repr_info: [cancelled] [when=T] [callback(args) at file:line]
        strbuf_append_cstr(buf, h->is_timer ? "<TimerHandle" : "<Handle");
        if (h->cancelled) strbuf_append_cstr(buf, " cancelled");
        if (h->is_timer) {
            strbuf_append_cstr(buf, " when=");
            numfmt_float_repr(h->when, buf);
        }
        if (!h->cancelled) {
            strbuf_append_char(buf, ' ');
            format_callback(vm, h->callback, handle_args(h), h->argc, buf);
        }
        strbuf_append_char(buf, '>');
        return true;
    }
    case OBJ_LOOP: {
        ObjLoop *l = (ObjLoop *)AS_OBJ(v);
        strbuf_printf(buf, "<_UnixSelectorEventLoop running=%s closed=%s debug=False>",
                      l->running ? "True" : "False", l->closed ? "True" : "False");
        return true;
    }
    case OBJ_SLEEP:
        strbuf_append_cstr(buf, "<coroutine object sleep>");
        return true;
    default:
        return false;
    }
}
