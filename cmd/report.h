// cmd/report.h - telling the user what went wrong, as CPython words it:
// syntax errors with their caret, and the exit status SystemExit asks for.
#ifndef ASYNCRUN_REPORT_H
#define ASYNCRUN_REPORT_H

#include <stddef.h>

#include "parser/compile.h"
#include "runtime/vm.h"

// "  File "NAME", line N", the stripped source line, the caret, "Type: message",
// on stderr. src/len is the text that was compiled.
void report_syntax_error(const char *filename, const char *src, size_t len,
                         const CompileError *err);

// The status a SystemExit exception asks for: None -> 0, an int -> it (low
// 8 bits), anything else is printed on stderr and gives 1.
int report_exit_status(VM *vm, Value exc);

#endif
