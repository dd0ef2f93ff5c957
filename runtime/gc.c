// runtime/gc.c - allocation and the precise mark-and-sweep collector.
// Roots: the main fiber, the builtins and modules, every class, the loops
// (their ready queues and timer heaps reach the tasks and their fibers), the
// pending exception and the natives' temporary roots.
#include "runtime/gc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexer/lex.h"
#include "runtime/async.h"
#include "runtime/containers.h"

#define GC_HEAP_GROW_PERCENT 250 // the next collection when the heap reaches 2.5x what survived
#define GC_MIN_HEAP (4u << 20)

static void out_of_memory(void) {
    fputs("asyncrun: out of memory\n", stderr);
    abort();
}

// Small objects come from per-size-class free lists carved out of 64 KiB
// blocks: the sweep frees tens of thousands of objects at once, which
// glibc's malloc handles slowly. Under AddressSanitizer every object is a
// plain malloc so use-after-free stays detectable.
#if defined(__SANITIZE_ADDRESS__)
#define USE_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define USE_POOL 0
#endif
#endif
#ifndef USE_POOL
#define USE_POOL 1
#endif

#define CLASS_GRAIN 16
#define BLOCK_SIZE (64u << 10)

typedef struct PoolBlock {
    struct PoolBlock *next;
} PoolBlock;

static size_t class_size(unsigned cls) { return (size_t)(cls + 1) * CLASS_GRAIN; }

static Obj *pool_alloc(VM *vm, unsigned cls) {
    Obj *obj = vm->free_objects[cls];
    if (obj) {
        vm->free_objects[cls] = obj->next;
        return obj;
    }
    size_t size = class_size(cls);
    PoolBlock *block = malloc(BLOCK_SIZE);
    if (!block) out_of_memory();
    block->next = vm->pool_blocks;
    vm->pool_blocks = block;
    char *start = (char *)block + CLASS_GRAIN;
    size_t count = (BLOCK_SIZE - CLASS_GRAIN) / size;
    // thread all but the first onto the free list
    for (size_t i = count - 1; i >= 1; i--) {
        Obj *o = (Obj *)(start + i * size);
        o->next = vm->free_objects[cls];
        vm->free_objects[cls] = o;
    }
    return (Obj *)start;
}

Obj *gc_alloc_object(VM *vm, size_t size, ObjType type) {
    Obj *obj;
    unsigned cls = (unsigned)((size + CLASS_GRAIN - 1) / CLASS_GRAIN) - 1;
    if (USE_POOL && cls < GC_SIZE_CLASSES) {
        obj = pool_alloc(vm, cls);
        memset(obj, 0, size);
        obj->size_class = (uint8_t)cls;
        vm->bytes_allocated += class_size(cls);
    } else {
        obj = calloc(1, size);
        if (!obj) out_of_memory();
        obj->size_class = GC_SIZE_CLASS_LARGE;
        vm->bytes_allocated += size;
    }
    obj->type = (uint8_t)type;
    obj->next = vm->objects;
    vm->objects = obj;
    return obj;
}

static void release(VM *vm, Obj *obj) {
    if (obj->size_class == GC_SIZE_CLASS_LARGE) {
        free(obj);
        return;
    }
    obj->next = vm->free_objects[obj->size_class];
    vm->free_objects[obj->size_class] = obj;
}

void *gc_realloc(VM *vm, void *ptr, size_t old_size, size_t new_size) {
    if (new_size == 0) {
        free(ptr);
        vm->bytes_allocated -= old_size < vm->bytes_allocated ? old_size : vm->bytes_allocated;
        return NULL;
    }
    void *result = realloc(ptr, new_size);
    if (!result) return NULL;
    vm->bytes_allocated += new_size;
    vm->bytes_allocated -= old_size < vm->bytes_allocated ? old_size : vm->bytes_allocated;
    return result;
}

// Append obj to a growable array of object pointers (the gray stack, the
// watch list).
static void push_obj(Obj ***items, size_t *count, size_t *capacity, Obj *obj) {
    if (*count == *capacity) {
        size_t cap = *capacity ? *capacity * 2 : 64;
        Obj **grown = realloc(*items, cap * sizeof(Obj *));
        if (!grown) out_of_memory();
        *items = grown;
        *capacity = cap;
    }
    (*items)[(*count)++] = obj;
}

void gc_mark_object(VM *vm, Obj *obj) {
    if (!obj || obj->marked) return;
    obj->marked = 1;
    push_obj(&vm->gray, &vm->gray_count, &vm->gray_capacity, obj);
}

