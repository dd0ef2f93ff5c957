// cmd/main.c - the asyncrun command: options, running FILE, -c CODE or stdin, the session (-i or a terminal), --disasm.
// Ctrl-C raises KeyboardInterrupt. Exit status: 0 ok, 1 error, N from sys.exit(N), 2 bad usage or file, 130 Ctrl-C.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/repl.h"
#include "cmd/report.h"
#include "parser/compile.h"
#include "runtime/code.h"
#include "runtime/containers.h"
#include "runtime/ops.h"
#include "runtime/strbuf.h"
#include "runtime/vm.h"

#define ASYNCRUN_VERSION "0.1.0"

static const char *usage_text =
    "usage: asyncrun [option] ... [FILE | -c CODE | -] [ARG] ...\n"
    "Run a program written in asyncrun's Python subset (an event loop with\n"
    "tasks, futures, timers and sleeps), or explore one interactively.\n"
    "\n"
    "Options:\n"
    "  FILE              run the program in FILE (sys.argv[0] is FILE); a first\n"
    "                    line '#!/usr/bin/env asyncrun' makes FILE executable\n"
    "  -c CODE           run CODE (sys.argv[0] is '-c')\n"
    "  -                 read the program from standard input (sys.argv[0] is '-')\n"
    "  (none)            start the interactive session when standard input is a\n"
    "                    terminal, else read the program from standard input\n"
    "  -i                start the interactive session after running FILE or\n"
    "                    CODE, with its globals; with neither, read the session\n"
    "                    from standard input even when it is not a terminal\n"
    "                    (prompts and errors on stderr, as python3 -i)\n"
    "  -q                no banner when the interactive session starts\n"
    "  --clock=real      loop.time() follows the monotonic clock (default)\n"
    "  --clock=virtual   loop.time() starts at 0.0 and jumps to the next timer\n"
    "                    when nothing is ready: time-based programs run instantly\n"
    "  --disasm          print the bytecode of every code object and exit\n"
    "  -V, --version     print the version and exit\n"
    "  -h, --help        print this help and exit\n"
    "Options after FILE, CODE or - are passed to the program in sys.argv.\n"
    "\n"
    "The interactive session: expressions echo their repr and set _; 'await'\n"
    "works at top level and tasks created earlier keep running while it waits.\n"
    "A blank line ends a block. Ctrl-C interrupts, Ctrl-D or exit() leaves.\n"
    "Editing keys: arrows, Home/End, Ctrl-A/E/K/U/W/Y/L, Alt-B/F, Up/Down and\n"
    "Ctrl-R for history, Tab completes names and attributes.\n"
    "\n"
    "Environment:\n"
    "  ASYNCRUN_CLOCK    real or virtual: the default for --clock\n"
    "  ASYNCRUN_HISTORY  history file of the session (default\n"
    "                    ~/.asyncrun_history; empty: keep no history)\n"
    "\n"
    "Exit status: 0 on success, 1 when the program raises an uncaught exception\n"
    "or has a syntax error (sys.exit(N) exits with N), 2 for bad usage or a file\n"
    "that cannot be read, 130 (killed by SIGINT) after an uncaught Ctrl-C.\n"
    "The session exits 0 at end of input unless exit(N) says otherwise.\n";

static const char *banner_text =
    "asyncrun " ASYNCRUN_VERSION " asyncio REPL\n"
    "Use \"await\" directly instead of \"asyncio.run()\".\n"
    "Type \"exit()\" or Ctrl-D (end of input) to leave.\n";

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

// Ctrl-C: the dispatch loop raises KeyboardInterrupt at its next check.
static void on_sigint(int sig) {
    (void)sig;
    vm_interrupt = 1;
}

static void install_sigint(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: a blocking read or sleep returns EINTR
    sigaction(SIGINT, &sa, NULL);
}

// Die of SIGINT after an uncaught KeyboardInterrupt, as CPython does, so the
// shell sees the interrupt.
static void exit_by_sigint(void) {
    fflush(stdout);
    fflush(stderr);
    signal(SIGINT, SIG_DFL);
    raise(SIGINT);
    _exit(130);
}

