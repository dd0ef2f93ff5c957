// runtime/locks.c - asyncio.Lock, Event, Condition, Semaphore and
// BoundedSemaphore, step for step as CPython 3.11's asyncio/locks.py, and
// the waiter machinery queues.c shares (see async.h).
// A native that would suspend in CPython returns a pending waiter future
// its task awaits; what CPython's coroutine does after `await fut` runs in a
// continuation, in the ready-queue slot where CPython's Task.__wakeup would
// run, which then steps the task itself: one slot per wake-up, as in
// CPython. A woken waiter stays done-but-unscheduled until that slot, so a
// Task.cancel() meanwhile sets must_cancel exactly as CPython's does. The
// methods that are coroutines in CPython are thin coroutines around the
// natives (CORO_SOURCE below).
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/async.h"
#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/ops.h"

// Lock: _waiters (future, info) pairs; info is the result the acquire
// delivers (True for acquire(), None for __aenter__) or, for a Condition
// re-acquiring its lock, the Condition's record of the wait.
enum { LOCK_WAITERS = SYNC_FIELDS, LOCK_LOCKED, LOCK_FIELDS };
enum { EVENT_WAITERS = SYNC_FIELDS, EVENT_VALUE, EVENT_FIELDS };
// SEM_BOUND: the initial value of a BoundedSemaphore, None for a Semaphore.
enum { SEM_WAITERS = SYNC_FIELDS, SEM_VALUE, SEM_BOUND, SEM_FIELDS };
enum { COND_WAITERS = SYNC_FIELDS, COND_LOCK, COND_FIELDS };
// One Condition.wait() / wait_for() in progress: the predicate (None for
// wait()), the exception pending from the first await, whether re-acquiring
// the lock was cancelled, and the task that called it.
enum { REC_COND, REC_PREDICATE, REC_EXC, REC_CANCELLED, REC_TASK, REC_FIELDS };

// Attributes mirrored in the dict for programs that print them (entry 0 is
// the state): Lock._locked, Event._value, Semaphore._value.
#define MIRROR_ENTRY 1

#define AS_LIST(v) ((ObjList *)AS_OBJ(v))
#define AS_FUT(v) ((ObjFuture *)AS_OBJ(v))
#define AS_INST(v) ((ObjInstance *)AS_OBJ(v))
#define FIELD(inst, i) (LOCKS_STATE(inst)->items[i])

// ---- deques ---------------------------------------------------------------------

ObjList *locks_deque_new(VM *vm) {
    ObjList *d = list_new(vm, 4);
    list_append(vm, d, INT_VAL(0));
    return d;
}

void locks_deque_drop(ObjList *d, uint32_t count) {
    uint32_t head = (uint32_t)AS_INT(d->items[0]);
    for (uint32_t i = 0; i < count; i++) d->items[1 + head + i] = NONE_VAL;
    head += count;
    if (1 + head >= d->length) {
        d->length = 1;
        head = 0;
    } else if (head >= 32 && head * 2 >= d->length) {
        memmove(d->items + 1, d->items + 1 + head, sizeof(Value) * (d->length - 1 - head));
        d->length -= head;
        head = 0;
    }
    d->items[0] = INT_VAL(head);
}

void locks_deque_remove(ObjList *d, uint32_t at, uint32_t count) {
    if (at == 0) {
        locks_deque_drop(d, count);
        return;
    }
    Value *items = locks_deque_items(d);
    uint32_t size = locks_deque_size(d);
    memmove(items + at, items + at + count, sizeof(Value) * (size - at - count));
    d->length -= count;
}

int64_t locks_deque_find(ObjList *d, Value v, uint32_t stride) {
    Value *items = locks_deque_items(d);
    uint32_t size = locks_deque_size(d);
    for (uint32_t i = 0; i < size; i += stride)
        if (value_same(items[i], v)) return i;
    return -1;
}

static bool deque_push2(VM *vm, ObjList *d, Value a, Value b) {
    if (!list_append(vm, d, a) || !list_append(vm, d, b))
        return vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
    return true;
}

// Remove the (waiter, info) pair of w; its info in *info. false when absent.
static bool deque_take(ObjList *d, ObjFuture *w, Value *info) {
    int64_t at = locks_deque_find(d, OBJ_VAL(w), 2);
    if (at < 0) return false;
    if (info) *info = locks_deque_items(d)[at + 1];
    locks_deque_remove(d, (uint32_t)at, 2);
    return true;
}

// ---- instances and arguments ------------------------------------------------------

ObjInstance *locks_instance_new(VM *vm, ObjClass *cls, SyncKind kind, uint32_t nfields) {
    ObjList *st = list_new(vm, nfields);
    for (uint32_t i = 0; i < nfields; i++) st->items[i] = NONE_VAL;
    st->length = nfields;
    st->items[SYNC_KIND] = INT_VAL(kind);
    st->items[SYNC_WOKEN] = OBJ_VAL(locks_deque_new(vm));
    ObjInstance *inst = ALLOC_OBJ(vm, ObjInstance, OBJ_INSTANCE);
    inst->cls = cls;
    inst->dict = dict_new(vm);
    // under key None: no attribute name reaches it, so no program can replace it
    dict_set(vm, inst->dict, NONE_VAL, OBJ_VAL(st));
    inst->native = st;
    return inst;
}

bool locks_class_data(VM *vm, ObjClass *cls, Value *out) {
    for (; cls; cls = cls->base) {
        bool found = false;
        if (dict_get(vm, cls->dict, NONE_VAL, out, &found) && found) return true;
    }
    vm->exception = EMPTY_VAL;
    return false;
}

static void mirror_add(VM *vm, ObjInstance *inst, const char *name, Value v) {
    dict_set_str(vm, inst->dict, str_intern(vm, name, strlen(name)), v);
}

static void mirror_set(ObjInstance *inst, uint32_t entry, Value v) {
    if (inst->dict->used > entry) inst->dict->entries[entry].value = v;
}

// Is v one of ours? Its dict's first entry holds the list inst->native
// points to.
static ObjInstance *as_sync(Value v) {
    if (!IS_OBJ_TYPE(v, OBJ_INSTANCE)) return NULL;
    ObjInstance *inst = AS_INST(v);
    if (!inst->native || !inst->dict || inst->dict->used == 0) return NULL;
    Value first = inst->dict->entries[0].value;
    if (!IS_OBJ(first) || AS_OBJ(first) != (Obj *)inst->native) return NULL;
    return inst;
}

static const char *kind_name(SyncKind kind) {
    switch (kind) {
    case SYNC_LOCK: return "Lock";
    case SYNC_EVENT: return "Event";
    case SYNC_CONDITION: return "Condition";
    case SYNC_SEMAPHORE: return "Semaphore";
    case SYNC_QUEUE: return "Queue";
    }
    return "?";
}

bool locks_self(VM *vm, Value *args, int argc, SyncKind kind, const char *method, ObjInstance **out) {
    ObjInstance *inst = argc > 0 ? as_sync(args[0]) : NULL;
    if (inst && AS_INT(FIELD(inst, SYNC_KIND)) == kind) {
        *out = inst;
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "descriptor '%s' for '%s' objects doesn't apply to a '%s' object", method,
                    kind_name(kind), argc > 0 ? value_type_name(vm, args[0]) : "nothing");
}

