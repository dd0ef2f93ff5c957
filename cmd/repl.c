// cmd/repl.c - the interactive session: lines gather until the parser's errors say the statement is complete (as
// CPython's codeop decides), then run as a task on the session's event loop; an error never ends the session.
#include "cmd/repl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/lineedit.h"
#include "cmd/report.h"
#include "lexer/lex.h"
#include "parser/compile.h"
#include "runtime/containers.h"
#include "runtime/ops.h"

#define REPL_HISTORY_MAX 1000
#define REPL_INDENT 4

typedef struct {
    VM *vm;
    LineEdit *le;           // NULL: plain lines from stdin, prompts on stderr
    char *history_path;     // NULL: no history file
    StrBuf src;             // the lines of the statement so far, each ending in '\n'
    int lines;
    bool pending_blank;     // a pasted blank line inside a block, held back
    bool done;
    int status;
} Repl;

typedef enum { INPUT_MORE, INPUT_RUN, INPUT_ERROR } InputState;

// ---- lines ------------------------------------------------------------------------------

static bool blank(const char *line) {
    for (; *line; line++)
        if (*line != ' ' && *line != '\t' && *line != '\f' && *line != '\r') return false;
    return true;
}

static bool blank_or_comment(const char *line) {
    while (*line == ' ' || *line == '\t' || *line == '\f') line++;
    return *line == '\0' || *line == '#' || *line == '\r';
}

static size_t indentation(const char *line) {
    size_t n = 0;
    while (line[n] == ' ' || line[n] == '\t') n++;
    return n;
}

// Bytes of the line before a trailing comment and whitespace (quotes within
// the line respected).
static size_t code_end(const char *line, size_t n) {
    char quote = 0;
    size_t end = n;
    for (size_t i = 0; i < n; i++) {
        char c = line[i];
        if (quote) {
            if (c == '\\') i++;
            else if (c == quote) quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '#') {
            end = i;
            break;
        }
    }
    while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r')) end--;
    return end;
}

static bool starts_with_word(const char *s, const char *word) {
    size_t n = strlen(word);
    if (strncmp(s, word, n) != 0) return false;
    char c = s[n];
    return !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
}

// The indentation to offer after `line`: one level deeper after a ':', one
// level out after return/pass/break/continue/raise, else the same.
static size_t next_indent(const char *line) {
    size_t ind = indentation(line);
    size_t end = code_end(line, strlen(line));
    if (end > ind && line[end - 1] == ':') return ind + REPL_INDENT;
    static const char *const closers[] = {"return", "pass", "break", "continue", "raise", NULL};
    for (int i = 0; closers[i]; i++)
        if (starts_with_word(line + ind, closers[i])) return ind >= REPL_INDENT ? ind - REPL_INDENT : 0;
    return ind;
}

// ---- is the input complete? ------------------------------------------------------------

typedef struct {
    bool compound;   // the input starts with a compound statement
    int extra_line;  // line of a second statement after it (0: none)
} Shape;

static bool compound_start(TokenKind k) {
    switch (k) {
    case TK_IF: case TK_WHILE: case TK_FOR: case TK_TRY: case TK_WITH:
    case TK_DEF: case TK_CLASS: case TK_ASYNC: case TK_AT:
        return true;
    default:
        return false;
    }
}

// CPython compiles one interactive statement at a time: a compound statement
// runs only after a blank line, and anything after it at column 0 (other than
// its else/elif/except/finally) is a syntax error.
static Shape input_shape(const char *src, size_t len) {
    Shape s = {false, 0};
    Lexer *lx = lex_new(src, len);
    if (!lx) return s;
    Token t = lex_next(lx);
    while (t.kind == TK_NEWLINE || t.kind == TK_INDENT || t.kind == TK_DEDENT) t = lex_next(lx);
    s.compound = compound_start(t.kind);
    TokenKind head = t.kind; // first token of the last logical line at column 0
    bool line_start = false;
    while (s.compound) {
        t = lex_next(lx);
        if (t.kind == TK_EOF || t.kind == TK_ERROR) break;
        if (t.kind == TK_NEWLINE) {
            line_start = true;
            continue;
        }
        if (t.kind == TK_INDENT || t.kind == TK_DEDENT || !line_start) continue;
        line_start = false;
        if (t.col != 0) continue;
        bool continues = t.kind == TK_ELSE || t.kind == TK_ELIF || t.kind == TK_EXCEPT ||
                         t.kind == TK_FINALLY || head == TK_AT;
        if (!continues) {
            s.extra_line = t.line;
            break;
        }
        head = t.kind;
    }
    lex_free(lx);
    return s;
}