typedef enum { RUN_OK, RUN_ERROR, RUN_EXIT, RUN_INTERRUPT } RunOutcome;

// Compile and run a program; *status is what the command should exit with.
// `inspect` (-i): SystemExit is printed like any error, as python3 -i does.
static RunOutcome run_source(VM *vm, const char *src, size_t len, const char *filename, bool disasm,
                             bool inspect, int *status) {
    CompileError err;
    *status = 0;
    ObjCode *code = compile_source(vm, src, len, filename, COMPILE_FILE, &err);
    if (!code) {
        vm_flush_out(vm);
        report_syntax_error(filename, src, len, &err);
        *status = 1;
        return RUN_ERROR;
    }
    if (disasm) {
        code_disassemble(vm, code, stdout);
        return RUN_OK;
    }
    bool ok = vm_run_module(vm, code, vm->main_globals);
    vm_flush_out(vm);
    if (ok) return RUN_OK;
    Value exc = vm->exception;
    vm->exception = EMPTY_VAL;
    if (!inspect && exception_matches(vm, exc, CLS_SYSTEM_EXIT)) {
        *status = report_exit_status(vm, exc);
        return RUN_EXIT;
    }
    exception_print(vm, exc, stderr);
    *status = 1;
    return exception_matches(vm, exc, CLS_KEYBOARD_INTERRUPT) ? RUN_INTERRUPT : RUN_ERROR;
}

int main(int argc, char **argv) {
    // a closed stdout pipe raises BrokenPipeError at the print, as in CPython
    signal(SIGPIPE, SIG_IGN);
    const char *clock = getenv("ASYNCRUN_CLOCK");
    bool disasm = false, inspect = false, quiet = false;
    const char *code_arg = NULL;
    const char *file = NULL;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("asyncrun %s\n", ASYNCRUN_VERSION);
            return 0;
        } else if (strncmp(a, "--clock=", 8) == 0) {
            clock = a + 8;
        } else if (strcmp(a, "--clock") == 0) {
            if (i + 1 >= argc) return usage_error("option --clock needs a value: real or virtual", "");
            clock = argv[++i];
        } else if (strcmp(a, "--disasm") == 0) {
            disasm = true;
        } else if (strcmp(a, "-i") == 0) {
            inspect = true;
        } else if (strcmp(a, "-q") == 0) {
            quiet = true;
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

    bool from_stdin = !code_arg && (!file || strcmp(file, "-") == 0);
    // the session alone: -i without a program, or a bare command on a terminal
    bool session_only = !disasm && from_stdin && (inspect || (!file && isatty(STDIN_FILENO)));

    char *src = NULL;
    size_t len = 0;
    const char *name = NULL;
    if (session_only) {
        // nothing to read first
    } else if (code_arg) {
        src = strdup(code_arg);
        len = strlen(code_arg);
        name = "<string>";
    } else if (from_stdin) {
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
    compile_install(vm);
    const char *argv0 = session_only ? "" : code_arg ? "-c" : from_stdin ? "-" : file;
    list_append(vm, vm->argv, OBJ_VAL(str_from_cstr(vm, argv0)));
    for (; i < argc; i++) list_append(vm, vm->argv, OBJ_VAL(str_from_cstr(vm, argv[i])));
    install_sigint();

    int status = 0;
    RunOutcome outcome = RUN_OK;
    if (src) {
        outcome = run_source(vm, src, len, name, disasm, inspect, &status);
        vm_interrupt = 0;
    }
    if ((inspect || session_only) && !disasm) {
        ReplOptions options = {session_only && !quiet ? banner_text : NULL, session_only};
        status = repl_run(vm, &options);
        outcome = RUN_OK;
    }
    fflush(stdout);
    vm_free(vm);
    free(src);
    if (outcome == RUN_INTERRUPT) exit_by_sigint();
    return status;
}
