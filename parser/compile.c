// parser/compile.c - AST to bytecode. Two passes per module: scope analysis
// decides every name's storage (Python's rule: a name bound anywhere in a
// function is local unless declared global/nonlocal; names captured by inner
// functions live in cells), then emission walks the tree again, taking the
// analysed scopes in the same order. try blocks become exception-table
// entries (CPython 3.11 style): nothing is pushed at run time.
#include "parser/compile.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/code.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/ops.h"

// ---- scopes -------------------------------------------------------------------

enum {
    SYM_ASSIGNED = 1,
    SYM_PARAM = 2,
    SYM_GLOBAL = 4,   // declared global
    SYM_NONLOCAL = 8, // declared nonlocal
    SYM_USED = 16,
    SYM_CELL = 32,    // local captured by an inner scope
    SYM_FREE = 64,    // captured from an enclosing scope
};

typedef struct {
    const char *name;
    int length;
    int flags;
    int index; // slot for locals/cells, index for free vars
    int line, col;
} Symbol;

// A class body runs like a function whose assignments go to a namespace
// dict (slot 0); functions nested in it do not see its names.
typedef enum { SCOPE_MODULE, SCOPE_FUNCTION, SCOPE_COMPREHENSION, SCOPE_CLASS } ScopeKind;

typedef struct Scope Scope;
struct Scope {
    Scope *parent;
    ScopeKind kind;
    Node *node;             // the def, lambda, comprehension or class it belongs to
    bool is_async;
    Symbol *syms;
    int sym_count, sym_capacity;
    Scope **children;
    int child_count, child_capacity;
    // resolved layout (once: a finally body is emitted twice)
    bool laid_out;
    int local_count;
    int free_count;
};

typedef struct {
    VM *vm;
    const char *filename;
    ObjString *filename_str;
    ObjString *source;
    CompileMode mode;
    CompileError *err;
    jmp_buf fail;
    Scope **all_scopes;
    int scope_count, scope_capacity;
    struct Emitter *current; // innermost emitter, freed with its parents on failure
} Unit;

static void fail(Unit *u, int line, int col, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    snprintf(u->err->type, sizeof u->err->type, "SyntaxError");
    vsnprintf(u->err->message, sizeof u->err->message, fmt, args);
    va_end(args);
    u->err->line = line;
    u->err->col = col;
    longjmp(u->fail, 1);
}

static void *xrealloc(void *p, size_t size) {
    void *r = realloc(p, size ? size : 1);
    if (!r) {
        fputs("asyncrun: out of memory\n", stderr);
        abort();
    }
    return r;
}

static Scope *scope_new(Unit *u, Scope *parent, ScopeKind kind, Node *node) {
    Scope *s = calloc(1, sizeof(Scope));
    if (!s) abort();
    s->parent = parent;
    s->kind = kind;
    s->node = node;
    if (parent) {
        if (parent->child_count == parent->child_capacity) {
            parent->child_capacity = parent->child_capacity ? parent->child_capacity * 2 : 4;
            parent->children = xrealloc(parent->children, sizeof(Scope *) * (size_t)parent->child_capacity);
        }
        parent->children[parent->child_count++] = s;
    }
    if (u->scope_count == u->scope_capacity) {
        u->scope_capacity = u->scope_capacity ? u->scope_capacity * 2 : 16;
        u->all_scopes = xrealloc(u->all_scopes, sizeof(Scope *) * (size_t)u->scope_capacity);
    }
    u->all_scopes[u->scope_count++] = s;
    return s;
}

static void scopes_free(Unit *u) {
    for (int i = 0; i < u->scope_count; i++) {
        free(u->all_scopes[i]->syms);
        free(u->all_scopes[i]->children);
        free(u->all_scopes[i]);
    }
    free(u->all_scopes);
}

static Symbol *sym_find(Scope *s, const char *name, int length) {
    for (int i = 0; i < s->sym_count; i++)
        if (s->syms[i].length == length && memcmp(s->syms[i].name, name, (size_t)length) == 0)
            return &s->syms[i];
    return NULL;
}

static Symbol *sym_add(Scope *s, const char *name, int length, int flags, int line, int col) {
    Symbol *sym = sym_find(s, name, length);
    if (!sym) {
        if (s->sym_count == s->sym_capacity) {
            s->sym_capacity = s->sym_capacity ? s->sym_capacity * 2 : 8;
            s->syms = xrealloc(s->syms, sizeof(Symbol) * (size_t)s->sym_capacity);
        }
        sym = &s->syms[s->sym_count++];
        *sym = (Symbol){name, length, 0, -1, line, col};
    }
    sym->flags |= flags;
    return sym;
}

// ---- pass 1: analysis ------------------------------------------------------------

static void analyze_expr(Unit *u, Scope *s, Node *n);
static void analyze_stmts(Unit *u, Scope *s, NodeList *body);

static void analyze_list(Unit *u, Scope *s, NodeList *l) {
    for (int i = 0; i < l->count; i++) analyze_expr(u, s, l->items[i]);
}

static void bind_name(Unit *u, Scope *s, Name name, int line, int col) {
    Symbol *sym = sym_find(s, name.chars, name.length);
    if (sym && (sym->flags & SYM_GLOBAL) && s->kind != SCOPE_MODULE) return;
    sym_add(s, name.chars, name.length, SYM_ASSIGNED, line, col);
}

static void analyze_target(Unit *u, Scope *s, Node *t) {
    switch (t->kind) {
    case N_NAME:
        bind_name(u, s, t->as.name, t->line, t->col);
        break;
    case N_TUPLE:
    case N_LIST:
        for (int i = 0; i < t->as.list.count; i++) analyze_target(u, s, t->as.list.items[i]);
        break;
    case N_STARRED:
        analyze_target(u, s, t->as.unary.operand);
        break;
    default:
        analyze_expr(u, s, t);
        break;
    }
}

static void analyze_function(Unit *u, Scope *s, Node *fn) {
    // defaults and decorators are evaluated in the enclosing scope
    for (int i = 0; i < fn->as.function.param_count; i++)
        if (fn->as.function.params[i].default_value)
            analyze_expr(u, s, fn->as.function.params[i].default_value);
    analyze_list(u, s, &fn->as.function.decorators);
    Scope *child = scope_new(u, s, SCOPE_FUNCTION, fn);
    child->is_async = fn->as.function.is_async;
    for (int i = 0; i < fn->as.function.param_count; i++) {
        Param *p = &fn->as.function.params[i];
        Symbol *existing = sym_find(child, p->name.chars, p->name.length);
        if (existing)
            fail(u, p->line, p->col, "duplicate argument '%.*s' in function definition",
                 p->name.length, p->name.chars);
        sym_add(child, p->name.chars, p->name.length, SYM_PARAM | SYM_ASSIGNED, p->line, p->col);
    }
    analyze_stmts(u, child, &fn->as.function.body);
}

static void analyze_comprehension(Unit *u, Scope *s, Node *n) {
    // same order as emission: the comprehension's scope, then (in the
    // enclosing scope) its first iterable
    Comprehension *gens = n->as.comp.generators;
    Scope *child = scope_new(u, s, SCOPE_COMPREHENSION, n);
    analyze_expr(u, s, gens[0].iter);
    child->is_async = s->is_async;
    sym_add(child, ".0", 2, SYM_PARAM | SYM_ASSIGNED, n->line, n->col);
    for (int g = 0; g < n->as.comp.generator_count; g++) {
        if (g > 0) analyze_expr(u, child, gens[g].iter);
        analyze_target(u, child, gens[g].target);
        analyze_list(u, child, &gens[g].ifs);
    }
    analyze_expr(u, child, n->as.comp.elt);
    if (n->as.comp.value) analyze_expr(u, child, n->as.comp.value);
}

static void analyze_expr(Unit *u, Scope *s, Node *n) {
    if (!n) return;
    switch (n->kind) {
    case N_NAME:
        sym_add(s, n->as.name.chars, n->as.name.length, SYM_USED, n->line, n->col);
        break;
    case N_FSTRING:
    case N_TUPLE:
    case N_LIST:
    case N_SET:
        analyze_list(u, s, &n->as.list);
        break;
    case N_FORMATTED:
        analyze_expr(u, s, n->as.formatted.value);
        analyze_expr(u, s, n->as.formatted.spec);
        break;
    case N_DICT:
        for (int i = 0; i < n->as.dict.keys.count; i++) analyze_expr(u, s, n->as.dict.keys.items[i]);
        analyze_list(u, s, &n->as.dict.values);
        break;
    case N_STARRED:
    case N_UNARY:
    case N_AWAIT:
    case N_YIELD:
        analyze_expr(u, s, n->as.unary.operand);
        break;
    case N_ATTR:
        analyze_expr(u, s, n->as.attr.object);
        break;
    case N_SUBSCRIPT:
        analyze_expr(u, s, n->as.subscript.object);
        analyze_expr(u, s, n->as.subscript.index);
        break;
    case N_SLICE:
        analyze_expr(u, s, n->as.slice.lower);
        analyze_expr(u, s, n->as.slice.upper);
        analyze_expr(u, s, n->as.slice.step);
        break;
    case N_CALL:
        analyze_expr(u, s, n->as.call.func);
        analyze_list(u, s, &n->as.call.args);
        for (int i = 0; i < n->as.call.keyword_count; i++) analyze_expr(u, s, n->as.call.keywords[i].value);
        break;
    case N_BINOP:
        analyze_expr(u, s, n->as.binop.left);
        analyze_expr(u, s, n->as.binop.right);
        break;
    case N_WALRUS: {
        Scope *target = s;
        while (target->kind == SCOPE_COMPREHENSION) target = target->parent;
        analyze_expr(u, s, n->as.binop.right);
        if (target != s) {
            bind_name(u, target, n->as.binop.left->as.name, n->line, n->col);
            sym_add(s, n->as.binop.left->as.name.chars, n->as.binop.left->as.name.length, SYM_USED, n->line, n->col);
            // mark: stored through the enclosing scope
            Symbol *sym = sym_find(s, n->as.binop.left->as.name.chars, n->as.binop.left->as.name.length);
            sym->flags |= SYM_NONLOCAL;
            if (target->kind == SCOPE_MODULE) sym->flags = (sym->flags & ~SYM_NONLOCAL) | SYM_GLOBAL;
        } else {
            bind_name(u, s, n->as.binop.left->as.name, n->line, n->col);
        }
        break;
    }
    case N_BOOLOP:
        analyze_list(u, s, &n->as.boolop.values);
        break;
    case N_COMPARE:
        analyze_expr(u, s, n->as.compare.left);
        analyze_list(u, s, &n->as.compare.comparators);
        break;
    case N_IFEXP:
        analyze_expr(u, s, n->as.ifexp.test);
        analyze_expr(u, s, n->as.ifexp.body);
        analyze_expr(u, s, n->as.ifexp.orelse);
        break;
    case N_LAMBDA:
        analyze_function(u, s, n);
        break;
    case N_LISTCOMP:
    case N_SETCOMP:
    case N_GENEXP:
    case N_DICTCOMP:
        analyze_comprehension(u, s, n);
        break;
    default:
        break;
    }
}

