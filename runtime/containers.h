// runtime/containers.h - per-type operations of the builtin containers and
// strings (str.c, tuple.c, list.c, dict.c, set.c, range.c, iter.c) that the
// generic operations (ops.c), the builtins and the dispatch loop call.
#ifndef ASYNCRUN_CONTAINERS_H
#define ASYNCRUN_CONTAINERS_H

#include "runtime/vm.h"

// ---- UTF-8 ----
// Number of code points in valid UTF-8 text.
uint32_t utf8_count(const char *chars, size_t length);
// Byte offset of code point `index` (0 <= index <= cp_length).
size_t utf8_offset(const char *chars, size_t length, size_t index);
// Decode one code point at chars; *width gets its byte length.
uint32_t utf8_decode(const char *chars, int *width);

// ---- str (str.c) ----
ObjString *str_concat(VM *vm, ObjString *a, ObjString *b); // NULL: MemoryError (too long)
ObjString *str_repeat(VM *vm, ObjString *s, int64_t count); // NULL + MemoryError/OverflowError
// s[key] for an int (IndexError "string index out of range") or a slice.
bool str_getitem(VM *vm, ObjString *s, Value key, Value *out);
int str_compare(const ObjString *a, const ObjString *b); // <0, 0, >0 (code point order)
bool str_contains(const ObjString *haystack, const ObjString *needle);
void str_repr(const ObjString *s, StrBuf *buf); // Python's quoting rules
// The one-character string for code point cp (cached for ASCII).
ObjString *str_from_codepoint(VM *vm, uint32_t cp);
// str.format(*args, **kwargs) and "%" formatting.
bool str_format(VM *vm, ObjString *fmt, Value *args, int argc,
                ObjTuple *kwnames, Value *out);
bool str_percent(VM *vm, ObjString *fmt, Value args, Value *out);
void str_init_class(VM *vm, ObjClass *cls); // methods: split, join, ...
// For the collector: drop unmarked strings from the intern set.
void str_intern_sweep(VM *vm);

// ---- tuple (tuple.c) ----
ObjTuple *tuple_from(VM *vm, const Value *items, uint32_t length);
bool tuple_getitem(VM *vm, ObjTuple *t, Value key, Value *out);
ObjTuple *tuple_concat(VM *vm, ObjTuple *a, ObjTuple *b);
ObjTuple *tuple_repeat(VM *vm, ObjTuple *t, int64_t count);
void tuple_init_class(VM *vm, ObjClass *cls); // index, count

// ---- list (list.c) ----
ObjList *list_from(VM *vm, const Value *items, uint32_t length);
bool list_getitem(VM *vm, ObjList *l, Value key, Value *out);
bool list_setitem(VM *vm, ObjList *l, Value key, Value value);
bool list_delitem(VM *vm, ObjList *l, Value key);
ObjList *list_concat(VM *vm, ObjList *a, ObjList *b);
ObjList *list_repeat(VM *vm, ObjList *l, int64_t count);
bool list_extend(VM *vm, ObjList *l, Value iterable);
// Stable sort with optional key function and reverse flag (may call
// bytecode; roots its temporaries).
bool list_sort(VM *vm, ObjList *l, Value key, bool reverse);
void list_init_class(VM *vm, ObjClass *cls); // append, pop, sort, ...

// ---- dict (dict.c; dict_get/set/delete are in object.h) ----
ObjDict *dict_copy(VM *vm, ObjDict *d);
// dict.update semantics: another dict, or an iterable of pairs.
bool dict_update(VM *vm, ObjDict *d, Value other);
// Iterate: *pos starts at 0; returns false at the end.
bool dict_next(ObjDict *d, uint32_t *pos, Value *key, Value *value);
void dict_clear(VM *vm, ObjDict *d);
void dict_init_class(VM *vm, ObjClass *cls); // get, items, keys, ...
void dictview_init_classes(VM *vm); // dict_keys / dict_values / dict_items
// The hash dicts and sets store for a key (the str's cached hash, CPython's
// for numbers); false + TypeError "unhashable type: 'list'".
bool dict_key_hash(VM *vm, Value key, uint64_t *out);
// == on dicts (values by value_equal); reuses the stored hashes, so no VM.
bool dict_equal(ObjDict *a, ObjDict *b);
// dict.keys() / values() / items(): kind is ITER_DICT_KEYS / VALUES / ITEMS.
ObjDictView *dictview_new(VM *vm, ObjDict *d, IterKind kind);
// `item in view` (items views look up the (key, value) pair).
bool dictview_contains(VM *vm, ObjDictView *view, Value item, bool *out);

