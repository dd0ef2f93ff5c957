// runtime/str.c - str objects: creation, interning, UTF-8, indexing, repr, format, % and methods.
// Immutable valid UTF-8; hash (never 0) and code-point length set at creation.
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/numfmt.h"
#include "runtime/ops.h"
#include "runtime/unicode.h"

// ---- hashing, creation, interning -------------------------------------------

// Eight bytes per multiply, then the splitmix64 finaliser: fast on the
// short strings that dominate (names, keys, split() parts) and well mixed in
// the low bits the tables index with.
uint32_t str_hash_bytes(const char *chars, size_t length) {
    const uint64_t k = 0xbf58476d1ce4e5b9ull;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ length;
    size_t i = 0;
    for (; i + 8 <= length; i += 8) {
        uint64_t w;
        memcpy(&w, chars + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    if (i < length) {
        uint64_t w = 0;
        memcpy(&w, chars + i, length - i);
        h = (h ^ w) * k;
    }
    h ^= h >> 31;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 32;
    uint32_t r = (uint32_t)h;
    return r ? r : 1;
}

uint32_t utf8_count(const char *chars, size_t length) {
    // Code points = bytes that are not continuation bytes (10xxxxxx).
    uint32_t n = 0;
    size_t i = 0;
    for (; i + 8 <= length; i += 8) {
        uint64_t w;
        memcpy(&w, chars + i, 8);
        uint64_t cont = w & ~(w << 1) & 0x8080808080808080ull;
        n += 8 - (uint32_t)__builtin_popcountll(cont);
    }
    for (; i < length; i++)
        if (((uint8_t)chars[i] & 0xC0) != 0x80) n++;
    return n;
}

size_t utf8_offset(const char *chars, size_t length, size_t index) {
    size_t i = 0;
    while (index > 0 && i < length) {
        i++;
        while (i < length && ((uint8_t)chars[i] & 0xC0) == 0x80) i++;
        index--;
    }
    return i;
}

uint32_t utf8_decode(const char *chars, int *width) {
    const uint8_t *s = (const uint8_t *)chars;
    if (s[0] < 0x80) {
        *width = 1;
        return s[0];
    }
    if ((s[0] & 0xE0) == 0xC0) {
        *width = 2;
        return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if ((s[0] & 0xF0) == 0xE0) {
        *width = 3;
        return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) |
               (s[2] & 0x3F);
    }
    *width = 4;
    return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
           ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

// An uninitialised string of `length` bytes; finish() fills hash and length.
static ObjString *alloc_string(VM *vm, size_t length) {
    ObjString *s = (ObjString *)gc_alloc_object(vm, sizeof(ObjString) + length + 1,
                                                OBJ_STRING);
    s->length = (uint32_t)length;
    s->chars[length] = '\0';
    return s;
}

static ObjString *finish(ObjString *s) {
    s->cp_length = utf8_count(s->chars, s->length);
    return s;
}

ObjString *str_new(VM *vm, const char *chars, size_t length) {
    if (length == 1 && (uint8_t)chars[0] < 0x80)
        return str_from_codepoint(vm, (uint8_t)chars[0]);
    ObjString *s = alloc_string(vm, length);
    if (length) memcpy(s->chars, chars, length);
    return finish(s);
}

ObjString *str_from_cstr(VM *vm, const char *cstr) {
    return str_new(vm, cstr, strlen(cstr));
}

ObjString *str_take(VM *vm, char *chars, size_t length) {
    ObjString *s = str_new(vm, chars, length);
    free(chars);
    return s;
}

bool str_equal(const ObjString *a, const ObjString *b) {
    return a == b || ((!a->hash || !b->hash || a->hash == b->hash) && a->length == b->length &&
                      memcmp(a->chars, b->chars, a->length) == 0);
}

static void intern_insert(ObjString **table, size_t capacity, ObjString *s) {
    size_t mask = capacity - 1;
    size_t i = s->hash & mask;
    while (table[i]) i = (i + 1) & mask;
    table[i] = s;
}

static void intern_resize(VM *vm, size_t capacity) {
    ObjString **table = calloc(capacity, sizeof(ObjString *));
    if (!table) {
        fputs("asyncrun: out of memory\n", stderr);
        abort();
    }
    for (size_t i = 0; i < vm->intern_capacity; i++)
        if (vm->intern[i]) intern_insert(table, capacity, vm->intern[i]);
    free(vm->intern);
    vm->intern = table;
    vm->intern_capacity = capacity;
}

ObjString *str_intern(VM *vm, const char *chars, size_t length) {
    uint32_t hash = str_hash_bytes(chars, length);
    if (vm->intern_capacity) {
        size_t mask = vm->intern_capacity - 1;
        for (size_t i = hash & mask; vm->intern[i]; i = (i + 1) & mask) {
            ObjString *s = vm->intern[i];
            if (s->hash == hash && s->length == length &&
                memcmp(s->chars, chars, length) == 0)
                return s;
        }
    }
    if ((vm->intern_count + 1) * 2 > vm->intern_capacity)
        intern_resize(vm, vm->intern_capacity ? vm->intern_capacity * 2 : 256);
    ObjString *s = alloc_string(vm, length);
    if (length) memcpy(s->chars, chars, length);
    finish(s);
    s->hash = hash;
    s->obj.flags |= STR_INTERNED;
    intern_insert(vm->intern, vm->intern_capacity, s);
    vm->intern_count++;
    return s;
}

void str_intern_sweep(VM *vm) {
    // Rebuild the table from the survivors: open addressing without
    // tombstones stays simple, and a sweep already costs O(heap).
    size_t kept = 0;
    for (size_t i = 0; i < vm->intern_capacity; i++) {
        ObjString *s = vm->intern[i];
        vm->intern[i] = NULL;
        if (s && s->obj.marked) vm->intern[kept++] = s;
    }
    ObjString **survivors = malloc((kept ? kept : 1) * sizeof(ObjString *));
    if (!survivors) {
        fputs("asyncrun: out of memory\n", stderr);
        abort();
    }
    memcpy(survivors, vm->intern, kept * sizeof(ObjString *));
    memset(vm->intern, 0, kept * sizeof(ObjString *));
    for (size_t i = 0; i < kept; i++)
        intern_insert(vm->intern, vm->intern_capacity, survivors[i]);
    free(survivors);
    vm->intern_count = kept;
    for (int i = 0; i < 128; i++)
        if (vm->ascii_chars[i] && !vm->ascii_chars[i]->obj.marked) vm->ascii_chars[i] = NULL;
}

ObjString *str_from_codepoint(VM *vm, uint32_t cp) {
    if (cp < 128) {
        if (!vm->ascii_chars[cp]) {
            ObjString *s = alloc_string(vm, 1);
            s->chars[0] = (char)cp;
            vm->ascii_chars[cp] = finish(s);
        }
        return vm->ascii_chars[cp];
    }
    StrBuf buf;
    strbuf_init(&buf);
    strbuf_append_codepoint(&buf, cp);
    ObjString *s = alloc_string(vm, buf.length);
    memcpy(s->chars, buf.chars, buf.length);
    strbuf_free(&buf);
    return finish(s);
}

// A string from a StrBuf, which is reset.
// Whether a string of [length] bytes can be made: longer than a string can
// be, or more than memory holds (probed for big ones, since the collector's
// allocation aborts), is a MemoryError.
bool str_length_fits(VM *vm, size_t length) {
    if (length >= UINT32_MAX) return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
    if (length >= ((size_t)1 << 25)) {
        void *probe = malloc(sizeof(ObjString) + length + 1);
        if (!probe) return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
        free(probe);
    }
    return true;
}

// The buffer's text as a string (the buffer is freed); NULL with a
// MemoryError when it is too long.
static ObjString *from_buf(VM *vm, StrBuf *buf) {
    if (!str_length_fits(vm, buf->length)) {
        strbuf_free(buf);
        return NULL;
    }
    ObjString *s = str_new(vm, buf->chars ? buf->chars : "", buf->length);
    strbuf_free(buf);
    return s;
}

// ---- errors and argument helpers ---------------------------------------------

static bool raise_key_error(VM *vm, Value key) {
    ObjTuple *args = tuple_new(vm, 1);
    args->items[0] = key;
    return vm_raise_value(vm, OBJ_VAL(exception_new(vm, vm->classes[CLS_KEY_ERROR], args)));
}

// "str.upper() takes no arguments (1 given)"
static bool no_args(VM *vm, const char *name, int argc) {
    if (argc == 1) return true;
    return vm_raise(vm, CLS_TYPE_ERROR, "str.%s() takes no arguments (%d given)", name,
                    argc - 1);
}

// "str.join() takes exactly one argument (0 given)"
static bool one_arg(VM *vm, const char *name, int argc) {
    if (argc == 2) return true;
    return vm_raise(vm, CLS_TYPE_ERROR, "str.%s() takes exactly one argument (%d given)",
                    name, argc - 1);
}

// PyArg_ParseTuple style: "find() takes at least 1 argument (0 given)"
static bool parse_arity(VM *vm, const char *name, int argc, int min, int max) {
    int n = argc - 1;
    if (n < min)
        return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes at least %d argument%s (%d given)",
                        name, min, min == 1 ? "" : "s", n);
    if (n > max)
        return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes at most %d argument%s (%d given)",
                        name, max, max == 1 ? "" : "s", n);
    return true;
}

// _PyArg_CheckPositional style: "replace expected at least 2 arguments, got 1"
static bool check_positional(VM *vm, const char *name, int argc, int min, int max) {
    int n = argc - 1;
    if (n < min)
        return vm_raise(vm, CLS_TYPE_ERROR, "%s expected %s%d argument%s, got %d", name,
                        min == max ? "" : "at least ", min, min == 1 ? "" : "s", n);
    if (n > max)
        return vm_raise(vm, CLS_TYPE_ERROR, "%s expected %s%d argument%s, got %d", name,
                        min == max ? "" : "at most ", max, max == 1 ? "" : "s", n);
    return true;
}

static bool as_index(VM *vm, Value v, int64_t *out) {
    if (IS_INTLIKE(v)) {
        *out = AS_INTLIKE(v);
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "'%s' object cannot be interpreted as an integer",
                    value_type_name(vm, v));
}

static bool is_str(Value v) { return IS_OBJ_TYPE(v, OBJ_STRING); }
#define AS_STR(v) ((ObjString *)AS_OBJ(v))

static bool need_str(VM *vm, Value v, const char *fmt) {
    if (is_str(v)) return true;
    return vm_raise(vm, CLS_TYPE_ERROR, fmt, value_type_name(vm, v));
}

// Optional start/end of find, count, startswith...: None or an int.
static bool slice_arg(VM *vm, Value v, int64_t *out) {
    if (IS_NONE(v)) return true;
    if (IS_INTLIKE(v)) {
        *out = AS_INTLIKE(v);
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR,
                    "slice indices must be integers or None or have an __index__ method");
}

// CPython's ADJUST_INDICES on code-point positions.
static void adjust_indices(int64_t len, int64_t *start, int64_t *end) {
    if (*end > len) *end = len;
    else if (*end < 0) {
        *end += len;
        if (*end < 0) *end = 0;
    }
    if (*start < 0) {
        *start += len;
        if (*start < 0) *start = 0;
    }
}

static bool is_ascii(const ObjString *s) { return s->length == s->cp_length; }

// Byte offset of code point index (clamped to the string).
static size_t byte_at(const ObjString *s, int64_t index) {
    if (index <= 0) return 0;
    if ((uint64_t)index >= s->cp_length) return s->length;
    if (is_ascii(s)) return (size_t)index;
    return utf8_offset(s->chars, s->length, (size_t)index);
}

static int64_t cp_at(const ObjString *s, size_t byte) {
    if (is_ascii(s)) return (int64_t)byte;
    return utf8_count(s->chars, byte);
}

// Bytes [from, to) of s (on code point boundaries): a piece of an ASCII
// string needs no counting.
static ObjString *substr(VM *vm, const ObjString *s, size_t from, size_t to) {
    size_t length = to - from;
    if (!is_ascii(s) || length <= 1) return str_new(vm, s->chars + from, length);
    ObjString *r = alloc_string(vm, length);
    memcpy(r->chars, s->chars + from, length);
    r->cp_length = (uint32_t)length;
    return r;
}

// ---- character classes and case --------------------------------------------

// ASCII answered inline; the rest from the Unicode tables (unicode.c).
static bool cp_space(uint32_t c) {
    if (c < 128) return c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x1F);
    return unicode_isspace(c);
}

