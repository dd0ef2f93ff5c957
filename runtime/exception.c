// runtime/exception.c - exception objects, raising from C, and printing a
// CPython-style traceback. Traces are innermost-first: print them reversed.
#include <stdint.h>
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
    if (source->length >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3; // a BOM
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
        // CPython has no source for <stdin> and <string> (-c) code
        bool no_file = code->filename && code->filename->chars[0] == '<';
        if (!no_file && source_line(code->source, t->line, &line, &length) && length > 0) {
            strbuf_append_cstr(buf, "    ");
            strbuf_append(buf, line, length);
            strbuf_append_char(buf, '\n');
        }
    }
    if (count > TB_RECURSIVE_CUTOFF) print_repeated(buf, count);
}

// ---- "Did you mean" (CPython's Python/suggestions.c) ----

#define MAX_CANDIDATE_ITEMS 750
#define MAX_STRING_SIZE 40
#define MOVE_COST 2
#define CASE_COST 1

static size_t substitution_cost(char a, char b) {
    if ((a & 31) != (b & 31)) return MOVE_COST;
    if (a == b) return 0;
    if (a >= 'A' && a <= 'Z') a += 'a' - 'A';
    if (b >= 'A' && b <= 'Z') b += 'a' - 'A';
    return a == b ? CASE_COST : MOVE_COST;
}

static size_t levenshtein(const char *a, size_t a_size, const char *b, size_t b_size,
                          size_t max_cost) {
    size_t buffer[MAX_STRING_SIZE];
    if (a == b) return 0;
    while (a_size && b_size && a[0] == b[0]) {
        a++, a_size--;
        b++, b_size--;
    }
    while (a_size && b_size && a[a_size - 1] == b[b_size - 1]) a_size--, b_size--;
    if (a_size == 0 || b_size == 0) return (a_size + b_size) * MOVE_COST;
    if (a_size > MAX_STRING_SIZE || b_size > MAX_STRING_SIZE) return max_cost + 1;
    if (b_size < a_size) {
        const char *t = a;
        a = b;
        b = t;
        size_t ts = a_size;
        a_size = b_size;
        b_size = ts;
    }
    if ((b_size - a_size) * MOVE_COST > max_cost) return max_cost + 1;
    for (size_t i = 0; i < a_size; i++) buffer[i] = (i + 1) * MOVE_COST;
    size_t result = 0;
    for (size_t bi = 0; bi < b_size; bi++) {
        char code = b[bi];
        size_t distance = result = bi * MOVE_COST;
        size_t minimum = SIZE_MAX;
        for (size_t i = 0; i < a_size; i++) {
            size_t substitute = distance + substitution_cost(code, a[i]);
            distance = buffer[i];
            size_t insert_delete = (result < distance ? result : distance) + MOVE_COST;
            result = insert_delete < substitute ? insert_delete : substitute;
            buffer[i] = result;
            if (result < minimum) minimum = result;
        }
        if (minimum > max_cost) return max_cost + 1;
    }
    return result;
}

// The closest of names[0..count) to `name`, or NULL.
static const ObjString *closest(const ObjString *name, ObjString *const *names, size_t count) {
    if (count >= MAX_CANDIDATE_ITEMS) return NULL;
    const ObjString *best = NULL;
    size_t best_distance = SIZE_MAX;
    for (size_t i = 0; i < count; i++) {
        const ObjString *item = names[i];
        if (!item || str_equal(item, name)) continue;
        size_t max_distance = (name->length + item->length + 3) * MOVE_COST / 6;
        if (best_distance - 1 < max_distance) max_distance = best_distance - 1;
        size_t d = levenshtein(name->chars, name->length, item->chars, item->length,
                               max_distance);
        if (d > max_distance) continue;
        if (!best || d < best_distance) {
            best = item;
            best_distance = d;
        }
    }
    return best;
}

static const ObjString *closest_key(VM *vm, const ObjString *name, ObjDict *d) {
    if (!d) return NULL;
    ObjString **keys = malloc(sizeof(ObjString *) * (d->count + 1));
    if (!keys) return NULL;
    size_t n = 0;
    uint32_t pos = 0;
    Value key, value;
    while (dict_next(d, &pos, &key, &value))
        if (IS_OBJ_TYPE(key, OBJ_STRING)) keys[n++] = (ObjString *)AS_OBJ(key);
    const ObjString *best = closest(name, keys, n);
    free(keys);
    return best;
}

// The suggestion CPython appends to an AttributeError or NameError line.
static const ObjString *suggestion(VM *vm, ObjException *e) {
    if (class_is_subclass(e->cls, vm->classes[CLS_ATTRIBUTE_ERROR])) {
        if (!IS_OBJ_TYPE(e->value, OBJ_TUPLE)) return NULL;
        ObjTuple *pair = (ObjTuple *)AS_OBJ(e->value);
        if (pair->length != 2 || !IS_OBJ_TYPE(pair->items[1], OBJ_STRING)) return NULL;
        ObjList *names = value_dir(vm, pair->items[0]);
        size_t n = names->length;
        ObjString **strs = malloc(sizeof(ObjString *) * (n + 1));
        if (!strs) return NULL;
        for (size_t i = 0; i < n; i++) strs[i] = (ObjString *)AS_OBJ(names->items[i]);
        const ObjString *best = closest((ObjString *)AS_OBJ(pair->items[1]), strs, n);
        free(strs);
        return best;
    }
    if (e->cls != vm->classes[CLS_NAME_ERROR] || e->trace_count == 0 || !e->args ||
        e->args->length != 1 || !IS_OBJ_TYPE(e->args->items[0], OBJ_STRING))
        return NULL;
    // The name, from "name 'x' is not defined".
    const ObjString *msg = (ObjString *)AS_OBJ(e->args->items[0]);
    static const char prefix[] = "name '", suffix[] = "' is not defined";
    size_t pl = sizeof prefix - 1, sl = sizeof suffix - 1;
    if (msg->length <= pl + sl || memcmp(msg->chars, prefix, pl) != 0 ||
        memcmp(msg->chars + msg->length - sl, suffix, sl) != 0)
        return NULL;
    ObjString *name = str_new(vm, msg->chars + pl, msg->length - pl - sl);
    const ObjCode *code = e->trace[0].code;
    const ObjString *best = code->local_names
                                ? closest(name, code->local_names, code->local_count)
                                : NULL;
    if (!best) best = closest_key(vm, name, vm->main_globals);
    if (!best) best = closest_key(vm, name, vm->builtins);
    return best;
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
    const ObjString *hint =
        IS_OBJ_TYPE(exception, OBJ_EXCEPTION) ? suggestion(vm, (ObjException *)AS_OBJ(exception))
                                              : NULL;
    if (hint) {
        strbuf_append_cstr(buf, ". Did you mean: '");
        strbuf_append(buf, hint->chars, hint->length);
        strbuf_append_cstr(buf, "'?");
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