void gc_watch(VM *vm, Obj *obj) { push_obj(&vm->watched, &vm->watched_count, &vm->watched_capacity, obj); }

void gc_mark_value(VM *vm, Value value) {
    if (IS_OBJ(value)) gc_mark_object(vm, AS_OBJ(value));
}

static void mark_values(VM *vm, const Value *values, size_t count) {
    for (size_t i = 0; i < count; i++) gc_mark_value(vm, values[i]);
}

static void mark_dict(VM *vm, ObjDict *dict) {
    for (uint32_t i = 0; i < dict->used; i++) {
        gc_mark_value(vm, dict->entries[i].key);
        gc_mark_value(vm, dict->entries[i].value);
    }
}

static void mark_fiber(VM *vm, Fiber *fiber) {
    mark_values(vm, fiber->stack, fiber->sp);
    for (uint32_t i = 0; i < fiber->frame_count; i++) {
        gc_mark_object(vm, (Obj *)fiber->frames[i].func);
        gc_mark_object(vm, (Obj *)fiber->frames[i].coro);
    }
    gc_mark_value(vm, fiber->handling);
}

static void mark_future(VM *vm, ObjFuture *fut) {
    gc_mark_object(vm, (Obj *)fut->loop);
    gc_mark_value(vm, fut->result);
    gc_mark_value(vm, fut->exception);
    gc_mark_value(vm, fut->cancel_msg);
    for (uint32_t i = 0; i < fut->callback_count; i++)
        gc_mark_value(vm, fut->callbacks[i].fn);
}

