// tests/unit/test_numfmt.c - runtime/numfmt.c against CPython 3.11's answers.
// The cases live in numfmt_cases.h, written by gen_numfmt_cases.py; no python at build time.
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "runtime/numfmt.h"

typedef struct {
    uint64_t bits;
    const char *repr;
} ReprCase;

typedef struct {
    char kind; // 'i' int, 'b' bool (formatted as int, named "bool"), 'f' float, 's' str
    int64_t i;
    uint64_t f;
    const char *s;
    const char *spec;
    bool ok;
    const char *expect; // the result, or the error message
} FormatCase;

typedef struct {
    const char *text;
    size_t length;
    int base;
    int rc;
    int64_t value;
} ParseIntCase;

typedef struct {
    const char *text;
    size_t length;
    bool ok;
    uint64_t bits;
} ParseFloatCase;

typedef struct {
    uint64_t x;
    int ndigits;
    uint64_t bits;
} RoundCase;

typedef struct {
    int64_t value;
    int base;
    const char *text;
} IntBaseCase;

#include "tests/unit/numfmt_cases.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int passed, failed;

static double from_bits(uint64_t bits) {
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static uint64_t to_bits(double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bits;
}

static void report(bool ok, const char *what, const char *input, const char *got,
                   const char *want) {
    if (ok) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL %s %s\n  got:  [%s]\n  want: [%s]\n", what, input, got, want);
}

static void test_repr(void) {
    for (size_t i = 0; i < COUNT(REPR_CASES); i++) {
        const ReprCase *c = &REPR_CASES[i];
        StrBuf out;
        strbuf_init(&out);
        numfmt_float_repr(from_bits(c->bits), &out);
        char input[32];
        snprintf(input, sizeof input, "%.17g", from_bits(c->bits));
        report(strcmp(out.chars, c->repr) == 0, "repr", input, out.chars, c->repr);
        strbuf_free(&out);
    }
}

static void test_format(void) {
    for (size_t i = 0; i < COUNT(FORMAT_CASES); i++) {
        const FormatCase *c = &FORMAT_CASES[i];
        FormatSpec spec;
        char err[512] = "";
        StrBuf out;
        strbuf_init(&out);
        bool ok = numfmt_parse_spec(c->spec, strlen(c->spec), &spec, err, sizeof err);
        if (ok) {
            switch (c->kind) {
            case 'b':
                spec.type_name = "bool";
                ok = numfmt_format_int(c->i, &spec, &out, err, sizeof err);
                break;
            case 'i':
                ok = numfmt_format_int(c->i, &spec, &out, err, sizeof err);
                break;
            case 'f':
                ok = numfmt_format_float(from_bits(c->f), &spec, &out, err, sizeof err);
                break;
            default:
                ok = numfmt_format_str(c->s, strlen(c->s), &spec, &out, err, sizeof err);
                break;
            }
        }
        const char *got = ok ? (out.chars ? out.chars : "") : err;
        char input[160];
        if (c->kind == 'f')
            snprintf(input, sizeof input, "format(%.17g, '%s')", from_bits(c->f), c->spec);
        else if (c->kind == 's')
            snprintf(input, sizeof input, "format('%s', '%s')", c->s, c->spec);
        else
            snprintf(input, sizeof input, "format(%lld, '%s')", (long long)c->i, c->spec);
        report(ok == c->ok && strcmp(got, c->expect) == 0, ok ? "format" : "format error",
               input, got, c->expect);
        strbuf_free(&out);
    }
}

static void test_parse_int(void) {
    for (size_t i = 0; i < COUNT(PARSE_INT_CASES); i++) {
        const ParseIntCase *c = &PARSE_INT_CASES[i];
        int64_t value = 0;
        int rc = numfmt_parse_int(c->text, c->length, c->base, &value);
        bool ok = rc == c->rc && (rc != 0 || value == c->value);
        char input[96], got[48], want[48];
        snprintf(input, sizeof input, "int('%s', %d)", c->text, c->base);
        snprintf(got, sizeof got, "rc %d value %lld", rc, rc ? 0LL : (long long)value);
        snprintf(want, sizeof want, "rc %d value %lld", c->rc, (long long)c->value);
        report(ok, "parse_int", input, got, want);
    }
}

static void test_parse_float(void) {
    for (size_t i = 0; i < COUNT(PARSE_FLOAT_CASES); i++) {
        const ParseFloatCase *c = &PARSE_FLOAT_CASES[i];
        double value = 0;
        bool ok = numfmt_parse_float(c->text, c->length, &value);
        double want = from_bits(c->bits);
        bool same = ok == c->ok &&
                    (!ok || (isnan(want) ? isnan(value) && signbit(value) == signbit(want)
                                         : to_bits(value) == c->bits));
        char input[96], got[48], expect[48];
        snprintf(input, sizeof input, "float('%.60s')", c->text);
        snprintf(got, sizeof got, "%d %.17g", ok, ok ? value : 0.0);
        snprintf(expect, sizeof expect, "%d %.17g", c->ok, c->ok ? want : 0.0);
        report(same, "parse_float", input, got, expect);
    }
}

static void test_round(void) {
    for (size_t i = 0; i < COUNT(ROUND_CASES); i++) {
        const RoundCase *c = &ROUND_CASES[i];
        double x = from_bits(c->x), r = numfmt_round(x, c->ndigits), want = from_bits(c->bits);
        bool same = isnan(want) ? isnan(r) : to_bits(r) == c->bits;
        char input[64], got[32], expect[32];
        snprintf(input, sizeof input, "round(%.17g, %d)", x, c->ndigits);
        snprintf(got, sizeof got, "%.17g", r);
        snprintf(expect, sizeof expect, "%.17g", want);
        report(same, "round", input, got, expect);
    }
}

static void test_int_base(void) {
    for (size_t i = 0; i < COUNT(INT_BASE_CASES); i++) {
        const IntBaseCase *c = &INT_BASE_CASES[i];
        StrBuf out;
        strbuf_init(&out);
        numfmt_int_base(c->value, c->base, &out);
        char input[48];
        snprintf(input, sizeof input, "base %d of %lld", c->base, (long long)c->value);
        report(strcmp(out.chars, c->text) == 0, "int_base", input, out.chars, c->text);
        strbuf_free(&out);
    }
}

// Decimal digits against printf: every power-of-ten edge, both extremes,
// and a spread of values in between.
static void test_int_decimal(void) {
    int64_t values[200];
    size_t n = 0;
    values[n++] = INT64_MIN;
    values[n++] = INT64_MAX;
    values[n++] = 0;
    for (int64_t p = 1; n + 4 <= 80; p *= 10) {
        values[n++] = p - 1;
        values[n++] = p;
        values[n++] = -p;
        values[n++] = -(p - 1);
        if (p > INT64_MAX / 10) break;
    }
    for (uint64_t x = 88172645463325252ull; n < 200; ) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        values[n++] = (int64_t)(x >> (x % 60));
    }
    for (size_t i = 0; i < n; i++) {
        char digits[NUMFMT_INT_CHARS], want[32], got[32];
        char *start = numfmt_int_decimal(values[i], digits);
        size_t len = (size_t)(digits + NUMFMT_INT_CHARS - start);
        memcpy(got, start, len);
        got[len] = '\0';
        snprintf(want, sizeof want, "%lld", (long long)values[i]);
        report(strcmp(got, want) == 0, "int_decimal", want, got, want);
    }
}

