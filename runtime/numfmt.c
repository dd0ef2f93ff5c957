// runtime/numfmt.c - numbers to text and back, as CPython 3.11 writes and reads them.
// Digits come from glibc's exact printf/strtod, so LC_NUMERIC must stay "C".
#include "runtime/numfmt.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------
// Characters

// First code point of each run of ten Unicode decimal digits (category Nd),
// from Python 3.11's unicodedata: int(), float() and spec widths accept them.
static const unsigned DECIMAL_RUNS[] = {
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66,
    0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810,
    0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
    0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30,
    0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60,
    0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140,
    0x1E2F0, 0x1E950, 0x1FBF0,
};

static int decimal_value(unsigned cp) {
    for (size_t i = 0; i < sizeof DECIMAL_RUNS / sizeof DECIMAL_RUNS[0]; i++) {
        if (cp < DECIMAL_RUNS[i]) return -1;
        if (cp < DECIMAL_RUNS[i] + 10) return (int)(cp - DECIMAL_RUNS[i]);
    }
    return -1;
}

// str.isspace() for code points at or above 127 (the ASCII ones are listed
// where used: CPython treats them differently).
static bool wide_space(unsigned cp) {
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Py_ISSPACE: the only whitespace int() and float() strip after mapping.
static bool ascii_space(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

// The code point at [s][*at], advancing *at; -1 (one byte consumed) when the
// bytes there are not UTF-8. Surrogates pass: the runtime may hold them.
static long utf8_next(const char *s, size_t length, size_t *at) {
    const unsigned char *u = (const unsigned char *)s;
    size_t p = *at;
    unsigned c = u[p];
    *at = p + 1;
    if (c < 0x80) return (long)c;
    size_t more;
    unsigned cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        more = 1; cp = c & 0x1F; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        more = 2; cp = c & 0x0F; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        more = 3; cp = c & 0x07; min = 0x10000;
    } else {
        return -1;
    }
    if (length - p <= more) return -1;
    for (size_t k = 1; k <= more; k++) {
        if ((u[p + k] & 0xC0) != 0x80) return -1;
        cp = cp << 6 | (u[p + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF) return -1;
    *at = p + 1 + more;
    return (long)cp;
}

// A spec character: malformed bytes read as themselves.
static unsigned spec_char(const char *s, size_t length, size_t at, size_t *next) {
    *next = at;
    long cp = utf8_next(s, length, next);
    return cp < 0 ? (unsigned char)s[at] : (unsigned)cp;
}

// _PyUnicode_TransformDecimalAndSpaceToASCII, the first step of int() and
// float(): non-ASCII spaces become ' ', decimal digits '0'..'9'. Anything else
// non-ASCII can never parse, so it yields NULL; so does malformed UTF-8.
static char *to_ascii(const char *text, size_t length, size_t *outlen) {
    char *buf = malloc(length + 1);
    if (!buf) {
        fputs("asyncrun: out of memory\n", stderr);
        abort();
    }
    size_t n = 0;
    for (size_t i = 0; i < length;) {
        long cp = utf8_next(text, length, &i);
        int digit;
        if (cp >= 0 && cp < 127) {
            buf[n++] = (char)cp;
        } else if (cp >= 0 && wide_space((unsigned)cp)) {
            buf[n++] = ' ';
        } else if (cp >= 0 && (digit = decimal_value((unsigned)cp)) >= 0) {
            buf[n++] = (char)('0' + digit);
        } else {
            free(buf);
            return NULL;
        }
    }
    buf[n] = '\0';
    *outlen = n;
    return buf;
}

static bool fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(err, errlen, fmt, args);
        va_end(args);
    }
    return false;
}

// ---------------------------------------------------------------------------
// Digits: _Py_dg_dtoa's contract, from glibc's correctly rounded printf. The
// layouts below follow CPython's pystrtod.c and formatter_unicode.c closely.

// Whether an [n]-digit decimal reads back as [a] (> 0): the nearest one, or
// else its neighbour on the far side, which can still hit just above a power
// of two where the gap below is half the gap above. Stores digits and decpt.
static bool shortest_probe(double a, int n, char digits[24], int *decpt) {
    char s[40];
    snprintf(s, sizeof s, "%.*e", n - 1, a);
    char *e = strchr(s, 'e');
    int exp10 = atoi(e + 1);
    unsigned long long m = 0;
    for (char *c = s; c < e; c++)
        if (*c != '.') m = m * 10 + (unsigned long long)(*c - '0');
    double back = strtod(s, NULL);
    if (back != a) {
        m = back < a ? m + 1 : m - 1;
        char other[48];
        snprintf(other, sizeof other, "%llue%d", m, exp10 - n + 1);
        if (m == 0 || strtod(other, NULL) != a) return false;
    }
    int len = snprintf(digits, 24, "%llu", m);
    *decpt = len + exp10 - n + 1;
    return true;
}

// The digits "%.*f" would print for a (finite, >= 0), without the point or
// leading zeros, for modest values only: a = m * 2**e exactly, so
// round(a * 10**nd) can be done in 128-bit integers, ties to even (on the
// exact binary value, as printf and CPython round). false: use printf.
static bool fixed_digits_fast(double a, int nd, StrBuf *digits, int *decpt) {
    static const uint64_t pow10[18] = {
        1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
        100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
        10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
        100000000000000000ULL};
    if (!(a < 1e17) || nd < 0 || nd > 17) return false;
    int e;
    double fraction = frexp(a, &e); // a = fraction * 2**e, fraction in [0.5, 1)
    uint64_t m = (uint64_t)ldexp(fraction, 53);
    e -= 53;
    unsigned __int128 p = (unsigned __int128)m * pow10[nd], q;
    if (e >= 0) {
        q = p << e; // a < 1e17 keeps this below 2**115
    } else if (-e >= 128) {
        q = 0; // p < 2**110 is below half of 2**-e
    } else {
        int s = -e;
        q = p >> s;
        unsigned __int128 rem = p - (q << s), half = (unsigned __int128)1 << (s - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
    }
    char buf[40];
    int n = 0;
    while (q) {
        buf[n++] = (char)('0' + (int)(q % 10));
        q /= 10;
    }
    for (int i = n - 1; i >= 0; i--) strbuf_append_char(digits, buf[i]);
    *decpt = n ? n - nd : -nd;
    return true;
}

// [value] (finite) as digits with no trailing zeros ("0" for zero) and decpt,
// value = 0.DIGITS * 10**decpt. Mode 0: shortest string that round-trips;
// 2: [ndigits] significant digits; 3: [ndigits] past the point, which may
// leave no digits at all (decpt is then -ndigits). Ties round half-even.
static void float_digits(double value, int mode, int ndigits, StrBuf *digits,
                         int *decpt) {
    double a = fabs(value);
    if (a == 0) {
        strbuf_append_char(digits, '0');
        *decpt = 1;
        return;
    }
    // A double's exact decimal expansion has at most 767 significant digits,
    // none further than 1074 places past the point: asking for more only
    // adds zeros, which are stripped below anyway (and a huge request would
    // make printf allocate, and fail, for nothing).
    if (mode == 3 && ndigits > 1100) ndigits = 1100;
    if (mode == 2 && ndigits > 800) ndigits = 800;
    if (mode == 3 && fixed_digits_fast(a, ndigits, digits, decpt)) {
        // done exactly without printf
    } else if (mode == 3) {
        int n = snprintf(NULL, 0, "%.*f", ndigits, a);
        char *s = malloc((size_t)n + 1);
        if (!s) abort();
        snprintf(s, (size_t)n + 1, "%.*f", ndigits, a);
        int point = n;
        for (int i = 0; i < n; i++) {
            if (s[i] == '.') point = i;
            else strbuf_append_char(digits, s[i]);
        }
        free(s);
        size_t lead = 0;
        while (lead < digits->length && digits->chars[lead] == '0') lead++;
        memmove(digits->chars, digits->chars + lead, digits->length - lead + 1);
        digits->length -= lead;
        *decpt = point - (int)lead;
        if (digits->length == 0) *decpt = -ndigits; // rounded away to nothing
    } else if (mode == 2) {
        if (ndigits < 1) ndigits = 1;
        int n = snprintf(NULL, 0, "%.*e", ndigits - 1, a);
        char *s = malloc((size_t)n + 1);
        if (!s) abort();
        snprintf(s, (size_t)n + 1, "%.*e", ndigits - 1, a);
        char *e = strchr(s, 'e');
        for (char *c = s; c < e; c++)
            if (*c != '.') strbuf_append_char(digits, *c);
        *decpt = atoi(e + 1) + 1;
        free(s);
    } else {
        // Some n-digit decimal rounds back to a, for n from the answer up to
        // 17: binary search for the least n.
        char best[24], found[24];
        int best_decpt = 0, lo = 1, hi = 17;
        while (lo < hi) {
            int mid = (lo + hi) / 2, found_decpt;
            if (shortest_probe(a, mid, found, &found_decpt)) {
                memcpy(best, found, sizeof best);
                best_decpt = found_decpt;
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        if (hi == 17) shortest_probe(a, 17, best, &best_decpt); // always hits
        strbuf_append_cstr(digits, best);
        *decpt = best_decpt;
    }
    while (digits->length > 0 && digits->chars[digits->length - 1] == '0')
        digits->chars[--digits->length] = '\0';
}

static void append_zeros(StrBuf *out, long long count) {
    if (count > 0) strbuf_append_repeat(out, '0', (size_t)count);
}

// pystrtod.c format_float_short: [code] 'e' 'f' 'g' or 'r' (repr), with
// precision already adjusted by the caller as PyOS_double_to_string does.
static void format_float_short(double value, char code, int mode,
                               long long precision, bool add_dot_0, bool alt,
                               bool no_neg_0, bool upper, StrBuf *out) {
    if (isnan(value)) {
        strbuf_append_cstr(out, upper ? "NAN" : "nan");
        return;
    }
    if (isinf(value)) {
        if (value < 0) strbuf_append_char(out, '-');
        strbuf_append_cstr(out, upper ? "INF" : "inf");
        return;
    }
    StrBuf digits;
    strbuf_init(&digits);
    int decpt_int = 1;
    float_digits(value, mode, (int)precision, &digits, &decpt_int);
    long long n = (long long)digits.length, decpt = decpt_int;
    bool sign = signbit(value) != 0;
    if (no_neg_0 && sign && (n == 0 || (n == 1 && digits.chars[0] == '0')))
        sign = false;

    long long vend = n, vstart;
    int exp = 0;
    bool use_exp = false;
    switch (code) {
    case 'e':
        use_exp = true;
        vend = precision;
        break;
    case 'f':
        vend = decpt + precision;
        break;
    case 'g':
        if (decpt <= -4 || decpt > (add_dot_0 ? precision - 1 : precision))
            use_exp = true;
        if (alt) vend = precision;
        break;
    default: // 'r': exponent from 1e16 on
        if (decpt <= -4 || decpt > 16) use_exp = true;
        break;
    }
    if (use_exp) {
        exp = (int)decpt - 1;
        decpt = 1;
    }
    vstart = decpt <= 0 ? decpt - 1 : 0;
    if (!use_exp && add_dot_0)
        vend = vend > decpt ? vend : decpt + 1;
    else
        vend = vend > decpt ? vend : decpt;

    if (sign) strbuf_append_char(out, '-');
    if (decpt <= 0) {
        append_zeros(out, decpt - vstart);
        strbuf_append_char(out, '.');
        append_zeros(out, -decpt);
    } else {
        append_zeros(out, -vstart);
    }
    if (0 < decpt && decpt <= n) {
        strbuf_append(out, digits.chars, (size_t)decpt);
        strbuf_append_char(out, '.');
        strbuf_append(out, digits.chars + decpt, (size_t)(n - decpt));
    } else {
        strbuf_append(out, digits.chars, (size_t)n);
    }
    if (n < decpt) {
        append_zeros(out, decpt - n);
        strbuf_append_char(out, '.');
        append_zeros(out, vend - decpt);
    } else {
        append_zeros(out, vend - n);
    }
    if (out->chars[out->length - 1] == '.' && !alt)
        out->chars[--out->length] = '\0';
    if (use_exp) strbuf_printf(out, "%c%+.02d", upper ? 'E' : 'e', exp);
    strbuf_free(&digits);
}

// PyOS_double_to_string without the sign flag: [type] e E f F g G or r.
static void double_to_string(double value, char type, int precision,
                             bool add_dot_0, bool alt, bool no_neg_0,
                             StrBuf *out) {
    bool upper = type == 'E' || type == 'F' || type == 'G';
    char code = upper ? (char)(type - 'A' + 'a') : type;
    long long prec = precision;
    int mode;
    switch (code) {
    case 'e': mode = 2; prec++; break;
    case 'f': mode = 3; break;
    case 'g': mode = 2; if (prec == 0) prec = 1; break;
    default: mode = 0; break;
    }
    format_float_short(value, code, mode, prec, add_dot_0, alt, no_neg_0,
                       upper, out);
}

void numfmt_float_repr(double value, StrBuf *out) {
    double_to_string(value, 'r', 0, true, false, false, out);
}

// ---------------------------------------------------------------------------
// Format specs

static bool is_align(unsigned c) {
    return c == '<' || c == '>' || c == '^' || c == '=';
}

// CPython's get_integer: a run of decimal digits (any script). Returns -1 on
// Py_ssize_t overflow, else whether there were digits; stores min(n, INT_MAX).
static int get_integer(const char *s, size_t length, size_t *pos, int *result,
                       char *err, size_t errlen) {
    long long acc = 0;
    int any = 0;
    size_t p = *pos, next;
    while (p < length) {
        int digit = decimal_value(spec_char(s, length, p, &next));
        if (digit < 0) break;
        if (acc > (LLONG_MAX - digit) / 10) {
            fail(err, errlen, "Too many decimal digits in format string");
            return -1;
        }
        acc = acc * 10 + digit;
        any = 1;
        p = next;
    }
    *pos = p;
    *result = acc > INT_MAX ? INT_MAX : (int)acc;
    return any;
}

// The type as CPython prints it in messages.
static unsigned spec_code(const FormatSpec *spec) {
    return spec->type == '?' ? spec->type_code : (unsigned char)spec->type;
}

static bool bad_grouping(char grouping, unsigned code, char *err, size_t errlen) {
    if (code > 32 && code < 128)
        return fail(err, errlen, "Cannot specify '%c' with '%c'.", grouping, (char)code);
    return fail(err, errlen, "Cannot specify '%c' with '\\x%x'.", grouping, code);
}

bool numfmt_parse_spec(const char *spec, size_t length, FormatSpec *out,
                       char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->fill[0] = ' ';
    out->width = -1;
    out->precision = -1;
    size_t p = 0, next, after;
    bool fill_given = false;
    if (length > 0) {
        unsigned first = spec_char(spec, length, 0, &next);
        if (next < length && is_align(spec_char(spec, length, next, &after))) {
            memcpy(out->fill, spec, next);
            out->fill[next] = '\0';
            out->align = spec[next];
            p = after;
            fill_given = true;
        } else if (is_align(first)) {
            out->align = (char)first;
            p = next;
        }
    }
    if (p < length && (spec[p] == '+' || spec[p] == '-' || spec[p] == ' '))
        out->sign = spec[p++];
    if (p < length && spec[p] == 'z') {
        out->no_neg_zero = true;
        p++;
    }
    if (p < length && spec[p] == '#') {
        out->alternate = true;
        p++;
    }
    if (!fill_given && p < length && spec[p] == '0') {
        out->zero = true;
        strcpy(out->fill, "0");
        p++;
    }
    int got = get_integer(spec, length, &p, &out->width, err, errlen);
    if (got < 0) return false;
    if (!got) out->width = -1;
    if (p < length && spec[p] == ',') {
        out->grouping = ',';
        p++;
    }
    if (p < length && spec[p] == '_') {
        if (out->grouping)
            return fail(err, errlen, "Cannot specify both ',' and '_'.");
        out->grouping = '_';
        p++;
    }
    if (p < length && spec[p] == ',' && out->grouping == '_')
        return fail(err, errlen, "Cannot specify both ',' and '_'.");
    if (p < length && spec[p] == '.') {
        p++;
        got = get_integer(spec, length, &p, &out->precision, err, errlen);
        if (got < 0) return false;
        if (!got) return fail(err, errlen, "Format specifier missing precision");
    }
    if (p < length) {
        unsigned code = spec_char(spec, length, p, &next);
        if (next < length) {
            out->invalid = spec;
            out->invalid_length = length;
            return true;
        }
        // An explicit NUL type is CPython's "no type" for floats only.
        out->type = code > 0 && code < 128 ? (char)code : '?';
        out->type_code = code;
        if (out->grouping && code != 0) {
            switch (code) {
            case 'd': case 'e': case 'f': case 'g': case 'E': case 'G':
            case '%': case 'F':
                break;
            case 'b': case 'o': case 'x': case 'X':
                if (out->grouping == '_') break;
                return bad_grouping(out->grouping, code, err, errlen);
            default:
                return bad_grouping(out->grouping, code, err, errlen);
            }
        }
    }
    return true;
}

// Errors every formatter checks first, in CPython's order.
static bool invalid_spec(const FormatSpec *spec, const char *type_name,
                         char *err, size_t errlen) {
    return fail(err, errlen,
                "Invalid format specifier '%.*s' for object of type '%.200s'",
                (int)spec->invalid_length, spec->invalid, type_name);
}

static bool unknown_code(const FormatSpec *spec, const char *type_name,
                         char *err, size_t errlen) {
    unsigned code = spec_code(spec);
    if (code > 32 && code < 128)
        return fail(err, errlen, "Unknown format code '%c' for object of type '%.200s'",
                    (char)code, type_name);
    return fail(err, errlen, "Unknown format code '\\x%x' for object of type '%.200s'",
                code, type_name);
}

static void append_fill(StrBuf *out, const FormatSpec *spec, long long count) {
    const char *fill = spec->fill[0] ? spec->fill : " ";
    size_t n = strlen(fill);
    if (n == 1) {
        if (count > 0) strbuf_append_repeat(out, fill[0], (size_t)count);
        return;
    }
    for (long long i = 0; i < count; i++) strbuf_append(out, fill, n);
}

// _PyUnicode_InsertThousandsGrouping: [digits] in groups of [group] from the
// right (0 = no groups) joined by [sep], zero-padded on the left to at least
// [min_width] characters. Writes backwards from [end] unless it is NULL;
// returns the length either way.
static long long group_digits(char *end, const char *digits, long long n_digits,
                              long long min_width, int group, char sep) {
    long long remaining = n_digits, count = 0;
    const char *src = digits + n_digits;
    bool use_sep = false;
    if (min_width < 0) min_width = 0;
    for (;;) {
        long long len = remaining > min_width ? remaining : min_width;
        if (len < 1) len = 1;
        if (group > 0 && len > group) len = group;
        long long zeros = len > remaining ? len - remaining : 0;
        long long chars = remaining < len ? remaining : len;
        count += (use_sep ? 1 : 0) + zeros + chars;
        if (end) {
            if (use_sep) *--end = sep;
            end -= chars;
            src -= chars;
            memcpy(end, src, (size_t)chars);
            end -= zeros;
            memset(end, '0', (size_t)zeros);
        }
        if (group == 0) break;
        use_sep = true;
        remaining -= chars;
        min_width -= len;
        if (remaining <= 0 && min_width <= 0) break;
        min_width -= 1;
    }
    return count;
}

// A number laid out as [sign][prefix][grouped digits][.][rest].
typedef struct {
    bool negative;
    const char *prefix;  // "0x" ... or ""
    const char *digits;  // ASCII digits before any point
    long long n_digits;
    bool has_decimal;
    const char *rest;    // after the point: fraction, exponent, '%', the 'c' char
    long long rest_bytes;
    long long rest_chars;
    int group;           // digits per group, 0 for none
} Number;

// calc_number_widths + fill_number.
static void emit_number(const Number *num, const FormatSpec *spec, StrBuf *out) {
    char align = spec->align ? spec->align : (spec->zero ? '=' : '>');
    char sign = 0;
    if (spec->sign == '+') sign = num->negative ? '-' : '+';
    else if (spec->sign == ' ') sign = num->negative ? '-' : ' ';
    else if (num->negative) sign = '-';
    long long n_prefix = (long long)strlen(num->prefix);
    long long fixed = (sign ? 1 : 0) + n_prefix + (num->has_decimal ? 1 : 0) +
                      num->rest_chars;
    long long width = spec->width;
    long long min_width =
        strcmp(spec->fill, "0") == 0 && align == '=' ? width - fixed : 0;
    char sep = num->group ? spec->grouping : 0;
    long long grouped = num->n_digits ? group_digits(NULL, num->digits, num->n_digits,
                                                     min_width, num->group, sep)
                                      : 0;
    long long padding = width - (fixed + grouped), left = 0, mid = 0, right = 0;
    if (padding > 0) {
        switch (align) {
        case '<': right = padding; break;
        case '^': left = padding / 2; right = padding - left; break;
        case '=': mid = padding; break;
        default: left = padding; break;
        }
    }
    append_fill(out, spec, left);
    if (sign) strbuf_append_char(out, sign);
    strbuf_append(out, num->prefix, (size_t)n_prefix);
    append_fill(out, spec, mid);
    if (num->n_digits) {
        strbuf_append_repeat(out, '0', (size_t)grouped);
        group_digits(out->chars + out->length, num->digits, num->n_digits,
                     min_width, num->group, sep);
    }
    if (num->has_decimal) strbuf_append_char(out, '.');
    strbuf_append(out, num->rest, (size_t)num->rest_bytes);
    append_fill(out, spec, right);
}

// Room in [out] for all the spec can ask for ([extra] bytes past the
// padding: precision zeros, the text itself), so that a huge width or
// precision gives a MemoryError (numfmt.h: err left empty) rather than an
// abort in the middle.
static bool reserve_output(StrBuf *out, const FormatSpec *spec, size_t extra,
                           char *err, size_t errlen) {
    size_t fill = strlen(spec->fill);
    size_t width = spec->width > 0 ? (size_t)spec->width : 0;
    if (spec->width == INT_MAX) { // parse's cap: the width asked for may be far more
        if (err && errlen) err[0] = '\0';
        return false;
    }
    size_t need = width * (fill ? fill : 1) + extra + 1024;
    if (need < ((size_t)1 << 20)) return true;
    if (need < UINT32_MAX && strbuf_try_reserve(out, need)) return true;
    if (err && errlen) err[0] = '\0';
    return false;
}

// format_float_internal; [type] is the spec's, 0 for none.
static bool format_float(double value, const FormatSpec *spec, char type,
                         StrBuf *out, char *err, size_t errlen) {
    if (spec->precision >= INT_MAX) return fail(err, errlen, "precision too big");
    int precision = spec->precision, default_precision = 6;
    bool add_dot_0 = false, add_pct = false;
    if (type == 0) {
        add_dot_0 = true;
        type = 'r';
        default_precision = 0;
    }
    if (type == 'n') type = 'g';
    if (type == '%') {
        type = 'f';
        value *= 100;
        add_pct = true;
    }
    if (precision < 0) precision = default_precision;
    else if (type == 'r') type = 'g';

    StrBuf text;
    strbuf_init(&text);
    size_t digits = (size_t)precision + 400; // 'f' pads to precision past ~309 digits
    if (!reserve_output(out, spec, digits, err, errlen)) return false;
    if (digits >= ((size_t)1 << 20) && !strbuf_try_reserve(&text, digits)) {
        if (err && errlen) err[0] = '\0';
        return false;
    }
    double_to_string(value, type, precision, add_dot_0, spec->alternate,
                     spec->no_neg_zero, &text);
    if (add_pct) strbuf_append_char(&text, '%');

    Number num = {0};
    const char *s = text.chars, *end = text.chars + text.length;
    if (*s == '-') {
        num.negative = true;
        s++;
    }
    num.prefix = "";
    num.digits = s;
    while (s < end && *s >= '0' && *s <= '9') s++;
    num.n_digits = s - num.digits;
    if (s < end && *s == '.') {
        num.has_decimal = true;
        s++;
    }
    num.rest = s;
    num.rest_bytes = num.rest_chars = end - s;
    num.group = spec->grouping && spec->type != 'n' ? 3 : 0;
    emit_number(&num, spec, out);
    strbuf_free(&text);
    return true;
}

// format_long_internal for b c d o x X n.
static bool format_long(int64_t value, const FormatSpec *spec, char type,
                        StrBuf *out, char *err, size_t errlen) {
    if (spec->precision != -1)
        return fail(err, errlen, "Precision not allowed in integer format specifier");
    if (spec->no_neg_zero)
        return fail(err, errlen,
                    "Negative zero coercion (z) not allowed in integer format specifier");
    if (!reserve_output(out, spec, 100, err, errlen)) return false;
    Number num = {0};
    num.prefix = "";
    StrBuf chr;
    strbuf_init(&chr);
    char buf[72];
    if (type == 'c') {
        if (spec->sign)
            return fail(err, errlen, "Sign not allowed with integer format specifier 'c'");
        if (spec->alternate)
            return fail(err, errlen,
                        "Alternate form (#) not allowed with integer format specifier 'c'");
        if (value < 0 || value > 0x10FFFF)
            return fail(err, errlen, "%%c arg not in range(0x110000)");
        strbuf_append_codepoint(&chr, (unsigned)value);
        num.rest = chr.chars;
        num.rest_bytes = (long long)chr.length;
        num.rest_chars = 1;
    } else {
        unsigned base = 10;
        const char *prefix = "";
        switch (type) {
        case 'b': base = 2; prefix = "0b"; break;
        case 'o': base = 8; prefix = "0o"; break;
        case 'x': base = 16; prefix = "0x"; break;
        case 'X': base = 16; prefix = "0X"; break;
        default: break;
        }
        const char *alphabet = type == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
        uint64_t mag = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
        char *p = buf + sizeof buf;
        do {
            *--p = alphabet[mag % base];
            mag /= base;
        } while (mag);
        num.negative = value < 0;
        if (spec->alternate) num.prefix = prefix;
        num.digits = p;
        num.n_digits = buf + sizeof buf - p;
        num.rest = "";
        if (spec->grouping && type != 'n')
            num.group = base == 10 ? 3 : 4;
    }
    emit_number(&num, spec, out);
    strbuf_free(&chr);
    return true;
}

bool numfmt_format_int(int64_t value, const FormatSpec *spec, StrBuf *out,
                       char *err, size_t errlen) {
    const char *type_name = spec->type_name ? spec->type_name : "int";
    if (spec->invalid) return invalid_spec(spec, type_name, err, errlen);
    char type = spec->type ? spec->type : 'd';
    switch (type) {
    case 'b': case 'c': case 'd': case 'o': case 'x': case 'X': case 'n':
        return format_long(value, spec, type, out, err, errlen);
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case '%':
        return format_float((double)value, spec, type, out, err, errlen);
    default:
        return unknown_code(spec, type_name, err, errlen);
    }
}

bool numfmt_format_float(double value, const FormatSpec *spec, StrBuf *out,
                         char *err, size_t errlen) {
    const char *type_name = spec->type_name ? spec->type_name : "float";
    if (spec->invalid) return invalid_spec(spec, type_name, err, errlen);
    char type = spec->type;
    if (type == '?' && spec->type_code == 0) type = 0;
    switch (type) {
    case 0: case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
    case 'n': case '%':
        return format_float(value, spec, type, out, err, errlen);
    default:
        return unknown_code(spec, type_name, err, errlen);
    }
}

bool numfmt_format_str(const char *s, size_t length, const FormatSpec *spec,
                       StrBuf *out, char *err, size_t errlen) {
    const char *type_name = spec->type_name ? spec->type_name : "str";
    if (spec->invalid) return invalid_spec(spec, type_name, err, errlen);
    if (spec->type == 0 && spec->grouping)
        return bad_grouping(spec->grouping, 's', err, errlen);
    if (spec->type != 0 && spec->type != 's')
        return unknown_code(spec, type_name, err, errlen);
    if (spec->sign == ' ')
        return fail(err, errlen, "Space not allowed in string format specifier");
    if (spec->sign)
        return fail(err, errlen, "Sign not allowed in string format specifier");
    if (spec->no_neg_zero)
        return fail(err, errlen,
                    "Negative zero coercion (z) not allowed in string format specifier");
    if (spec->alternate)
        return fail(err, errlen,
                    "Alternate form (#) not allowed in string format specifier");
    if (spec->align == '=')
        return fail(err, errlen, "'=' alignment not allowed in string format specifier");

    // Code points are the bytes that do not continue a UTF-8 sequence.
    long long chars = 0;
    size_t bytes = length;
    for (size_t i = 0; i < length; i++) {
        if (((unsigned char)s[i] & 0xC0) == 0x80) continue;
        if (spec->precision >= 0 && chars == spec->precision) {
            bytes = i;
            break;
        }
        chars++;
    }
    if (!reserve_output(out, spec, bytes, err, errlen)) return false;
    long long total = spec->width > chars ? spec->width : chars;
    long long left = 0;
    char align = spec->align ? spec->align : '<';
    if (align == '>') left = total - chars;
    else if (align == '^') left = (total - chars) / 2;
    append_fill(out, spec, left);
    strbuf_append(out, s, bytes);
    append_fill(out, spec, total - chars - left);
    return true;
}

// ---------------------------------------------------------------------------
// Parsing

static int digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 37;
}

// PyLong_FromString on the mapped text; a NUL ends it early, which then
// fails the end check as in CPython.
int numfmt_parse_int(const char *text, size_t length, int base, int64_t *out) {
    if (base != 0 && (base < 2 || base > 36)) return 1;
    size_t n;
    char *buf = to_ascii(text, length, &n);
    if (!buf) return 1;
    const char *s = buf, *end = buf + n;
    int result = 1;
    bool negative = false, nonzero_is_error = false, overflow = false;
    while (ascii_space(*s)) s++;
    if (*s == '+') {
        s++;
    } else if (*s == '-') {
        negative = true;
        s++;
    }
    if (base == 0) {
        if (s[0] != '0') base = 10;
        else if (s[1] == 'x' || s[1] == 'X') base = 16;
        else if (s[1] == 'o' || s[1] == 'O') base = 8;
        else if (s[1] == 'b' || s[1] == 'B') base = 2;
        else {
            nonzero_is_error = true; // "010": C-style octal is gone
            base = 10;
        }
    }
    if (s[0] == '0' && ((base == 16 && (s[1] == 'x' || s[1] == 'X')) ||
                        (base == 8 && (s[1] == 'o' || s[1] == 'O')) ||
                        (base == 2 && (s[1] == 'b' || s[1] == 'B')))) {
        s += 2;
        if (*s == '_') s++;
    }
    if (*s == '_') goto done;
    const char *start = s;
    uint64_t mag = 0;
    char prev = 0;
    while (digit_value(*s) < base || *s == '_') {
        if (*s == '_') {
            if (prev == '_') goto done;
        } else {
            uint64_t digit = (uint64_t)digit_value(*s);
            if (mag > (UINT64_MAX - digit) / (uint64_t)base) overflow = true;
            else mag = mag * (uint64_t)base + digit;
        }
        prev = *s++;
    }
    if (prev == '_') goto done;
    if (nonzero_is_error && (mag != 0 || overflow)) goto done;
    if (s == start) goto done;
    while (ascii_space(*s)) s++;
    if (s != end) goto done;
    if (overflow || mag > (negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX)) {
        result = 2;
        goto done;
    }
    *out = negative ? (int64_t)(0 - mag) : (int64_t)mag;
    result = 0;
done:
    free(buf);
    return result;
}

static bool match_word(const char *s, const char *end, const char *word) {
    for (; *word; word++, s++) {
        if (s == end || (*s | 0x20) != *word) return false;
    }
    return true;
}

// float(): map, check and drop underscores (_Py_string_to_number_with_underscores),
// strip, then the grammar _Py_dg_strtod and _Py_parse_inf_or_nan accept.
bool numfmt_parse_float(const char *text, size_t length, double *out) {
    size_t n;
    char *buf = to_ascii(text, length, &n);
    if (!buf) return false;
    bool ok = false;
    if (memchr(buf, '\0', n)) goto done;
    size_t w = 0;
    char prev = 0;
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        bool digit_before = prev >= '0' && prev <= '9';
        if (c == '_') {
            if (!digit_before) goto done;
        } else {
            if (prev == '_' && !(c >= '0' && c <= '9')) goto done;
            buf[w++] = c;
        }
        prev = c;
    }
    if (prev == '_') goto done;
    buf[w] = '\0';
    char *s = buf, *end = buf + w;
    while (s < end && ascii_space(*s)) s++;
    while (end > s && ascii_space(end[-1])) end--;
    if (s == end) goto done;
    *end = '\0';

    const char *p = s;
    bool negative = false;
    if (*p == '+' || *p == '-') negative = *p++ == '-';
    if (match_word(p, end, "inf")) {
        p += 3;
        if (match_word(p, end, "inity")) p += 5;
        if (p != end) goto done;
        *out = negative ? -INFINITY : INFINITY;
        ok = true;
        goto done;
    }
    if (match_word(p, end, "nan")) {
        if (p + 3 != end) goto done;
        *out = negative ? -NAN : NAN;
        ok = true;
        goto done;
    }
    size_t mantissa = 0;
    while (p < end && *p >= '0' && *p <= '9') p++, mantissa++;
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9') p++, mantissa++;
    }
    if (mantissa == 0) goto done;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        const char *exp = p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        if (p == exp) goto done;
    }
    if (p != end) goto done;
    *out = strtod(s, NULL);
    ok = true;
done:
    free(buf);
    return ok;
}

