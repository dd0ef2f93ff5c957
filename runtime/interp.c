// runtime/interp.c - the dispatch loop, calls and argument binding.
// ip, slots and sp live in C locals; they are stored to the frame and fiber
// (STORE_FRAME) before anything that can raise, allocate a frame, run other
// bytecode or switch fibers. A call pushes a frame and keeps dispatching:
// bytecode never recurses in C. The collector runs only at calls and
// backward jumps, with the frame stored.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/async.h"
#include "runtime/classes.h"
#include "runtime/code.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/ops.h"


void fiber_init(Fiber *fiber) {
    memset(fiber, 0, sizeof(*fiber));
    fiber->handling = NONE_VAL;
}

static bool ensure_stack(VM *vm, Fiber *fiber, uint32_t needed) {
    if (needed <= fiber->stack_capacity) return true;
    // a new fiber gets exactly what its entry code needs (most tasks never
    // grow); after that, doubling
    uint32_t cap = fiber->stack_capacity ? fiber->stack_capacity * 2 : needed;
    while (cap < needed) cap *= 2;
    Value *stack;
    if (fiber_stack_inline(fiber)) {
        stack = malloc(cap * sizeof(Value));
        if (stack) memcpy(stack, fiber->stack, fiber->stack_capacity * sizeof(Value));
    } else {
        stack = realloc(fiber->stack, cap * sizeof(Value));
    }
    if (!stack) return vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
    fiber->stack = stack;
    fiber->stack_capacity = cap;
    return true;
}

void fiber_trim_stack(Fiber *fiber) {
    if (fiber->stack_capacity < 4096 || fiber_stack_inline(fiber) || !fiber->frame_count) return;
    const Frame *top = &fiber->frames[fiber->frame_count - 1];
    uint32_t need = top->base + top->func->code->max_stack;
    if (need < fiber->sp) need = fiber->sp;
    if (need >= fiber->stack_capacity / 4) return;
    uint32_t cap = need * 2;
    Value *stack = realloc(fiber->stack, cap * sizeof(Value));
    if (!stack) return; // keep the bigger one
    fiber->stack = stack;
    fiber->stack_capacity = cap;
}

static Frame *push_frame(VM *vm, Fiber *fiber, ObjFunction *fn, uint32_t base) {
    if (fiber->frame_count >= (uint32_t)vm->recursion_limit) {
        vm_raise(vm, CLS_RECURSION_ERROR, "maximum recursion depth exceeded");
        return NULL;
    }
    if (fiber->frame_count == fiber->frame_capacity) {
        if (!fiber->frames) {
            // the first frame lives inside the fiber
            fiber->frames = &fiber->first_frame;
            fiber->frame_capacity = 1;
        } else {
            uint32_t cap = fiber->frame_capacity * 2;
            bool inline_frames = fiber->frames == &fiber->first_frame;
            Frame *frames = realloc(inline_frames ? NULL : fiber->frames, cap * sizeof(Frame));
            if (!frames) {
                vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
                return NULL;
            }
            if (inline_frames) frames[0] = fiber->first_frame;
            fiber->frames = frames;
            fiber->frame_capacity = cap;
        }
    }
    Frame *frame = &fiber->frames[fiber->frame_count++];
    frame->func = fn;
    frame->ip = fn->code->code;
    frame->base = base;
    frame->flags = 0;
    frame->coro = NULL;
    return frame;
}

// ---- argument binding --------------------------------------------------------

static const char *fn_name(ObjFunction *fn) { return fn->code->qualname->chars; }

static void list_names(StrBuf *buf, ObjString **names, int count) {
    for (int i = 0; i < count; i++) {
        if (i > 0) strbuf_append_cstr(buf, count == 2 ? " and " : (i == count - 1 ? ", and " : ", "));
        strbuf_printf(buf, "'%s'", names[i]->chars);
    }
}

static bool missing_error(VM *vm, ObjFunction *fn, ObjString **names, int count, bool kwonly) {
    StrBuf buf;
    strbuf_init(&buf);
    list_names(&buf, names, count);
    vm_raise(vm, CLS_TYPE_ERROR, "%s() missing %d required %s argument%s: %s", fn_name(fn), count,
             kwonly ? "keyword-only" : "positional", count == 1 ? "" : "s", buf.chars);
    strbuf_free(&buf);
    return false;
}

static bool too_many_positional(VM *vm, ObjFunction *fn, int given, int kw_given) {
    ObjCode *code = fn->code;
    int max = code->param_count;
    int ndefaults = fn->defaults ? (int)fn->defaults->length : 0;
    int min = max - ndefaults;
    char takes[64];
    if (min == max) snprintf(takes, sizeof takes, "%d positional argument%s", max, max == 1 ? "" : "s");
    else snprintf(takes, sizeof takes, "from %d to %d positional arguments", min, max);
    char kwpart[96] = "";
    if (kw_given > 0)
        snprintf(kwpart, sizeof kwpart, " positional argument%s (and %d keyword-only argument%s)",
                 given == 1 ? "" : "s", kw_given, kw_given == 1 ? "" : "s");
    return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes %s but %d%s %s given", fn_name(fn), takes, given,
                    kwpart[0] ? kwpart : "", given == 1 && !kwpart[0] ? "was" : "were");
}

// Bind args (argc positional, then one value per kwnames entry) into
// slots[0..local_count) for fn. args must not overlap slots.
static bool bind_args(VM *vm, ObjFunction *fn, Value *args, int argc, ObjTuple *kwnames,
                      Value *slots) {
    ObjCode *code = fn->code;
    int nparams = code->param_count;
    int nkwonly = code->kwonly_count;
    int varargs_slot = (code->flags & CODE_VARARGS) ? nparams + nkwonly : -1;
    int varkw_slot = (code->flags & CODE_VARKW) ? nparams + nkwonly + (varargs_slot >= 0) : -1;
    for (int i = 0; i < code->local_count; i++) slots[i] = EMPTY_VAL;

    int npos = argc < nparams ? argc : nparams;
    for (int i = 0; i < npos; i++) slots[i] = args[i];
    if (argc > nparams) {
        if (varargs_slot < 0) {
            int kw_given = 0;
            if (kwnames)
                for (uint32_t k = 0; k < kwnames->length; k++)
                    for (int j = nparams; j < nparams + nkwonly; j++)
                        if (code->local_names[j] == (ObjString *)AS_OBJ(kwnames->items[k])) kw_given++;
            return too_many_positional(vm, fn, argc, kw_given);
        }
        slots[varargs_slot] = OBJ_VAL(tuple_from(vm, args + nparams, (uint32_t)(argc - nparams)));
    } else if (varargs_slot >= 0) {
        slots[varargs_slot] = OBJ_VAL(tuple_new(vm, 0));
    }
    ObjDict *varkw = NULL;
    if (varkw_slot >= 0) {
        varkw = dict_new(vm);
        slots[varkw_slot] = OBJ_VAL(varkw);
    }
    if (kwnames) {
        for (uint32_t k = 0; k < kwnames->length; k++) {
            ObjString *name = (ObjString *)AS_OBJ(kwnames->items[k]);
            Value value = args[argc + (int)k];
            int slot = -1;
            for (int j = 0; j < nparams + nkwonly; j++) {
                ObjString *pname = code->local_names[j];
                if (pname == name || str_equal(pname, name)) {
                    slot = j;
                    break;
                }
            }
            if (slot < 0) {
                if (!varkw)
                    return vm_raise(vm, CLS_TYPE_ERROR, "%s() got an unexpected keyword argument '%s'",
                                    fn_name(fn), name->chars);
                if (dict_find_str(varkw, name))
                    return vm_raise(vm, CLS_TYPE_ERROR, "%s() got multiple values for keyword argument '%s'",
                                    fn_name(fn), name->chars);
                dict_set_str(vm, varkw, name, value);
                continue;
            }
            if (!IS_EMPTY(slots[slot]))
                return vm_raise(vm, CLS_TYPE_ERROR, "%s() got multiple values for argument '%s'",
                                fn_name(fn), name->chars);
            slots[slot] = value;
        }
    }
    // Defaults for missing positional parameters.
    int ndefaults = fn->defaults ? (int)fn->defaults->length : 0;
    ObjString *missing[64];
    int nmissing = 0;
    for (int i = 0; i < nparams; i++) {
        if (!IS_EMPTY(slots[i])) continue;
        int d = i - (nparams - ndefaults);
        if (d >= 0) slots[i] = fn->defaults->items[d];
        else if (nmissing < 64) missing[nmissing++] = code->local_names[i];
    }
    if (nmissing) return missing_error(vm, fn, missing, nmissing, false);
    for (int i = nparams; i < nparams + nkwonly; i++) {
        if (!IS_EMPTY(slots[i])) continue;
        Value *def = fn->kwdefaults ? dict_find_str(fn->kwdefaults, code->local_names[i]) : NULL;
        if (def) slots[i] = *def;
        else if (nmissing < 64) missing[nmissing++] = code->local_names[i];
    }
    if (nmissing) return missing_error(vm, fn, missing, nmissing, true);
    return true;
}

static inline bool simple_call(const ObjCode *code, int argc, ObjTuple *kwnames) {
    return argc == code->plain_argc && !kwnames;
}

// Push a frame for fn whose callee sits at stack[at] with its arguments above.
static Frame *push_function_frame(VM *vm, Fiber *fiber, ObjFunction *fn, uint32_t at, int argc,
                                  ObjTuple *kwnames) {
    ObjCode *code = fn->code;
    uint32_t base = at + 1;
    if (!ensure_stack(vm, fiber, base + code->max_stack)) return NULL;
    Value *slots = fiber->stack + base;
    if (simple_call(code, argc, kwnames)) {
        for (int i = argc; i < code->local_count; i++) slots[i] = EMPTY_VAL;
    } else {
        int total = argc + (kwnames ? (int)kwnames->length : 0);
        Value small[16];
        Value *copy = total <= 16 ? small : malloc(sizeof(Value) * (size_t)total);
        if (!copy) {
            vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
            return NULL;
        }
        memcpy(copy, slots, sizeof(Value) * (size_t)total);
        bool ok = bind_args(vm, fn, copy, argc, kwnames, slots);
        if (copy != small) free(copy);
        if (!ok) return NULL;
    }
    Frame *frame = push_frame(vm, fiber, fn, base);
    if (!frame) return NULL;
    fiber->sp = base + code->local_count;
    return frame;
}

static ObjCoroutine *coroutine_new(VM *vm, ObjFunction *fn, Value *args, int argc, ObjTuple *kwnames) {
    ObjCode *code = fn->code;
    ObjCoroutine *co = (ObjCoroutine *)gc_alloc_object(
        vm, sizeof(ObjCoroutine) + sizeof(Value) * code->local_count, OBJ_COROUTINE);
    co->func = fn;
    co->state = CORO_DONE; // not "never awaited" if binding fails
    if (!bind_args(vm, fn, args, argc, kwnames, coroutine_locals(co))) return NULL;
    co->state = CORO_CREATED;
    gc_watch(vm, (Obj *)co);
    Fiber *f = vm->fiber;
    if (f && f->frame_count) {
        Frame *top = &f->frames[f->frame_count - 1];
        co->origin = top->func->code;
        co->origin_line = (uint32_t)code_line(co->origin, (uint32_t)(top->ip - co->origin->code) - 1);
    }
    return co;
}

