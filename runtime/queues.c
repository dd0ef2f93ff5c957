// runtime/queues.c - asyncio.Queue, LifoQueue and PriorityQueue, step for
// step as CPython 3.11's asyncio/queues.py, on the waiters of locks.c.
// PriorityQueue keeps its items as heapq does (the C _heapq's siftdown and
// siftup, comparing with `<` only), so equal priorities come out in
// CPython's order.
#include <inttypes.h>
#include <string.h>

#include "runtime/async.h"
#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/ops.h"

// Q_GETTERS: (waiter, EMPTY) pairs; Q_PUTTERS: (waiter, item) pairs.
// Q_ITEMS: a deque (a plain list behind offset 0 for LIFO and priority).
enum {
    Q_GETTERS = SYNC_FIELDS,
    Q_PUTTERS,
    Q_ITEMS,
    Q_MAXSIZE,
    Q_UNFINISHED,
    Q_FINISHED,
    Q_ORDER,
    Q_FIELDS
};
typedef enum { QUEUE_FIFO, QUEUE_LIFO, QUEUE_PRIORITY } QueueOrder;

// dict entries after the state: maxsize (CPython's read-only property),
// _maxsize, _unfinished_tasks
#define MIRROR_UNFINISHED 3

#define AS_LIST(v) ((ObjList *)AS_OBJ(v))
#define AS_FUT(v) ((ObjFuture *)AS_OBJ(v))
#define FIELD(inst, i) (LOCKS_STATE(inst)->items[i])

static ObjList *items_of(ObjInstance *q) { return AS_LIST(FIELD(q, Q_ITEMS)); }
static uint32_t qsize(ObjInstance *q) { return locks_deque_size(items_of(q)); }
static QueueOrder order_of(ObjInstance *q) { return (QueueOrder)AS_INT(FIELD(q, Q_ORDER)); }

// full(): 1, 0, or -1 with an exception (a maxsize that does not compare).
static int queue_full(VM *vm, ObjInstance *q) {
    Value m = FIELD(q, Q_MAXSIZE);
    if (IS_INTLIKE(m)) return AS_INT(m) > 0 && (int64_t)qsize(q) >= AS_INT(m);
    Value r;
    if (!value_compare(vm, CMP_LE, m, INT_VAL(0), &r)) return -1;
    if (value_truthy(r)) return 0;
    if (!value_compare(vm, CMP_GE, INT_VAL(qsize(q)), m, &r)) return -1;
    return value_truthy(r);
}

// ---- heapq ---------------------------------------------------------------------------
// On the list behind a priority queue's offset (always 0): a[i] is
// items[1 + i]. `<` may run a class's __lt__, which may change the list:
// re-read it after each comparison, and fail as _heapq does when its size
// changed. Every item stays in the list while comparing, so the collector
// sees it.

static bool heap_less(VM *vm, ObjList *l, uint32_t n, uint32_t i, uint32_t j, bool *out) {
    Value r;
    if (!value_compare(vm, CMP_LT, l->items[1 + i], l->items[1 + j], &r)) return false;
    if (l->length != n + 1) return vm_raise(vm, CLS_RUNTIME_ERROR, "list changed size during iteration");
    *out = value_truthy(r);
    return true;
}

static void heap_swap(ObjList *l, uint32_t i, uint32_t j) {
    Value tmp = l->items[1 + i];
    l->items[1 + i] = l->items[1 + j];
    l->items[1 + j] = tmp;
}

// _heapq's siftdown: move a[pos] up towards start.
static bool heap_siftdown(VM *vm, ObjList *l, uint32_t start, uint32_t pos) {
    uint32_t n = l->length - 1;
    while (pos > start) {
        uint32_t parent = (pos - 1) >> 1;
        bool lt;
        if (!heap_less(vm, l, n, pos, parent, &lt)) return false;
        if (!lt) break;
        heap_swap(l, pos, parent);
        pos = parent;
    }
    return true;
}