bool locks_args(VM *vm, const char *fn, Value *args, int argc, ObjTuple *kwnames, const char *const *names, int n,
                Value *out) {
    int given = argc - 1;
    if (given > n) {
        int required = 0;
        for (int i = 0; i < n; i++)
            if (IS_EMPTY(out[i])) required++;
        if (required == n)
            return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes %d positional argument%s but %d were given", fn, n + 1,
                            n == 0 ? "" : "s", argc);
        return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes from %d to %d positional arguments but %d were given", fn,
                        required + 1, n + 1, argc);
    }
    for (int i = 0; i < given; i++) out[i] = args[1 + i];
    for (uint32_t k = 0; kwnames && k < kwnames->length; k++) {
        ObjString *key = (ObjString *)AS_OBJ(kwnames->items[k]);
        int j = 0;
        while (j < n && strcmp(names[j], key->chars) != 0) j++;
        if (j == n) return vm_raise(vm, CLS_TYPE_ERROR, "%s() got an unexpected keyword argument '%s'", fn, key->chars);
        if (j < given) return vm_raise(vm, CLS_TYPE_ERROR, "%s() got multiple values for argument '%s'", fn, key->chars);
        out[j] = args[argc + (int)k];
    }
    int missing = 0;
    for (int i = 0; i < n; i++)
        if (IS_EMPTY(out[i])) missing++;
    if (!missing) return true;
    StrBuf list;
    strbuf_init(&list);
    for (int i = 0, seen = 0; i < n; i++) {
        if (!IS_EMPTY(out[i])) continue;
        if (seen) strbuf_append_cstr(&list, missing == 2 ? " and " : seen == missing - 1 ? ", and " : ", ");
        strbuf_printf(&list, "'%s'", names[i]);
        seen++;
    }
    vm_raise(vm, CLS_TYPE_ERROR, "%s() missing %d required positional argument%s: %s", fn, missing,
             missing == 1 ? "" : "s", list.chars);
    strbuf_free(&list);
    return false;
}

static bool no_args(VM *vm, const char *fn, Value *args, int argc, ObjTuple *kwnames) {
    return locks_args(vm, fn, args, argc, kwnames, NULL, 0, NULL);
}

// As CPython's object.__repr__: "<asyncio.locks.Lock object at 0x...".
static void repr_head(ObjInstance *inst, StrBuf *buf) {
    strbuf_printf(buf, "<%s.%s object at 0x%" PRIxPTR, inst->cls->module, inst->cls->name->chars,
                  (uintptr_t)inst);
}

static ObjString *sync_repr(VM *vm, ObjInstance *inst);

// ---- waiters ---------------------------------------------------------------------

ObjFuture *locks_done(VM *vm, Value result) {
    ObjLoop *loop = loop_get_running(vm);
    if (!loop) loop = vm->current_loop;
    if (!loop) loop = loop_new(vm);
    ObjFuture *f = future_new(vm, loop);
    f->state = FUT_FINISHED;
    f->result = result;
    return f;
}

static bool done_out(VM *vm, Value result, Value *out) {
    *out = OBJ_VAL(locks_done(vm, result));
    return true;
}

static bool wakeup_native(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out);
static bool cancelled_native(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out);

ObjFuture *locks_waiter_new(VM *vm, ObjInstance *inst) {
    ObjList *st = LOCKS_STATE(inst);
    // mixins._LoopBoundMixin._get_loop(); outside a running loop (a call
    // whose await CPython would run later, inside it) the current loop
    ObjLoop *loop = loop_get_running(vm);
    if (!loop) {
        Value v;
        if (!asyncio_get_event_loop(vm, &v)) return NULL;
        loop = (ObjLoop *)AS_OBJ(v);
    }
    if (IS_NONE(st->items[SYNC_LOOP])) {
        st->items[SYNC_LOOP] = OBJ_VAL(loop);
    } else if (AS_OBJ(st->items[SYNC_LOOP]) != (Obj *)loop) {
        ObjString *r = sync_repr(vm, inst);
        if (r) vm_raise(vm, CLS_RUNTIME_ERROR, "%s is bound to a different event loop", r->chars);
        return NULL;
    }
    Value cb = st->items[SYNC_CANCEL];
    if (IS_NONE(cb)) {
        ObjBound *b = ALLOC_OBJ(vm, ObjBound, OBJ_BOUND);
        b->receiver = OBJ_VAL(inst);
        b->method = OBJ_VAL(native_new(vm, "_waiter_cancelled", cancelled_native, false));
        cb = OBJ_VAL(b);
        st->items[SYNC_CANCEL] = cb;
    }
    ObjFuture *w = future_new(vm, loop);
    if (!future_add_callback(vm, w, cb, CB_CALL)) return NULL;
    return w;
}

bool locks_wake(VM *vm, ObjInstance *inst, ObjFuture *w, Value result, Value info) {
    ObjList *st = LOCKS_STATE(inst);
    w->state = FUT_FINISHED;
    w->result = result;
    if (!deque_push2(vm, AS_LIST(st->items[SYNC_WOKEN]), OBJ_VAL(w), info)) return false;
    // one handle per object, in the ready queue once per woken waiter: each
    // run takes the oldest woken waiter
    Value h = st->items[SYNC_HANDLE];
    if (IS_OBJ_TYPE(h, OBJ_HANDLE) && ((ObjHandle *)AS_OBJ(h))->loop == w->loop)
        return loop_schedule(vm, w->loop, AS_OBJ(h));
    Value self = OBJ_VAL(inst);
    ObjNative *fn = native_new(vm, "_wakeup", wakeup_native, false);
    ObjHandle *handle = loop_call_soon(vm, w->loop, OBJ_VAL(fn), &self, 1);
    st->items[SYNC_HANDLE] = OBJ_VAL(handle);
    return true;
}

ObjTask *locks_waiting_task(ObjFuture *w) {
    for (uint32_t i = 0; i < w->callback_count; i++) {
        if (w->callbacks[i].kind != CB_WAKE_TASK) continue;
        ObjTask *t = (ObjTask *)AS_OBJ(w->callbacks[i].fn);
        if (t->waiting_on == w && t->run_state == TASK_WAITING) return t;
    }
    return NULL;
}

static bool is_cancel_callback(Value fn) {
    if (!IS_OBJ_TYPE(fn, OBJ_BOUND)) return false;
    Value m = ((ObjBound *)AS_OBJ(fn))->method;
    return IS_OBJ_TYPE(m, OBJ_NATIVE) && ((ObjNative *)AS_OBJ(m))->fn == cancelled_native;
}