static void blacken(VM *vm, Obj *obj) {
    switch ((ObjType)obj->type) {
    case OBJ_STRING:
    case OBJ_RANGE:
        break;
    case OBJ_TUPLE: {
        ObjTuple *t = (ObjTuple *)obj;
        mark_values(vm, t->items, t->length);
        break;
    }
    case OBJ_LIST: {
        ObjList *l = (ObjList *)obj;
        mark_values(vm, l->items, l->length);
        break;
    }
    case OBJ_DICT:
        mark_dict(vm, (ObjDict *)obj);
        break;
    case OBJ_SET:
        set_mark(vm, (ObjSet *)obj);
        break;
    case OBJ_ITER: {
        ObjIter *it = (ObjIter *)obj;
        gc_mark_value(vm, it->source);
        gc_mark_value(vm, it->extra);
        break;
    }
    case OBJ_DICTVIEW:
        gc_mark_object(vm, (Obj *)((ObjDictView *)obj)->dict);
        break;
    case OBJ_CODE: {
        ObjCode *c = (ObjCode *)obj;
        mark_values(vm, c->consts, c->const_count);
        for (uint32_t i = 0; i < c->name_count; i++) gc_mark_object(vm, (Obj *)c->names[i]);
        for (uint32_t i = 0; i < c->local_count; i++) gc_mark_object(vm, (Obj *)c->local_names[i]);
        for (uint32_t i = 0; i < c->free_count; i++) gc_mark_object(vm, (Obj *)c->free_names[i]);
        gc_mark_object(vm, (Obj *)c->name);
        gc_mark_object(vm, (Obj *)c->qualname);
        gc_mark_object(vm, (Obj *)c->filename);
        gc_mark_object(vm, (Obj *)c->source);
        break;
    }
    case OBJ_FUNCTION: {
        ObjFunction *f = (ObjFunction *)obj;
        gc_mark_object(vm, (Obj *)f->owner);
        gc_mark_object(vm, (Obj *)f->code);
        gc_mark_object(vm, (Obj *)f->globals);
        gc_mark_object(vm, (Obj *)f->defaults);
        gc_mark_object(vm, (Obj *)f->kwdefaults);
        gc_mark_object(vm, (Obj *)f->name);
        if (f->free)
            for (uint32_t i = 0; i < f->code->free_count; i++) gc_mark_object(vm, (Obj *)f->free[i]);
        break;
    }
    case OBJ_CELL:
        gc_mark_value(vm, ((ObjCell *)obj)->value);
        break;
    case OBJ_NATIVE:
        gc_mark_value(vm, ((ObjNative *)obj)->self);
        break;
    case OBJ_BOUND:
        gc_mark_value(vm, ((ObjBound *)obj)->receiver);
        gc_mark_value(vm, ((ObjBound *)obj)->method);
        break;
    case OBJ_CLASS: {
        ObjClass *c = (ObjClass *)obj;
        gc_mark_object(vm, (Obj *)c->name);
        gc_mark_object(vm, (Obj *)c->base);
        gc_mark_object(vm, (Obj *)c->dict);
        break;
    }
    case OBJ_EXCEPTION: {
        ObjException *e = (ObjException *)obj;
        gc_mark_object(vm, (Obj *)e->cls);
        gc_mark_object(vm, (Obj *)e->args);
        gc_mark_value(vm, e->cause);
        gc_mark_value(vm, e->context);
        gc_mark_value(vm, e->value);
        gc_mark_object(vm, (Obj *)e->dict);
        for (uint32_t i = 0; i < e->trace_count; i++) gc_mark_object(vm, (Obj *)e->trace[i].code);
        break;
    }
    case OBJ_MODULE:
        gc_mark_object(vm, (Obj *)((ObjModule *)obj)->name);
        gc_mark_object(vm, (Obj *)((ObjModule *)obj)->dict);
        break;
    case OBJ_INSTANCE:
        gc_mark_object(vm, (Obj *)((ObjInstance *)obj)->cls);
        gc_mark_object(vm, (Obj *)((ObjInstance *)obj)->dict);
        break;
    case OBJ_COROUTINE: {
        ObjCoroutine *co = (ObjCoroutine *)obj;
        gc_mark_object(vm, (Obj *)co->func);
        gc_mark_object(vm, (Obj *)co->origin);
        if (co->state == CORO_CREATED) mark_values(vm, coroutine_locals(co), co->func->code->local_count);
        break;
    }
    case OBJ_FUTURE:
        mark_future(vm, (ObjFuture *)obj);
        break;
    case OBJ_TASK: {
        ObjTask *t = (ObjTask *)obj;
        mark_future(vm, &t->fut);
        mark_fiber(vm, &t->fiber);
        gc_mark_object(vm, t->coro);
        gc_mark_object(vm, (Obj *)t->name);
        gc_mark_object(vm, (Obj *)t->waiting_on);
        break;
    }
    case OBJ_HANDLE: {
        ObjHandle *h = (ObjHandle *)obj;
        gc_mark_value(vm, h->callback);
        mark_values(vm, handle_args(h), h->argc);
        gc_mark_object(vm, (Obj *)h->loop);
        break;
    }
    case OBJ_LOOP: {
        ObjLoop *loop = (ObjLoop *)obj;
        for (uint32_t i = 0; i < loop->ready_count; i++)
        {
            const ReadyEntry *entry = &loop->ready[(loop->ready_head + i) % loop->ready_capacity];
            gc_mark_object(vm, entry->target);
            gc_mark_object(vm, entry->arg);
        }
        for (size_t i = 0; i < loop->timers.count; i++)
            gc_mark_object(vm, (Obj *)loop->timers.items[i].target);
        for (ObjTask *t = loop_live_tasks(loop); t; t = t->next_in_loop) gc_mark_object(vm, (Obj *)t);
        gc_mark_object(vm, (Obj *)loop->current_task);
        gc_mark_value(vm, loop->exception_handler);
        break;
    }
    case OBJ_PARTIAL: {
        ObjPartial *p = (ObjPartial *)obj;
        gc_mark_value(vm, p->func);
        gc_mark_object(vm, (Obj *)p->args);
        gc_mark_object(vm, (Obj *)p->kwargs);
        break;
    }
    case OBJ_SLEEP:
        gc_mark_value(vm, ((ObjSleep *)obj)->result);
        break;
    case OBJ_SUPER:
        gc_mark_object(vm, (Obj *)((ObjSuper *)obj)->start);
        gc_mark_value(vm, ((ObjSuper *)obj)->self);
        break;
    case OBJ_SLICE: {
        ObjSlice *s = (ObjSlice *)obj;
        gc_mark_value(vm, s->start);
        gc_mark_value(vm, s->stop);
        gc_mark_value(vm, s->step);
        break;
    }
    case OBJ__COUNT:
        break;
    }
}

static void free_fiber(Fiber *fiber) {
    if (!fiber_stack_inline(fiber)) free(fiber->stack);
    if (fiber->frames != &fiber->first_frame) free(fiber->frames);
}

static void free_future(ObjFuture *fut) { future_callbacks_release(fut); }

