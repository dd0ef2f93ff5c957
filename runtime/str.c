// runtime/str.c - str objects: creation, interning, UTF-8, indexing, repr, format, % and methods.
// Immutable valid UTF-8; hash (never 0) and code-point length set at creation.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/classes.h"
#include "runtime/containers.h"
#include "runtime/gc.h"
#include "runtime/ops.h"

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
static ObjString *from_buf(VM *vm, StrBuf *buf) {
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

static ObjString *substr(VM *vm, const ObjString *s, size_t from, size_t to) {
    return str_new(vm, s->chars + from, to - from);
}

// ---- character classes and case --------------------------------------------

static bool cp_space(uint32_t c) {
    if (c < 128) return c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x1F);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

static uint32_t cp_upper(uint32_t c) {
    if (c < 128) return (c >= 'a' && c <= 'z') ? c - 32 : c;
    if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 32;
    if (c == 0xFF) return 0x178;
    if (c == 0xB5) return 0x39C;
    if (c >= 0x100 && c <= 0x17F) {
        if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
            return (c & 1) ? c - 1 : c;
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return (c & 1) ? c : c - 1;
        return c;
    }
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
    if (c == 0x3C2) return 0x3A3;
    if (c >= 0x430 && c <= 0x44F) return c - 32;
    if (c >= 0x450 && c <= 0x45F) return c - 80;
    return c;
}

static uint32_t cp_lower(uint32_t c) {
    if (c < 128) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
    if (c == 0x178) return 0xFF;
    if (c >= 0x100 && c <= 0x17F) {
        if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
            return (c & 1) ? c : c + 1;
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return (c & 1) ? c + 1 : c;
        return c;
    }
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    return c;
}

static bool cp_is_upper(uint32_t c) { return cp_lower(c) != c; }
static bool cp_is_lower(uint32_t c) {
    return cp_upper(c) != c || c == 0xDF;
}
static bool cp_cased(uint32_t c) { return cp_is_upper(c) || cp_is_lower(c); }

// Unicode 14.0 tables (CPython 3.11's unicodedata), generated with python3:
// inclusive code point ranges, sorted, for binary search. Non-ASCII only
// matters; ASCII is answered before the search.
// str.isalpha: categories Lm Lt Lu Ll Lo.
static const uint32_t alpha_ranges[][2] = {
    {0xAA, 0xAA}, {0xB5, 0xB5}, {0xBA, 0xBA}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x2C1},
    {0x2C6, 0x2D1}, {0x2E0, 0x2E4}, {0x2EC, 0x2EC}, {0x2EE, 0x2EE}, {0x370, 0x374},
    {0x376, 0x377}, {0x37A, 0x37D}, {0x37F, 0x37F}, {0x386, 0x386}, {0x388, 0x38A},
    {0x38C, 0x38C}, {0x38E, 0x3A1}, {0x3A3, 0x3F5}, {0x3F7, 0x481}, {0x48A, 0x52F},
    {0x531, 0x556}, {0x559, 0x559}, {0x560, 0x588}, {0x5D0, 0x5EA}, {0x5EF, 0x5F2},
    {0x620, 0x64A}, {0x66E, 0x66F}, {0x671, 0x6D3}, {0x6D5, 0x6D5}, {0x6E5, 0x6E6},
    {0x6EE, 0x6EF}, {0x6FA, 0x6FC}, {0x6FF, 0x6FF}, {0x710, 0x710}, {0x712, 0x72F},
    {0x74D, 0x7A5}, {0x7B1, 0x7B1}, {0x7CA, 0x7EA}, {0x7F4, 0x7F5}, {0x7FA, 0x7FA},
    {0x800, 0x815}, {0x81A, 0x81A}, {0x824, 0x824}, {0x828, 0x828}, {0x840, 0x858},
    {0x860, 0x86A}, {0x870, 0x887}, {0x889, 0x88E}, {0x8A0, 0x8C9}, {0x904, 0x939},
    {0x93D, 0x93D}, {0x950, 0x950}, {0x958, 0x961}, {0x971, 0x980}, {0x985, 0x98C},
    {0x98F, 0x990}, {0x993, 0x9A8}, {0x9AA, 0x9B0}, {0x9B2, 0x9B2}, {0x9B6, 0x9B9},
    {0x9BD, 0x9BD}, {0x9CE, 0x9CE}, {0x9DC, 0x9DD}, {0x9DF, 0x9E1}, {0x9F0, 0x9F1},
    {0x9FC, 0x9FC}, {0xA05, 0xA0A}, {0xA0F, 0xA10}, {0xA13, 0xA28}, {0xA2A, 0xA30},
    {0xA32, 0xA33}, {0xA35, 0xA36}, {0xA38, 0xA39}, {0xA59, 0xA5C}, {0xA5E, 0xA5E},
    {0xA72, 0xA74}, {0xA85, 0xA8D}, {0xA8F, 0xA91}, {0xA93, 0xAA8}, {0xAAA, 0xAB0},
    {0xAB2, 0xAB3}, {0xAB5, 0xAB9}, {0xABD, 0xABD}, {0xAD0, 0xAD0}, {0xAE0, 0xAE1},
    {0xAF9, 0xAF9}, {0xB05, 0xB0C}, {0xB0F, 0xB10}, {0xB13, 0xB28}, {0xB2A, 0xB30},
    {0xB32, 0xB33}, {0xB35, 0xB39}, {0xB3D, 0xB3D}, {0xB5C, 0xB5D}, {0xB5F, 0xB61},
    {0xB71, 0xB71}, {0xB83, 0xB83}, {0xB85, 0xB8A}, {0xB8E, 0xB90}, {0xB92, 0xB95},
    {0xB99, 0xB9A}, {0xB9C, 0xB9C}, {0xB9E, 0xB9F}, {0xBA3, 0xBA4}, {0xBA8, 0xBAA},
    {0xBAE, 0xBB9}, {0xBD0, 0xBD0}, {0xC05, 0xC0C}, {0xC0E, 0xC10}, {0xC12, 0xC28},
    {0xC2A, 0xC39}, {0xC3D, 0xC3D}, {0xC58, 0xC5A}, {0xC5D, 0xC5D}, {0xC60, 0xC61},
    {0xC80, 0xC80}, {0xC85, 0xC8C}, {0xC8E, 0xC90}, {0xC92, 0xCA8}, {0xCAA, 0xCB3},
    {0xCB5, 0xCB9}, {0xCBD, 0xCBD}, {0xCDD, 0xCDE}, {0xCE0, 0xCE1}, {0xCF1, 0xCF2},
    {0xD04, 0xD0C}, {0xD0E, 0xD10}, {0xD12, 0xD3A}, {0xD3D, 0xD3D}, {0xD4E, 0xD4E},
    {0xD54, 0xD56}, {0xD5F, 0xD61}, {0xD7A, 0xD7F}, {0xD85, 0xD96}, {0xD9A, 0xDB1},
    {0xDB3, 0xDBB}, {0xDBD, 0xDBD}, {0xDC0, 0xDC6}, {0xE01, 0xE30}, {0xE32, 0xE33},
    {0xE40, 0xE46}, {0xE81, 0xE82}, {0xE84, 0xE84}, {0xE86, 0xE8A}, {0xE8C, 0xEA3},
    {0xEA5, 0xEA5}, {0xEA7, 0xEB0}, {0xEB2, 0xEB3}, {0xEBD, 0xEBD}, {0xEC0, 0xEC4},
    {0xEC6, 0xEC6}, {0xEDC, 0xEDF}, {0xF00, 0xF00}, {0xF40, 0xF47}, {0xF49, 0xF6C},
    {0xF88, 0xF8C}, {0x1000, 0x102A}, {0x103F, 0x103F}, {0x1050, 0x1055},
    {0x105A, 0x105D}, {0x1061, 0x1061}, {0x1065, 0x1066}, {0x106E, 0x1070},
    {0x1075, 0x1081}, {0x108E, 0x108E}, {0x10A0, 0x10C5}, {0x10C7, 0x10C7},
    {0x10CD, 0x10CD}, {0x10D0, 0x10FA}, {0x10FC, 0x1248}, {0x124A, 0x124D},
    {0x1250, 0x1256}, {0x1258, 0x1258}, {0x125A, 0x125D}, {0x1260, 0x1288},
    {0x128A, 0x128D}, {0x1290, 0x12B0}, {0x12B2, 0x12B5}, {0x12B8, 0x12BE},
    {0x12C0, 0x12C0}, {0x12C2, 0x12C5}, {0x12C8, 0x12D6}, {0x12D8, 0x1310},
    {0x1312, 0x1315}, {0x1318, 0x135A}, {0x1380, 0x138F}, {0x13A0, 0x13F5},
    {0x13F8, 0x13FD}, {0x1401, 0x166C}, {0x166F, 0x167F}, {0x1681, 0x169A},
    {0x16A0, 0x16EA}, {0x16F1, 0x16F8}, {0x1700, 0x1711}, {0x171F, 0x1731},
    {0x1740, 0x1751}, {0x1760, 0x176C}, {0x176E, 0x1770}, {0x1780, 0x17B3},
    {0x17D7, 0x17D7}, {0x17DC, 0x17DC}, {0x1820, 0x1878}, {0x1880, 0x1884},
    {0x1887, 0x18A8}, {0x18AA, 0x18AA}, {0x18B0, 0x18F5}, {0x1900, 0x191E},
    {0x1950, 0x196D}, {0x1970, 0x1974}, {0x1980, 0x19AB}, {0x19B0, 0x19C9},
    {0x1A00, 0x1A16}, {0x1A20, 0x1A54}, {0x1AA7, 0x1AA7}, {0x1B05, 0x1B33},
    {0x1B45, 0x1B4C}, {0x1B83, 0x1BA0}, {0x1BAE, 0x1BAF}, {0x1BBA, 0x1BE5},
    {0x1C00, 0x1C23}, {0x1C4D, 0x1C4F}, {0x1C5A, 0x1C7D}, {0x1C80, 0x1C88},
    {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF}, {0x1CE9, 0x1CEC}, {0x1CEE, 0x1CF3},
    {0x1CF5, 0x1CF6}, {0x1CFA, 0x1CFA}, {0x1D00, 0x1DBF}, {0x1E00, 0x1F15},
    {0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57},
    {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D},
    {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4},
    {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC},
    {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2071, 0x2071}, {0x207F, 0x207F},
    {0x2090, 0x209C}, {0x2102, 0x2102}, {0x2107, 0x2107}, {0x210A, 0x2113},
    {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126},
    {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2139}, {0x213C, 0x213F},
    {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2CE4},
    {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3}, {0x2D00, 0x2D25}, {0x2D27, 0x2D27},
    {0x2D2D, 0x2D2D}, {0x2D30, 0x2D67}, {0x2D6F, 0x2D6F}, {0x2D80, 0x2D96},
    {0x2DA0, 0x2DA6}, {0x2DA8, 0x2DAE}, {0x2DB0, 0x2DB6}, {0x2DB8, 0x2DBE},
    {0x2DC0, 0x2DC6}, {0x2DC8, 0x2DCE}, {0x2DD0, 0x2DD6}, {0x2DD8, 0x2DDE},
    {0x2E2F, 0x2E2F}, {0x3005, 0x3006}, {0x3031, 0x3035}, {0x303B, 0x303C},
    {0x3041, 0x3096}, {0x309D, 0x309F}, {0x30A1, 0x30FA}, {0x30FC, 0x30FF},
    {0x3105, 0x312F}, {0x3131, 0x318E}, {0x31A0, 0x31BF}, {0x31F0, 0x31FF},
    {0x3400, 0x4DBF}, {0x4E00, 0xA48C}, {0xA4D0, 0xA4FD}, {0xA500, 0xA60C},
    {0xA610, 0xA61F}, {0xA62A, 0xA62B}, {0xA640, 0xA66E}, {0xA67F, 0xA69D},
    {0xA6A0, 0xA6E5}, {0xA717, 0xA71F}, {0xA722, 0xA788}, {0xA78B, 0xA7CA},
    {0xA7D0, 0xA7D1}, {0xA7D3, 0xA7D3}, {0xA7D5, 0xA7D9}, {0xA7F2, 0xA801},
    {0xA803, 0xA805}, {0xA807, 0xA80A}, {0xA80C, 0xA822}, {0xA840, 0xA873},
    {0xA882, 0xA8B3}, {0xA8F2, 0xA8F7}, {0xA8FB, 0xA8FB}, {0xA8FD, 0xA8FE},
    {0xA90A, 0xA925}, {0xA930, 0xA946}, {0xA960, 0xA97C}, {0xA984, 0xA9B2},
    {0xA9CF, 0xA9CF}, {0xA9E0, 0xA9E4}, {0xA9E6, 0xA9EF}, {0xA9FA, 0xA9FE},
    {0xAA00, 0xAA28}, {0xAA40, 0xAA42}, {0xAA44, 0xAA4B}, {0xAA60, 0xAA76},
    {0xAA7A, 0xAA7A}, {0xAA7E, 0xAAAF}, {0xAAB1, 0xAAB1}, {0xAAB5, 0xAAB6},
    {0xAAB9, 0xAABD}, {0xAAC0, 0xAAC0}, {0xAAC2, 0xAAC2}, {0xAADB, 0xAADD},
    {0xAAE0, 0xAAEA}, {0xAAF2, 0xAAF4}, {0xAB01, 0xAB06}, {0xAB09, 0xAB0E},
    {0xAB11, 0xAB16}, {0xAB20, 0xAB26}, {0xAB28, 0xAB2E}, {0xAB30, 0xAB5A},
    {0xAB5C, 0xAB69}, {0xAB70, 0xABE2}, {0xAC00, 0xD7A3}, {0xD7B0, 0xD7C6},
    {0xD7CB, 0xD7FB}, {0xF900, 0xFA6D}, {0xFA70, 0xFAD9}, {0xFB00, 0xFB06},
    {0xFB13, 0xFB17}, {0xFB1D, 0xFB1D}, {0xFB1F, 0xFB28}, {0xFB2A, 0xFB36},
    {0xFB38, 0xFB3C}, {0xFB3E, 0xFB3E}, {0xFB40, 0xFB41}, {0xFB43, 0xFB44},
    {0xFB46, 0xFBB1}, {0xFBD3, 0xFD3D}, {0xFD50, 0xFD8F}, {0xFD92, 0xFDC7},
    {0xFDF0, 0xFDFB}, {0xFE70, 0xFE74}, {0xFE76, 0xFEFC}, {0xFF21, 0xFF3A},
    {0xFF41, 0xFF5A}, {0xFF66, 0xFFBE}, {0xFFC2, 0xFFC7}, {0xFFCA, 0xFFCF},
    {0xFFD2, 0xFFD7}, {0xFFDA, 0xFFDC}, {0x10000, 0x1000B}, {0x1000D, 0x10026},
    {0x10028, 0x1003A}, {0x1003C, 0x1003D}, {0x1003F, 0x1004D}, {0x10050, 0x1005D},
    {0x10080, 0x100FA}, {0x10280, 0x1029C}, {0x102A0, 0x102D0}, {0x10300, 0x1031F},
    {0x1032D, 0x10340}, {0x10342, 0x10349}, {0x10350, 0x10375}, {0x10380, 0x1039D},
    {0x103A0, 0x103C3}, {0x103C8, 0x103CF}, {0x10400, 0x1049D}, {0x104B0, 0x104D3},
    {0x104D8, 0x104FB}, {0x10500, 0x10527}, {0x10530, 0x10563}, {0x10570, 0x1057A},
    {0x1057C, 0x1058A}, {0x1058C, 0x10592}, {0x10594, 0x10595}, {0x10597, 0x105A1},
    {0x105A3, 0x105B1}, {0x105B3, 0x105B9}, {0x105BB, 0x105BC}, {0x10600, 0x10736},
    {0x10740, 0x10755}, {0x10760, 0x10767}, {0x10780, 0x10785}, {0x10787, 0x107B0},
    {0x107B2, 0x107BA}, {0x10800, 0x10805}, {0x10808, 0x10808}, {0x1080A, 0x10835},
    {0x10837, 0x10838}, {0x1083C, 0x1083C}, {0x1083F, 0x10855}, {0x10860, 0x10876},
    {0x10880, 0x1089E}, {0x108E0, 0x108F2}, {0x108F4, 0x108F5}, {0x10900, 0x10915},
    {0x10920, 0x10939}, {0x10980, 0x109B7}, {0x109BE, 0x109BF}, {0x10A00, 0x10A00},
    {0x10A10, 0x10A13}, {0x10A15, 0x10A17}, {0x10A19, 0x10A35}, {0x10A60, 0x10A7C},
    {0x10A80, 0x10A9C}, {0x10AC0, 0x10AC7}, {0x10AC9, 0x10AE4}, {0x10B00, 0x10B35},
    {0x10B40, 0x10B55}, {0x10B60, 0x10B72}, {0x10B80, 0x10B91}, {0x10C00, 0x10C48},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x10D00, 0x10D23}, {0x10E80, 0x10EA9},
    {0x10EB0, 0x10EB1}, {0x10F00, 0x10F1C}, {0x10F27, 0x10F27}, {0x10F30, 0x10F45},
    {0x10F70, 0x10F81}, {0x10FB0, 0x10FC4}, {0x10FE0, 0x10FF6}, {0x11003, 0x11037},
    {0x11071, 0x11072}, {0x11075, 0x11075}, {0x11083, 0x110AF}, {0x110D0, 0x110E8},
    {0x11103, 0x11126}, {0x11144, 0x11144}, {0x11147, 0x11147}, {0x11150, 0x11172},
    {0x11176, 0x11176}, {0x11183, 0x111B2}, {0x111C1, 0x111C4}, {0x111DA, 0x111DA},
    {0x111DC, 0x111DC}, {0x11200, 0x11211}, {0x11213, 0x1122B}, {0x11280, 0x11286},
    {0x11288, 0x11288}, {0x1128A, 0x1128D}, {0x1128F, 0x1129D}, {0x1129F, 0x112A8},
    {0x112B0, 0x112DE}, {0x11305, 0x1130C}, {0x1130F, 0x11310}, {0x11313, 0x11328},
    {0x1132A, 0x11330}, {0x11332, 0x11333}, {0x11335, 0x11339}, {0x1133D, 0x1133D},
    {0x11350, 0x11350}, {0x1135D, 0x11361}, {0x11400, 0x11434}, {0x11447, 0x1144A},
    {0x1145F, 0x11461}, {0x11480, 0x114AF}, {0x114C4, 0x114C5}, {0x114C7, 0x114C7},
    {0x11580, 0x115AE}, {0x115D8, 0x115DB}, {0x11600, 0x1162F}, {0x11644, 0x11644},
    {0x11680, 0x116AA}, {0x116B8, 0x116B8}, {0x11700, 0x1171A}, {0x11740, 0x11746},
    {0x11800, 0x1182B}, {0x118A0, 0x118DF}, {0x118FF, 0x11906}, {0x11909, 0x11909},
    {0x1190C, 0x11913}, {0x11915, 0x11916}, {0x11918, 0x1192F}, {0x1193F, 0x1193F},
    {0x11941, 0x11941}, {0x119A0, 0x119A7}, {0x119AA, 0x119D0}, {0x119E1, 0x119E1},
    {0x119E3, 0x119E3}, {0x11A00, 0x11A00}, {0x11A0B, 0x11A32}, {0x11A3A, 0x11A3A},
    {0x11A50, 0x11A50}, {0x11A5C, 0x11A89}, {0x11A9D, 0x11A9D}, {0x11AB0, 0x11AF8},
    {0x11C00, 0x11C08}, {0x11C0A, 0x11C2E}, {0x11C40, 0x11C40}, {0x11C72, 0x11C8F},
    {0x11D00, 0x11D06}, {0x11D08, 0x11D09}, {0x11D0B, 0x11D30}, {0x11D46, 0x11D46},
    {0x11D60, 0x11D65}, {0x11D67, 0x11D68}, {0x11D6A, 0x11D89}, {0x11D98, 0x11D98},
    {0x11EE0, 0x11EF2}, {0x11FB0, 0x11FB0}, {0x12000, 0x12399}, {0x12480, 0x12543},
    {0x12F90, 0x12FF0}, {0x13000, 0x1342E}, {0x14400, 0x14646}, {0x16800, 0x16A38},
    {0x16A40, 0x16A5E}, {0x16A70, 0x16ABE}, {0x16AD0, 0x16AED}, {0x16B00, 0x16B2F},
    {0x16B40, 0x16B43}, {0x16B63, 0x16B77}, {0x16B7D, 0x16B8F}, {0x16E40, 0x16E7F},
    {0x16F00, 0x16F4A}, {0x16F50, 0x16F50}, {0x16F93, 0x16F9F}, {0x16FE0, 0x16FE1},
    {0x16FE3, 0x16FE3}, {0x17000, 0x187F7}, {0x18800, 0x18CD5}, {0x18D00, 0x18D08},
    {0x1AFF0, 0x1AFF3}, {0x1AFF5, 0x1AFFB}, {0x1AFFD, 0x1AFFE}, {0x1B000, 0x1B122},
    {0x1B150, 0x1B152}, {0x1B164, 0x1B167}, {0x1B170, 0x1B2FB}, {0x1BC00, 0x1BC6A},
    {0x1BC70, 0x1BC7C}, {0x1BC80, 0x1BC88}, {0x1BC90, 0x1BC99}, {0x1D400, 0x1D454},
    {0x1D456, 0x1D49C}, {0x1D49E, 0x1D49F}, {0x1D4A2, 0x1D4A2}, {0x1D4A5, 0x1D4A6},
    {0x1D4A9, 0x1D4AC}, {0x1D4AE, 0x1D4B9}, {0x1D4BB, 0x1D4BB}, {0x1D4BD, 0x1D4C3},
    {0x1D4C5, 0x1D505}, {0x1D507, 0x1D50A}, {0x1D50D, 0x1D514}, {0x1D516, 0x1D51C},
    {0x1D51E, 0x1D539}, {0x1D53B, 0x1D53E}, {0x1D540, 0x1D544}, {0x1D546, 0x1D546},
    {0x1D54A, 0x1D550}, {0x1D552, 0x1D6A5}, {0x1D6A8, 0x1D6C0}, {0x1D6C2, 0x1D6DA},
    {0x1D6DC, 0x1D6FA}, {0x1D6FC, 0x1D714}, {0x1D716, 0x1D734}, {0x1D736, 0x1D74E},
    {0x1D750, 0x1D76E}, {0x1D770, 0x1D788}, {0x1D78A, 0x1D7A8}, {0x1D7AA, 0x1D7C2},
    {0x1D7C4, 0x1D7CB}, {0x1DF00, 0x1DF1E}, {0x1E100, 0x1E12C}, {0x1E137, 0x1E13D},
    {0x1E14E, 0x1E14E}, {0x1E290, 0x1E2AD}, {0x1E2C0, 0x1E2EB}, {0x1E7E0, 0x1E7E6},
    {0x1E7E8, 0x1E7EB}, {0x1E7ED, 0x1E7EE}, {0x1E7F0, 0x1E7FE}, {0x1E800, 0x1E8C4},
    {0x1E900, 0x1E943}, {0x1E94B, 0x1E94B}, {0x1EE00, 0x1EE03}, {0x1EE05, 0x1EE1F},
    {0x1EE21, 0x1EE22}, {0x1EE24, 0x1EE24}, {0x1EE27, 0x1EE27}, {0x1EE29, 0x1EE32},
    {0x1EE34, 0x1EE37}, {0x1EE39, 0x1EE39}, {0x1EE3B, 0x1EE3B}, {0x1EE42, 0x1EE42},
    {0x1EE47, 0x1EE47}, {0x1EE49, 0x1EE49}, {0x1EE4B, 0x1EE4B}, {0x1EE4D, 0x1EE4F},
    {0x1EE51, 0x1EE52}, {0x1EE54, 0x1EE54}, {0x1EE57, 0x1EE57}, {0x1EE59, 0x1EE59},
    {0x1EE5B, 0x1EE5B}, {0x1EE5D, 0x1EE5D}, {0x1EE5F, 0x1EE5F}, {0x1EE61, 0x1EE62},
    {0x1EE64, 0x1EE64}, {0x1EE67, 0x1EE6A}, {0x1EE6C, 0x1EE72}, {0x1EE74, 0x1EE77},
    {0x1EE79, 0x1EE7C}, {0x1EE7E, 0x1EE7E}, {0x1EE80, 0x1EE89}, {0x1EE8B, 0x1EE9B},
    {0x1EEA1, 0x1EEA3}, {0x1EEA5, 0x1EEA9}, {0x1EEAB, 0x1EEBB}, {0x20000, 0x2A6DF},
    {0x2A700, 0x2B738}, {0x2B740, 0x2B81D}, {0x2B820, 0x2CEA1}, {0x2CEB0, 0x2EBE0},
    {0x2F800, 0x2FA1D}, {0x30000, 0x3134A},
};
// str.isdecimal: category Nd.
static const uint32_t decimal_ranges[][2] = {
    {0x660, 0x669}, {0x6F0, 0x6F9}, {0x7C0, 0x7C9}, {0x966, 0x96F}, {0x9E6, 0x9EF},
    {0xA66, 0xA6F}, {0xAE6, 0xAEF}, {0xB66, 0xB6F}, {0xBE6, 0xBEF}, {0xC66, 0xC6F},
    {0xCE6, 0xCEF}, {0xD66, 0xD6F}, {0xDE6, 0xDEF}, {0xE50, 0xE59}, {0xED0, 0xED9},
    {0xF20, 0xF29}, {0x1040, 0x1049}, {0x1090, 0x1099}, {0x17E0, 0x17E9},
    {0x1810, 0x1819}, {0x1946, 0x194F}, {0x19D0, 0x19D9}, {0x1A80, 0x1A89},
    {0x1A90, 0x1A99}, {0x1B50, 0x1B59}, {0x1BB0, 0x1BB9}, {0x1C40, 0x1C49},
    {0x1C50, 0x1C59}, {0xA620, 0xA629}, {0xA8D0, 0xA8D9}, {0xA900, 0xA909},
    {0xA9D0, 0xA9D9}, {0xA9F0, 0xA9F9}, {0xAA50, 0xAA59}, {0xABF0, 0xABF9},
    {0xFF10, 0xFF19}, {0x104A0, 0x104A9}, {0x10D30, 0x10D39}, {0x11066, 0x1106F},
    {0x110F0, 0x110F9}, {0x11136, 0x1113F}, {0x111D0, 0x111D9}, {0x112F0, 0x112F9},
    {0x11450, 0x11459}, {0x114D0, 0x114D9}, {0x11650, 0x11659}, {0x116C0, 0x116C9},
    {0x11730, 0x11739}, {0x118E0, 0x118E9}, {0x11950, 0x11959}, {0x11C50, 0x11C59},
    {0x11D50, 0x11D59}, {0x11DA0, 0x11DA9}, {0x16A60, 0x16A69}, {0x16AC0, 0x16AC9},
    {0x16B50, 0x16B59}, {0x1D7CE, 0x1D7FF}, {0x1E140, 0x1E149}, {0x1E2F0, 0x1E2F9},
    {0x1E950, 0x1E959}, {0x1FBF0, 0x1FBF9},
};
// str.isdigit: Numeric_Type Decimal or Digit (Nd, superscripts, circled digits...).
static const uint32_t digit_ranges[][2] = {
    {0xB2, 0xB3}, {0xB9, 0xB9}, {0x660, 0x669}, {0x6F0, 0x6F9}, {0x7C0, 0x7C9},
    {0x966, 0x96F}, {0x9E6, 0x9EF}, {0xA66, 0xA6F}, {0xAE6, 0xAEF}, {0xB66, 0xB6F},
    {0xBE6, 0xBEF}, {0xC66, 0xC6F}, {0xCE6, 0xCEF}, {0xD66, 0xD6F}, {0xDE6, 0xDEF},
    {0xE50, 0xE59}, {0xED0, 0xED9}, {0xF20, 0xF29}, {0x1040, 0x1049}, {0x1090, 0x1099},
    {0x1369, 0x1371}, {0x17E0, 0x17E9}, {0x1810, 0x1819}, {0x1946, 0x194F},
    {0x19D0, 0x19DA}, {0x1A80, 0x1A89}, {0x1A90, 0x1A99}, {0x1B50, 0x1B59},
    {0x1BB0, 0x1BB9}, {0x1C40, 0x1C49}, {0x1C50, 0x1C59}, {0x2070, 0x2070},
    {0x2074, 0x2079}, {0x2080, 0x2089}, {0x2460, 0x2468}, {0x2474, 0x247C},
    {0x2488, 0x2490}, {0x24EA, 0x24EA}, {0x24F5, 0x24FD}, {0x24FF, 0x24FF},
    {0x2776, 0x277E}, {0x2780, 0x2788}, {0x278A, 0x2792}, {0xA620, 0xA629},
    {0xA8D0, 0xA8D9}, {0xA900, 0xA909}, {0xA9D0, 0xA9D9}, {0xA9F0, 0xA9F9},
    {0xAA50, 0xAA59}, {0xABF0, 0xABF9}, {0xFF10, 0xFF19}, {0x104A0, 0x104A9},
    {0x10A40, 0x10A43}, {0x10D30, 0x10D39}, {0x10E60, 0x10E68}, {0x11052, 0x1105A},
    {0x11066, 0x1106F}, {0x110F0, 0x110F9}, {0x11136, 0x1113F}, {0x111D0, 0x111D9},
    {0x112F0, 0x112F9}, {0x11450, 0x11459}, {0x114D0, 0x114D9}, {0x11650, 0x11659},
    {0x116C0, 0x116C9}, {0x11730, 0x11739}, {0x118E0, 0x118E9}, {0x11950, 0x11959},
    {0x11C50, 0x11C59}, {0x11D50, 0x11D59}, {0x11DA0, 0x11DA9}, {0x16A60, 0x16A69},
    {0x16AC0, 0x16AC9}, {0x16B50, 0x16B59}, {0x1D7CE, 0x1D7FF}, {0x1E140, 0x1E149},
    {0x1E2F0, 0x1E2F9}, {0x1E950, 0x1E959}, {0x1F100, 0x1F10A}, {0x1FBF0, 0x1FBF9},
};
// str.isnumeric: any Numeric_Type (also fractions, Roman numerals, CJK numerals...).
static const uint32_t numeric_ranges[][2] = {
    {0xB2, 0xB3}, {0xB9, 0xB9}, {0xBC, 0xBE}, {0x660, 0x669}, {0x6F0, 0x6F9},
    {0x7C0, 0x7C9}, {0x966, 0x96F}, {0x9E6, 0x9EF}, {0x9F4, 0x9F9}, {0xA66, 0xA6F},
    {0xAE6, 0xAEF}, {0xB66, 0xB6F}, {0xB72, 0xB77}, {0xBE6, 0xBF2}, {0xC66, 0xC6F},
    {0xC78, 0xC7E}, {0xCE6, 0xCEF}, {0xD58, 0xD5E}, {0xD66, 0xD78}, {0xDE6, 0xDEF},
    {0xE50, 0xE59}, {0xED0, 0xED9}, {0xF20, 0xF33}, {0x1040, 0x1049}, {0x1090, 0x1099},
    {0x1369, 0x137C}, {0x16EE, 0x16F0}, {0x17E0, 0x17E9}, {0x17F0, 0x17F9},
    {0x1810, 0x1819}, {0x1946, 0x194F}, {0x19D0, 0x19DA}, {0x1A80, 0x1A89},
    {0x1A90, 0x1A99}, {0x1B50, 0x1B59}, {0x1BB0, 0x1BB9}, {0x1C40, 0x1C49},
    {0x1C50, 0x1C59}, {0x2070, 0x2070}, {0x2074, 0x2079}, {0x2080, 0x2089},
    {0x2150, 0x2182}, {0x2185, 0x2189}, {0x2460, 0x249B}, {0x24EA, 0x24FF},
    {0x2776, 0x2793}, {0x2CFD, 0x2CFD}, {0x3007, 0x3007}, {0x3021, 0x3029},
    {0x3038, 0x303A}, {0x3192, 0x3195}, {0x3220, 0x3229}, {0x3248, 0x324F},
    {0x3251, 0x325F}, {0x3280, 0x3289}, {0x32B1, 0x32BF}, {0x3405, 0x3405},
    {0x3483, 0x3483}, {0x382A, 0x382A}, {0x3B4D, 0x3B4D}, {0x4E00, 0x4E00},
    {0x4E03, 0x4E03}, {0x4E07, 0x4E07}, {0x4E09, 0x4E09}, {0x4E5D, 0x4E5D},
    {0x4E8C, 0x4E8C}, {0x4E94, 0x4E94}, {0x4E96, 0x4E96}, {0x4EBF, 0x4EC0},
    {0x4EDF, 0x4EDF}, {0x4EE8, 0x4EE8}, {0x4F0D, 0x4F0D}, {0x4F70, 0x4F70},
    {0x5104, 0x5104}, {0x5146, 0x5146}, {0x5169, 0x5169}, {0x516B, 0x516B},
    {0x516D, 0x516D}, {0x5341, 0x5341}, {0x5343, 0x5345}, {0x534C, 0x534C},
    {0x53C1, 0x53C4}, {0x56DB, 0x56DB}, {0x58F1, 0x58F1}, {0x58F9, 0x58F9},
    {0x5E7A, 0x5E7A}, {0x5EFE, 0x5EFF}, {0x5F0C, 0x5F0E}, {0x5F10, 0x5F10},
    {0x62FE, 0x62FE}, {0x634C, 0x634C}, {0x67D2, 0x67D2}, {0x6F06, 0x6F06},
    {0x7396, 0x7396}, {0x767E, 0x767E}, {0x8086, 0x8086}, {0x842C, 0x842C},
    {0x8CAE, 0x8CAE}, {0x8CB3, 0x8CB3}, {0x8D30, 0x8D30}, {0x9621, 0x9621},
    {0x9646, 0x9646}, {0x964C, 0x964C}, {0x9678, 0x9678}, {0x96F6, 0x96F6},
    {0xA620, 0xA629}, {0xA6E6, 0xA6EF}, {0xA830, 0xA835}, {0xA8D0, 0xA8D9},
    {0xA900, 0xA909}, {0xA9D0, 0xA9D9}, {0xA9F0, 0xA9F9}, {0xAA50, 0xAA59},
    {0xABF0, 0xABF9}, {0xF96B, 0xF96B}, {0xF973, 0xF973}, {0xF978, 0xF978},
    {0xF9B2, 0xF9B2}, {0xF9D1, 0xF9D1}, {0xF9D3, 0xF9D3}, {0xF9FD, 0xF9FD},
    {0xFF10, 0xFF19}, {0x10107, 0x10133}, {0x10140, 0x10178}, {0x1018A, 0x1018B},
    {0x102E1, 0x102FB}, {0x10320, 0x10323}, {0x10341, 0x10341}, {0x1034A, 0x1034A},
    {0x103D1, 0x103D5}, {0x104A0, 0x104A9}, {0x10858, 0x1085F}, {0x10879, 0x1087F},
    {0x108A7, 0x108AF}, {0x108FB, 0x108FF}, {0x10916, 0x1091B}, {0x109BC, 0x109BD},
    {0x109C0, 0x109CF}, {0x109D2, 0x109FF}, {0x10A40, 0x10A48}, {0x10A7D, 0x10A7E},
    {0x10A9D, 0x10A9F}, {0x10AEB, 0x10AEF}, {0x10B58, 0x10B5F}, {0x10B78, 0x10B7F},
    {0x10BA9, 0x10BAF}, {0x10CFA, 0x10CFF}, {0x10D30, 0x10D39}, {0x10E60, 0x10E7E},
    {0x10F1D, 0x10F26}, {0x10F51, 0x10F54}, {0x10FC5, 0x10FCB}, {0x11052, 0x1106F},
    {0x110F0, 0x110F9}, {0x11136, 0x1113F}, {0x111D0, 0x111D9}, {0x111E1, 0x111F4},
    {0x112F0, 0x112F9}, {0x11450, 0x11459}, {0x114D0, 0x114D9}, {0x11650, 0x11659},
    {0x116C0, 0x116C9}, {0x11730, 0x1173B}, {0x118E0, 0x118F2}, {0x11950, 0x11959},
    {0x11C50, 0x11C6C}, {0x11D50, 0x11D59}, {0x11DA0, 0x11DA9}, {0x11FC0, 0x11FD4},
    {0x12400, 0x1246E}, {0x16A60, 0x16A69}, {0x16AC0, 0x16AC9}, {0x16B50, 0x16B59},
    {0x16B5B, 0x16B61}, {0x16E80, 0x16E96}, {0x1D2E0, 0x1D2F3}, {0x1D360, 0x1D378},
    {0x1D7CE, 0x1D7FF}, {0x1E140, 0x1E149}, {0x1E2F0, 0x1E2F9}, {0x1E8C7, 0x1E8CF},
    {0x1E950, 0x1E959}, {0x1EC71, 0x1ECAB}, {0x1ECAD, 0x1ECAF}, {0x1ECB1, 0x1ECB4},
    {0x1ED01, 0x1ED2D}, {0x1ED2F, 0x1ED3D}, {0x1F100, 0x1F10C}, {0x1FBF0, 0x1FBF9},
    {0x20001, 0x20001}, {0x20064, 0x20064}, {0x200E2, 0x200E2}, {0x20121, 0x20121},
    {0x2092A, 0x2092A}, {0x20983, 0x20983}, {0x2098C, 0x2098C}, {0x2099C, 0x2099C},
    {0x20AEA, 0x20AEA}, {0x20AFD, 0x20AFD}, {0x20B19, 0x20B19}, {0x22390, 0x22390},
    {0x22998, 0x22998}, {0x23B1B, 0x23B1B}, {0x2626D, 0x2626D}, {0x2F890, 0x2F890},
};

