// runtime/vm.h - the interpreter state and the calls every part of the runtime uses.
// One VM per interpreter; passed everywhere as Lua passes lua_State.
#ifndef ASYNCRUN_VM_H
#define ASYNCRUN_VM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "runtime/object.h"
#include "runtime/numfmt.h"
#include "runtime/strbuf.h"

// A format spec parsed lately (f"{x:06d}" parses the same text each time),
// keyed by the spec text itself, so a stale entry can only miss.
typedef struct {
    char text[16];
    uint8_t length; // 0: empty slot
    FormatSpec spec;
} SpecCacheEntry;

// Builtin classes, by index into vm->classes.
#define BUILTIN_CLASSES(X)                                                     \
    X(OBJECT, "object") X(TYPE, "type") X(NONETYPE, "NoneType")                \
    X(BOOL, "bool") X(INT, "int") X(FLOAT, "float") X(STR, "str")              \
    X(TUPLE, "tuple") X(LIST, "list") X(DICT, "dict") X(SET, "set")            \
    X(FROZENSET, "frozenset") X(RANGE, "range") X(ITERATOR, "iterator")        \
    X(CODE, "code") X(FUNCTION, "function") X(CELL, "cell")                    \
    X(BUILTIN_FUNCTION, "builtin_function_or_method") X(METHOD, "method")      \
    X(MODULE, "module") X(COROUTINE, "coroutine") X(FUTURE, "Future")          \
    X(TASK, "Task") X(HANDLE, "Handle") X(TIMER_HANDLE, "TimerHandle")         \
    X(LOOP, "_UnixSelectorEventLoop") X(PARTIAL, "partial")                    \
    X(SLEEP, "coroutine") X(DICT_KEYS, "dict_keys")                            \
    X(DICT_VALUES, "dict_values") X(DICT_ITEMS, "dict_items")                  \
    X(ELLIPSIS, "ellipsis") X(SLICE, "slice") X(TEXTIO, "TextIOWrapper")   \
    X(SUPER, "super")                                                          \
    X(LIST_ITERATOR, "list_iterator") X(TUPLE_ITERATOR, "tuple_iterator")       \
    X(STR_ASCII_ITERATOR, "str_ascii_iterator") X(STR_ITERATOR, "str_iterator") \
    X(RANGE_ITERATOR, "range_iterator") X(DICT_KEYITERATOR, "dict_keyiterator") \
    X(DICT_VALUEITERATOR, "dict_valueiterator")                                \
    X(DICT_ITEMITERATOR, "dict_itemiterator") X(SET_ITERATOR, "set_iterator")   \
    X(ENUMERATE, "enumerate") X(ZIP, "zip") X(MAP, "map") X(FILTER, "filter")  \
    X(LIST_REVERSEITERATOR, "list_reverseiterator") X(REVERSED, "reversed")    \
    X(CALLABLE_ITERATOR, "callable_iterator")

