// cmd/main.c - the asyncrun command: argument handling, running a file,
// -c CODE or stdin, --disasm, and reporting syntax errors and uncaught
// exceptions as CPython does. Exit status: 0 ok, 1 error in the program,
// 2 bad usage or unreadable file.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexer/lex.h"
#include "parser/compile.h"
#include "runtime/code.h"
#include "runtime/containers.h"
#include "runtime/ops.h"
#include "runtime/vm.h"

#define ASYNCRUN_VERSION "0.1.0"

static const char *usage_text =
    "usage: asyncrun [option] ... [FILE | -c CODE | -] [ARG] ...\n"
    "Run a program written in asyncrun's Python subset (an event loop with\n"
    "tasks, futures, timers and sleeps).\n"
    "\n"
    "Options:\n"
    "  FILE              run the program in FILE (sys.argv[0] is FILE)\n"
    "  -c CODE           run CODE (sys.argv[0] is '-c')\n"
    "  -                 read the program from standard input\n"
    "  --clock=real      loop.time() follows the monotonic clock (default)\n"
    "  --clock=virtual   loop.time() starts at 0.0 and jumps to the next timer\n"
    "                    when nothing is ready: time-based programs run instantly\n"
    "  --disasm          print the bytecode of every code object and exit\n"
    "  --version         print the version and exit\n"
    "  -h, --help        print this help and exit\n"
    "\n"
    "Environment:\n"
    "  ASYNCRUN_CLOCK    real or virtual: the default for --clock\n"
    "\n"
    "Exit status: 0 on success, 1 when the program raises an uncaught exception\n"
    "or has a syntax error (sys.exit(N) exits with N), 2 for bad usage or a file\n"
    "that cannot be read.\n";

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "asyncrun: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage_text);
    return 2;
}

static char *read_stream(FILE *f, size_t *length) {
    StrBuf buf;
    strbuf_init(&buf);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) strbuf_append(&buf, chunk, n);
    if (ferror(f)) {
        strbuf_free(&buf);
        return NULL;
    }
    return strbuf_take(&buf, length);
}

// Code points before byte column `col` of the line, for the caret.
static size_t char_column(const char *line, size_t length, size_t col) {
    if (col > length) col = length;
    return utf8_count(line, col);
}

static void print_syntax_error(const char *filename, const char *src, size_t len, const CompileError *err) {
    fprintf(stderr, "  File \"%s\", line %d\n", filename, err->line);
    const char *line;
    size_t line_len;
    if (err->line > 0 && lex_source_line(src, len, err->line, &line, &line_len)) {
        size_t skip = 0;
        while (skip < line_len && (line[skip] == ' ' || line[skip] == '\t' || line[skip] == '\f')) skip++;
        size_t end = line_len;
        while (end > skip && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r')) end--;
        fprintf(stderr, "    %.*s\n", (int)(end - skip), line + skip);
        size_t col = err->col < 0 ? 0 : (size_t)err->col;
        size_t caret = col >= skip ? char_column(line + skip, line_len - skip, col - skip) : 0;
        fprintf(stderr, "    %*s^\n", (int)caret, "");
    }
    fprintf(stderr, "%s: %s\n", err->type, err->message);
}

// SystemExit: the status it asks for (printing a non-int code).
static int system_exit_status(VM *vm, Value exc) {
    ObjException *e = (ObjException *)AS_OBJ(exc);
    Value code = e->args && e->args->length == 1 ? e->args->items[0]
                 : e->args && e->args->length > 1 ? OBJ_VAL(e->args) : NONE_VAL;
    if (IS_NONE(code)) return 0;
    if (IS_INTLIKE(code)) return (int)(AS_INT(code) & 0xFF);
    ObjString *s = value_to_str(vm, code);
    vm_flush_out(vm);
    if (s) fprintf(stderr, "%s\n", s->chars);
    return 1;
}

static int run_source(VM *vm, const char *src, size_t len, const char *filename, bool disasm) {
    CompileError err;
    ObjCode *code = compile_source(vm, src, len, filename, COMPILE_FILE, &err);
    if (!code) {
        vm_flush_out(vm);
        print_syntax_error(filename, src, len, &err);
        return 1;
    }
    if (disasm) {
        code_disassemble(vm, code, stdout);
        return 0;
    }
    if (vm_run_module(vm, code, vm->main_globals)) {
        vm_flush_out(vm);
        return 0;
    }
    Value exc = vm->exception;
    vm->exception = EMPTY_VAL;
    vm_flush_out(vm);
    if (exception_matches(vm, exc, CLS_SYSTEM_EXIT)) return system_exit_status(vm, exc);
    exception_print(vm, exc, stderr);
    return 1;
}

int main(int argc, char **argv) {
    const char *clock = getenv("ASYNCRUN_CLOCK");
    bool disasm = false;
    const char *code_arg = NULL;
    const char *file = NULL;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("asyncrun %s\n", ASYNCRUN_VERSION);
            return 0;
        } else if (strncmp(a, "--clock=", 8) == 0) {
            clock = a + 8;
        } else if (strcmp(a, "--clock") == 0) {
            if (i + 1 >= argc) return usage_error("option --clock needs a value: real or virtual", "");
            clock = argv[++i];
        } else if (strcmp(a, "--disasm") == 0) {
            disasm = true;
        } else if (strcmp(a, "-c") == 0) {
            if (i + 1 >= argc) return usage_error("option -c requires an argument", "");
            code_arg = argv[++i];
            i++;
            break;
        } else if (strcmp(a, "-") == 0) {
            file = "-";
            i++;
            break;
        } else if (a[0] == '-') {
            return usage_error("unknown option %s", a);
        } else {
            file = a;
            i++;
            break;
        }
    }
    ClockMode mode = CLOCK_REAL;
    if (clock && strcmp(clock, "virtual") == 0) mode = CLOCK_VIRTUAL;
    else if (clock && strcmp(clock, "real") != 0) return usage_error("bad clock '%s': use real or virtual", clock);

    char *src;
    size_t len;
    const char *name;
    if (code_arg) {
        src = strdup(code_arg);
        len = strlen(code_arg);
        name = "<string>";
    } else if (!file || strcmp(file, "-") == 0) {
        src = read_stream(stdin, &len);
        name = "<stdin>";
        if (!src) {
            fprintf(stderr, "asyncrun: can't read standard input: %s\n", strerror(errno));
            return 2;
        }
    } else {
        FILE *f = fopen(file, "rb");
        if (!f) {
            fprintf(stderr, "asyncrun: can't open file '%s': %s\n", file, strerror(errno));
            return 2;
        }
        src = read_stream(f, &len);
        int saved = errno;
        fclose(f);
        if (!src) {
            fprintf(stderr, "asyncrun: can't read file '%s': %s\n", file, strerror(saved));
            return 2;
        }
        name = file;
    }

    VM *vm = vm_new();
    if (!vm) {
        fputs("asyncrun: out of memory\n", stderr);
        return 1;
    }
    vm->clock_mode = mode;
    const char *argv0 = code_arg ? "-c" : (!file || strcmp(file, "-") == 0) ? "-" : file;
    list_append(vm, vm->argv, OBJ_VAL(str_from_cstr(vm, argv0)));
    for (; i < argc; i++) list_append(vm, vm->argv, OBJ_VAL(str_from_cstr(vm, argv[i])));

    int status = run_source(vm, src, len, name, disasm);
    fflush(stdout);
    vm_free(vm);
    free(src);
    return status;
}