static bool in_ranges(const uint32_t (*r)[2], size_t n, uint32_t c) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c < r[mid][0]) hi = mid;
        else if (c > r[mid][1]) lo = mid + 1;
        else return true;
    }
    return false;
}
#define IN_TABLE(t, c) in_ranges(t, sizeof t / sizeof t[0], c)

static bool cp_decimal(uint32_t c) {
    if (c < 128) return c >= '0' && c <= '9';
    return IN_TABLE(decimal_ranges, c);
}

static bool cp_digit(uint32_t c) {
    if (c < 128) return c >= '0' && c <= '9';
    return IN_TABLE(digit_ranges, c);
}

static bool cp_numeric(uint32_t c) {
    if (c < 128) return c >= '0' && c <= '9';
    return IN_TABLE(numeric_ranges, c);
}

static bool cp_alpha(uint32_t c) {
    if (c < 128) return (c | 32) >= 'a' && (c | 32) <= 'z';
    return IN_TABLE(alpha_ranges, c);
}

// Printable as repr keeps it: not a control, format, separator (but space),
// private-use or noncharacter code point.
static bool cp_printable(uint32_t c) {
    if (c < 0x20 || c == 0x7F) return false;
    if (c < 0x7F) return true;
    if (c <= 0xA0 || c == 0xAD) return false;
    if (c == 0x1680 || c == 0x180E || c == 0x061C) return false;
    if (c >= 0x2000 && c <= 0x200F) return false;
    if (c >= 0x2028 && c <= 0x202F) return false;
    if (c >= 0x205F && c <= 0x206F) return false;
    if (c == 0x3000 || c == 0xFEFF) return false;
    if (c >= 0xD800 && c <= 0xF8FF) return false;
    if (c >= 0xFFF9 && c <= 0xFFFB) return false;
    if (c == 0xFFFE || c == 0xFFFF) return false;
    if (c >= 0xE0000) return false;
    return true;
}

