// cmd/lineedit.c - a terminal line editor: raw mode, ANSI escapes, UTF-8 shown by display width, history, search, completion.
// The cursor is a byte offset on a code point's first byte; every redraw starts cursor_row rows up, at the prompt.
#include "cmd/lineedit.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/strbuf.h"

enum {
    KEY_EOF = -1,       // end of input or a read error
    KEY_AGAIN = -2,     // a signal interrupted the read: redraw
    KEY_NONE = -3,      // an escape sequence we ignore
    KEY_UP = 256, KEY_DOWN, KEY_LEFT, KEY_RIGHT, KEY_HOME, KEY_END, KEY_DELETE,
    KEY_WORD_LEFT, KEY_WORD_RIGHT, KEY_KILL_WORD_RIGHT, KEY_KILL_WORD_LEFT,
    KEY_PASTE_START, KEY_PASTE_END,
};

#define CTRL_KEY(c) ((c) & 0x1f)
#define ESC_TIMEOUT_MS 50
#define INDENT 4

struct LineEdit {
    int in_fd, out_fd;
    struct termios saved;
    bool raw;

    char *buf;              // the line, NUL-terminated
    size_t len, cap, pos;
    const char *prompt;
    int cursor_row;         // rows from the prompt's first row to the cursor

    char **hist;            // oldest first
    size_t hist_len, hist_max;
    size_t hist_index;      // 0: the line being edited; k: the k-th newest entry
    char *scratch;          // the line being edited while browsing history

    bool searching, search_failed;
    StrBuf query;
    size_t search_entry;    // 1 + history index of the match, 0 when none
    char *search_saved;
    size_t search_saved_pos;

    LineEditCompleter complete;
    void *complete_ctx;
    bool last_tab;

    char *kill;
    size_t kill_len;

    bool in_paste;          // between ESC[200~ and ESC[201~
    bool skip_lf;           // a CR ended the last line: drop a following LF
    bool pasted_more;

    unsigned char unread[16];
    int unread_count;
};

// ---- UTF-8 and display width ------------------------------------------------------

// Decode the code point at s (n bytes available); invalid bytes decode as
// U+FFFD one byte long.
static int decode(const char *s, size_t n, uint32_t *cp) {
    unsigned char c = (unsigned char)s[0];
    int len = c < 0x80 ? 1 : c >= 0xF0 && c < 0xF8 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0 || (size_t)len > n) {
        *cp = 0xFFFD;
        return 1;
    }
    uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (int i = 1; i < len; i++) {
        unsigned char d = (unsigned char)s[i];
        if ((d & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (d & 0x3Fu);
    }
    *cp = v;
    return len;
}

typedef struct { uint32_t lo, hi; } Range;

static const Range zero_width[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x05BF, 0x05BF},
    {0x05C1, 0x05C2}, {0x05C4, 0x05C5}, {0x05C7, 0x05C7}, {0x0610, 0x061A},
    {0x064B, 0x065F}, {0x0670, 0x0670}, {0x06D6, 0x06DC}, {0x06DF, 0x06E4},
    {0x06E7, 0x06E8}, {0x06EA, 0x06ED}, {0x0E31, 0x0E31}, {0x0E34, 0x0E3A},
    {0x0E47, 0x0E4E}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F},
    {0x202A, 0x202E}, {0x2060, 0x2064}, {0x20D0, 0x20FF}, {0x302A, 0x302D},
    {0x3099, 0x309A}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF},
    {0xE0100, 0xE01EF},
};