static void free_object(VM *vm, Obj *obj) {
    switch ((ObjType)obj->type) {
    case OBJ_LIST:
        free(((ObjList *)obj)->items);
        break;
    case OBJ_DICT:
        free(((ObjDict *)obj)->entries);
        free(((ObjDict *)obj)->index);
        break;
    case OBJ_SET:
        set_free_table((ObjSet *)obj);
        break;
    case OBJ_CODE: {
        ObjCode *c = (ObjCode *)obj;
        free(c->code);
        free(c->lines);
        free(c->consts);
        free(c->names);
        free(c->global_cache);
        free(c->method_cache);
        free(c->local_names);
        free(c->cell_slots);
        free(c->free_names);
        free(c->exc_table);
        break;
    }
    case OBJ_FUNCTION:
        free(((ObjFunction *)obj)->free);
        break;
    case OBJ_EXCEPTION:
        free(((ObjException *)obj)->trace);
        break;
    case OBJ_FUTURE:
        free_future((ObjFuture *)obj);
        break;
    case OBJ_TASK:
        free_future(&((ObjTask *)obj)->fut);
        free_fiber(&((ObjTask *)obj)->fiber);
        break;
    case OBJ_LOOP:
        free(((ObjLoop *)obj)->ready);
        timerheap_free(&((ObjLoop *)obj)->timers);
        break;
    default:
        break;
    }
    release(vm, obj);
}

static void mark_roots(VM *vm) {
    mark_fiber(vm, &vm->main_fiber);
    for (int i = 0; i <= VM_MAX_NATIVE_DEPTH && vm->aux_fibers[i]; i++) mark_fiber(vm, vm->aux_fibers[i]);
    if (vm->fiber && vm->fiber != &vm->main_fiber && vm->fiber->task)
        gc_mark_object(vm, (Obj *)vm->fiber->task);
    mark_values(vm, vm->roots, vm->root_count);
    for (int i = 0; i < CLS__COUNT; i++) gc_mark_object(vm, (Obj *)vm->classes[i]);
    gc_mark_object(vm, (Obj *)vm->builtins);
    gc_mark_object(vm, (Obj *)vm->modules);
    gc_mark_object(vm, (Obj *)vm->main_globals);
    gc_mark_object(vm, (Obj *)vm->argv);
    gc_mark_object(vm, (Obj *)vm->warned);
    gc_mark_value(vm, vm->exception);
    gc_mark_object(vm, (Obj *)vm->current_loop);
    gc_mark_object(vm, (Obj *)vm->running_loop);
    gc_mark_object(vm, (Obj *)vm->s_main);
    gc_mark_object(vm, (Obj *)vm->s_name);
    gc_mark_object(vm, (Obj *)vm->s_init);
    gc_mark_object(vm, (Obj *)vm->s_empty);
    for (int i = 0; i < 128; i++) gc_mark_object(vm, (Obj *)vm->ascii_chars[i]);
}

// A dying object that CPython reports when it is destroyed: a coroutine
// never awaited, a future or task whose exception nobody retrieved.
static bool reportable(Obj *o) {
    switch (o->type) {
    case OBJ_COROUTINE:
        return ((ObjCoroutine *)o)->state == CORO_CREATED;
    case OBJ_FUTURE:
    case OBJ_TASK:
        return ((ObjFuture *)o)->log_traceback;
    default:
        return false;
    }
}

// CPython's default warning filter shows a text once per place: true the
// first time for (place, line, text).
static bool first_warning(VM *vm, ObjString *place, uint32_t line, ObjString *text) {
    if (!vm->warned) vm->warned = dict_new(vm);
    ObjTuple *key = tuple_new(vm, 3);
    key->items[0] = place ? OBJ_VAL(place) : NONE_VAL;
    key->items[1] = INT_VAL(line);
    key->items[2] = OBJ_VAL(text);
    Value seen;
    bool found = false;
    if (!dict_get(vm, vm->warned, OBJ_VAL(key), &seen, &found) || found) return false;
    dict_set(vm, vm->warned, OBJ_VAL(key), TRUE_VAL);
    return true;
}

static void report(VM *vm, Obj *o) {
    if (o->type == OBJ_COROUTINE) {
        ObjCoroutine *co = (ObjCoroutine *)o;
        co->state = CORO_DONE;
        if (!first_warning(vm, co->origin ? co->origin->filename : NULL, co->origin_line,
                           co->func->code->qualname))
            return;
        vm_flush_out(vm);
        if (co->origin) {
            fprintf(stderr, "%s:%u: RuntimeWarning: coroutine '%s' was never awaited\n", co->origin->filename->chars,
                    co->origin_line, co->func->code->qualname->chars);
            const char *line;
            size_t length;
            ObjString *src = co->origin->source;
            if (src && lex_source_line(src->chars, src->length, (int)co->origin_line, &line, &length)) {
                while (length && (*line == ' ' || *line == '\t')) line++, length--;
                while (length && (line[length - 1] == ' ' || line[length - 1] == '\r')) length--;
                fprintf(stderr, "  %.*s\n", (int)length, line);
            }
        } else {
            fprintf(stderr, "sys:1: RuntimeWarning: coroutine '%s' was never awaited\n",
                    co->func->code->qualname->chars);
        }
        fputs("RuntimeWarning: Enable tracemalloc to get the object allocation traceback\n", stderr);
        return;
    }
    ObjFuture *f = (ObjFuture *)o;
    f->log_traceback = false;
    loop_report(vm, f->loop, o->type == OBJ_TASK ? "Task exception was never retrieved"
                                                  : "Future exception was never retrieved",
                f->exception, OBJ_VAL(o));
}