static void analyze_stmt(Unit *u, Scope *s, Node *n) {
    switch (n->kind) {
    case N_EXPR_STMT:
    case N_RETURN:
        analyze_expr(u, s, n->as.unary.operand);
        break;
    case N_ASSIGN:
        analyze_expr(u, s, n->as.assign.value);
        for (int i = 0; i < n->as.assign.targets.count; i++) analyze_target(u, s, n->as.assign.targets.items[i]);
        break;
    case N_AUGASSIGN:
        analyze_expr(u, s, n->as.augassign.value);
        if (n->as.augassign.target->kind == N_NAME) {
            analyze_expr(u, s, n->as.augassign.target);
            analyze_target(u, s, n->as.augassign.target);
        } else {
            analyze_expr(u, s, n->as.augassign.target);
        }
        break;
    case N_ANNASSIGN:
        if (n->as.annassign.value) {
            analyze_expr(u, s, n->as.annassign.value);
            analyze_target(u, s, n->as.annassign.target);
        } else if (n->as.annassign.target->kind == N_NAME) {
            bind_name(u, s, n->as.annassign.target->as.name, n->line, n->col);
        }
        break;
    case N_DEL:
        for (int i = 0; i < n->as.list.count; i++) analyze_target(u, s, n->as.list.items[i]);
        break;
    case N_RAISE:
        analyze_expr(u, s, n->as.raise.exc);
        analyze_expr(u, s, n->as.raise.cause);
        break;
    case N_GLOBAL:
    case N_NONLOCAL:
        for (int i = 0; i < n->as.names.count; i++) {
            Name name = n->as.names.names[i];
            Symbol *sym = sym_find(s, name.chars, name.length);
            bool global = n->kind == N_GLOBAL;
            if (!global && s->kind == SCOPE_MODULE)
                fail(u, n->line, n->col, "nonlocal declaration not allowed at module level");
            if (sym && (sym->flags & SYM_PARAM))
                fail(u, n->line, n->col, "name '%.*s' is parameter and %s", name.length, name.chars,
                     global ? "global" : "nonlocal");
            if (sym && (sym->flags & (SYM_USED | SYM_ASSIGNED)))
                fail(u, n->line, n->col, "name '%.*s' is %s %s declaration", name.length, name.chars,
                     (sym->flags & SYM_ASSIGNED) ? "assigned to before" : "used prior to",
                     global ? "global" : "nonlocal");
            sym_add(s, name.chars, name.length, global ? SYM_GLOBAL : SYM_NONLOCAL, n->line, n->col);
        }
        break;
    case N_IF:
    case N_WHILE:
        analyze_expr(u, s, n->as.cond.test);
        analyze_stmts(u, s, &n->as.cond.body);
        analyze_stmts(u, s, &n->as.cond.orelse);
        break;
    case N_FOR:
        analyze_expr(u, s, n->as.for_.iter);
        analyze_target(u, s, n->as.for_.target);
        analyze_stmts(u, s, &n->as.for_.body);
        analyze_stmts(u, s, &n->as.for_.orelse);
        break;
    case N_TRY:
        analyze_stmts(u, s, &n->as.try_.body);
        for (int i = 0; i < n->as.try_.handler_count; i++) {
            ExceptHandler *h = &n->as.try_.handlers[i];
            analyze_expr(u, s, h->type);
            if (h->name.chars) bind_name(u, s, h->name, h->line, h->col);
            analyze_stmts(u, s, &h->body);
        }
        analyze_stmts(u, s, &n->as.try_.orelse);
        analyze_stmts(u, s, &n->as.try_.finalbody);
        break;
    case N_WITH:
        for (int i = 0; i < n->as.with.item_count; i++) {
            analyze_expr(u, s, n->as.with.items[i].context);
            if (n->as.with.items[i].target) analyze_target(u, s, n->as.with.items[i].target);
        }
        analyze_stmts(u, s, &n->as.with.body);
        break;
    case N_FUNCDEF:
        analyze_function(u, s, n);
        bind_name(u, s, n->as.function.name, n->line, n->col);
        break;
    case N_CLASSDEF: {
        // same order as emission: decorators, the body's scope, then the bases
        analyze_list(u, s, &n->as.classdef.decorators);
        if (n->as.classdef.keyword_count)
            fail(u, n->line, n->col, "class keyword arguments (metaclass=...) are not supported");
        Scope *child = scope_new(u, s, SCOPE_CLASS, n);
        child->is_async = false;
        sym_add(child, ".namespace", 10, SYM_PARAM | SYM_ASSIGNED, n->line, n->col);
        analyze_stmts(u, child, &n->as.classdef.body);
        analyze_list(u, s, &n->as.classdef.bases);
        bind_name(u, s, n->as.classdef.name, n->line, n->col);
        break;
    }
    case N_IMPORT:
    case N_IMPORTFROM:
        for (int i = 0; i < n->as.import.count; i++) {
            Name bound = n->as.import.aliases[i].chars ? n->as.import.aliases[i] : n->as.import.names[i];
            if (n->kind == N_IMPORT && !n->as.import.aliases[i].chars) {
                const char *dot = memchr(bound.chars, '.', (size_t)bound.length);
                if (dot) bound.length = (int)(dot - bound.chars);
            }
            if (bound.length == 1 && bound.chars[0] == '*')
                fail(u, n->line, n->col, "'from ... import *' is not supported");
            bind_name(u, s, bound, n->line, n->col);
        }
        break;
    case N_ASSERT:
        analyze_expr(u, s, n->as.assert_.test);
        analyze_expr(u, s, n->as.assert_.msg);
        break;
    default:
        break;
    }
}

static void analyze_stmts(Unit *u, Scope *s, NodeList *body) {
    for (int i = 0; i < body->count; i++) analyze_stmt(u, s, body->items[i]);
}

// Mark `name` as captured: FREE in `s` and every scope up to the one that
// binds it (where it becomes a CELL). Returns false when no enclosing
// function binds it.
static bool capture(Scope *s, const char *name, int length) {
    for (Scope *p = s->parent; p && p->kind != SCOPE_MODULE; p = p->parent) {
        if (p->kind == SCOPE_CLASS) continue; // class names are not visible inside
        Symbol *sym = sym_find(p, name, length);
        if (!sym) continue;
        if (sym->flags & SYM_GLOBAL) return false;
        if (sym->flags & (SYM_ASSIGNED | SYM_PARAM)) {
            if (!(sym->flags & (SYM_NONLOCAL | SYM_FREE))) {
                sym->flags |= SYM_CELL;
            }
            if (sym->flags & SYM_NONLOCAL) {
                if (!capture(p, name, length)) return false;
                sym->flags |= SYM_FREE;
            }
            for (Scope *q = s; q != p; q = q->parent) sym_add(q, name, length, SYM_FREE, 0, 0);
            return true;
        }
        if (sym->flags & SYM_FREE) {
            for (Scope *q = s; q != p; q = q->parent) sym_add(q, name, length, SYM_FREE, 0, 0);
            return true;
        }
    }
    return false;
}

static void resolve(Unit *u) {
    // Pre-order: parents are resolved before their children use them.
    for (int i = 0; i < u->scope_count; i++) {
        Scope *s = u->all_scopes[i];
        if (s->kind == SCOPE_MODULE) continue;
        for (int k = 0; k < s->sym_count; k++) {
            Symbol *sym = &s->syms[k];
            if (sym->flags & SYM_GLOBAL) continue;
            if (sym->flags & SYM_NONLOCAL) {
                if (!capture(s, sym->name, sym->length))
                    fail(u, sym->line, sym->col, "no binding for nonlocal '%.*s' found", sym->length, sym->name);
                sym = &s->syms[k];
                sym->flags |= SYM_FREE;
                continue;
            }
            if (sym->flags & (SYM_ASSIGNED | SYM_PARAM)) continue;
            if (sym->flags & SYM_FREE) continue;
            if (s->kind == SCOPE_CLASS && !(sym->flags & SYM_USED)) continue;
            if (capture(s, sym->name, sym->length)) {
                sym = &s->syms[k];
                sym->flags |= SYM_FREE;
            }
        }
    }
}

// Slots: parameters in binding order, then the other locals; free variables
// numbered apart.
static void layout(Scope *s, Node *fn) {
    if (s->kind == SCOPE_MODULE || s->laid_out) return;
    s->laid_out = true;
    int slot = 0;
    if (fn) {
        Param *params = fn->as.function.params;
        int count = fn->as.function.param_count;
        ParamKind order[4] = {PARAM_POSITIONAL, PARAM_KWONLY, PARAM_VARARGS, PARAM_VARKW};
        for (int o = 0; o < 4; o++)
            for (int i = 0; i < count; i++)
                if (params[i].kind == order[o])
                    sym_find(s, params[i].name.chars, params[i].name.length)->index = slot++;
    } else if (s->kind == SCOPE_CLASS) {
        sym_find(s, ".namespace", 10)->index = slot++;
    } else {
        sym_find(s, ".0", 2)->index = slot++;
    }
    int free_index = 0;
    for (int k = 0; k < s->sym_count; k++) {
        Symbol *sym = &s->syms[k];
        if (sym->flags & SYM_GLOBAL) continue;
        if ((sym->flags & SYM_FREE) && !(sym->flags & SYM_PARAM)) {
            sym->index = free_index++;
            continue;
        }
        if (s->kind == SCOPE_CLASS) continue; // class names live in the namespace
        if ((sym->flags & (SYM_ASSIGNED | SYM_PARAM)) && sym->index < 0) sym->index = slot++;
    }
    s->local_count = slot;
    s->free_count = free_index;
}

// ---- pass 2: emission ---------------------------------------------------------------

typedef enum { FB_WHILE, FB_FOR, FB_TRY_EXCEPT, FB_HANDLER, FB_FINALLY_TRY, FB_FINALLY_END, FB_WITH, FB_ASYNC_WITH } FBlockKind;

typedef struct {
    FBlockKind kind;
    int break_label, continue_label;
    NodeList *finalbody;   // FB_FINALLY_TRY
    Name handler_name;     // FB_HANDLER: bound exception name (chars NULL if none)
    int handler_depth;     // handler stack size when the block began
} FBlock;

typedef struct {
    int label;
    int depth;
} HandlerRec;

typedef struct Emitter Emitter;
struct Emitter {
    Unit *u;
    Emitter *parent;
    Scope *scope;
    Node *fn;               // function/lambda node, NULL for module or comprehension
    ObjString *qualname;
    uint32_t *code;
    uint32_t *lines;
    int32_t *ins_handler;   // handler record of each instruction, -1 for none
    uint32_t count, capacity;
    Value *consts;
    uint32_t const_count, const_capacity;
    ObjString **names;
    uint32_t name_count, name_capacity;
    int *label_pos;
    uint32_t placed_at;     // where the last label was placed (no fusing across it)
    int label_count, label_capacity;
    HandlerRec *handler_recs;
    int handler_rec_count, handler_rec_capacity;
    int *handler_stack;     // indices into handler_recs
    int handler_top, handler_stack_capacity;
    // handler stacks saved by unwind_to while it re-emits finally bodies
    // (which may unwind again): owned here so a syntax error frees them
    int *saved_handlers;
    int saved_count, saved_capacity;
    FBlock fblocks[64];
    int fblock_count;
    int depth, max_depth;
    int line;
    bool top_level_await;   // interactive module code that awaits
};

static void emit_expr(Emitter *e, Node *n);
static void emit_stmts(Emitter *e, NodeList *body);
static void store_target(Emitter *e, Node *t);
static ObjCode *emit_function_code(Emitter *parent, Node *fn, Scope *scope, const char *name, int name_len,
                                   Node *comp);