bool locks_finish(VM *vm, ObjFuture *w, Value result, Value exc) {
    ObjTask *t = locks_waiting_task(w);
    for (uint32_t i = 0; t && i < w->callback_count; i++) {
        FutureCallback cb = w->callbacks[i];
        if (cb.kind == CB_WAKE_TASK ? AS_OBJ(cb.fn) != (Obj *)t : !is_cancel_callback(cb.fn)) t = NULL;
    }
    if (!t) {
        // awaited by something else than one task (gather...): complete it
        // the ordinary way
        locks_unresolve(w);
        return IS_EMPTY(exc) ? future_set_result(vm, w, result) : future_set_exception(vm, w, exc);
    }
    future_callbacks_release(w);
    w->state = FUT_FINISHED;
    w->result = IS_EMPTY(exc) ? result : NONE_VAL;
    if (!IS_EMPTY(exc)) w->exception = exc;
    t->run_state = TASK_SCHEDULED;
    t->resume_kind = RESUME_FUTURE;
    vm_push_root(vm, OBJ_VAL(t));
    bool ok = task_step(vm, t);
    vm_pop_roots(vm, 1);
    return ok;
}

static bool lock_wakeup(VM *vm, ObjInstance *lock, ObjFuture *w, Value info);
static bool event_wakeup(VM *vm, ObjInstance *event, ObjFuture *w, Value info);
static bool sem_wakeup(VM *vm, ObjInstance *sem, ObjFuture *w, Value info);
static bool cond_wakeup(VM *vm, ObjInstance *cond, ObjFuture *w, Value info);
static bool lock_cancelled(VM *vm, ObjInstance *lock, ObjFuture *w);
static bool event_cancelled(VM *vm, ObjInstance *event, ObjFuture *w);
static bool sem_cancelled(VM *vm, ObjInstance *sem, ObjFuture *w);
static bool cond_cancelled(VM *vm, ObjInstance *cond, ObjFuture *w);

// The handle's callback: the continuation of the oldest woken waiter.
static bool wakeup_native(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    *out = NONE_VAL;
    ObjInstance *inst = argc == 1 ? as_sync(args[0]) : NULL;
    if (!inst) return true;
    ObjList *woken = AS_LIST(FIELD(inst, SYNC_WOKEN));
    if (locks_deque_size(woken) < 2) return true;
    Value *items = locks_deque_items(woken);
    ObjFuture *w = AS_FUT(items[0]);
    Value info = items[1];
    locks_deque_drop(woken, 2);
    if (w->state != FUT_FINISHED) return true;
    // the continuation may run a class's __lt__ (PriorityQueue) or a
    // predicate: keep the waiter and its info alive meanwhile
    vm_push_root(vm, OBJ_VAL(w));
    vm_push_root(vm, info);
    bool ok = true;
    switch ((SyncKind)AS_INT(FIELD(inst, SYNC_KIND))) {
    case SYNC_LOCK: ok = lock_wakeup(vm, inst, w, info); break;
    case SYNC_EVENT: ok = event_wakeup(vm, inst, w, info); break;
    case SYNC_SEMAPHORE: ok = sem_wakeup(vm, inst, w, info); break;
    case SYNC_CONDITION: ok = cond_wakeup(vm, inst, w, info); break;
    case SYNC_QUEUE: ok = queues_wakeup(vm, inst, w, info); break;
    }
    vm_pop_roots(vm, 2);
    return ok;
}

// Every waiter's first done callback: when it is cancelled, the except /
// finally clauses of CPython's coroutine, just before its task's own wake-up.
static bool cancelled_native(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    *out = NONE_VAL;
    ObjInstance *inst = argc == 2 ? as_sync(args[0]) : NULL;
    if (!inst || !IS_OBJ_TYPE(args[1], OBJ_FUTURE)) return true;
    ObjFuture *w = AS_FUT(args[1]);
    if (w->state != FUT_CANCELLED) return true;
    switch ((SyncKind)AS_INT(FIELD(inst, SYNC_KIND))) {
    case SYNC_LOCK: return lock_cancelled(vm, inst, w);
    case SYNC_EVENT: return event_cancelled(vm, inst, w);
    case SYNC_SEMAPHORE: return sem_cancelled(vm, inst, w);
    case SYNC_CONDITION: return cond_cancelled(vm, inst, w);
    case SYNC_QUEUE: return queues_cancelled(vm, inst, w);
    }
    return true;
}

// ---- Lock ------------------------------------------------------------------------

static bool lock_locked(ObjInstance *lock) { return AS_BOOL(FIELD(lock, LOCK_LOCKED)); }

static void lock_set(ObjInstance *lock, bool locked) {
    FIELD(lock, LOCK_LOCKED) = BOOL_VAL(locked);
    mirror_set(lock, MIRROR_ENTRY, BOOL_VAL(locked));
}

static bool all_cancelled(ObjList *waiters) {
    Value *items = locks_deque_items(waiters);
    uint32_t size = locks_deque_size(waiters);
    for (uint32_t i = 0; i < size; i += 2)
        if (AS_FUT(items[i])->state != FUT_CANCELLED) return false;
    return true;
}

// The test at the top of Lock.acquire.
static bool lock_free(ObjInstance *lock) {
    return !lock_locked(lock) && all_cancelled(AS_LIST(FIELD(lock, LOCK_WAITERS)));
}

static bool lock_wake_up_first(VM *vm, ObjInstance *lock) {
    ObjList *waiters = AS_LIST(FIELD(lock, LOCK_WAITERS));
    if (locks_deque_size(waiters) == 0) return true;
    Value *items = locks_deque_items(waiters);
    ObjFuture *w = AS_FUT(items[0]);
    if (future_done(w)) return true;
    return locks_wake(vm, lock, w, TRUE_VAL, items[1]);
}

static bool lock_acquire(VM *vm, ObjInstance *lock, Value result, Value *out) {
    if (lock_free(lock)) {
        lock_set(lock, true);
        return done_out(vm, result, out);
    }
    ObjFuture *w = locks_waiter_new(vm, lock);
    if (!w || !deque_push2(vm, AS_LIST(FIELD(lock, LOCK_WAITERS)), OBJ_VAL(w), result)) return false;
    *out = OBJ_VAL(w);
    return true;
}

static bool lock_release(VM *vm, ObjInstance *lock) {
    if (!lock_locked(lock)) return vm_raise(vm, CLS_RUNTIME_ERROR, "Lock is not acquired.");
    lock_set(lock, false);
    return lock_wake_up_first(vm, lock);
}

static bool cond_acquired(VM *vm, ObjList *rec, ObjFuture *w);
static bool cond_reacquire(VM *vm, ObjList *rec, ObjFuture *w);

static bool lock_wakeup(VM *vm, ObjInstance *lock, ObjFuture *w, Value info) {
    ObjTask *t = locks_waiting_task(w);
    deque_take(AS_LIST(FIELD(lock, LOCK_WAITERS)), w, NULL); // finally: self._waiters.remove(fut)
    if (t && t->must_cancel) {
        // CancelledError at `await fut`
        if (!lock_locked(lock) && !lock_wake_up_first(vm, lock)) return false;
        if (IS_OBJ_TYPE(info, OBJ_LIST)) {
            // Condition.wait catches it and acquires again
            t->must_cancel = false;
            AS_LIST(info)->items[REC_CANCELLED] = TRUE_VAL;
            return cond_reacquire(vm, AS_LIST(info), w);
        }
        return locks_finish(vm, w, w->result, EMPTY_VAL);
    }
    lock_set(lock, true);
    if (IS_OBJ_TYPE(info, OBJ_LIST)) return cond_acquired(vm, AS_LIST(info), w);
    return locks_finish(vm, w, info, EMPTY_VAL);
}