// ---------------------------------------------------------------------------
// round()

// float.__round__: the value rounded at 10**-ndigits as an exact decimal
// (ties to even), then read back.
double numfmt_round(double value, int ndigits) {
    if (!isfinite(value)) return value;
    if (ndigits > 323) return value;  // (DBL_MANT_DIG - DBL_MIN_EXP) * log10(2)
    if (ndigits < -308) return 0.0 * value;
    if (ndigits >= 0) {
        int n = snprintf(NULL, 0, "%.*f", ndigits, value);
        char *s = malloc((size_t)n + 1);
        if (!s) abort();
        snprintf(s, (size_t)n + 1, "%.*f", ndigits, value);
        double r = strtod(s, NULL);
        free(s);
        return r;
    }
    // Rounding to tens or more: only the exact integer part's digits matter,
    // and a nonzero fraction breaks a tie upward.
    size_t k = (size_t)-ndigits;
    double a = fabs(value), whole = floor(a);
    char digits[400], text[420];
    snprintf(digits, sizeof digits, "%.0f", whole);
    size_t len = strlen(digits);
    size_t head = len > k ? len - k : 0;
    int cmp = 0; // the dropped digits against 5000...
    for (size_t i = 0; i < k && cmp == 0; i++) {
        int d = i + len >= k ? digits[i + len - k] - '0' : 0;
        cmp = d - (i == 0 ? 5 : 0);
    }
    bool up = cmp > 0 || (cmp == 0 && (a != whole ||
                                       (head > 0 && (digits[head - 1] - '0') % 2)));
    digits[head] = '\0';
    if (up) {
        size_t i = head;
        while (i > 0 && digits[i - 1] == '9') digits[--i] = '0';
        if (i > 0) {
            digits[i - 1]++;
        } else {
            memmove(digits + 1, digits, head + 1);
            digits[0] = '1';
        }
    } else if (head == 0) {
        strcpy(digits, "0");
    }
    snprintf(text, sizeof text, "%s%se%zu", signbit(value) ? "-" : "", digits, k);
    return strtod(text, NULL);
}

char *numfmt_int_decimal(int64_t value, char out[NUMFMT_INT_CHARS]) {
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    uint64_t mag = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    char *p = out + NUMFMT_INT_CHARS;
    while (mag >= 100) {
        unsigned two = (unsigned)(mag % 100);
        mag /= 100;
        *--p = pairs[two * 2 + 1];
        *--p = pairs[two * 2];
    }
    if (mag >= 10) {
        *--p = pairs[mag * 2 + 1];
        *--p = pairs[mag * 2];
    } else {
        *--p = (char)('0' + mag);
    }
    if (value < 0) *--p = '-';
    return p;
}

void numfmt_int_base(int64_t value, int base, StrBuf *out) {
    const char *prefix = base == 2 ? "0b" : base == 8 ? "0o" : base == 16 ? "0x" : "";
    if (base != 2 && base != 8 && base != 16) base = 10;
    uint64_t mag = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    char buf[72], *p = buf + sizeof buf;
    do {
        *--p = "0123456789abcdef"[mag % (unsigned)base];
        mag /= (unsigned)base;
    } while (mag);
    if (value < 0) strbuf_append_char(out, '-');
    strbuf_append_cstr(out, prefix);
    strbuf_append(out, p, (size_t)(buf + sizeof buf - p));
}