static const Range wide[] = {
    {0x1100, 0x115F}, {0x231A, 0x231B}, {0x2329, 0x232A}, {0x23E9, 0x23EC},
    {0x23F0, 0x23F0}, {0x23F3, 0x23F3}, {0x25FD, 0x25FE}, {0x2614, 0x2615},
    {0x2648, 0x2653}, {0x267F, 0x267F}, {0x2693, 0x2693}, {0x26A1, 0x26A1},
    {0x26AA, 0x26AB}, {0x26BD, 0x26BE}, {0x26C4, 0x26C5}, {0x26CE, 0x26CE},
    {0x26D4, 0x26D4}, {0x26EA, 0x26EA}, {0x26F2, 0x26F3}, {0x26F5, 0x26F5},
    {0x26FA, 0x26FA}, {0x26FD, 0x26FD}, {0x2705, 0x2705}, {0x270A, 0x270B},
    {0x2728, 0x2728}, {0x274C, 0x274C}, {0x274E, 0x274E}, {0x2753, 0x2755},
    {0x2757, 0x2757}, {0x2795, 0x2797}, {0x27B0, 0x27B0}, {0x27BF, 0x27BF},
    {0x2B1B, 0x2B1C}, {0x2B50, 0x2B50}, {0x2B55, 0x2B55}, {0x2E80, 0x303E},
    {0x3041, 0x33FF}, {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xA000, 0xA4CF},
    {0xA960, 0xA97F}, {0xAC00, 0xD7A3}, {0xF900, 0xFAFF}, {0xFE10, 0xFE19},
    {0xFE30, 0xFE6F}, {0xFF00, 0xFF60}, {0xFFE0, 0xFFE6}, {0x16FE0, 0x16FE4},
    {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
    {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251}, {0x1F300, 0x1F64F},
    {0x1F680, 0x1F6FF}, {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F9FF}, {0x1FA70, 0x1FAFF},
    {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

static bool in_ranges(uint32_t cp, const Range *r, size_t n) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid].lo) hi = mid;
        else if (cp > r[mid].hi) lo = mid + 1;
        else return true;
    }
    return false;
}

static int cp_width(uint32_t cp) {
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return 0;
    if (cp < 0x300) return 1;
    if (in_ranges(cp, zero_width, sizeof zero_width / sizeof *zero_width)) return 0;
    if (in_ranges(cp, wide, sizeof wide / sizeof *wide)) return 2;
    return 1;
}

// Columns a UTF-8 text takes on a terminal.
static size_t text_width(const char *text, size_t length) {
    size_t w = 0;
    for (size_t i = 0; i < length;) {
        uint32_t cp;
        i += (size_t)decode(text + i, length - i, &cp);
        w += (size_t)cp_width(cp);
    }
    return w;
}

// Width of the code point at byte i of the line.
static int width_at(const LineEdit *le, size_t i) {
    if (i >= le->len) return 1;
    uint32_t cp;
    decode(le->buf + i, le->len - i, &cp);
    return cp_width(cp);
}

static size_t next_cp(const LineEdit *le, size_t i) {
    if (i >= le->len) return le->len;
    uint32_t cp;
    return i + (size_t)decode(le->buf + i, le->len - i, &cp);
}

static size_t prev_cp(const LineEdit *le, size_t i) {
    if (i == 0) return 0;
    i--;
    while (i > 0 && ((unsigned char)le->buf[i] & 0xC0) == 0x80) i--;
    return i;
}

// One step left or right: a base character with its combining marks.
static size_t char_right(const LineEdit *le, size_t i) {
    i = next_cp(le, i);
    while (i < le->len && width_at(le, i) == 0) i = next_cp(le, i);
    return i;
}

static size_t char_left(const LineEdit *le, size_t i) {
    i = prev_cp(le, i);
    while (i > 0 && width_at(le, i) == 0) i = prev_cp(le, i);
    return i;
}

static bool word_byte(char c) {
    unsigned char u = (unsigned char)c;
    return u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_';
}

static size_t word_left(const LineEdit *le, size_t i) {
    while (i > 0 && !word_byte(le->buf[i - 1])) i--;
    while (i > 0 && word_byte(le->buf[i - 1])) i--;
    return i;
}

static size_t word_right(const LineEdit *le, size_t i) {
    while (i < le->len && !word_byte(le->buf[i])) i++;
    while (i < le->len && word_byte(le->buf[i])) i++;
    return i;
}

// ---- terminal ---------------------------------------------------------------------