static int stack_effect(int op, uint32_t arg) {
    switch (op) {
    case OP_NOP: case OP_SWAP: case OP_DELETE_FAST: case OP_DELETE_CELL: case OP_DELETE_GLOBAL:
    case OP_MAKE_CELL: case OP_LOAD_ATTR: case OP_UNARY_NEG: case OP_UNARY_POS: case OP_UNARY_NOT:
    case OP_UNARY_INVERT: case OP_JUMP: case OP_JUMP_BACK: case OP_GET_ITER: case OP_LIST_TO_TUPLE:
    case OP_AWAIT: case OP_CHECK_EXC_MATCH: case OP_ADD_SMALL_INT: case OP_SUB_SMALL_INT:
    case OP_MUL_SMALL_INT: case OP_MOD_SMALL_INT: case OP_IADD_SMALL_INT: case OP_ISUB_SMALL_INT:
        return 0;
    case OP_POP_TOP: case OP_STORE_FAST: case OP_STORE_CELL: case OP_STORE_FREE: case OP_STORE_GLOBAL:
    case OP_BINARY_SUBSCR: case OP_BINARY_ADD: case OP_BINARY_SUB: case OP_BINARY_MUL:
    case OP_BINARY_MATMUL: case OP_BINARY_DIV: case OP_BINARY_FLOORDIV: case OP_BINARY_MOD:
    case OP_BINARY_POW: case OP_BINARY_LSHIFT: case OP_BINARY_RSHIFT: case OP_BINARY_AND:
    case OP_BINARY_OR: case OP_BINARY_XOR: case OP_INPLACE_OP: case OP_COMPARE_LT: case OP_COMPARE_LE:
    case OP_COMPARE_GT: case OP_COMPARE_GE: case OP_COMPARE_EQ: case OP_COMPARE_NE: case OP_IS_OP:
    case OP_CONTAINS_OP: case OP_POP_JUMP_IF_FALSE: case OP_POP_JUMP_IF_TRUE:
    case OP_JUMP_IF_FALSE_OR_POP: case OP_JUMP_IF_TRUE_OR_POP: case OP_LIST_APPEND: case OP_SET_ADD:
    case OP_LIST_EXTEND: case OP_SET_UPDATE: case OP_DICT_UPDATE: case OP_DICT_MERGE:
    case OP_RETURN_VALUE: case OP_RERAISE: case OP_POP_EXCEPT: case OP_PRINT_EXPR: case OP_STORE_NAME:
        return -1;
    case OP_BUILD_CLASS:
        return -2;
    case OP_COPY: case OP_LOAD_CONST: case OP_LOAD_NONE: case OP_LOAD_TRUE: case OP_LOAD_FALSE:
    case OP_LOAD_SMALL_INT: case OP_LOAD_FAST: case OP_LOAD_CELL: case OP_LOAD_FREE:
    case OP_LOAD_CELL_REF: case OP_LOAD_FREE_REF: case OP_LOAD_GLOBAL: case OP_LOAD_METHOD:
    case OP_FOR_ITER: case OP_IMPORT_NAME: case OP_IMPORT_FROM: case OP_PUSH_EXC_INFO:
    case OP_LOAD_ASSERTION_ERROR: case OP_WITH_EXCEPT_START: case OP_LOAD_NAME:
    case OP_BEFORE_WITH: // mgr -> exit, entered
        return 1;
    case OP_LOAD_FAST2:
        return 2;
    case OP_DELETE_ATTR:
        return -1;
    case OP_STORE_ATTR: case OP_DELETE_SUBSCR: case OP_MAP_ADD:
    case OP_JUMP_IF_NOT_LT: case OP_JUMP_IF_NOT_LE: case OP_JUMP_IF_NOT_GT:
    case OP_JUMP_IF_NOT_GE: case OP_JUMP_IF_NOT_EQ: case OP_JUMP_IF_NOT_NE:
        return -2;
    case OP_STORE_SUBSCR:
        return -3;
    case OP_BUILD_SLICE:
        return 1 - (int)arg;
    case OP_BUILD_TUPLE: case OP_BUILD_LIST: case OP_BUILD_SET: case OP_BUILD_STRING:
        return 1 - (int)arg;
    case OP_BUILD_MAP:
        return 1 - 2 * (int)arg;
    case OP_UNPACK_SEQUENCE:
        return (int)arg - 1;
    case OP_UNPACK_EX:
        return (int)(arg & 0xFFF) + (int)(arg >> 12);
    case OP_FORMAT_VALUE:
        return (arg & FMT_HAS_SPEC) ? -1 : 0;
    case OP_CALL:
        return -(int)arg;
    case OP_CALL_KW:
        return -(int)arg - 1;
    case OP_CALL_EX:
        return -1 - (int)(arg & 1);
    case OP_CALL_METHOD:
        return -(int)arg - 1;
    case OP_CALL_METHOD_KW:
        return -(int)arg - 2;
    case OP_MAKE_FUNCTION:
        return -(((arg & 1) != 0) + ((arg & 2) != 0) + ((arg & 4) != 0));
    case OP_RAISE_VARARGS:
        return -(int)arg;
    default:
        return 0;
    }
}

// LOAD_FAST a; LOAD_FAST b on one line, b not a jump target: one LOAD_FAST2
// (a in the low 12 bits of its argument, b above). True when fused.
static bool fuse_load_fast(Emitter *e, uint32_t b) {
    if (e->count == 0 || e->placed_at == e->count || b >= 4096) return false;
    uint32_t prev = e->code[e->count - 1];
    if (INSTR_OP(prev) != OP_LOAD_FAST || INSTR_ARG(prev) >= 4096) return false;
    if (e->lines[e->count - 1] != (uint32_t)e->line) return false;
    int handler = e->handler_top > 0 ? e->handler_stack[e->handler_top - 1] : -1;
    if (e->ins_handler[e->count - 1] != handler) return false;
    e->code[e->count - 1] = INSTR(OP_LOAD_FAST2, INSTR_ARG(prev) | b << 12);
    if (++e->depth > e->max_depth) e->max_depth = e->depth;
    return true;
}

static uint32_t emit(Emitter *e, int op, uint32_t arg) {
    if (arg > ARG_MAX) fail(e->u, e->line, 0, "too many constants or jumps in one function");
    if (op == OP_LOAD_FAST && fuse_load_fast(e, arg)) return e->count - 1;
    if (e->count == e->capacity) {
        e->capacity = e->capacity ? e->capacity * 2 : 64;
        e->code = xrealloc(e->code, sizeof(uint32_t) * e->capacity);
        e->lines = xrealloc(e->lines, sizeof(uint32_t) * e->capacity);
        e->ins_handler = xrealloc(e->ins_handler, sizeof(int32_t) * e->capacity);
    }
    e->code[e->count] = INSTR(op, arg);
    e->lines[e->count] = (uint32_t)e->line;
    e->ins_handler[e->count] = e->handler_top > 0 ? e->handler_stack[e->handler_top - 1] : -1;
    e->depth += stack_effect(op, arg);
    if (e->depth > e->max_depth) e->max_depth = e->depth;
    return e->count++;
}

static int new_label(Emitter *e) {
    if (e->label_count == e->label_capacity) {
        e->label_capacity = e->label_capacity ? e->label_capacity * 2 : 16;
        e->label_pos = xrealloc(e->label_pos, sizeof(int) * (size_t)e->label_capacity);
    }
    e->label_pos[e->label_count] = -1;
    return e->label_count++;
}

static void place(Emitter *e, int label) {
    e->label_pos[label] = (int)e->count;
    e->placed_at = e->count;
}

// Jumps carry label ids until finish() patches in instruction indexes.
static void emit_jump(Emitter *e, int op, int label) { emit(e, op, (uint32_t)label); }

static bool is_jump(int op) {
    return op == OP_JUMP || op == OP_JUMP_BACK || op == OP_POP_JUMP_IF_FALSE || op == OP_POP_JUMP_IF_TRUE ||
           op == OP_JUMP_IF_FALSE_OR_POP || op == OP_JUMP_IF_TRUE_OR_POP || op == OP_FOR_ITER ||
           (op >= OP_JUMP_IF_NOT_LT && op <= OP_JUMP_IF_NOT_NE);
}

static void push_handler(Emitter *e, int label, int depth) {
    if (e->handler_rec_count == e->handler_rec_capacity) {
        e->handler_rec_capacity = e->handler_rec_capacity ? e->handler_rec_capacity * 2 : 8;
        e->handler_recs = xrealloc(e->handler_recs, sizeof(HandlerRec) * (size_t)e->handler_rec_capacity);
    }
    e->handler_recs[e->handler_rec_count] = (HandlerRec){label, depth};
    if (e->handler_top == e->handler_stack_capacity) {
        e->handler_stack_capacity = e->handler_stack_capacity ? e->handler_stack_capacity * 2 : 8;
        e->handler_stack = xrealloc(e->handler_stack, sizeof(int) * (size_t)e->handler_stack_capacity);
    }
    e->handler_stack[e->handler_top++] = e->handler_rec_count++;
}

static void pop_handler(Emitter *e) { e->handler_top--; }

static uint32_t add_const(Emitter *e, Value v) {
    for (uint32_t i = 0; i < e->const_count; i++) {
        Value c = e->consts[i];
        if (c.tag == v.tag && c.as.i == v.as.i) return i;
    }
    if (e->const_count == e->const_capacity) {
        e->const_capacity = e->const_capacity ? e->const_capacity * 2 : 8;
        e->consts = xrealloc(e->consts, sizeof(Value) * e->const_capacity);
    }
    e->consts[e->const_count] = v;
    return e->const_count++;
}

static ObjString *intern_name(Emitter *e, const char *chars, int length) {
    return str_intern(e->u->vm, chars, (size_t)length);
}

static uint32_t add_name(Emitter *e, const char *chars, int length) {
    ObjString *s = intern_name(e, chars, length);
    for (uint32_t i = 0; i < e->name_count; i++)
        if (e->names[i] == s) return i;
    if (e->name_count == e->name_capacity) {
        e->name_capacity = e->name_capacity ? e->name_capacity * 2 : 8;
        e->names = xrealloc(e->names, sizeof(ObjString *) * e->name_capacity);
    }
    e->names[e->name_count] = s;
    return e->name_count++;
}

static void emit_const(Emitter *e, Value v) { emit(e, OP_LOAD_CONST, add_const(e, v)); }

static void emit_str_const(Emitter *e, const char *chars, int length) {
    emit_const(e, OBJ_VAL(str_intern(e->u->vm, chars, (size_t)length)));
}

// ---- names ----

typedef enum { ACCESS_LOAD, ACCESS_STORE, ACCESS_DELETE } Access;

static void emit_name(Emitter *e, Name name, Access access, int line, int col) {
    Scope *s = e->scope;
    if (s->kind == SCOPE_CLASS) {
        Symbol *sym = sym_find(s, name.chars, name.length);
        if (sym && (sym->flags & SYM_FREE) && !(sym->flags & SYM_ASSIGNED) && access == ACCESS_LOAD) {
            emit(e, OP_LOAD_FREE, (uint32_t)sym->index);
            return;
        }
        if (!sym || !(sym->flags & SYM_GLOBAL)) {
            uint32_t idx = add_name(e, name.chars, name.length);
            emit(e, access == ACCESS_LOAD ? OP_LOAD_NAME : access == ACCESS_STORE ? OP_STORE_NAME : OP_DELETE_NAME,
                 idx);
            return;
        }
    }
    Symbol *sym = s->kind == SCOPE_MODULE ? NULL : sym_find(s, name.chars, name.length);
    if (sym && !(sym->flags & SYM_GLOBAL)) {
        if ((sym->flags & SYM_FREE) && !(sym->flags & SYM_PARAM)) {
            if (access == ACCESS_DELETE) fail(e->u, line, col, "cannot delete captured variable");
            emit(e, access == ACCESS_LOAD ? OP_LOAD_FREE : OP_STORE_FREE, (uint32_t)sym->index);
            return;
        }
        if (sym->index >= 0) {
            bool cell = sym->flags & SYM_CELL;
            int op = access == ACCESS_LOAD ? (cell ? OP_LOAD_CELL : OP_LOAD_FAST)
                     : access == ACCESS_STORE ? (cell ? OP_STORE_CELL : OP_STORE_FAST)
                     : (cell ? OP_DELETE_CELL : OP_DELETE_FAST);
            emit(e, op, (uint32_t)sym->index);
            return;
        }
    }
    uint32_t idx = add_name(e, name.chars, name.length);
    emit(e, access == ACCESS_LOAD ? OP_LOAD_GLOBAL : access == ACCESS_STORE ? OP_STORE_GLOBAL : OP_DELETE_GLOBAL,
         idx);
}