// Builtin exception classes: X(id, name, base id)
#define BUILTIN_EXCEPTIONS(X)                                                  \
    X(BASE_EXCEPTION, "BaseException", OBJECT)                                 \
    X(SYSTEM_EXIT, "SystemExit", BASE_EXCEPTION)                               \
    X(KEYBOARD_INTERRUPT, "KeyboardInterrupt", BASE_EXCEPTION)                 \
    X(GENERATOR_EXIT, "GeneratorExit", BASE_EXCEPTION)                         \
    X(EXCEPTION, "Exception", BASE_EXCEPTION)                                  \
    X(STOP_ITERATION, "StopIteration", EXCEPTION)                              \
    X(STOP_ASYNC_ITERATION, "StopAsyncIteration", EXCEPTION)                   \
    X(ARITHMETIC_ERROR, "ArithmeticError", EXCEPTION)                          \
    X(FLOATING_POINT_ERROR, "FloatingPointError", ARITHMETIC_ERROR)            \
    X(OVERFLOW_ERROR, "OverflowError", ARITHMETIC_ERROR)                       \
    X(ZERO_DIVISION_ERROR, "ZeroDivisionError", ARITHMETIC_ERROR)              \
    X(ASSERTION_ERROR, "AssertionError", EXCEPTION)                            \
    X(ATTRIBUTE_ERROR, "AttributeError", EXCEPTION)                            \
    X(EOF_ERROR, "EOFError", EXCEPTION)                                        \
    X(IMPORT_ERROR, "ImportError", EXCEPTION)                                  \
    X(MODULE_NOT_FOUND_ERROR, "ModuleNotFoundError", IMPORT_ERROR)             \
    X(LOOKUP_ERROR, "LookupError", EXCEPTION)                                  \
    X(INDEX_ERROR, "IndexError", LOOKUP_ERROR)                                 \
    X(KEY_ERROR, "KeyError", LOOKUP_ERROR)                                     \
    X(MEMORY_ERROR, "MemoryError", EXCEPTION)                                  \
    X(NAME_ERROR, "NameError", EXCEPTION)                                      \
    X(UNBOUND_LOCAL_ERROR, "UnboundLocalError", NAME_ERROR)                    \
    X(OS_ERROR, "OSError", EXCEPTION)                                          \
    X(TIMEOUT_ERROR, "TimeoutError", OS_ERROR)                                 \
    X(FILE_NOT_FOUND_ERROR, "FileNotFoundError", OS_ERROR)                     \
    X(FILE_EXISTS_ERROR, "FileExistsError", OS_ERROR)                          \
    X(PERMISSION_ERROR, "PermissionError", OS_ERROR)                           \
    X(IS_A_DIRECTORY_ERROR, "IsADirectoryError", OS_ERROR)                     \
    X(CONNECTION_ERROR, "ConnectionError", OS_ERROR)                           \
    X(BROKEN_PIPE_ERROR, "BrokenPipeError", CONNECTION_ERROR)                  \
    X(CONNECTION_RESET_ERROR, "ConnectionResetError", CONNECTION_ERROR)        \
    X(RUNTIME_ERROR, "RuntimeError", EXCEPTION)                                \
    X(NOT_IMPLEMENTED_ERROR, "NotImplementedError", RUNTIME_ERROR)             \
    X(RECURSION_ERROR, "RecursionError", RUNTIME_ERROR)                        \
    X(SYNTAX_ERROR, "SyntaxError", EXCEPTION)                                  \
    X(INDENTATION_ERROR, "IndentationError", SYNTAX_ERROR)                     \
    X(TAB_ERROR, "TabError", INDENTATION_ERROR)                                \
    X(TYPE_ERROR, "TypeError", EXCEPTION)                                      \
    X(VALUE_ERROR, "ValueError", EXCEPTION)                                    \
    X(UNICODE_ERROR, "UnicodeError", VALUE_ERROR)                              \
    X(WARNING, "Warning", EXCEPTION)                                           \
    X(DEPRECATION_WARNING, "DeprecationWarning", WARNING)                      \
    X(RUNTIME_WARNING, "RuntimeWarning", WARNING)                              \
    X(CANCELLED_ERROR, "CancelledError", BASE_EXCEPTION)                       \
    X(INVALID_STATE_ERROR, "InvalidStateError", EXCEPTION)                     \
    X(QUEUE_EMPTY, "QueueEmpty", EXCEPTION)                                    \
    X(QUEUE_FULL, "QueueFull", EXCEPTION)

typedef enum {
#define X(id, name) CLS_##id,
    BUILTIN_CLASSES(X)
#undef X
#define X(id, name, base) CLS_##id,
    BUILTIN_EXCEPTIONS(X)
#undef X
    CLS__COUNT
} ClassId;

typedef enum { CLOCK_REAL, CLOCK_VIRTUAL } ClockMode;

#define VM_MAX_NATIVE_DEPTH 200

#define GC_SIZE_CLASSES 64         // small objects: 16 to 1024 bytes
#define GC_SIZE_CLASS_LARGE 0xFF

struct VM {
    // memory
    Obj *objects;
    Obj *free_objects[GC_SIZE_CLASSES]; // free lists of small objects
    struct PoolBlock *pool_blocks;      // their 64 KiB blocks
    size_t bytes_allocated;
    size_t next_gc;
    bool gc_stress;
    bool collecting;       // a collection is running (reports may run code)
    // objects that may need a report when they die (coroutines made but
    // not started, futures given an exception): gc_watch; the collector
    // looks for dying reportable objects here instead of in the whole heap
    Obj **watched;
    size_t watched_count, watched_capacity;
    Obj **gray;
    size_t gray_count, gray_capacity;
    Value *roots;          // temporary roots pushed by natives (vm_push_root)
    size_t root_count, root_capacity;

    // interned strings: open addressing set, weak (swept entries removed)
    ObjString **intern;
    size_t intern_count, intern_capacity;

    ObjClass *classes[CLS__COUNT];
    ObjDict *builtins;
    ObjDict *modules;      // name -> module
    ObjDict *main_globals;
    ObjList *argv;         // sys.argv
    ObjDict *warned;       // RuntimeWarnings shown: as CPython's default
                           // filter, each text once per place

