// runtime/object.h - heap objects: the common header and every object type.
// Objects are allocated through gc_alloc and freed only by the collector.
#ifndef ASYNCRUN_OBJECT_H
#define ASYNCRUN_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/value.h"

typedef struct VM VM;
typedef struct ObjString ObjString;
typedef struct ObjTuple ObjTuple;
typedef struct ObjDict ObjDict;
typedef struct ObjClass ObjClass;

typedef enum {
    OBJ_STRING,
    OBJ_TUPLE,
    OBJ_LIST,
    OBJ_DICT,
    OBJ_SET,       // set and frozenset (ObjSet.frozen)
    OBJ_RANGE,
    OBJ_ITER,      // builtin iterators (ObjIter.kind)
    OBJ_CODE,
    OBJ_FUNCTION,
    OBJ_CELL,
    OBJ_NATIVE,
    OBJ_BOUND,     // a method bound to its receiver
    OBJ_CLASS,     // type objects: int, str, ValueError, Future...
    OBJ_EXCEPTION,
    OBJ_MODULE,
    OBJ_COROUTINE,
    OBJ_FUTURE,
    OBJ_TASK,      // a Task is a Future with a fiber (ObjTask starts with ObjFuture)
    OBJ_HANDLE,    // loop.call_soon / call_later / call_at handles
    OBJ_LOOP,
    OBJ_PARTIAL,   // functools.partial
    OBJ_SLEEP,     // the awaitable asyncio.sleep() returns
    OBJ_DICTVIEW,  // dict.keys() / values() / items()
    OBJ_SLICE,     // slice objects made by BUILD_SLICE
    OBJ_SUPER,     // what super() returns
    OBJ_INSTANCE,  // an instance of a class with an attribute dict (sys.stdout, ...)
    OBJ__COUNT
} ObjType;

struct Obj {
    Obj *next;      // every object, for the sweep
    uint8_t type;   // ObjType
    uint8_t marked;
    uint8_t flags;  // per-type bits (e.g. ObjString interned)
    uint8_t size_class; // the collector's allocation class (SIZE_CLASS_LARGE: malloc)
};

#define OBJ_TYPE(v) (AS_OBJ(v)->type)
#define IS_OBJ_TYPE(v, t) (IS_OBJ(v) && AS_OBJ(v)->type == (t))

// ---- strings: immutable UTF-8, hash and code-point length cached ----------
struct ObjString {
    Obj obj;
    uint32_t hash;
    uint32_t length;     // bytes
    uint32_t cp_length;  // code points (== length when ASCII)
    char chars[];        // NUL-terminated
};
#define STR_INTERNED 1
// Obj.flags bit for futures and coroutines: seen earlier in one gather() call
#define OBJ_FLAG_GATHER_SEEN 0x80
// Obj.flags bit for futures: made by gather(); while pending, its result
// slot holds the gather's state (read by future_cancel)
#define OBJ_FLAG_GATHERING 0x40

// ---- containers ----------------------------------------------------------
struct ObjTuple {
    Obj obj;
    uint32_t hash;       // 0 = not computed
    uint32_t length;
    Value items[];
};

typedef struct {
    Obj obj;
    Value *items;
    uint32_t length;
    uint32_t capacity;
} ObjList;

// Compact ordered dict (CPython's layout): entries in insertion order, an
// open-addressing index over them. Deleted entries keep key EMPTY.
typedef struct {
    Value key;
    Value value;
    uint64_t hash;
} DictEntry;

struct ObjDict {
    Obj obj;
    DictEntry *entries;
    int32_t *index;       // -1 empty, -2 deleted, else entry number
    uint32_t count;       // live entries
    uint32_t used;        // entries slots used (live + deleted)
    uint32_t capacity;    // entries capacity
    uint32_t index_size;  // power of two
    uint32_t version;     // bumped whenever a new key is added (global caches)
};

// set and frozenset: CPython's own table (setobject.c), not insertion-ordered,
// so that iteration order matches CPython's (e.g. small ints). A slot is
// unused (key EMPTY, hash 0), deleted (key EMPTY, hash SET_DUMMY) or live.
typedef struct {
    Value key;
    uint64_t hash;
} SetEntry;
#define SET_DUMMY UINT64_MAX

typedef struct {
    Obj obj;
    SetEntry *table;      // mask + 1 slots
    uint32_t mask;
    uint32_t fill;        // live + deleted slots
    uint32_t used;        // live items
    uint32_t finger;      // where pop() looks next
    bool frozen;
} ObjSet;

typedef struct {
    Obj obj;
    int64_t start, stop, step;
} ObjRange;

typedef struct {
    Obj obj;
    Value start, stop, step; // NONE when omitted
} ObjSlice;

