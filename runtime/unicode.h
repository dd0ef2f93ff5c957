// runtime/unicode.h - Unicode character classes and case mappings for the str
// methods, answering as CPython 3.11's str does (Unicode 14.0).
// Tables come from runtime/unicode_gen.py; regenerate, never edit them.
#ifndef ASYNCRUN_UNICODE_H
#define ASYNCRUN_UNICODE_H

#include <stdbool.h>
#include <stdint.h>

// One character's str predicate: "x".isalpha(), .isdecimal(), ...
bool unicode_isalpha(uint32_t c);
bool unicode_isdecimal(uint32_t c);
// The digit value 0..9 of a decimal character (category Nd), else -1.
int unicode_decimal_value(uint32_t c);
bool unicode_isdigit(uint32_t c);
bool unicode_isnumeric(uint32_t c);
bool unicode_isprintable(uint32_t c); // repr() escapes the others
bool unicode_isspace(uint32_t c);
bool unicode_islower(uint32_t c);     // the Lowercase property
bool unicode_isupper(uint32_t c);     // the Uppercase property
bool unicode_istitle(uint32_t c);     // category Lt
bool unicode_iscased(uint32_t c);
bool unicode_iscase_ignorable(uint32_t c);
bool unicode_isid_start(uint32_t c);    // "x".isidentifier()
bool unicode_isid_continue(uint32_t c); // ("a" + x).isidentifier()

// Full case mappings of one code point (SpecialCasing included, no
// context: the caller handles final sigma). Write 1 to 3 code points to
// out and return how many.
int unicode_upper(uint32_t c, uint32_t out[3]);
int unicode_lower(uint32_t c, uint32_t out[3]);
int unicode_title(uint32_t c, uint32_t out[3]);
int unicode_fold(uint32_t c, uint32_t out[3]);

#endif