// Contract details the tables cannot show.
static void test_contract(void) {
    FormatSpec spec;
    char err[128] = "";
    StrBuf out;
    strbuf_init(&out);
    bool ok = numfmt_parse_spec("*^+#012_.3e", 11, &spec, err, sizeof err);
    report(ok && strcmp(spec.fill, "*") == 0 && spec.align == '^' && spec.sign == '+' &&
               spec.alternate && !spec.zero && spec.width == 12 && spec.grouping == '_' &&
               spec.precision == 3 && spec.type == 'e' && !spec.invalid,
           "parse_spec", "fields", ok ? "mismatch" : err, "fields");
    ok = numfmt_parse_spec("08", 2, &spec, err, sizeof err);
    report(ok && spec.zero && strcmp(spec.fill, "0") == 0 && spec.align == 0 &&
               spec.width == 8 && spec.type == 0,
           "parse_spec", "zero", ok ? "mismatch" : err, "fields");
    // Appends, and leaves out alone on failure.
    strbuf_append_cstr(&out, "x=");
    numfmt_parse_spec(".2f", 3, &spec, err, sizeof err);
    numfmt_format_float(1.005, &spec, &out, err, sizeof err);
    numfmt_parse_spec("d", 1, &spec, err, sizeof err);
    ok = numfmt_format_float(1.0, &spec, &out, err, sizeof err);
    report(!ok && strcmp(out.chars, "x=1.00") == 0, "format", "append", out.chars, "x=1.00");
    strbuf_free(&out);
    // A tiny error buffer truncates safely.
    char tiny[8];
    numfmt_parse_spec(",_", 2, &spec, tiny, sizeof tiny);
    report(strcmp(tiny, "Cannot ") == 0, "parse_spec", "tiny err", tiny, "Cannot ");
}

int main(void) {
    test_repr();
    test_format();
    test_parse_int();
    test_parse_float();
    test_round();
    test_int_base();
    test_int_decimal();
    test_contract();
    printf("numfmt: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
