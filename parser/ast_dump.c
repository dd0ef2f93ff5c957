// parser/ast_dump.c - the syntax tree as S-expressions, one node per line.
// Tests compare this text, so keep the format stable: see ast_dump below.
#include "parser/ast.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    FILE *file;
    bool positions;
    bool started; // something printed: later lines start with '\n'
} Dumper;

static void dump(Dumper *d, const Node *node, int indent);

static const char *op_text(AstOp op) {
    static const char *const text[] = {
        [AST_ADD] = "+", [AST_SUB] = "-", [AST_MUL] = "*", [AST_MATMUL] = "@",
        [AST_DIV] = "/", [AST_FLOORDIV] = "//", [AST_MOD] = "%", [AST_POW] = "**",
        [AST_LSHIFT] = "<<", [AST_RSHIFT] = ">>", [AST_BITAND] = "&",
        [AST_BITOR] = "|", [AST_BITXOR] = "^", [AST_NEG] = "-", [AST_POS] = "+",
        [AST_INVERT] = "~", [AST_NOT] = "not", [AST_AND] = "and", [AST_OR] = "or",
        [AST_LT] = "<", [AST_LE] = "<=", [AST_GT] = ">", [AST_GE] = ">=",
        [AST_EQ] = "==", [AST_NE] = "!=", [AST_IN] = "in", [AST_NOT_IN] = "not-in",
        [AST_IS] = "is", [AST_IS_NOT] = "is-not",
    };
    return (unsigned)op < sizeof text / sizeof text[0] && text[op] ? text[op] : "?";
}

// A new line at `indent` opening "(head".
static void open_line(Dumper *d, int indent, const char *head) {
    if (d->started) fputc('\n', d->file);
    d->started = true;
    for (int i = 0; i < indent; i++) fputc(' ', d->file);
    fprintf(d->file, "(%s", head);
}

static void close_node(Dumper *d) { fputc(')', d->file); }

static void span(Dumper *d, const Node *node) {
    if (d->positions)
        fprintf(d->file, " @%d:%d-%d:%d", node->line, node->col, node->end_line,
                node->end_col);
}

static void point(Dumper *d, int line, int col) {
    if (d->positions) fprintf(d->file, " @%d:%d", line, col);
}

static void quoted(Dumper *d, const Name *s) {
    fputc('"', d->file);
    for (int i = 0; i < s->length; i++) {
        unsigned char c = (unsigned char)s->chars[i];
        switch (c) {
        case '"': fputs("\\\"", d->file); break;
        case '\\': fputs("\\\\", d->file); break;
        case '\n': fputs("\\n", d->file); break;
        case '\t': fputs("\\t", d->file); break;
        case '\r': fputs("\\r", d->file); break;
        default:
            if (c < 0x20 || c == 0x7F)
                fprintf(d->file, "\\x%02x", c);
            else
                fputc(c, d->file);
        }
    }
    fputc('"', d->file);
}

// A child that may be absent prints as "-".
static void child(Dumper *d, const Node *node, int indent) {
    if (node) {
        dump(d, node, indent);
        return;
    }
    fputc('\n', d->file);
    for (int i = 0; i < indent; i++) fputc(' ', d->file);
    fputc('-', d->file);
}

static void children(Dumper *d, NodeList list, int indent) {
    for (int i = 0; i < list.count; i++) dump(d, list.items[i], indent);
}

// "(label stmt...)" for bodies and else-blocks.
static void block(Dumper *d, const char *label, NodeList list, int indent) {
    open_line(d, indent, label);
    children(d, list, indent + 2);
    close_node(d);
}

static void keywords(Dumper *d, const Keyword *kws, int count, int indent) {
    for (int i = 0; i < count; i++) {
        open_line(d, indent, "kw ");
        fputs(kws[i].name.chars ? kws[i].name.chars : "**", d->file);
        point(d, kws[i].line, kws[i].col);
        dump(d, kws[i].value, indent + 2);
        close_node(d);
    }
}

static void generators(Dumper *d, const Node *node, int indent) {
    for (int i = 0; i < node->as.comp.generator_count; i++) {
        const Comprehension *c = &node->as.comp.generators[i];
        open_line(d, indent, c->is_async ? "gen async" : "gen");
        dump(d, c->target, indent + 2);
        dump(d, c->iter, indent + 2);
        children(d, c->ifs, indent + 2);
        close_node(d);
    }
}