// _heapq's siftup: move the smaller child up to a leaf, then siftdown.
static bool heap_siftup(VM *vm, ObjList *l, uint32_t pos) {
    uint32_t n = l->length - 1, start = pos, limit = n >> 1;
    while (pos < limit) {
        uint32_t child = 2 * pos + 1;
        if (child + 1 < n) {
            bool lt;
            if (!heap_less(vm, l, n, child, child + 1, &lt)) return false;
            if (!lt) child++;
        }
        heap_swap(l, pos, child);
        pos = child;
    }
    return heap_siftdown(vm, l, start, pos);
}

// ---- the overridable methods: _put, _get -------------------------------------------------

static bool queue_put_item(VM *vm, ObjInstance *q, Value item) {
    ObjList *items = items_of(q);
    if (!list_append(vm, items, item)) return vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
    if (order_of(q) != QUEUE_PRIORITY) return true;
    // heappush: the item stays appended when a comparison fails
    return heap_siftdown(vm, items, 0, items->length - 2);
}

static bool queue_get_item(VM *vm, ObjInstance *q, Value *out) {
    ObjList *items = items_of(q);
    switch (order_of(q)) {
    case QUEUE_FIFO:
        *out = locks_deque_items(items)[0];
        locks_deque_drop(items, 1);
        return true;
    case QUEUE_LIFO:
        *out = items->items[--items->length];
        return true;
    case QUEUE_PRIORITY: {
        // heappop
        Value last = items->items[--items->length];
        if (items->length == 1) {
            *out = last;
            return true;
        }
        *out = items->items[1];
        items->items[1] = last;
        vm_push_root(vm, *out);
        bool ok = heap_siftup(vm, items, 0);
        vm_pop_roots(vm, 1);
        return ok;
    }
    }
    return true;
}

// _wakeup_next: wake the first waiter not done, dropping those before it.
static bool wakeup_next(VM *vm, ObjInstance *q, int which) {
    ObjList *waiters = AS_LIST(FIELD(q, which));
    while (locks_deque_size(waiters)) {
        Value *items = locks_deque_items(waiters);
        ObjFuture *w = AS_FUT(items[0]);
        Value info = items[1];
        locks_deque_drop(waiters, 2);
        if (!future_done(w)) return locks_wake(vm, q, w, NONE_VAL, info);
    }
    return true;
}

static void set_unfinished(ObjInstance *q, int64_t n) {
    FIELD(q, Q_UNFINISHED) = INT_VAL(n);
    if (q->dict->used > MIRROR_UNFINISHED) q->dict->entries[MIRROR_UNFINISHED].value = INT_VAL(n);
}

// put_nowait() once the queue is known not to be full
static bool put_now(VM *vm, ObjInstance *q, Value item) {
    if (!queue_put_item(vm, q, item)) return false;
    set_unfinished(q, AS_INT(FIELD(q, Q_UNFINISHED)) + 1);
    locks_event_clear((ObjInstance *)AS_OBJ(FIELD(q, Q_FINISHED)));
    return wakeup_next(vm, q, Q_GETTERS);
}

// get_nowait() once the queue is known not to be empty
static bool get_now(VM *vm, ObjInstance *q, Value *out) {
    return queue_get_item(vm, q, out) && wakeup_next(vm, q, Q_PUTTERS);
}

static bool queue_empty_error(VM *vm, ClassId cls) {
    return vm_raise_value(vm, OBJ_VAL(exception_new(vm, vm->classes[cls], tuple_new(vm, 0))));
}

// ---- continuations ---------------------------------------------------------------------

static bool fail_with_pending(VM *vm, ObjFuture *w) {
    Value exc = vm->exception;
    vm->exception = EMPTY_VAL;
    return locks_finish(vm, w, NONE_VAL, exc);
}

