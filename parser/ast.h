// parser/ast.h - the syntax tree the parser builds and the compiler reads.
// Every node lives in the parse's arena and dies with it (ast_free).
#ifndef ASYNCRUN_AST_H
#define ASYNCRUN_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Node Node;

typedef struct {
    Node **items;
    int count;
} NodeList;

// Identifiers and string constants: bytes owned by the arena, NUL-terminated.
typedef struct {
    const char *chars;
    int length;
} Name;

typedef enum {
    // expressions
    N_INT,       // int_value (big: literal did not fit in 64 bits)
    N_FLOAT,     // float_value
    N_STR,       // str (adjacent literals already joined if no f-string)
    N_FSTRING,   // list: parts, each N_STR or N_FORMATTED (adjacent literals
                 // with at least one f-string become one N_FSTRING)
    N_FORMATTED, // formatted: {value, conversion 0/'r'/'s'/'a', spec: N_FSTRING or NULL}
    N_NONE, N_TRUE, N_FALSE, N_ELLIPSIS,
    N_NAME,      // name
    N_TUPLE, N_LIST, N_SET, // list: items (may hold N_STARRED)
    N_DICT,      // dict: keys[i] NULL means values[i] is a **spread
    N_STARRED,   // unary.operand: *x in a call, display or assignment target
    N_ATTR,      // attr: {object, name}
    N_SUBSCRIPT, // subscript: {object, index}; index may be N_SLICE or N_TUPLE
    N_SLICE,     // slice: lower, upper, step (each may be NULL)
    N_CALL,      // call: func, args (may hold N_STARRED), keywords
    N_UNARY,     // unary: op (AST_NEG, AST_POS, AST_INVERT, AST_NOT), operand
    N_BINOP,     // binop: op, left, right
    N_BOOLOP,    // boolop: op (AST_AND/AST_OR), list of 2+ values
    N_COMPARE,   // compare: left, ops[count], comparators (count items)
    N_IFEXP,     // ifexp: test, body, orelse
    N_LAMBDA,    // function (name "<lambda>", body is one N_RETURN)
    N_AWAIT,     // unary.operand
    N_YIELD,     // unary.operand (may be NULL)
    N_LISTCOMP, N_SETCOMP, N_GENEXP, // comp: elt, generators
    N_DICTCOMP,  // comp: key, value, generators
    N_WALRUS,    // binop: left is N_NAME, right the value (op unused)

    // statements
    N_EXPR_STMT, // unary.operand
    N_ASSIGN,    // assign: targets (a = b = value has two), value
    N_AUGASSIGN, // augassign: target, op, value
    N_ANNASSIGN, // annassign: target, annotation, value (may be NULL)
    N_DEL,       // list: targets
    N_PASS, N_BREAK, N_CONTINUE,
    N_RETURN,    // unary.operand (may be NULL)
    N_RAISE,     // raise: exc (NULL for bare raise), cause (may be NULL)
    N_GLOBAL, N_NONLOCAL, // names
    N_IF,        // cond: test, body, orelse (elif is an N_IF alone in orelse)
    N_WHILE,     // cond: test, body, orelse
    N_FOR,       // for_: target, iter, body, orelse, is_async
    N_TRY,       // try_: body, handlers, orelse, finalbody
    N_WITH,      // with: items, body, is_async
    N_FUNCDEF,   // function
    N_CLASSDEF,  // classdef
    N_IMPORT,    // import: names (dotted module names), aliases (NULL = none)
    N_IMPORTFROM,// import: module, names, aliases
    N_ASSERT,    // assert_: test, msg (may be NULL)
    N_MODULE,    // list: body
} NodeKind;

typedef enum {
    // binary (also used by augmented assignment)
    AST_ADD, AST_SUB, AST_MUL, AST_MATMUL, AST_DIV, AST_FLOORDIV, AST_MOD, AST_POW,
    AST_LSHIFT, AST_RSHIFT, AST_BITAND, AST_BITOR, AST_BITXOR,
    // unary
    AST_NEG, AST_POS, AST_INVERT, AST_NOT,
    // boolean
    AST_AND, AST_OR,
    // comparison
    AST_LT, AST_LE, AST_GT, AST_GE, AST_EQ, AST_NE, AST_IN, AST_NOT_IN, AST_IS,
    AST_IS_NOT,
} AstOp;

typedef enum {
    PARAM_POSITIONAL, // def f(a, b=1)
    PARAM_VARARGS,    // *args
    PARAM_KWONLY,     // after * or *args
    PARAM_VARKW,      // **kwargs
} ParamKind;

