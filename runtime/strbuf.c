// runtime/strbuf.c - a growable byte buffer for building text.
#include "runtime/strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(StrBuf *buf) {
    buf->chars = buf->small;
    buf->length = 0;
    buf->capacity = STRBUF_INLINE;
    buf->small[0] = '\0';
}

void strbuf_free(StrBuf *buf) {
    if (buf->chars != buf->small) free(buf->chars);
    strbuf_init(buf);
}

bool strbuf_grow(StrBuf *buf, size_t extra) {
    if (!buf->chars) strbuf_init(buf); // zeroed by calloc
    if (extra > SIZE_MAX / 2 - buf->length) return false;
    size_t need = buf->length + extra + 1;
    if (need <= buf->capacity) return true;
    size_t cap = buf->capacity * 2;
    while (cap < need) cap *= 2;
    bool was_small = buf->chars == buf->small;
    char *chars = realloc(was_small ? NULL : buf->chars, cap);
    if (!chars && cap > need) chars = realloc(was_small ? NULL : buf->chars, cap = need);
    if (!chars) return false;
    if (was_small) memcpy(chars, buf->small, buf->length + 1);
    buf->chars = chars;
    buf->capacity = cap;
    return true;
}

static void reserve(StrBuf *buf, size_t extra) {
    if (!strbuf_try_reserve(buf, extra)) {
        fputs("asyncrun: out of memory\n", stderr);
        abort();
    }
}

void strbuf_append(StrBuf *buf, const char *chars, size_t length) {
    reserve(buf, length);
    if (length) memcpy(buf->chars + buf->length, chars, length);
    buf->length += length;
    buf->chars[buf->length] = '\0';
}

void strbuf_append_cstr(StrBuf *buf, const char *cstr) {
    strbuf_append(buf, cstr, strlen(cstr));
}

void strbuf_append_char(StrBuf *buf, char c) {
    reserve(buf, 1);
    buf->chars[buf->length++] = c;
    buf->chars[buf->length] = '\0';
}

void strbuf_append_repeat(StrBuf *buf, char c, size_t count) {
    reserve(buf, count);
    memset(buf->chars + buf->length, c, count);
    buf->length += count;
    buf->chars[buf->length] = '\0';
}

void strbuf_printf(StrBuf *buf, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    va_list copy;
    va_copy(copy, args);
    char probe[1];
    int n = vsnprintf(probe, sizeof probe, fmt, copy);
    va_end(copy);
    if (n > 0) {
        reserve(buf, (size_t)n);
        vsnprintf(buf->chars + buf->length, (size_t)n + 1, fmt, args);
        buf->length += (size_t)n;
    }
    va_end(args);
}

void strbuf_append_codepoint(StrBuf *buf, unsigned cp) {
    char out[4];
    size_t n;
    if (cp < 0x80) {
        out[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        out[0] = (char)(0xF0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    strbuf_append(buf, out, n);
}

char *strbuf_take(StrBuf *buf, size_t *length) {
    reserve(buf, 0);
    char *chars = buf->chars;
    if (chars == buf->small) {
        chars = malloc(buf->length + 1);
        if (!chars) {
            fputs("asyncrun: out of memory\n", stderr);
            abort();
        }
        memcpy(chars, buf->small, buf->length + 1);
    }
    if (length) *length = buf->length;
    strbuf_init(buf);
    return chars;
}
