// tests/unit/test_timerheap.c - timerheap checked against a sorted array.
// Every pop must equal the reference's earliest entry; cancelled entries stay
// in the heap until popped or compacted, as the event loop treats them.
#include "runtime/timerheap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed;
static int failed;

// In a test function returning bool: report and abandon the test.
#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
            return false;                                                  \
        }                                                                  \
    } while (0)

static void run(const char *name, bool (*test)(void)) {
    if (test()) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL %s\n", name);
    }
}

static uint64_t seed = 0x9E3779B97F4A7C15u;
static uint64_t rng_state;

static uint64_t next_random(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static uint32_t random_below(uint32_t n) {
    return (uint32_t)((next_random() >> 32) % n);
}

// One scheduled timer; the heap entry's target points at it.
typedef struct {
    double when;
    uint64_t seq;
    bool dead;
} Timer;

// Written independently of the heap's own comparison on purpose.
static bool ref_before(const Timer *a, const Timer *b) {
    if (a->when != b->when) return a->when < b->when;
    return a->seq < b->seq;
}

static int compare_timers(const void *pa, const void *pb) {
    const Timer *a = *(Timer *const *)pa;
    const Timer *b = *(Timer *const *)pb;
    return ref_before(a, b) ? -1 : ref_before(b, a) ? 1 : 0;
}

static bool entry_dead(const TimerEntry *entry, void *ctx) {
    size_t *calls = ctx;
    (*calls)++;
    return ((const Timer *)entry->target)->dead;
}

static bool always(const TimerEntry *entry, void *ctx) {
    (*(size_t *)ctx)++;
    return true;
}

static bool never(const TimerEntry *entry, void *ctx) {
    (*(size_t *)ctx)++;
    return false;
}

// Every entry matches its timer and no child is earlier than its parent.
static bool heap_valid(const TimerHeap *heap) {
    CHECK(heap->count <= heap->capacity);
    CHECK(heap->count == 0 || heap->items != NULL);
    for (size_t i = 0; i < heap->count; i++) {
        const TimerEntry *entry = &heap->items[i];
        const Timer *timer = entry->target;
        CHECK(timer != NULL);
        CHECK(entry->when == timer->when);
        CHECK(entry->seq == timer->seq);
        if (i > 0) {
            const Timer *parent = heap->items[(i - 1) / 2].target;
            CHECK(!ref_before(timer, parent));
        }
    }
    return true;
}

// The reference: every timer in the heap, dead or alive, sorted latest
// first so the earliest is at the end.
typedef struct {
    Timer **items;
    size_t count;
    size_t dead;
} Reference;

static void ref_insert(Reference *ref, Timer *timer) {
    size_t lo = 0;
    size_t hi = ref->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ref_before(ref->items[mid], timer)) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    memmove(&ref->items[lo + 1], &ref->items[lo],
            (ref->count - lo) * sizeof(Timer *));
    ref->items[lo] = timer;
    ref->count++;
}

static Timer *ref_earliest_live(const Reference *ref) {
    for (size_t i = ref->count; i-- > 0;) {
        if (!ref->items[i]->dead) return ref->items[i];
    }
    return NULL;
}

static void ref_drop_dead(Reference *ref) {
    size_t kept = 0;
    for (size_t i = 0; i < ref->count; i++) {
        if (!ref->items[i]->dead) ref->items[kept++] = ref->items[i];
    }
    ref->count = kept;
    ref->dead = 0;
}

// The heap holds exactly the reference's timers, each once.
static bool same_contents(const TimerHeap *heap, const Reference *ref) {
    CHECK(heap->count == ref->count);
    if (heap->count == 0) return true;
    Timer **sorted = malloc(heap->count * sizeof(Timer *));
    CHECK(sorted != NULL);
    for (size_t i = 0; i < heap->count; i++) sorted[i] = heap->items[i].target;
    qsort(sorted, heap->count, sizeof(Timer *), compare_timers);
    bool same = true;
    for (size_t i = 0; i < heap->count; i++) {
        if (sorted[i] != ref->items[ref->count - 1 - i]) same = false;
    }
    free(sorted);
    CHECK(same);
    return true;
}