static void write_all(int fd, const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

static void write_str(LineEdit *le, const char *s) {
    write_all(le->out_fd, s, strlen(s));
}

static bool enable_raw(LineEdit *le) {
    if (le->raw) return true;
    if (tcgetattr(le->in_fd, &le->saved) != 0) return false;
    struct termios raw = le->saved;
    raw.c_iflag &= ~(tcflag_t)(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
    raw.c_oflag &= ~(tcflag_t)OPOST;
    raw.c_cflag |= CS8;
    raw.c_lflag &= ~(tcflag_t)(ECHO | ICANON | IEXTEN | ISIG);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    // TCSADRAIN, not TCSAFLUSH: keys typed ahead (or pasted) are kept
    if (tcsetattr(le->in_fd, TCSADRAIN, &raw) != 0) return false;
    le->raw = true;
    write_str(le, "\x1b[?2004h"); // bracketed paste
    return true;
}

static void disable_raw(LineEdit *le) {
    if (!le->raw) return;
    write_str(le, "\x1b[?2004l");
    tcsetattr(le->in_fd, TCSADRAIN, &le->saved);
    le->raw = false;
}

static int term_cols(LineEdit *le) {
    struct winsize ws;
    if (ioctl(le->out_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *env = getenv("COLUMNS");
    int n = env ? atoi(env) : 0;
    return n > 0 ? n : 80;
}

// Next input byte; timeout_ms < 0 waits. KEY_EOF, KEY_AGAIN (signal) or
// KEY_NONE (timeout).
static int read_byte(LineEdit *le, int timeout_ms) {
    if (le->unread_count > 0) {
        int c = le->unread[0];
        memmove(le->unread, le->unread + 1, (size_t)--le->unread_count);
        return c;
    }
    if (timeout_ms >= 0) {
        struct pollfd p = {le->in_fd, POLLIN, 0};
        int r = poll(&p, 1, timeout_ms);
        if (r == 0) return KEY_NONE;
        if (r < 0) return errno == EINTR ? KEY_AGAIN : KEY_EOF;
    }
    unsigned char c;
    ssize_t n = read(le->in_fd, &c, 1);
    if (n == 1) return c;
    if (n < 0 && errno == EINTR) return KEY_AGAIN;
    return KEY_EOF;
}

static void unread_byte(LineEdit *le, int c) {
    if (c < 0 || le->unread_count >= (int)sizeof le->unread) return;
    le->unread[le->unread_count++] = (unsigned char)c;
}

static bool input_pending(LineEdit *le) {
    if (le->unread_count > 0) return true;
    struct pollfd p = {le->in_fd, POLLIN, 0};
    return poll(&p, 1, 0) > 0;
}

// ESC [ params final
static int read_csi(LineEdit *le) {
    char params[16];
    size_t n = 0;
    int c;
    for (;;) {
        c = read_byte(le, ESC_TIMEOUT_MS);
        if (c < 0) return KEY_NONE;
        if (c >= 0x40 && c <= 0x7E) break;
        if (n + 1 < sizeof params) params[n++] = (char)c;
    }
    params[n] = '\0';
    bool modified = strchr(params, ';') != NULL; // ESC[1;5C: Ctrl/Alt + arrow
    switch (c) {
    case 'A': return KEY_UP;
    case 'B': return KEY_DOWN;
    case 'C': return modified ? KEY_WORD_RIGHT : KEY_RIGHT;
    case 'D': return modified ? KEY_WORD_LEFT : KEY_LEFT;
    case 'H': return KEY_HOME;
    case 'F': return KEY_END;
    case '~':
        switch (atoi(params)) {
        case 1: case 7: return KEY_HOME;
        case 4: case 8: return KEY_END;
        case 3: return KEY_DELETE;
        case 200: return KEY_PASTE_START;
        case 201: return KEY_PASTE_END;
        }
        return KEY_NONE;
    }
    return KEY_NONE;
}

static int read_key(LineEdit *le) {
    int c = read_byte(le, -1);
    if (c != 27) return c;
    int c1 = read_byte(le, ESC_TIMEOUT_MS);
    if (c1 == KEY_NONE || c1 == KEY_EOF) return KEY_NONE;
    if (c1 == '[') return read_csi(le);
    if (c1 == 'O') {
        int c2 = read_byte(le, ESC_TIMEOUT_MS);
        switch (c2) {
        case 'A': return KEY_UP;
        case 'B': return KEY_DOWN;
        case 'C': return KEY_RIGHT;
        case 'D': return KEY_LEFT;
        case 'H': return KEY_HOME;
        case 'F': return KEY_END;
        }
        return KEY_NONE;
    }
    switch (c1) {
    case 'b': case 'B': return KEY_WORD_LEFT;
    case 'f': case 'F': return KEY_WORD_RIGHT;
    case 'd': case 'D': return KEY_KILL_WORD_RIGHT;
    case 127: case 8: return KEY_KILL_WORD_LEFT;
    }
    return KEY_NONE;
}

// ---- drawing ------------------------------------------------------------------------

typedef struct { int row, col; } Pos;

// Advance a screen position over text as the terminal lays it out: a
// character that does not fit wraps (a wide one leaves the last column blank);
// col == cols means the terminal waits to wrap.
static void advance(Pos *p, const char *s, size_t n, int cols) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += (size_t)decode(s + i, n - i, &cp);
        int w = cp_width(cp);
        if (w == 0) continue;
        if (p->col + w > cols) {
            p->row++;
            p->col = 0;
        }
        p->col += w;
    }
}

static const char *shown_prompt(LineEdit *le, StrBuf *tmp) {
    if (!le->searching) return le->prompt;
    strbuf_printf(tmp, "(%sreverse-i-search)`%s': ", le->search_failed ? "failed " : "",
                  le->query.chars ? le->query.chars : "");
    return tmp->chars;
}

static void refresh(LineEdit *le) {
    int cols = term_cols(le);
    StrBuf tmp, out;
    strbuf_init(&tmp);
    strbuf_init(&out);
    const char *prompt = shown_prompt(le, &tmp);
    if (le->cursor_row > 0) strbuf_printf(&out, "\x1b[%dA", le->cursor_row);
    strbuf_append_cstr(&out, "\r\x1b[J");
    strbuf_append_cstr(&out, prompt);
    strbuf_append(&out, le->buf, le->len);

    Pos end = {0, 0};
    advance(&end, prompt, strlen(prompt), cols);
    Pos cur = end;
    advance(&end, le->buf, le->len, cols);
    advance(&cur, le->buf, le->pos, cols);
    if (end.col >= cols) { // put the cursor on the next row, as the text's end
        strbuf_append_cstr(&out, "\r\n");
        end.row++;
        end.col = 0;
    }
    if (cur.col >= cols || (le->pos < le->len && cur.col + width_at(le, le->pos) > cols)) {
        cur.row++;
        cur.col = 0;
    }
    if (end.row > cur.row) strbuf_printf(&out, "\x1b[%dA", end.row - cur.row);
    strbuf_append_cstr(&out, "\r");
    if (cur.col > 0) strbuf_printf(&out, "\x1b[%dC", cur.col);
    le->cursor_row = cur.row;
    write_all(le->out_fd, out.chars, out.length);
    strbuf_free(&out);
    strbuf_free(&tmp);
}

// ---- editing --------------------------------------------------------------------------

static void reserve(LineEdit *le, size_t extra) {
    if (le->len + extra + 1 <= le->cap) return;
    size_t cap = le->cap ? le->cap : 128;
    while (cap < le->len + extra + 1) cap *= 2;
    char *p = realloc(le->buf, cap);
    if (!p) {
        fputs("asyncrun: out of memory\n", stderr);
        abort();
    }
    le->buf = p;
    le->cap = cap;
}

static void insert(LineEdit *le, const char *s, size_t n) {
    reserve(le, n);
    memmove(le->buf + le->pos + n, le->buf + le->pos, le->len - le->pos);
    memcpy(le->buf + le->pos, s, n);
    le->len += n;
    le->pos += n;
    le->buf[le->len] = '\0';
}

static void delete_range(LineEdit *le, size_t from, size_t to) {
    if (to <= from) return;
    memmove(le->buf + from, le->buf + to, le->len - to);
    le->len -= to - from;
    le->buf[le->len] = '\0';
    if (le->pos >= to) le->pos -= to - from;
    else if (le->pos > from) le->pos = from;
}

static void kill_range(LineEdit *le, size_t from, size_t to) {
    if (to <= from) return;
    free(le->kill);
    le->kill = malloc(to - from);
    le->kill_len = le->kill ? to - from : 0;
    if (le->kill) memcpy(le->kill, le->buf + from, to - from);
    delete_range(le, from, to);
}

static void set_line(LineEdit *le, const char *s) {
    le->len = 0;
    le->pos = 0;
    reserve(le, 0);
    le->buf[0] = '\0';
    if (s) insert(le, s, strlen(s));
}

static bool only_spaces(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ') return false;
    return true;
}

// Backspace: in leading spaces, back to the previous indentation stop.
static void backspace(LineEdit *le) {
    if (le->pos == 0) return;
    if (only_spaces(le->buf, le->pos)) {
        delete_range(le, le->pos - ((le->pos - 1) % INDENT + 1), le->pos);
        return;
    }
    delete_range(le, prev_cp(le, le->pos), le->pos);
}

// ---- history --------------------------------------------------------------------------

void lineedit_history_set_max(LineEdit *le, size_t max) {
    if (max == 0) max = 1;
    le->hist_max = max;
    if (le->hist_len > max) {
        size_t drop = le->hist_len - max;
        for (size_t i = 0; i < drop; i++) free(le->hist[i]);
        memmove(le->hist, le->hist + drop, sizeof *le->hist * max);
        le->hist_len = max;
    }
}

void lineedit_history_add(LineEdit *le, const char *line) {
    bool blank = true;
    for (const char *p = line; *p; p++)
        if (*p != ' ' && *p != '\t') blank = false;
    if (blank || strchr(line, '\n')) return;
    if (le->hist_len > 0 && strcmp(le->hist[le->hist_len - 1], line) == 0) return;
    char *copy = strdup(line);
    if (!copy) return;
    if (le->hist_len == le->hist_max) {
        free(le->hist[0]);
        memmove(le->hist, le->hist + 1, sizeof *le->hist * (le->hist_len - 1));
        le->hist_len--;
    }
    if (!le->hist) {
        le->hist = calloc(le->hist_max, sizeof *le->hist);
        if (!le->hist) {
            free(copy);
            return;
        }
    }
    le->hist[le->hist_len++] = copy;
}

bool lineedit_history_load(LineEdit *le, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n') line[--n] = '\0';
        if (n > 0 && line[n - 1] == '\r') line[--n] = '\0';
        lineedit_history_add(le, line);
    }
    free(line);
    fclose(f);
    return true;
}

bool lineedit_history_save(LineEdit *le, const char *path) {
    StrBuf tmp;
    strbuf_init(&tmp);
    strbuf_printf(&tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp.chars, "w");
    if (!f) {
        strbuf_free(&tmp);
        return false;
    }
    for (size_t i = 0; i < le->hist_len; i++) fprintf(f, "%s\n", le->hist[i]);
    bool ok = fflush(f) == 0 && !ferror(f);
    ok = fclose(f) == 0 && ok;
    ok = ok && rename(tmp.chars, path) == 0;
    if (!ok) remove(tmp.chars);
    strbuf_free(&tmp);
    return ok;
}

static void history_move(LineEdit *le, bool older) {
    if (older) {
        if (le->hist_index >= le->hist_len) return;
        if (le->hist_index == 0) {
            free(le->scratch);
            le->scratch = strdup(le->buf);
        }
        le->hist_index++;
    } else {
        if (le->hist_index == 0) return;
        le->hist_index--;
    }
    set_line(le, le->hist_index == 0 ? le->scratch : le->hist[le->hist_len - le->hist_index]);
}

// ---- reverse search -------------------------------------------------------------------

// Look for the query in history entries [0, below), newest first.
static void search_from(LineEdit *le, size_t below) {
    const char *q = le->query.chars ? le->query.chars : "";
    if (!*q) {
        le->search_failed = false;
        return;
    }
    for (size_t i = below; i-- > 0;) {
        const char *m = strstr(le->hist[i], q);
        if (m) {
            set_line(le, le->hist[i]);
            le->pos = (size_t)(m - le->hist[i]);
            le->search_entry = i + 1;
            le->search_failed = false;
            return;
        }
    }
    le->search_failed = true;
}

static void search_start(LineEdit *le) {
    le->searching = true;
    le->search_failed = false;
    le->search_entry = 0;
    le->query.length = 0;
    if (le->query.chars) le->query.chars[0] = '\0';
    free(le->search_saved);
    le->search_saved = strdup(le->buf);
    le->search_saved_pos = le->pos;
}

static void search_cancel(LineEdit *le) {
    le->searching = false;
    set_line(le, le->search_saved);
    le->pos = le->search_saved_pos <= le->len ? le->search_saved_pos : le->len;
}

// A key while searching; false when it ends the search and must be handled
// as an ordinary key.
static bool search_key(LineEdit *le, int key, const char *utf8, size_t utf8_len) {
    if (key == CTRL_KEY('R')) {
        search_from(le, le->search_entry ? le->search_entry - 1 : le->hist_len);
    } else if (key == 127 || key == CTRL_KEY('H')) {
        if (le->query.length > 0) {
            size_t n = le->query.length - 1;
            while (n > 0 && ((unsigned char)le->query.chars[n] & 0xC0) == 0x80) n--;
            le->query.length = n;
            le->query.chars[n] = '\0';
        }
        le->search_entry = 0;
        search_from(le, le->hist_len);
    } else if (key == CTRL_KEY('G')) {
        search_cancel(le);
    } else if (utf8_len > 0) {
        strbuf_append(&le->query, utf8, utf8_len);
        search_from(le, le->search_entry ? le->search_entry : le->hist_len);
    } else {
        if (key == CTRL_KEY('C')) search_cancel(le);
        le->searching = false;
        return false;
    }
    return true;
}

// ---- completion -------------------------------------------------------------------------

void lineedit_add_completion(LineEditCompletions *c, const char *text, size_t length) {
    if (c->count == c->capacity) {
        size_t cap = c->capacity ? c->capacity * 2 : 16;
        char **items = realloc(c->items, cap * sizeof *items);
        if (!items) return;
        c->items = items;
        c->capacity = cap;
    }
    char *copy = malloc(length + 1);
    if (!copy) return;
    memcpy(copy, text, length);
    copy[length] = '\0';
    c->items[c->count++] = copy;
}

static int compare_items(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_completions(LineEdit *le, char **items, size_t count) {
    size_t pos = le->pos;
    le->pos = le->len;
    refresh(le);
    le->pos = pos;
    write_str(le, "\r\n");
    if (count > 100) {
        char q[80];
        snprintf(q, sizeof q, "Display all %zu possibilities? (y or n)", count);
        write_str(le, q);
        int k;
        do k = read_key(le);
        while (k == KEY_AGAIN || k == KEY_NONE);
        write_str(le, "\r\n");
        if (k != 'y' && k != 'Y' && k != ' ') {
            le->cursor_row = 0;
            return;
        }
    }
    int cols = term_cols(le);
    size_t widest = 0;
    for (size_t i = 0; i < count; i++) {
        size_t w = text_width(items[i], strlen(items[i]));
        if (w > widest) widest = w;
    }
    size_t colw = widest + 2;
    size_t per_row = (size_t)cols / colw ? (size_t)cols / colw : 1;
    size_t rows = (count + per_row - 1) / per_row;
    StrBuf out;
    strbuf_init(&out);
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < per_row; c++) {
            size_t i = c * rows + r; // down the columns, as readline
            if (i >= count) break;
            strbuf_append_cstr(&out, items[i]);
            bool last = c + 1 == per_row || (c + 1) * rows + r >= count;
            if (!last) strbuf_append_repeat(&out, ' ', colw - text_width(items[i], strlen(items[i])));
        }
        strbuf_append_cstr(&out, "\r\n");
    }
    write_all(le->out_fd, out.chars, out.length);
    strbuf_free(&out);
    le->cursor_row = 0;
}