static bool cp_decimal(uint32_t c) { return c < 128 ? c >= '0' && c <= '9' : unicode_isdecimal(c); }
static bool cp_digit(uint32_t c) { return c < 128 ? c >= '0' && c <= '9' : unicode_isdigit(c); }
static bool cp_numeric(uint32_t c) { return c < 128 ? c >= '0' && c <= '9' : unicode_isnumeric(c); }

static bool cp_alpha(uint32_t c) {
    if (c < 128) return (c | 32) >= 'a' && (c | 32) <= 'z';
    return unicode_isalpha(c);
}

// Printable as repr keeps it (str.isprintable).
static bool cp_printable(uint32_t c) {
    if (c < 128) return c >= 0x20 && c < 0x7F;
    return unicode_isprintable(c);
}

// ---- sequence operations -----------------------------------------------------

ObjString *str_concat(VM *vm, ObjString *a, ObjString *b) {
    if (a->length == 0) return b;
    if (b->length == 0) return a;
    if (!str_length_fits(vm, (size_t)a->length + b->length)) return NULL;
    ObjString *s = alloc_string(vm, (size_t)a->length + b->length);
    memcpy(s->chars, a->chars, a->length);
    memcpy(s->chars + a->length, b->chars, b->length);
    s->cp_length = a->cp_length + b->cp_length;
    return s;
}

ObjString *str_repeat(VM *vm, ObjString *s, int64_t count) {
    if (count <= 0 || s->length == 0) return vm->s_empty;
    if (count == 1) return s;
    if ((uint64_t)count > (UINT32_MAX - 1) / s->length) {
        vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
        return NULL;
    }
    size_t total = (size_t)count * s->length;
    if (!str_length_fits(vm, total)) return NULL;
    ObjString *r = alloc_string(vm, total);
    if (s->length == 1) {
        memset(r->chars, s->chars[0], total);
    } else {
        memcpy(r->chars, s->chars, s->length);
        size_t done = s->length;
        while (done < total) {
            size_t n = done <= total - done ? done : total - done;
            memcpy(r->chars + done, r->chars, n);
            done += n;
        }
    }
    r->cp_length = (uint32_t)(s->cp_length * (uint64_t)count);
    return r;
}

bool str_getitem(VM *vm, ObjString *s, Value key, Value *out) {
    if (IS_INTLIKE(key)) {
        int64_t i = AS_INTLIKE(key);
        if (i < 0) i += s->cp_length;
        if (i < 0 || i >= (int64_t)s->cp_length)
            return vm_raise(vm, CLS_INDEX_ERROR, "string index out of range");
        if (is_ascii(s)) {
            *out = OBJ_VAL(str_from_codepoint(vm, (uint8_t)s->chars[i]));
            return true;
        }
        size_t at = utf8_offset(s->chars, s->length, (size_t)i);
        int width;
        *out = OBJ_VAL(str_from_codepoint(vm, utf8_decode(s->chars + at, &width)));
        return true;
    }
    if (IS_OBJ_TYPE(key, OBJ_SLICE)) {
        int64_t start, stop, step;
        int64_t n = range_slice_indices(vm, key, s->cp_length, &start, &stop, &step);
        if (n < 0) return false;
        if (step == 1) {
            size_t from = byte_at(s, start);
            size_t to = is_ascii(s) ? (size_t)(start + n)
                                    : from + utf8_offset(s->chars + from, s->length - from,
                                                         (size_t)n);
            if (from == 0 && to == s->length) *out = OBJ_VAL(s);
            else *out = OBJ_VAL(substr(vm, s, from, to));
            return true;
        }
        StrBuf buf;
        strbuf_init(&buf);
        if (is_ascii(s)) {
            for (int64_t k = 0, i = start; k < n; k++, i += step)
                strbuf_append_char(&buf, s->chars[i]);
        } else {
            // Offsets of every code point, then pick.
            size_t *offs = malloc(((size_t)s->cp_length + 1) * sizeof(size_t));
            if (!offs) return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
            size_t at = 0;
            for (uint32_t k = 0; k <= s->cp_length; k++) {
                offs[k] = at;
                if (at < s->length) {
                    at++;
                    while (at < s->length && ((uint8_t)s->chars[at] & 0xC0) == 0x80) at++;
                }
            }
            for (int64_t k = 0, i = start; k < n; k++, i += step)
                strbuf_append(&buf, s->chars + offs[i], offs[i + 1] - offs[i]);
            free(offs);
        }
        ObjString *made = from_buf(vm, &buf);
        if (!made) return false;
        *out = OBJ_VAL(made);
        return true;
    }
    return vm_raise(vm, CLS_TYPE_ERROR, "string indices must be integers, not '%s'",
                    value_type_name(vm, key));
}

int str_compare(const ObjString *a, const ObjString *b) {
    // UTF-8 byte order is code point order.
    size_t n = a->length < b->length ? a->length : b->length;
    int c = memcmp(a->chars, b->chars, n);
    if (c) return c;
    return a->length < b->length ? -1 : a->length > b->length ? 1 : 0;
}

// Byte position of needle in hay[from, to), or -1.
static int64_t find_bytes(const char *hay, size_t from, size_t to, const char *needle,
                          size_t nlen) {
    if (to < from || to - from < nlen) return -1;
    if (nlen == 0) return (int64_t)from;
    size_t last = to - nlen;
    for (size_t i = from; i <= last;) {
        const char *p = memchr(hay + i, needle[0], last - i + 1);
        if (!p) return -1;
        i = (size_t)(p - hay);
        if (memcmp(p, needle, nlen) == 0) return (int64_t)i;
        i++;
    }
    return -1;
}

static int64_t rfind_bytes(const char *hay, size_t from, size_t to, const char *needle,
                           size_t nlen) {
    if (to < from || to - from < nlen) return -1;
    for (size_t i = to - nlen + 1; i-- > from;)
        if (memcmp(hay + i, needle, nlen) == 0) return (int64_t)i;
    return -1;
}

bool str_contains(const ObjString *haystack, const ObjString *needle) {
    return find_bytes(haystack->chars, 0, haystack->length, needle->chars,
                      needle->length) >= 0;
}

// ---- repr --------------------------------------------------------------------

static void escape_cp(StrBuf *buf, uint32_t c) {
    if (c <= 0xFF) strbuf_printf(buf, "\\x%02x", c);
    else if (c <= 0xFFFF) strbuf_printf(buf, "\\u%04x", c);
    else strbuf_printf(buf, "\\U%08x", c);
}

void str_repr(const ObjString *s, StrBuf *buf) {
    bool has_single = memchr(s->chars, '\'', s->length) != NULL;
    bool has_double = memchr(s->chars, '"', s->length) != NULL;
    char quote = (has_single && !has_double) ? '"' : '\'';
    strbuf_append_char(buf, quote);
    size_t i = 0;
    while (i < s->length) {
        uint8_t b = (uint8_t)s->chars[i];
        if (b < 0x80) {
            i++;
            if (b == (uint8_t)quote || b == '\\') {
                strbuf_append_char(buf, '\\');
                strbuf_append_char(buf, (char)b);
            } else if (b == '\n') {
                strbuf_append(buf, "\\n", 2);
            } else if (b == '\r') {
                strbuf_append(buf, "\\r", 2);
            } else if (b == '\t') {
                strbuf_append(buf, "\\t", 2);
            } else if (b < 0x20 || b == 0x7F) {
                escape_cp(buf, b);
            } else {
                strbuf_append_char(buf, (char)b);
            }
            continue;
        }
        int width;
        uint32_t c = utf8_decode(s->chars + i, &width);
        if (cp_printable(c)) strbuf_append(buf, s->chars + i, (size_t)width);
        else escape_cp(buf, c);
        i += (size_t)width;
    }
    strbuf_append_char(buf, quote);
}

// ---- str.format ----------------------------------------------------------------

typedef struct {
    Value *args;
    int argc;
    ObjTuple *kwnames;
    int auto_index;  // next automatic field number, -1 once manual numbering is used
    bool manual;
} FormatArgs;

static bool lookup_kwarg(FormatArgs *fa, const char *name, size_t len, Value *out) {
    if (!fa->kwnames) return false;
    for (uint32_t i = 0; i < fa->kwnames->length; i++) {
        ObjString *k = AS_STR(fa->kwnames->items[i]);
        if (k->length == len && memcmp(k->chars, name, len) == 0) {
            *out = fa->args[fa->argc + (int)i];
            return true;
        }
    }
    return false;
}