static bool lock_cancelled(VM *vm, ObjInstance *lock, ObjFuture *w) {
    if (!deque_take(AS_LIST(FIELD(lock, LOCK_WAITERS)), w, NULL)) return true;
    if (!lock_locked(lock)) return lock_wake_up_first(vm, lock);
    return true;
}

static bool construct_lock(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "Lock.__init__", args, argc, kw)) return false;
    ObjInstance *lock = locks_instance_new(vm, (ObjClass *)AS_OBJ(args[0]), SYNC_LOCK, LOCK_FIELDS);
    FIELD(lock, LOCK_WAITERS) = OBJ_VAL(locks_deque_new(vm));
    FIELD(lock, LOCK_LOCKED) = FALSE_VAL;
    mirror_add(vm, lock, "_locked", FALSE_VAL);
    *out = OBJ_VAL(lock);
    return true;
}

static bool m_lock_acquire(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *lock = NULL;
    if (!locks_self(vm, args, argc, SYNC_LOCK, "acquire", &lock) || !no_args(vm, "Lock.acquire", args, argc, kw))
        return false;
    return lock_acquire(vm, lock, TRUE_VAL, out);
}

static bool m_lock_aenter(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *lock = NULL;
    if (!locks_self(vm, args, argc, SYNC_LOCK, "__aenter__", &lock) ||
        !no_args(vm, "_ContextManagerMixin.__aenter__", args, argc, kw))
        return false;
    return lock_acquire(vm, lock, NONE_VAL, out);
}

static const char *const aexit_names[] = {"exc_type", "exc", "tb"};

static bool m_lock_aexit(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *lock = NULL;
    Value a[3] = {EMPTY_VAL, EMPTY_VAL, EMPTY_VAL};
    if (!locks_self(vm, args, argc, SYNC_LOCK, "__aexit__", &lock) ||
        !locks_args(vm, "_ContextManagerMixin.__aexit__", args, argc, kw, aexit_names, 3, a) ||
        !lock_release(vm, lock))
        return false;
    return done_out(vm, NONE_VAL, out);
}

static bool m_lock_release(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *lock = NULL;
    if (!locks_self(vm, args, argc, SYNC_LOCK, "release", &lock) || !no_args(vm, "Lock.release", args, argc, kw))
        return false;
    *out = NONE_VAL;
    return lock_release(vm, lock);
}

static bool m_lock_locked(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *lock = NULL;
    if (!locks_self(vm, args, argc, SYNC_LOCK, "locked", &lock) || !no_args(vm, "Lock.locked", args, argc, kw))
        return false;
    *out = BOOL_VAL(lock_locked(lock));
    return true;
}

// ---- Event -----------------------------------------------------------------------

ObjInstance *locks_event_new(VM *vm, ObjClass *cls) {
    ObjInstance *event = locks_instance_new(vm, cls, SYNC_EVENT, EVENT_FIELDS);
    FIELD(event, EVENT_WAITERS) = OBJ_VAL(locks_deque_new(vm));
    FIELD(event, EVENT_VALUE) = FALSE_VAL;
    mirror_add(vm, event, "_value", FALSE_VAL);
    return event;
}

void locks_event_set(VM *vm, ObjInstance *event) {
    if (AS_BOOL(FIELD(event, EVENT_VALUE))) return;
    FIELD(event, EVENT_VALUE) = TRUE_VAL;
    mirror_set(event, MIRROR_ENTRY, TRUE_VAL);
    ObjList *waiters = AS_LIST(FIELD(event, EVENT_WAITERS));
    for (uint32_t i = 0; i < locks_deque_size(waiters); i += 2) {
        Value *items = locks_deque_items(waiters);
        ObjFuture *w = AS_FUT(items[i]);
        if (!future_done(w)) locks_wake(vm, event, w, TRUE_VAL, items[i + 1]);
    }
}

void locks_event_clear(ObjInstance *event) {
    FIELD(event, EVENT_VALUE) = FALSE_VAL;
    mirror_set(event, MIRROR_ENTRY, FALSE_VAL);
}

bool locks_event_wait(VM *vm, ObjInstance *event, Value result, Value *out) {
    if (AS_BOOL(FIELD(event, EVENT_VALUE))) return done_out(vm, result, out);
    ObjFuture *w = locks_waiter_new(vm, event);
    if (!w || !deque_push2(vm, AS_LIST(FIELD(event, EVENT_WAITERS)), OBJ_VAL(w), result)) return false;
    *out = OBJ_VAL(w);
    return true;
}

static bool event_wakeup(VM *vm, ObjInstance *event, ObjFuture *w, Value info) {
    deque_take(AS_LIST(FIELD(event, EVENT_WAITERS)), w, NULL);
    return locks_finish(vm, w, info, EMPTY_VAL);
}

static bool event_cancelled(VM *vm, ObjInstance *event, ObjFuture *w) {
    deque_take(AS_LIST(FIELD(event, EVENT_WAITERS)), w, NULL);
    return true;
}

static bool construct_event(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "Event.__init__", args, argc, kw)) return false;
    *out = OBJ_VAL(locks_event_new(vm, (ObjClass *)AS_OBJ(args[0])));
    return true;
}

static bool m_event_wait(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *event = NULL;
    if (!locks_self(vm, args, argc, SYNC_EVENT, "wait", &event) || !no_args(vm, "Event.wait", args, argc, kw))
        return false;
    return locks_event_wait(vm, event, TRUE_VAL, out);
}

static bool m_event_set(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *event = NULL;
    if (!locks_self(vm, args, argc, SYNC_EVENT, "set", &event) || !no_args(vm, "Event.set", args, argc, kw))
        return false;
    locks_event_set(vm, event);
    *out = NONE_VAL;
    return IS_EMPTY(vm->exception);
}

static bool m_event_clear(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *event = NULL;
    if (!locks_self(vm, args, argc, SYNC_EVENT, "clear", &event) || !no_args(vm, "Event.clear", args, argc, kw))
        return false;
    locks_event_clear(event);
    *out = NONE_VAL;
    return true;
}

static bool m_event_is_set(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *event = NULL;
    if (!locks_self(vm, args, argc, SYNC_EVENT, "is_set", &event) || !no_args(vm, "Event.is_set", args, argc, kw))
        return false;
    *out = FIELD(event, EVENT_VALUE);
    return true;
}

// ---- Semaphore and BoundedSemaphore -----------------------------------------------

static int64_t sem_value(ObjInstance *sem) { return AS_INT(FIELD(sem, SEM_VALUE)); }

static void sem_set(ObjInstance *sem, int64_t value) {
    FIELD(sem, SEM_VALUE) = INT_VAL(value);
    mirror_set(sem, MIRROR_ENTRY, INT_VAL(value));
}

static bool sem_locked(ObjInstance *sem) {
    if (sem_value(sem) == 0) return true;
    return !all_cancelled(AS_LIST(FIELD(sem, SEM_WAITERS)));
}