// Is the error where more input could fix it: at the end of the last line
// that has code on it?
static bool error_at_end(const char *src, size_t len, const CompileError *err) {
    int last = 0;
    size_t last_end = 0;
    const char *line;
    size_t n;
    for (int i = 1; lex_source_line(src, len, i, &line, &n); i++) {
        size_t end = code_end(line, n);
        if (end > 0) {
            last = i;
            last_end = end;
        }
    }
    return err->line > last || (err->line == last && err->col >= 0 && (size_t)err->col >= last_end);
}

// The statement in r->src: more lines needed, ready to run (*code), or a
// syntax error (*err). `ended` when the last line was blank or input ended:
// then only open brackets and strings still wait.
static InputState classify(Repl *r, bool ended, ObjCode **code, CompileError *err) {
    const char *src = r->src.chars ? r->src.chars : "";
    size_t len = r->src.length;
    *code = compile_source(r->vm, src, len, "<stdin>", COMPILE_INTERACTIVE, err);
    if (*code) {
        Shape shape = input_shape(src, len);
        if (!shape.compound) return INPUT_RUN;
        if (shape.extra_line > 0) {
            *code = NULL;
            snprintf(err->type, sizeof err->type, "SyntaxError");
            snprintf(err->message, sizeof err->message, "invalid syntax");
            err->line = shape.extra_line;
            err->col = 0;
            return INPUT_ERROR;
        }
        return ended ? INPUT_RUN : INPUT_MORE;
    }
    const char *m = err->message;
    if (strstr(m, "was never closed") || strncmp(m, "unterminated triple-quoted string", 33) == 0)
        return INPUT_MORE;
    if (ended) return INPUT_ERROR;
    if (!error_at_end(src, len, err)) return INPUT_ERROR;
    if (strncmp(m, "expected an indented block", 26) == 0 || strstr(m, "expected 'except' or 'finally' block") ||
        strncmp(m, "unexpected EOF", 14) == 0)
        return INPUT_MORE;
    const char *p = src;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '@') return INPUT_MORE; // decorators wait for their def or class
    return INPUT_ERROR;
}

// ---- running ---------------------------------------------------------------------------

static void reset_input(Repl *r) {
    r->src.length = 0;
    if (r->src.chars) r->src.chars[0] = '\0';
    r->lines = 0;
    r->pending_blank = false;
}

static void run_code(Repl *r, ObjCode *code) {
    VM *vm = r->vm;
    vm_interrupt = 0;
    // vm_run_interactive runs every input on the session's event loop
    bool ok = vm_run_interactive(vm, code, vm->main_globals);
    vm_flush_out(vm);
    fflush(stdout);
    if (!ok) {
        Value exc = vm->exception;
        vm->exception = EMPTY_VAL;
        if (exception_matches(vm, exc, CLS_SYSTEM_EXIT)) {
            r->status = report_exit_status(vm, exc);
            r->done = true;
        } else {
            exception_print(vm, exc, stderr);
        }
    }
    vm->exception = EMPTY_VAL;
    vm_interrupt = 0; // a Ctrl-C that came after the code finished
}