// coroutine.close(): one never started is closed (and so never reported as
// not awaited); one that finished is left alone. Closing a suspended one
// would throw GeneratorExit into it, which asyncrun does not do.
static bool m_coroutine_close(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!native_arity(vm, "close", argc - 1, 0, 0)) return false;
    if (!IS_OBJ_TYPE(args[0], OBJ_COROUTINE))
        return vm_raise(vm, CLS_TYPE_ERROR, "descriptor 'close' requires a 'coroutine' object");
    ObjCoroutine *co = (ObjCoroutine *)AS_OBJ(args[0]);
    if (co->state == CORO_RUNNING)
        return vm_raise(vm, CLS_RUNTIME_ERROR, "closing a suspended coroutine is not supported in asyncrun");
    if (co->state == CORO_CREATED) {
        co->state = CORO_DONE;
    }
    *out = NONE_VAL;
    return true;
}

void coroutine_init_class(VM *vm, ObjClass *cls) { class_add_method(vm, cls, "close", m_coroutine_close, false); }

// Push the frame of a not-yet-started coroutine whose object sits at stack[at].
static Frame *push_coroutine_frame(VM *vm, Fiber *fiber, ObjCoroutine *co, uint32_t at) {
    ObjCode *code = co->func->code;
    uint32_t base = at + 1;
    if (!ensure_stack(vm, fiber, base + code->max_stack)) return NULL;
    fiber->stack[at] = OBJ_VAL(co->func);
    memcpy(fiber->stack + base, coroutine_locals(co), sizeof(Value) * code->local_count);
    Frame *frame = push_frame(vm, fiber, co->func, base);
    if (!frame) return NULL;
    frame->coro = co;
    co->state = CORO_RUNNING;
    fiber->sp = base + code->local_count;
    return frame;
}

uint32_t interp_start_stack_need(const ObjCoroutine *co) { return co->func->code->max_stack + 1u; }

bool interp_start_coroutine(VM *vm, Fiber *fiber, ObjCoroutine *co) {
    if (co->state != CORO_CREATED)
        return vm_raise(vm, CLS_RUNTIME_ERROR, "cannot reuse already awaited coroutine");
    // the coroutine, then its frame (push_coroutine_frame): one allocation
    if (!ensure_stack(vm, fiber, fiber->sp + interp_start_stack_need(co))) return false;
    uint32_t at = fiber->sp;
    fiber->stack[fiber->sp++] = OBJ_VAL(co);
    Frame *frame = push_coroutine_frame(vm, fiber, co, at);
    if (!frame) return false;
    frame->flags |= FRAME_STOP;
    return true;
}

typedef enum { CALL_DONE, CALL_FRAME, CALL_FRAME_AWAITED, CALL_SUSPENDED, CALL_ERROR } CallOutcome;

// Call the callee at stack[at] with argc positional arguments and one value
// per kwnames entry above it (fiber->sp is just past them). CALL_DONE leaves
// the result at stack[at] with sp = at + 1; CALL_FRAME pushed a frame.
// With await_next (an AWAIT follows), an async function's frame is pushed
// without a coroutine object (CALL_FRAME_AWAITED) and asyncio.sleep parks
// the task without a sleep object (CALL_SUSPENDED, sp = at).
static CallOutcome call_value(VM *vm, Fiber *fiber, uint32_t at, int argc, ObjTuple *kwnames,
                              bool await_next) {
    for (;;) {
        Value callee = fiber->stack[at];
        Value *args = fiber->stack + at + 1;
        if (!IS_OBJ(callee)) break;
        switch (OBJ_TYPE(callee)) {
        case OBJ_FUNCTION: {
            ObjFunction *fn = (ObjFunction *)AS_OBJ(callee);
            if ((fn->code->flags & CODE_ASYNC) && !await_next) {
                ObjCoroutine *co = coroutine_new(vm, fn, args, argc, kwnames);
                if (!co) return CALL_ERROR;
                fiber->stack[at] = OBJ_VAL(co);
                fiber->sp = at + 1;
                return CALL_DONE;
            }
            if (!push_function_frame(vm, fiber, fn, at, argc, kwnames)) return CALL_ERROR;
            return (fn->code->flags & CODE_ASYNC) ? CALL_FRAME_AWAITED : CALL_FRAME;
        }
        case OBJ_NATIVE: {
            ObjNative *native = (ObjNative *)AS_OBJ(callee);
            if (native->fn == asyncio_sleep && await_next && fiber->task) {
                double delay;
                Value result;
                if (!asyncio_sleep_args(vm, args, argc, kwnames, &delay, &result)) return CALL_ERROR;
                fiber->sp = at;
                return task_sleep(vm, fiber->task, delay, result) ? CALL_SUSPENDED : CALL_ERROR;
            }
            if (kwnames && kwnames->length && !native->takes_kwargs) {
                vm_raise(vm, CLS_TYPE_ERROR, "%s() takes no keyword arguments", native->name);
                return CALL_ERROR;
            }
            Value result = NONE_VAL;
            if (!native->fn(vm, args, argc, kwnames, &result)) return CALL_ERROR;
            fiber->stack[at] = result;
            fiber->sp = at + 1;
            return CALL_DONE;
        }
        case OBJ_CLASS: {
            ObjClass *cls = (ObjClass *)AS_OBJ(callee);
            ObjClass *c = cls;
            while (c && !c->construct) c = c->base;
            if (!c) {
                vm_raise(vm, CLS_TYPE_ERROR, "cannot create '%s' instances", cls->name->chars);
                return CALL_ERROR;
            }
            Value result = NONE_VAL;
            if (!c->construct(vm, fiber->stack + at, argc + 1, kwnames, &result)) return CALL_ERROR;
            fiber->stack[at] = result;
            fiber->sp = at + 1;
            return CALL_DONE;
        }
        case OBJ_BOUND: {
            ObjBound *bound = (ObjBound *)AS_OBJ(callee);
            int nkw = kwnames ? (int)kwnames->length : 0;
            if (!ensure_stack(vm, fiber, fiber->sp + 1)) return CALL_ERROR;
            Value *base = fiber->stack + at + 1;
            memmove(base + 1, base, sizeof(Value) * (size_t)(argc + nkw));
            fiber->stack[at] = bound->method;
            base[0] = bound->receiver;
            fiber->sp++;
            argc++;
            continue;
        }
        case OBJ_PARTIAL: {
            Value result = NONE_VAL;
            if (!partial_call(vm, (ObjPartial *)AS_OBJ(callee), args, argc, kwnames, &result))
                return CALL_ERROR;
            fiber->stack[at] = result;
            fiber->sp = at + 1;
            return CALL_DONE;
        }
        case OBJ_INSTANCE: {
            // an instance whose class defines __call__: call it with self first
            ObjClass *cls = ((ObjInstance *)AS_OBJ(callee))->cls;
            Value *method = class_is_user(cls) ? class_lookup(cls, str_intern(vm, "__call__", 8)) : NULL;
            if (!method) break;
            int nkw = kwnames ? (int)kwnames->length : 0;
            if (!ensure_stack(vm, fiber, fiber->sp + 1)) return CALL_ERROR;
            Value *base = fiber->stack + at + 1;
            memmove(base + 1, base, sizeof(Value) * (size_t)(argc + nkw));
            base[0] = callee;
            fiber->stack[at] = *method;
            fiber->sp++;
            argc++;
            continue;
        }
        default:
            break;
        }
        break;
    }
    vm_raise(vm, CLS_TYPE_ERROR, "'%s' object is not callable", value_type_name(vm, fiber->stack[at]));
    return CALL_ERROR;
}

// ---- calls from C ------------------------------------------------------------

static Fiber *aux_fiber(VM *vm, int depth) {
    if (!vm->aux_fibers[depth]) {
        Fiber *fiber = malloc(sizeof(Fiber));
        if (!fiber) return NULL;
        fiber_init(fiber);
        vm->aux_fibers[depth] = fiber;
    }
    return vm->aux_fibers[depth];
}

static bool burn_fuel(VM *vm);

bool vm_call(VM *vm, Value callee, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!burn_fuel(vm)) return false;
    if (IS_OBJ_TYPE(callee, OBJ_BOUND) && IS_OBJ_TYPE(((ObjBound *)AS_OBJ(callee))->method, OBJ_NATIVE) &&
        !kwnames && argc < 8) {
        ObjBound *bound = (ObjBound *)AS_OBJ(callee);
        Value with_self[8];
        with_self[0] = bound->receiver;
        if (argc > 0) memcpy(with_self + 1, args, sizeof(Value) * (size_t)argc);
        return vm_call(vm, bound->method, with_self, argc + 1, NULL, out);
    }
    if (IS_OBJ(callee) && OBJ_TYPE(callee) == OBJ_NATIVE) {
        ObjNative *native = (ObjNative *)AS_OBJ(callee);
        if (kwnames && kwnames->length && !native->takes_kwargs)
            return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes no keyword arguments", native->name);
        *out = NONE_VAL;
        return native->fn(vm, args, argc, kwnames, out);
    }
    if (vm->native_depth >= VM_MAX_NATIVE_DEPTH)
        return vm_raise(vm, CLS_RECURSION_ERROR, "maximum recursion depth exceeded");
    Fiber *fiber = aux_fiber(vm, vm->native_depth);
    if (!fiber) return vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
    int nkw = kwnames ? (int)kwnames->length : 0;
    uint32_t at = fiber->sp;
    if (!ensure_stack(vm, fiber, at + 2 + (uint32_t)(argc + nkw))) return false;
    fiber->stack[at] = callee;
    if (argc + nkw > 0) memcpy(fiber->stack + at + 1, args, sizeof(Value) * (size_t)(argc + nkw));
    fiber->sp = at + 1 + (uint32_t)(argc + nkw);
    vm->native_depth++;
    bool ok = true;
    // a plain function's frame goes straight on; anything else through call_value
    ObjFunction *fn = IS_OBJ_TYPE(callee, OBJ_FUNCTION) ? (ObjFunction *)AS_OBJ(callee) : NULL;
    CallOutcome outcome;
    if (fn && !(fn->code->flags & CODE_ASYNC))
        outcome = push_function_frame(vm, fiber, fn, at, argc, kwnames) ? CALL_FRAME : CALL_ERROR;
    else
        outcome = call_value(vm, fiber, at, argc, kwnames, false);
    if (outcome == CALL_FRAME || outcome == CALL_FRAME_AWAITED) {
        fiber->frames[fiber->frame_count - 1].flags |= FRAME_STOP;
        RunResult r = interp_run(vm, fiber);
        if (r == RUN_RETURN) *out = fiber->stack[fiber->sp - 1];
        else if (r == RUN_SUSPEND) ok = vm_raise(vm, CLS_RUNTIME_ERROR, "cannot suspend inside a callback called from native code");
        else ok = false;
    } else if (outcome == CALL_DONE) {
        *out = fiber->stack[at];
    } else {
        ok = false;
    }
    fiber->sp = at;
    vm->native_depth--;
    return ok;
}

bool vm_run_module(VM *vm, ObjCode *code, ObjDict *globals) {
    Fiber *fiber = &vm->main_fiber;
    ObjFunction *fn = ALLOC_OBJ(vm, ObjFunction, OBJ_FUNCTION);
    fn->code = code;
    fn->globals = globals;
    fn->name = code->name;
    uint32_t at = fiber->sp;
    if (!ensure_stack(vm, fiber, at + 1)) return false;
    fiber->stack[fiber->sp++] = OBJ_VAL(fn);
    Frame *frame = push_function_frame(vm, fiber, fn, at, 0, NULL);
    if (!frame) {
        fiber->sp = at;
        return false;
    }
    frame->flags |= FRAME_STOP;
    RunResult r = interp_run(vm, fiber);
    fiber->sp = at;
    return r == RUN_RETURN;
}

