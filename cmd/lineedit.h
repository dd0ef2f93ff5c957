// cmd/lineedit.h - a line editor for a terminal: raw mode, ANSI escapes, UTF-8
// shown by display width (CJK is 2 columns), wrapping, history, search, completion.
#ifndef ASYNCRUN_LINEEDIT_H
#define ASYNCRUN_LINEEDIT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct LineEdit LineEdit;

typedef enum {
    LINEEDIT_OK,        // a line was entered
    LINEEDIT_EOF,       // Ctrl-D on an empty line, or end of input
    LINEEDIT_INTERRUPT, // Ctrl-C: the line is discarded
    LINEEDIT_ERROR      // the terminal failed (errno is set)
} LineEditStatus;

// What a completer proposes: texts that replace bytes [start, cursor) of the
// line. Fill with lineedit_add_completion.
typedef struct {
    size_t start;
    char **items;
    size_t count, capacity;
} LineEditCompletions;

typedef void (*LineEditCompleter)(void *ctx, const char *line, size_t cursor,
                                  LineEditCompletions *out);

// An editor reading keys from in_fd (a terminal) and drawing on out_fd.
LineEdit *lineedit_new(int in_fd, int out_fd);
void lineedit_free(LineEdit *le);

void lineedit_set_completer(LineEdit *le, LineEditCompleter fn, void *ctx);
void lineedit_add_completion(LineEditCompletions *c, const char *text, size_t length);

// Read a line after `prompt`, the editing starting from `initial` (auto-indent;
// ignored while text is being pasted). Returns the line without its newline,
// malloc'd, or NULL with *status saying why.
char *lineedit_read(LineEdit *le, const char *prompt, const char *initial,
                    LineEditStatus *status);

// True when the last line came from a paste whose next line is already waiting.
bool lineedit_pasting(const LineEdit *le);

// History: at most `max` entries (oldest dropped); blank lines and repeats of
// the newest entry are not added. The file holds one entry per line.
void lineedit_history_set_max(LineEdit *le, size_t max);
void lineedit_history_add(LineEdit *le, const char *line);
bool lineedit_history_load(LineEdit *le, const char *path);
bool lineedit_history_save(LineEdit *le, const char *path);

#endif
