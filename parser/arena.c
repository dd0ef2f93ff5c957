// parser/arena.c - bump allocation in big zeroed chunks, freed all at once.
// Nothing is freed alone: a pointer stays valid until arena_free.
#include "parser/ast.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>

enum { CHUNK_SIZE = 64 * 1024 };

typedef struct Chunk {
    struct Chunk *next;
    size_t size; // usable bytes in data
    size_t used;
    alignas(max_align_t) unsigned char data[];
} Chunk;

struct Arena {
    Chunk *head; // the chunk being filled; older ones follow
};

static void *checked(void *ptr) {
    if (!ptr) {
        fputs("asyncrun: out of memory\n", stderr);
        abort();
    }
    return ptr;
}

Arena *arena_new(void) {
    return checked(calloc(1, sizeof(Arena)));
}

// Chunks come from calloc and are never reused, so every block is zeroed.
void *arena_alloc(Arena *arena, size_t size) {
    size_t align = alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    if (size == 0) size = align;
    Chunk *chunk = arena->head;
    if (!chunk || chunk->size - chunk->used < size) {
        size_t want = size > CHUNK_SIZE / 4 ? size : CHUNK_SIZE;
        chunk = checked(calloc(1, sizeof(Chunk) + want));
        chunk->size = want;
        if (size == want && arena->head) {
            // A big block gets its own chunk behind the current one, so the
            // free space there is not abandoned.
            chunk->next = arena->head->next;
            arena->head->next = chunk;
            chunk->used = size;
            return chunk->data;
        }
        chunk->next = arena->head;
        arena->head = chunk;
    }
    void *ptr = chunk->data + chunk->used;
    chunk->used += size;
    return ptr;
}

void arena_free(Arena *arena) {
    if (!arena) return;
    Chunk *chunk = arena->head;
    while (chunk) {
        Chunk *next = chunk->next;
        free(chunk);
        chunk = next;
    }
    free(arena);
}
