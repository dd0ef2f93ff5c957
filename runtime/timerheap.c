// runtime/timerheap.c - array binary min-heap of timers keyed by (when, seq).
// Invariant: no entry is earlier than its parent, items[(i - 1) / 2].
#include "runtime/timerheap.h"

#include <stdlib.h>

#define MIN_CAPACITY 16

static inline bool earlier(const TimerEntry *a, const TimerEntry *b) {
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

// Move the hole at [i] up until [entry] fits, then write it once.
static void sift_up(TimerEntry *items, size_t i, TimerEntry entry) {
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(&entry, &items[parent])) break;
        items[i] = items[parent];
        i = parent;
    }
    items[i] = entry;
}

// Move the hole at [i] down, pulling up the earlier child, until [entry] fits.
static void sift_down(TimerEntry *items, size_t count, size_t i,
                      TimerEntry entry) {
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= count) break;
        if (child + 1 < count && earlier(&items[child + 1], &items[child])) {
            child++;
        }
        if (!earlier(&items[child], &entry)) break;
        items[i] = items[child];
        i = child;
    }
    items[i] = entry;
}

// Refill the hole at [0] with [entry] (Floyd's bottom-up variant): the hole
// goes down to a leaf along the earlier children, one comparison per level,
// then [entry] (the heap's old last entry, so it usually belongs near the
// bottom) sifts up from there: about half the comparisons of sift_down.
static void refill_root(TimerEntry *items, size_t count, TimerEntry entry) {
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= count) break;
        if (child + 1 < count && earlier(&items[child + 1], &items[child])) {
            child++;
        }
        items[i] = items[child];
        i = child;
    }
    sift_up(items, i, entry);
}

void timerheap_init(TimerHeap *heap) {
    heap->items = NULL;
    heap->count = 0;
    heap->capacity = 0;
}

void timerheap_free(TimerHeap *heap) {
    free(heap->items);
    timerheap_init(heap);
}

bool timerheap_push(TimerHeap *heap, double when, uint64_t seq, void *target) {
    if (heap->count == heap->capacity) {
        if (heap->capacity > SIZE_MAX / 2 / sizeof(TimerEntry)) return false;
        size_t capacity = heap->capacity ? heap->capacity * 2 : MIN_CAPACITY;
        TimerEntry *items =
            realloc(heap->items, capacity * sizeof(TimerEntry));
        if (!items) return false;
        heap->items = items;
        heap->capacity = capacity;
    }
    TimerEntry entry = {when, seq, target};
    sift_up(heap->items, heap->count, entry);
    heap->count++;
    return true;
}

// A heap drained to a quarter of its capacity gives half of it back.
static void shrink(TimerHeap *heap) {
    if (heap->capacity <= MIN_CAPACITY || heap->count >= heap->capacity / 4) return;
    TimerEntry *items = realloc(heap->items, heap->capacity / 2 * sizeof(TimerEntry));
    if (!items) return; // keep the bigger array
    heap->items = items;
    heap->capacity /= 2;
}

TimerEntry timerheap_pop(TimerHeap *heap) {
    TimerEntry top = heap->items[0];
    size_t count = --heap->count;
    if (count > 0) refill_root(heap->items, count, heap->items[count]);
    shrink(heap);
    return top;
}

void timerheap_remove_if(TimerHeap *heap,
                         bool (*dead)(const TimerEntry *entry, void *ctx),
                         void *ctx) {
    TimerEntry *items = heap->items;
    size_t kept = 0;
    for (size_t i = 0; i < heap->count; i++) {
        if (!dead(&items[i], ctx)) items[kept++] = items[i];
    }
    heap->count = kept;
    // Floyd's heapify: sift down every parent, last first; O(n) in all.
    for (size_t i = kept / 2; i-- > 0;) sift_down(items, kept, i, items[i]);
}
