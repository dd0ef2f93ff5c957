// runtime/unicode.c - Unicode character classes and case mappings: binary
// searches over the generated runs in runtime/unicode_tables.h.
// ASCII never reaches the tables' searches on the hot paths of str.c.
#include "runtime/unicode.h"

#include <stddef.h>

typedef struct {
    uint32_t start;
    uint16_t flags;
} UnicodeRun;

typedef struct {
    uint32_t first, last;
    uint8_t stride; // 0 for a single code point, else 1 or 2
    int32_t delta;
} CaseRun;

typedef struct {
    uint32_t c;
    uint32_t to[3]; // unused slots 0
} CaseSpecial;

#include "runtime/unicode_tables.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

// The run holding c: the last one whose start is <= c (the first starts at 0).
static size_t run_of(uint32_t c) {
    size_t lo = 0, hi = COUNT(unicode_runs);
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (unicode_runs[mid].start <= c) lo = mid;
        else hi = mid;
    }
    return lo;
}

static unsigned flags_of(uint32_t c) { return c > 0x10FFFF ? 0 : unicode_runs[run_of(c)].flags; }

// Decimal digits come in blocks of ten, 0 to 9; a run of them is whole
// blocks, so the value is the offset in the run modulo 10.
int unicode_decimal_value(uint32_t c) {
    if (c > 0x10FFFF) return -1;
    const UnicodeRun *r = &unicode_runs[run_of(c)];
    if (!(r->flags & UFLAG_DECIMAL)) return -1;
    return (int)((c - r->start) % 10);
}

bool unicode_isalpha(uint32_t c) { return flags_of(c) & UFLAG_ALPHA; }
bool unicode_isdecimal(uint32_t c) { return flags_of(c) & UFLAG_DECIMAL; }
bool unicode_isdigit(uint32_t c) { return flags_of(c) & UFLAG_DIGIT; }
bool unicode_isnumeric(uint32_t c) { return flags_of(c) & UFLAG_NUMERIC; }
bool unicode_isprintable(uint32_t c) { return flags_of(c) & UFLAG_PRINTABLE; }
bool unicode_isspace(uint32_t c) { return flags_of(c) & UFLAG_SPACE; }
static bool ascii_lower(uint32_t c) { return c >= 'a' && c <= 'z'; }
static bool ascii_upper(uint32_t c) { return c >= 'A' && c <= 'Z'; }

bool unicode_islower(uint32_t c) { return c < 128 ? ascii_lower(c) : flags_of(c) & UFLAG_LOWER; }
bool unicode_isupper(uint32_t c) { return c < 128 ? ascii_upper(c) : flags_of(c) & UFLAG_UPPER; }
bool unicode_istitle(uint32_t c) { return c >= 128 && flags_of(c) & UFLAG_TITLE; }
bool unicode_iscased(uint32_t c) {
    return c < 128 ? ascii_lower(c) || ascii_upper(c) : flags_of(c) & UFLAG_CASED;
}
bool unicode_iscase_ignorable(uint32_t c) { return flags_of(c) & UFLAG_CASE_IGNORABLE; }
bool unicode_isid_start(uint32_t c) { return flags_of(c) & UFLAG_ID_START; }
bool unicode_isid_continue(uint32_t c) { return flags_of(c) & UFLAG_ID_CONTINUE; }

static int map(uint32_t c, const CaseRun *runs, size_t nruns, const CaseSpecial *specials,
               size_t nspecials, uint32_t out[3]) {
    size_t lo = 0, hi = nspecials;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (specials[mid].c < c) lo = mid + 1;
        else hi = mid;
    }
    if (lo < nspecials && specials[lo].c == c) {
        int n = 0;
        while (n < 3 && specials[lo].to[n]) {
            out[n] = specials[lo].to[n];
            n++;
        }
        return n;
    }
    lo = 0;
    hi = nruns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (runs[mid].last < c) lo = mid + 1;
        else hi = mid;
    }
    out[0] = c;
    if (lo < nruns && runs[lo].first <= c) {
        const CaseRun *r = &runs[lo];
        if (r->stride <= 1 || (c - r->first) % r->stride == 0)
            out[0] = (uint32_t)((int64_t)c + r->delta);
    }
    return 1;
}

// up: the ASCII letters' mapping goes to upper case (else lower).
#define MAPPER(name, up)                                                                 \
    int unicode_##name(uint32_t c, uint32_t out[3]) {                                    \
        if (c < 128) {                                                                   \
            out[0] = (up) ? (ascii_lower(c) ? c - 32 : c) : (ascii_upper(c) ? c + 32 : c); \
            return 1;                                                                    \
        }                                                                                \
        return map(c, name##_runs, COUNT(name##_runs), name##_specials,                  \
                   COUNT(name##_specials), out);                                         \
    }
MAPPER(upper, true)
MAPPER(lower, false)
MAPPER(title, true)
MAPPER(fold, false)
#undef MAPPER