// ---- sequence operations -----------------------------------------------------

ObjString *str_concat(VM *vm, ObjString *a, ObjString *b) {
    if (a->length == 0) return b;
    if (b->length == 0) return a;
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
        *out = OBJ_VAL(from_buf(vm, &buf));
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
    *out = OBJ_VAL(from_buf(vm, &buf));
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
    size_t body = strlen(sign) + strlen(prefix) + strlen(digits);
    size_t width = ps->width > 0 ? (size_t)ps->width : 0;
    if (ps->zero && !ps->left && body < width) {
        strbuf_append_cstr(buf, sign);
        strbuf_append_cstr(buf, prefix);
        strbuf_append_repeat(buf, '0', width - body);
        strbuf_append_cstr(buf, digits);
        return;
    }
    StrBuf tmp;
    strbuf_init(&tmp);
    strbuf_append_cstr(&tmp, sign);
    strbuf_append_cstr(&tmp, prefix);
    strbuf_append_cstr(&tmp, digits);
    pad_out(buf, ps, tmp.chars, tmp.length, tmp.length);
    strbuf_free(&tmp);
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
    char padded[160];
    size_t dl = strlen(digits);
    if (ps->precision > (int64_t)dl && ps->precision < 100) {
        size_t z = (size_t)ps->precision - dl;
        memset(padded, '0', z);
        memcpy(padded + z, digits, dl + 1);
    } else {
        memcpy(padded, digits, dl + 1);
    }
    const char *sign = n < 0 ? "-" : ps->plus ? "+" : ps->space ? " " : "";
    const char *prefix = "";
    if (ps->alt) prefix = type == 'x' ? "0x" : type == 'X' ? "0X" : type == 'o' ? "0o" : "";
    emit_number(buf, ps, sign, prefix, padded);
    return true;
}

