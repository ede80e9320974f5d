/* One JSON object per probe call, written to a growable buffer.
 *
 * Every command builds its answer with these helpers; main() (or the agent, which
 * runs many commands in one process) prints the buffer as one line.  Strings are
 * taken as UTF-16 (Windows' native form) or UTF-8 and always emitted as UTF-8 JSON.
 * "ok" is not written by the commands: dispatch() derives it from the exit status
 * and puts it first, so an answer can never disagree with its exit status.
 */
#ifndef PROBE_OUT_H
#define PROBE_OUT_H
#include <windows.h>

typedef struct out {
    char *buf;
    size_t len, cap;
    int need_comma; /* a value was written at the current nesting level */
} out_t;

void out_reset(out_t *o);
void out_free(out_t *o);
void out_begin(out_t *o);              /* { */
void out_end(out_t *o);                /* } */
void out_key(out_t *o, const char *key);
void out_obj(out_t *o, const char *key); /* "key": { */
void out_arr(out_t *o, const char *key); /* "key": [ */
void out_close_arr(out_t *o);          /* ] */
void out_str(out_t *o, const char *key, const char *utf8);   /* key may be NULL in arrays */
void out_wstr(out_t *o, const char *key, const WCHAR *wide);
void out_int(out_t *o, const char *key, long long value);
void out_bool(out_t *o, const char *key, int value);
void out_null(out_t *o, const char *key);
/* Raw JSON text as a value (it must already be valid JSON). */
void out_raw(out_t *o, const char *key, const char *json);
/* Put "ok": true|false as the first key of the top-level object (after out_end). */
void out_put_ok(out_t *o, int ok);
/* "error": {"call": "...", "code": N}; returns the exit status 1. */
int out_win32_error(out_t *o, const char *call, DWORD code);
/* The same with a human-readable "message" (never decided on, only read). */
int out_error_msg(out_t *o, const char *call, DWORD code, const char *message);
/* A usage problem: "error": {"call": "usage", "code": 87, "message": ...}; returns 2. */
int out_usage(out_t *o, const char *message);

/* Writes `n` bytes and a newline in one WriteFile, so concurrent writers never
 * interleave within a line; returns FALSE when the reader has gone away. */
BOOL write_line(HANDLE h, const char *s, size_t n);

/* UTF-8 <-> UTF-16 helpers; the result is malloc'ed.  Invalid input becomes U+FFFD. */
WCHAR *utf8_to_wide(const char *s);
char *wide_to_utf8(const WCHAR *w);

#endif
