// runtime/gc.h - allocation and the precise mark-and-sweep collector.
// The collector runs only at safe points of the dispatch loop (every live
// value is then on a fiber stack, in a frame, a global or a loop queue), so a
// native may hold fresh objects in C locals until it returns or calls back
// into bytecode (then it must vm_push_root them).
#ifndef ASYNCRUN_GC_H
#define ASYNCRUN_GC_H

#include "runtime/vm.h"

// A zeroed object of `size` bytes with its header set, linked for the sweep.
// Never returns NULL (out of memory aborts with a message).
Obj *gc_alloc_object(VM *vm, size_t size, ObjType type);
#define ALLOC_OBJ(vm, ctype, objtype) \
    ((ctype *)gc_alloc_object((vm), sizeof(ctype), (objtype)))

// realloc for the arrays objects own (list items, dict tables...): counts
// bytes for the collector's pacing. Returns NULL when memory runs out (the
// caller raises MemoryError); new_size 0 frees and returns NULL.
void *gc_realloc(VM *vm, void *ptr, size_t old_size, size_t new_size);

void gc_collect(VM *vm);
// Watch an object that may become reportable ("never awaited", "exception
// never retrieved") if it dies in that state: every such object must be
// watched from the moment it can be reported.
void gc_watch(VM *vm, Obj *obj);
// Report every pending "never awaited" / "never retrieved" object (at exit).
void gc_report_all(VM *vm);
// Free every object (at vm_free).
void gc_free_all(VM *vm);
static inline void gc_maybe_collect(VM *vm) {
    if (vm->bytes_allocated > vm->next_gc || vm->gc_stress) gc_collect(vm);
}
// Marking helpers for roots outside the VM struct.
void gc_mark_value(VM *vm, Value value);
void gc_mark_object(VM *vm, Obj *obj);

#endif