static bool all_digits(const char *s, size_t len) {
    if (len == 0) return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static int64_t parse_digits(const char *s, size_t len) {
    int64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (n > (INT64_MAX - 9) / 10) return INT64_MAX;
        n = n * 10 + (s[i] - '0');
    }
    return n;
}

// Resolve a field name ("0", "", "name", "0.attr", "x[1]") to its value.
static bool resolve_field(VM *vm, FormatArgs *fa, const char *f, size_t len, Value *out) {
    size_t head = 0;
    while (head < len && f[head] != '.' && f[head] != '[') head++;
    Value v;
    if (head == 0 || all_digits(f, head)) {
        int64_t index;
        if (head == 0) {
            if (fa->manual)
                return vm_raise(vm, CLS_VALUE_ERROR,
                                "cannot switch from manual field specification to "
                                "automatic field numbering");
            index = fa->auto_index++;
        } else {
            if (fa->auto_index > 0)
                return vm_raise(vm, CLS_VALUE_ERROR,
                                "cannot switch from automatic field numbering to "
                                "manual field specification");
            fa->manual = true;
            index = parse_digits(f, head);
        }
        if (index >= fa->argc)
            return vm_raise(vm, CLS_INDEX_ERROR,
                            "Replacement index %lld out of range for positional args tuple",
                            (long long)index);
        v = fa->args[index];
    } else if (!lookup_kwarg(fa, f, head, &v)) {
        return raise_key_error(vm, OBJ_VAL(str_new(vm, f, head)));
    }
    size_t i = head;
    while (i < len) {
        if (f[i] == '.') {
            size_t j = ++i;
            while (j < len && f[j] != '.' && f[j] != '[') j++;
            if (j == i) return vm_raise(vm, CLS_VALUE_ERROR, "Empty attribute in format string");
            if (!value_getattr(vm, v, str_intern(vm, f + i, j - i), &v)) return false;
            i = j;
        } else if (f[i] == '[') {
            size_t j = ++i;
            while (j < len && f[j] != ']') j++;
            if (j >= len) return vm_raise(vm, CLS_VALUE_ERROR, "expected '}' before end of string");
            if (j == i) return vm_raise(vm, CLS_VALUE_ERROR, "Empty attribute in format string");
            Value key = all_digits(f + i, j - i) ? INT_VAL(parse_digits(f + i, j - i))
                                                 : OBJ_VAL(str_new(vm, f + i, j - i));
            if (!value_getitem(vm, v, key, &v)) return false;
            i = j + 1;
            if (i < len && f[i] != '.' && f[i] != '[')
                return vm_raise(vm, CLS_VALUE_ERROR,
                                "Only '.' or '[' may follow ']' in format field specifier");
        } else {
            return vm_raise(vm, CLS_VALUE_ERROR,
                            "Only '.' or '[' may follow ']' in format field specifier");
        }
    }
    *out = v;
    return true;
}

static bool format_into(VM *vm, const char *fmt, size_t len, FormatArgs *fa, int depth,
                        StrBuf *buf);

// A parsed replacement field, as CPython's parse_field splits it.
typedef struct {
    const char *name;
    size_t name_len;
    char conversion;  // 0 when absent
    const char *spec;
    size_t spec_len;
    bool spec_nested;  // the spec holds {fields} to expand first
} Field;

// Parse the field starting after its '{' at fmt[*i]; *i ends after its '}'.
static bool parse_field(VM *vm, const char *fmt, size_t len, size_t *i, Field *f) {
    size_t p = *i;
    char c = 0;
    f->name = fmt + p;
    f->name_len = 0;
    f->conversion = 0;
    f->spec = "";
    f->spec_len = 0;
    f->spec_nested = false;
    while (p < len) {
        c = fmt[p++];
        if (c == '{')
            return vm_raise(vm, CLS_VALUE_ERROR, "unexpected '{' in field name");
        if (c == '[') {
            while (p < len && fmt[p] != ']') p++;
            continue;
        }
        if (c == '}' || c == ':' || c == '!') break;
    }
    f->name_len = (size_t)(fmt + p - 1 - f->name);
    if (c == '!' || c == ':') {
        if (c == '!') {
            if (p >= len)
                return vm_raise(vm, CLS_VALUE_ERROR,
                                "end of string while looking for conversion specifier");
            f->conversion = fmt[p++];
            if (p < len) {
                c = fmt[p++];
                if (c == '}') {
                    *i = p;
                    return true;
                }
                if (c != ':')
                    return vm_raise(vm, CLS_VALUE_ERROR,
                                    "expected ':' after conversion specifier");
            }
        }
        f->spec = fmt + p;
        int count = 1;
        while (p < len) {
            c = fmt[p++];
            if (c == '{') {
                f->spec_nested = true;
                count++;
            } else if (c == '}' && --count == 0) {
                f->spec_len = (size_t)(fmt + p - 1 - f->spec);
                *i = p;
                return true;
            }
        }
        return vm_raise(vm, CLS_VALUE_ERROR, "unmatched '{' in format spec");
    }
    if (c != '}')
        return vm_raise(vm, CLS_VALUE_ERROR, "expected '}' before end of string");
    *i = p;
    return true;
}

static bool format_field(VM *vm, const Field *f, FormatArgs *fa, int depth, StrBuf *buf) {
    Value v;
    if (!resolve_field(vm, fa, f->name, f->name_len, &v)) return false;
    if (f->conversion) {
        ObjString *conv;
        char conversion = f->conversion;
        if (conversion == 'r') conv = value_to_repr(vm, v);
        else if (conversion == 's') conv = value_to_str(vm, v);
        else if (conversion == 'a') {
            ObjString *r = value_to_repr(vm, v);
            if (!r) return false;
            StrBuf tmp;
            strbuf_init(&tmp);
            for (size_t k = 0; k < r->length;) {
                int width;
                uint32_t c = utf8_decode(r->chars + k, &width);
                if (c < 128) strbuf_append_char(&tmp, (char)c);
                else escape_cp(&tmp, c);
                k += (size_t)width;
            }
            conv = from_buf(vm, &tmp);
        } else {
            return vm_raise(vm, CLS_VALUE_ERROR, "Unknown conversion specifier %c", conversion);
        }
        if (!conv) return false;
        v = OBJ_VAL(conv);
    }
    if (f->spec_len == 0) return value_str(vm, v, buf);
    ObjString *spec_str;
    if (f->spec_nested) {
        if (depth >= 1) return vm_raise(vm, CLS_VALUE_ERROR, "Max string recursion exceeded");
        StrBuf sb;
        strbuf_init(&sb);
        if (!format_into(vm, f->spec, f->spec_len, fa, depth + 1, &sb)) {
            strbuf_free(&sb);
            return false;
        }
        spec_str = from_buf(vm, &sb);
        if (!spec_str) return false;
    } else {
        spec_str = str_new(vm, f->spec, f->spec_len);
    }
    return value_format(vm, v, spec_str, buf);
}

// CPython's MarkupIterator: literal text, {{ and }} escapes, then fields.
static bool format_into(VM *vm, const char *fmt, size_t len, FormatArgs *fa, int depth,
                        StrBuf *buf) {
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        char c = 0;
        bool markup = false;
        while (i < len) {
            c = fmt[i++];
            if (c == '{' || c == '}') {
                markup = true;
                break;
            }
        }
        bool at_end = i >= len;
        size_t lit = i - start;
        if (markup && c == '}' && (at_end || fmt[i] != '}'))
            return vm_raise(vm, CLS_VALUE_ERROR, "Single '}' encountered in format string");
        if (markup && at_end && c == '{')
            return vm_raise(vm, CLS_VALUE_ERROR, "Single '{' encountered in format string");
        if (markup) {
            if (fmt[i] == c) {
                i++;  // escaped brace: literal text only
                markup = false;
            } else {
                lit--;
            }
        }
        strbuf_append(buf, fmt + start, lit);
        if (!markup) continue;
        Field f;
        if (!parse_field(vm, fmt, len, &i, &f)) return false;
        if (!format_field(vm, &f, fa, depth, buf)) return false;
    }
    return true;
}

bool str_format(VM *vm, ObjString *fmt, Value *args, int argc, ObjTuple *kwnames,
                Value *out) {
    FormatArgs fa = {args, argc, kwnames, 0, false};
    StrBuf buf;
    strbuf_init(&buf);
    if (!format_into(vm, fmt->chars, fmt->length, &fa, 0, &buf)) {
        strbuf_free(&buf);
        return false;
    }
    ObjString *made = from_buf(vm, &buf);
    if (!made) return false;
    *out = OBJ_VAL(made);
    return true;
}

// ---- % formatting ----------------------------------------------------------------

typedef struct {
    bool left, plus, space, alt, zero;
    int64_t width;      // -1 absent
    int64_t precision;  // -1 absent
} PercentSpec;

static void pad_out(StrBuf *buf, const PercentSpec *ps, const char *body, size_t len,
                    size_t cps) {
    size_t width = ps->width > 0 ? (size_t)ps->width : 0;
    if (cps >= width) {
        strbuf_append(buf, body, len);
        return;
    }
    if (ps->left) {
        strbuf_append(buf, body, len);
        strbuf_append_repeat(buf, ' ', width - cps);
    } else {
        strbuf_append_repeat(buf, ' ', width - cps);
        strbuf_append(buf, body, len);
    }
}

// sign + prefix + digits, zero padding between prefix and digits.
static void emit_number(StrBuf *buf, const PercentSpec *ps, const char *sign,
                        const char *prefix, const char *digits) {
    size_t ls = strlen(sign), lp = strlen(prefix), ld = strlen(digits);
    size_t body = ls + lp + ld;
    size_t width = ps->width > 0 ? (size_t)ps->width : 0;
    size_t pad = body < width ? width - body : 0;
    if (pad && !ps->left && !ps->zero) strbuf_append_repeat(buf, ' ', pad);
    strbuf_append(buf, sign, ls);
    strbuf_append(buf, prefix, lp);
    if (pad && !ps->left && ps->zero) strbuf_append_repeat(buf, '0', pad);
    strbuf_append(buf, digits, ld);
    if (pad && ps->left) strbuf_append_repeat(buf, ' ', pad);
}