bool queues_wakeup(VM *vm, ObjInstance *q, ObjFuture *w, Value info) {
    ObjTask *t = locks_waiting_task(w);
    bool getter = IS_EMPTY(info);
    if (t && t->must_cancel) {
        // CancelledError at `await getter` / `await putter`: the waiter was
        // woken, so wake the next in line if this one could have gone on
        if (getter) {
            if (qsize(q) && !wakeup_next(vm, q, Q_GETTERS)) return false;
        } else {
            int full = queue_full(vm, q);
            if (full < 0) return fail_with_pending(vm, w);
            if (!full && !wakeup_next(vm, q, Q_PUTTERS)) return false;
        }
        return locks_finish(vm, w, w->result, EMPTY_VAL);
    }
    if (getter) {
        if (qsize(q) == 0) {
            // another caller took the item first: wait again
            locks_unresolve(w);
            ObjList *getters = AS_LIST(FIELD(q, Q_GETTERS));
            if (!list_append(vm, getters, OBJ_VAL(w)) || !list_append(vm, getters, EMPTY_VAL))
                return vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
            return true;
        }
        Value item;
        if (!get_now(vm, q, &item)) return fail_with_pending(vm, w);
        return locks_finish(vm, w, item, EMPTY_VAL);
    }
    int full = queue_full(vm, q);
    if (full < 0) return fail_with_pending(vm, w);
    if (full) {
        locks_unresolve(w);
        ObjList *putters = AS_LIST(FIELD(q, Q_PUTTERS));
        if (!list_append(vm, putters, OBJ_VAL(w)) || !list_append(vm, putters, info))
            return vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
        return true;
    }
    if (!put_now(vm, q, info)) return fail_with_pending(vm, w);
    return locks_finish(vm, w, NONE_VAL, EMPTY_VAL);
}

bool queues_cancelled(VM *vm, ObjInstance *q, ObjFuture *w) {
    // `self._getters.remove(getter)`, ValueError ignored; a cancelled
    // waiter wakes nobody
    for (int which = Q_GETTERS; which <= Q_PUTTERS; which++) {
        ObjList *waiters = AS_LIST(FIELD(q, which));
        int64_t at = locks_deque_find(waiters, OBJ_VAL(w), 2);
        if (at >= 0) {
            locks_deque_remove(waiters, (uint32_t)at, 2);
            break;
        }
    }
    return true;
}

// ---- methods ---------------------------------------------------------------------------

static bool self_queue(VM *vm, Value *args, int argc, const char *method, ObjInstance **out) {
    return locks_self(vm, args, argc, SYNC_QUEUE, method, out);
}

static const char *const item_name[] = {"item"};

static bool m_put(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *q = NULL;
    Value item = EMPTY_VAL;
    if (!self_queue(vm, args, argc, "put", &q) || !locks_args(vm, "Queue.put", args, argc, kw, item_name, 1, &item))
        return false;
    int full = queue_full(vm, q);
    if (full < 0) return false;
    if (!full) {
        if (!put_now(vm, q, item)) return false;
        *out = OBJ_VAL(locks_done(vm, NONE_VAL));
        return true;
    }
    ObjFuture *w = locks_waiter_new(vm, q);
    if (!w) return false;
    ObjList *putters = AS_LIST(FIELD(q, Q_PUTTERS));
    if (!list_append(vm, putters, OBJ_VAL(w)) || !list_append(vm, putters, item))
        return vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
    *out = OBJ_VAL(w);
    return true;
}

static bool m_put_nowait(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *q = NULL;
    Value item = EMPTY_VAL;
    if (!self_queue(vm, args, argc, "put_nowait", &q) ||
        !locks_args(vm, "Queue.put_nowait", args, argc, kw, item_name, 1, &item))
        return false;
    int full = queue_full(vm, q);
    if (full < 0) return false;
    if (full) return queue_empty_error(vm, CLS_QUEUE_FULL);
    *out = NONE_VAL;
    return put_now(vm, q, item);
}

static bool m_get(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *q = NULL;
    if (!self_queue(vm, args, argc, "get", &q) || !locks_args(vm, "Queue.get", args, argc, kw, NULL, 0, NULL))
        return false;
    if (qsize(q)) {
        Value item;
        if (!get_now(vm, q, &item)) return false;
        *out = OBJ_VAL(locks_done(vm, item));
        return true;
    }
    ObjFuture *w = locks_waiter_new(vm, q);
    if (!w) return false;
    ObjList *getters = AS_LIST(FIELD(q, Q_GETTERS));
    if (!list_append(vm, getters, OBJ_VAL(w)) || !list_append(vm, getters, EMPTY_VAL))
        return vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
    *out = OBJ_VAL(w);
    return true;
}