typedef enum {
    ITER_RANGE,
    ITER_LIST,
    ITER_TUPLE,
    ITER_STR,
    ITER_DICT_KEYS,
    ITER_DICT_VALUES,
    ITER_DICT_ITEMS,
    ITER_ENUMERATE,
    ITER_ZIP,
    ITER_MAP,
    ITER_FILTER,
    ITER_REVERSED,
    ITER_CALLABLE,
    ITER_SET,
} IterKind;

typedef struct {
    Obj obj;
    uint8_t kind;      // IterKind
    Value source;      // the iterated object (or inner iterator)
    Value extra;       // map/filter function, zip tuple of iterators...
    int64_t index;     // position / next value for ranges
    int64_t stop;      // end for ranges
    int64_t step;
    uint32_t expect;   // dict iterators: size at start, to detect mutation
} ObjIter;

typedef struct {
    Obj obj;
    uint8_t kind;      // ITER_DICT_KEYS / VALUES / ITER_DICT_ITEMS
    ObjDict *dict;
} ObjDictView;

// ---- code and functions ---------------------------------------------------
typedef struct {
    uint32_t start, end;  // instruction range [start, end)
    uint32_t handler;     // instruction to jump to
    uint16_t depth;       // operand stack depth to unwind to
    uint8_t push_lasti;   // unused for now (CPython compatibility)
} ExcEntry;

enum {
    CODE_VARARGS = 1,
    CODE_VARKW = 2,
    CODE_ASYNC = 4,
    CODE_GENERATOR = 8,
    CODE_MODULE = 16,
};

// LOAD_GLOBAL's inline cache, one per name: where the name was last found.
typedef struct {
    uint32_t index;    // entry index in the globals or builtins dict
    uint32_t version;  // globals' version when found in builtins
    uint8_t where;     // 0 unknown, 1 globals, 2 builtins
} GlobalCache;

// LOAD_METHOD's inline cache, one per name, for receivers whose attributes
// all come from their class (not modules, classes or instances): the class
// last seen and where in it (or in its base) the method was found. Valid
// while that class gained no key (dict version) and the entry still holds
// the name.
typedef struct {
    struct ObjClass *cls;
    struct ObjDict *holder; // cls->dict or cls->base->dict
    uint32_t index;
    uint32_t version;       // cls->dict->version when found
} MethodCache;

typedef struct ObjCode {
    Obj obj;
    uint32_t *code;        // fixed 32-bit instructions: op | arg << 8
    uint32_t *lines;       // source line of each instruction
    uint32_t count;
    Value *consts;
    uint32_t const_count;
    ObjString **names;     // global / attribute names
    uint32_t name_count;
    GlobalCache *global_cache; // name_count entries
    MethodCache *method_cache; // name_count entries
    ObjString **local_names; // slot names (params first)
    uint16_t local_count;
    uint16_t param_count;  // positional parameters
    uint16_t kwonly_count; // keyword-only parameters (after the positional)
    int32_t plain_argc;    // param_count when the call fast path applies (no *args,
                           // **kwargs, keyword-only), else -1
    uint16_t cell_count;   // cells for locals captured by inner functions
    uint16_t free_count;   // cells captured from enclosing functions
    uint16_t *cell_slots;  // slot of each cell variable
    ObjString **free_names;
    uint16_t max_stack;    // locals + deepest operand stack
    uint8_t flags;         // CODE_*
    ExcEntry *exc_table;
    uint32_t exc_count;
    int first_line;
    ObjString *name;
    ObjString *qualname;
    ObjString *filename;
    ObjString *source;     // the whole source text, for traceback lines
} ObjCode;

typedef struct {
    Obj obj;
    Value value;
} ObjCell;

typedef struct {
    Obj obj;
    struct ObjClass *owner; // the class whose body defined it (for super())
    ObjCode *code;
    ObjDict *globals;
    ObjTuple *defaults;    // NULL when none (the last param_count defaults)
    ObjDict *kwdefaults;   // NULL when none
    ObjCell **free;        // free_count cells
    ObjString *name;
} ObjFunction;

// Natives are called vectorcall-style: args[0..argc) are the positional
// arguments (for methods args[0] is self), then one value per name in
// kwnames (NULL when there are none). Return false with an exception set
// (vm_raise...) on failure; the result goes to *out.
typedef bool (*NativeFn)(VM *vm, Value *args, int argc, ObjTuple *kwnames,
                         Value *out);

typedef struct {
    Obj obj;
    NativeFn fn;
    const char *name;
    Value self;            // bound receiver for module-level natives that need one, else EMPTY
    bool takes_kwargs;     // false: the caller rejects keyword arguments
} ObjNative;