static bool percent_int(VM *vm, StrBuf *buf, const PercentSpec *ps, char type, Value v) {
    int64_t n;
    if (IS_INTLIKE(v)) {
        n = AS_INTLIKE(v);
    } else if (IS_FLOAT(v) && (type == 'd' || type == 'i' || type == 'u')) {
        double d = AS_FLOAT(v);
        if (d != d) return vm_raise(vm, CLS_VALUE_ERROR, "cannot convert float NaN to integer");
        if (d >= 9.2233720368547758e18 || d < -9.2233720368547758e18) {
            if (isinf(d))
                return vm_raise(vm, CLS_OVERFLOW_ERROR,
                                "cannot convert float infinity to integer");
            return vm_raise(vm, CLS_OVERFLOW_ERROR,
                            "integer overflow: result does not fit in 64 bits");
        }
        n = (int64_t)d;
    } else if (type == 'd' || type == 'i' || type == 'u') {
        return vm_raise(vm, CLS_TYPE_ERROR, "%%%c format: a real number is required, not %s",
                        type, value_type_name(vm, v));
    } else {
        return vm_raise(vm, CLS_TYPE_ERROR, "%%%c format: an integer is required, not %s",
                        type, value_type_name(vm, v));
    }
    uint64_t mag = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
    char digits[80];
    const char *fmt = type == 'x' ? "%llx" : type == 'X' ? "%llX" : type == 'o' ? "%llo" : "%llu";
    snprintf(digits, sizeof digits, fmt, (unsigned long long)mag);
    // the precision is a minimum number of digits
    StrBuf padded;
    strbuf_init(&padded);
    size_t dl = strlen(digits);
    if (ps->precision > (int64_t)dl) {
        size_t z = (size_t)ps->precision - dl;
        if (!strbuf_try_reserve(&padded, z + dl)) return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
        strbuf_append_repeat(&padded, '0', z);
    }
    strbuf_append(&padded, digits, dl);
    const char *sign = n < 0 ? "-" : ps->plus ? "+" : ps->space ? " " : "";
    const char *prefix = "";
    if (ps->alt) prefix = type == 'x' ? "0x" : type == 'X' ? "0X" : type == 'o' ? "0o" : "";
    emit_number(buf, ps, sign, prefix, padded.chars);
    strbuf_free(&padded);
    return true;
}

static bool percent_float(VM *vm, StrBuf *buf, const PercentSpec *ps, char type, Value v) {
    double d;
    if (IS_FLOAT(v)) d = AS_FLOAT(v);
    else if (IS_INTLIKE(v)) d = (double)AS_INTLIKE(v);
    else
        return vm_raise(vm, CLS_TYPE_ERROR, "must be real number, not %s",
                        value_type_name(vm, v));
    bool neg = signbit(d) != 0 && !isnan(d);
    double mag = fabs(d);
    // PyOS_double_to_string(mag, type, precision (6 if absent), alt) is
    // format(mag, "#.{precision}{type}") with no width: numfmt's digits.
    FormatSpec fs;
    memset(&fs, 0, sizeof fs);
    fs.fill[0] = ' ';
    fs.width = -1;
    fs.precision = ps->precision < 0 ? 6 : (int)ps->precision;
    fs.alternate = ps->alt;
    fs.type = type;
    StrBuf digits;
    strbuf_init(&digits);
    char err[160];
    if (!numfmt_format_float(mag, &fs, &digits, err, sizeof err)) {
        strbuf_free(&digits);
        if (err[0] == '\0') return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
        return vm_raise(vm, CLS_VALUE_ERROR, "%s", err);
    }
    const char *sign = neg ? "-" : ps->plus ? "+" : ps->space ? " " : "";
    PercentSpec p = *ps;
    if (!isfinite(mag)) p.zero = false;
    emit_number(buf, &p, sign, "", digits.chars ? digits.chars : "");
    strbuf_free(&digits);
    return true;
}

static bool percent_str(VM *vm, StrBuf *buf, const PercentSpec *ps, char type, Value v) {
    ObjString *s;
    if (type == 's') s = value_to_str(vm, v);
    else s = value_to_repr(vm, v);
    if (!s) return false;
    if (type == 'a') {
        StrBuf tmp;
        strbuf_init(&tmp);
        for (size_t k = 0; k < s->length;) {
            int width;
            uint32_t c = utf8_decode(s->chars + k, &width);
            if (c < 128) strbuf_append_char(&tmp, (char)c);
            else escape_cp(&tmp, c);
            k += (size_t)width;
        }
        s = from_buf(vm, &tmp);
        if (!s) return false;
    }
    size_t len = s->length, cps = s->cp_length;
    if (ps->precision >= 0 && (uint64_t)ps->precision < cps) {
        cps = (size_t)ps->precision;
        len = byte_at(s, ps->precision);
    }
    pad_out(buf, ps, s->chars, len, cps);
    return true;
}

static bool percent_char(VM *vm, StrBuf *buf, const PercentSpec *ps, Value v) {
    char tmp[8];
    size_t len;
    if (IS_INTLIKE(v)) {
        int64_t c = AS_INTLIKE(v);
        if (c < 0 || c > 0x10FFFF)
            return vm_raise(vm, CLS_OVERFLOW_ERROR, "%%c arg not in range(0x110000)");
        StrBuf b;
        strbuf_init(&b);
        strbuf_append_codepoint(&b, (unsigned)c);
        len = b.length;
        memcpy(tmp, b.chars, len);
        strbuf_free(&b);
    } else if (is_str(v) && AS_STR(v)->cp_length == 1) {
        len = AS_STR(v)->length;
        memcpy(tmp, AS_STR(v)->chars, len);
    } else {
        return vm_raise(vm, CLS_TYPE_ERROR, "%%c requires int or char");
    }
    pad_out(buf, ps, tmp, len, 1);
    return true;
}

bool str_percent(VM *vm, ObjString *fmt, Value args, Value *out) {
    Value *items;
    int64_t count;
    Value single = args;
    bool is_tuple = IS_OBJ_TYPE(args, OBJ_TUPLE);
    ObjDict *mapping = NULL;
    if (is_tuple) {
        items = ((ObjTuple *)AS_OBJ(args))->items;
        count = ((ObjTuple *)AS_OBJ(args))->length;
    } else {
        items = &single;
        count = 1;
        if (IS_OBJ_TYPE(args, OBJ_DICT)) mapping = (ObjDict *)AS_OBJ(args);
    }
    // Lists and other non-tuple containers count as "mappings" for the final
    // check in CPython (anything with __getitem__ that is not a tuple or str).
    bool maplike = !is_tuple && IS_OBJ(args) && !is_str(args) &&
                   (IS_OBJ_TYPE(args, OBJ_DICT) || IS_OBJ_TYPE(args, OBJ_LIST) ||
                    IS_OBJ_TYPE(args, OBJ_RANGE));
    int64_t next = 0;
    StrBuf buf;
    strbuf_init(&buf);
    const char *s = fmt->chars;
    size_t len = fmt->length, i = 0;
    while (i < len) {
        if (s[i] != '%') {
            size_t j = i;
            while (j < len && s[j] != '%') j++;
            strbuf_append(&buf, s + i, j - i);
            i = j;
            continue;
        }
        size_t start = i++;
        if (i < len && s[i] == '%') {
            strbuf_append_char(&buf, '%');
            i++;
            continue;
        }
        Value arg = EMPTY_VAL;
        bool have_key = false;
        if (i < len && s[i] == '(') {
            size_t j = ++i;
            int nest = 1;
            while (j < len) {
                if (s[j] == '(') nest++;
                else if (s[j] == ')' && --nest == 0) break;
                j++;
            }
            if (j >= len) {
                strbuf_free(&buf);
                return vm_raise(vm, CLS_VALUE_ERROR, "incomplete format key");
            }
            if (!mapping) {
                strbuf_free(&buf);
                return vm_raise(vm, CLS_TYPE_ERROR, "format requires a mapping");
            }
            Value key = OBJ_VAL(str_new(vm, s + i, j - i));
            bool found;
            if (!dict_get(vm, mapping, key, &arg, &found)) {
                strbuf_free(&buf);
                return false;
            }
            if (!found) {
                strbuf_free(&buf);
                return raise_key_error(vm, key);
            }
            have_key = true;
            i = j + 1;
        }
        PercentSpec ps = {false, false, false, false, false, -1, -1};
        for (; i < len; i++) {
            char c = s[i];
            if (c == '-') ps.left = true;
            else if (c == '+') ps.plus = true;
            else if (c == ' ') ps.space = true;
            else if (c == '#') ps.alt = true;
            else if (c == '0') ps.zero = true;
            else break;
        }
        bool failed = false;
        // width: CPython's unicode_format_arg_parse (a Py_ssize_t)
        if (i < len && s[i] == '*') {
            i++;
            if (next >= count) failed = true;
            else if (!IS_INTLIKE(items[next])) {
                strbuf_free(&buf);
                return vm_raise(vm, CLS_TYPE_ERROR, "* wants int");
            } else {
                ps.width = AS_INTLIKE(items[next++]);
                if (ps.width < 0) {
                    ps.left = true;
                    ps.width = ps.width == INT64_MIN ? 0 : -ps.width;
                }
            }
        } else {
            while (i < len && s[i] >= '0' && s[i] <= '9') {
                int digit = s[i] - '0';
                if (ps.width > (INT64_MAX - digit) / 10) {
                    strbuf_free(&buf);
                    return vm_raise(vm, CLS_VALUE_ERROR, "width too big");
                }
                ps.width = (ps.width < 0 ? 0 : ps.width) * 10 + digit;
                i++;
            }
        }
        // precision: a C int
        if (i < len && s[i] == '.') {
            i++;
            ps.precision = 0;
            if (i < len && s[i] == '*') {
                i++;
                if (next >= count) failed = true;
                else if (!IS_INTLIKE(items[next])) {
                    strbuf_free(&buf);
                    return vm_raise(vm, CLS_TYPE_ERROR, "* wants int");
                } else {
                    ps.precision = AS_INTLIKE(items[next++]);
                    if (ps.precision > INT_MAX || ps.precision < INT_MIN) {
                        strbuf_free(&buf);
                        return vm_raise(vm, CLS_OVERFLOW_ERROR,
                                        "Python int too large to convert to C int");
                    }
                    if (ps.precision < 0) ps.precision = 0;
                }
            } else {
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                    int digit = s[i] - '0';
                    if (ps.precision > (INT_MAX - digit) / 10) {
                        strbuf_free(&buf);
                        return vm_raise(vm, CLS_VALUE_ERROR, "precision too big");
                    }
                    ps.precision = ps.precision * 10 + digit;
                    i++;
                }
            }
        }
        // a width the output cannot hold is a MemoryError, not an abort
        if (ps.width > 0 && (ps.width >= UINT32_MAX ||
                             !strbuf_try_reserve(&buf, (size_t)ps.width + 64))) {
            strbuf_free(&buf);
            return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
        }
        while (i < len && (s[i] == 'h' || s[i] == 'l' || s[i] == 'L')) i++;
        if (i >= len) {
            strbuf_free(&buf);
            return vm_raise(vm, CLS_VALUE_ERROR, "incomplete format");
        }
        char type = s[i++];
        if (!have_key) {
            if (failed || next >= count) {
                strbuf_free(&buf);
                return vm_raise(vm, CLS_TYPE_ERROR, "not enough arguments for format string");
            }
            arg = items[next++];
        }
        bool ok;
        switch (type) {
        case 's': case 'r': case 'a': ok = percent_str(vm, &buf, &ps, type, arg); break;
        case 'd': case 'i': case 'u': case 'x': case 'X': case 'o':
            ok = percent_int(vm, &buf, &ps, type, arg);
            break;
        case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
            ok = percent_float(vm, &buf, &ps, type, arg);
            break;
        case 'c': ok = percent_char(vm, &buf, &ps, arg); break;
        default: {
            int width;
            uint32_t c = utf8_decode(s + i - 1, &width);
            StrBuf cb;
            strbuf_init(&cb);
            strbuf_append_codepoint(&cb, c);
            vm_raise(vm, CLS_VALUE_ERROR,
                     "unsupported format character '%s' (0x%x) at index %lld", cb.chars,
                     (unsigned)c, (long long)utf8_count(s, i - 1));
            strbuf_free(&cb);
            ok = false;
            break;
        }
        }
        (void)start;
        if (!ok) {
            strbuf_free(&buf);
            return false;
        }
    }
    if (next < count && !maplike && !mapping) {
        strbuf_free(&buf);
        return vm_raise(vm, CLS_TYPE_ERROR,
                        "not all arguments converted during string formatting");
    }
    ObjString *made = from_buf(vm, &buf);
    if (!made) return false;
    *out = OBJ_VAL(made);
    return true;
}

