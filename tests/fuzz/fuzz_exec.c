// tests/fuzz/fuzz_exec.c - libFuzzer harness: whole programs under the
// virtual clock, with an instruction budget (vm->fuel) so loops end, some
// with the collector in stress mode.
// stdout goes to /dev/null, stdin is empty, time.sleep does not block, and
// uncaught exceptions are printed (to /dev/null) as the command prints them.
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parser/compile.h"
#include "runtime/containers.h"
#include "runtime/vm.h"

// Instructions (backward jumps and calls) one input may spend.
#define FUZZ_FUEL 200000
// One input in GC_STRESS_EVERY also collects at every safe point (finds
// values the collector cannot see), on a smaller budget: a collection each
// step is slow.
#define GC_STRESS_EVERY 8
#define GC_STRESS_FUEL 5000

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    devnull = fopen("/dev/null", "w");
    int fd = open("/dev/null", O_RDWR);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDIN_FILENO);
    close(fd);
    return 0;
}

// time.sleep really blocks; here it only checks its argument.
static bool fake_sleep(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!native_arity(vm, "time.sleep", argc, 1, 1)) return false;
    if (!IS_FLOAT(args[0]) && !IS_INTLIKE(args[0]))
        return vm_raise(vm, CLS_TYPE_ERROR, "'%s' object cannot be interpreted as an integer",
                        value_type_name(vm, args[0]));
    *out = NONE_VAL;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    VM *vm = vm_new();
    if (!vm) abort();
    vm->clock_mode = CLOCK_VIRTUAL;
    vm->fuel = FUZZ_FUEL;
    if (size % GC_STRESS_EVERY == GC_STRESS_EVERY - 1) {
        vm->gc_stress = true;
        vm->fuel = GC_STRESS_FUEL;
    }
    Value time_module;
    if (vm_import(vm, str_intern(vm, "time", 4), &time_module))
        define_native(vm, ((ObjModule *)AS_OBJ(time_module))->dict, "sleep", fake_sleep, false);
    list_append(vm, vm->argv, OBJ_VAL(str_from_cstr(vm, "<fuzz>")));

    CompileError err;
    ObjCode *code = compile_source(vm, (const char *)data, size, "<fuzz>", COMPILE_FILE, &err);
    if (code && !vm_run_module(vm, code, vm->main_globals)) {
        Value exc = vm->exception;
        vm->exception = EMPTY_VAL;
        vm_flush_out(vm);
        exception_print(vm, exc, devnull);
    }
    vm_free(vm);
    return 0;
}