static bool compact(TimerHeap *heap, Reference *ref) {
    size_t before = heap->count;
    size_t calls = 0;
    timerheap_remove_if(heap, entry_dead, &calls);
    ref_drop_dead(ref);
    CHECK(calls == before);
    CHECK(heap_valid(heap));
    CHECK(same_contents(heap, ref));
    for (size_t i = 0; i < heap->count; i++) {
        CHECK(!((Timer *)heap->items[i].target)->dead);
    }
    return true;
}

// Pop as the event loop does: drop dead tops, fire the first live one.
// *fired is NULL when only dead timers (or none) were left.
static bool loop_pop(TimerHeap *heap, Reference *ref, Timer **fired) {
    Timer *expected = ref_earliest_live(ref);
    *fired = NULL;
    for (;;) {
        CHECK(heap->count == ref->count);
        if (heap->count == 0) break;
        Timer *top = ref->items[ref->count - 1];
        CHECK(timerheap_peek(heap)->target == top);
        TimerEntry entry = timerheap_pop(heap);
        ref->count--;
        CHECK(entry.target == top);
        CHECK(entry.when == top->when);
        CHECK(entry.seq == top->seq);
        if (top->dead) {
            ref->dead--;
            continue;
        }
        *fired = top;
        break;
    }
    CHECK(*fired == expected);
    return true;
}

static double random_when(void) {
    switch (random_below(16)) {
    case 0:
        return random_below(1000000) / 1000.0;
    case 1:
        return INFINITY;
    case 2:
        return -0.0;
    case 3:
        return 0.0;
    default:
        // Few distinct values: ties everywhere, so seq decides.
        return (double)random_below(24) * 0.25;
    }
}

enum { RANDOM_OPS = 100000, PHASE = 6250 };

static bool test_random_against_reference(void) {
    bool ok = false;
    TimerHeap heap;
    timerheap_init(&heap);
    Timer *timers = calloc(RANDOM_OPS, sizeof(Timer));
    Reference ref = {calloc(RANDOM_OPS, sizeof(Timer *)), 0, 0};
    size_t scheduled = 0;
    size_t fired = 0;
    size_t compactions = 0;
    size_t rule_compactions = 0;
    size_t peak = 0;
    if (!timers || !ref.items) goto fail;

    for (size_t op = 0; op < RANDOM_OPS; op++) {
        // Phases grow the heap (doubling it many times), cancel most of it
        // (so CPython's rebuild rule fires) and drain it.
        static const uint32_t mix[4][2] = {
            {60, 15}, {35, 45}, {25, 15}, {25, 15}};
        const uint32_t *odds = mix[(op / PHASE) % 4];
        uint32_t roll = random_below(100);
        uint32_t push_below = odds[0];
        if (roll < push_below) {
            Timer *timer = &timers[scheduled];
            timer->when = random_when();
            timer->seq = scheduled;
            scheduled++;
            if (!timerheap_push(&heap, timer->when, timer->seq, timer)) {
                goto fail;
            }
            ref_insert(&ref, timer);
        } else if (roll < push_below + odds[1]) {
            if (ref.count > 0) {
                Timer *timer = ref.items[random_below((uint32_t)ref.count)];
                if (!timer->dead) {
                    timer->dead = true;
                    ref.dead++;
                }
            }
        } else {
            Timer *timer;
            if (!loop_pop(&heap, &ref, &timer)) goto fail;
            if (timer) fired++;
        }
        if (heap.count > peak) peak = heap.count;
        // CPython's rule, plus a periodic rebuild regardless.
        if (ref.count > 100 && ref.dead * 2 > ref.count) {
            if (!compact(&heap, &ref)) goto fail;
            rule_compactions++;
        } else if (op % 997 == 0) {
            if (!compact(&heap, &ref)) goto fail;
            compactions++;
        }
    }
    for (;;) {
        Timer *timer;
        if (!loop_pop(&heap, &ref, &timer)) goto fail;
        if (!timer) break;
        fired++;
    }
    if (heap.count != 0 || ref.count != 0) {
        fprintf(stderr, "heap not drained\n");
        goto fail;
    }
    // The workload must really have exercised what it claims to.
    if (fired < scheduled / 2 || compactions < 50 || rule_compactions < 4 ||
        peak < 1000) {
        fprintf(stderr,
                "weak workload: %zu fired, %zu + %zu compactions, peak %zu\n",
                fired, compactions, rule_compactions, peak);
        goto fail;
    }
    ok = true;
    goto done;
fail:
    fprintf(stderr, "random test failed after %zu pushes (seed %#llx)\n",
            scheduled, (unsigned long long)seed);
done:
    timerheap_free(&heap);
    free(timers);
    free(ref.items);
    return ok;
}