static void function(Dumper *d, const Node *node, int indent) {
    for (int i = 0; i < node->as.function.decorators.count; i++) {
        open_line(d, indent, "decorator");
        dump(d, node->as.function.decorators.items[i], indent + 2);
        close_node(d);
    }
    for (int i = 0; i < node->as.function.param_count; i++) {
        const Param *param = &node->as.function.params[i];
        open_line(d, indent, "param ");
        fprintf(d->file, "%s%s%s", param->kind == PARAM_VARARGS ? "*"
                                   : param->kind == PARAM_VARKW ? "**" : "",
                param->name.chars, param->kind == PARAM_KWONLY ? " kwonly" : "");
        point(d, param->line, param->col);
        if (param->default_value) dump(d, param->default_value, indent + 2);
        close_node(d);
    }
    if (node->as.function.returns) {
        open_line(d, indent, "returns");
        dump(d, node->as.function.returns, indent + 2);
        close_node(d);
    }
    if (node->as.function.is_lambda)
        children(d, node->as.function.body, indent);
    else
        block(d, "body", node->as.function.body, indent);
}

static void names(Dumper *d, const Name *list, const Name *aliases, int count) {
    for (int i = 0; i < count; i++) {
        fprintf(d->file, "%s%s", i ? ", " : " ", list[i].chars);
        if (aliases && aliases[i].chars) fprintf(d->file, " as %s", aliases[i].chars);
    }
}

static void float_text(Dumper *d, double value) {
    // The shortest text that reads back as the same double.
    char text[40];
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, value);
        if (strtod(text, NULL) == value) break;
    }
    fputs(text, d->file);
}