static void complete(LineEdit *le) {
    if (!le->complete) return;
    LineEditCompletions c = {le->pos, NULL, 0, 0};
    le->complete(le->complete_ctx, le->buf, le->pos, &c);
    if (c.start > le->pos) c.start = le->pos;
    if (c.count > 0) {
        qsort(c.items, c.count, sizeof *c.items, compare_items);
        size_t kept = 1;
        for (size_t i = 1; i < c.count; i++) {
            if (strcmp(c.items[i], c.items[kept - 1]) == 0) free(c.items[i]);
            else c.items[kept++] = c.items[i];
        }
        c.count = kept;
        size_t common = strlen(c.items[0]);
        for (size_t i = 1; i < c.count; i++) {
            size_t k = 0;
            while (k < common && c.items[i][k] == c.items[0][k]) k++;
            common = k;
        }
        while (common > 0 && ((unsigned char)c.items[0][common] & 0xC0) == 0x80) common--;
        size_t typed = le->pos - c.start;
        if (common > typed || (c.count == 1 && strncmp(c.items[0], le->buf + c.start, typed) != 0)) {
            delete_range(le, c.start, le->pos);
            insert(le, c.items[0], common);
            le->last_tab = false;
        } else if (c.count > 1) {
            if (le->last_tab) list_completions(le, c.items, c.count);
            le->last_tab = true;
        }
    }
    for (size_t i = 0; i < c.count; i++) free(c.items[i]);
    free(c.items);
}