// ---- methods: splitting and joining ------------------------------------------------

// split / rsplit keyword handling: (sep=None, maxsplit=-1).
static bool split_args(VM *vm, const char *name, Value *args, int argc, ObjTuple *kwnames,
                       Value *sep, int64_t *maxsplit) {
    if (argc - 1 > 2)
        return vm_raise(vm, CLS_TYPE_ERROR, "%s() takes at most 2 arguments (%d given)", name,
                        argc - 1 + (kwnames ? (int)kwnames->length : 0));
    Value vals[2] = {NONE_VAL, INT_VAL(-1)};
    for (int i = 1; i < argc; i++) vals[i - 1] = args[i];
    if (kwnames) {
        for (uint32_t k = 0; k < kwnames->length; k++) {
            ObjString *kn = AS_STR(kwnames->items[k]);
            int slot = strcmp(kn->chars, "sep") == 0 ? 0
                       : strcmp(kn->chars, "maxsplit") == 0 ? 1 : -1;
            if (slot < 0)
                return vm_raise(vm, CLS_TYPE_ERROR, "'%s' is an invalid keyword argument for %s()",
                                kn->chars, name);
            if (slot < argc - 1)
                return vm_raise(vm, CLS_TYPE_ERROR,
                                "argument for %s() given by name ('%s') and position (%d)", name,
                                kn->chars, slot + 1);
            vals[slot] = args[argc + (int)k];
        }
    }
    if (!IS_NONE(vals[0]) && !is_str(vals[0]))
        return vm_raise(vm, CLS_TYPE_ERROR, "must be str or None, not %s",
                        value_type_name(vm, vals[0]));
    if (!as_index(vm, vals[1], maxsplit)) return false;
    *sep = vals[0];
    return true;
}

static bool is_space_at(const char *s, size_t len, size_t i, int *width) {
    uint8_t b = (uint8_t)s[i];
    if (b < 0x80) {
        *width = 1;
        return cp_space(b);
    }
    (void)len;
    return cp_space(utf8_decode(s + i, width));
}

// Start of the code point that ends at byte `end` (exclusive).
static size_t prev_start(const char *s, size_t end) {
    size_t i = end - 1;
    while (i > 0 && ((uint8_t)s[i] & 0xC0) == 0x80) i--;
    return i;
}

static bool str_split(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    Value sep;
    int64_t maxsplit = -1;
    if (!split_args(vm, "split", args, argc, kwnames, &sep, &maxsplit)) return false;
    ObjString *s = AS_STR(args[0]);
    ObjList *list = list_new(vm, 0);
    *out = OBJ_VAL(list);
    if (maxsplit < 0) maxsplit = INT64_MAX;
    const char *c = s->chars;
    size_t len = s->length;
    if (IS_NONE(sep)) {
        size_t i = 0;
        int w;
        while (true) {
            while (i < len && is_space_at(c, len, i, &w)) i += (size_t)w;
            if (i >= len) break;
            if (maxsplit-- == 0) {
                list_append(vm, list, OBJ_VAL(substr(vm, s, i, len)));
                break;
            }
            size_t j = i;
            while (j < len && !is_space_at(c, len, j, &w)) j += (size_t)w;
            list_append(vm, list, OBJ_VAL(substr(vm, s, i, j)));
            i = j;
        }
        return true;
    }
    ObjString *sp = AS_STR(sep);
    if (sp->length == 0) return vm_raise(vm, CLS_VALUE_ERROR, "empty separator");
    size_t i = 0;
    while (maxsplit-- > 0) {
        int64_t at = find_bytes(c, i, len, sp->chars, sp->length);
        if (at < 0) break;
        list_append(vm, list, OBJ_VAL(substr(vm, s, i, (size_t)at)));
        i = (size_t)at + sp->length;
    }
    list_append(vm, list, i == 0 ? OBJ_VAL(s) : OBJ_VAL(substr(vm, s, i, len)));
    return true;
}

static void reverse_items(ObjList *l) {
    for (uint32_t a = 0, b = l->length; a + 1 < b; a++, b--) {
        Value t = l->items[a];
        l->items[a] = l->items[b - 1];
        l->items[b - 1] = t;
    }
}

static bool str_rsplit(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    Value sep;
    int64_t maxsplit = -1;
    if (!split_args(vm, "rsplit", args, argc, kwnames, &sep, &maxsplit)) return false;
    ObjString *s = AS_STR(args[0]);
    ObjList *list = list_new(vm, 0);
    *out = OBJ_VAL(list);
    if (maxsplit < 0) maxsplit = INT64_MAX;
    const char *c = s->chars;
    size_t len = s->length;
    if (IS_NONE(sep)) {
        size_t end = len;
        int w;
        while (true) {
            while (end > 0) {
                size_t p = prev_start(c, end);
                if (!is_space_at(c, len, p, &w)) break;
                end = p;
            }
            if (end == 0) break;
            if (maxsplit-- == 0) {
                list_append(vm, list, OBJ_VAL(substr(vm, s, 0, end)));
                break;
            }
            size_t j = end;
            while (j > 0) {
                size_t p = prev_start(c, j);
                if (is_space_at(c, len, p, &w)) break;
                j = p;
            }
            list_append(vm, list, OBJ_VAL(substr(vm, s, j, end)));
            end = j;
        }
        reverse_items(list);
        return true;
    }
    ObjString *sp = AS_STR(sep);
    if (sp->length == 0) return vm_raise(vm, CLS_VALUE_ERROR, "empty separator");
    size_t end = len;
    while (maxsplit-- > 0) {
        int64_t at = rfind_bytes(c, 0, end, sp->chars, sp->length);
        if (at < 0) break;
        list_append(vm, list, OBJ_VAL(substr(vm, s, (size_t)at + sp->length, end)));
        end = (size_t)at;
    }
    list_append(vm, list, end == len ? OBJ_VAL(s) : OBJ_VAL(substr(vm, s, 0, end)));
    reverse_items(list);
    return true;
}

static bool str_join(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (!one_arg(vm, "join", argc)) return false;
    ObjString *sep = AS_STR(args[0]);
    Value it = args[1];
    Value *items;
    uint32_t n;
    ObjList *tmp = NULL;
    if (IS_OBJ_TYPE(it, OBJ_LIST)) {
        items = ((ObjList *)AS_OBJ(it))->items;
        n = ((ObjList *)AS_OBJ(it))->length;
    } else if (IS_OBJ_TYPE(it, OBJ_TUPLE)) {
        items = ((ObjTuple *)AS_OBJ(it))->items;
        n = ((ObjTuple *)AS_OBJ(it))->length;
    } else {
        Value probe;
        if (!value_iter(vm, it, &probe)) {
            if (exception_matches(vm, vm->exception, CLS_TYPE_ERROR)) {
                vm->exception = EMPTY_VAL;
                return vm_raise(vm, CLS_TYPE_ERROR, "can only join an iterable");
            }
            return false;
        }
        tmp = value_to_list(vm, probe);
        if (!tmp) return false;
        items = tmp->items;
        n = tmp->length;
    }
    if (n == 1 && is_str(items[0])) {
        *out = items[0];
        return true;
    }
    size_t total = 0;
    uint64_t cps = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!is_str(items[i]))
            return vm_raise(vm, CLS_TYPE_ERROR, "sequence item %u: expected str instance, %s found",
                            i, value_type_name(vm, items[i]));
        total += AS_STR(items[i])->length;
        cps += AS_STR(items[i])->cp_length;
    }
    if (n > 1) {
        total += (size_t)sep->length * (n - 1);
        cps += (uint64_t)sep->cp_length * (n - 1);
    }
    if (!str_length_fits(vm, total)) return false;
    if (total == 0) {
        *out = OBJ_VAL(vm->s_empty);
        return true;
    }
    ObjString *r = alloc_string(vm, total);
    char *p = r->chars;
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0 && sep->length) {
            memcpy(p, sep->chars, sep->length);
            p += sep->length;
        }
        ObjString *part = AS_STR(items[i]);
        memcpy(p, part->chars, part->length);
        p += part->length;
    }
    r->cp_length = (uint32_t)cps;
    *out = OBJ_VAL(r);
    return true;
}