// Decide on the statement gathered so far and run or report it when complete.
// `ended`: the last line was blank; `eof`: no more input will come.
static void settle(Repl *r, bool ended, bool eof) {
    ObjCode *code;
    CompileError err;
    InputState st = classify(r, ended || eof, &code, &err);
    if (st == INPUT_MORE) {
        if (!eof) return;
        st = INPUT_ERROR; // input ended inside brackets or a string
    }
    if (st == INPUT_ERROR) {
        vm_flush_out(r->vm);
        report_syntax_error("<stdin>", r->src.chars ? r->src.chars : "", r->src.length, &err);
    } else {
        run_code(r, code);
    }
    reset_input(r);
}

// Each line keeps its newline, as CPython's tokenizer reads them: errors
// after the last line (a block left empty) point past it, as CPython's do.
static void add_line(Repl *r, const char *line) {
    strbuf_append_cstr(&r->src, line);
    strbuf_append_char(&r->src, '\n');
    r->lines++;
}

// One line of input.
static void feed(Repl *r, const char *line, bool pasting) {
    if (r->pending_blank) {
        r->pending_blank = false;
        if (!blank(line) && indentation(line) > 0) {
            add_line(r, "");
        } else {
            add_line(r, "");
            settle(r, true, false);
            if (r->done) return;
        }
    }
    if (r->lines == 0 && blank_or_comment(line)) return;
    bool is_blank = blank(line);
    if (is_blank && pasting) {
        // a blank line in the middle of pasted code ends the block only if
        // the next line is not indented
        ObjCode *code;
        CompileError err;
        if (classify(r, false, &code, &err) == INPUT_MORE) {
            r->pending_blank = true;
            return;
        }
    }
    add_line(r, is_blank ? "" : line);
    settle(r, is_blank, false);
}

// ---- completion -------------------------------------------------------------------------

static const char *const keywords[] = {
    "False", "None", "True", "and", "as", "assert", "async", "await", "break",
    "class", "continue", "def", "del", "elif", "else", "except", "finally",
    "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", NULL,
};

static bool ident_byte(char c) {
    unsigned char u = (unsigned char)c;
    return u >= 0x80 || u == '_' || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9');
}

static bool is_keyword(const char *s, size_t n) {
    for (int i = 0; keywords[i]; i++)
        if (strlen(keywords[i]) == n && memcmp(keywords[i], s, n) == 0) return true;
    return false;
}

static bool value_callable(VM *vm, Value v) {
    Value *fn = dict_find_str(vm->builtins, str_intern(vm, "callable", 8));
    Value result = NONE_VAL;
    if (!fn || !vm_call(vm, *fn, &v, 1, NULL, &result)) {
        vm->exception = EMPTY_VAL;
        return false;
    }
    return value_truthy(result);
}

// name plus "(" when the value is callable, as rlcompleter
static void add_named(VM *vm, LineEditCompletions *out, const char *name, size_t n, Value v) {
    StrBuf b;
    strbuf_init(&b);
    strbuf_append(&b, name, n);
    if (value_callable(vm, v)) strbuf_append_char(&b, '(');
    lineedit_add_completion(out, b.chars, b.length);
    strbuf_free(&b);
}

static void complete_global(Repl *r, const char *word, size_t n, LineEditCompletions *out) {
    VM *vm = r->vm;
    for (int i = 0; keywords[i]; i++) {
        const char *k = keywords[i];
        if (strncmp(k, word, n) != 0) continue;
        StrBuf b;
        strbuf_init(&b);
        strbuf_append_cstr(&b, k);
        if (!strcmp(k, "finally") || !strcmp(k, "try")) strbuf_append_char(&b, ':');
        else if (strcmp(k, "False") && strcmp(k, "None") && strcmp(k, "True") && strcmp(k, "break") &&
                 strcmp(k, "continue") && strcmp(k, "pass") && strcmp(k, "else"))
            strbuf_append_char(&b, ' ');
        lineedit_add_completion(out, b.chars, b.length);
        strbuf_free(&b);
    }
    ObjDict *spaces[2] = {vm->main_globals, vm->builtins};
    for (int s = 0; s < 2; s++) {
        uint32_t pos = 0;
        Value key, value;
        while (dict_next(spaces[s], &pos, &key, &value)) {
            if (!IS_OBJ_TYPE(key, OBJ_STRING)) continue;
            ObjString *name = (ObjString *)AS_OBJ(key);
            if (name->length < n || memcmp(name->chars, word, n) != 0) continue;
            if (is_keyword(name->chars, name->length)) continue;
            if (s == 1 && dict_find_str(vm->main_globals, name)) continue;
            add_named(vm, out, name->chars, name->length, value);
        }
    }
}