static bool percent_float(VM *vm, StrBuf *buf, const PercentSpec *ps, char type, Value v) {
    double d;
    if (IS_FLOAT(v)) d = AS_FLOAT(v);
    else if (IS_INTLIKE(v)) d = (double)AS_INTLIKE(v);
    else
        return vm_raise(vm, CLS_TYPE_ERROR, "must be real number, not %s",
                        value_type_name(vm, v));
    int prec = ps->precision < 0 ? 6 : ps->precision > 200 ? 200 : (int)ps->precision;
    bool neg = signbit(d) != 0;
    double mag = neg ? -d : d;
    char digits[640];
    bool upper = type == 'E' || type == 'F' || type == 'G';
    if (isnan(mag)) {
        strcpy(digits, upper ? "NAN" : "nan");
        neg = false;
    } else if (isinf(mag)) {
        strcpy(digits, upper ? "INF" : "inf");
    } else {
        char cfmt[8];
        snprintf(cfmt, sizeof cfmt, "%%%s.*%c", ps->alt ? "#" : "", type);
        snprintf(digits, sizeof digits, cfmt, prec, mag);
    }
    bool finite = isfinite(mag);
    const char *sign = neg ? "-" : ps->plus ? "+" : ps->space ? " " : "";
    PercentSpec p = *ps;
    if (!finite) p.zero = false;
    emit_number(buf, &p, sign, "", digits);
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
        // width
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
                    ps.width = -ps.width;
                }
            }
        } else {
            while (i < len && s[i] >= '0' && s[i] <= '9') {
                ps.width = (ps.width < 0 ? 0 : ps.width) * 10 + (s[i] - '0');
                if (ps.width > 100000000) ps.width = 100000000;
                i++;
            }
        }
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
                    if (ps.precision < 0) ps.precision = 0;
                }
            } else {
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                    ps.precision = ps.precision * 10 + (s[i] - '0');
                    if (ps.precision > 100000000) ps.precision = 100000000;
                    i++;
                }
            }
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
    *out = OBJ_VAL(from_buf(vm, &buf));
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
    if (total >= UINT32_MAX) return vm_raise(vm, CLS_MEMORY_ERROR, "%s", "");
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
    StrBuf buf;
    strbuf_init(&buf);
    size_t i = 0;
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
        *out = OBJ_VAL(from_buf(vm, &buf));
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
    *out = OBJ_VAL(from_buf(vm, &buf));
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
    *out = OBJ_VAL(from_buf(vm, &buf));
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
    *out = OBJ_VAL(from_buf(vm, &buf));
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
    ObjString *s = AS_STR(args[0]);
    StrBuf buf;
    strbuf_init(&buf);
    int64_t col = 0;
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
    *out = OBJ_VAL(from_buf(vm, &buf));
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

