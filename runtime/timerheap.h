// runtime/timerheap.h - array binary min-heap of timers keyed by (when, seq).
// Keys sit inline in the array so sifting never leaves it; seq makes equal
// deadlines fire in the order they were scheduled (FIFO).
#ifndef ASYNCRUN_TIMERHEAP_H
#define ASYNCRUN_TIMERHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    double when;   // deadline on the loop's clock
    uint64_t seq;  // strictly increasing per heap user; breaks ties
    void *target;  // what fires (a handle or a sleeping task); opaque here
} TimerEntry;

typedef struct {
    TimerEntry *items;
    size_t count;
    size_t capacity;
} TimerHeap;

void timerheap_init(TimerHeap *heap);
void timerheap_free(TimerHeap *heap);
// false when memory runs out (the heap is unchanged).
bool timerheap_push(TimerHeap *heap, double when, uint64_t seq, void *target);
// The earliest entry; the heap must not be empty.
static inline const TimerEntry *timerheap_peek(const TimerHeap *heap) {
    return &heap->items[0];
}
// Remove and return the earliest entry; the heap must not be empty.
TimerEntry timerheap_pop(TimerHeap *heap);
// Drop every entry for which dead(entry, ctx) is true and restore the heap
// property in O(n) (CPython's rebuild when most timers are cancelled).
void timerheap_remove_if(TimerHeap *heap,
                         bool (*dead)(const TimerEntry *entry, void *ctx),
                         void *ctx);

#endif