// ---- expressions ----

static bool has_starred(NodeList *l) {
    for (int i = 0; i < l->count; i++)
        if (l->items[i]->kind == N_STARRED) return true;
    return false;
}

static bool constant_value(Emitter *e, Node *n, Value *out) {
    switch (n->kind) {
    case N_INT:
        if (n->as.int_.big) return false;
        *out = INT_VAL(n->as.int_.value);
        return true;
    case N_FLOAT: *out = FLOAT_VAL(n->as.float_value); return true;
    case N_STR: *out = OBJ_VAL(str_intern(e->u->vm, n->as.str.chars, (size_t)n->as.str.length)); return true;
    case N_TRUE: *out = TRUE_VAL; return true;
    case N_FALSE: *out = FALSE_VAL; return true;
    case N_NONE: *out = NONE_VAL; return true;
    default: return false;
    }
}

// CPython folds a set display of 3+ constants into BUILD_SET 0 + a frozenset
// constant + SET_UPDATE, and the iteration order of the result depends on it.
static bool emit_constant_set(Emitter *e, NodeList *items) {
    if (items->count < 3) return false;
    Value *values = malloc(sizeof(Value) * (size_t)items->count);
    if (!values) abort();
    for (int i = 0; i < items->count; i++)
        if (!constant_value(e, items->items[i], &values[i])) {
            free(values);
            return false;
        }
    ObjSet *frozen = set_new_constant(e->u->vm, values, (uint32_t)items->count);
    free(values);
    if (!frozen) {
        e->u->vm->exception = EMPTY_VAL;
        return false;
    }
    emit(e, OP_BUILD_SET, 0);
    emit_const(e, OBJ_VAL(frozen));
    emit(e, OP_SET_UPDATE, 1);
    return true;
}

static void emit_sequence_flags(Emitter *e, NodeList *items, int build_op, uint32_t extend_flags);

static void emit_sequence(Emitter *e, NodeList *items, int build_op) {
    emit_sequence_flags(e, items, build_op, 0);
}

// Displays longer than this are built one item at a time (as CPython does
// past its STACK_USE_GUIDELINE), so a 100000-item literal needs no deep stack.
#define DISPLAY_ON_STACK_MAX 30

static void emit_sequence_flags(Emitter *e, NodeList *items, int build_op, uint32_t extend_flags) {
    if (build_op == OP_BUILD_SET && emit_constant_set(e, items)) return;
    if (!has_starred(items) && items->count <= DISPLAY_ON_STACK_MAX) {
        for (int i = 0; i < items->count; i++) emit_expr(e, items->items[i]);
        emit(e, build_op, (uint32_t)items->count);
        return;
    }
    bool is_set = build_op == OP_BUILD_SET;
    emit(e, is_set ? OP_BUILD_SET : OP_BUILD_LIST, 0);
    for (int i = 0; i < items->count; i++) {
        Node *item = items->items[i];
        if (item->kind == N_STARRED) {
            emit_expr(e, item->as.unary.operand);
            emit(e, is_set ? OP_SET_UPDATE : OP_LIST_EXTEND, 1 | (is_set ? 0 : extend_flags));
        } else {
            emit_expr(e, item);
            emit(e, is_set ? OP_SET_ADD : OP_LIST_APPEND, 1);
        }
    }
    if (build_op == OP_BUILD_TUPLE) emit(e, OP_LIST_TO_TUPLE, 0);
}

static void emit_call(Emitter *e, Node *n) {
    NodeList *args = &n->as.call.args;
    Keyword *kws = n->as.call.keywords;
    int nkw = n->as.call.keyword_count;
    bool starred = has_starred(args);
    for (int i = 0; i < nkw; i++)
        if (!kws[i].name.chars) starred = true;
    Node *func = n->as.call.func;
    if (starred) {
        emit_expr(e, func);
        // the positional arguments as a list CALL_EX spreads (no tuple copy)
        emit_sequence_flags(e, args, OP_BUILD_LIST, LIST_EXTEND_CALL);
        if (nkw) {
            emit(e, OP_BUILD_MAP, 0);
            for (int i = 0; i < nkw; i++) {
                if (kws[i].name.chars) {
                    emit_str_const(e, kws[i].name.chars, kws[i].name.length);
                    emit_expr(e, kws[i].value);
                    emit(e, OP_MAP_ADD, 1);
                } else {
                    emit_expr(e, kws[i].value);
                    emit(e, OP_DICT_MERGE, 1);
                }
            }
        }
        e->line = n->line;
        emit(e, OP_CALL_EX, nkw ? 1 : 0);
        return;
    }
    bool method = func->kind == N_ATTR;
    if (method) {
        emit_expr(e, func->as.attr.object);
        e->line = func->end_line ? func->end_line : n->line;
        emit(e, OP_LOAD_METHOD, add_name(e, func->as.attr.name.chars, func->as.attr.name.length));
    } else {
        emit_expr(e, func);
    }
    for (int i = 0; i < args->count; i++) emit_expr(e, args->items[i]);
    for (int i = 0; i < nkw; i++) emit_expr(e, kws[i].value);
    e->line = n->line;
    int total = args->count + nkw;
    if (nkw) {
        ObjTuple *names = tuple_new(e->u->vm, (uint32_t)nkw);
        for (int i = 0; i < nkw; i++)
            names->items[i] = OBJ_VAL(intern_name(e, kws[i].name.chars, kws[i].name.length));
        emit(e, OP_LOAD_CONST, add_const(e, OBJ_VAL(names)));
        emit(e, method ? OP_CALL_METHOD_KW : OP_CALL_KW, (uint32_t)total);
    } else {
        emit(e, method ? OP_CALL_METHOD : OP_CALL, (uint32_t)total);
    }
}

// Jump to `label` when `test` is false. A single ordering or equality
// comparison becomes one fused compare-and-branch instruction.
static void emit_jump_if_false(Emitter *e, Node *test, int label) {
    if (test->kind == N_COMPARE && test->as.compare.comparators.count == 1) {
        AstOp op = test->as.compare.ops[0];
        if (op >= AST_LT && op <= AST_NE) {
            emit_expr(e, test->as.compare.left);
            emit_expr(e, test->as.compare.comparators.items[0]);
            e->line = test->line;
            emit_jump(e, OP_JUMP_IF_NOT_LT + (int)(op - AST_LT), label);
            return;
        }
    }
    emit_expr(e, test);
    emit_jump(e, OP_POP_JUMP_IF_FALSE, label);
}

static void emit_compare(Emitter *e, Node *n) {
    static const int ops[] = {
        [AST_LT] = OP_COMPARE_LT, [AST_LE] = OP_COMPARE_LE, [AST_GT] = OP_COMPARE_GT,
        [AST_GE] = OP_COMPARE_GE, [AST_EQ] = OP_COMPARE_EQ, [AST_NE] = OP_COMPARE_NE,
    };
    int count = n->as.compare.comparators.count;
    emit_expr(e, n->as.compare.left);
    int cleanup = new_label(e), end = new_label(e);
    for (int i = 0; i < count; i++) {
        AstOp op = n->as.compare.ops[i];
        emit_expr(e, n->as.compare.comparators.items[i]);
        bool last = i == count - 1;
        if (!last) {
            emit(e, OP_SWAP, 2);
            emit(e, OP_COPY, 2);
        }
        e->line = n->line;
        switch (op) {
        case AST_IN: emit(e, OP_CONTAINS_OP, 0); break;
        case AST_NOT_IN: emit(e, OP_CONTAINS_OP, 1); break;
        case AST_IS: emit(e, OP_IS_OP, 0); break;
        case AST_IS_NOT: emit(e, OP_IS_OP, 1); break;
        default: emit(e, ops[op], 0); break;
        }
        if (!last) {
            emit_jump(e, OP_JUMP_IF_FALSE_OR_POP, cleanup);
        }
    }
    if (count > 1) {
        emit_jump(e, OP_JUMP, end);
        place(e, cleanup);
        e->depth += 1; // [y, r] on the branch
        emit(e, OP_SWAP, 2);
        emit(e, OP_POP_TOP, 0);
        place(e, end);
    }
}

static void emit_fstring(Emitter *e, Node *n) {
    NodeList *parts = &n->as.list;
    if (parts->count == 0) {
        emit_str_const(e, "", 0);
        return;
    }
    for (int i = 0; i < parts->count; i++) {
        Node *p = parts->items[i];
        if (p->kind == N_STR) {
            emit_str_const(e, p->as.str.chars, p->as.str.length);
            continue;
        }
        emit_expr(e, p->as.formatted.value);
        uint32_t flags = 0;
        switch (p->as.formatted.conversion) {
        case 's': flags = FMT_STR; break;
        case 'r': flags = FMT_REPR; break;
        case 'a': flags = FMT_ASCII; break;
        default: break;
        }
        if (p->as.formatted.spec) {
            emit_fstring(e, p->as.formatted.spec);
            flags |= FMT_HAS_SPEC;
        }
        e->line = p->line;
        emit(e, OP_FORMAT_VALUE, flags);
    }
    if (parts->count > 1) emit(e, OP_BUILD_STRING, (uint32_t)parts->count);
}

static void emit_closure_and_make(Emitter *e, ObjCode *code, Scope *child, uint32_t flags) {
    if (child->free_count > 0) {
        // cells captured by the child, in its free-variable order
        for (int idx = 0; idx < child->free_count; idx++) {
            for (int k = 0; k < child->sym_count; k++) {
                Symbol *sym = &child->syms[k];
                if (!((sym->flags & SYM_FREE) && !(sym->flags & SYM_PARAM)) || sym->index != idx) continue;
                Symbol *mine = sym_find(e->scope, sym->name, sym->length);
                if (mine && (mine->flags & SYM_FREE) && !(mine->flags & SYM_PARAM))
                    emit(e, OP_LOAD_FREE_REF, (uint32_t)mine->index);
                else if (mine)
                    emit(e, OP_LOAD_CELL_REF, (uint32_t)mine->index);
                else
                    fail(e->u, e->line, 0, "internal error: lost closure variable");
            }
        }
        emit(e, OP_BUILD_TUPLE, (uint32_t)child->free_count);
        flags |= MF_CLOSURE;
    }
    emit_const(e, OBJ_VAL(code));
    emit(e, OP_MAKE_FUNCTION, flags);
}

// The analysed scope of `node`, a child of the current one. Found by node,
// not by order: a finally body is emitted twice (normal and exceptional path)
// and an inlined copy for return/break, so its functions are too.
static Scope *take_child(Emitter *e, Node *node) {
    for (int i = 0; i < e->scope->child_count; i++)
        if (e->scope->children[i]->node == node) return e->scope->children[i];
    fail(e->u, node->line, node->col, "internal error: no scope for this function");
    return NULL;
}