static bool sem_wake_up_next(VM *vm, ObjInstance *sem) {
    ObjList *waiters = AS_LIST(FIELD(sem, SEM_WAITERS));
    Value *items = locks_deque_items(waiters);
    uint32_t size = locks_deque_size(waiters);
    for (uint32_t i = 0; i < size; i += 2) {
        ObjFuture *w = AS_FUT(items[i]);
        if (future_done(w)) continue;
        sem_set(sem, sem_value(sem) - 1);
        return locks_wake(vm, sem, w, TRUE_VAL, items[i + 1]);
    }
    return true;
}

static bool sem_acquire(VM *vm, ObjInstance *sem, Value result, Value *out) {
    if (!sem_locked(sem)) {
        sem_set(sem, sem_value(sem) - 1);
        return done_out(vm, result, out);
    }
    ObjFuture *w = locks_waiter_new(vm, sem);
    if (!w || !deque_push2(vm, AS_LIST(FIELD(sem, SEM_WAITERS)), OBJ_VAL(w), result)) return false;
    *out = OBJ_VAL(w);
    return true;
}

static bool sem_release(VM *vm, ObjInstance *sem) {
    Value bound = FIELD(sem, SEM_BOUND);
    if (!IS_NONE(bound) && sem_value(sem) >= AS_INT(bound))
        return vm_raise(vm, CLS_VALUE_ERROR, "BoundedSemaphore released too many times");
    if (sem_value(sem) == INT64_MAX) return vm_raise(vm, CLS_OVERFLOW_ERROR, "semaphore value too large");
    sem_set(sem, sem_value(sem) + 1);
    return sem_wake_up_next(vm, sem);
}

static bool sem_wakeup(VM *vm, ObjInstance *sem, ObjFuture *w, Value info) {
    ObjTask *t = locks_waiting_task(w);
    deque_take(AS_LIST(FIELD(sem, SEM_WAITERS)), w, NULL);
    if (t && t->must_cancel) {
        // CancelledError at `await fut`, which was not cancelled itself
        sem_set(sem, sem_value(sem) + 1);
        if (!sem_wake_up_next(vm, sem)) return false;
        return locks_finish(vm, w, w->result, EMPTY_VAL);
    }
    if (sem_value(sem) > 0 && !sem_wake_up_next(vm, sem)) return false;
    return locks_finish(vm, w, info, EMPTY_VAL);
}

static bool sem_cancelled(VM *vm, ObjInstance *sem, ObjFuture *w) {
    deque_take(AS_LIST(FIELD(sem, SEM_WAITERS)), w, NULL);
    return true;
}

static bool make_semaphore(VM *vm, Value *args, int argc, ObjTuple *kw, bool bounded, Value *out) {
    static const char *const names[] = {"value"};
    Value value = INT_VAL(1);
    const char *fn = bounded ? "BoundedSemaphore.__init__" : "Semaphore.__init__";
    if (!locks_args(vm, fn, args, argc, kw, names, 1, &value)) return false;
    if (!IS_INTLIKE(value)) {
        Value r; // CPython's `value < 0` first: its TypeError for what does not compare
        if (!value_compare(vm, CMP_LT, value, INT_VAL(0), &r)) return false;
        return vm_raise(vm, CLS_TYPE_ERROR, "asyncrun: a Semaphore's value must be an int, not '%s'",
                        value_type_name(vm, value));
    }
    if (AS_INT(value) < 0) return vm_raise(vm, CLS_VALUE_ERROR, "Semaphore initial value must be >= 0");
    ObjInstance *sem = locks_instance_new(vm, (ObjClass *)AS_OBJ(args[0]), SYNC_SEMAPHORE, SEM_FIELDS);
    FIELD(sem, SEM_WAITERS) = OBJ_VAL(locks_deque_new(vm));
    FIELD(sem, SEM_VALUE) = INT_VAL(AS_INT(value));
    mirror_add(vm, sem, "_value", value);
    if (bounded) {
        FIELD(sem, SEM_BOUND) = INT_VAL(AS_INT(value));
        mirror_add(vm, sem, "_bound_value", value);
    }
    *out = OBJ_VAL(sem);
    return true;
}

static bool construct_semaphore(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return make_semaphore(vm, args, argc, kw, false, out);
}

static bool construct_bounded(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return make_semaphore(vm, args, argc, kw, true, out);
}

static bool m_sem_acquire(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *sem = NULL;
    if (!locks_self(vm, args, argc, SYNC_SEMAPHORE, "acquire", &sem) ||
        !no_args(vm, "Semaphore.acquire", args, argc, kw))
        return false;
    return sem_acquire(vm, sem, TRUE_VAL, out);
}

static bool m_sem_aenter(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *sem = NULL;
    if (!locks_self(vm, args, argc, SYNC_SEMAPHORE, "__aenter__", &sem) ||
        !no_args(vm, "_ContextManagerMixin.__aenter__", args, argc, kw))
        return false;
    return sem_acquire(vm, sem, NONE_VAL, out);
}

static bool m_sem_aexit(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *sem = NULL;
    Value a[3] = {EMPTY_VAL, EMPTY_VAL, EMPTY_VAL};
    if (!locks_self(vm, args, argc, SYNC_SEMAPHORE, "__aexit__", &sem) ||
        !locks_args(vm, "_ContextManagerMixin.__aexit__", args, argc, kw, aexit_names, 3, a) ||
        !sem_release(vm, sem))
        return false;
    return done_out(vm, NONE_VAL, out);
}

static bool m_sem_release(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *sem = NULL;
    if (!locks_self(vm, args, argc, SYNC_SEMAPHORE, "release", &sem)) return false;
    bool bounded = !IS_NONE(FIELD(sem, SEM_BOUND));
    if (!no_args(vm, bounded ? "BoundedSemaphore.release" : "Semaphore.release", args, argc, kw)) return false;
    *out = NONE_VAL;
    return sem_release(vm, sem);
}

static bool m_sem_locked(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *sem = NULL;
    if (!locks_self(vm, args, argc, SYNC_SEMAPHORE, "locked", &sem) ||
        !no_args(vm, "Semaphore.locked", args, argc, kw))
        return false;
    *out = BOOL_VAL(sem_locked(sem));
    return true;
}

// ---- Condition -------------------------------------------------------------------

static ObjInstance *cond_lock(ObjInstance *cond) { return AS_INST(FIELD(cond, COND_LOCK)); }

// wait(): release the lock, then wait for a notify with a new waiter.
static bool cond_wait(VM *vm, ObjInstance *cond, Value predicate, Value *out) {
    ObjInstance *lock = cond_lock(cond);
    if (!lock_locked(lock)) return vm_raise(vm, CLS_RUNTIME_ERROR, "cannot wait on un-acquired lock");
    if (!lock_release(vm, lock)) return false;
    ObjFuture *w = locks_waiter_new(vm, cond);
    if (!w) return false;
    ObjList *rec = list_new(vm, REC_FIELDS);
    for (int i = 0; i < REC_FIELDS; i++) rec->items[i] = NONE_VAL;
    rec->length = REC_FIELDS;
    rec->items[REC_COND] = OBJ_VAL(cond);
    rec->items[REC_PREDICATE] = predicate;
    rec->items[REC_CANCELLED] = FALSE_VAL;
    ObjLoop *loop = loop_get_running(vm);
    if (loop && loop->current_task) rec->items[REC_TASK] = OBJ_VAL(loop->current_task);
    if (!deque_push2(vm, AS_LIST(FIELD(cond, COND_WAITERS)), OBJ_VAL(w), OBJ_VAL(rec))) return false;
    *out = OBJ_VAL(w);
    return true;
}