// Equal deadlines fire in scheduling order, through pops and a rebuild.
static bool fifo_run(bool rebuild) {
    enum { N = 600 };
    static Timer timers[N];
    TimerHeap heap;
    timerheap_init(&heap);
    for (size_t i = 0; i < N; i++) {
        // Three deadlines, interleaved, with the latest scheduled first.
        timers[i].when = (double)(2 - i % 3);
        timers[i].seq = 1000 + i;
        timers[i].dead = false;
        if (!timerheap_push(&heap, timers[i].when, timers[i].seq,
                            &timers[i])) {
            timerheap_free(&heap);
            CHECK(!"push failed");
        }
    }
    if (rebuild) {
        size_t calls = 0;
        timerheap_remove_if(&heap, never, &calls);
        if (calls != N || !heap_valid(&heap)) {
            timerheap_free(&heap);
            CHECK(!"rebuild broke the heap");
        }
    }
    bool ok = true;
    for (size_t k = 0; k < N && ok; k++) {
        // Deadline 0 holds i = 2, 5, 8...; then 1 (i = 1, 4...); then 2.
        size_t group = k / (N / 3);
        size_t expected = (2 - group) + 3 * (k % (N / 3));
        TimerEntry entry = timerheap_pop(&heap);
        ok = entry.target == &timers[expected] &&
             entry.seq == timers[expected].seq &&
             entry.when == (double)group;
    }
    bool empty = heap.count == 0;
    timerheap_free(&heap);
    CHECK(ok);
    CHECK(empty);
    return true;
}

static bool test_fifo_equal_deadlines(void) {
    CHECK(fifo_run(false));
    CHECK(fifo_run(true));
    return true;
}