// Lowercase capital sigma at [at, end) is final sigma: a cased letter before
// it and none after it (CPython's handle_capital_sigma, without skipping
// case-ignorable characters).
static bool final_sigma(const ObjString *s, size_t at, size_t end) {
    if (at == 0) return false;
    int w;
    if (!cp_cased(utf8_decode(s->chars + prev_start(s->chars, at), &w))) return false;
    return end >= s->length || !cp_cased(utf8_decode(s->chars + end, &w));
}

// mode: 'u' upper, 'l' lower, 's' swapcase, 't' title, 'c' capitalize
static ObjString *map_case(VM *vm, ObjString *s, char mode) {
    StrBuf buf;
    strbuf_init(&buf);
    bool prev_cased = false;
    bool first = true;
    for (size_t i = 0; i < s->length;) {
        int w;
        uint32_t c = utf8_decode(s->chars + i, &w);
        i += (size_t)w;
        bool up;
        switch (mode) {
        case 'u': up = true; break;
        case 'l': up = false; break;
        case 's': up = cp_is_lower(c); break;
        case 't': up = !prev_cased; break;
        default: up = first; break;
        }
        if (mode == 't') prev_cased = cp_cased(c);
        first = false;
        if (mode == 's' && !cp_cased(c)) {
            strbuf_append_codepoint(&buf, c);
            continue;
        }
        if (up) {
            if (c == 0xDF) strbuf_append(&buf, mode == 't' || mode == 'c' ? "Ss" : "SS", 2);
            else strbuf_append_codepoint(&buf, cp_upper(c));
        } else if (c == 0x3A3) {
            strbuf_append_codepoint(&buf, final_sigma(s, i - (size_t)w, i) ? 0x3C2 : 0x3C3);
        } else {
            strbuf_append_codepoint(&buf, cp_lower(c));
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
    *out = OBJ_VAL(is_ascii(s) ? ascii_case(vm, s, true) : map_case(vm, s, 'u'));
    return true;
}

static bool str_lower(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "lower", argc)) return false;
    ObjString *s = AS_STR(args[0]);
    *out = OBJ_VAL(is_ascii(s) ? ascii_case(vm, s, false) : map_case(vm, s, 'l'));
    return true;
}

