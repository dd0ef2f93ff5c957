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
void coroutine_init_class(VM *vm, ObjClass *cls); // close()
// stack values interp_start_coroutine needs on an empty fiber
uint32_t interp_start_stack_need(const ObjCoroutine *co);
void fiber_init(Fiber *fiber);
// A suspended fiber whose stack is mostly unused (a call spread a million
// arguments on it) gives the memory back; its frames keep their room.
void fiber_trim_stack(Fiber *fiber);

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
// Drop every callback without running it (and free their array).
void future_callbacks_release(ObjFuture *f);
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
ObjString *task_name(VM *vm, ObjTask *task); // "Task-N" made on first use
void task_init_class(VM *vm, ObjClass *cls);

// ---- mod_asyncio.c ----
// asyncio.sleep(delay, result=None): the sleep object to await. The
// dispatch loop parks a task straight away on `await asyncio.sleep(...)`,
// with the arguments checked by asyncio_sleep_args.
bool asyncio_sleep(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out);
bool asyncio_sleep_args(VM *vm, Value *args, int argc, ObjTuple *kw, double *delay, Value *result);

// ---- loop.c ----
ObjLoop *loop_new(VM *vm);
double loop_time(VM *vm);
bool loop_schedule(VM *vm, ObjLoop *loop, Obj *entry); // append to ready
// append callback(f) to ready, as call_soon(callback, f) without a handle
bool loop_schedule_done_callback(VM *vm, ObjLoop *loop, Value callback, ObjFuture *f);
ObjHandle *loop_call_soon(VM *vm, ObjLoop *loop, Value callback, const Value *args, uint32_t argc);
ObjHandle *loop_call_at(VM *vm, ObjLoop *loop, double when, Value callback, const Value *args, uint32_t argc);
// Keep task in the loop's chain of live tasks (asyncio.all_tasks). A
// pending task stays alive until it finishes, a finished one only while
// something else refers to it.
void loop_track_task(ObjLoop *loop, ObjTask *task);
// The first live task (the chain continues through next_in_loop), after
// unlinking the finished ones.
ObjTask *loop_live_tasks(ObjLoop *loop);
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

// ---- locks.c, queues.c: asyncio's synchronisation primitives and queues ----
// Lock, Event, Condition, Semaphore, BoundedSemaphore, Queue, LifoQueue and
// PriorityQueue into the asyncio module's dict.
void asyncio_sync_init(VM *vm, ObjDict *module_dict);

// Shared by locks.c and queues.c. Each object is an ObjInstance whose state
// is a list (SYNC_* fields, then its own) held in its attribute dict under
// the key None (out of reach of attribute names) and pointed to by
// inst->native. A blocking call returns a waiter future that its task
// awaits. Waking a waiter (CPython's `fut.set_result(x)`) marks it
// done without scheduling its callbacks and queues (waiter, info) for a
// continuation that runs in the ready-queue slot of CPython's Task.__wakeup:
// it does what CPython's coroutine does after its `await fut`, then steps
// the task itself, so both happen in one slot, as in CPython.
enum { SYNC_KIND, SYNC_LOOP, SYNC_WOKEN, SYNC_HANDLE, SYNC_CANCEL, SYNC_FIELDS };
typedef enum { SYNC_LOCK, SYNC_EVENT, SYNC_CONDITION, SYNC_SEMAPHORE, SYNC_QUEUE } SyncKind;
#define LOCKS_STATE(inst) ((ObjList *)(inst)->native)

// A deque: a list whose item 0 is the offset of the first live value.
ObjList *locks_deque_new(VM *vm);
static inline uint32_t locks_deque_size(const ObjList *d) {
    return d->length - 1 - (uint32_t)AS_INT(d->items[0]);
}
static inline Value *locks_deque_items(ObjList *d) { return d->items + 1 + AS_INT(d->items[0]); }
void locks_deque_drop(ObjList *d, uint32_t count); // popleft `count` values
// Remove `count` values at live index `at`; -1 from find when absent.
void locks_deque_remove(ObjList *d, uint32_t at, uint32_t count);
int64_t locks_deque_find(ObjList *d, Value v, uint32_t stride);

// The class data a class (or its base) keeps under the key None: the Lock
// class for Condition, the Event class for the queues.
bool locks_class_data(VM *vm, ObjClass *cls, Value *out);
// A new instance of cls with an nfields-long state.
ObjInstance *locks_instance_new(VM *vm, ObjClass *cls, SyncKind kind, uint32_t nfields);
// args[0] as an instance of kind, else TypeError naming method.
bool locks_self(VM *vm, Value *args, int argc, SyncKind kind, const char *method, ObjInstance **out);
// Bind args[1..] and keywords to names[0..n) as CPython binds a Python
// method's parameters; out[] holds the defaults, EMPTY for required ones.
bool locks_args(VM *vm, const char *fn, Value *args, int argc, ObjTuple *kwnames,
                const char *const *names, int n, Value *out);
// A future already done with result (what a call that does not block returns).
ObjFuture *locks_done(VM *vm, Value result);
// mixins._LoopBoundMixin._get_loop, then a new waiter bound to inst.
ObjFuture *locks_waiter_new(VM *vm, ObjInstance *inst);
// CPython's `waiter.set_result(result)`; info goes to the continuation.
bool locks_wake(VM *vm, ObjInstance *inst, ObjFuture *waiter, Value result, Value info);
// The task awaiting waiter, NULL when none.
ObjTask *locks_waiting_task(ObjFuture *waiter);
// Finish a woken waiter with result, or exception exc (EMPTY: none), and
// step its task now.
bool locks_finish(VM *vm, ObjFuture *waiter, Value result, Value exc);
// A woken waiter that must wait again (its coroutine loops).
static inline void locks_unresolve(ObjFuture *waiter) {
    waiter->state = FUT_PENDING;
    waiter->result = NONE_VAL;
}
// The Event behind Queue.join.
ObjInstance *locks_event_new(VM *vm, ObjClass *cls);
void locks_event_set(VM *vm, ObjInstance *event);
void locks_event_clear(ObjInstance *event);
bool locks_event_wait(VM *vm, ObjInstance *event, Value result, Value *out);
// queues.c: its classes (the Queue class returned), and the continuation and
// cancellation of its waiters.
ObjClass *queues_init(VM *vm, ObjDict *module_dict, ObjClass *event_cls);
bool queues_wakeup(VM *vm, ObjInstance *queue, ObjFuture *waiter, Value info);
bool queues_cancelled(VM *vm, ObjInstance *queue, ObjFuture *waiter);

#endif