// Notified (or cancelled) while waiting: the finally clause of
// Condition.wait, `await self.acquire()` until it succeeds, with the same
// waiter standing for the lock's.
static bool cond_reacquire(VM *vm, ObjList *rec, ObjFuture *w) {
    ObjInstance *cond = AS_INST(rec->items[REC_COND]);
    ObjInstance *lock = cond_lock(cond);
    if (lock_free(lock)) {
        lock_set(lock, true);
        return cond_acquired(vm, rec, w);
    }
    if (w->state == FUT_CANCELLED) {
        // the cancellation was caught: take back the task's wake-up, which
        // is the next entry of the ready queue
        Value tv = rec->items[REC_TASK];
        ObjTask *t = IS_OBJ_TYPE(tv, OBJ_TASK) ? (ObjTask *)AS_OBJ(tv) : NULL;
        if (!t || t->run_state != TASK_SCHEDULED || t->waiting_on != w || t->resume_kind != RESUME_FUTURE)
            return true; // not awaited by its task: it stays cancelled
        t->run_state = TASK_WAITING;
        w->state = FUT_PENDING;
        w->cancel_msg = NONE_VAL;
        w->exception = NONE_VAL;
        if (!future_add_callback(vm, w, FIELD(cond, SYNC_CANCEL), CB_CALL) ||
            !future_add_callback(vm, w, OBJ_VAL(t), CB_WAKE_TASK))
            return false;
    } else {
        locks_unresolve(w);
    }
    return deque_push2(vm, AS_LIST(FIELD(lock, LOCK_WAITERS)), OBJ_VAL(w), OBJ_VAL(rec));
}

// The lock is held again: Condition.wait returns (or raises), or wait_for
// tests its predicate and maybe waits again.
static bool cond_acquired(VM *vm, ObjList *rec, ObjFuture *w) {
    Value exc = EMPTY_VAL;
    if (AS_BOOL(rec->items[REC_CANCELLED])) exc = cancelled_error_new(vm, NONE_VAL);
    else if (!IS_NONE(rec->items[REC_EXC])) exc = rec->items[REC_EXC];
    if (w->state == FUT_CANCELLED) {
        // the task's wake-up comes next and raises this
        if (!IS_EMPTY(exc)) w->exception = exc;
        return true;
    }
    if (!IS_EMPTY(exc)) return locks_finish(vm, w, NONE_VAL, exc);
    Value predicate = rec->items[REC_PREDICATE];
    if (IS_NONE(predicate)) return locks_finish(vm, w, TRUE_VAL, EMPTY_VAL);
    ObjTask *t = locks_waiting_task(w);
    ObjLoop *loop = w->loop;
    ObjTask *outer = loop->current_task;
    if (t) loop->current_task = t;
    Value result;
    vm_push_root(vm, OBJ_VAL(w));
    vm_push_root(vm, OBJ_VAL(rec));
    bool ok = vm_call(vm, predicate, NULL, 0, NULL, &result);
    vm_pop_roots(vm, 2);
    loop->current_task = outer;
    if (!ok) {
        exc = vm->exception;
        vm->exception = EMPTY_VAL;
        return locks_finish(vm, w, NONE_VAL, exc);
    }
    if (value_truthy(result)) return locks_finish(vm, w, result, EMPTY_VAL);
    // `await self.wait()` again
    ObjInstance *cond = AS_INST(rec->items[REC_COND]);
    ObjInstance *lock = cond_lock(cond);
    if (!lock_locked(lock)) {
        vm_raise(vm, CLS_RUNTIME_ERROR, "cannot wait on un-acquired lock");
        exc = vm->exception;
        vm->exception = EMPTY_VAL;
        return locks_finish(vm, w, NONE_VAL, exc);
    }
    if (!lock_release(vm, lock)) return false;
    locks_unresolve(w);
    return deque_push2(vm, AS_LIST(FIELD(cond, COND_WAITERS)), OBJ_VAL(w), OBJ_VAL(rec));
}

static bool cond_wakeup(VM *vm, ObjInstance *cond, ObjFuture *w, Value info) {
    ObjTask *t = locks_waiting_task(w);
    ObjList *rec = AS_LIST(info);
    deque_take(AS_LIST(FIELD(cond, COND_WAITERS)), w, NULL);
    if (t && t->must_cancel) {
        // CancelledError at `await fut`: raised once the lock is held again
        t->must_cancel = false;
        rec->items[REC_EXC] = cancelled_error_new(vm, t->fut.cancel_msg);
    }
    return cond_reacquire(vm, rec, w);
}

static bool cond_cancelled(VM *vm, ObjInstance *cond, ObjFuture *w) {
    Value info;
    if (deque_take(AS_LIST(FIELD(cond, COND_WAITERS)), w, &info)) {
        AS_LIST(info)->items[REC_EXC] = cancelled_error_new(vm, w->cancel_msg);
        return cond_reacquire(vm, AS_LIST(info), w);
    }
    ObjInstance *lock = cond_lock(cond);
    if (deque_take(AS_LIST(FIELD(lock, LOCK_WAITERS)), w, &info)) {
        // cancelled while re-acquiring: Lock.acquire's except clause, then
        // Condition.wait's
        if (!lock_locked(lock) && !lock_wake_up_first(vm, lock)) return false;
        if (!IS_OBJ_TYPE(info, OBJ_LIST)) return true;
        AS_LIST(info)->items[REC_CANCELLED] = TRUE_VAL;
        return cond_reacquire(vm, AS_LIST(info), w);
    }
    return true;
}

static bool construct_condition(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    static const char *const names[] = {"lock"};
    Value lock = NONE_VAL;
    if (!locks_args(vm, "Condition.__init__", args, argc, kw, names, 1, &lock)) return false;
    ObjClass *cls = (ObjClass *)AS_OBJ(args[0]);
    if (IS_NONE(lock)) {
        Value lock_cls;
        if (!locks_class_data(vm, cls, &lock_cls)) return vm_raise(vm, CLS_RUNTIME_ERROR, "asyncio.Lock is missing");
        Value made;
        if (!construct_lock(vm, &lock_cls, 1, NULL, &made)) return false;
        lock = made;
    } else {
        ObjInstance *l = as_sync(lock);
        if (!l || AS_INT(FIELD(l, SYNC_KIND)) != SYNC_LOCK)
            return vm_raise(vm, CLS_TYPE_ERROR, "asyncrun: a Condition's lock must be an asyncio.Lock, not '%s'",
                            value_type_name(vm, lock));
    }
    ObjInstance *cond = locks_instance_new(vm, cls, SYNC_CONDITION, COND_FIELDS);
    FIELD(cond, COND_WAITERS) = OBJ_VAL(locks_deque_new(vm));
    FIELD(cond, COND_LOCK) = lock;
    mirror_add(vm, cond, "_lock", lock);
    *out = OBJ_VAL(cond);
    return true;
}

