// runtime/strbuf.h - a growable byte buffer for building text.
// Always NUL-terminated; chars may move on every append. Short texts stay in
// the buffer's own bytes (no malloc), so a StrBuf must not be copied by value
// once initialised; a zeroed one (calloc) is valid too.
#ifndef ASYNCRUN_STRBUF_H
#define ASYNCRUN_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define STRBUF_INLINE 64

typedef struct {
    char *chars;     // small, or malloc'd once the text outgrows it
    size_t length;
    size_t capacity;
    char small[STRBUF_INLINE];
} StrBuf;

void strbuf_init(StrBuf *buf);
void strbuf_free(StrBuf *buf);
// Room for `extra` more bytes without moving again; false (buffer intact)
// when memory runs out. The appends below abort instead: call this first
// where a program decides the size (format widths, repeats), so that it
// gets a MemoryError.
bool strbuf_grow(StrBuf *buf, size_t extra); // the slow path of try_reserve
static inline bool strbuf_try_reserve(StrBuf *buf, size_t extra) {
    if (buf->chars && extra < buf->capacity - buf->length) return true;
    return strbuf_grow(buf, extra);
}
void strbuf_append(StrBuf *buf, const char *chars, size_t length);
void strbuf_append_cstr(StrBuf *buf, const char *cstr);
void strbuf_append_char(StrBuf *buf, char c);
void strbuf_append_repeat(StrBuf *buf, char c, size_t count);
void strbuf_printf(StrBuf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
// Append one code point encoded as UTF-8.
void strbuf_append_codepoint(StrBuf *buf, unsigned codepoint);
// Hand the bytes to the caller (who frees them) and reset the buffer.
char *strbuf_take(StrBuf *buf, size_t *length);

#endif
