// runtime/mod_time.c - the time module: clocks and a blocking sleep.
// time.sleep really blocks, also under the virtual clock (only the event
// loop's time is virtual).
#include <errno.h>
#include <math.h>
#include <time.h>

#include "runtime/modules.h"

static double clock_seconds(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t clock_nanos(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define CLOCK_FN(fname, pyname, id, conv, make)                                      \
    static bool fname(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) { \
        if (!native_arity(vm, pyname, argc, 0, 0)) return false;                     \
        *out = make(conv(id));                                                       \
        return true;                                                                 \
    }

CLOCK_FN(time_time, "time.time", CLOCK_REALTIME, clock_seconds, FLOAT_VAL)
CLOCK_FN(time_monotonic, "time.monotonic", CLOCK_MONOTONIC, clock_seconds, FLOAT_VAL)
CLOCK_FN(time_perf_counter, "time.perf_counter", CLOCK_MONOTONIC, clock_seconds, FLOAT_VAL)
CLOCK_FN(time_time_ns, "time.time_ns", CLOCK_REALTIME, clock_nanos, INT_VAL)
CLOCK_FN(time_monotonic_ns, "time.monotonic_ns", CLOCK_MONOTONIC, clock_nanos, INT_VAL)
CLOCK_FN(time_perf_counter_ns, "time.perf_counter_ns", CLOCK_MONOTONIC, clock_nanos, INT_VAL)

static bool time_sleep(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!native_arity(vm, "time.sleep", argc, 1, 1)) return false;
    double secs;
    if (IS_FLOAT(args[0])) secs = AS_FLOAT(args[0]);
    else if (IS_INTLIKE(args[0])) secs = (double)AS_INTLIKE(args[0]);
    else
        return vm_raise(vm, CLS_TYPE_ERROR, "'%s' object cannot be interpreted as an integer",
                        value_type_name(vm, args[0]));
    if (isnan(secs)) return vm_raise(vm, CLS_VALUE_ERROR, "Invalid value NaN (not a number)");
    if (secs < 0) return vm_raise(vm, CLS_VALUE_ERROR, "sleep length must be non-negative");
    if (secs > 9.2e9)
        return vm_raise(vm, CLS_OVERFLOW_ERROR, "sleep length is too large");
    vm_flush_out(vm);
    struct timespec ts;
    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    *out = NONE_VAL;
    return true;
}

ObjModule *mod_time_new(VM *vm) {
    ObjModule *m = module_new(vm, "time");
    define_native(vm, m->dict, "time", time_time, false);
    define_native(vm, m->dict, "monotonic", time_monotonic, false);
    define_native(vm, m->dict, "perf_counter", time_perf_counter, false);
    define_native(vm, m->dict, "time_ns", time_time_ns, false);
    define_native(vm, m->dict, "monotonic_ns", time_monotonic_ns, false);
    define_native(vm, m->dict, "perf_counter_ns", time_perf_counter_ns, false);
    define_native(vm, m->dict, "sleep", time_sleep, false);
    return m;
}