static void emit_function_object(Emitter *e, Node *fn, const char *name, int name_len) {
    uint32_t flags = 0;
    int ndefaults = 0, nkwdefaults = 0;
    for (int i = 0; i < fn->as.function.param_count; i++) {
        Param *p = &fn->as.function.params[i];
        if (!p->default_value) continue;
        if (p->kind == PARAM_POSITIONAL) ndefaults++;
        else nkwdefaults++;
    }
    if (ndefaults) {
        for (int i = 0; i < fn->as.function.param_count; i++) {
            Param *p = &fn->as.function.params[i];
            if (p->default_value && p->kind == PARAM_POSITIONAL) emit_expr(e, p->default_value);
        }
        emit(e, OP_BUILD_TUPLE, (uint32_t)ndefaults);
        flags |= MF_DEFAULTS;
    }
    if (nkwdefaults) {
        for (int i = 0; i < fn->as.function.param_count; i++) {
            Param *p = &fn->as.function.params[i];
            if (!p->default_value || p->kind != PARAM_KWONLY) continue;
            emit_str_const(e, p->name.chars, p->name.length);
            emit_expr(e, p->default_value);
        }
        emit(e, OP_BUILD_MAP, (uint32_t)nkwdefaults);
        flags |= MF_KWDEFAULTS;
    }
    Scope *child = take_child(e, fn);
    ObjCode *code = emit_function_code(e, fn, child, name, name_len, NULL);
    e->line = fn->line;
    emit_closure_and_make(e, code, child, flags);
}

static void emit_comprehension(Emitter *e, Node *n) {
    Scope *child = take_child(e, n);
    const char *name = n->kind == N_LISTCOMP ? "<listcomp>" : n->kind == N_SETCOMP ? "<setcomp>"
                       : n->kind == N_DICTCOMP ? "<dictcomp>" : "<genexpr>";
    ObjCode *code = emit_function_code(e, NULL, child, name, (int)strlen(name), n);
    e->line = n->line;
    emit_closure_and_make(e, code, child, 0);
    emit_expr(e, n->as.comp.generators[0].iter);
    emit(e, OP_GET_ITER, 0);
    emit(e, OP_CALL, 1);
    if (n->kind == N_GENEXP) emit(e, OP_GET_ITER, 0);
}

static void emit_comprehension_body(Emitter *e, Node *n) {
    int build = n->kind == N_LISTCOMP || n->kind == N_GENEXP ? OP_BUILD_LIST
                : n->kind == N_SETCOMP ? OP_BUILD_SET : OP_BUILD_MAP;
    emit(e, build, 0);
    int count = n->as.comp.generator_count;
    int *tops = calloc((size_t)count, sizeof(int));
    int *exits = calloc((size_t)count, sizeof(int));
    if (!tops || !exits) abort();
    for (int g = 0; g < count; g++) {
        Comprehension *gen = &n->as.comp.generators[g];
        if (gen->is_async) fail(e->u, n->line, n->col, "asynchronous comprehensions are not supported yet");
        if (g == 0) {
            emit(e, OP_LOAD_FAST, 0);
        } else {
            emit_expr(e, gen->iter);
            emit(e, OP_GET_ITER, 0);
        }
        tops[g] = new_label(e);
        exits[g] = new_label(e);
        place(e, tops[g]);
        emit_jump(e, OP_FOR_ITER, exits[g]);
        // store target
        store_target(e, gen->target);
        for (int i = 0; i < gen->ifs.count; i++) emit_jump_if_false(e, gen->ifs.items[i], tops[g]);
    }
    if (build == OP_BUILD_MAP) {
        emit_expr(e, n->as.comp.elt);
        emit_expr(e, n->as.comp.value);
        emit(e, OP_MAP_ADD, (uint32_t)count + 1);
    } else {
        emit_expr(e, n->as.comp.elt);
        emit(e, build == OP_BUILD_SET ? OP_SET_ADD : OP_LIST_APPEND, (uint32_t)count + 1);
    }
    for (int g = count - 1; g >= 0; g--) {
        emit_jump(e, OP_JUMP_BACK, tops[g]);
        place(e, exits[g]);
        e->depth -= 1; // FOR_ITER's exit pops the iterator
    }
    emit(e, OP_RETURN_VALUE, 0);
    free(tops);
    free(exits);
}

static bool scope_allows_await(Emitter *e) {
    for (Emitter *x = e; x; x = x->parent) {
        if (x->scope->kind == SCOPE_COMPREHENSION) continue;
        if (x->scope->kind == SCOPE_MODULE) return x->u->mode == COMPILE_INTERACTIVE;
        return x->scope->is_async;
    }
    return false;
}

// `x op k` with k a small int constant (x already on the stack): the
// constant rides in the instruction. False when there is no such form.
static bool emit_small_int_op(Emitter *e, int op, const Node *right, bool inplace, int line) {
    if (right->kind != N_INT || right->as.int_.big || right->as.int_.value < -(1 << 23) ||
        right->as.int_.value >= (1 << 23))
        return false;
    int code;
    if (inplace) {
        code = op == AST_ADD ? OP_IADD_SMALL_INT : op == AST_SUB ? OP_ISUB_SMALL_INT : -1;
    } else {
        code = op == AST_ADD   ? OP_ADD_SMALL_INT
               : op == AST_SUB ? OP_SUB_SMALL_INT
               : op == AST_MUL ? OP_MUL_SMALL_INT
               : op == AST_MOD ? OP_MOD_SMALL_INT
                               : -1;
    }
    if (code < 0) return false;
    e->line = line;
    emit(e, code, (uint32_t)right->as.int_.value & 0xFFFFFF);
    return true;
}

static void emit_expr(Emitter *e, Node *n) {
    e->line = n->line;
    switch (n->kind) {
    case N_INT:
        if (n->as.int_.big) fail(e->u, n->line, n->col, "integer literal too large: asyncrun integers are 64-bit");
        if (n->as.int_.value >= -(1 << 23) && n->as.int_.value < (1 << 23))
            emit(e, OP_LOAD_SMALL_INT, (uint32_t)n->as.int_.value & 0xFFFFFF);
        else
            emit_const(e, INT_VAL(n->as.int_.value));
        break;
    case N_FLOAT:
        emit_const(e, FLOAT_VAL(n->as.float_value));
        break;
    case N_STR:
        emit_str_const(e, n->as.str.chars, n->as.str.length);
        break;
    case N_FSTRING:
        emit_fstring(e, n);
        break;
    case N_NONE:
        emit(e, OP_LOAD_NONE, 0);
        break;
    case N_TRUE:
        emit(e, OP_LOAD_TRUE, 0);
        break;
    case N_FALSE:
        emit(e, OP_LOAD_FALSE, 0);
        break;
    case N_ELLIPSIS:
        emit(e, OP_LOAD_GLOBAL, add_name(e, "Ellipsis", 8));
        break;
    case N_NAME:
        emit_name(e, n->as.name, ACCESS_LOAD, n->line, n->col);
        break;
    case N_TUPLE:
        emit_sequence(e, &n->as.list, OP_BUILD_TUPLE);
        break;
    case N_LIST:
        emit_sequence(e, &n->as.list, OP_BUILD_LIST);
        break;
    case N_SET:
        emit_sequence(e, &n->as.list, OP_BUILD_SET);
        break;
    case N_DICT: {
        int count = n->as.dict.keys.count;
        bool spread = false;
        for (int i = 0; i < count; i++)
            if (!n->as.dict.keys.items[i]) spread = true;
        if (!spread && count <= DISPLAY_ON_STACK_MAX) {
            for (int i = 0; i < count; i++) {
                emit_expr(e, n->as.dict.keys.items[i]);
                emit_expr(e, n->as.dict.values.items[i]);
            }
            emit(e, OP_BUILD_MAP, (uint32_t)count);
        } else {
            emit(e, OP_BUILD_MAP, 0);
            for (int i = 0; i < count; i++) {
                if (n->as.dict.keys.items[i]) {
                    emit_expr(e, n->as.dict.keys.items[i]);
                    emit_expr(e, n->as.dict.values.items[i]);
                    emit(e, OP_MAP_ADD, 1);
                } else {
                    emit_expr(e, n->as.dict.values.items[i]);
                    emit(e, OP_DICT_UPDATE, 1);
                }
            }
        }
        break;
    }
    case N_STARRED:
        fail(e->u, n->line, n->col, "can't use starred expression here");
        break;
    case N_ATTR:
        emit_expr(e, n->as.attr.object);
        e->line = n->line;
        emit(e, OP_LOAD_ATTR, add_name(e, n->as.attr.name.chars, n->as.attr.name.length));
        break;
    case N_SUBSCRIPT:
        emit_expr(e, n->as.subscript.object);
        emit_expr(e, n->as.subscript.index);
        e->line = n->line;
        emit(e, OP_BINARY_SUBSCR, 0);
        break;
    case N_SLICE: {
        Node *parts[3] = {n->as.slice.lower, n->as.slice.upper, n->as.slice.step};
        int count = n->as.slice.step ? 3 : 2;
        for (int i = 0; i < count; i++) {
            if (parts[i]) emit_expr(e, parts[i]);
            else emit(e, OP_LOAD_NONE, 0);
        }
        emit(e, OP_BUILD_SLICE, (uint32_t)count);
        break;
    }
    case N_CALL:
        emit_call(e, n);
        break;
    case N_UNARY:
        if (n->as.unary.op == AST_NEG && n->as.unary.operand->kind == N_INT &&
            n->as.unary.operand->as.int_.big && n->as.unary.operand->as.int_.value == INT64_MIN) {
            emit_const(e, INT_VAL(INT64_MIN)); // -9223372036854775808
            break;
        }
        emit_expr(e, n->as.unary.operand);
        e->line = n->line;
        switch (n->as.unary.op) {
        case AST_NEG: emit(e, OP_UNARY_NEG, 0); break;
        case AST_POS: emit(e, OP_UNARY_POS, 0); break;
        case AST_INVERT: emit(e, OP_UNARY_INVERT, 0); break;
        default: emit(e, OP_UNARY_NOT, 0); break;
        }
        break;
    case N_BINOP: {
        static const int ops[] = {
            [AST_ADD] = OP_BINARY_ADD, [AST_SUB] = OP_BINARY_SUB, [AST_MUL] = OP_BINARY_MUL,
            [AST_MATMUL] = OP_BINARY_MATMUL, [AST_DIV] = OP_BINARY_DIV,
            [AST_FLOORDIV] = OP_BINARY_FLOORDIV, [AST_MOD] = OP_BINARY_MOD, [AST_POW] = OP_BINARY_POW,
            [AST_LSHIFT] = OP_BINARY_LSHIFT, [AST_RSHIFT] = OP_BINARY_RSHIFT,
            [AST_BITAND] = OP_BINARY_AND, [AST_BITOR] = OP_BINARY_OR, [AST_BITXOR] = OP_BINARY_XOR,
        };
        emit_expr(e, n->as.binop.left);
        if (emit_small_int_op(e, n->as.binop.op, n->as.binop.right, false, n->line)) break;
        emit_expr(e, n->as.binop.right);
        e->line = n->line;
        emit(e, ops[n->as.binop.op], 0);
        break;
    }
    case N_WALRUS:
        emit_expr(e, n->as.binop.right);
        emit(e, OP_COPY, 1);
        {
            Symbol *sym = sym_find(e->scope, n->as.binop.left->as.name.chars, n->as.binop.left->as.name.length);
            if (sym && (sym->flags & SYM_GLOBAL) && e->scope->kind == SCOPE_COMPREHENSION)
                emit(e, OP_STORE_GLOBAL, add_name(e, sym->name, sym->length));
            else
                emit_name(e, n->as.binop.left->as.name, ACCESS_STORE, n->line, n->col);
        }
        break;
    case N_BOOLOP: {
        int end = new_label(e);
        int op = n->as.boolop.op == AST_AND ? OP_JUMP_IF_FALSE_OR_POP : OP_JUMP_IF_TRUE_OR_POP;
        for (int i = 0; i < n->as.boolop.values.count; i++) {
            emit_expr(e, n->as.boolop.values.items[i]);
            if (i < n->as.boolop.values.count - 1) emit_jump(e, op, end);
        }
        place(e, end);
        break;
    }
    case N_COMPARE:
        emit_compare(e, n);
        break;
    case N_IFEXP: {
        int orelse = new_label(e), end = new_label(e);
        emit_jump_if_false(e, n->as.ifexp.test, orelse);
        emit_expr(e, n->as.ifexp.body);
        emit_jump(e, OP_JUMP, end);
        place(e, orelse);
        e->depth--;
        emit_expr(e, n->as.ifexp.orelse);
        place(e, end);
        break;
    }
    case N_LAMBDA:
        emit_function_object(e, n, "<lambda>", 8);
        break;
    case N_AWAIT:
        if (!scope_allows_await(e)) {
            bool module = true;
            for (Emitter *x = e; x; x = x->parent)
                if (x->scope->kind == SCOPE_FUNCTION) module = false;
            fail(e->u, n->line, n->col, module ? "'await' outside function" : "'await' outside async function");
        }
        emit_expr(e, n->as.unary.operand);
        e->line = n->line;
        emit(e, OP_AWAIT, 0);
        if (e->scope->kind == SCOPE_MODULE) e->top_level_await = true;
        break;
    case N_YIELD:
        if (e->scope->kind == SCOPE_MODULE) fail(e->u, n->line, n->col, "'yield' outside function");
        fail(e->u, n->line, n->col, "generators ('yield') are not supported yet");
        break;
    case N_LISTCOMP:
    case N_SETCOMP:
    case N_GENEXP:
    case N_DICTCOMP:
        emit_comprehension(e, n);
        break;
    default:
        fail(e->u, n->line, n->col, "invalid syntax");
    }
}

