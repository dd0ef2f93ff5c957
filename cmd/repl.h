// cmd/repl.h - the interactive session: read input until it is a complete
// statement, run it (top-level await on one event loop), print, keep going.
#ifndef ASYNCRUN_REPL_H
#define ASYNCRUN_REPL_H

#include <stdbool.h>

#include "runtime/vm.h"

typedef struct {
    const char *banner;  // printed on stderr first; NULL for none
    bool import_asyncio; // bind `asyncio` in the globals, as python3 -m asyncio
} ReplOptions;

// Run the session in vm->main_globals on standard input until end of input,
// exit() or sys.exit(). With a terminal on stdin and stdout the line editor
// reads the lines (history in ~/.asyncrun_history or $ASYNCRUN_HISTORY);
// otherwise lines are read as they come and prompts go to stderr, as
// `python3 -i` does. Returns the exit status.
int repl_run(VM *vm, const ReplOptions *options);

#endif