void gc_report_all(VM *vm) {
    // in the order they were watched (CPython's shutdown destroys them
    // oldest first); an object watched twice is reported once
    size_t count = 0;
    for (size_t i = 0; i < vm->watched_count; i++) {
        Obj *o = vm->watched[i];
        if (o->marked || !reportable(o)) continue;
        o->marked = 1;
        vm->watched[count++] = o;
    }
    vm->watched_count = count;
    for (size_t i = 0; i < count; i++) vm->watched[i]->marked = 0;
    for (size_t i = 0; i < count; i++) report(vm, vm->watched[i]);
}

void gc_collect(VM *vm) {
    if (vm->collecting) return;
    vm->collecting = true;
    mark_roots(vm);
    while (vm->gray_count > 0) blacken(vm, vm->gray[--vm->gray_count]);
    // keep dying reportable objects for one more cycle, and report them
    // once the sweep is over (reporting may run code)
    Obj **doomed = NULL;
    size_t doomed_count = 0, doomed_capacity = 0;
    // the watched objects no longer reportable are dropped (one that
    // becomes reportable again is watched again)
    size_t kept = 0;
    for (size_t i = 0; i < vm->watched_count; i++)
        if (reportable(vm->watched[i])) vm->watched[kept++] = vm->watched[i];
    vm->watched_count = kept;
    // newest first, as the sweep meets them
    for (size_t i = vm->watched_count; i-- > 0;) {
        Obj *o = vm->watched[i];
        if (o->marked) continue;
        if (doomed_count == doomed_capacity) {
            size_t cap = doomed_capacity ? doomed_capacity * 2 : 16;
            Obj **grown = realloc(doomed, sizeof(Obj *) * cap);
            if (!grown) break;
            doomed = grown;
            doomed_capacity = cap;
        }
        doomed[doomed_count++] = o;
        gc_mark_object(vm, o);
    }
    while (vm->gray_count > 0) blacken(vm, vm->gray[--vm->gray_count]);
    str_intern_sweep(vm);
    Obj **link = &vm->objects;
    size_t live = 0, live_bytes = 0;
    while (*link) {
        Obj *obj = *link;
        if (obj->marked) {
            obj->marked = 0;
            link = &obj->next;
            live++;
            live_bytes += obj->size_class == GC_SIZE_CLASS_LARGE ? 64 : class_size(obj->size_class);
        } else {
            *link = obj->next;
            free_object(vm, obj);
        }
    }
    // Pace by the live objects' sizes (at least 64 bytes each: the arrays
    // they own are not counted).
    vm->bytes_allocated = live_bytes > live * 64 ? live_bytes : live * 64;
    vm->next_gc = vm->bytes_allocated / 100 * GC_HEAP_GROW_PERCENT;
    if (vm->next_gc < GC_MIN_HEAP) vm->next_gc = GC_MIN_HEAP;
    for (size_t i = 0; i < doomed_count; i++) vm_push_root(vm, OBJ_VAL(doomed[i]));
    for (size_t i = 0; i < doomed_count; i++) report(vm, doomed[i]);
    vm_pop_roots(vm, doomed_count);
    free(doomed);
    vm->collecting = false;
}

void gc_free_all(VM *vm) {
    Obj *obj = vm->objects;
    while (obj) {
        Obj *next = obj->next;
        free_object(vm, obj);
        obj = next;
    }
    vm->objects = NULL;
    free(vm->gray);
    vm->gray = NULL;
    free(vm->watched);
    vm->watched = NULL;
    vm->watched_count = vm->watched_capacity = 0;
    PoolBlock *block = vm->pool_blocks;
    while (block) {
        PoolBlock *next = block->next;
        free(block);
        block = next;
    }
    vm->pool_blocks = NULL;
}