// ---- statements ----

static void store_target(Emitter *e, Node *t) {
    e->line = t->line;
    switch (t->kind) {
    case N_NAME:
        emit_name(e, t->as.name, ACCESS_STORE, t->line, t->col);
        break;
    case N_ATTR:
        emit_expr(e, t->as.attr.object);
        emit(e, OP_STORE_ATTR, add_name(e, t->as.attr.name.chars, t->as.attr.name.length));
        break;
    case N_SUBSCRIPT:
        emit_expr(e, t->as.subscript.object);
        emit_expr(e, t->as.subscript.index);
        emit(e, OP_STORE_SUBSCR, 0);
        break;
    case N_TUPLE:
    case N_LIST: {
        NodeList *items = &t->as.list;
        int star = -1;
        for (int i = 0; i < items->count; i++) {
            if (items->items[i]->kind == N_STARRED) {
                if (star >= 0) fail(e->u, items->items[i]->line, items->items[i]->col,
                                    "multiple starred expressions in assignment");
                star = i;
            }
        }
        if (star < 0) {
            emit(e, OP_UNPACK_SEQUENCE, (uint32_t)items->count);
        } else {
            uint32_t before = (uint32_t)star, after = (uint32_t)(items->count - star - 1);
            if (before > 0xFFF || after > 0xFFF) fail(e->u, t->line, t->col, "too many expressions in star-unpacking assignment");
            emit(e, OP_UNPACK_EX, before | (after << 12));
        }
        for (int i = 0; i < items->count; i++) {
            Node *item = items->items[i];
            store_target(e, item->kind == N_STARRED ? item->as.unary.operand : item);
        }
        break;
    }
    case N_STARRED:
        fail(e->u, t->line, t->col, "starred assignment target must be in a list or tuple");
        break;
    default:
        fail(e->u, t->line, t->col, "cannot assign to expression");
    }
}

static void push_fblock(Emitter *e, FBlockKind kind, int brk, int cont) {
    if (e->fblock_count == 64) fail(e->u, e->line, 0, "too many statically nested blocks");
    e->fblocks[e->fblock_count++] = (FBlock){kind, brk, cont, NULL, {NULL, 0}, e->handler_top};
}

// Emit what leaving fblock `b` requires. preserve_top: a return value sits on top.
static void unwind_fblock(Emitter *e, FBlock *b, bool preserve_top) {
    switch (b->kind) {
    case FB_WHILE:
    case FB_TRY_EXCEPT:
        break;
    case FB_FOR:
        if (preserve_top) emit(e, OP_SWAP, 2);
        emit(e, OP_POP_TOP, 0);
        break;
    case FB_HANDLER:
        if (preserve_top) emit(e, OP_SWAP, 2);
        emit(e, OP_POP_EXCEPT, 0);
        if (b->handler_name.chars) {
            emit(e, OP_LOAD_NONE, 0);
            emit_name(e, b->handler_name, ACCESS_STORE, e->line, 0);
            emit_name(e, b->handler_name, ACCESS_DELETE, e->line, 0);
        }
        break;
    case FB_FINALLY_TRY: {
        // run the finally body inline, outside this block's protection
        int saved = e->fblock_count;
        e->fblock_count = (int)(b - e->fblocks);
        emit_stmts(e, b->finalbody);
        e->fblock_count = saved;
        break;
    }
    case FB_WITH:
    case FB_ASYNC_WITH:
        // call __exit__(None, None, None) and drop it
        if (preserve_top) emit(e, OP_SWAP, 2);
        emit(e, OP_LOAD_NONE, 0);
        emit(e, OP_LOAD_NONE, 0);
        emit(e, OP_LOAD_NONE, 0);
        emit(e, OP_CALL, 3);
        if (b->kind == FB_ASYNC_WITH) emit(e, OP_AWAIT, 0);
        emit(e, OP_POP_TOP, 0);
        break;
    case FB_FINALLY_END:
        if (preserve_top) {
            emit(e, OP_SWAP, 2);
            emit(e, OP_POP_TOP, 0);
            emit(e, OP_SWAP, 2);
        } else {
            emit(e, OP_POP_TOP, 0);
        }
        emit(e, OP_POP_EXCEPT, 0);
        break;
    }
}

// Unwind blocks from the innermost out to (not including) index `stop`.
static void unwind_to(Emitter *e, int stop, bool preserve_top) {
    int saved_top = e->handler_top;
    int saved_at = e->saved_count;
    if (e->saved_count + saved_top > e->saved_capacity) {
        e->saved_capacity = (e->saved_count + saved_top) * 2;
        e->saved_handlers = xrealloc(e->saved_handlers, sizeof(int) * (size_t)e->saved_capacity);
    }
    if (saved_top) memcpy(e->saved_handlers + saved_at, e->handler_stack, sizeof(int) * (size_t)saved_top);
    e->saved_count += saved_top;
    for (int i = e->fblock_count - 1; i > stop; i--) {
        FBlock *b = &e->fblocks[i];
        e->handler_top = b->handler_depth; // leave this block's handlers
        unwind_fblock(e, b, preserve_top);
    }
    if (saved_top) memcpy(e->handler_stack, e->saved_handlers + saved_at, sizeof(int) * (size_t)saved_top);
    e->saved_count = saved_at;
    e->handler_top = saved_top;
}

static void emit_return(Emitter *e, Node *n) {
    if (e->scope->kind == SCOPE_MODULE || e->scope->kind == SCOPE_CLASS)
        fail(e->u, n->line, n->col, "'return' outside function");
    int depth = e->depth;
    if (n->as.unary.operand) emit_expr(e, n->as.unary.operand);
    else emit(e, OP_LOAD_NONE, 0);
    unwind_to(e, -1, true);
    e->line = n->line;
    emit(e, OP_RETURN_VALUE, 0);
    e->depth = depth;
}

static void emit_break_continue(Emitter *e, Node *n, bool is_break) {
    int loop = -1;
    for (int i = e->fblock_count - 1; i >= 0; i--)
        if (e->fblocks[i].kind == FB_WHILE || e->fblocks[i].kind == FB_FOR) {
            loop = i;
            break;
        }
    if (loop < 0) fail(e->u, n->line, n->col, is_break ? "'break' outside loop" : "'continue' not properly in loop");
    int depth = e->depth;
    unwind_to(e, loop, false);
    FBlock *b = &e->fblocks[loop];
    if (is_break) {
        if (b->kind == FB_FOR) emit(e, OP_POP_TOP, 0);
        emit_jump(e, OP_JUMP, b->break_label);
    } else {
        emit_jump(e, OP_JUMP_BACK, b->continue_label);
    }
    e->depth = depth;
}

static void emit_try_except(Emitter *e, Node *n) {
    int handler = new_label(e), cleanup = new_label(e), end = new_label(e);
    int d = e->depth;
    push_fblock(e, FB_TRY_EXCEPT, -1, -1); // records the handlers outside it
    push_handler(e, handler, d);
    emit_stmts(e, &n->as.try_.body);
    e->fblock_count--;
    pop_handler(e);
    emit_stmts(e, &n->as.try_.orelse);
    emit_jump(e, OP_JUMP, end);

    place(e, handler);
    e->depth = d + 1;
    emit(e, OP_PUSH_EXC_INFO, 0);
    push_handler(e, cleanup, d + 1);
    for (int i = 0; i < n->as.try_.handler_count; i++) {
        ExceptHandler *h = &n->as.try_.handlers[i];
        e->line = h->line;
        int next = new_label(e);
        if (h->type) {
            // [prev, exc] -> CHECK_EXC_MATCH leaves [prev, exc, matched]
            emit_expr(e, h->type);
            emit(e, OP_CHECK_EXC_MATCH, 0);
            emit_jump(e, OP_POP_JUMP_IF_FALSE, next);
        } else if (i != n->as.try_.handler_count - 1) {
            fail(e->u, h->line, h->col, "default 'except:' must be last");
        }
        if (h->name.chars) emit_name(e, h->name, ACCESS_STORE, h->line, h->col);
        else emit(e, OP_POP_TOP, 0);
        push_fblock(e, FB_HANDLER, -1, -1);
        e->fblocks[e->fblock_count - 1].handler_name = h->name;
        e->fblocks[e->fblock_count - 1].handler_depth = e->handler_top - 1;
        emit_stmts(e, &h->body);
        e->fblock_count--;
        emit(e, OP_POP_EXCEPT, 0);
        if (h->name.chars) {
            emit(e, OP_LOAD_NONE, 0);
            emit_name(e, h->name, ACCESS_STORE, h->line, h->col);
            emit_name(e, h->name, ACCESS_DELETE, h->line, h->col);
        }
        emit_jump(e, OP_JUMP, end);
        place(e, next);
        e->depth = d + 2;
    }
    emit(e, OP_RERAISE, 0);
    pop_handler(e);
    place(e, cleanup);
    e->depth = d + 2;
    emit(e, OP_SWAP, 2);
    emit(e, OP_POP_EXCEPT, 0);
    emit(e, OP_RERAISE, 0);
    place(e, end);
    e->depth = d;
}

