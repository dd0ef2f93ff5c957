// runtime/exception.c - exception objects, raising from C, and printing a
// CPython-style traceback. Traces are innermost-first: print them reversed.
#include <stdlib.h>
#include <string.h>

#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/modules.h"
#include "runtime/ops.h"

// CPython prints at most this many frames (sys.tracebacklimit's default),
// and collapses a line repeated more than TB_RECURSIVE_CUTOFF times.
#define TB_LIMIT 1000
#define TB_RECURSIVE_CUTOFF 3

bool class_is_subclass(const ObjClass *cls, const ObjClass *base) {
    for (; cls; cls = cls->base)
        if (cls == base) return true;
    return false;
}

ObjException *exception_new(VM *vm, ObjClass *cls, ObjTuple *args) {
    if (!args) args = tuple_new(vm, 0);
    ObjException *e = ALLOC_OBJ(vm, ObjException, OBJ_EXCEPTION);
    e->cls = cls;
    e->args = args;
    e->cause = NONE_VAL;
    e->context = NONE_VAL;
    e->value = NONE_VAL;
    if (class_is_subclass(cls, vm->classes[CLS_STOP_ITERATION])) {
        if (args->length > 0) e->value = args->items[0];
    } else if (class_is_subclass(cls, vm->classes[CLS_SYSTEM_EXIT])) {
        if (args->length == 1) e->value = args->items[0];
        else if (args->length > 1) e->value = OBJ_VAL(args);
    }
    return e;
}

ObjException *exception_from_message(VM *vm, ObjClass *cls, const char *msg) {
    Value arg = OBJ_VAL(str_from_cstr(vm, msg));
    return exception_new(vm, cls, tuple_from(vm, &arg, 1));
}

bool exception_matches(VM *vm, Value exception, ClassId cls) {
    return IS_OBJ_TYPE(exception, OBJ_EXCEPTION) &&
           class_is_subclass(((ObjException *)AS_OBJ(exception))->cls, vm->classes[cls]);
}

bool vm_raise_value(VM *vm, Value exception) {
    vm->exception = exception;
    return false;
}

bool vm_raise(VM *vm, ClassId cls, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    char *msg = small;
    if (n >= (int)sizeof small) {
        msg = malloc((size_t)n + 1);
        if (!msg) abort();
        va_start(ap, fmt);
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    ObjException *e = exception_from_message(vm, vm->classes[cls], n < 0 ? "" : msg);
    if (msg != small) free(msg);
    return vm_raise_value(vm, OBJ_VAL(e));
}

// ---- the exception classes ---------------------------------------------------

// BaseException(*args): every exception class constructs through this (the
// VM walks the base chain for a construct function); args[0] is the class.
static bool exception_construct(VM *vm, Value *args, int argc, ObjTuple *kwnames,
                                Value *out) {
    ObjClass *cls = (ObjClass *)AS_OBJ(args[0]);
    if (kwnames && kwnames->length)
        return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes no keyword arguments", cls->name->chars);
    ObjTuple *tuple = tuple_from(vm, args + 1, (uint32_t)(argc - 1));
    *out = OBJ_VAL(exception_new(vm, cls, tuple));
    return true;
}

static bool exception_with_traceback(VM *vm, Value *args, int argc, ObjTuple *kwnames,
                                     Value *out) {
    if (!native_arity(vm, "with_traceback", argc - 1, 1, 1)) return false;
    *out = args[0];
    return true;
}

void exception_init_classes(VM *vm) {
    ObjClass *base = vm->classes[CLS_BASE_EXCEPTION];
    base->construct = exception_construct;
    class_add_method(vm, base, "with_traceback", exception_with_traceback, false);
}

// ---- printing ------------------------------------------------------------------

// Line `line` (1-based) of `source` without its leading indentation or line
// break; false when there is no such line.
static bool source_line(const ObjString *source, uint32_t line, const char **start,
                        size_t *length) {
    if (!source || line == 0) return false;
    const char *p = source->chars, *end = source->chars + source->length;
    for (uint32_t n = 1; n < line; n++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) return false;
        p = nl + 1;
    }
    if (p >= end) return false;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;
    if (stop > p && stop[-1] == '\r') stop--;
    while (p < stop && (*p == ' ' || *p == '\t' || *p == '\f')) p++;
    *start = p;
    *length = (size_t)(stop - p);
    return true;
}

static bool same_str(const ObjString *a, const ObjString *b) {
    if (a == b) return true;
    return a && b && str_equal(a, b);
}