typedef struct {
    Name name;
    ParamKind kind;
    Node *default_value; // NULL if none
    int line, col;
} Param;

typedef struct {
    Name name;   // keyword argument name; chars NULL for **mapping
    Node *value;
    int line, col;
} Keyword;

typedef struct {
    Node *target;
    Node *iter;
    NodeList ifs;
    bool is_async;
} Comprehension;

typedef struct {
    Node *type;  // NULL for a bare except
    Name name;   // chars NULL when there is no "as"
    NodeList body;
    int line, col;
} ExceptHandler;

typedef struct {
    Node *context;
    Node *target; // NULL when there is no "as"
} WithItem;

struct Node {
    NodeKind kind;
    int line, col;         // where the node starts (col: 0-based byte offset)
    int end_line, end_col; // where it ends (exclusive column)
    union {
        struct { int64_t value; bool big; } int_;
        double float_value;
        Name str;   // N_STR
        Name name;  // N_NAME
        NodeList list;
        struct { Node *value; int conversion; Node *spec; } formatted;
        struct { NodeList keys; NodeList values; } dict;
        struct { AstOp op; Node *operand; } unary;
        struct { AstOp op; Node *left; Node *right; } binop;
        struct { AstOp op; NodeList values; } boolop;
        struct { Node *left; AstOp *ops; NodeList comparators; } compare;
        struct { Node *object; Name name; } attr;
        struct { Node *object; Node *index; } subscript;
        struct { Node *lower; Node *upper; Node *step; } slice;
        struct {
            Node *func;
            NodeList args;
            Keyword *keywords;
            int keyword_count;
        } call;
        struct { Node *test; Node *body; Node *orelse; } ifexp;
        struct {
            Node *elt;   // list/set/genexp element; dict: key
            Node *value; // dict comprehension value, else NULL
            Comprehension *generators;
            int generator_count;
        } comp;
        struct { NodeList targets; Node *value; } assign;
        struct { Node *target; AstOp op; Node *value; } augassign;
        struct { Node *target; Node *annotation; Node *value; } annassign;
        struct { Node *exc; Node *cause; } raise;
        struct { Name *names; int count; } names;
        struct { Node *test; NodeList body; NodeList orelse; } cond;
        struct {
            Node *target;
            Node *iter;
            NodeList body;
            NodeList orelse;
            bool is_async;
        } for_;
        struct {
            NodeList body;
            ExceptHandler *handlers;
            int handler_count;
            NodeList orelse;
            NodeList finalbody;
        } try_;
        struct { WithItem *items; int item_count; NodeList body; bool is_async; } with;
        struct {
            Name name;
            Param *params;
            int param_count;
            NodeList body;    // a lambda's body is one N_RETURN
            NodeList decorators;
            Node *returns;    // annotation, ignored by the compiler
            bool is_async;
            bool is_lambda;
        } function;
        struct {
            Name name;
            NodeList bases;
            Keyword *keywords;
            int keyword_count;
            NodeList body;
            NodeList decorators;
        } classdef;
        struct {
            Name module;   // N_IMPORTFROM: the module (dotted), level 0 only
            Name *names;   // N_IMPORT: dotted module names; FROM: imported names ("*" allowed)
            Name *aliases; // same count; chars NULL when no "as"
            int count;
        } import;
        struct { Node *test; Node *msg; } assert_;
    } as;
};

typedef struct Arena Arena;

// The outcome of a parse: a module node, or an error with CPython's wording
// ("SyntaxError"/"IndentationError", message, 1-based line, 0-based col).
typedef struct {
    Node *module; // N_MODULE, NULL on error
    Arena *arena; // owns every node and string; free with ast_free
    const char *error_type;
    char error_message[256];
    int error_line;
    int error_col;
} ParseResult;

// Parse a whole module. The source must outlive the result.
ParseResult parse_module(const char *src, size_t len);
void ast_free(ParseResult *result);

// Allocation in an arena (used by the parser; exposed for tests). Blocks
// come back zeroed and live until arena_free.
Arena *arena_new(void);
void *arena_alloc(Arena *arena, size_t size);
void arena_free(Arena *arena);

// Print the tree as S-expressions, one node per line (for parser tests).
void ast_dump(const Node *node, void *file);
// The same, each node followed by @line:col-end_line:end_col.
void ast_dump_positions(const Node *node, void *file);

#endif
