// runtime/modules.h - the builtin namespace and the builtin modules.
#ifndef ASYNCRUN_MODULES_H
#define ASYNCRUN_MODULES_H

#include "runtime/vm.h"

// Fill vm->builtins: functions (print, len, ...), the builtin classes under
// their names (int, str, ValueError, ...), None-like constants are compiled.
void builtins_init(VM *vm);
// Add methods/attributes of the exception classes (vm->classes already made).
void exception_init_classes(VM *vm);

ObjModule *mod_sys_new(VM *vm);
ObjModule *mod_time_new(VM *vm);
ObjModule *mod_functools_new(VM *vm);
ObjModule *mod_asyncio_new(VM *vm);

#endif