// A loop callback that runs synchronous REPL input: [function, future].
static bool run_input_callback(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjList *job = (ObjList *)AS_OBJ(args[0]);
    ObjFuture *done = (ObjFuture *)AS_OBJ(job->items[1]);
    Value result;
    *out = NONE_VAL;
    if (vm_call(vm, job->items[0], NULL, 0, NULL, &result)) return future_set_result(vm, done, result);
    Value exc = vm->exception;
    if (exception_matches(vm, exc, CLS_KEYBOARD_INTERRUPT) || exception_matches(vm, exc, CLS_SYSTEM_EXIT))
        return false; // stops the loop, as in a task
    vm->exception = EMPTY_VAL;
    return future_set_exception(vm, done, exc);
}

bool vm_run_interactive(VM *vm, ObjCode *code, ObjDict *globals) {
    // As python3 -m asyncio: every input runs on the session's event loop,
    // so get_running_loop() and create_task() work and tasks made by earlier
    // inputs run while a later one waits. Input that awaits runs as a task;
    // the rest runs as a callback (no current task, no Task-N number used).
    Value loop_v;
    if (!asyncio_get_event_loop(vm, &loop_v)) return false;
    ObjLoop *loop = (ObjLoop *)AS_OBJ(loop_v);
    if (loop->running || loop->closed) return vm_run_module(vm, code, globals);
    ObjFunction *fn = ALLOC_OBJ(vm, ObjFunction, OBJ_FUNCTION);
    fn->code = code;
    fn->globals = globals;
    fn->name = code->name;
    vm_push_root(vm, OBJ_VAL(fn));
    ObjFuture *target;
    if (code->flags & CODE_ASYNC) {
        ObjCoroutine *co = coroutine_new(vm, fn, NULL, 0, NULL);
        if (!co) {
            vm_pop_roots(vm, 1);
            return false;
        }
        target = (ObjFuture *)task_new(vm, loop, OBJ_VAL(co), NULL);
    } else {
        target = future_new(vm, loop);
        ObjList *job = list_new(vm, 2);
        list_append(vm, job, OBJ_VAL(fn));
        list_append(vm, job, OBJ_VAL(target));
        ObjBound *cb = ALLOC_OBJ(vm, ObjBound, OBJ_BOUND);
        cb->receiver = OBJ_VAL(job);
        cb->method = OBJ_VAL(native_new(vm, "<input>", run_input_callback, false));
        loop_call_soon(vm, loop, OBJ_VAL(cb), NULL, 0);
    }
    vm_push_root(vm, OBJ_VAL(target));
    Value ignored;
    bool ok = loop_run_until_complete(vm, loop, OBJ_VAL(target), &ignored);
    if (!ok && !future_done(target)) {
        // interrupted (Ctrl-C): cancel the input's task and let it finish,
        // running its finally blocks, as python3 -m asyncio does
        Value exc = vm->exception;
        vm->exception = EMPTY_VAL;
        vm_push_root(vm, exc);
        future_cancel(vm, target, NONE_VAL);
        if (!loop_run_until_complete(vm, loop, OBJ_VAL(target), &ignored)) vm->exception = EMPTY_VAL;
        vm_pop_roots(vm, 1);
        vm->exception = exc;
    }
    vm_pop_roots(vm, 2);
    return ok;
}

// ---- helpers for instructions ---------------------------------------------

// Called at calls and backward jumps when fuel is metered (fuzzing).
// Once spent the budget stays spent (0): every later call or loop raises
// again, so a program that catches the error still ends.
static bool burn_fuel(VM *vm) {
    if (vm->fuel < 0) return true;
    if (vm->fuel > 0) {
        vm->fuel--;
        return true;
    }
    return vm_raise(vm, CLS_RUNTIME_ERROR, "instruction budget exhausted");
}

// How CPython names a callable in call errors: "__main__.f()", "print()".
static void function_str(VM *vm, Value func, char *out, size_t size) {
    if (IS_OBJ_TYPE(func, OBJ_FUNCTION)) {
        ObjFunction *fn = (ObjFunction *)AS_OBJ(func);
        Value *module = dict_find_str(fn->globals, vm->s_name);
        if (module && IS_OBJ_TYPE(*module, OBJ_STRING) &&
            strcmp(((ObjString *)AS_OBJ(*module))->chars, "builtins") != 0)
            snprintf(out, size, "%s.%s()", ((ObjString *)AS_OBJ(*module))->chars, fn->code->qualname->chars);
        else
            snprintf(out, size, "%s()", fn->code->qualname->chars);
    } else if (IS_OBJ_TYPE(func, OBJ_NATIVE)) {
        snprintf(out, size, "%s()", ((ObjNative *)AS_OBJ(func))->name);
    } else if (IS_OBJ_TYPE(func, OBJ_BOUND)) {
        function_str(vm, ((ObjBound *)AS_OBJ(func))->method, out, size);
    } else if (IS_OBJ_TYPE(func, OBJ_CLASS)) {
        snprintf(out, size, "%s()", ((ObjClass *)AS_OBJ(func))->name->chars);
    } else {
        snprintf(out, size, "%s object", value_type_name(vm, func));
    }
}

// The truth of v, calling a user class's __bool__ or __len__: 1, 0, -1 error.
static int instance_truth(VM *vm, Value v) {
    Value r;
    int k = instance_special(vm, v, "__bool__", NULL, 0, &r);
    if (k > 0 && !IS_BOOL(r)) {
        vm_raise(vm, CLS_TYPE_ERROR, "__bool__ should return bool, returned %s", value_type_name(vm, r));
        return -1;
    }
    if (k == 0) {
        k = instance_special(vm, v, "__len__", NULL, 0, &r);
        if (k > 0 && !IS_INTLIKE(r)) {
            vm_raise(vm, CLS_TYPE_ERROR, "'%s' object cannot be interpreted as an integer", value_type_name(vm, r));
            return -1;
        }
    }
    if (k < 0) return -1;
    return k == 0 ? 1 : AS_INT(r) != 0;
}

int value_truth(VM *vm, Value v) {
    if (IS_OBJ_TYPE(v, OBJ_INSTANCE)) return instance_truth(vm, v);
    return value_truthy(v);
}

static bool raise_interrupt(VM *vm) {
    vm_interrupt = 0;
    ObjClass *cls = vm->classes[CLS_KEYBOARD_INTERRUPT];
    return vm_raise_value(vm, OBJ_VAL(exception_new(vm, cls, tuple_new(vm, 0))));
}

static void add_trace(VM *vm, Value exc, ObjCode *code, uint32_t at) {
    if (!IS_OBJ_TYPE(exc, OBJ_EXCEPTION)) return;
    ObjException *e = (ObjException *)AS_OBJ(exc);
    if (e->trace_count == e->trace_capacity) {
        uint32_t cap = e->trace_capacity ? e->trace_capacity * 2 : 8;
        TraceEntry *trace = realloc(e->trace, cap * sizeof(TraceEntry));
        if (!trace) return;
        e->trace = trace;
        e->trace_capacity = cap;
    }
    e->trace[e->trace_count++] = (TraceEntry){code, (uint32_t)code_line(code, at)};
}

static const ExcEntry *find_handler(const ObjCode *code, uint32_t at) {
    for (uint32_t i = 0; i < code->exc_count; i++) {
        const ExcEntry *e = &code->exc_table[i];
        if (at >= e->start && at < e->end) return e;
    }
    return NULL;
}

static bool unpack(VM *vm, Value seq, uint32_t count, Value *dest) {
    // dest receives the items in reverse order (the first ends on top).
    const Value *items;
    uint32_t length;
    ObjList *list = NULL;
    if (IS_OBJ_TYPE(seq, OBJ_TUPLE)) {
        items = ((ObjTuple *)AS_OBJ(seq))->items;
        length = ((ObjTuple *)AS_OBJ(seq))->length;
    } else if (IS_OBJ_TYPE(seq, OBJ_LIST)) {
        items = ((ObjList *)AS_OBJ(seq))->items;
        length = ((ObjList *)AS_OBJ(seq))->length;
    } else {
        list = value_to_list(vm, seq);
        if (!list) {
            if (exception_matches(vm, vm->exception, CLS_TYPE_ERROR) && !IS_OBJ_TYPE(seq, OBJ_ITER))
                return vm_raise(vm, CLS_TYPE_ERROR, "cannot unpack non-iterable %s object",
                                value_type_name(vm, seq));
            return false;
        }
        items = list->items;
        length = list->length;
    }
    if (length < count)
        return vm_raise(vm, CLS_VALUE_ERROR, "not enough values to unpack (expected %u, got %u)", count, length);
    if (length > count)
        return vm_raise(vm, CLS_VALUE_ERROR, "too many values to unpack (expected %u)", count);
    for (uint32_t i = 0; i < count; i++) dest[i] = items[count - 1 - i];
    return true;
}

static bool check_exc_match(VM *vm, Value exc, Value type, bool *out) {
    if (IS_OBJ_TYPE(type, OBJ_TUPLE)) {
        ObjTuple *t = (ObjTuple *)AS_OBJ(type);
        for (uint32_t i = 0; i < t->length; i++) {
            if (!check_exc_match(vm, exc, t->items[i], out)) return false;
            if (*out) return true;
        }
        *out = false;
        return true;
    }
    if (!IS_OBJ_TYPE(type, OBJ_CLASS) ||
        !class_is_subclass((ObjClass *)AS_OBJ(type), vm->classes[CLS_BASE_EXCEPTION]))
        return vm_raise(vm, CLS_TYPE_ERROR, "catching classes that do not inherit from BaseException is not allowed");
    *out = class_is_subclass(value_class(vm, exc), (ObjClass *)AS_OBJ(type));
    return true;
}

// Turn `raise X` operands into an exception instance.
static bool make_exception(VM *vm, Value v, Value *out) {
    if (IS_OBJ_TYPE(v, OBJ_CLASS) &&
        class_is_subclass((ObjClass *)AS_OBJ(v), vm->classes[CLS_BASE_EXCEPTION])) {
        if (!vm_call(vm, v, NULL, 0, NULL, out)) return false;
        if (IS_OBJ_TYPE(*out, OBJ_EXCEPTION)) return true;
    } else if (IS_OBJ_TYPE(v, OBJ_EXCEPTION)) {
        *out = v;
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "exceptions must derive from BaseException");
}

static bool build_function(VM *vm, Frame *frame, uint32_t flags, Value *sp, Value *out) {
    ObjCode *code = (ObjCode *)AS_OBJ(sp[-1]);
    Value *operand = sp - 1;
    ObjFunction *fn = ALLOC_OBJ(vm, ObjFunction, OBJ_FUNCTION);
    fn->code = code;
    fn->globals = frame->func->globals;
    fn->name = code->name;
    if (flags & MF_CLOSURE) {
        ObjTuple *cells = (ObjTuple *)AS_OBJ(*--operand);
        fn->free = malloc(sizeof(ObjCell *) * (cells->length ? cells->length : 1));
        if (!fn->free) return vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
        for (uint32_t i = 0; i < cells->length; i++) fn->free[i] = (ObjCell *)AS_OBJ(cells->items[i]);
    }
    if (flags & MF_KWDEFAULTS) fn->kwdefaults = (ObjDict *)AS_OBJ(*--operand);
    if (flags & MF_DEFAULTS) fn->defaults = (ObjTuple *)AS_OBJ(*--operand);
    *out = OBJ_VAL(fn);
    return true;
}