// `a.b.c.x`: look up a.b.c (a global or builtin, then attributes) and
// propose its attributes starting with x; names starting with '_' only when
// x does, as rlcompleter.
static void complete_attribute(Repl *r, const char *expr, size_t expr_len, const char *attr, size_t n,
                               LineEditCompletions *out) {
    VM *vm = r->vm;
    Value obj = NONE_VAL;
    size_t roots = 0;
    size_t i = 0;
    bool ok = true;
    for (int part = 0; ok && i <= expr_len; part++) {
        size_t j = i;
        while (j < expr_len && expr[j] != '.') j++;
        if (j == i || (expr[i] >= '0' && expr[i] <= '9')) {
            ok = false;
            break;
        }
        ObjString *name = str_new(vm, expr + i, j - i);
        if (part == 0) {
            Value *found = dict_find_str(vm->main_globals, name);
            if (!found) found = dict_find_str(vm->builtins, name);
            if (!found) ok = false;
            else obj = *found;
        } else {
            vm_push_root(vm, obj);
            roots++;
            Value next;
            ok = value_getattr(vm, obj, name, &next);
            if (ok) obj = next;
        }
        i = j + 1;
    }
    if (ok) {
        vm_push_root(vm, obj);
        roots++;
        ObjList *names = value_dir(vm, obj);
        if (names) {
            vm_push_root(vm, OBJ_VAL(names));
            roots++;
            const char *hide = n == 0 ? "_" : (n == 1 && attr[0] == '_') ? "__" : NULL;
            for (;;) {
                size_t before = out->count;
                for (uint32_t k = 0; k < names->length; k++) {
                    if (!IS_OBJ_TYPE(names->items[k], OBJ_STRING)) continue;
                    ObjString *name = (ObjString *)AS_OBJ(names->items[k]);
                    if (name->length < n || memcmp(name->chars, attr, n) != 0) continue;
                    if (hide && strncmp(name->chars, hide, strlen(hide)) == 0) continue;
                    Value v;
                    if (value_getattr(vm, obj, name, &v)) add_named(vm, out, name->chars, name->length, v);
                    else {
                        vm->exception = EMPTY_VAL;
                        lineedit_add_completion(out, name->chars, name->length);
                    }
                }
                if (out->count > before || !hide) break;
                hide = hide[1] ? NULL : "__";
            }
        }
    }
    vm->exception = EMPTY_VAL;
    vm_pop_roots(vm, roots);
}

static void complete(void *ctx, const char *line, size_t cursor, LineEditCompletions *out) {
    Repl *r = ctx;
    size_t start = cursor;
    while (start > 0 && (ident_byte(line[start - 1]) || line[start - 1] == '.')) start--;
    const char *text = line + start;
    size_t n = cursor - start;
    if (n > 0 && text[0] >= '0' && text[0] <= '9') return;
    size_t dot = n;
    for (size_t i = 0; i < n; i++)
        if (text[i] == '.') dot = i;
    if (dot == n) {
        out->start = start;
        complete_global(r, text, n, out);
    } else {
        out->start = start + dot + 1;
        complete_attribute(r, text, dot, text + dot + 1, n - dot - 1, out);
    }
    vm_flush_out(r->vm);
}

// ---- the session ------------------------------------------------------------------------

// Are stdin and stdout terminals the line editor can drive?
static bool can_edit(void) {
    const char *term = getenv("TERM");
    return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && !(term && strcmp(term, "dumb") == 0);
}