// All deadlines equal: the order is seq alone, even when pushed shuffled.
static bool test_seq_breaks_ties(void) {
    enum { N = 257 };
    static Timer timers[N];
    size_t order[N];
    for (size_t i = 0; i < N; i++) order[i] = i;
    for (size_t i = N - 1; i > 0; i--) {
        size_t j = random_below((uint32_t)(i + 1));
        size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    TimerHeap heap;
    timerheap_init(&heap);
    bool ok = true;
    for (size_t i = 0; i < N && ok; i++) {
        Timer *timer = &timers[order[i]];
        timer->when = 7.5;
        timer->seq = order[i];
        ok = timerheap_push(&heap, timer->when, timer->seq, timer);
    }
    ok = ok && heap_valid(&heap);
    for (size_t i = 0; i < N && ok; i++) {
        ok = timerheap_peek(&heap)->seq == i &&
             timerheap_pop(&heap).target == &timers[i];
    }
    timerheap_free(&heap);
    CHECK(ok);
    return true;
}

static bool test_remove_if_empty(void) {
    TimerHeap heap;
    timerheap_init(&heap);
    size_t calls = 0;
    timerheap_remove_if(&heap, always, &calls);
    CHECK(calls == 0);
    CHECK(heap.count == 0);
    CHECK(heap_valid(&heap));
    timerheap_remove_if(&heap, never, &calls);
    CHECK(calls == 0);
    CHECK(heap.count == 0);

    // Emptied by pops: storage is kept, still nothing to visit.
    static Timer timer = {1.0, 1, false};
    CHECK(timerheap_push(&heap, timer.when, timer.seq, &timer));
    timerheap_pop(&heap);
    timerheap_remove_if(&heap, always, &calls);
    bool ok = calls == 0 && heap.count == 0 && heap_valid(&heap);
    timerheap_free(&heap);
    CHECK(ok);
    CHECK(heap.items == NULL && heap.count == 0 && heap.capacity == 0);
    return true;
}

static bool fill_random(TimerHeap *heap, Timer *timers, size_t n) {
    for (size_t i = 0; i < n; i++) {
        timers[i].when = random_when();
        timers[i].seq = i;
        timers[i].dead = false;
        CHECK(timerheap_push(heap, timers[i].when, timers[i].seq, &timers[i]));
    }
    CHECK(heap_valid(heap));
    return true;
}

static bool test_remove_if_everything(void) {
    enum { N = 300 };
    static Timer timers[N];
    TimerHeap heap;
    timerheap_init(&heap);
    bool ok = fill_random(&heap, timers, N);
    size_t calls = 0;
    timerheap_remove_if(&heap, always, &calls);
    ok = ok && calls == N && heap.count == 0 && heap_valid(&heap);
    // The emptied heap is still usable.
    static Timer later = {3.0, N, false};
    static Timer sooner = {2.0, N + 1, false};
    ok = ok && timerheap_push(&heap, later.when, later.seq, &later) &&
         timerheap_push(&heap, sooner.when, sooner.seq, &sooner);
    ok = ok && heap_valid(&heap) && timerheap_pop(&heap).target == &sooner &&
         timerheap_pop(&heap).target == &later && heap.count == 0;
    timerheap_free(&heap);
    CHECK(ok);
    return true;
}

static bool test_remove_if_nothing(void) {
    enum { N = 300 };
    static Timer timers[N];
    Timer *sorted[N];
    TimerHeap heap;
    timerheap_init(&heap);
    bool ok = fill_random(&heap, timers, N);
    size_t calls = 0;
    timerheap_remove_if(&heap, never, &calls);
    ok = ok && calls == N && heap.count == N && heap_valid(&heap);
    for (size_t i = 0; i < N; i++) sorted[i] = &timers[i];
    qsort(sorted, N, sizeof(Timer *), compare_timers);
    for (size_t i = 0; i < N && ok; i++) {
        ok = timerheap_pop(&heap).target == sorted[i];
    }
    timerheap_free(&heap);
    CHECK(ok);
    return true;
}

// Removing every kth entry from heaps of every small size, including those
// whose rebuild leaves 0, 1 or 2 entries.
static bool test_remove_if_small_sizes(void) {
    enum { MAX = 40 };
    static Timer timers[MAX];
    Timer *sorted[MAX];
    for (size_t n = 0; n <= MAX; n++) {
        for (size_t k = 1; k <= 4; k++) {
            TimerHeap heap;
            timerheap_init(&heap);
            bool ok = fill_random(&heap, timers, n);
            size_t live = 0;
            for (size_t i = 0; i < n; i++) {
                timers[i].dead = i % k == 0;
                if (!timers[i].dead) sorted[live++] = &timers[i];
            }
            size_t calls = 0;
            timerheap_remove_if(&heap, entry_dead, &calls);
            ok = ok && calls == n && heap.count == live && heap_valid(&heap);
            qsort(sorted, live, sizeof(Timer *), compare_timers);
            for (size_t i = 0; i < live && ok; i++) {
                ok = timerheap_pop(&heap).target == sorted[i];
            }
            timerheap_free(&heap);
            CHECK(ok);
        }
    }
    return true;
}

// Growth that would overflow size_t fails before touching the heap.
static bool test_push_refuses_overflow(void) {
    TimerEntry one = {1.0, 1, NULL};
    TimerHeap heap = {&one, 0, 0};
    heap.capacity = SIZE_MAX / sizeof(TimerEntry) / 2 + 1;
    heap.count = heap.capacity;
    bool pushed = timerheap_push(&heap, 0.0, 2, &heap);
    CHECK(!pushed);
    CHECK(heap.items == &one);
    CHECK(heap.count == heap.capacity);
    CHECK(heap.capacity == SIZE_MAX / sizeof(TimerEntry) / 2 + 1);
    CHECK(one.when == 1.0 && one.seq == 1 && one.target == NULL);
    return true;
}

int main(int argc, char **argv) {
    if (argc > 1) seed = strtoull(argv[1], NULL, 0);
    if (seed == 0) seed = 1;  // xorshift never leaves 0
    rng_state = seed;
    run("random against reference", test_random_against_reference);
    run("fifo on equal deadlines", test_fifo_equal_deadlines);
    run("seq breaks ties", test_seq_breaks_ties);
    run("remove_if on empty heap", test_remove_if_empty);
    run("remove_if everything", test_remove_if_everything);
    run("remove_if nothing", test_remove_if_nothing);
    run("remove_if small sizes", test_remove_if_small_sizes);
    run("push refuses overflow", test_push_refuses_overflow);
    printf("timerheap: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
