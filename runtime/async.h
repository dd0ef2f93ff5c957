// runtime/async.h - what the dispatch loop and the asyncio module share:
// futures, tasks, the loop's queues and clocks.
#ifndef ASYNCRUN_ASYNC_H
#define ASYNCRUN_ASYNC_H

#include "runtime/vm.h"

// ---- interp.c: running fibers ----
typedef enum { RUN_RETURN, RUN_SUSPEND, RUN_ERROR } RunResult;
// Run the fiber from its top frame until the FRAME_STOP frame returns (the
// result is left on top of the fiber's stack), it suspends, or an exception
// escapes (vm->exception). A pending vm->exception is thrown in first.
RunResult interp_run(VM *vm, Fiber *fiber);
// Push the frame that starts coroutine `co` on `fiber` (flagged FRAME_STOP).
bool interp_start_coroutine(VM *vm, Fiber *fiber, ObjCoroutine *co);
void fiber_init(Fiber *fiber);

// ---- future.c ----
ObjFuture *future_new(VM *vm, ObjLoop *loop);
void future_init(ObjFuture *f, ObjLoop *loop);
static inline bool future_done(const ObjFuture *f) { return f->state != FUT_PENDING; }
bool future_set_result(VM *vm, ObjFuture *f, Value result);     // InvalidStateError
bool future_set_exception(VM *vm, ObjFuture *f, Value exc);
// cancel(): tasks and gathering futures do more; _plain is Future.cancel.
bool future_cancel(VM *vm, ObjFuture *f, Value msg);            // false if done
bool future_cancel_plain(VM *vm, ObjFuture *f, Value msg);
// The result, or false with the exception (or CancelledError) raised.
bool future_result(VM *vm, ObjFuture *f, Value *out);
bool future_add_callback(VM *vm, ObjFuture *f, Value fn, CallbackKind kind);
// A CancelledError carrying msg (NONE for none).
Value cancelled_error_new(VM *vm, Value msg);
void future_init_class(VM *vm, ObjClass *cls);

// ---- task.c ----
ObjTask *task_new(VM *vm, ObjLoop *loop, Value coro, ObjString *name);
// Called by AWAIT on a pending future / a sleep (delay <= 0: bare yield).
bool task_wait_future(VM *vm, ObjTask *task, ObjFuture *f);
bool task_sleep(VM *vm, ObjTask *task, double delay, Value result);
// One step of the task (the ready queue calls it). false only for
// exceptions that must stop the loop (SystemExit, KeyboardInterrupt).
bool task_step(VM *vm, ObjTask *task);
bool task_cancel(VM *vm, ObjTask *task, Value msg);
void task_init_class(VM *vm, ObjClass *cls);

// ---- loop.c ----
ObjLoop *loop_new(VM *vm);
double loop_time(VM *vm);
bool loop_schedule(VM *vm, ObjLoop *loop, Obj *entry); // append to ready
ObjHandle *loop_call_soon(VM *vm, ObjLoop *loop, Value callback, ObjTuple *args);
ObjHandle *loop_call_at(VM *vm, ObjLoop *loop, double when, Value callback, ObjTuple *args);
bool loop_add_timer(VM *vm, ObjLoop *loop, double when, Obj *target, uint64_t *seq);
bool loop_run_until_complete(VM *vm, ObjLoop *loop, Value awaitable, Value *out);
bool loop_run_forever(VM *vm, ObjLoop *loop);
// Report an exception from a callback or task as CPython's default
// exception handler does (or the loop's custom handler).
void loop_report(VM *vm, ObjLoop *loop, const char *message, Value exc, Value extra);
void loop_init_class(VM *vm, ObjClass *cls);
void handle_init_class(VM *vm, ObjClass *cls);
ObjLoop *loop_get_running(VM *vm); // NULL when none
// asyncio.get_event_loop(): the running loop, else the current one (made on
// first use).
bool asyncio_get_event_loop(VM *vm, Value *out);
// ensure_future: coroutine -> new task, future/task -> itself.
bool loop_ensure_future(VM *vm, ObjLoop *loop, Value awaitable, ObjFuture **out);

#endif