static bool is_line_break(const char *s, size_t len, size_t i, int *width) {
    uint8_t b = (uint8_t)s[i];
    if (b < 0x80) {
        *width = 1;
        return b == '\n' || b == '\r' || b == 0x0B || b == 0x0C || (b >= 0x1C && b <= 0x1E);
    }
    (void)len;
    uint32_t c = utf8_decode(s + i, width);
    return c == 0x85 || c == 0x2028 || c == 0x2029;
}

static bool str_splitlines(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    if (argc - 1 > 1)
        return vm_raise(vm, CLS_TYPE_ERROR, "splitlines() takes at most 1 argument (%d given)",
                        argc - 1 + (kwnames ? (int)kwnames->length : 0));
    Value keep = argc > 1 ? args[1] : FALSE_VAL;
    if (kwnames) {
        for (uint32_t k = 0; k < kwnames->length; k++) {
            ObjString *kn = AS_STR(kwnames->items[k]);
            if (strcmp(kn->chars, "keepends") != 0)
                return vm_raise(vm, CLS_TYPE_ERROR,
                                "'%s' is an invalid keyword argument for splitlines()", kn->chars);
            if (argc > 1)
                return vm_raise(vm, CLS_TYPE_ERROR,
                                "argument for splitlines() given by name ('keepends') and "
                                "position (1)");
            keep = args[argc + (int)k];
        }
    }
    if (IS_FLOAT(keep))
        return vm_raise(vm, CLS_TYPE_ERROR, "'float' object cannot be interpreted as an integer");
    bool keepends = value_truthy(keep);
    ObjString *s = AS_STR(args[0]);
    ObjList *list = list_new(vm, 0);
    *out = OBJ_VAL(list);
    size_t i = 0, len = s->length;
    while (i < len) {
        size_t j = i;
        int w = 0;
        while (j < len && !is_line_break(s->chars, len, j, &w)) j += (size_t)w;
        size_t eol = j;
        if (j < len) {
            if (s->chars[j] == '\r' && j + 1 < len && s->chars[j + 1] == '\n') eol = j + 2;
            else eol = j + (size_t)w;
        }
        list_append(vm, list, OBJ_VAL(substr(vm, s, i, keepends ? eol : j)));
        i = eol;
    }
    return true;
}

static bool do_partition(VM *vm, Value *args, int argc, Value *out, bool right) {
    if (!one_arg(vm, right ? "rpartition" : "partition", argc)) return false;
    if (!need_str(vm, args[1], "must be str, not %s")) return false;
    ObjString *s = AS_STR(args[0]), *sep = AS_STR(args[1]);
    if (sep->length == 0) return vm_raise(vm, CLS_VALUE_ERROR, "empty separator");
    int64_t at = right ? rfind_bytes(s->chars, 0, s->length, sep->chars, sep->length)
                       : find_bytes(s->chars, 0, s->length, sep->chars, sep->length);
    ObjTuple *t = tuple_new(vm, 3);
    if (at < 0) {
        t->items[0] = right ? OBJ_VAL(vm->s_empty) : OBJ_VAL(s);
        t->items[1] = OBJ_VAL(vm->s_empty);
        t->items[2] = right ? OBJ_VAL(s) : OBJ_VAL(vm->s_empty);
    } else {
        t->items[0] = OBJ_VAL(substr(vm, s, 0, (size_t)at));
        t->items[1] = OBJ_VAL(sep);
        t->items[2] = OBJ_VAL(substr(vm, s, (size_t)at + sep->length, s->length));
    }
    *out = OBJ_VAL(t);
    return true;
}

static bool str_partition(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return do_partition(vm, args, argc, out, false);
}

static bool str_rpartition(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return do_partition(vm, args, argc, out, true);
}

// ---- methods: stripping, replacing, padding ----------------------------------------

static bool in_chars(const ObjString *chars, uint32_t c) {
    for (size_t i = 0; i < chars->length;) {
        int w;
        if (utf8_decode(chars->chars + i, &w) == c) return true;
        i += (size_t)w;
    }
    return false;
}

static bool do_strip(VM *vm, Value *args, int argc, Value *out, const char *name, bool left,
                     bool right) {
    if (!check_positional(vm, name, argc, 0, 1)) return false;
    ObjString *s = AS_STR(args[0]);
    ObjString *chars = NULL;
    if (argc > 1 && !IS_NONE(args[1])) {
        if (!is_str(args[1]))
            return vm_raise(vm, CLS_TYPE_ERROR, "%s arg must be None or str", name);
        chars = AS_STR(args[1]);
    }
    size_t i = 0, end = s->length;
    int w;
    if (left) {
        while (i < end) {
            uint32_t c = utf8_decode(s->chars + i, &w);
            if (chars ? !in_chars(chars, c) : !cp_space(c)) break;
            i += (size_t)w;
        }
    }
    if (right) {
        while (end > i) {
            size_t p = prev_start(s->chars, end);
            uint32_t c = utf8_decode(s->chars + p, &w);
            if (chars ? !in_chars(chars, c) : !cp_space(c)) break;
            end = p;
        }
    }
    *out = (i == 0 && end == s->length) ? OBJ_VAL(s) : OBJ_VAL(substr(vm, s, i, end));
    return true;
}

static bool str_strip(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return do_strip(vm, args, argc, out, "strip", true, true);
}

static bool str_lstrip(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return do_strip(vm, args, argc, out, "lstrip", true, false);
}

static bool str_rstrip(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return do_strip(vm, args, argc, out, "rstrip", false, true);
}

static bool str_replace(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!check_positional(vm, "replace", argc, 2, 3)) return false;
    if (!need_str(vm, args[1], "replace() argument 1 must be str, not %s")) return false;
    if (!need_str(vm, args[2], "replace() argument 2 must be str, not %s")) return false;
    int64_t count = -1;
    if (argc > 3 && !as_index(vm, args[3], &count)) return false;
    ObjString *s = AS_STR(args[0]), *old = AS_STR(args[1]), *rep = AS_STR(args[2]);
    if (count < 0) count = INT64_MAX;
    // The result's length first: one too long for a string is a MemoryError
    // before any copying.
    uint64_t matches = 0;
    if (old->length == 0) {
        matches = (uint64_t)s->cp_length + 1;
    } else {
        for (size_t at = 0; matches < (uint64_t)count;) {
            int64_t found = find_bytes(s->chars, at, s->length, old->chars, old->length);
            if (found < 0) break;
            matches++;
            at = (size_t)found + old->length;
        }
    }
    if (matches > (uint64_t)count) matches = (uint64_t)count;
    if (rep->length > old->length &&
        matches > (UINT32_MAX - s->length) / (rep->length - old->length))
        return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
    StrBuf buf;
    strbuf_init(&buf);
    size_t i = 0;
    if (matches && rep->length > old->length &&
        !strbuf_try_reserve(&buf, s->length + matches * (rep->length - old->length)))
        return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
    if (old->length == 0) {
        while (i <= s->length) {
            if (count-- > 0) strbuf_append(&buf, rep->chars, rep->length);
            else {
                strbuf_append(&buf, s->chars + i, s->length - i);
                break;
            }
            if (i == s->length) break;
            int w;
            utf8_decode(s->chars + i, &w);
            strbuf_append(&buf, s->chars + i, (size_t)w);
            i += (size_t)w;
        }
        ObjString *made = from_buf(vm, &buf);
        if (!made) return false;
        *out = OBJ_VAL(made);
        return true;
    }
    bool changed = false;
    while (count-- > 0) {
        int64_t at = find_bytes(s->chars, i, s->length, old->chars, old->length);
        if (at < 0) break;
        strbuf_append(&buf, s->chars + i, (size_t)at - i);
        strbuf_append(&buf, rep->chars, rep->length);
        i = (size_t)at + old->length;
        changed = true;
    }
    if (!changed) {
        strbuf_free(&buf);
        *out = OBJ_VAL(s);
        return true;
    }
    strbuf_append(&buf, s->chars + i, s->length - i);
    ObjString *made = from_buf(vm, &buf);
    if (!made) return false;
    *out = OBJ_VAL(made);
    return true;
}

// Fill character argument of center/ljust/rjust.
static bool fill_arg(VM *vm, Value v, const char **fill, size_t *fill_len) {
    if (!is_str(v))
        return vm_raise(vm, CLS_TYPE_ERROR,
                        "The fill character must be a unicode character, not %s",
                        value_type_name(vm, v));
    if (AS_STR(v)->cp_length != 1)
        return vm_raise(vm, CLS_TYPE_ERROR,
                        "The fill character must be exactly one character long");
    *fill = AS_STR(v)->chars;
    *fill_len = AS_STR(v)->length;
    return true;
}

static void append_fill(StrBuf *buf, const char *fill, size_t fill_len, int64_t n) {
    if (fill_len == 1) {
        strbuf_append_repeat(buf, fill[0], (size_t)n);
        return;
    }
    for (int64_t i = 0; i < n; i++) strbuf_append(buf, fill, fill_len);
}

// mode: 'c' center, 'l' ljust, 'r' rjust
static bool do_pad(VM *vm, Value *args, int argc, Value *out, const char *name, char mode) {
    if (!check_positional(vm, name, argc, 1, 2)) return false;
    int64_t width = 0;
    if (!as_index(vm, args[1], &width)) return false;
    const char *fill = " ";
    size_t fill_len = 1;
    if (argc > 2 && !fill_arg(vm, args[2], &fill, &fill_len)) return false;
    ObjString *s = AS_STR(args[0]);
    if (width <= (int64_t)s->cp_length) {
        *out = OBJ_VAL(s);
        return true;
    }
    if (width > 0x7FFFFFFF) return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
    int64_t marg = width - s->cp_length;
    int64_t left = mode == 'l' ? 0 : mode == 'r' ? marg : marg / 2 + (marg & width & 1);
    StrBuf buf;
    strbuf_init(&buf);
    append_fill(&buf, fill, fill_len, left);
    strbuf_append(&buf, s->chars, s->length);
    append_fill(&buf, fill, fill_len, marg - left);
    ObjString *made = from_buf(vm, &buf);
    if (!made) return false;
    *out = OBJ_VAL(made);
    return true;
}

static bool str_center(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return do_pad(vm, args, argc, out, "center", 'c');
}

static bool str_ljust(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return do_pad(vm, args, argc, out, "ljust", 'l');
}

static bool str_rjust(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return do_pad(vm, args, argc, out, "rjust", 'r');
}