static bool m_get_nowait(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *q = NULL;
    if (!self_queue(vm, args, argc, "get_nowait", &q) ||
        !locks_args(vm, "Queue.get_nowait", args, argc, kw, NULL, 0, NULL))
        return false;
    if (!qsize(q)) return queue_empty_error(vm, CLS_QUEUE_EMPTY);
    return get_now(vm, q, out);
}

static bool m_task_done(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *q = NULL;
    if (!self_queue(vm, args, argc, "task_done", &q) ||
        !locks_args(vm, "Queue.task_done", args, argc, kw, NULL, 0, NULL))
        return false;
    int64_t n = AS_INT(FIELD(q, Q_UNFINISHED));
    if (n <= 0) return vm_raise(vm, CLS_VALUE_ERROR, "task_done() called too many times");
    set_unfinished(q, n - 1);
    if (n == 1) locks_event_set(vm, (ObjInstance *)AS_OBJ(FIELD(q, Q_FINISHED)));
    *out = NONE_VAL;
    return IS_EMPTY(vm->exception);
}

static bool m_join(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *q = NULL;
    if (!self_queue(vm, args, argc, "join", &q) || !locks_args(vm, "Queue.join", args, argc, kw, NULL, 0, NULL))
        return false;
    if (AS_INT(FIELD(q, Q_UNFINISHED)) > 0)
        return locks_event_wait(vm, (ObjInstance *)AS_OBJ(FIELD(q, Q_FINISHED)), NONE_VAL, out);
    *out = OBJ_VAL(locks_done(vm, NONE_VAL));
    return true;
}

static bool m_qsize(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *q = NULL;
    if (!self_queue(vm, args, argc, "qsize", &q) || !locks_args(vm, "Queue.qsize", args, argc, kw, NULL, 0, NULL))
        return false;
    *out = INT_VAL(qsize(q));
    return true;
}

static bool m_empty(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *q = NULL;
    if (!self_queue(vm, args, argc, "empty", &q) || !locks_args(vm, "Queue.empty", args, argc, kw, NULL, 0, NULL))
        return false;
    *out = BOOL_VAL(qsize(q) == 0);
    return true;
}

static bool m_full(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjInstance *q = NULL;
    if (!self_queue(vm, args, argc, "full", &q) || !locks_args(vm, "Queue.full", args, argc, kw, NULL, 0, NULL))
        return false;
    int full = queue_full(vm, q);
    if (full < 0) return false;
    *out = BOOL_VAL(full);
    return true;
}

// Queue._format()
static bool format_queue(VM *vm, ObjInstance *q, StrBuf *buf) {
    strbuf_append_cstr(buf, "maxsize=");
    if (!value_repr(vm, FIELD(q, Q_MAXSIZE), buf)) return false;
    if (qsize(q)) {
        strbuf_append_cstr(buf, " _queue=");
        ObjList *items = items_of(q);
        ObjList *copy = list_from(vm, locks_deque_items(items), locks_deque_size(items));
        vm_push_root(vm, OBJ_VAL(copy));
        bool ok = value_repr(vm, OBJ_VAL(copy), buf);
        vm_pop_roots(vm, 1);
        if (!ok) return false;
    }
    uint32_t getters = locks_deque_size(AS_LIST(FIELD(q, Q_GETTERS))) / 2;
    uint32_t putters = locks_deque_size(AS_LIST(FIELD(q, Q_PUTTERS))) / 2;
    if (getters) strbuf_printf(buf, " _getters[%u]", (unsigned)getters);
    if (putters) strbuf_printf(buf, " _putters[%u]", (unsigned)putters);
    int64_t tasks = AS_INT(FIELD(q, Q_UNFINISHED));
    if (tasks) strbuf_printf(buf, " tasks=%" PRId64, tasks);
    return true;
}

static bool queue_text(VM *vm, Value *args, int argc, ObjTuple *kw, bool as_repr, Value *out) {
    ObjInstance *q = NULL;
    if (!self_queue(vm, args, argc, as_repr ? "__repr__" : "__str__", &q) ||
        !locks_args(vm, as_repr ? "Queue.__repr__" : "Queue.__str__", args, argc, kw, NULL, 0, NULL))
        return false;
    StrBuf buf;
    strbuf_init(&buf);
    strbuf_printf(&buf, "<%s ", q->cls->name->chars);
    if (as_repr) strbuf_printf(&buf, "at 0x%" PRIxPTR " ", (uintptr_t)q);
    bool ok = format_queue(vm, q, &buf);
    strbuf_append_char(&buf, '>');
    if (ok) *out = OBJ_VAL(str_new(vm, buf.chars, buf.length));
    strbuf_free(&buf);
    return ok;
}