static bool str_casefold(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "casefold", argc)) return false;
    ObjString *s = AS_STR(args[0]);
    *out = OBJ_VAL(is_ascii(s) ? ascii_case(vm, s, false) : map_case(vm, s, 'l'));
    return true;
}

static bool str_swapcase(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "swapcase", argc)) return false;
    *out = OBJ_VAL(map_case(vm, AS_STR(args[0]), 's'));
    return true;
}

static bool str_title(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "title", argc)) return false;
    *out = OBJ_VAL(map_case(vm, AS_STR(args[0]), 't'));
    return true;
}

static bool str_capitalize(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "capitalize", argc)) return false;
    *out = OBJ_VAL(map_case(vm, AS_STR(args[0]), 'c'));
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

// isupper / islower: at least one cased character, none of the other case.
static bool case_check(ObjString *s, bool upper) {
    bool cased = false;
    for (size_t i = 0; i < s->length;) {
        int w;
        uint32_t c = utf8_decode(s->chars + i, &w);
        i += (size_t)w;
        if (upper ? cp_is_lower(c) : cp_is_upper(c)) return false;
        if (upper ? cp_is_upper(c) : cp_is_lower(c)) cased = true;
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

static bool str_istitle(VM *vm, Value *args, int argc, ObjTuple *kw, Value *out) {
    if (!no_args(vm, "istitle", argc)) return false;
    ObjString *s = AS_STR(args[0]);
    bool cased = false, prev_cased = false;
    for (size_t i = 0; i < s->length;) {
        int w;
        uint32_t c = utf8_decode(s->chars + i, &w);
        i += (size_t)w;
        if (cp_is_upper(c)) {
            if (prev_cased) {
                *out = FALSE_VAL;
                return true;
            }
            prev_cased = cased = true;
        } else if (cp_is_lower(c)) {
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
        ok = c == '_' || cp_alpha(c) || (!first && cp_decimal(c));
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