// ---- set (set.c) ----
ObjSet *set_new(VM *vm, bool frozen);
bool set_add(VM *vm, ObjSet *s, Value item);
bool set_contains(VM *vm, ObjSet *s, Value item, bool *out);
void set_init_class(VM *vm, ObjClass *cls, bool frozen);
// For the collector: mark the items; free the table of a dead set.
void set_mark(VM *vm, ObjSet *s);
void set_free_table(ObjSet *s);
// Iterate in CPython's order: *pos starts at 0; returns false at the end.
bool set_next(ObjSet *s, uint32_t *pos, Value *item);
bool set_discard(VM *vm, ObjSet *s, Value item, bool *found);
// set.update(iterable), also SET_UPDATE: CPython's set_update_internal.
bool set_update(VM *vm, ObjSet *s, Value iterable);
ObjSet *set_copy(VM *vm, ObjSet *s, bool frozen);
// a OP b for the operators '|' '&' '-' '^' on two sets (the caller checks
// both are sets); the result has a's type. inplace (|= &= -= ^=) modifies a
// and returns it.
bool set_binary(VM *vm, char op, ObjSet *a, ObjSet *b, bool inplace, Value *out);
// == and <= (subset) between sets; stored hashes are reused, so no VM.
bool set_equal(ObjSet *a, ObjSet *b);
bool set_is_subset(ObjSet *a, ObjSet *b);
// The frozenset constant CPython's compiler folds a display of n > 2
// constants into ({3, 1, 2} compiles to BUILD_SET 0, LOAD_CONST
// frozenset(...), SET_UPDATE 1): built twice, as compile.c does, so that
// set_update() into an empty set then gives CPython's iteration order.
ObjSet *set_new_constant(VM *vm, const Value *items, uint32_t n);

// ---- range and iterators (range.c, iter.c) ----
ObjRange *range_new(VM *vm, int64_t start, int64_t stop, int64_t step);
int64_t range_length(const ObjRange *r);
void range_init_class(VM *vm, ObjClass *cls);
// r[key] for an int (IndexError "range object index out of range") or a slice.
bool range_getitem(VM *vm, ObjRange *r, Value key, Value *out);
bool range_contains(const ObjRange *r, Value item);
bool range_equal(const ObjRange *a, const ObjRange *b); // as sequences
// Unpack a slice object (OBJ_SLICE) for a sequence of `length` items, as
// CPython's PySlice_GetIndicesEx: start/stop clamped, step != 0. Returns the
// slice length, or -1 with TypeError / ValueError raised.
int64_t range_slice_indices(VM *vm, Value slice, int64_t length, int64_t *start,
                            int64_t *stop, int64_t *step);

// A builtin iterator over `source`, every field set up from it:
//   ITER_RANGE (a range), ITER_LIST, ITER_TUPLE, ITER_STR, ITER_SET,
//   ITER_DICT_KEYS / VALUES / ITEMS (a dict), ITER_REVERSED (a list, tuple,
//   str or range; a range gives an ITER_RANGE counting down).
// The caller then fills in what the source cannot give:
//   ITER_ENUMERATE: source = an iterator, index = start.
//   ITER_ZIP: extra = tuple of iterators (source unused).
//   ITER_MAP: source = tuple of iterators, extra = the function.
//   ITER_FILTER: source = an iterator, extra = the function or None.
//   ITER_CALLABLE: source = the callable, extra = the sentinel.
ObjIter *iter_new(VM *vm, IterKind kind, Value source);

#endif