typedef struct {
    Obj obj;
    Value receiver;
    Value method;
} ObjBound;

// Type objects. Single inheritance; methods in dict; call constructs.
struct ObjClass {
    Obj obj;
    ObjString *name;
    ObjClass *base;
    ObjDict *dict;
    NativeFn construct;    // called as construct(vm, [cls, args...], argc+1, ...)
    const char *module;    // "builtins", "asyncio", ... (for repr)
};

// Exceptions: any instance of BaseException or a subclass.
typedef struct {
    ObjCode *code;
    uint32_t line;
} TraceEntry;

typedef struct {
    Obj obj;
    ObjClass *cls;
    ObjTuple *args;
    Value cause;           // NONE when absent
    Value context;         // NONE when absent
    bool suppress_context;
    Value value;           // StopIteration.value / SystemExit code, else NONE
    ObjDict *dict;         // attributes set on instances of user subclasses
    TraceEntry *trace;     // innermost first, appended while unwinding
    uint32_t trace_count;
    uint32_t trace_capacity;
} ObjException;

typedef struct {
    Obj obj;
    ObjString *name;
    ObjDict *dict;
} ObjModule;

typedef struct {
    Obj obj;
    ObjClass *start;       // search starts after this class
    Value self;
} ObjSuper;

typedef struct {
    Obj obj;
    ObjClass *cls;
    ObjDict *dict;         // attributes
    void *native;          // per-class C data (e.g. a FILE * for streams), not traced
} ObjInstance;

// ---- async objects ----------------------------------------------------------
typedef enum { CORO_CREATED, CORO_RUNNING, CORO_DONE } CoroState;

// Until it starts (CORO_CREATED), its bound arguments (func->code->
// local_count values) follow it in the same allocation: coroutine_locals.
typedef struct {
    Obj obj;
    ObjFunction *func;
    ObjCode *origin;       // where it was created, for "never awaited"
    uint32_t origin_line;
    uint8_t state;         // CoroState
} ObjCoroutine;

static inline Value *coroutine_locals(ObjCoroutine *co) { return (Value *)(co + 1); }

typedef enum { FUT_PENDING, FUT_FINISHED, FUT_CANCELLED } FutureState;

// A done-callback: run `fn` with the future as its one argument, or for
// internal ones (kind != CB_CALL) wake a task / feed a combinator.
typedef enum { CB_CALL, CB_WAKE_TASK } CallbackKind;
typedef struct {
    Value fn;
    uint8_t kind;
} FutureCallback;

typedef struct ObjLoop ObjLoop;

typedef struct {
    Obj obj;
    uint8_t state;         // FutureState
    bool log_traceback;    // exception set and never retrieved
    uint8_t callback_shift; // the callbacks array holds 1 << callback_shift
    uint32_t callback_count;
    ObjLoop *loop;
    Value result;
    Value exception;       // NONE or an ObjException
    Value cancel_msg;      // NONE or the message given to cancel()
    // &one_callback while at most one is needed (most futures have one
    // waiter), else a malloc'd array; future_callbacks_release frees it
    FutureCallback *callbacks;
    FutureCallback one_callback;
} ObjFuture;

// A call frame on a fiber. Offsets, never pointers into the stack: the
// stack moves when it grows.
typedef struct {
    ObjFunction *func;
    uint32_t *ip;          // next instruction (saved when not running)
    uint32_t base;         // stack offset of slot 0
    uint8_t flags;         // FRAME_*
    ObjCoroutine *coro;    // the coroutine object this frame runs, if any
} Frame;

enum {
    FRAME_STOP = 1,        // return to the C caller when this frame returns
};

typedef struct Fiber {
    Frame first_frame;     // frames starts here: most fibers never nest
    Value *stack;
    uint32_t sp;           // number of values in use
    uint32_t stack_capacity;
    Frame *frames;
    uint32_t frame_count;
    uint32_t frame_capacity;
    Value handling;        // exception being handled (for bare raise/context)
    struct ObjTask *task;  // owning task, NULL for the main fiber
} Fiber;

typedef enum {
    TASK_IDLE,             // running, done, or not yet scheduled
    TASK_SCHEDULED,        // in the ready queue for a step
    TASK_WAITING,          // awaiting a future (waiting_on)
    TASK_SLEEPING,         // parked in the timer heap (sleep_seq)
    TASK_SLEEP_FIRED,      // timer fired; one more trip through the ready queue
} TaskRunState;

// What the next step hands the fiber at its suspension point.
typedef enum {
    RESUME_START,          // first step: start the coroutine
    RESUME_VALUE,          // push the resume value (task_resume_value)
    RESUME_FUTURE,         // take the result of waiting_on
    RESUME_THROW,          // raise the resume value (an exception) at the await
} ResumeKind;