static char *history_path(void) {
    const char *env = getenv("ASYNCRUN_HISTORY");
    if (env) return *env ? strdup(env) : NULL;
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    StrBuf b;
    strbuf_init(&b);
    strbuf_printf(&b, "%s/.asyncrun_history", home);
    return strbuf_take(&b, NULL);
}

// A line from stdin without its newline; NULL at end of input or on Ctrl-C
// (*interrupted).
static char *read_plain(const char *prompt, bool *interrupted) {
    fputs(prompt, stderr);
    fflush(stderr);
    char *line = NULL;
    size_t cap = 0;
    errno = 0;
    ssize_t n = getline(&line, &cap, stdin);
    *interrupted = false;
    if (n < 0) {
        free(line);
        if (vm_interrupt || errno == EINTR) {
            clearerr(stdin);
            vm_interrupt = 0;
            *interrupted = true;
        }
        return NULL;
    }
    if (n > 0 && line[n - 1] == '\n') line[--n] = '\0';
    if (n > 0 && line[n - 1] == '\r') line[--n] = '\0';
    return line;
}

static void prompt_indent(Repl *r, char *buf, size_t size) {
    buf[0] = '\0';
    if (r->lines == 0 || r->pending_blank) return;
    const char *src = r->src.chars;
    size_t end = r->src.length - 1; // the last line's newline
    size_t start = end;
    while (start > 0 && src[start - 1] != '\n') start--;
    char last[256];
    size_t n = end - start < sizeof last - 1 ? end - start : sizeof last - 1;
    memcpy(last, src + start, n);
    last[n] = '\0';
    size_t ind = next_indent(last);
    if (ind >= size) ind = size - 1;
    memset(buf, ' ', ind);
    buf[ind] = '\0';
}

int repl_run(VM *vm, const ReplOptions *options) {
    Repl r;
    memset(&r, 0, sizeof r);
    r.vm = vm;
    strbuf_init(&r.src);
    if (can_edit()) {
        r.le = lineedit_new(STDIN_FILENO, STDOUT_FILENO);
        if (r.le) {
            lineedit_history_set_max(r.le, REPL_HISTORY_MAX);
            lineedit_set_completer(r.le, complete, &r);
            r.history_path = history_path();
            if (r.history_path) lineedit_history_load(r.le, r.history_path);
        }
    }
    if (options->import_asyncio) {
        Value mod;
        if (vm_import(vm, str_from_cstr(vm, "asyncio"), &mod))
            dict_set_str(vm, vm->main_globals, str_intern(vm, "asyncio", 7), mod);
        vm->exception = EMPTY_VAL;
    }
    if (options->banner) {
        fputs(options->banner, stderr);
        fflush(stderr);
    }
    while (!r.done) {
        const char *prompt = r.lines == 0 && !r.pending_blank ? ">>> " : "... ";
        char *line;
        bool interrupted = false;
        bool pasting = false;
        if (r.le) {
            char indent[256];
            prompt_indent(&r, indent, sizeof indent);
            LineEditStatus st;
            line = lineedit_read(r.le, prompt, indent, &st);
            interrupted = st == LINEEDIT_INTERRUPT;
            pasting = line && lineedit_pasting(r.le);
            if (line) lineedit_history_add(r.le, line);
        } else {
            line = read_plain(prompt, &interrupted);
        }
        if (interrupted) {
            fputs(r.le ? "KeyboardInterrupt\n" : "\nKeyboardInterrupt\n", stderr);
            fflush(stderr);
            reset_input(&r);
            continue;
        }
        if (!line) { // end of input: finish a pending statement, then leave
            if (r.lines > 0) {
                if (!r.le) fputc('\n', stderr);
                if (r.pending_blank) add_line(&r, "");
                settle(&r, true, true);
                continue;
            }
            if (!r.le) fputc('\n', stderr);
            break;
        }
        feed(&r, line, pasting);
        free(line);
    }
    fflush(stderr);
    if (r.le) {
        if (r.history_path) lineedit_history_save(r.le, r.history_path);
        lineedit_free(r.le);
    }
    free(r.history_path);
    strbuf_free(&r.src);
    return r.status;
}
