// runtime/classes.h - making builtin classes and filling their method tables.
#ifndef ASYNCRUN_CLASSES_H
#define ASYNCRUN_CLASSES_H

#include "runtime/vm.h"

ObjClass *class_new(VM *vm, const char *name, ObjClass *base);
// Add a native method (args[0] is self).
void class_add_method(VM *vm, ObjClass *cls, const char *name, NativeFn fn,
                      bool takes_kwargs);
// Look a name up along the base chain; NULL when absent.
Value *class_lookup(ObjClass *cls, ObjString *name);

#endif