typedef struct ObjTask {
    ObjFuture fut;
    Fiber fiber;
    Obj *coro;             // the coroutine (or sleep) it runs, NULL for none
    ObjString *name;       // NULL until asked for: then "Task-<number>"
    uint64_t number;
    ObjFuture *waiting_on; // future it is suspended on
    uint64_t sleep_seq;    // timer entry of the current sleep (0 = none)
    uint8_t run_state;     // TaskRunState
    uint8_t resume_kind;   // ResumeKind
    bool must_cancel;
    uint8_t inline_slots;  // stack values allocated right after the task
    int num_cancels_requested;
    struct ObjTask *next_in_loop; // the loop's chain of live tasks
} ObjTask;

// What a pending task's next step resumes with lives in its result slot
// (unused until the task is done: Task.set_result is refused).
static inline Value *task_resume_value(struct ObjTask *task) { return &task->fut.result; }

// A task's first stack is part of the task's own allocation (one object per
// task instead of two); a stack that outgrows it moves to the heap.
static inline Value *task_inline_stack(struct ObjTask *task) { return (Value *)(task + 1); }
static inline bool fiber_stack_inline(const Fiber *fiber) {
    return fiber->task && fiber->task->inline_slots && fiber->stack == task_inline_stack(fiber->task);
}

// A handle's argc arguments follow it in the same allocation (handle_args).
// cancel() drops the callback and its arguments, as CPython's does.
typedef struct {
    Obj obj;
    Value callback;
    double when;           // timer handles only
    uint64_t seq;
    ObjLoop *loop;
    uint32_t argc;
    bool cancelled;
    bool is_timer;
    bool scheduled;        // timer still in the heap
} ObjHandle;

static inline Value *handle_args(ObjHandle *h) { return (Value *)(h + 1); }

typedef struct {
    Obj obj;
    Value func;
    ObjTuple *args;
    ObjDict *kwargs;
} ObjPartial;

#include "runtime/timerheap.h"

// A ready entry: a handle or a task due a step (arg NULL), or a future's
// done callback `target(arg)` scheduled without allocating a handle.
typedef struct {
    Obj *target;
    Obj *arg;
} ReadyEntry;

// The event loop: a ring buffer of ready entries (handles, tasks due a step,
// done callbacks) and a timer heap of timer handles and sleeping tasks.
struct ObjLoop {
    Obj obj;
    ReadyEntry *ready;
    uint32_t ready_head, ready_count, ready_capacity;
    TimerHeap timers;
    uint32_t cancelled_timers;
    bool running, stopping, closed;
    // tasks not yet done, oldest first, chained through ObjTask.next_in_loop;
    // finished ones are unlinked by loop_live_tasks (and every collection)
    struct ObjTask *tasks_head, *tasks_tail;
    struct ObjTask *current_task; // the task whose step is running
    Value exception_handler;
};

typedef struct {
    Obj obj;
    double delay;
    Value result;
} ObjSleep;

// ---- object API shared by the runtime ----------------------------------------
ObjString *str_new(VM *vm, const char *chars, size_t length);
// false with a MemoryError when a string of `length` bytes cannot be made.
bool str_length_fits(VM *vm, size_t length);
ObjString *str_from_cstr(VM *vm, const char *cstr);
ObjString *str_intern(VM *vm, const char *chars, size_t length);
ObjString *str_take(VM *vm, char *chars, size_t length); // takes malloc'd bytes
uint32_t str_hash_bytes(const char *chars, size_t length);
// A string's hash, computed on first use (0 means "not yet": str_hash_bytes
// never returns 0).
static inline uint32_t str_hash(ObjString *s) {
    if (!s->hash) s->hash = str_hash_bytes(s->chars, s->length);
    return s->hash;
}
bool str_equal(const ObjString *a, const ObjString *b);

ObjTuple *tuple_new(VM *vm, uint32_t length); // items set to NONE
ObjList *list_new(VM *vm, uint32_t capacity);
bool list_append(VM *vm, ObjList *list, Value value);

ObjDict *dict_new(VM *vm);
// Lookups and stores; false + TypeError when the key is unhashable.
bool dict_get(VM *vm, ObjDict *dict, Value key, Value *out, bool *found);
bool dict_set(VM *vm, ObjDict *dict, Value key, Value value);
bool dict_delete(VM *vm, ObjDict *dict, Value key, bool *found);
// Fast paths for string keys (never fail).
Value *dict_find_str(ObjDict *dict, ObjString *key); // NULL when absent
void dict_set_str(VM *vm, ObjDict *dict, ObjString *key, Value value);

#endif