static bool m_cond_acquire(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *cond = NULL;
    if (!locks_self(vm, args, argc, SYNC_CONDITION, "acquire", &cond) ||
        !no_args(vm, "Lock.acquire", args, argc, kw))
        return false;
    return lock_acquire(vm, cond_lock(cond), TRUE_VAL, out);
}

static bool m_cond_aenter(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *cond = NULL;
    if (!locks_self(vm, args, argc, SYNC_CONDITION, "__aenter__", &cond) ||
        !no_args(vm, "_ContextManagerMixin.__aenter__", args, argc, kw))
        return false;
    return lock_acquire(vm, cond_lock(cond), NONE_VAL, out);
}

static bool m_cond_aexit(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *cond = NULL;
    Value a[3] = {EMPTY_VAL, EMPTY_VAL, EMPTY_VAL};
    if (!locks_self(vm, args, argc, SYNC_CONDITION, "__aexit__", &cond) ||
        !locks_args(vm, "_ContextManagerMixin.__aexit__", args, argc, kw, aexit_names, 3, a) ||
        !lock_release(vm, cond_lock(cond)))
        return false;
    return done_out(vm, NONE_VAL, out);
}

static bool m_cond_release(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *cond = NULL;
    if (!locks_self(vm, args, argc, SYNC_CONDITION, "release", &cond) ||
        !no_args(vm, "Lock.release", args, argc, kw))
        return false;
    *out = NONE_VAL;
    return lock_release(vm, cond_lock(cond));
}

static bool m_cond_locked(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *cond = NULL;
    if (!locks_self(vm, args, argc, SYNC_CONDITION, "locked", &cond) || !no_args(vm, "Lock.locked", args, argc, kw))
        return false;
    *out = BOOL_VAL(lock_locked(cond_lock(cond)));
    return true;
}

static bool m_cond_wait(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *cond = NULL;
    if (!locks_self(vm, args, argc, SYNC_CONDITION, "wait", &cond) || !no_args(vm, "Condition.wait", args, argc, kw))
        return false;
    return cond_wait(vm, cond, NONE_VAL, out);
}

static bool m_cond_wait_for(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    static const char *const names[] = {"predicate"};
    ObjInstance *cond = NULL;
    Value predicate = EMPTY_VAL;
    if (!locks_self(vm, args, argc, SYNC_CONDITION, "wait_for", &cond) ||
        !locks_args(vm, "Condition.wait_for", args, argc, kw, names, 1, &predicate))
        return false;
    Value result;
    vm_push_root(vm, predicate);
    bool ok = vm_call(vm, predicate, NULL, 0, NULL, &result);
    vm_pop_roots(vm, 1);
    if (!ok) return false;
    if (value_truthy(result)) return done_out(vm, result, out);
    return cond_wait(vm, cond, predicate, out);
}

static bool cond_notify(VM *vm, ObjInstance *cond, int64_t n) {
    if (!lock_locked(cond_lock(cond))) return vm_raise(vm, CLS_RUNTIME_ERROR, "cannot notify on un-acquired lock");
    ObjList *waiters = AS_LIST(FIELD(cond, COND_WAITERS));
    int64_t idx = 0;
    for (uint32_t i = 0; i < locks_deque_size(waiters); i += 2) {
        if (idx >= n) break;
        Value *items = locks_deque_items(waiters);
        ObjFuture *w = AS_FUT(items[i]);
        if (future_done(w)) continue;
        idx++;
        if (!locks_wake(vm, cond, w, FALSE_VAL, items[i + 1])) return false;
    }
    return true;
}

static bool m_cond_notify(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    static const char *const names[] = {"n"};
    ObjInstance *cond = NULL;
    Value n = INT_VAL(1);
    if (!locks_self(vm, args, argc, SYNC_CONDITION, "notify", &cond) ||
        !locks_args(vm, "Condition.notify", args, argc, kw, names, 1, &n))
        return false;
    if (!IS_INTLIKE(n))
        return vm_raise(vm, CLS_TYPE_ERROR, "'>=' not supported between instances of 'int' and '%s'",
                        value_type_name(vm, n));
    *out = NONE_VAL;
    return cond_notify(vm, cond, AS_INT(n));
}

static bool m_cond_notify_all(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *cond = NULL;
    if (!locks_self(vm, args, argc, SYNC_CONDITION, "notify_all", &cond) ||
        !no_args(vm, "Condition.notify_all", args, argc, kw))
        return false;
    *out = NONE_VAL;
    return cond_notify(vm, cond, locks_deque_size(AS_LIST(FIELD(cond, COND_WAITERS))) / 2);
}

// ---- repr ------------------------------------------------------------------------

static ObjString *sync_repr(VM *vm, ObjInstance *inst) {
    StrBuf buf;
    strbuf_init(&buf);
    repr_head(inst, &buf);
    strbuf_append_cstr(&buf, " [");
    ObjList *waiters = NULL;
    switch ((SyncKind)AS_INT(FIELD(inst, SYNC_KIND))) {
    case SYNC_LOCK:
        strbuf_append_cstr(&buf, lock_locked(inst) ? "locked" : "unlocked");
        waiters = AS_LIST(FIELD(inst, LOCK_WAITERS));
        break;
    case SYNC_EVENT:
        strbuf_append_cstr(&buf, AS_BOOL(FIELD(inst, EVENT_VALUE)) ? "set" : "unset");
        waiters = AS_LIST(FIELD(inst, EVENT_WAITERS));
        break;
    case SYNC_CONDITION:
        strbuf_append_cstr(&buf, lock_locked(cond_lock(inst)) ? "locked" : "unlocked");
        waiters = AS_LIST(FIELD(inst, COND_WAITERS));
        break;
    case SYNC_SEMAPHORE:
        if (sem_locked(inst)) strbuf_append_cstr(&buf, "locked");
        else strbuf_printf(&buf, "unlocked, value:%" PRId64, sem_value(inst));
        waiters = AS_LIST(FIELD(inst, SEM_WAITERS));
        break;
    case SYNC_QUEUE:
        break;
    }
    if (waiters && locks_deque_size(waiters))
        strbuf_printf(&buf, ", waiters:%u", (unsigned)(locks_deque_size(waiters) / 2));
    strbuf_append_cstr(&buf, "]>");
    ObjString *s = str_new(vm, buf.chars, buf.length);
    strbuf_free(&buf);
    return s;
}

static bool m_repr(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *inst = argc > 0 ? as_sync(args[0]) : NULL;
    if (!inst || AS_INT(FIELD(inst, SYNC_KIND)) == SYNC_QUEUE)
        return vm_raise(vm, CLS_TYPE_ERROR, "descriptor '__repr__' requires an asyncio lock object");
    if (!no_args(vm, "__repr__", args, argc, kw)) return false;
    *out = OBJ_VAL(sync_repr(vm, inst));
    return true;
}

// ---- coroutine methods ------------------------------------------------------------
// The methods that are coroutines in CPython are coroutines here too, thin
// ones around the natives (compiled from this source when the VM has a
// compiler; else the natives themselves are the methods). So `q.get()` does
// nothing until awaited or wrapped in a task, as in CPython, and
// create_task(), gather() and wait_for() give its task the same steps.