static void dump(Dumper *d, const Node *node, int indent) {
    int in = indent + 2;
    char head[64];
    switch (node->kind) {
    case N_INT:
        open_line(d, indent, "int ");
        if (node->as.int_.big)
            fputs("big", d->file);
        else
            fprintf(d->file, "%lld", (long long)node->as.int_.value);
        span(d, node);
        break;
    case N_FLOAT:
        open_line(d, indent, "float ");
        float_text(d, node->as.float_value);
        span(d, node);
        break;
    case N_STR:
        open_line(d, indent, "str ");
        quoted(d, &node->as.str);
        span(d, node);
        break;
    case N_FSTRING:
        open_line(d, indent, "fstring");
        span(d, node);
        children(d, node->as.list, in);
        break;
    case N_FORMATTED:
        open_line(d, indent, "formatted");
        if (node->as.formatted.conversion)
            fprintf(d->file, " !%c", node->as.formatted.conversion);
        span(d, node);
        dump(d, node->as.formatted.value, in);
        if (node->as.formatted.spec) dump(d, node->as.formatted.spec, in);
        break;
    case N_NONE: open_line(d, indent, "none"); span(d, node); break;
    case N_TRUE: open_line(d, indent, "true"); span(d, node); break;
    case N_FALSE: open_line(d, indent, "false"); span(d, node); break;
    case N_ELLIPSIS: open_line(d, indent, "ellipsis"); span(d, node); break;
    case N_NAME:
        open_line(d, indent, "name ");
        fputs(node->as.name.chars, d->file);
        span(d, node);
        break;
    case N_TUPLE:
    case N_LIST:
    case N_SET:
        open_line(d, indent, node->kind == N_TUPLE ? "tuple" : node->kind == N_LIST ? "list" : "set");
        span(d, node);
        children(d, node->as.list, in);
        break;
    case N_DICT:
        open_line(d, indent, "dict");
        span(d, node);
        for (int i = 0; i < node->as.dict.values.count; i++) {
            if (node->as.dict.keys.items[i]) {
                dump(d, node->as.dict.keys.items[i], in);
                dump(d, node->as.dict.values.items[i], in);
            } else {
                open_line(d, in, "**");
                dump(d, node->as.dict.values.items[i], in + 2);
                close_node(d);
            }
        }
        break;
    case N_STARRED:
    case N_AWAIT:
    case N_YIELD:
    case N_EXPR_STMT:
    case N_RETURN:
        open_line(d, indent, node->kind == N_STARRED ? "starred"
                             : node->kind == N_AWAIT ? "await"
                             : node->kind == N_YIELD ? "yield"
                             : node->kind == N_EXPR_STMT ? "expr" : "return");
        span(d, node);
        if (node->as.unary.operand) dump(d, node->as.unary.operand, in);
        break;
    case N_ATTR:
        open_line(d, indent, "attr ");
        fputs(node->as.attr.name.chars, d->file);
        span(d, node);
        dump(d, node->as.attr.object, in);
        break;
    case N_SUBSCRIPT:
        open_line(d, indent, "subscript");
        span(d, node);
        dump(d, node->as.subscript.object, in);
        dump(d, node->as.subscript.index, in);
        break;
    case N_SLICE: {
        open_line(d, indent, "slice");
        span(d, node);
        const Node *parts[3] = {node->as.slice.lower, node->as.slice.upper,
                                node->as.slice.step};
        int last = 2;
        while (last >= 0 && !parts[last]) last--;
        for (int i = 0; i <= last; i++) child(d, parts[i], in);
        break;
    }
    case N_CALL:
        open_line(d, indent, "call");
        span(d, node);
        dump(d, node->as.call.func, in);
        children(d, node->as.call.args, in);
        keywords(d, node->as.call.keywords, node->as.call.keyword_count, in);
        break;
    case N_UNARY:
    case N_BINOP:
        snprintf(head, sizeof head, "%s %s", node->kind == N_UNARY ? "unary" : "binop",
                 op_text(node->kind == N_UNARY ? node->as.unary.op : node->as.binop.op));
        open_line(d, indent, head);
        span(d, node);
        if (node->kind == N_UNARY) {
            dump(d, node->as.unary.operand, in);
        } else {
            dump(d, node->as.binop.left, in);
            dump(d, node->as.binop.right, in);
        }
        break;
    case N_BOOLOP:
        open_line(d, indent, node->as.boolop.op == AST_AND ? "boolop and" : "boolop or");
        span(d, node);
        children(d, node->as.boolop.values, in);
        break;
    case N_COMPARE:
        open_line(d, indent, "compare");
        for (int i = 0; i < node->as.compare.comparators.count; i++)
            fprintf(d->file, " %s", op_text(node->as.compare.ops[i]));
        span(d, node);
        dump(d, node->as.compare.left, in);
        children(d, node->as.compare.comparators, in);
        break;
    case N_IFEXP:
        open_line(d, indent, "ifexp");
        span(d, node);
        dump(d, node->as.ifexp.test, in);
        dump(d, node->as.ifexp.body, in);
        dump(d, node->as.ifexp.orelse, in);
        break;
    case N_LAMBDA:
        open_line(d, indent, "lambda");
        span(d, node);
        function(d, node, in);
        break;
    case N_LISTCOMP:
    case N_SETCOMP:
    case N_GENEXP:
    case N_DICTCOMP:
        open_line(d, indent, node->kind == N_LISTCOMP ? "listcomp"
                             : node->kind == N_SETCOMP ? "setcomp"
                             : node->kind == N_GENEXP ? "genexp" : "dictcomp");
        span(d, node);
        dump(d, node->as.comp.elt, in);
        if (node->kind == N_DICTCOMP) dump(d, node->as.comp.value, in);
        generators(d, node, in);
        break;
    case N_WALRUS:
        open_line(d, indent, "walrus");
        span(d, node);
        dump(d, node->as.binop.left, in);
        dump(d, node->as.binop.right, in);
        break;
    case N_ASSIGN:
        open_line(d, indent, "assign");
        span(d, node);
        children(d, node->as.assign.targets, in);
        dump(d, node->as.assign.value, in);
        break;
    case N_AUGASSIGN:
        snprintf(head, sizeof head, "augassign %s=", op_text(node->as.augassign.op));
        open_line(d, indent, head);
        span(d, node);
        dump(d, node->as.augassign.target, in);
        dump(d, node->as.augassign.value, in);
        break;
    case N_ANNASSIGN:
        open_line(d, indent, "annassign");
        span(d, node);
        dump(d, node->as.annassign.target, in);
        dump(d, node->as.annassign.annotation, in);
        if (node->as.annassign.value) dump(d, node->as.annassign.value, in);
        break;
    case N_DEL:
        open_line(d, indent, "del");
        span(d, node);
        children(d, node->as.list, in);
        break;
    case N_PASS: open_line(d, indent, "pass"); span(d, node); break;
    case N_BREAK: open_line(d, indent, "break"); span(d, node); break;
    case N_CONTINUE: open_line(d, indent, "continue"); span(d, node); break;
    case N_RAISE:
        open_line(d, indent, "raise");
        span(d, node);
        if (node->as.raise.exc || node->as.raise.cause) child(d, node->as.raise.exc, in);
        if (node->as.raise.cause) dump(d, node->as.raise.cause, in);
        break;
    case N_GLOBAL:
    case N_NONLOCAL:
        open_line(d, indent, node->kind == N_GLOBAL ? "global" : "nonlocal");
        names(d, node->as.names.names, NULL, node->as.names.count);
        span(d, node);
        break;
    case N_IF:
    case N_WHILE:
        open_line(d, indent, node->kind == N_IF ? "if" : "while");
        span(d, node);
        dump(d, node->as.cond.test, in);
        block(d, "body", node->as.cond.body, in);
        if (node->as.cond.orelse.count) block(d, "orelse", node->as.cond.orelse, in);
        break;
    case N_FOR:
        open_line(d, indent, node->as.for_.is_async ? "for async" : "for");
        span(d, node);
        dump(d, node->as.for_.target, in);
        dump(d, node->as.for_.iter, in);
        block(d, "body", node->as.for_.body, in);
        if (node->as.for_.orelse.count) block(d, "orelse", node->as.for_.orelse, in);
        break;
    case N_TRY:
        open_line(d, indent, "try");
        span(d, node);
        block(d, "body", node->as.try_.body, in);
        for (int i = 0; i < node->as.try_.handler_count; i++) {
            const ExceptHandler *h = &node->as.try_.handlers[i];
            open_line(d, in, "except");
            if (h->name.chars) fprintf(d->file, " as %s", h->name.chars);
            point(d, h->line, h->col);
            if (h->type) dump(d, h->type, in + 2);
            block(d, "body", h->body, in + 2);
            close_node(d);
        }
        if (node->as.try_.orelse.count) block(d, "orelse", node->as.try_.orelse, in);
        if (node->as.try_.finalbody.count) block(d, "finally", node->as.try_.finalbody, in);
        break;
    case N_WITH:
        open_line(d, indent, node->as.with.is_async ? "with async" : "with");
        span(d, node);
        for (int i = 0; i < node->as.with.item_count; i++) {
            open_line(d, in, "item");
            dump(d, node->as.with.items[i].context, in + 2);
            if (node->as.with.items[i].target) dump(d, node->as.with.items[i].target, in + 2);
            close_node(d);
        }
        block(d, "body", node->as.with.body, in);
        break;
    case N_FUNCDEF:
        snprintf(head, sizeof head, "def%s ", node->as.function.is_async ? " async" : "");
        open_line(d, indent, head);
        fputs(node->as.function.name.chars, d->file);
        span(d, node);
        function(d, node, in);
        break;
    case N_CLASSDEF:
        open_line(d, indent, "class ");
        fputs(node->as.classdef.name.chars, d->file);
        span(d, node);
        for (int i = 0; i < node->as.classdef.decorators.count; i++) {
            open_line(d, in, "decorator");
            dump(d, node->as.classdef.decorators.items[i], in + 2);
            close_node(d);
        }
        children(d, node->as.classdef.bases, in);
        keywords(d, node->as.classdef.keywords, node->as.classdef.keyword_count, in);
        block(d, "body", node->as.classdef.body, in);
        break;
    case N_IMPORT:
        open_line(d, indent, "import");
        names(d, node->as.import.names, node->as.import.aliases, node->as.import.count);
        span(d, node);
        break;
    case N_IMPORTFROM:
        open_line(d, indent, "from ");
        fprintf(d->file, "%s import", node->as.import.module.chars);
        names(d, node->as.import.names, node->as.import.aliases, node->as.import.count);
        span(d, node);
        break;
    case N_ASSERT:
        open_line(d, indent, "assert");
        span(d, node);
        dump(d, node->as.assert_.test, in);
        if (node->as.assert_.msg) dump(d, node->as.assert_.msg, in);
        break;
    case N_MODULE:
        open_line(d, indent, "module");
        children(d, node->as.list, in);
        break;
    }
    close_node(d);
}

// Format: each node starts a line "(kind header" indented two spaces per
// level, its children follow on their own lines, and its ")" ends the line
// of its last child. Missing optional children print as "-". Lists of
// statements sit in "(body ...)", "(orelse ...)" and "(finally ...)";
// parameters, keywords, decorators, comprehension clauses ("(gen ...)") and
// with-items get their own lines too.
void ast_dump(const Node *node, void *file) {
    Dumper d = {file, false, false};
    if (node) dump(&d, node, 0);
    fputc('\n', d.file);
}

void ast_dump_positions(const Node *node, void *file) {
    Dumper d = {file, true, false};
    if (node) dump(&d, node, 0);
    fputc('\n', d.file);
}