static bool str_zfill(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!one_arg(vm, "zfill", argc)) return false;
    int64_t width = 0;
    if (!as_index(vm, args[1], &width)) return false;
    ObjString *s = AS_STR(args[0]);
    if (width <= (int64_t)s->cp_length) {
        *out = OBJ_VAL(s);
        return true;
    }
    if (width > 0x7FFFFFFF) return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
    StrBuf buf;
    strbuf_init(&buf);
    size_t i = 0;
    if (s->length && (s->chars[0] == '+' || s->chars[0] == '-')) {
        strbuf_append_char(&buf, s->chars[0]);
        i = 1;
    }
    strbuf_append_repeat(&buf, '0', (size_t)(width - s->cp_length));
    strbuf_append(&buf, s->chars + i, s->length - i);
    ObjString *made = from_buf(vm, &buf);
    if (!made) return false;
    *out = OBJ_VAL(made);
    return true;
}

static bool str_expandtabs(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    int nkw = kwnames ? (int)kwnames->length : 0;
    if (argc - 1 + nkw > 1) {
        if (nkw > 1)
            return vm_raise(vm, CLS_TYPE_ERROR,
                            "expandtabs() takes at most 1 keyword argument (%d given)", nkw);
        return vm_raise(vm, CLS_TYPE_ERROR, "expandtabs() takes at most 1 argument (%d given)",
                        argc - 1 + nkw);
    }
    Value tv = argc > 1 ? args[1] : INT_VAL(8);
    if (nkw) {
        ObjString *kn = AS_STR(kwnames->items[0]);
        if (strcmp(kn->chars, "tabsize") != 0)
            return vm_raise(vm, CLS_TYPE_ERROR,
                            "'%s' is an invalid keyword argument for expandtabs()", kn->chars);
        tv = args[argc];
    }
    int64_t tab = 8;
    if (!as_index(vm, tv, &tab)) return false;
    if (tab > INT_MAX || tab < INT_MIN) // a C int in CPython
        return vm_raise(vm, CLS_OVERFLOW_ERROR, "Python int too large to convert to C int");
    ObjString *s = AS_STR(args[0]);
    // The result's length first (CPython's first pass): too long for a
    // string is a MemoryError before any copying.
    uint64_t total = 0;
    int64_t col = 0;
    for (size_t i = 0; i < s->length; i++) {
        char c = s->chars[i];
        if (c == '\t') {
            if (tab > 0) {
                total += (uint64_t)(tab - col % tab);
                col += tab - col % tab;
            }
        } else if (c == '\n' || c == '\r') {
            total++;
            col = 0;
        } else {
            total++;
            if (((unsigned char)c & 0xC0) != 0x80) col++;
        }
        if (total >= UINT32_MAX) return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
    }
    StrBuf buf;
    strbuf_init(&buf);
    if (!strbuf_try_reserve(&buf, (size_t)total))
        return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
    col = 0;
    for (size_t i = 0; i < s->length;) {
        char c = s->chars[i];
        if (c == '\t') {
            if (tab > 0) {
                int64_t n = tab - col % tab;
                strbuf_append_repeat(&buf, ' ', (size_t)n);
                col += n;
            }
            i++;
        } else if (c == '\n' || c == '\r') {
            strbuf_append_char(&buf, c);
            col = 0;
            i++;
        } else {
            int w;
            utf8_decode(s->chars + i, &w);
            strbuf_append(&buf, s->chars + i, (size_t)w);
            col++;
            i += (size_t)w;
        }
    }
    ObjString *made = from_buf(vm, &buf);
    if (!made) return false;
    *out = OBJ_VAL(made);
    return true;
}

static bool affix(VM *vm, Value *args, int argc, Value *out, bool prefix) {
    const char *name = prefix ? "removeprefix" : "removesuffix";
    if (!one_arg(vm, name, argc)) return false;
    if (!is_str(args[1]))
        return vm_raise(vm, CLS_TYPE_ERROR, "%s() argument must be str, not %s", name,
                        value_type_name(vm, args[1]));
    ObjString *s = AS_STR(args[0]), *a = AS_STR(args[1]);
    if (a->length == 0 || a->length > s->length) {
        *out = OBJ_VAL(s);
        return true;
    }
    if (prefix && memcmp(s->chars, a->chars, a->length) == 0) {
        *out = OBJ_VAL(substr(vm, s, a->length, s->length));
        return true;
    }
    if (!prefix && memcmp(s->chars + s->length - a->length, a->chars, a->length) == 0) {
        *out = OBJ_VAL(substr(vm, s, 0, s->length - a->length));
        return true;
    }
    *out = OBJ_VAL(s);
    return true;
}

static bool str_removeprefix(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return affix(vm, args, argc, out, true);
}

static bool str_removesuffix(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return affix(vm, args, argc, out, false);
}

// ---- methods: searching ----------------------------------------------------------

// Parse (sub, start=None, end=None); byte range of the search in *from/*to.
// Returns false on error; *empty_out is set when start > len (no match even
// for the empty string).
static bool search_args(VM *vm, const char *name, Value *args, int argc, ObjString **sub,
                        size_t *from, size_t *to, bool *impossible) {
    if (!parse_arity(vm, name, argc, 1, 3)) return false;
    if (!need_str(vm, args[1], "must be str, not %s")) return false;
    *sub = AS_STR(args[1]);
    ObjString *s = AS_STR(args[0]);
    int64_t start = 0, end = INT64_MAX;
    if (argc > 2 && !slice_arg(vm, args[2], &start)) return false;
    if (argc > 3 && !slice_arg(vm, args[3], &end)) return false;
    adjust_indices(s->cp_length, &start, &end);
    *impossible = start > (int64_t)s->cp_length || end < start;
    *from = byte_at(s, start);
    *to = byte_at(s, end);
    if (*to < *from) *to = *from;
    return true;
}

static bool do_find(VM *vm, Value *args, int argc, Value *out, const char *name, bool right,
                    bool raise) {
    ObjString *sub;
    size_t from, to;
    bool impossible;
    if (!search_args(vm, name, args, argc, &sub, &from, &to, &impossible)) return false;
    ObjString *s = AS_STR(args[0]);
    int64_t at = -1;
    if (!impossible)
        at = right ? rfind_bytes(s->chars, from, to, sub->chars, sub->length)
                   : find_bytes(s->chars, from, to, sub->chars, sub->length);
    if (at < 0) {
        if (raise) return vm_raise(vm, CLS_VALUE_ERROR, "substring not found");
        *out = INT_VAL(-1);
        return true;
    }
    *out = INT_VAL(cp_at(s, (size_t)at));
    return true;
}

static bool str_find(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return do_find(vm, args, argc, out, "find", false, false);
}

static bool str_rfind(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return do_find(vm, args, argc, out, "rfind", true, false);
}

static bool str_index(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return do_find(vm, args, argc, out, "index", false, true);
}

static bool str_rindex(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return do_find(vm, args, argc, out, "rindex", true, true);
}

static bool str_count(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    ObjString *sub;
    size_t from, to;
    bool impossible;
    if (!search_args(vm, "count", args, argc, &sub, &from, &to, &impossible)) return false;
    ObjString *s = AS_STR(args[0]);
    int64_t n = 0;
    if (impossible) {
        n = 0;
    } else if (sub->length == 0) {
        n = cp_at(s, to) - cp_at(s, from) + 1;
    } else {
        size_t i = from;
        int64_t at;
        while ((at = find_bytes(s->chars, i, to, sub->chars, sub->length)) >= 0) {
            n++;
            i = (size_t)at + sub->length;
        }
    }
    *out = INT_VAL(n);
    return true;
}

static bool do_affix_match(VM *vm, Value *args, int argc, Value *out, bool start) {
    const char *name = start ? "startswith" : "endswith";
    if (!parse_arity(vm, name, argc, 1, 3)) return false;
    ObjString *s = AS_STR(args[0]);
    int64_t lo = 0, hi = INT64_MAX;
    if (argc > 2 && !slice_arg(vm, args[2], &lo)) return false;
    if (argc > 3 && !slice_arg(vm, args[3], &hi)) return false;
    adjust_indices(s->cp_length, &lo, &hi);
    Value *cands = &args[1];
    uint32_t n = 1;
    if (IS_OBJ_TYPE(args[1], OBJ_TUPLE)) {
        cands = ((ObjTuple *)AS_OBJ(args[1]))->items;
        n = ((ObjTuple *)AS_OBJ(args[1]))->length;
        for (uint32_t i = 0; i < n; i++)
            if (!is_str(cands[i]))
                return vm_raise(vm, CLS_TYPE_ERROR, "tuple for %s must only contain str, not %s",
                                name, value_type_name(vm, cands[i]));
    } else if (!is_str(args[1])) {
        return vm_raise(vm, CLS_TYPE_ERROR, "%s first arg must be str or a tuple of str, not %s",
                        name, value_type_name(vm, args[1]));
    }
    *out = FALSE_VAL;
    if (lo > (int64_t)s->cp_length) return true;
    size_t from = byte_at(s, lo), to = byte_at(s, hi);
    for (uint32_t i = 0; i < n; i++) {
        ObjString *a = AS_STR(cands[i]);
        if (hi < lo || to - from < a->length) {
            if (a->length == 0 && hi >= lo) {
                *out = TRUE_VAL;
                return true;
            }
            continue;
        }
        const char *at = start ? s->chars + from : s->chars + to - a->length;
        if (memcmp(at, a->chars, a->length) == 0) {
            *out = TRUE_VAL;
            return true;
        }
    }
    return true;
}

static bool str_startswith(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return do_affix_match(vm, args, argc, out, true);
}

static bool str_endswith(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    return do_affix_match(vm, args, argc, out, false);
}

// ---- methods: case and classification ------------------------------------------

// Capital sigma at [at, end) lowercases to final sigma when a cased letter
// comes before it and none after it, skipping case-ignorable characters both
// ways (CPython's handle_capital_sigma).
static bool final_sigma(const ObjString *s, size_t at, size_t end) {
    int w;
    uint32_t c = 0;
    size_t j = at;
    bool found = false;
    while (j > 0) {
        j = prev_start(s->chars, j);
        c = utf8_decode(s->chars + j, &w);
        if (!unicode_iscase_ignorable(c)) {
            found = true;
            break;
        }
    }
    if (!found || !unicode_iscased(c)) return false;
    for (j = end; j < s->length; j += (size_t)w) {
        c = utf8_decode(s->chars + j, &w);
        if (!unicode_iscase_ignorable(c)) return !unicode_iscased(c);
    }
    return true;
}