static bool build_string(VM *vm, Value *items, uint32_t count, Value *out) {
    size_t total = 0;
    for (uint32_t i = 0; i < count; i++) total += ((ObjString *)AS_OBJ(items[i]))->length;
    char *chars = malloc(total + 1);
    if (!chars) return vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
    size_t at = 0;
    for (uint32_t i = 0; i < count; i++) {
        ObjString *s = (ObjString *)AS_OBJ(items[i]);
        memcpy(chars + at, s->chars, s->length);
        at += s->length;
    }
    chars[total] = '\0';
    *out = OBJ_VAL(str_take(vm, chars, total));
    return true;
}

static bool format_value(VM *vm, uint32_t flags, Value v, Value spec, Value *out) {
    int conv = flags & FMT_CONV_MASK;
    if (conv == FMT_STR || conv == FMT_REPR || conv == FMT_ASCII) {
        ObjString *s = conv == FMT_STR ? value_to_str(vm, v)
                       : conv == FMT_ASCII ? value_to_ascii(vm, v) : value_to_repr(vm, v);
        if (!s) return false;
        v = OBJ_VAL(s);
    }
    if (!(flags & FMT_HAS_SPEC) && IS_OBJ_TYPE(v, OBJ_STRING)) {
        *out = v;
        return true;
    }
    if (!(flags & FMT_HAS_SPEC) && IS_INT(v)) {
        *out = OBJ_VAL(int_to_str(vm, AS_INT(v)));
        return true;
    }
    StrBuf buf;
    strbuf_init(&buf);
    ObjString *spec_str = (flags & FMT_HAS_SPEC) ? (ObjString *)AS_OBJ(spec) : vm->s_empty;
    if (!value_format(vm, v, spec_str, &buf)) {
        strbuf_free(&buf);
        return false;
    }
    *out = OBJ_VAL(str_new(vm, buf.chars, buf.length));
    strbuf_free(&buf);
    return true;
}

// Receivers whose methods come from their class alone (LOAD_METHOD's cache):
// modules, classes and instances have attributes of their own.
static inline bool method_from_class(uint8_t type) {
    return type != OBJ_MODULE && type != OBJ_CLASS && type != OBJ_INSTANCE && type != OBJ_SUPER;
}

// Remember where `name` was found for cls: in its own dict or its base's
// (deeper bases could be shadowed unseen, so they are not cached).
static void cache_method(MethodCache *mc, ObjClass *cls, ObjString *name) {
    ObjDict *holders[2] = {cls->dict, cls->base ? cls->base->dict : NULL};
    for (int i = 0; i < 2 && holders[i]; i++) {
        Value *found = dict_find_str(holders[i], name);
        if (!found) continue;
        mc->cls = cls;
        mc->holder = holders[i];
        mc->index = (uint32_t)(((char *)found - (char *)holders[i]->entries) / sizeof(DictEntry));
        mc->version = cls->dict->version;
        return;
    }
}

static void unbound_local(VM *vm, const ObjCode *code, uint32_t slot) {
    vm_raise(vm, CLS_UNBOUND_LOCAL_ERROR, "cannot access local variable '%s' where it is not associated with a value",
             code->local_names[slot]->chars);
}

// Expand CALL_EX's (callable, args list, [kwargs]) into callee + args + kwnames.
static bool spread_call_args(VM *vm, Fiber *fiber, uint32_t at, bool has_kwargs, int *argc,
                             ObjTuple **kwnames) {
    Value args_v = fiber->stack[at + 1];
    Value kwargs_v = has_kwargs ? fiber->stack[at + 2] : NONE_VAL;
    ObjList *args = (ObjList *)AS_OBJ(args_v); // made by the call's own code
    ObjDict *kwargs = has_kwargs ? (ObjDict *)AS_OBJ(kwargs_v) : NULL;
    uint32_t nkw = kwargs ? kwargs->count : 0;
    if (!ensure_stack(vm, fiber, at + 2 + args->length + nkw)) return false;
    Value *dest = fiber->stack + at + 1;
    uint32_t nargs = args->length;
    if (nargs) memmove(dest, args->items, sizeof(Value) * nargs);
    // the list is the call's own temporary: its storage can go now (f(*big)
    // leaves no garbage the size of its arguments behind)
    args->items = gc_realloc(vm, args->items, sizeof(Value) * args->capacity, 0);
    args->length = args->capacity = 0;
    *kwnames = NULL;
    if (nkw) {
        ObjTuple *names = tuple_new(vm, nkw);
        uint32_t pos = 0, i = 0;
        Value key, value;
        while (dict_next(kwargs, &pos, &key, &value)) {
            names->items[i] = key;
            dest[nargs + i] = value;
            i++;
        }
        *kwnames = names;
    }
    *argc = (int)nargs;
    fiber->sp = at + 1 + nargs + nkw;
    return true;
}

static bool int_binary_fast(BinaryOp op, int64_t a, int64_t b, Value *out) {
    int64_t r;
    switch (op) {
    case BIN_ADD:
        if (__builtin_add_overflow(a, b, &r)) return false;
        break;
    case BIN_SUB:
        if (__builtin_sub_overflow(a, b, &r)) return false;
        break;
    case BIN_MUL:
        if (__builtin_mul_overflow(a, b, &r)) return false;
        break;
    default:
        return false;
    }
    *out = INT_VAL(r);
    return true;
}

// ---- the dispatch loop -----------------------------------------------------------

#if defined(__GNUC__) && !defined(ASYNCRUN_NO_COMPUTED_GOTO)
#define COMPUTED_GOTO 1
#else
#define COMPUTED_GOTO 0
#endif

