#include "CEditLine.h"
#include <errno.h>
#include <histedit.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct kam_editor {
    EditLine *el;
    History *hist;
    HistEvent ev;
    char *prompt;
    kam_completer completer;
};

static volatile sig_atomic_t interrupted = 0;
static volatile sig_atomic_t resized = 0;

/* SIGWINCH: the terminal changed size. The read in progress returns EINTR (no SA_RESTART),
   and read_char tells libedit the new width before it reads on, so a line being edited
   wraps at the new width. */
static void on_sigwinch(int sig) {
    (void)sig;
    resized = 1;
}
static volatile int *cancel_target = NULL;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
    if (cancel_target) *cancel_target = 1;
}

void kam_install_sigint(volatile int *cancel_flag) {
    cancel_target = cancel_flag;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked read returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    /* A parent may have started us with SIGINT blocked; Ctrl-C must reach us. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* Whether more input is already waiting on stdin (a paste of several lines). */
int kam_input_pending(void) {
    struct pollfd p = { .fd = 0, .events = POLLIN, .revents = 0 };
    return poll(&p, 1, 0) > 0 && (p.revents & POLLIN) ? 1 : 0;
}

int kam_interrupted(void) {
    int was = interrupted;
    interrupted = 0;
    return was;
}

static char *prompt_of(EditLine *el) {
    kam_editor *editor = NULL;
    el_get(el, EL_CLIENTDATA, &editor);
    return editor && editor->prompt ? editor->prompt : "";
}

/* Reads one character; gives up (so el_gets returns) when Ctrl-C interrupted the read. */
static int read_char(EditLine *el, wchar_t *c) {
    unsigned char bytes[4];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, bytes, 1);
        if (n == 1) break;
        if (n == 0) return 0;
        if (errno == EINTR) {
            if (interrupted) return -1;
            if (resized) {
                resized = 0;
                el_resize(el);
                el_set(el, EL_REFRESH);
            }
            continue;
        }
        return -1;
    }
    /* Decode one UTF-8 character. */
    int len = bytes[0] < 0x80 ? 1 : bytes[0] < 0xE0 ? 2 : bytes[0] < 0xF0 ? 3 : 4;
    for (int i = 1; i < len; i++) {
        if (read(STDIN_FILENO, bytes + i, 1) != 1) { len = i; break; }
    }
    wchar_t w = 0;
    if (len == 1) w = bytes[0];
    else if (len == 2) w = ((bytes[0] & 0x1F) << 6) | (bytes[1] & 0x3F);
    else if (len == 3) w = ((bytes[0] & 0x0F) << 12) | ((bytes[1] & 0x3F) << 6) | (bytes[2] & 0x3F);
    else w = ((bytes[0] & 0x07) << 18) | ((bytes[1] & 0x3F) << 12) | ((bytes[2] & 0x3F) << 6) | (bytes[3] & 0x3F);
    *c = w;
    return 1;
}

/* Tab: complete, unless more input is already waiting (a paste), then insert the tab. */
static unsigned char complete(EditLine *el, int ch) {
    (void)ch;
    kam_editor *editor = NULL;
    el_get(el, EL_CLIENTDATA, &editor);
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    if (!editor || !editor->completer || poll(&p, 1, 0) > 0) {
        el_insertstr(el, "  ");
        return CC_REFRESH;
    }
    const LineInfo *li = el_line(el);
    size_t n = (size_t)(li->cursor - li->buffer);
    char *before = malloc(n + 1);
    if (!before) return CC_ERROR;
    memcpy(before, li->buffer, n);
    before[n] = 0;
    char *answer = editor->completer(before);
    free(before);
    if (!answer) return CC_ERROR;
    char *nl = strchr(answer, '\n');
    if (nl) *nl = 0;
    int result = CC_REFRESH;
    if (answer[0]) el_insertstr(el, answer);
    if (nl && nl[1]) {
        /* Several candidates: list them in columns below the line, then redraw it. */
        fprintf(stdout, "\n%s", nl + 1);
        fflush(stdout);
        result = CC_REDISPLAY;
    } else if (!answer[0]) {
        result = CC_ERROR;
    }
    free(answer);
    return (unsigned char)result;
}

kam_editor *kam_editor_open(const char *program) {
    kam_editor *editor = calloc(1, sizeof *editor);
    if (!editor) return NULL;
    editor->el = el_init(program, stdin, stdout, stderr);
    if (!editor->el) { free(editor); return NULL; }
    editor->hist = history_init();
    history(editor->hist, &editor->ev, H_SETSIZE, 2000);
    history(editor->hist, &editor->ev, H_SETUNIQUE, 1);
    el_set(editor->el, EL_CLIENTDATA, editor);
    el_set(editor->el, EL_PROMPT, prompt_of);
    el_set(editor->el, EL_EDITOR, "emacs");
    el_set(editor->el, EL_HIST, history, editor->hist);
    el_set(editor->el, EL_GETCFN, read_char);
    el_set(editor->el, EL_ADDFN, "kam-complete", "complete", complete);
    el_set(editor->el, EL_BIND, "^I", "kam-complete", NULL);
    el_source(editor->el, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigwinch;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGWINCH, &sa, NULL);
    return editor;
}

void kam_editor_set_completer(kam_editor *editor, kam_completer completer) { editor->completer = completer; }

void kam_editor_close(kam_editor *editor) {
    if (!editor) return;
    el_end(editor->el);
    history_end(editor->hist);
    free(editor->prompt);
    free(editor);
}

void kam_editor_set_prompt(kam_editor *editor, const char *prompt) {
    free(editor->prompt);
    editor->prompt = strdup(prompt);
}

const char *kam_editor_read(kam_editor *editor, int *length) {
    return el_gets(editor->el, length);
}

void kam_editor_history_add(kam_editor *editor, const char *line) {
    history(editor->hist, &editor->ev, H_ENTER, line);
}

void kam_editor_history_size(kam_editor *editor, int size) {
    history(editor->hist, &editor->ev, H_SETSIZE, size);
}

int kam_editor_history_load(kam_editor *editor, const char *path) {
    return history(editor->hist, &editor->ev, H_LOAD, path);
}

int kam_editor_history_save(kam_editor *editor, const char *path) {
    return history(editor->hist, &editor->ev, H_SAVE, path);
}