// ---- the read loop ----------------------------------------------------------------------

LineEdit *lineedit_new(int in_fd, int out_fd) {
    LineEdit *le = calloc(1, sizeof *le);
    if (!le) return NULL;
    le->in_fd = in_fd;
    le->out_fd = out_fd;
    le->hist_max = 1000;
    strbuf_init(&le->query);
    reserve(le, 0);
    le->buf[0] = '\0';
    return le;
}

void lineedit_free(LineEdit *le) {
    if (!le) return;
    disable_raw(le);
    for (size_t i = 0; i < le->hist_len; i++) free(le->hist[i]);
    free(le->hist);
    free(le->buf);
    free(le->scratch);
    free(le->search_saved);
    free(le->kill);
    strbuf_free(&le->query);
    free(le);
}

void lineedit_set_completer(LineEdit *le, LineEditCompleter fn, void *ctx) {
    le->complete = fn;
    le->complete_ctx = ctx;
}

bool lineedit_pasting(const LineEdit *le) {
    return le->pasted_more;
}

// After a pasted line: is another pasted line waiting (not just the end marker)?
static bool more_paste(LineEdit *le) {
    if (!le->in_paste) return false;
    static const char end_marker[] = "\x1b[201~";
    while (le->unread_count < 6) { // peek: the bytes go to the unread queue
        struct pollfd p = {le->in_fd, POLLIN, 0};
        unsigned char c;
        if (poll(&p, 1, 0) <= 0 || read(le->in_fd, &c, 1) != 1) break;
        le->unread[le->unread_count++] = c;
    }
    if (le->unread_count == 0) return false;
    for (int i = 0; i < le->unread_count && end_marker[i]; i++)
        if (le->unread[i] != (unsigned char)end_marker[i]) return true;
    return false;
}

