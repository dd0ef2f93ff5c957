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

// ---- user classes (class.c) ----
// The BUILD_CLASS instruction: run the body with a fresh namespace and make
// the class (single inheritance from object, an exception class or a user class).
bool class_build(VM *vm, Value body, Value name, Value bases, Value *out);
bool class_is_user(const ObjClass *cls);
// super() and attribute lookup on what it returns.
bool super_getattr(VM *vm, ObjSuper *sup, ObjString *name, Value *out);
void class_init_builtins(VM *vm); // super, object.__init__, BaseException.__init__
// Call a special method (__repr__, __eq__, ...) defined by a user class:
// 1 called (*out set), 0 not defined, -1 error.
int instance_special(VM *vm, Value obj, const char *name, Value *args, int argc, Value *out);

#endif
