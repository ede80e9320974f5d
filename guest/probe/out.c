/* The JSON writer declared in out.h.  Allocation failure aborts: a probe that
 * cannot allocate a few kilobytes has nothing trustworthy left to report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "out.h"

static void grow(out_t *o, size_t extra)
{
    if (o->len + extra + 1 <= o->cap)
        return;
    size_t cap = o->cap ? o->cap : 256;
    while (cap < o->len + extra + 1)
        cap *= 2;
    char *buf = realloc(o->buf, cap);
    if (!buf)
        abort();
    o->buf = buf;
    o->cap = cap;
}

static void put(out_t *o, const char *s, size_t n)
{
    grow(o, n);
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = 0;
}

static void puts0(out_t *o, const char *s) { put(o, s, strlen(s)); }

/* JSON escaping; bytes >= 0x80 pass through (callers hand us valid UTF-8). */
static void put_string(out_t *o, const char *s)
{
    char esc[8];
    put(o, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(o, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            put(o, esc, 6);
        } else {
            put(o, (const char *)p, 1);
        }
    }
    put(o, "\"", 1);
}

void out_reset(out_t *o)
{
    o->len = 0;
    o->need_comma = 0;
    grow(o, 0);
    o->buf[0] = 0;
}

void out_free(out_t *o)
{
    free(o->buf);
    memset(o, 0, sizeof *o);
}

void out_key(out_t *o, const char *key)
{
    if (o->need_comma)
        put(o, ",", 1);
    o->need_comma = 1;
    if (key) {
        put_string(o, key);
        put(o, ":", 1);
    }
}

static void open_with(out_t *o, const char *key, const char *bracket)
{
    out_key(o, key);
    puts0(o, bracket);
    o->need_comma = 0;
}

void out_begin(out_t *o) { open_with(o, NULL, "{"); }
void out_obj(out_t *o, const char *key) { open_with(o, key, "{"); }
void out_arr(out_t *o, const char *key) { open_with(o, key, "["); }

/* After a close the enclosing level holds a value, so the next one needs a comma. */
void out_end(out_t *o) { puts0(o, "}"); o->need_comma = 1; }
void out_close_arr(out_t *o) { puts0(o, "]"); o->need_comma = 1; }

void out_str(out_t *o, const char *key, const char *utf8)
{
    out_key(o, key);
    if (utf8)
        put_string(o, utf8);
    else
        puts0(o, "null");
}

void out_wstr(out_t *o, const char *key, const WCHAR *wide)
{
    char *s = wide ? wide_to_utf8(wide) : NULL;
    out_str(o, key, s);
    free(s);
}

void out_int(out_t *o, const char *key, long long value)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", value);
    out_key(o, key);
    puts0(o, num);
}

void out_bool(out_t *o, const char *key, int value)
{
    out_key(o, key);
    puts0(o, value ? "true" : "false");
}

void out_null(out_t *o, const char *key) { out_raw(o, key, "null"); }

void out_raw(out_t *o, const char *key, const char *json)
{
    out_key(o, key);
    puts0(o, json);
}

void out_put_ok(out_t *o, int ok)
{
    const char *text = ok ? "\"ok\":true" : "\"ok\":false";
    int empty = o->len >= 2 && o->buf[1] == '}';
    size_t n = strlen(text) + (empty ? 0 : 1);

    grow(o, n);
    memmove(o->buf + 1 + n, o->buf + 1, o->len - 1 + 1);
    memcpy(o->buf + 1, text, strlen(text));
    if (!empty)
        o->buf[n] = ',';
    o->len += n;
}

int out_error_msg(out_t *o, const char *call, DWORD code, const char *message)
{
    out_obj(o, "error");
    out_str(o, "call", call);
    out_int(o, "code", (long long)code);
    if (message)
        out_str(o, "message", message);
    out_end(o);
    return 1;
}

int out_win32_error(out_t *o, const char *call, DWORD code)
{
    return out_error_msg(o, call, code, NULL);
}

int out_usage(out_t *o, const char *message)
{
    out_error_msg(o, "usage", ERROR_INVALID_PARAMETER, message);
    return 2;
}

WCHAR *utf8_to_wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
    WCHAR *w = malloc((size_t)(n > 0 ? n : 1) * sizeof(WCHAR));
    if (!w)
        abort();
    w[0] = 0;
    if (n > 0)
        MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n);
    return w;
}

char *wide_to_utf8(const WCHAR *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    char *s = malloc(n > 0 ? (size_t)n : 1);
    if (!s)
        abort();
    s[0] = 0;
    if (n > 0)
        WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
    return s;
}

BOOL write_line(HANDLE h, const char *s, size_t n)
{
    char *line = malloc(n + 1);
    DWORD written = 0;
    if (!line)
        abort();
    memcpy(line, s, n);
    line[n] = '\n';
    BOOL done = WriteFile(h, line, (DWORD)(n + 1), &written, NULL) && written == n + 1;
    free(line);
    return done;
}