// Output that did not end its line would be overwritten by the prompt: a
// row of spaces wraps onto a new row only when the cursor is not at column 0
// (the trick zsh uses for PROMPT_SP), and "\r" comes back to that row's start.
static void start_on_fresh_line(LineEdit *le) {
    int cols = term_cols(le);
    StrBuf out;
    strbuf_init(&out);
    strbuf_append_repeat(&out, ' ', (size_t)cols);
    strbuf_append_char(&out, '\r');
    write_all(le->out_fd, out.chars, out.length);
    strbuf_free(&out);
}

static char *finish(LineEdit *le, LineEditStatus st, LineEditStatus *status) {
    le->searching = false;
    le->pos = le->len;
    refresh(le);
    write_str(le, st == LINEEDIT_INTERRUPT ? "^C\r\n" : "\r\n");
    le->pasted_more = st == LINEEDIT_OK && more_paste(le);
    disable_raw(le);
    *status = st;
    if (st != LINEEDIT_OK) return NULL;
    char *line = strdup(le->buf);
    if (!line) *status = LINEEDIT_ERROR;
    return line;
}

char *lineedit_read(LineEdit *le, const char *prompt, const char *initial, LineEditStatus *status) {
    if (!enable_raw(le)) {
        *status = LINEEDIT_ERROR;
        return NULL;
    }
    le->prompt = prompt;
    le->cursor_row = 0;
    le->hist_index = 0;
    le->searching = false;
    le->last_tab = false;
    le->pasted_more = false;
    set_line(le, NULL);
    if (initial && !le->in_paste && !input_pending(le)) set_line(le, initial);
    start_on_fresh_line(le);
    refresh(le);
    for (;;) {
        int key = read_key(le);
        char utf8[4];
        size_t utf8_len = 0;
        if (key >= 0x20 && key < 0x7F) {
            utf8[0] = (char)key;
            utf8_len = 1;
        } else if (key >= 0xC0 && key < 0xF8) {
            utf8[0] = (char)key;
            size_t need = key >= 0xF0 ? 4 : key >= 0xE0 ? 3 : 2;
            utf8_len = 1;
            while (utf8_len < need) {
                int c = read_byte(le, ESC_TIMEOUT_MS);
                if (c < 0x80 || c > 0xBF) {
                    unread_byte(le, c);
                    break;
                }
                utf8[utf8_len++] = (char)c;
            }
            if (utf8_len < need) {
                utf8_len = 0;
                key = KEY_NONE;
            }
        } else if (key >= 0x80 && key < 0x100) {
            key = KEY_NONE; // a stray continuation byte
        }
        if (key != '\r' && key != '\n') le->skip_lf = false;

        if (le->searching && key != KEY_AGAIN && key != KEY_NONE && key != KEY_EOF &&
            key != '\r' && key != '\n' && search_key(le, key, utf8, utf8_len)) {
            refresh(le);
            continue;
        }
        if (key != '\t') le->last_tab = false;
        if (utf8_len > 0) {
            insert(le, utf8, utf8_len);
            refresh(le);
            continue;
        }
        switch (key) {
        case KEY_EOF: // the terminal went away: drop the unfinished line
            return finish(le, LINEEDIT_EOF, status);
        case KEY_AGAIN:
            break;
        case KEY_NONE:
            continue;
        case '\r':
        case '\n':
            if (key == '\n' && le->skip_lf) {
                le->skip_lf = false;
                continue;
            }
            le->skip_lf = key == '\r';
            return finish(le, LINEEDIT_OK, status);
        case KEY_PASTE_START:
            le->in_paste = true;
            continue;
        case KEY_PASTE_END:
            le->in_paste = false;
            continue;
        case CTRL_KEY('C'):
            return finish(le, LINEEDIT_INTERRUPT, status);
        case CTRL_KEY('D'):
            if (only_spaces(le->buf, le->len)) return finish(le, LINEEDIT_EOF, status);
            delete_range(le, le->pos, char_right(le, le->pos));
            break;
        case '\t':
            if (le->in_paste || only_spaces(le->buf, le->pos)) {
                size_t n = INDENT - le->pos % INDENT;
                insert(le, "    ", le->in_paste ? INDENT : n);
            } else {
                complete(le);
            }
            break;
        case 127:
        case CTRL_KEY('H'):
            backspace(le);
            break;
        case KEY_DELETE:
            delete_range(le, le->pos, char_right(le, le->pos));
            break;
        case KEY_LEFT:
        case CTRL_KEY('B'):
            le->pos = char_left(le, le->pos);
            break;
        case KEY_RIGHT:
        case CTRL_KEY('F'):
            le->pos = char_right(le, le->pos);
            break;
        case KEY_HOME:
        case CTRL_KEY('A'):
            le->pos = 0;
            break;
        case KEY_END:
        case CTRL_KEY('E'):
            le->pos = le->len;
            break;
        case KEY_WORD_LEFT:
            le->pos = word_left(le, le->pos);
            break;
        case KEY_WORD_RIGHT:
            le->pos = word_right(le, le->pos);
            break;
        case KEY_KILL_WORD_LEFT:
            kill_range(le, word_left(le, le->pos), le->pos);
            break;
        case KEY_KILL_WORD_RIGHT:
            kill_range(le, le->pos, word_right(le, le->pos));
            break;
        case CTRL_KEY('K'):
            kill_range(le, le->pos, le->len);
            break;
        case CTRL_KEY('U'):
            kill_range(le, 0, le->pos);
            break;
        case CTRL_KEY('W'): {
            size_t i = le->pos;
            while (i > 0 && le->buf[i - 1] == ' ') i--;
            while (i > 0 && le->buf[i - 1] != ' ') i--;
            kill_range(le, i, le->pos);
            break;
        }
        case CTRL_KEY('Y'):
            if (le->kill) insert(le, le->kill, le->kill_len);
            break;
        case CTRL_KEY('L'):
            write_str(le, "\x1b[H\x1b[2J");
            le->cursor_row = 0;
            break;
        case KEY_UP:
        case CTRL_KEY('P'):
            history_move(le, true);
            break;
        case KEY_DOWN:
        case CTRL_KEY('N'):
            history_move(le, false);
            break;
        case CTRL_KEY('R'):
            search_start(le);
            break;
        case CTRL_KEY('Z'):
            disable_raw(le);
            raise(SIGTSTP);
            enable_raw(le);
            le->cursor_row = 0;
            break;
        default:
            continue; // other control keys do nothing
        }
        refresh(le);
    }
}