static void print_repeated(StrBuf *buf, long count) {
    count -= TB_RECURSIVE_CUTOFF;
    strbuf_printf(buf, "  [Previous line repeated %ld more time%s]\n", count,
                  count > 1 ? "s" : "");
}

static void print_trace(const ObjException *e, StrBuf *buf) {
    if (e->trace_count == 0) return;
    strbuf_append_cstr(buf, "Traceback (most recent call last):\n");
    uint32_t first = e->trace_count > TB_LIMIT ? TB_LIMIT : e->trace_count;
    const ObjString *last_file = NULL, *last_name = NULL;
    int64_t last_line = -1;
    long count = 0;
    for (uint32_t i = first; i-- > 0;) {
        const TraceEntry *t = &e->trace[i];
        const ObjCode *code = t->code;
        if (count == 0 || !same_str(code->filename, last_file) || t->line != last_line ||
            !same_str(code->name, last_name)) {
            if (count > TB_RECURSIVE_CUTOFF) print_repeated(buf, count);
            last_file = code->filename;
            last_line = t->line;
            last_name = code->name;
            count = 0;
        }
        count++;
        if (count > TB_RECURSIVE_CUTOFF) continue;
        strbuf_printf(buf, "  File \"%s\", line %u, in %s\n",
                      code->filename ? code->filename->chars : "<unknown>", t->line,
                      code->name ? code->name->chars : "?");
        const char *line;
        size_t length;
        if (source_line(code->source, t->line, &line, &length) && length > 0) {
            strbuf_append_cstr(buf, "    ");
            strbuf_append(buf, line, length);
            strbuf_append_char(buf, '\n');
        }
    }
    if (count > TB_RECURSIVE_CUTOFF) print_repeated(buf, count);
}

// "module.Name: message", "Name" alone when str(exc) is empty.
static void print_last_line(VM *vm, Value exception, StrBuf *buf) {
    ObjClass *cls = value_class(vm, exception);
    if (cls->module && strcmp(cls->module, "builtins") != 0 &&
        strcmp(cls->module, "__main__") != 0) {
        strbuf_append_cstr(buf, cls->module);
        strbuf_append_char(buf, '.');
    }
    strbuf_append(buf, cls->name->chars, cls->name->length);
    StrBuf msg;
    strbuf_init(&msg);
    Value pending = vm->exception;
    if (!value_str(vm, exception, &msg)) {
        msg.length = 0;
        strbuf_append_cstr(&msg, "<exception str() failed>");
    }
    vm->exception = pending;
    if (msg.length) {
        strbuf_append(buf, ": ", 2);
        strbuf_append(buf, msg.chars, msg.length);
    }
    strbuf_free(&msg);
    strbuf_append_char(buf, '\n');
}

typedef struct Seen {
    const Obj *exc;
    const struct Seen *next;
} Seen;

static bool was_seen(const Seen *seen, const Obj *o) {
    for (; seen; seen = seen->next)
        if (seen->exc == o) return true;
    return false;
}

static void print_chain(VM *vm, Value exception, const Seen *seen, StrBuf *buf, int depth) {
    if (!IS_OBJ_TYPE(exception, OBJ_EXCEPTION)) {
        print_last_line(vm, exception, buf);
        return;
    }
    ObjException *e = (ObjException *)AS_OBJ(exception);
    Seen here = {(Obj *)e, seen};
    if (depth < TB_LIMIT) {
        if (IS_OBJ_TYPE(e->cause, OBJ_EXCEPTION)) {
            if (!was_seen(&here, AS_OBJ(e->cause))) {
                print_chain(vm, e->cause, &here, buf, depth + 1);
                strbuf_append_cstr(buf, "\nThe above exception was the direct cause of the "
                                        "following exception:\n\n");
            }
        } else if (IS_OBJ_TYPE(e->context, OBJ_EXCEPTION) && !e->suppress_context) {
            if (!was_seen(&here, AS_OBJ(e->context))) {
                print_chain(vm, e->context, &here, buf, depth + 1);
                strbuf_append_cstr(buf, "\nDuring handling of the above exception, another "
                                        "exception occurred:\n\n");
            }
        }
    }
    print_trace(e, buf);
    print_last_line(vm, exception, buf);
}

void exception_print(VM *vm, Value exception, FILE *out) {
    vm_flush_out(vm);
    StrBuf buf;
    strbuf_init(&buf);
    print_chain(vm, exception, NULL, &buf, 0);
    fwrite(buf.chars, 1, buf.length, out);
    fflush(out);
    strbuf_free(&buf);
}