static void emit_try(Emitter *e, Node *n) {
    if (n->as.try_.finalbody.count == 0) {
        emit_try_except(e, n);
        return;
    }
    int handler = new_label(e), cleanup = new_label(e), end = new_label(e);
    int d = e->depth;
    push_handler(e, handler, d);
    push_fblock(e, FB_FINALLY_TRY, -1, -1);
    e->fblocks[e->fblock_count - 1].finalbody = &n->as.try_.finalbody;
    e->fblocks[e->fblock_count - 1].handler_depth = e->handler_top - 1;
    if (n->as.try_.handler_count) emit_try_except(e, n);
    else emit_stmts(e, &n->as.try_.body);
    e->fblock_count--;
    pop_handler(e);
    emit_stmts(e, &n->as.try_.finalbody);
    emit_jump(e, OP_JUMP, end);

    place(e, handler);
    e->depth = d + 1;
    emit(e, OP_PUSH_EXC_INFO, 0);
    push_handler(e, cleanup, d + 1);
    push_fblock(e, FB_FINALLY_END, -1, -1);
    e->fblocks[e->fblock_count - 1].handler_depth = e->handler_top - 1;
    emit_stmts(e, &n->as.try_.finalbody);
    e->fblock_count--;
    emit(e, OP_RERAISE, 0);
    pop_handler(e);
    place(e, cleanup);
    e->depth = d + 2;
    emit(e, OP_SWAP, 2);
    emit(e, OP_POP_EXCEPT, 0);
    emit(e, OP_RERAISE, 0);
    place(e, end);
    e->depth = d;
}

// with A as a, B as b: body  ==  with A as a: with B as b: body
static void emit_with(Emitter *e, Node *n, int item) {
    bool is_async = n->as.with.is_async;
    if (is_async && !scope_allows_await(e))
        fail(e->u, n->line, n->col, "'async with' outside async function");
    if (is_async && e->scope->kind == SCOPE_MODULE) e->top_level_await = true;
    WithItem *w = &n->as.with.items[item];
    int handler = new_label(e), cleanup = new_label(e), suppress = new_label(e), end = new_label(e);
    emit_expr(e, w->context);
    e->line = n->line;
    emit(e, OP_BEFORE_WITH, is_async);
    if (is_async) emit(e, OP_AWAIT, 0);
    int d = e->depth - 2; // depth before the with; [exit] stays below the body
    push_fblock(e, is_async ? FB_ASYNC_WITH : FB_WITH, -1, -1);
    push_handler(e, handler, d + 1);
    if (w->target) store_target(e, w->target);
    else emit(e, OP_POP_TOP, 0);
    if (item + 1 < n->as.with.item_count) emit_with(e, n, item + 1);
    else emit_stmts(e, &n->as.with.body);
    pop_handler(e);
    e->fblock_count--;
    e->line = n->line;
    emit(e, OP_LOAD_NONE, 0);
    emit(e, OP_LOAD_NONE, 0);
    emit(e, OP_LOAD_NONE, 0);
    emit(e, OP_CALL, 3);
    if (is_async) emit(e, OP_AWAIT, 0);
    emit(e, OP_POP_TOP, 0);
    emit_jump(e, OP_JUMP, end);

    place(e, handler); // [exit, exc]
    e->depth = d + 2;
    emit(e, OP_PUSH_EXC_INFO, 0);      // [exit, prev, exc]
    push_handler(e, cleanup, d + 2);
    emit(e, OP_WITH_EXCEPT_START, 0);  // [exit, prev, exc, res]
    if (is_async) emit(e, OP_AWAIT, 0);
    emit_jump(e, OP_POP_JUMP_IF_TRUE, suppress);
    emit(e, OP_RERAISE, 0);
    place(e, suppress);
    e->depth = d + 3;
    emit(e, OP_POP_TOP, 0);            // exc
    emit(e, OP_POP_EXCEPT, 0);         // prev
    emit(e, OP_POP_TOP, 0);            // exit
    pop_handler(e);
    emit_jump(e, OP_JUMP, end);
    place(e, cleanup);                 // [exit, prev, exc2]
    e->depth = d + 3;
    emit(e, OP_SWAP, 2);
    emit(e, OP_POP_EXCEPT, 0);
    emit(e, OP_RERAISE, 0);
    place(e, end);
    e->depth = d;
}

static void emit_stmt(Emitter *e, Node *n) {
    e->line = n->line;
    switch (n->kind) {
    case N_EXPR_STMT:
        emit_expr(e, n->as.unary.operand);
        e->line = n->line;
        if (e->u->mode == COMPILE_INTERACTIVE && e->scope->kind == SCOPE_MODULE) emit(e, OP_PRINT_EXPR, 0);
        else emit(e, OP_POP_TOP, 0);
        break;
    case N_ASSIGN: {
        emit_expr(e, n->as.assign.value);
        int count = n->as.assign.targets.count;
        for (int i = 0; i < count; i++) {
            if (i < count - 1) emit(e, OP_COPY, 1);
            store_target(e, n->as.assign.targets.items[i]);
        }
        break;
    }
    case N_AUGASSIGN: {
        Node *t = n->as.augassign.target;
        uint32_t op = (uint32_t)n->as.augassign.op; // AstOp binary ops match BinaryOp
        if (t->kind == N_NAME) {
            emit_name(e, t->as.name, ACCESS_LOAD, t->line, t->col);
            if (!emit_small_int_op(e, (int)op, n->as.augassign.value, true, n->line)) {
                emit_expr(e, n->as.augassign.value);
                e->line = n->line;
                emit(e, OP_INPLACE_OP, op);
            }
            emit_name(e, t->as.name, ACCESS_STORE, t->line, t->col);
        } else if (t->kind == N_ATTR) {
            uint32_t name = add_name(e, t->as.attr.name.chars, t->as.attr.name.length);
            emit_expr(e, t->as.attr.object);
            emit(e, OP_COPY, 1);
            emit(e, OP_LOAD_ATTR, name);
            if (!emit_small_int_op(e, (int)op, n->as.augassign.value, true, n->line)) {
                emit_expr(e, n->as.augassign.value);
                e->line = n->line;
                emit(e, OP_INPLACE_OP, op);
            }
            emit(e, OP_SWAP, 2);
            emit(e, OP_STORE_ATTR, name);
        } else if (t->kind == N_SUBSCRIPT) {
            emit_expr(e, t->as.subscript.object);
            emit_expr(e, t->as.subscript.index);
            emit(e, OP_COPY, 2);
            emit(e, OP_COPY, 2);
            emit(e, OP_BINARY_SUBSCR, 0);
            if (!emit_small_int_op(e, (int)op, n->as.augassign.value, true, n->line)) {
                emit_expr(e, n->as.augassign.value);
                e->line = n->line;
                emit(e, OP_INPLACE_OP, op);
            }
            emit(e, OP_SWAP, 3);
            emit(e, OP_SWAP, 2);
            emit(e, OP_STORE_SUBSCR, 0);
        } else {
            fail(e->u, t->line, t->col, "'%s' is an illegal expression for augmented assignment", "expression");
        }
        break;
    }
    case N_ANNASSIGN:
        if (n->as.annassign.value) {
            emit_expr(e, n->as.annassign.value);
            store_target(e, n->as.annassign.target);
        }
        break;
    case N_DEL:
        for (int i = 0; i < n->as.list.count; i++) {
            Node *t = n->as.list.items[i];
            if (t->kind == N_NAME) {
                emit_name(e, t->as.name, ACCESS_DELETE, t->line, t->col);
            } else if (t->kind == N_SUBSCRIPT) {
                emit_expr(e, t->as.subscript.object);
                emit_expr(e, t->as.subscript.index);
                emit(e, OP_DELETE_SUBSCR, 0);
            } else if (t->kind == N_ATTR) {
                emit_expr(e, t->as.attr.object);
                emit(e, OP_DELETE_ATTR, add_name(e, t->as.attr.name.chars, t->as.attr.name.length));
            } else if (t->kind == N_TUPLE || t->kind == N_LIST) {
                for (int k = 0; k < t->as.list.count; k++) {
                    Node sub = *n;
                    Node *one = t->as.list.items[k];
                    sub.as.list.items = &one;
                    sub.as.list.count = 1;
                    emit_stmt(e, &sub);
                }
            } else {
                fail(e->u, t->line, t->col, "cannot delete this target in asyncrun");
            }
        }
        break;
    case N_PASS:
        break;
    case N_BREAK:
        emit_break_continue(e, n, true);
        break;
    case N_CONTINUE:
        emit_break_continue(e, n, false);
        break;
    case N_RETURN:
        emit_return(e, n);
        break;
    case N_RAISE:
        if (n->as.raise.exc) {
            emit_expr(e, n->as.raise.exc);
            if (n->as.raise.cause) emit_expr(e, n->as.raise.cause);
            e->line = n->line;
            emit(e, OP_RAISE_VARARGS, n->as.raise.cause ? 2 : 1);
        } else {
            emit(e, OP_RAISE_VARARGS, 0);
        }
        break;
    case N_GLOBAL:
    case N_NONLOCAL:
        break;
    case N_IF: {
        int orelse = new_label(e), end = new_label(e);
        emit_jump_if_false(e, n->as.cond.test, orelse);
        emit_stmts(e, &n->as.cond.body);
        if (n->as.cond.orelse.count) emit_jump(e, OP_JUMP, end);
        place(e, orelse);
        emit_stmts(e, &n->as.cond.orelse);
        place(e, end);
        break;
    }
    case N_WHILE: {
        int top = new_label(e), orelse = new_label(e), end = new_label(e);
        place(e, top);
        bool forever = n->as.cond.test->kind == N_TRUE;
        if (!forever) emit_jump_if_false(e, n->as.cond.test, orelse);
        push_fblock(e, FB_WHILE, end, top);
        emit_stmts(e, &n->as.cond.body);
        e->fblock_count--;
        emit_jump(e, OP_JUMP_BACK, top);
        place(e, orelse);
        emit_stmts(e, &n->as.cond.orelse);
        place(e, end);
        break;
    }
    case N_FOR: {
        if (n->as.for_.is_async) fail(e->u, n->line, n->col, "'async for' is not supported yet");
        int top = new_label(e), orelse = new_label(e), end = new_label(e);
        emit_expr(e, n->as.for_.iter);
        emit(e, OP_GET_ITER, 0);
        place(e, top);
        e->line = n->line;
        emit_jump(e, OP_FOR_ITER, orelse);
        store_target(e, n->as.for_.target);
        push_fblock(e, FB_FOR, end, top);
        emit_stmts(e, &n->as.for_.body);
        e->fblock_count--;
        emit_jump(e, OP_JUMP_BACK, top);
        place(e, orelse);
        e->depth--; // the iterator is gone on exit
        emit_stmts(e, &n->as.for_.orelse);
        place(e, end);
        break;
    }
    case N_TRY:
        emit_try(e, n);
        break;
    case N_WITH:
        emit_with(e, n, 0);
        break;
    case N_FUNCDEF: {
        for (int i = 0; i < n->as.function.decorators.count; i++) emit_expr(e, n->as.function.decorators.items[i]);
        emit_function_object(e, n, n->as.function.name.chars, n->as.function.name.length);
        for (int i = 0; i < n->as.function.decorators.count; i++) emit(e, OP_CALL, 1);
        emit_name(e, n->as.function.name, ACCESS_STORE, n->line, n->col);
        break;
    }
    case N_CLASSDEF: {
        for (int i = 0; i < n->as.classdef.decorators.count; i++) emit_expr(e, n->as.classdef.decorators.items[i]);
        Scope *child = take_child(e, n);
        ObjCode *body = emit_function_code(e, NULL, child, n->as.classdef.name.chars, n->as.classdef.name.length, n);
        e->line = n->line;
        emit_closure_and_make(e, body, child, 0);
        emit_str_const(e, n->as.classdef.name.chars, n->as.classdef.name.length);
        if (has_starred(&n->as.classdef.bases)) fail(e->u, n->line, n->col, "starred base classes are not supported");
        for (int i = 0; i < n->as.classdef.bases.count; i++) emit_expr(e, n->as.classdef.bases.items[i]);
        emit(e, OP_BUILD_TUPLE, (uint32_t)n->as.classdef.bases.count);
        e->line = n->line;
        emit(e, OP_BUILD_CLASS, 0);
        for (int i = 0; i < n->as.classdef.decorators.count; i++) emit(e, OP_CALL, 1);
        emit_name(e, n->as.classdef.name, ACCESS_STORE, n->line, n->col);
        break;
    }
    case N_IMPORT:
        for (int i = 0; i < n->as.import.count; i++) {
            Name name = n->as.import.names[i];
            emit(e, OP_IMPORT_NAME, add_name(e, name.chars, name.length));
            Name bound = n->as.import.aliases[i].chars ? n->as.import.aliases[i] : name;
            emit_name(e, bound, ACCESS_STORE, n->line, n->col);
        }
        break;
    case N_IMPORTFROM:
        emit(e, OP_IMPORT_NAME, add_name(e, n->as.import.module.chars, n->as.import.module.length));
        for (int i = 0; i < n->as.import.count; i++) {
            Name name = n->as.import.names[i];
            emit(e, OP_IMPORT_FROM, add_name(e, name.chars, name.length));
            Name bound = n->as.import.aliases[i].chars ? n->as.import.aliases[i] : name;
            emit_name(e, bound, ACCESS_STORE, n->line, n->col);
        }
        emit(e, OP_POP_TOP, 0);
        break;
    case N_ASSERT: {
        int ok = new_label(e);
        emit_expr(e, n->as.assert_.test);
        emit_jump(e, OP_POP_JUMP_IF_TRUE, ok);
        e->line = n->line;
        emit(e, OP_LOAD_ASSERTION_ERROR, 0);
        if (n->as.assert_.msg) {
            emit_expr(e, n->as.assert_.msg);
            emit(e, OP_CALL, 1);
        }
        e->line = n->line;
        emit(e, OP_RAISE_VARARGS, 1);
        place(e, ok);
        break;
    }
    default:
        emit_expr(e, n);
        emit(e, OP_POP_TOP, 0);
    }
}