typedef int (*CaseMapper)(uint32_t c, uint32_t out[3]);

static void append_mapped(StrBuf *buf, uint32_t c, CaseMapper mapper) {
    uint32_t mapped[3];
    int n = mapper(c, mapped);
    for (int k = 0; k < n; k++) strbuf_append_codepoint(buf, mapped[k]);
}

// Lowercase c at [at, end) of s, final sigma included.
static void append_lower(StrBuf *buf, const ObjString *s, uint32_t c, size_t at, size_t end) {
    if (c == 0x3A3) strbuf_append_codepoint(buf, final_sigma(s, at, end) ? 0x3C2 : 0x3C3);
    else append_mapped(buf, c, unicode_lower);
}

// mode: 'u' upper, 'l' lower, 'f' casefold, 's' swapcase, 't' title,
// 'c' capitalize; as CPython's do_upper, do_lower... with full mappings.
static ObjString *map_case(VM *vm, ObjString *s, char mode) {
    StrBuf buf;
    strbuf_init(&buf);
    bool prev_cased = false;
    for (size_t i = 0; i < s->length;) {
        int w;
        size_t at = i;
        uint32_t c = utf8_decode(s->chars + i, &w);
        i += (size_t)w;
        switch (mode) {
        case 'u': append_mapped(&buf, c, unicode_upper); break;
        case 'l': append_lower(&buf, s, c, at, i); break;
        case 'f': append_mapped(&buf, c, unicode_fold); break;
        case 's':
            if (unicode_isupper(c)) append_lower(&buf, s, c, at, i);
            else if (unicode_islower(c)) append_mapped(&buf, c, unicode_upper);
            else strbuf_append_codepoint(&buf, c);
            break;
        case 't':
            if (prev_cased) append_lower(&buf, s, c, at, i);
            else append_mapped(&buf, c, unicode_title);
            prev_cased = unicode_iscased(c);
            break;
        default:
            if (at == 0) append_mapped(&buf, c, unicode_title);
            else append_lower(&buf, s, c, at, i);
            break;
        }
    }
    return from_buf(vm, &buf);
}

static ObjString *ascii_case(VM *vm, ObjString *s, bool up) {
    size_t i = 0;
    // Unchanged strings are returned as they are.
    for (; i < s->length; i++) {
        char c = s->chars[i];
        if (up ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z')) break;
    }
    if (i == s->length) return s;
    ObjString *r = alloc_string(vm, s->length);
    for (i = 0; i < s->length; i++) {
        char c = s->chars[i];
        if (up && c >= 'a' && c <= 'z') c = (char)(c - 32);
        else if (!up && c >= 'A' && c <= 'Z') c = (char)(c + 32);
        r->chars[i] = c;
    }
    return finish(r);
}

static bool str_upper(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "upper", argc)) return false;
    ObjString *s = AS_STR(args[0]);
    ObjString *mapped = is_ascii(s) ? ascii_case(vm, s, true) : map_case(vm, s, 'u');
    if (!mapped) return false;
    *out = OBJ_VAL(mapped);
    return true;
}

static bool str_lower(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "lower", argc)) return false;
    ObjString *s = AS_STR(args[0]);
    ObjString *mapped = is_ascii(s) ? ascii_case(vm, s, false) : map_case(vm, s, 'l');
    if (!mapped) return false;
    *out = OBJ_VAL(mapped);
    return true;
}

static bool str_casefold(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "casefold", argc)) return false;
    ObjString *s = AS_STR(args[0]);
    ObjString *mapped = is_ascii(s) ? ascii_case(vm, s, false) : map_case(vm, s, 'f');
    if (!mapped) return false;
    *out = OBJ_VAL(mapped);
    return true;
}

static bool str_swapcase(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "swapcase", argc)) return false;
    ObjString *mapped = map_case(vm, AS_STR(args[0]), 's');
    if (!mapped) return false;
    *out = OBJ_VAL(mapped);
    return true;
}

static bool str_title(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "title", argc)) return false;
    ObjString *mapped = map_case(vm, AS_STR(args[0]), 't');
    if (!mapped) return false;
    *out = OBJ_VAL(mapped);
    return true;
}

static bool str_capitalize(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "capitalize", argc)) return false;
    ObjString *mapped = map_case(vm, AS_STR(args[0]), 'c');
    if (!mapped) return false;
    *out = OBJ_VAL(mapped);
    return true;
}

// True when every code point passes `pred` (and the string is not empty).
static bool all_cps(ObjString *s, bool (*pred)(uint32_t)) {
    if (s->length == 0) return false;
    for (size_t i = 0; i < s->length;) {
        int w;
        uint32_t c = utf8_decode(s->chars + i, &w);
        if (!pred(c)) return false;
        i += (size_t)w;
    }
    return true;
}

static bool cp_alnum(uint32_t c) { return cp_alpha(c) || cp_numeric(c); }
static bool cp_ascii(uint32_t c) { return c < 128; }

#define CLASSIFY(fname, pred)                                                             \
    static bool str_##fname(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {    \
        if (!no_args(vm, #fname, argc)) return false;                                     \
        *out = BOOL_VAL(all_cps(AS_STR(args[0]), pred));                                  \
        return true;                                                                      \
    }
CLASSIFY(isdigit, cp_digit)
CLASSIFY(isdecimal, cp_decimal)
CLASSIFY(isnumeric, cp_numeric)
CLASSIFY(isalpha, cp_alpha)
CLASSIFY(isalnum, cp_alnum)
CLASSIFY(isspace, cp_space)
#undef CLASSIFY

static bool str_isascii(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "isascii", argc)) return false;
    ObjString *s = AS_STR(args[0]);
    *out = BOOL_VAL(s->length == 0 || all_cps(s, cp_ascii));
    return true;
}

static bool str_isprintable(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "isprintable", argc)) return false;
    ObjString *s = AS_STR(args[0]);
    *out = BOOL_VAL(s->length == 0 || all_cps(s, cp_printable));
    return true;
}

// isupper / islower as CPython: no character of the other case or
// titlecase, and at least one of the asked case.
static bool case_check(ObjString *s, bool upper) {
    bool cased = false;
    for (size_t i = 0; i < s->length;) {
        int w;
        uint32_t c = utf8_decode(s->chars + i, &w);
        i += (size_t)w;
        if ((upper ? unicode_islower(c) : unicode_isupper(c)) || unicode_istitle(c)) return false;
        if (upper ? unicode_isupper(c) : unicode_islower(c)) cased = true;
    }
    return cased;
}

static bool str_isupper(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "isupper", argc)) return false;
    *out = BOOL_VAL(case_check(AS_STR(args[0]), true));
    return true;
}

static bool str_islower(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "islower", argc)) return false;
    *out = BOOL_VAL(case_check(AS_STR(args[0]), false));
    return true;
}

// Uppercase and titlecase letters only after uncased characters, lowercase
// ones only after cased ones, and at least one cased character.
static bool str_istitle(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "istitle", argc)) return false;
    ObjString *s = AS_STR(args[0]);
    bool cased = false, prev_cased = false;
    for (size_t i = 0; i < s->length;) {
        int w;
        uint32_t c = utf8_decode(s->chars + i, &w);
        i += (size_t)w;
        if (unicode_isupper(c) || unicode_istitle(c)) {
            if (prev_cased) {
                *out = FALSE_VAL;
                return true;
            }
            prev_cased = cased = true;
        } else if (unicode_islower(c)) {
            if (!prev_cased) {
                *out = FALSE_VAL;
                return true;
            }
            prev_cased = cased = true;
        } else {
            prev_cased = false;
        }
    }
    *out = BOOL_VAL(cased);
    return true;
}

static bool str_isidentifier(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "isidentifier", argc)) return false;
    ObjString *s = AS_STR(args[0]);
    bool ok = s->length > 0;
    bool first = true;
    for (size_t i = 0; ok && i < s->length;) {
        int w;
        uint32_t c = utf8_decode(s->chars + i, &w);
        i += (size_t)w;
        ok = first ? unicode_isid_start(c) : unicode_isid_continue(c);
        first = false;
    }
    *out = BOOL_VAL(ok);
    return true;
}

static bool str_format_method(VM *vm, Value *args, int argc, ObjTuple *kwnames, Value *out) {
    return str_format(vm, AS_STR(args[0]), args + 1, argc - 1, kwnames, out);
}

void str_init_class(VM *vm, ObjClass *cls) {
    static const struct {
        const char *name;
        NativeFn fn;
        bool kw;
    } methods[] = {
        {"split", str_split, true},
        {"rsplit", str_rsplit, true},
        {"splitlines", str_splitlines, true},
        {"join", str_join, false},
        {"strip", str_strip, false},
        {"lstrip", str_lstrip, false},
        {"rstrip", str_rstrip, false},
        {"replace", str_replace, false},
        {"upper", str_upper, false},
        {"lower", str_lower, false},
        {"casefold", str_casefold, false},
        {"title", str_title, false},
        {"capitalize", str_capitalize, false},
        {"swapcase", str_swapcase, false},
        {"startswith", str_startswith, false},
        {"endswith", str_endswith, false},
        {"find", str_find, false},
        {"rfind", str_rfind, false},
        {"index", str_index, false},
        {"rindex", str_rindex, false},
        {"count", str_count, false},
        {"isdigit", str_isdigit, false},
        {"isdecimal", str_isdecimal, false},
        {"isnumeric", str_isnumeric, false},
        {"isalpha", str_isalpha, false},
        {"isalnum", str_isalnum, false},
        {"isspace", str_isspace, false},
        {"isupper", str_isupper, false},
        {"islower", str_islower, false},
        {"istitle", str_istitle, false},
        {"isascii", str_isascii, false},
        {"isprintable", str_isprintable, false},
        {"isidentifier", str_isidentifier, false},
        {"zfill", str_zfill, false},
        {"center", str_center, false},
        {"ljust", str_ljust, false},
        {"rjust", str_rjust, false},
        {"partition", str_partition, false},
        {"rpartition", str_rpartition, false},
        {"removeprefix", str_removeprefix, false},
        {"removesuffix", str_removesuffix, false},
        {"expandtabs", str_expandtabs, true},
        {"format", str_format_method, true},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        class_add_method(vm, cls, methods[i].name, methods[i].fn, methods[i].kw);
}