    // execution
    Fiber main_fiber;
    Fiber *fiber;          // the running fiber
    Value exception;       // pending exception, EMPTY when none
    int recursion_limit;   // Python frames per fiber
    int native_depth;      // nesting of natives that run bytecode
    int64_t fuel;          // instruction budget (backward jumps and calls) for
                           // fuzzing: at 0 the dispatch loop raises; negative
                           // means unlimited, the default
    // natives that run bytecode use one fiber per nesting depth, so the
    // caller's stack (holding the native's arguments) never moves under it
    struct Fiber *aux_fibers[VM_MAX_NATIVE_DEPTH + 1];

    // event loop
    ClockMode clock_mode;
    double virtual_now;
    ObjLoop *current_loop; // set_event_loop
    ObjLoop *running_loop; // loop in run_forever/run_until_complete
    bool loop_set_called;  // set_event_loop was called (even with None)
    uint64_t task_counter; // for Task-N names
    uint64_t timer_seq;

    // names used by the VM itself
    ObjString *s_main;     // "__main__"
    ObjString *s_name;     // "__name__"
    ObjString *s_init;
    ObjString *s_empty;    // ""
    ObjString *ascii_chars[128]; // one-character strings, made on demand

    StrBuf out;            // stdout buffer (flushed before stderr writes)
    int out_errno;         // a failed stdout write not yet raised (print raises it)
    SpecCacheEntry spec_cache[8]; // format specs parsed lately (ops.c)

    // Set by the embedder (cmd/) so the runtime can compile its library code
    // without depending on the parser: NULL (exception set) on error.
    ObjCode *(*compile)(VM *vm, const char *src, size_t len, const char *filename);
};

// Set by a SIGINT handler; the dispatch loop raises KeyboardInterrupt at the
// next call or backward jump, and the event loop stops waiting.
#include <signal.h>
extern volatile sig_atomic_t vm_interrupt;

VM *vm_new(void);
void vm_free(VM *vm);

// Run a module's code with the given globals. false when an exception
// escaped (it is in vm->exception).
bool vm_run_module(VM *vm, ObjCode *code, ObjDict *globals);

// Run REPL input compiled with COMPILE_INTERACTIVE: input that awaits at top
// level runs as a task on the current event loop (made on first use).
bool vm_run_interactive(VM *vm, ObjCode *code, ObjDict *globals);

// Call any callable from C. false with vm->exception set on failure.
bool vm_call(VM *vm, Value callee, Value *args, int argc, ObjTuple *kwnames,
             Value *out);

// Raise: set vm->exception and return false, so natives write
// `return vm_raise(vm, CLS_TYPE_ERROR, "...")`.
bool vm_raise(VM *vm, ClassId cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool vm_raise_value(VM *vm, Value exception);
ObjException *exception_new(VM *vm, ObjClass *cls, ObjTuple *args);
ObjException *exception_from_message(VM *vm, ObjClass *cls, const char *msg);
bool class_is_subclass(const ObjClass *cls, const ObjClass *base);
bool exception_matches(VM *vm, Value exception, ClassId cls);
// Print "Traceback (most recent call last): ..." and "Type: message".
void exception_print(VM *vm, Value exception, FILE *out);

// Temporary roots for natives that call back into bytecode (the collector
// runs only at safe points inside the dispatch loop).
void vm_grow_roots(VM *vm);
static inline void vm_push_root(VM *vm, Value value) {
    if (vm->root_count == vm->root_capacity) vm_grow_roots(vm);
    vm->roots[vm->root_count++] = value;
}
static inline void vm_pop_roots(VM *vm, size_t count) { vm->root_count -= count; }

// Output: stdout is buffered in vm->out; flush before writing to stderr.
void vm_write_out(VM *vm, const char *chars, size_t length);
void vm_flush_out(VM *vm);
// After writing to stdout: false with OSError (BrokenPipeError...) when a
// write failed since the last check.
bool vm_check_out(VM *vm);

ObjClass *value_class(VM *vm, Value value);
const char *value_type_name(VM *vm, Value value);

// Globals, modules and natives
ObjNative *native_new(VM *vm, const char *name, NativeFn fn, bool takes_kwargs);
void define_native(VM *vm, ObjDict *dict, const char *name, NativeFn fn,
                   bool takes_kwargs);
ObjModule *module_new(VM *vm, const char *name);
// Import a builtin module by name (asyncio, functools, time, sys).
bool vm_import(VM *vm, ObjString *name, Value *out);

// Keyword parsing for natives: match kwnames against names[] (NULL-ended),
// storing values into outs[] (left untouched when absent). Unknown names
// raise TypeError "fn() got an unexpected keyword argument 'x'".
bool native_kwargs(VM *vm, const char *fn, Value *args, int argc,
                   ObjTuple *kwnames, const char *const *names, Value *outs);
// Arity check: TypeError "fn() takes exactly one argument (2 given)" etc.
bool native_arity(VM *vm, const char *fn, int argc, int min, int max);

#endif
