// runtime/numfmt.h - numbers to text and back, as Python writes and reads them:
// float repr (shortest round-trip), the format-spec mini-language for int,
// float and str, int/float parsing with Python's rules, round().
// Pure functions on C values: no VM, no objects.
#ifndef ASYNCRUN_NUMFMT_H
#define ASYNCRUN_NUMFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/strbuf.h"

// repr(float) / str(float): "0.1", "1e+16", "0.30000000000000004", "inf",
// "-inf", "nan", "-0.0", "1.0", "1e-05", "123456789012345.0".
void numfmt_float_repr(double value, StrBuf *out);

// A parsed format spec: [[fill]align][sign][z][#][0][width][grouping][.precision][type]
typedef struct {
    char fill[5];   // UTF-8 of the fill character, default " "
    char align;     // '<' '>' '^' '=' or 0 for the type's default
    char sign;      // '+' '-' ' ' or 0
    bool alternate; // '#'
    bool zero;      // '0' before the width (parse then also sets fill "0")
    int width;      // -1 when absent; parse caps it at INT_MAX
    char grouping;  // ',' '_' or 0
    int precision;  // -1 when absent; parse caps it at INT_MAX, which floats
                    // reject as CPython does past it: "precision too big"
    char type;      // 'd' 'b' 'o' 'x' 'X' 'e' 'E' 'f' 'F' 'g' 'G' '%' 's' 'r'(not a spec type) 'c' 'n' or 0
    // Added with numfmt.c; a zeroed field keeps the plain meaning above.
    bool no_neg_zero;      // 'z': a float that rounds to -0 is shown unsigned
    unsigned type_code;    // the type's code point as parsed; type is '?' when it
                           // is not ASCII or is NUL, and messages then use this
    const char *invalid;   // set by parse when text follows the type: the spec
    size_t invalid_length; // text (not copied), reported by numfmt_format_* as
                           // "Invalid format specifier '...' for object of type 'int'"
    const char *type_name; // type in error messages; NULL = "int"/"float"/"str"
                           // (set "bool" when formatting a bool as an int)
} FormatSpec;

// Parse spec text (without the colon). false + message (a ValueError, in
// CPython's words, e.g. "Format specifier missing precision") on bad input.
// Text after the type is not rejected here but by numfmt_format_*, since
// CPython's message names the object's type: see `invalid`. Output functions
// append to out, and only on success.
bool numfmt_parse_spec(const char *spec, size_t length, FormatSpec *out,
                       char *err, size_t errlen);

// format(value, spec) for each kind; false + ValueError message in err,
// e.g. "Unknown format code 'd' for object of type 'float'". Two exceptions:
// format(int, 'c') out of range fails with "%c arg not in range(0x110000)",
// an OverflowError in CPython, and an empty err means the output (a huge
// width or precision) does not fit in memory: a MemoryError.
bool numfmt_format_int(int64_t value, const FormatSpec *spec, StrBuf *out,
                       char *err, size_t errlen);
bool numfmt_format_float(double value, const FormatSpec *spec, StrBuf *out,
                         char *err, size_t errlen);
// s is UTF-8; widths and precision count code points.
bool numfmt_format_str(const char *s, size_t length, const FormatSpec *spec,
                       StrBuf *out, char *err, size_t errlen);

// int(text, base): Python's literal rules (surrounding whitespace, sign,
// underscores between digits, 0x/0o/0b prefixes when base is 0 or matches,
// base 2..36 or 0). Returns 0 ok, 1 invalid literal, 2 out of int64 range.
// A base outside 0, 2..36 also returns 1: check it first, CPython says
// "int() arg 2 must be >= 2 and <= 36".
int numfmt_parse_int(const char *text, size_t length, int base, int64_t *out);
// float(text): Python's rules ("inf", "-Infinity", "nan", "1_000.5",
// surrounding whitespace). false when invalid.
bool numfmt_parse_float(const char *text, size_t length, double *out);

// round(x, ndigits) with correct decimal rounding (round(2.675, 2) == 2.67,
// round(0.5) == 0.0, round(1.5) == 2.0, negative ndigits round to tens...).
// Returns inf for a finite value that rounds past DBL_MAX: CPython raises
// OverflowError "rounded value too large to represent" there.
double numfmt_round(double value, int ndigits);

// str(value) in decimal, written to the end of out[NUMFMT_INT_CHARS]: returns
// where the text starts (its length is out + NUMFMT_INT_CHARS - start).
#define NUMFMT_INT_CHARS 24
char *numfmt_int_decimal(int64_t value, char out[NUMFMT_INT_CHARS]);

// Integer in base 2, 8 or 16 with Python's prefix: bin(-5) "-0b101", hex(255) "0xff".
void numfmt_int_base(int64_t value, int base, StrBuf *out);

#endif