RunResult interp_run(VM *vm, Fiber *fiber) {
    Fiber *saved_fiber = vm->fiber;
    vm->fiber = fiber;
    Frame *frame;
    ObjCode *code;
    uint32_t *ip;
    Value *slots;
    Value *sp;
    Value *consts;
    uint32_t ins;
    RunResult result;

#define STORE_FRAME()                                 \
    do {                                              \
        frame->ip = ip;                               \
        fiber->sp = (uint32_t)(sp - fiber->stack);    \
    } while (0)
#define LOAD_FRAME()                                          \
    do {                                                      \
        frame = &fiber->frames[fiber->frame_count - 1];       \
        code = frame->func->code;                             \
        ip = frame->ip;                                       \
        slots = fiber->stack + frame->base;                   \
        sp = fiber->stack + fiber->sp;                        \
        consts = code->consts;                                \
    } while (0)
#define PUSH(v) (*sp++ = (v))
#define POP() (*--sp)
#define PEEK(n) (sp[-(ptrdiff_t)(n)])
#define ARG INSTR_ARG(ins)
#define THROW() goto error
#define TRUTH(v, t)                                                            \
    do {                                                                       \
        if (IS_BOOL(v)) {                                                      \
            t = AS_BOOL(v);                                                    \
        } else if (IS_OBJ_TYPE(v, OBJ_INSTANCE)) {                             \
            STORE_FRAME();                                                     \
            t = instance_truth(vm, v);                                         \
            if (t < 0) THROW();                                                \
        } else {                                                               \
            t = value_truthy(v);                                               \
        }                                                                      \
    } while (0)

// Frames get exactly code->max_stack slots (the compiler's bound: locals
// plus the deepest operand stack). Sanitizer and fuzzing builds check the
// bound before every instruction.
#ifdef ASYNCRUN_CHECK_STACK
#define CHECK_STACK_BOUND()                                                                        \
    do {                                                                                           \
        if (sp - slots > (ptrdiff_t)code->max_stack) {                                             \
            fprintf(stderr, "asyncrun: operand stack of %s exceeds its bound %u\n",                \
                    code->name->chars, (unsigned)code->max_stack);                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)
#else
#define CHECK_STACK_BOUND() ((void)0)
#endif

#if COMPUTED_GOTO
    static void *const labels[OP__COUNT] = {
#define X(name) &&L_##name,
        OPCODES(X)
#undef X
    };
#define CASE(name) L_##name:
#define DISPATCH()                       \
    do {                                 \
        CHECK_STACK_BOUND();             \
        ins = *ip++;                     \
        goto *labels[INSTR_OP(ins)];     \
    } while (0)
#else
#define CASE(name) case OP_##name:
#define DISPATCH()          \
    do {                    \
        CHECK_STACK_BOUND(); \
        goto dispatch;      \
    } while (0)
#endif

    LOAD_FRAME();
    if (!IS_EMPTY(vm->exception)) goto error;
#if COMPUTED_GOTO
    DISPATCH();
#else
dispatch:
    ins = *ip++;
    switch (INSTR_OP(ins)) {
#endif

    CASE(NOP) DISPATCH();
    CASE(POP_TOP) {
        sp--;
        DISPATCH();
    }
    CASE(COPY) {
        Value v = PEEK(ARG);
        PUSH(v);
        DISPATCH();
    }
    CASE(SWAP) {
        Value t = PEEK(1);
        PEEK(1) = PEEK(ARG);
        PEEK(ARG) = t;
        DISPATCH();
    }
    CASE(LOAD_CONST) {
        PUSH(consts[ARG]);
        DISPATCH();
    }
    CASE(LOAD_NONE) {
        PUSH(NONE_VAL);
        DISPATCH();
    }
    CASE(LOAD_TRUE) {
        PUSH(TRUE_VAL);
        DISPATCH();
    }
    CASE(LOAD_FALSE) {
        PUSH(FALSE_VAL);
        DISPATCH();
    }
    CASE(LOAD_SMALL_INT) {
        PUSH(INT_VAL((int32_t)(ins & 0xFFFFFF00u) >> 8));
        DISPATCH();
    }
    CASE(LOAD_FAST) {
        Value v = slots[ARG];
        if (IS_EMPTY(v)) {
            STORE_FRAME();
            unbound_local(vm, code, ARG);
            THROW();
        }
        PUSH(v);
        DISPATCH();
    }
    CASE(LOAD_FAST2) {
        uint32_t a = ARG & 0xFFF, b = ARG >> 12;
        Value va = slots[a], vb = slots[b];
        if (IS_EMPTY(va) || IS_EMPTY(vb)) {
            STORE_FRAME();
            unbound_local(vm, code, IS_EMPTY(va) ? a : b);
            THROW();
        }
        sp[0] = va;
        sp[1] = vb;
        sp += 2;
        DISPATCH();
    }
    CASE(STORE_FAST) {
        slots[ARG] = POP();
        DISPATCH();
    }
    CASE(DELETE_FAST) {
        if (IS_EMPTY(slots[ARG])) {
            STORE_FRAME();
            vm_raise(vm, CLS_UNBOUND_LOCAL_ERROR,
                     "cannot access local variable '%s' where it is not associated with a value",
                     code->local_names[ARG]->chars);
            THROW();
        }
        slots[ARG] = EMPTY_VAL;
        DISPATCH();
    }
    CASE(LOAD_CELL) {
        Value v = ((ObjCell *)AS_OBJ(slots[ARG]))->value;
        if (IS_EMPTY(v)) {
            STORE_FRAME();
            vm_raise(vm, CLS_UNBOUND_LOCAL_ERROR,
                     "cannot access local variable '%s' where it is not associated with a value",
                     code->local_names[ARG]->chars);
            THROW();
        }
        PUSH(v);
        DISPATCH();
    }
    CASE(STORE_CELL) {
        ((ObjCell *)AS_OBJ(slots[ARG]))->value = POP();
        DISPATCH();
    }
    CASE(DELETE_CELL) {
        ((ObjCell *)AS_OBJ(slots[ARG]))->value = EMPTY_VAL;
        DISPATCH();
    }
    CASE(LOAD_FREE) {
        Value v = frame->func->free[ARG]->value;
        if (IS_EMPTY(v)) {
            STORE_FRAME();
            vm_raise(vm, CLS_NAME_ERROR,
                     "cannot access free variable '%s' where it is not associated with a value in enclosing scope",
                     code->free_names[ARG]->chars);
            THROW();
        }
        PUSH(v);
        DISPATCH();
    }
    CASE(STORE_FREE) {
        frame->func->free[ARG]->value = POP();
        DISPATCH();
    }
    CASE(LOAD_CELL_REF) {
        PUSH(slots[ARG]);
        DISPATCH();
    }
    CASE(LOAD_FREE_REF) {
        PUSH(OBJ_VAL(frame->func->free[ARG]));
        DISPATCH();
    }
    CASE(MAKE_CELL) {
        ObjCell *cell = ALLOC_OBJ(vm, ObjCell, OBJ_CELL);
        cell->value = slots[ARG];
        slots[ARG] = OBJ_VAL(cell);
        DISPATCH();
    }
    CASE(LOAD_GLOBAL) {
        ObjString *name = code->names[ARG];
        ObjDict *globals = frame->func->globals;
        GlobalCache *cache = &code->global_cache[ARG];
        if (cache->where == 1) {
            if (cache->index < globals->used && globals->entries[cache->index].key.as.o == (Obj *)name &&
                IS_OBJ(globals->entries[cache->index].key)) {
                PUSH(globals->entries[cache->index].value);
                DISPATCH();
            }
        } else if (cache->where == 2 && cache->version == globals->version) {
            ObjDict *b = vm->builtins;
            if (cache->index < b->used && b->entries[cache->index].key.as.o == (Obj *)name &&
                IS_OBJ(b->entries[cache->index].key)) {
                PUSH(b->entries[cache->index].value);
                DISPATCH();
            }
        }
        Value *found = dict_find_str(globals, name);
        if (found) {
            cache->where = 1;
            cache->index = (uint32_t)(((char *)found - (char *)globals->entries) / sizeof(DictEntry));
        } else {
            found = dict_find_str(vm->builtins, name);
            if (found) {
                cache->where = 2;
                cache->version = globals->version;
                cache->index = (uint32_t)(((char *)found - (char *)vm->builtins->entries) / sizeof(DictEntry));
            }
        }
        if (!found) {
            STORE_FRAME();
            vm_raise(vm, CLS_NAME_ERROR, "name '%s' is not defined", name->chars);
            THROW();
        }
        PUSH(*found);
        DISPATCH();
    }
    CASE(STORE_GLOBAL) {
        STORE_FRAME();
        dict_set_str(vm, frame->func->globals, code->names[ARG], PEEK(1));
        sp--;
        DISPATCH();
    }
    CASE(DELETE_GLOBAL) {
        STORE_FRAME();
        bool found;
        if (!dict_delete(vm, frame->func->globals, OBJ_VAL(code->names[ARG]), &found)) THROW();
        if (!found) {
            vm_raise(vm, CLS_NAME_ERROR, "name '%s' is not defined", code->names[ARG]->chars);
            THROW();
        }
        DISPATCH();
    }
    CASE(LOAD_ATTR) {
        STORE_FRAME();
        Value v;
        if (!value_getattr(vm, PEEK(1), code->names[ARG], &v)) THROW();
        PEEK(1) = v;
        DISPATCH();
    }
    CASE(STORE_ATTR) {
        STORE_FRAME();
        if (!value_setattr(vm, PEEK(1), code->names[ARG], PEEK(2))) THROW();
        sp -= 2;
        DISPATCH();
    }
    CASE(DELETE_ATTR) {
        STORE_FRAME();
        if (!value_delattr(vm, PEEK(1), code->names[ARG])) THROW();
        sp--;
        DISPATCH();
    }
    CASE(LOAD_METHOD) {
        Value obj = PEEK(1);
        ObjClass *cls = NULL;
        if (IS_OBJ(obj) && method_from_class(OBJ_TYPE(obj))) {
            cls = value_class(vm, obj);
            const MethodCache *mc = &code->method_cache[ARG];
            if (mc->cls == cls && cls->dict->version == mc->version && mc->index < mc->holder->used) {
                const DictEntry *e = &mc->holder->entries[mc->index];
                if (e->key.as.o == (Obj *)code->names[ARG] && IS_OBJ(e->key) &&
                    (IS_OBJ_TYPE(e->value, OBJ_NATIVE) || IS_OBJ_TYPE(e->value, OBJ_FUNCTION))) {
                    PEEK(1) = e->value;
                    PUSH(obj);
                    DISPATCH();
                }
            }
        }
        STORE_FRAME();
        Value method;
        int kind = value_get_method(vm, obj, code->names[ARG], &method);
        if (kind < 0) THROW();
        if (kind == 1) {
            if (cls) cache_method(&code->method_cache[ARG], cls, code->names[ARG]);
            PEEK(1) = method;
            PUSH(obj);
        } else {
            PEEK(1) = method;
            PUSH(EMPTY_VAL);
        }
        DISPATCH();
    }
    CASE(BINARY_SUBSCR) {
        Value key = PEEK(1), obj = PEEK(2);
        if (IS_OBJ_TYPE(obj, OBJ_LIST) && IS_INT(key)) {
            ObjList *l = (ObjList *)AS_OBJ(obj);
            int64_t i = AS_INT(key);
            if (i < 0) i += l->length;
            if (i >= 0 && i < (int64_t)l->length) {
                sp--;
                PEEK(1) = l->items[i];
                DISPATCH();
            }
        }
        STORE_FRAME();
        Value v;
        if (!value_getitem(vm, obj, key, &v)) THROW();
        sp--;
        PEEK(1) = v;
        DISPATCH();
    }
    CASE(STORE_SUBSCR) {
        // stack: value, obj, key
        Value key = PEEK(1), obj = PEEK(2), value = PEEK(3);
        if (IS_OBJ_TYPE(obj, OBJ_LIST) && IS_INT(key)) {
            ObjList *l = (ObjList *)AS_OBJ(obj);
            int64_t i = AS_INT(key);
            if (i < 0) i += l->length;
            if (i >= 0 && i < (int64_t)l->length) {
                l->items[i] = value;
                sp -= 3;
                DISPATCH();
            }
        }
        STORE_FRAME();
        if (!value_setitem(vm, obj, key, value)) THROW();
        sp -= 3;
        DISPATCH();
    }
    CASE(DELETE_SUBSCR) {
        STORE_FRAME();
        if (!value_delitem(vm, PEEK(2), PEEK(1))) THROW();
        sp -= 2;
        DISPATCH();
    }
    CASE(BUILD_SLICE) {
        STORE_FRAME();
        Value step = ARG == 3 ? POP() : NONE_VAL;
        Value stop = POP();
        Value start = PEEK(1);
        PEEK(1) = OBJ_VAL(slice_new(vm, start, stop, step));
        DISPATCH();
    }

#define BINARY_CASE(NAME, BOP, INT_EXPR, FLOAT_EXPR)                          \
    CASE(NAME) {                                                               \
        Value b = PEEK(1), a = PEEK(2);                                        \
        if (IS_INT(a) && IS_INT(b)) {                                          \
            int64_t x = AS_INT(a), y = AS_INT(b), r;                           \
            if (!(INT_EXPR)) {                                                 \
                sp--;                                                          \
                PEEK(1) = INT_VAL(r);                                          \
                DISPATCH();                                                    \
            }                                                                  \
        } else if (IS_FLOAT(a) && IS_FLOAT(b)) {                               \
            double x = AS_FLOAT(a), y = AS_FLOAT(b);                           \
            sp--;                                                              \
            PEEK(1) = FLOAT_VAL(FLOAT_EXPR);                                   \
            DISPATCH();                                                        \
        }                                                                      \
        STORE_FRAME();                                                         \
        Value v;                                                               \
        if (!value_binary(vm, BOP, a, b, false, &v)) THROW();                  \
        sp--;                                                                  \
        PEEK(1) = v;                                                           \
        DISPATCH();                                                            \
    }
// x + k and x - k with k a small int constant in the instruction.
#define SMALL_INT_CASE(NAME, BOP, INPLACE, INT_EXPR)                           \
    CASE(NAME) {                                                               \
        Value a = PEEK(1);                                                     \
        int64_t y = (int32_t)(ins & 0xFFFFFF00u) >> 8, r;                      \
        if (IS_INT(a)) {                                                       \
            int64_t x = AS_INT(a);                                             \
            if (!(INT_EXPR)) {                                                 \
                PEEK(1) = INT_VAL(r);                                          \
                DISPATCH();                                                    \
            }                                                                  \
        }                                                                      \
        STORE_FRAME();                                                         \
        Value v;                                                               \
        if (!value_binary(vm, BOP, a, INT_VAL(y), INPLACE, &v)) THROW();       \
        PEEK(1) = v;                                                           \
        DISPATCH();                                                            \
    }
    SMALL_INT_CASE(ADD_SMALL_INT, BIN_ADD, false, __builtin_add_overflow(x, y, &r))
    SMALL_INT_CASE(SUB_SMALL_INT, BIN_SUB, false, __builtin_sub_overflow(x, y, &r))
    SMALL_INT_CASE(MUL_SMALL_INT, BIN_MUL, false, __builtin_mul_overflow(x, y, &r))
    SMALL_INT_CASE(MOD_SMALL_INT, BIN_MOD, false, (y <= 0 || x < 0 || ((r = x % y), false)))
    SMALL_INT_CASE(IADD_SMALL_INT, BIN_ADD, true, __builtin_add_overflow(x, y, &r))
    SMALL_INT_CASE(ISUB_SMALL_INT, BIN_SUB, true, __builtin_sub_overflow(x, y, &r))
#undef SMALL_INT_CASE
    BINARY_CASE(BINARY_ADD, BIN_ADD, __builtin_add_overflow(x, y, &r), x + y)
    BINARY_CASE(BINARY_SUB, BIN_SUB, __builtin_sub_overflow(x, y, &r), x - y)
    BINARY_CASE(BINARY_MUL, BIN_MUL, __builtin_mul_overflow(x, y, &r), x * y)
#undef BINARY_CASE

    CASE(BINARY_MOD) {
        Value b = PEEK(1), a = PEEK(2);
        if (IS_INT(a) && IS_INT(b) && AS_INT(b) > 0 && AS_INT(a) >= 0) {
            sp--;
            PEEK(1) = INT_VAL(AS_INT(a) % AS_INT(b));
            DISPATCH();
        }
        STORE_FRAME();
        Value v;
        if (!value_binary(vm, BIN_MOD, a, b, false, &v)) THROW();
        sp--;
        PEEK(1) = v;
        DISPATCH();
    }
    CASE(BINARY_FLOORDIV) {
        Value b = PEEK(1), a = PEEK(2);
        if (IS_INT(a) && IS_INT(b) && AS_INT(b) > 0 && AS_INT(a) >= 0) {
            sp--;
            PEEK(1) = INT_VAL(AS_INT(a) / AS_INT(b));
            DISPATCH();
        }
        STORE_FRAME();
        Value v;
        if (!value_binary(vm, BIN_FLOORDIV, a, b, false, &v)) THROW();
        sp--;
        PEEK(1) = v;
        DISPATCH();
    }
    CASE(BINARY_DIV) {
        Value b = PEEK(1), a = PEEK(2);
        if (IS_INT(a) && IS_INT(b) && AS_INT(b) != 0 &&
            AS_INT(a) > -(1LL << 53) && AS_INT(a) < (1LL << 53) &&
            AS_INT(b) > -(1LL << 53) && AS_INT(b) < (1LL << 53)) {
            sp--;
            PEEK(1) = FLOAT_VAL((double)AS_INT(a) / (double)AS_INT(b));
            DISPATCH();
        }
        STORE_FRAME();
        Value v;
        if (!value_binary(vm, BIN_DIV, a, b, false, &v)) THROW();
        sp--;
        PEEK(1) = v;
        DISPATCH();
    }

#define GENERIC_BINARY(NAME, BOP)                                              \
    CASE(NAME) {                                                               \
        STORE_FRAME();                                                         \
        Value v;                                                               \
        if (!value_binary(vm, BOP, PEEK(2), PEEK(1), false, &v)) THROW();      \
        sp--;                                                                  \
        PEEK(1) = v;                                                           \
        DISPATCH();                                                            \
    }
    GENERIC_BINARY(BINARY_MATMUL, BIN_MATMUL)
    GENERIC_BINARY(BINARY_POW, BIN_POW)
    GENERIC_BINARY(BINARY_LSHIFT, BIN_LSHIFT)
    GENERIC_BINARY(BINARY_RSHIFT, BIN_RSHIFT)
    GENERIC_BINARY(BINARY_AND, BIN_AND)
    GENERIC_BINARY(BINARY_OR, BIN_OR)
    GENERIC_BINARY(BINARY_XOR, BIN_XOR)
#undef GENERIC_BINARY

    CASE(INPLACE_OP) {
        Value b = PEEK(1), a = PEEK(2);
        Value v;
        if (IS_INT(a) && IS_INT(b) && int_binary_fast((BinaryOp)ARG, AS_INT(a), AS_INT(b), &v)) {
            sp--;
            PEEK(1) = v;
            DISPATCH();
        }
        STORE_FRAME();
        if (!value_binary(vm, (BinaryOp)ARG, a, b, true, &v)) THROW();
        sp--;
        PEEK(1) = v;
        DISPATCH();
    }
    CASE(UNARY_NEG) {
        Value a = PEEK(1);
        if (IS_INT(a) && AS_INT(a) != INT64_MIN) {
            PEEK(1) = INT_VAL(-AS_INT(a));
            DISPATCH();
        }
        if (IS_FLOAT(a)) {
            PEEK(1) = FLOAT_VAL(-AS_FLOAT(a));
            DISPATCH();
        }
        STORE_FRAME();
        Value v;
        if (!value_negate(vm, a, &v)) THROW();
        PEEK(1) = v;
        DISPATCH();
    }
    CASE(UNARY_POS) {
        STORE_FRAME();
        Value v;
        if (!value_positive(vm, PEEK(1), &v)) THROW();
        PEEK(1) = v;
        DISPATCH();
    }
    CASE(UNARY_INVERT) {
        STORE_FRAME();
        Value v;
        if (!value_invert(vm, PEEK(1), &v)) THROW();
        PEEK(1) = v;
        DISPATCH();
    }
    CASE(UNARY_NOT) {
        Value v = PEEK(1);
        int t;
        TRUTH(v, t);
        PEEK(1) = BOOL_VAL(!t);
        DISPATCH();
    }

#define COMPARE_CASE(NAME, COP, OPER)                                          \
    CASE(NAME) {                                                               \
        Value b = PEEK(1), a = PEEK(2);                                        \
        if (IS_INT(a) && IS_INT(b)) {                                          \
            sp--;                                                              \
            PEEK(1) = BOOL_VAL(AS_INT(a) OPER AS_INT(b));                      \
            DISPATCH();                                                        \
        }                                                                      \
        if (IS_FLOAT(a) && IS_FLOAT(b)) {                                      \
            sp--;                                                              \
            PEEK(1) = BOOL_VAL(AS_FLOAT(a) OPER AS_FLOAT(b));                  \
            DISPATCH();                                                        \
        }                                                                      \
        STORE_FRAME();                                                         \
        Value v;                                                               \
        if (!value_compare(vm, COP, a, b, &v)) THROW();                        \
        sp--;                                                                  \
        PEEK(1) = v;                                                           \
        DISPATCH();                                                            \
    }
    COMPARE_CASE(COMPARE_LT, CMP_LT, <)
    COMPARE_CASE(COMPARE_LE, CMP_LE, <=)
    COMPARE_CASE(COMPARE_GT, CMP_GT, >)
    COMPARE_CASE(COMPARE_GE, CMP_GE, >=)
    COMPARE_CASE(COMPARE_EQ, CMP_EQ, ==)
    COMPARE_CASE(COMPARE_NE, CMP_NE, !=)
#undef COMPARE_CASE

#define COMPARE_JUMP(NAME, COP, OPER)                                          \
    CASE(NAME) {                                                               \
        Value b = PEEK(1), a = PEEK(2);                                        \
        if (IS_INT(a) && IS_INT(b)) {                                          \
            sp -= 2;                                                           \
            if (!(AS_INT(a) OPER AS_INT(b))) ip = code->code + ARG;            \
            DISPATCH();                                                        \
        }                                                                      \
        if (IS_FLOAT(a) && IS_FLOAT(b)) {                                      \
            sp -= 2;                                                           \
            if (!(AS_FLOAT(a) OPER AS_FLOAT(b))) ip = code->code + ARG;        \
            DISPATCH();                                                        \
        }                                                                      \
        STORE_FRAME();                                                         \
        Value v;                                                               \
        if (!value_compare(vm, COP, a, b, &v)) THROW();                        \
        sp -= 2;                                                               \
        int t = value_truth(vm, v);                                            \
        if (t < 0) THROW();                                                    \
        if (!t) ip = code->code + ARG;                                         \
        DISPATCH();                                                            \
    }
    COMPARE_JUMP(JUMP_IF_NOT_LT, CMP_LT, <)
    COMPARE_JUMP(JUMP_IF_NOT_LE, CMP_LE, <=)
    COMPARE_JUMP(JUMP_IF_NOT_GT, CMP_GT, >)
    COMPARE_JUMP(JUMP_IF_NOT_GE, CMP_GE, >=)
    COMPARE_JUMP(JUMP_IF_NOT_EQ, CMP_EQ, ==)
    COMPARE_JUMP(JUMP_IF_NOT_NE, CMP_NE, !=)
#undef COMPARE_JUMP

    CASE(IS_OP) {
        bool same = value_same(PEEK(2), PEEK(1));
        sp--;
        PEEK(1) = BOOL_VAL(same != (ARG != 0));
        DISPATCH();
    }
    CASE(CONTAINS_OP) {
        STORE_FRAME();
        bool found;
        if (!value_contains(vm, PEEK(1), PEEK(2), &found)) THROW();
        sp--;
        PEEK(1) = BOOL_VAL(found != (ARG != 0));
        DISPATCH();
    }
    CASE(JUMP) {
        ip = code->code + ARG;
        DISPATCH();
    }
    CASE(JUMP_BACK) {
        if (vm->bytes_allocated > vm->next_gc || vm->gc_stress || vm_interrupt || vm->fuel >= 0) {
            // raise before jumping, so the exception belongs to the loop body
            STORE_FRAME();
            if (vm_interrupt) {
                raise_interrupt(vm);
                THROW();
            }
            if (!burn_fuel(vm)) THROW();
            if (vm->bytes_allocated > vm->next_gc || vm->gc_stress) gc_collect(vm);
        }
        ip = code->code + ARG;
        DISPATCH();
    }

    CASE(POP_JUMP_IF_FALSE) {
        Value v = PEEK(1);
        int t;
        TRUTH(v, t);
        sp--;
        if (!t) ip = code->code + ARG;
        DISPATCH();
    }
    CASE(POP_JUMP_IF_TRUE) {
        Value v = PEEK(1);
        int t;
        TRUTH(v, t);
        sp--;
        if (t) ip = code->code + ARG;
        DISPATCH();
    }
    CASE(JUMP_IF_FALSE_OR_POP) {
        Value v = PEEK(1);
        int t;
        TRUTH(v, t);
        if (!t) ip = code->code + ARG;
        else sp--;
        DISPATCH();
    }
    CASE(JUMP_IF_TRUE_OR_POP) {
        Value v = PEEK(1);
        int t;
        TRUTH(v, t);
        if (t) ip = code->code + ARG;
        else sp--;
        DISPATCH();
    }
    CASE(GET_ITER) {
        STORE_FRAME();
        Value it;
        if (!value_iter(vm, PEEK(1), &it)) THROW();
        PEEK(1) = it;
        DISPATCH();
    }
    CASE(FOR_ITER) {
        Value itv = PEEK(1);
        ObjIter *it = (ObjIter *)AS_OBJ(itv);
        if (IS_OBJ_TYPE(itv, OBJ_ITER)) {
            if (it->kind == ITER_RANGE) {
                if (it->step > 0 ? it->index < it->stop : it->index > it->stop) {
                    PUSH(INT_VAL(it->index));
                    if (__builtin_add_overflow(it->index, it->step, &it->index)) it->index = it->stop;
                    DISPATCH();
                }
                sp--;
                ip = code->code + ARG;
                DISPATCH();
            }
            if (it->kind == ITER_LIST) {
                ObjList *l = (ObjList *)AS_OBJ(it->source);
                if (it->index < (int64_t)l->length) {
                    PUSH(l->items[it->index++]);
                    DISPATCH();
                }
                sp--;
                ip = code->code + ARG;
                DISPATCH();
            }
        }
        STORE_FRAME();
        Value item;
        int r = iter_next(vm, itv, &item);
        if (r < 0) THROW();
        if (r == 0) {
            sp--;
            ip = code->code + ARG;
            DISPATCH();
        }
        PUSH(item);
        DISPATCH();
    }
    CASE(BUILD_TUPLE) {
        STORE_FRAME();
        uint32_t n = ARG;
        ObjTuple *t = tuple_from(vm, sp - n, n);
        sp -= n;
        PUSH(OBJ_VAL(t));
        DISPATCH();
    }
    CASE(BUILD_LIST) {
        STORE_FRAME();
        uint32_t n = ARG;
        ObjList *l = list_from(vm, sp - n, n);
        sp -= n;
        PUSH(OBJ_VAL(l));
        DISPATCH();
    }
    CASE(BUILD_SET) {
        STORE_FRAME();
        uint32_t n = ARG;
        ObjSet *s = set_new(vm, false);
        for (uint32_t i = 0; i < n; i++)
            if (!set_add(vm, s, sp[-(int)n + (int)i])) THROW();
        sp -= n;
        PUSH(OBJ_VAL(s));
        DISPATCH();
    }
    CASE(BUILD_MAP) {
        STORE_FRAME();
        uint32_t n = ARG;
        ObjDict *d = dict_new(vm);
        Value *items = sp - 2 * n;
        for (uint32_t i = 0; i < n; i++)
            if (!dict_set(vm, d, items[2 * i], items[2 * i + 1])) THROW();
        sp -= 2 * n;
        PUSH(OBJ_VAL(d));
        DISPATCH();
    }
    CASE(BUILD_STRING) {
        STORE_FRAME();
        uint32_t n = ARG;
        Value s;
        if (!build_string(vm, sp - n, n, &s)) THROW();
        sp -= n;
        PUSH(s);
        DISPATCH();
    }
    CASE(LIST_APPEND) {
        STORE_FRAME();
        Value item = POP();
        if (!list_append(vm, (ObjList *)AS_OBJ(PEEK(ARG)), item)) THROW();
        DISPATCH();
    }
    CASE(SET_ADD) {
        STORE_FRAME();
        Value item = POP();
        if (!set_add(vm, (ObjSet *)AS_OBJ(PEEK(ARG)), item)) THROW();
        DISPATCH();
    }
    CASE(MAP_ADD) {
        STORE_FRAME();
        Value value = POP();
        Value key = POP();
        if (!dict_set(vm, (ObjDict *)AS_OBJ(PEEK(ARG)), key, value)) THROW();
        DISPATCH();
    }
    CASE(LIST_EXTEND) {
        // ARG: the list's depth; LIST_EXTEND_CALL marks *args of a call,
        // whose callable sits right below the list
        STORE_FRAME();
        Value iterable = POP();
        uint32_t depth = ARG & ~LIST_EXTEND_CALL;
        if (!list_extend(vm, (ObjList *)AS_OBJ(PEEK(depth)), iterable)) {
            if (exception_matches(vm, vm->exception, CLS_TYPE_ERROR) &&
                !IS_OBJ_TYPE(iterable, OBJ_ITER)) {
                vm->exception = EMPTY_VAL;
                if (ARG & LIST_EXTEND_CALL) {
                    char name[160];
                    function_str(vm, PEEK(depth + 1), name, sizeof name);
                    vm_raise(vm, CLS_TYPE_ERROR, "%s argument after * must be an iterable, not %s", name,
                             value_type_name(vm, iterable));
                } else {
                    vm_raise(vm, CLS_TYPE_ERROR, "Value after * must be an iterable, not %s",
                             value_type_name(vm, iterable));
                }
            }
            THROW();
        }
        DISPATCH();
    }
    CASE(SET_UPDATE) {
        STORE_FRAME();
        Value iterable = POP();
        if (!set_update(vm, (ObjSet *)AS_OBJ(PEEK(ARG)), iterable)) THROW();
        DISPATCH();
    }
    CASE(DICT_UPDATE) {
        STORE_FRAME();
        Value other = POP();
        if (!IS_OBJ_TYPE(other, OBJ_DICT)) {
            vm_raise(vm, CLS_TYPE_ERROR, "'%s' object is not a mapping", value_type_name(vm, other));
            THROW();
        }
        if (!dict_update(vm, (ObjDict *)AS_OBJ(PEEK(ARG)), other)) THROW();
        DISPATCH();
    }
    CASE(DICT_MERGE) {
        // **kwargs in a call: duplicates are errors
        STORE_FRAME();
        Value other = POP();
        ObjDict *d = (ObjDict *)AS_OBJ(PEEK(ARG));
        char fname[160];
        function_str(vm, PEEK(ARG + 2), fname, sizeof fname); // [func, args, kwargs]
        if (!IS_OBJ_TYPE(other, OBJ_DICT)) {
            vm_raise(vm, CLS_TYPE_ERROR, "%s argument after ** must be a mapping, not %s", fname,
                     value_type_name(vm, other));
            THROW();
        }
        uint32_t pos = 0;
        Value key, value;
        while (dict_next((ObjDict *)AS_OBJ(other), &pos, &key, &value)) {
            if (!IS_OBJ_TYPE(key, OBJ_STRING)) {
                vm_raise(vm, CLS_TYPE_ERROR, "keywords must be strings");
                THROW();
            }
            if (dict_find_str(d, (ObjString *)AS_OBJ(key))) {
                vm_raise(vm, CLS_TYPE_ERROR, "%s got multiple values for keyword argument '%s'", fname,
                         ((ObjString *)AS_OBJ(key))->chars);
                THROW();
            }
            dict_set_str(vm, d, str_intern(vm, ((ObjString *)AS_OBJ(key))->chars,
                                           ((ObjString *)AS_OBJ(key))->length), value);
        }
        DISPATCH();
    }
    CASE(LIST_TO_TUPLE) {
        STORE_FRAME();
        ObjList *l = (ObjList *)AS_OBJ(PEEK(1));
        PEEK(1) = OBJ_VAL(tuple_from(vm, l->items, l->length));
        DISPATCH();
    }
    CASE(UNPACK_SEQUENCE) {
        STORE_FRAME();
        Value seq = PEEK(1);
        uint32_t n = ARG;
        Value tmp[16];
        Value *dest = n <= 16 ? tmp : malloc(sizeof(Value) * n);
        if (!dest) {
            vm_raise(vm, CLS_MEMORY_ERROR, "out of memory");
            THROW();
        }
        if (!unpack(vm, seq, n, dest)) {
            if (dest != tmp) free(dest);
            THROW();
        }
        sp--;
        memcpy(sp, dest, sizeof(Value) * n);
        sp += n;
        if (dest != tmp) free(dest);
        DISPATCH();
    }
    CASE(UNPACK_EX) {
        STORE_FRAME();
        uint32_t before = ARG & 0xFFF, after = ARG >> 12;
        Value seq = PEEK(1);
        ObjList *items = value_to_list(vm, seq);
        if (!items) {
            if (exception_matches(vm, vm->exception, CLS_TYPE_ERROR)) {
                vm->exception = EMPTY_VAL;
                vm_raise(vm, CLS_TYPE_ERROR, "cannot unpack non-iterable %s object", value_type_name(vm, seq));
            }
            THROW();
        }
        if (items->length < before + after) {
            vm_raise(vm, CLS_VALUE_ERROR, "not enough values to unpack (expected at least %u, got %u)",
                     before + after, items->length);
            THROW();
        }
        uint32_t mid = items->length - before - after;
        ObjList *rest = list_from(vm, items->items + before, mid);
        sp--;
        // push in reverse: after items, the rest list, before items
        for (uint32_t i = 0; i < after; i++) PUSH(items->items[items->length - 1 - i]);
        PUSH(OBJ_VAL(rest));
        for (uint32_t i = 0; i < before; i++) PUSH(items->items[before - 1 - i]);
        DISPATCH();
    }
    CASE(FORMAT_VALUE) {
        STORE_FRAME();
        Value spec = (ARG & FMT_HAS_SPEC) ? POP() : NONE_VAL;
        Value v;
        if (!format_value(vm, ARG, PEEK(1), spec, &v)) THROW();
        PEEK(1) = v;
        DISPATCH();
    }

    {
        uint32_t call_at;
        int call_argc;
        ObjTuple *call_kwnames;
    CASE(CALL) {
        call_argc = (int)ARG;
        call_kwnames = NULL;
        Value callee = PEEK(call_argc + 1);
        if (IS_OBJ_TYPE(callee, OBJ_FUNCTION)) {
            // fast path: a plain Python function with exactly its positional
            // arguments, room on the stack and nothing pending
            ObjFunction *fn = (ObjFunction *)AS_OBJ(callee);
            ObjCode *callee_code = fn->code;
            bool awaited = INSTR_OP(*ip) == OP_AWAIT;
            if (callee_code->plain_argc == call_argc && (!(callee_code->flags & CODE_ASYNC) || awaited) &&
                fiber->frame_count < fiber->frame_capacity &&
                fiber->frame_count < (uint32_t)vm->recursion_limit &&
                (size_t)(sp - fiber->stack) + callee_code->max_stack <= fiber->stack_capacity &&
                !vm_interrupt && vm->bytes_allocated <= vm->next_gc && !vm->gc_stress && vm->fuel < 0) {
                frame->ip = (callee_code->flags & CODE_ASYNC) ? ip + 1 : ip;
                Value *args = sp - call_argc;
                for (int i = call_argc; i < callee_code->local_count; i++) args[i] = EMPTY_VAL;
                frame = &fiber->frames[fiber->frame_count++];
                frame->func = fn;
                frame->base = (uint32_t)(args - fiber->stack);
                frame->flags = 0;
                frame->coro = NULL;
                code = callee_code;
                ip = code->code;
                slots = args;
                sp = args + code->local_count;
                consts = code->consts;
                DISPATCH();
            }
        }
        call_at = (uint32_t)(sp - fiber->stack) - (uint32_t)call_argc - 1;
        goto do_call;
    }
    CASE(CALL_KW) {
        call_kwnames = (ObjTuple *)AS_OBJ(POP());
        call_argc = (int)ARG - (int)call_kwnames->length;
        call_at = (uint32_t)(sp - fiber->stack) - ARG - 1;
        goto do_call;
    }
    CASE(CALL_METHOD)
        call_argc = (int)ARG;
        call_kwnames = NULL;
        goto do_method_call;
    CASE(CALL_METHOD_KW)
        call_kwnames = (ObjTuple *)AS_OBJ(POP());
        call_argc = (int)ARG - (int)call_kwnames->length;
    do_method_call: {
        int nkw = call_kwnames ? (int)call_kwnames->length : 0;
        Value *self = sp - call_argc - nkw - 1;
        if (IS_EMPTY(*self)) {
            // not a method: drop the marker so the callable sits right below the args
            memmove(self, self + 1, sizeof(Value) * (size_t)(call_argc + nkw));
            sp--;
        } else {
            call_argc++;
        }
        call_at = (uint32_t)(sp - fiber->stack) - (uint32_t)(call_argc + nkw) - 1;
        goto do_call;
    }
    CASE(CALL_EX) {
        STORE_FRAME();
        call_at = (uint32_t)(sp - fiber->stack) - 2 - (ARG & 1);
        if (!spread_call_args(vm, fiber, call_at, ARG & 1, &call_argc, &call_kwnames)) THROW();
        sp = fiber->stack + fiber->sp;
        goto do_call;
    }
    do_call: {
        STORE_FRAME();
        if (vm_interrupt) {
            sp = fiber->stack + fiber->sp;
            raise_interrupt(vm);
            THROW();
        }
        if (!burn_fuel(vm)) {
            sp = fiber->stack + fiber->sp;
            THROW();
        }
        if (vm->bytes_allocated > vm->next_gc || vm->gc_stress) {
            if (call_kwnames) vm_push_root(vm, OBJ_VAL(call_kwnames));
            gc_collect(vm);
            if (call_kwnames) vm_pop_roots(vm, 1);
        }
        bool await_next = INSTR_OP(*ip) == OP_AWAIT;
        Value callee = fiber->stack[call_at];
        if (IS_OBJ_TYPE(callee, OBJ_NATIVE) && !call_kwnames && !await_next) {
            // call_value's native case, without its frame
            Value result = NONE_VAL;
            bool ok = ((ObjNative *)AS_OBJ(callee))->fn(vm, fiber->stack + call_at + 1, call_argc, NULL, &result);
            slots = fiber->stack + frame->base;
            if (!ok) {
                sp = fiber->stack + fiber->sp;
                THROW();
            }
            fiber->stack[call_at] = result;
            fiber->sp = call_at + 1;
            sp = fiber->stack + call_at + 1;
            DISPATCH();
        }
        CallOutcome outcome = call_value(vm, fiber, call_at, call_argc, call_kwnames, await_next);
        if (outcome == CALL_DONE) {
            sp = fiber->stack + fiber->sp;
            slots = fiber->stack + frame->base;
            DISPATCH();
        }
        if (outcome == CALL_ERROR) {
            sp = fiber->stack + fiber->sp;
            slots = fiber->stack + frame->base;
            THROW();
        }
        if (outcome == CALL_SUSPENDED) {
            frame->ip = ip + 1; // skip the AWAIT
            result = RUN_SUSPEND;
            goto done;
        }
        // the frames array may have moved: address the caller by index
        if (outcome == CALL_FRAME_AWAITED) fiber->frames[fiber->frame_count - 2].ip = ip + 1; // skip the AWAIT
        LOAD_FRAME();
        DISPATCH();
    }
    }

    CASE(MAKE_FUNCTION) {
        STORE_FRAME();
        Value fn;
        if (!build_function(vm, frame, ARG, sp, &fn)) THROW();
        sp -= 1 + ((ARG & MF_DEFAULTS) != 0) + ((ARG & MF_KWDEFAULTS) != 0) + ((ARG & MF_CLOSURE) != 0);
        PUSH(fn);
        DISPATCH();
    }
    CASE(RETURN_VALUE) {
        Value v = POP();
        if (frame->coro) frame->coro->state = CORO_DONE;
        bool stop = frame->flags & FRAME_STOP;
        uint32_t at = frame->base - 1;
        fiber->stack[at] = v;
        fiber->sp = at + 1;
        fiber->frame_count--;
        if (stop) {
            result = RUN_RETURN;
            goto done;
        }
        LOAD_FRAME();
        DISPATCH();
    }
    CASE(AWAIT) {
        Value aw = PEEK(1);
        STORE_FRAME();
        if (IS_OBJ(aw)) {
            switch (OBJ_TYPE(aw)) {
            case OBJ_COROUTINE: {
                ObjCoroutine *co = (ObjCoroutine *)AS_OBJ(aw);
                if (co->state != CORO_CREATED) {
                    vm_raise(vm, CLS_RUNTIME_ERROR, "cannot reuse already awaited coroutine");
                    THROW();
                }
                if (!push_coroutine_frame(vm, fiber, co, (uint32_t)(sp - fiber->stack) - 1)) {
                    sp = fiber->stack + fiber->sp;
                    THROW();
                }
                LOAD_FRAME();
                DISPATCH();
            }
            case OBJ_FUTURE:
            case OBJ_TASK: {
                ObjFuture *fut = (ObjFuture *)AS_OBJ(aw);
                if (future_done(fut)) {
                    Value v;
                    if (!future_result(vm, fut, &v)) THROW();
                    PEEK(1) = v;
                    DISPATCH();
                }
                ObjTask *task = fiber->task;
                if (!task) {
                    vm_raise(vm, CLS_RUNTIME_ERROR, "await outside of a running task");
                    THROW();
                }
                if ((ObjFuture *)task == fut) {
                    StrBuf buf;
                    strbuf_init(&buf);
                    if (value_repr(vm, aw, &buf))
                        vm_raise(vm, CLS_RUNTIME_ERROR, "Task cannot await on itself: %s", buf.chars);
                    strbuf_free(&buf);
                    THROW();
                }
                sp--;
                STORE_FRAME();
                if (!task_wait_future(vm, task, fut)) THROW();
                result = RUN_SUSPEND;
                goto done;
            }
            case OBJ_SLEEP: {
                ObjSleep *sl = (ObjSleep *)AS_OBJ(aw);
                ObjTask *task = fiber->task;
                if (!task) {
                    vm_raise(vm, CLS_RUNTIME_ERROR, "await outside of a running task");
                    THROW();
                }
                sp--;
                STORE_FRAME();
                if (!task_sleep(vm, task, sl->delay, sl->result)) THROW();
                result = RUN_SUSPEND;
                goto done;
            }
            default:
                break;
            }
        }
        vm_raise(vm, CLS_TYPE_ERROR, "object %s can't be used in 'await' expression", value_type_name(vm, aw));
        THROW();
    }
    CASE(IMPORT_NAME) {
        STORE_FRAME();
        Value module;
        if (!vm_import(vm, code->names[ARG], &module)) THROW();
        PUSH(module);
        DISPATCH();
    }
    CASE(IMPORT_FROM) {
        STORE_FRAME();
        Value v;
        if (!value_getattr(vm, PEEK(1), code->names[ARG], &v)) {
            vm->exception = EMPTY_VAL;
            ObjModule *m = (ObjModule *)AS_OBJ(PEEK(1));
            vm_raise(vm, CLS_IMPORT_ERROR, "cannot import name '%s' from '%s' (unknown location)",
                     code->names[ARG]->chars, m->name->chars);
            THROW();
        }
        PUSH(v);
        DISPATCH();
    }
    CASE(RAISE_VARARGS) {
        STORE_FRAME();
        if (ARG == 0) {
            if (!IS_OBJ_TYPE(fiber->handling, OBJ_EXCEPTION)) {
                vm_raise(vm, CLS_RUNTIME_ERROR, "No active exception to reraise");
                THROW();
            }
            vm->exception = fiber->handling;
            goto unwind;
        }
        Value cause = ARG == 2 ? POP() : EMPTY_VAL;
        Value exc;
        if (!make_exception(vm, POP(), &exc)) THROW();
        if (!IS_EMPTY(cause)) {
            ObjException *e = (ObjException *)AS_OBJ(exc);
            if (IS_NONE(cause)) {
                e->cause = NONE_VAL;
            } else {
                bool exc_like = IS_OBJ_TYPE(cause, OBJ_EXCEPTION) ||
                                (IS_OBJ_TYPE(cause, OBJ_CLASS) &&
                                 class_is_subclass((ObjClass *)AS_OBJ(cause), vm->classes[CLS_BASE_EXCEPTION]));
                if (!exc_like) {
                    vm_raise(vm, CLS_TYPE_ERROR, "exception causes must derive from BaseException");
                    THROW();
                }
                Value c;
                if (!make_exception(vm, cause, &c)) THROW();
                e->cause = c;
            }
            e->suppress_context = true;
        }
        vm->exception = exc;
        THROW();
    }
    CASE(RERAISE) {
        vm->exception = POP();
        STORE_FRAME();
        goto unwind;
    }
    CASE(PUSH_EXC_INFO) {
        Value exc = PEEK(1);
        PEEK(1) = fiber->handling;
        PUSH(exc);
        fiber->handling = exc;
        DISPATCH();
    }
    CASE(POP_EXCEPT) {
        fiber->handling = POP();
        DISPATCH();
    }
    CASE(CHECK_EXC_MATCH) {
        STORE_FRAME();
        bool match;
        if (!check_exc_match(vm, PEEK(2), PEEK(1), &match)) THROW();
        PEEK(1) = BOOL_VAL(match);
        DISPATCH();
    }
    CASE(LOAD_ASSERTION_ERROR) {
        PUSH(OBJ_VAL(vm->classes[CLS_ASSERTION_ERROR]));
        DISPATCH();
    }
    CASE(PRINT_EXPR) {
        STORE_FRAME();
        Value v = PEEK(1);
        if (!IS_NONE(v)) {
            StrBuf buf;
            strbuf_init(&buf);
            if (!value_repr(vm, v, &buf)) {
                strbuf_free(&buf);
                THROW();
            }
            strbuf_append_char(&buf, '\n');
            vm_write_out(vm, buf.chars, buf.length);
            strbuf_free(&buf);
            dict_set_str(vm, vm->builtins, str_intern(vm, "_", 1), v);
        }
        sp--;
        DISPATCH();
    }
    CASE(LOAD_NAME) {
        // class bodies: the namespace (slot 0), then globals, then builtins
        ObjString *name = code->names[ARG];
        Value *found = dict_find_str((ObjDict *)AS_OBJ(slots[0]), name);
        if (!found) found = dict_find_str(frame->func->globals, name);
        if (!found) found = dict_find_str(vm->builtins, name);
        if (!found) {
            STORE_FRAME();
            vm_raise(vm, CLS_NAME_ERROR, "name '%s' is not defined", name->chars);
            THROW();
        }
        PUSH(*found);
        DISPATCH();
    }
    CASE(STORE_NAME) {
        STORE_FRAME();
        dict_set_str(vm, (ObjDict *)AS_OBJ(slots[0]), code->names[ARG], PEEK(1));
        sp--;
        DISPATCH();
    }
    CASE(DELETE_NAME) {
        STORE_FRAME();
        bool found;
        if (!dict_delete(vm, (ObjDict *)AS_OBJ(slots[0]), OBJ_VAL(code->names[ARG]), &found)) THROW();
        if (!found) {
            vm_raise(vm, CLS_NAME_ERROR, "name '%s' is not defined", code->names[ARG]->chars);
            THROW();
        }
        DISPATCH();
    }
    CASE(BUILD_CLASS) {
        // [body function, name, bases] -> class
        STORE_FRAME();
        Value cls;
        if (!class_build(vm, PEEK(3), PEEK(2), PEEK(1), &cls)) THROW();
        sp -= 2;
        PEEK(1) = cls;
        DISPATCH();
    }
    CASE(BEFORE_WITH) {
        // mgr -> bound __exit__ (or __aexit__), then __enter__() (or __aenter__())
        STORE_FRAME();
        Value mgr = PEEK(1);
        bool is_async = ARG != 0;
        Value enter, exit_fn;
        ObjString *enter_name = str_intern(vm, is_async ? "__aenter__" : "__enter__", is_async ? 10 : 9);
        ObjString *exit_name = str_intern(vm, is_async ? "__aexit__" : "__exit__", is_async ? 9 : 8);
        if (!value_getattr(vm, mgr, enter_name, &enter) || !value_getattr(vm, mgr, exit_name, &exit_fn)) {
            vm->exception = EMPTY_VAL;
            vm_raise(vm, CLS_TYPE_ERROR, "'%s' object does not support the %scontext manager protocol",
                     value_type_name(vm, mgr), is_async ? "asynchronous " : "");
            THROW();
        }
        PEEK(1) = exit_fn;
        PUSH(enter);
        STORE_FRAME();
        Value entered;
        if (!vm_call(vm, enter, NULL, 0, NULL, &entered)) THROW();
        PEEK(1) = entered;
        DISPATCH();
    }
    CASE(WITH_EXCEPT_START) {
        // [exit, prev, exc] -> [exit, prev, exc, exit(type, exc, None)]
        STORE_FRAME();
        Value exc = PEEK(1);
        Value args[3] = {OBJ_VAL(value_class(vm, exc)), exc, NONE_VAL};
        Value res;
        if (!vm_call(vm, PEEK(3), args, 3, NULL, &res)) THROW();
        PUSH(res);
        DISPATCH();
    }
#if !COMPUTED_GOTO
    default:
        vm_raise(vm, CLS_RUNTIME_ERROR, "bad opcode %u", INSTR_OP(ins));
        goto error;
    }
#endif

error:
    // vm->exception is set; ip is past the faulting instruction.
    STORE_FRAME();
    {
        ObjException *e = IS_OBJ_TYPE(vm->exception, OBJ_EXCEPTION)
                              ? (ObjException *)AS_OBJ(vm->exception) : NULL;
        if (e && IS_NONE(e->context) && IS_OBJ_TYPE(fiber->handling, OBJ_EXCEPTION) &&
            !value_same(fiber->handling, vm->exception))
            e->context = fiber->handling;
        add_trace(vm, vm->exception, code, (uint32_t)(ip - code->code) - 1);
    }
unwind:
    for (;;) {
        uint32_t at = (uint32_t)(frame->ip - code->code) - 1;
        const ExcEntry *h = find_handler(code, at);
        if (h) {
            sp = slots + code->local_count + h->depth;
            PUSH(vm->exception);
            vm->exception = EMPTY_VAL;
            ip = code->code + h->handler;
            DISPATCH();
        }
        if (frame->coro) frame->coro->state = CORO_DONE;
        bool stop = frame->flags & FRAME_STOP;
        fiber->sp = frame->base - 1;
        fiber->frame_count--;
        if (stop || fiber->frame_count == 0) {
            result = RUN_ERROR;
            goto done;
        }
        LOAD_FRAME();
        add_trace(vm, vm->exception, code, (uint32_t)(ip - code->code) - 1);
    }

done:
    vm->fiber = saved_fiber;
    return result;
#undef STORE_FRAME
#undef LOAD_FRAME
#undef PUSH
#undef POP
#undef PEEK
#undef ARG
#undef THROW
#undef CASE
#undef DISPATCH
}