static bool m_repr(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return queue_text(vm, args, argc, kw, true, out);
}

static bool m_str(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return queue_text(vm, args, argc, kw, false, out);
}

static bool make_queue(VM *vm, Value *args, int argc, ObjTuple *kw, QueueOrder order, Value *out) {
    static const char *const names[] = {"maxsize"};
    Value maxsize = INT_VAL(0);
    if (!locks_args(vm, "Queue.__init__", args, argc, kw, names, 1, &maxsize)) return false;
    ObjClass *cls = (ObjClass *)AS_OBJ(args[0]);
    Value event_cls;
    if (!locks_class_data(vm, cls, &event_cls) || !IS_OBJ_TYPE(event_cls, OBJ_CLASS))
        return vm_raise(vm, CLS_RUNTIME_ERROR, "asyncio.Event is missing");
    ObjInstance *q = locks_instance_new(vm, cls, SYNC_QUEUE, Q_FIELDS);
    FIELD(q, Q_GETTERS) = OBJ_VAL(locks_deque_new(vm));
    FIELD(q, Q_PUTTERS) = OBJ_VAL(locks_deque_new(vm));
    FIELD(q, Q_ITEMS) = OBJ_VAL(locks_deque_new(vm));
    FIELD(q, Q_MAXSIZE) = maxsize;
    FIELD(q, Q_UNFINISHED) = INT_VAL(0);
    ObjInstance *finished = locks_event_new(vm, (ObjClass *)AS_OBJ(event_cls));
    locks_event_set(vm, finished);
    FIELD(q, Q_FINISHED) = OBJ_VAL(finished);
    FIELD(q, Q_ORDER) = INT_VAL(order);
    dict_set_str(vm, q->dict, str_intern(vm, "maxsize", 7), maxsize);
    dict_set_str(vm, q->dict, str_intern(vm, "_maxsize", 8), maxsize);
    dict_set_str(vm, q->dict, str_intern(vm, "_unfinished_tasks", 17), INT_VAL(0));
    dict_set_str(vm, q->dict, str_intern(vm, "_finished", 9), OBJ_VAL(finished));
    *out = OBJ_VAL(q);
    return true;
}

static bool construct_fifo(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return make_queue(vm, args, argc, kw, QUEUE_FIFO, out);
}

static bool construct_lifo(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return make_queue(vm, args, argc, kw, QUEUE_LIFO, out);
}

static bool construct_priority(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return make_queue(vm, args, argc, kw, QUEUE_PRIORITY, out);
}

static ObjClass *queue_class(VM *vm, ObjDict *d, const char *name, ObjClass *base, NativeFn construct) {
    ObjClass *cls = class_new(vm, name, base ? base : vm->classes[CLS_OBJECT]);
    cls->module = "asyncio.queues";
    cls->construct = construct;
    dict_set_str(vm, d, cls->name, OBJ_VAL(cls));
    return cls;
}

ObjClass *queues_init(VM *vm, ObjDict *d, ObjClass *event_cls) {
    static const struct {
        const char *name;
        NativeFn fn;
    } methods[] = {
        {"put", m_put},           {"put_nowait", m_put_nowait}, {"get", m_get},     {"get_nowait", m_get_nowait},
        {"task_done", m_task_done}, {"join", m_join},             {"qsize", m_qsize}, {"empty", m_empty},
        {"full", m_full},         {"__repr__", m_repr},         {"__str__", m_str},
    };
    ObjClass *queue = queue_class(vm, d, "Queue", NULL, construct_fifo);
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        class_add_method(vm, queue, methods[i].name, methods[i].fn, true);
    dict_set(vm, queue->dict, NONE_VAL, OBJ_VAL(event_cls)); // the class of join()'s Event
    queue_class(vm, d, "PriorityQueue", queue, construct_priority);
    queue_class(vm, d, "LifoQueue", queue, construct_lifo);
    return queue;
}
