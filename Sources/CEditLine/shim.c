#include "CEditLine.h"
#include <histedit.h>
#include <stdlib.h>
#include <string.h>

struct kam_editor {
    EditLine *el;
    History *hist;
    HistEvent ev;
    char *prompt;
};

static char *prompt_of(EditLine *el) {
    kam_editor *editor = NULL;
    el_get(el, EL_CLIENTDATA, &editor);
    return editor && editor->prompt ? editor->prompt : "";
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
    el_set(editor->el, EL_SIGNAL, 1);
    el_source(editor->el, NULL);
    return editor;
}

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