static void emit_stmts(Emitter *e, NodeList *body) {
    for (int i = 0; i < body->count; i++) emit_stmt(e, body->items[i]);
}

// ---- code objects ---------------------------------------------------------------------

static void emitter_free(Emitter *e) {
    free(e->code);
    free(e->lines);
    free(e->ins_handler);
    free(e->consts);
    free(e->names);
    free(e->label_pos);
    free(e->handler_recs);
    free(e->handler_stack);
    free(e->saved_handlers);
}

static ObjCode *finish(Emitter *e, const char *name, int name_len, int first_line, Node *fn) {
    VM *vm = e->u->vm;
    // patch jumps
    for (uint32_t i = 0; i < e->count; i++) {
        int op = INSTR_OP(e->code[i]);
        if (!is_jump(op)) continue;
        int pos = e->label_pos[INSTR_ARG(e->code[i])];
        e->code[i] = INSTR(op, (uint32_t)pos);
    }
    ObjCode *code = code_new(vm);
    // exception table: runs of instructions with the same handler record
    uint32_t exc_count = 0;
    ExcEntry *table = NULL;
    for (uint32_t i = 0; i < e->count;) {
        int rec = e->ins_handler[i];
        uint32_t j = i + 1;
        while (j < e->count && e->ins_handler[j] == rec) j++;
        if (rec >= 0) {
            table = xrealloc(table, sizeof(ExcEntry) * (exc_count + 1));
            HandlerRec *h = &e->handler_recs[rec];
            table[exc_count++] = (ExcEntry){i, j, (uint32_t)e->label_pos[h->label], (uint16_t)h->depth, 0};
        }
        i = j;
    }
    code->code = e->code;
    code->lines = e->lines;
    code->count = e->count;
    e->code = NULL;
    e->lines = NULL;
    code->consts = e->consts;
    code->const_count = e->const_count;
    e->consts = NULL;
    code->names = e->names;
    code->name_count = e->name_count;
    code->global_cache = calloc(e->name_count ? e->name_count : 1, sizeof(GlobalCache));
    code->method_cache = calloc(e->name_count ? e->name_count : 1, sizeof(MethodCache));
    if (!code->global_cache || !code->method_cache) abort();
    e->names = NULL;
    code->exc_table = table;
    code->exc_count = exc_count;
    code->first_line = first_line;
    code->name = str_intern(vm, name, (size_t)name_len);
    code->qualname = e->qualname ? e->qualname : code->name;
    code->filename = e->u->filename_str;
    code->source = e->u->source;
    Scope *s = e->scope;
    code->local_count = (uint16_t)s->local_count;
    code->local_names = calloc((size_t)(s->local_count ? s->local_count : 1), sizeof(ObjString *));
    code->free_names = calloc((size_t)(s->free_count ? s->free_count : 1), sizeof(ObjString *));
    code->cell_slots = calloc((size_t)(s->sym_count ? s->sym_count : 1), sizeof(uint16_t));
    if (!code->local_names || !code->free_names || !code->cell_slots) abort();
    for (int k = 0; k < s->sym_count; k++) {
        Symbol *sym = &s->syms[k];
        if (sym->flags & SYM_GLOBAL) continue;
        if ((sym->flags & SYM_FREE) && !(sym->flags & SYM_PARAM)) {
            if (sym->index >= 0) code->free_names[sym->index] = intern_name(e, sym->name, sym->length);
        } else if (sym->index >= 0 && s->kind != SCOPE_MODULE) {
            code->local_names[sym->index] = intern_name(e, sym->name, sym->length);
            if (sym->flags & SYM_CELL) code->cell_slots[code->cell_count++] = (uint16_t)sym->index;
        }
    }
    code->free_count = (uint16_t)s->free_count;
    if (s->kind == SCOPE_MODULE) code->flags |= CODE_MODULE;
    if (e->top_level_await) code->flags |= CODE_ASYNC;
    if (fn) {
        int npos = 0, nkw = 0;
        for (int i = 0; i < fn->as.function.param_count; i++) {
            switch (fn->as.function.params[i].kind) {
            case PARAM_POSITIONAL: npos++; break;
            case PARAM_KWONLY: nkw++; break;
            case PARAM_VARARGS: code->flags |= CODE_VARARGS; break;
            case PARAM_VARKW: code->flags |= CODE_VARKW; break;
            }
        }
        code->param_count = (uint16_t)npos;
        code->kwonly_count = (uint16_t)nkw;
        if (fn->as.function.is_async) code->flags |= CODE_ASYNC;
    } else if (s->kind == SCOPE_COMPREHENSION || s->kind == SCOPE_CLASS) {
        code->param_count = 1;
    }
    code->plain_argc = (code->flags & (CODE_VARARGS | CODE_VARKW)) || code->kwonly_count ? -1 : code->param_count;
    int max = s->local_count + e->max_depth;
    if (max > 65535) fail(e->u, first_line, 0, "function too large");
    code->max_stack = (uint16_t)max;
    return code;
}

static ObjString *make_qualname(Emitter *parent, const char *name, int len) {
    VM *vm = parent->u->vm;
    if (parent->scope->kind == SCOPE_MODULE) return str_intern(vm, name, (size_t)len);
    StrBuf buf;
    strbuf_init(&buf);
    strbuf_append(&buf, parent->qualname->chars, parent->qualname->length);
    strbuf_append_cstr(&buf, parent->scope->kind == SCOPE_CLASS ? "." : ".<locals>.");
    strbuf_append(&buf, name, (size_t)len);
    ObjString *q = str_intern(vm, buf.chars, buf.length);
    strbuf_free(&buf);
    return q;
}

static ObjCode *emit_function_code(Emitter *parent, Node *fn, Scope *scope, const char *name, int name_len,
                                   Node *comp) {
    // on the heap: a syntax error longjmps out, and compile_source frees
    // the chain of live emitters from u->current
    Emitter *e = calloc(1, sizeof *e);
    if (!e) abort();
    e->u = parent->u;
    e->u->current = e;
    e->parent = parent;
    e->scope = scope;
    e->fn = fn;
    e->qualname = make_qualname(parent, name, name_len);
    Node *at = fn ? fn : comp;
    e->line = at->line;
    layout(scope, fn);
    // cells: wrap captured parameters / make empty cells for captured locals
    for (int k = 0; k < scope->sym_count; k++) {
        Symbol *sym = &scope->syms[k];
        if ((sym->flags & SYM_CELL) && !(sym->flags & SYM_GLOBAL) && sym->index >= 0 &&
            !((sym->flags & SYM_FREE) && !(sym->flags & SYM_PARAM)))
            emit(e, OP_MAKE_CELL, (uint32_t)sym->index);
    }
    if (comp && comp->kind == N_CLASSDEF) {
        emit_stmts(e, &comp->as.classdef.body);
        emit(e, OP_LOAD_FAST, 0);
        emit(e, OP_RETURN_VALUE, 0);
    } else if (comp) {
        emit_comprehension_body(e, comp);
    } else {
        emit_stmts(e, &fn->as.function.body);
        emit(e, OP_LOAD_NONE, 0);
        emit(e, OP_RETURN_VALUE, 0);
    }
    ObjCode *code = finish(e, name, name_len, at->line, fn);
    e->u->current = parent;
    emitter_free(e);
    free(e);
    return code;
}

static ObjCode *compile_for_runtime(VM *vm, const char *src, size_t len, const char *filename) {
    CompileError err;
    ObjCode *code = compile_source(vm, src, len, filename, COMPILE_FILE, &err);
    if (!code) vm_raise(vm, CLS_SYNTAX_ERROR, "%s (%s, line %d)", err.message, filename, err.line);
    return code;
}

void compile_install(VM *vm) { vm->compile = compile_for_runtime; }

ObjCode *compile_source(VM *vm, const char *src, size_t len, const char *filename, CompileMode mode,
                        CompileError *err) {
    memset(err, 0, sizeof *err);
    ParseResult parsed = parse_module(src, len);
    if (!parsed.module) {
        snprintf(err->type, sizeof err->type, "%s", parsed.error_type ? parsed.error_type : "SyntaxError");
        snprintf(err->message, sizeof err->message, "%s", parsed.error_message);
        err->line = parsed.error_line;
        err->col = parsed.error_col;
        ast_free(&parsed);
        return NULL;
    }
    Unit u;
    memset(&u, 0, sizeof u);
    u.vm = vm;
    u.filename = filename;
    u.filename_str = str_from_cstr(vm, filename);
    u.source = str_new(vm, src, len);
    u.mode = mode;
    u.err = err;
    Emitter e;
    memset(&e, 0, sizeof e);
    ObjCode *code = NULL;
    if (setjmp(u.fail) == 0) {
        Scope *module = scope_new(&u, NULL, SCOPE_MODULE, parsed.module);
        analyze_stmts(&u, module, &parsed.module->as.list);
        resolve(&u);
        e.u = &u;
        u.current = &e;
        e.scope = module;
        e.line = 1;
        emit_stmts(&e, &parsed.module->as.list);
        emit(&e, OP_LOAD_NONE, 0);
        emit(&e, OP_RETURN_VALUE, 0);
        code = finish(&e, "<module>", 8, 1, NULL);
    } else {
        // a syntax error longjmped out of nested functions: free their emitters
        for (Emitter *x = u.current; x && x != &e;) {
            Emitter *up = x->parent;
            emitter_free(x);
            free(x);
            x = up;
        }
    }
    emitter_free(&e);
    scopes_free(&u);
    ast_free(&parsed);
    return code;
}
