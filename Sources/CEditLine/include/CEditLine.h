#ifndef KAM_CEDITLINE_H
#define KAM_CEDITLINE_H
#include <stddef.h>

/// An opaque line editor: libedit's EditLine plus its History, behind calls Swift can make
/// (el_set and history are variadic, which Swift cannot call directly).
typedef struct kam_editor kam_editor;

/// Completion: given the text before the cursor, returns a malloc'd string whose first
/// line is the text to insert and whose following lines are candidates to list (or NULL).
typedef char *(*kam_completer)(const char *before_cursor);

/// Opens an editor on the process's terminal with emacs bindings and ~/.editrc applied.
kam_editor *kam_editor_open(const char *program);
void kam_editor_close(kam_editor *editor);
/// Sets the prompt shown by the next kam_editor_read.
void kam_editor_set_prompt(kam_editor *editor, const char *prompt);
/// Reads one line; returns NULL at end of input or when Ctrl-C interrupted the read
/// (kam_interrupted() then says so). *length receives the byte count.
const char *kam_editor_read(kam_editor *editor, int *length);
/// Adds an entry to the in-memory history.
void kam_editor_history_add(kam_editor *editor, const char *line);
/// Keeps at most size entries.
void kam_editor_history_size(kam_editor *editor, int size);
int kam_editor_history_load(kam_editor *editor, const char *path);
int kam_editor_history_save(kam_editor *editor, const char *path);
/// Binds Tab to completion through `completer`.
void kam_editor_set_completer(kam_editor *editor, kam_completer completer);

/// Installs a SIGINT handler (without SA_RESTART) that sets *cancel_flag and marks the
/// editor's read as interrupted.
void kam_install_sigint(volatile int *cancel_flag);
/// Whether Ctrl-C arrived since the last call; clears the mark.
int kam_interrupted(void);
/// Whether more input is already waiting on stdin (the rest of a paste).
int kam_input_pending(void);

#endif