static const char CORO_SOURCE[] =
    "class _ContextManagerMixin:\n"
    "    async def __aenter__(self):\n"
    "        await self.acquire()\n"
    "        return None\n"
    "    async def __aexit__(self, exc_type, exc, tb):\n"
    "        self.release()\n"
    "class Lock:\n"
    "    async def acquire(self):\n"
    "        return await _Lock_acquire(self)\n"
    "class Event:\n"
    "    async def wait(self):\n"
    "        return await _Event_wait(self)\n"
    "class Condition:\n"
    "    async def acquire(self):\n"
    "        return await _Condition_acquire(self)\n"
    "    async def wait(self):\n"
    "        return await _Condition_wait(self)\n"
    "    async def wait_for(self, predicate):\n"
    "        result = predicate()\n"
    "        while not result:\n"
    "            await self.wait()\n"
    "            result = predicate()\n"
    "        return result\n"
    "class Semaphore:\n"
    "    async def acquire(self):\n"
    "        return await _Semaphore_acquire(self)\n"
    "class Queue:\n"
    "    async def put(self, item):\n"
    "        return await _Queue_put(self, item)\n"
    "    async def get(self):\n"
    "        return await _Queue_get(self)\n"
    "    async def join(self):\n"
    "        return await _Queue_join(self)\n";

// The natives the coroutines call: cls's native `method` as the global
// _Cls_method of the source (LOAD_GLOBAL is cached, a method lookup is not).
static void native_global(VM *vm, ObjDict *globals, ObjClass *cls, const char *method) {
    Value *fn = dict_find_str(cls->dict, str_intern(vm, method, strlen(method)));
    if (!fn) return;
    char name[64];
    snprintf(name, sizeof name, "_%s_%s", cls->name->chars, method);
    dict_set_str(vm, globals, str_intern(vm, name, strlen(name)), *fn);
}

// Copy the functions of the source's class `from` into cls.
static void copy_methods(VM *vm, ObjDict *globals, const char *from, ObjClass *cls) {
    Value *src = dict_find_str(globals, str_intern(vm, from, strlen(from)));
    if (!src || !IS_OBJ_TYPE(*src, OBJ_CLASS)) return;
    uint32_t pos = 0;
    Value key, value;
    while (dict_next(((ObjClass *)AS_OBJ(*src))->dict, &pos, &key, &value))
        if (IS_OBJ_TYPE(value, OBJ_FUNCTION)) dict_set(vm, cls->dict, key, value);
}

static void install_coroutines(VM *vm, ObjDict *module_dict, ObjClass *lock, ObjClass *event, ObjClass *cond,
                               ObjClass *sem, ObjClass *queue) {
    if (!vm->compile) return;
    ObjCode *code = vm->compile(vm, CORO_SOURCE, sizeof CORO_SOURCE - 1, "<asyncio.locks>");
    if (!code) {
        vm->exception = EMPTY_VAL;
        return;
    }
    ObjDict *globals = dict_new(vm);
    dict_set_str(vm, globals, vm->s_name, OBJ_VAL(str_intern(vm, "asyncio.locks", 13)));
    native_global(vm, globals, lock, "acquire");
    native_global(vm, globals, event, "wait");
    native_global(vm, globals, cond, "acquire");
    native_global(vm, globals, cond, "wait");
    native_global(vm, globals, sem, "acquire");
    native_global(vm, globals, queue, "put");
    native_global(vm, globals, queue, "get");
    native_global(vm, globals, queue, "join");
    ObjFunction *fn = ALLOC_OBJ(vm, ObjFunction, OBJ_FUNCTION);
    fn->code = code;
    fn->globals = globals;
    fn->name = code->name;
    Value ignored;
    vm_push_root(vm, OBJ_VAL(module_dict));
    vm_push_root(vm, OBJ_VAL(globals));
    bool ok = vm_call(vm, OBJ_VAL(fn), NULL, 0, NULL, &ignored);
    vm_pop_roots(vm, 2);
    if (!ok) {
        vm->exception = EMPTY_VAL;
        return;
    }
    copy_methods(vm, globals, "_ContextManagerMixin", lock);
    copy_methods(vm, globals, "_ContextManagerMixin", cond);
    copy_methods(vm, globals, "_ContextManagerMixin", sem);
    copy_methods(vm, globals, "Lock", lock);
    copy_methods(vm, globals, "Event", event);
    copy_methods(vm, globals, "Condition", cond);
    copy_methods(vm, globals, "Semaphore", sem);
    copy_methods(vm, globals, "Queue", queue);
}

// ---- registration ----------------------------------------------------------------

typedef struct {
    const char *name;
    NativeFn fn;
} Method;

static ObjClass *make_class(VM *vm, ObjDict *module_dict, const char *name, ObjClass *base, NativeFn construct,
                            const Method *methods) {
    ObjClass *cls = class_new(vm, name, base ? base : vm->classes[CLS_OBJECT]);
    cls->module = "asyncio.locks";
    cls->construct = construct;
    for (const Method *m = methods; m && m->name; m++) class_add_method(vm, cls, m->name, m->fn, true);
    dict_set_str(vm, module_dict, cls->name, OBJ_VAL(cls));
    return cls;
}

void asyncio_sync_init(VM *vm, ObjDict *d) {
    // acquire, wait, ... are then replaced by coroutines calling these natives
    static const Method lock_methods[] = {
        {"acquire", m_lock_acquire}, {"release", m_lock_release},   {"locked", m_lock_locked},
        {"__aenter__", m_lock_aenter}, {"__aexit__", m_lock_aexit}, {"__repr__", m_repr},
        {NULL, NULL}};
    static const Method event_methods[] = {
        {"wait", m_event_wait}, {"set", m_event_set}, {"clear", m_event_clear},
        {"is_set", m_event_is_set}, {"__repr__", m_repr}, {NULL, NULL}};
    static const Method sem_methods[] = {
        {"acquire", m_sem_acquire}, {"release", m_sem_release},   {"locked", m_sem_locked},
        {"__aenter__", m_sem_aenter}, {"__aexit__", m_sem_aexit}, {"__repr__", m_repr},
        {NULL, NULL}};
    static const Method cond_methods[] = {
        {"acquire", m_cond_acquire},   {"release", m_cond_release},       {"locked", m_cond_locked},
        {"wait", m_cond_wait},         {"wait_for", m_cond_wait_for},     {"notify", m_cond_notify},
        {"notify_all", m_cond_notify_all}, {"__aenter__", m_cond_aenter}, {"__aexit__", m_cond_aexit},
        {"__repr__", m_repr},          {NULL, NULL}};
    ObjClass *lock = make_class(vm, d, "Lock", NULL, construct_lock, lock_methods);
    ObjClass *event = make_class(vm, d, "Event", NULL, construct_event, event_methods);
    ObjClass *cond = make_class(vm, d, "Condition", NULL, construct_condition, cond_methods);
    dict_set(vm, cond->dict, NONE_VAL, OBJ_VAL(lock)); // the class of Condition()'s own lock
    ObjClass *sem = make_class(vm, d, "Semaphore", NULL, construct_semaphore, sem_methods);
    make_class(vm, d, "BoundedSemaphore", sem, construct_bounded, NULL);
    ObjClass *queue = queues_init(vm, d, event);
    install_coroutines(vm, d, lock, event, cond, sem, queue);
}
