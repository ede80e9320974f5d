/* agent.exe: the resident guest agent.
 *
 * Starting a Windows process under Wine costs a loader, a wineserver round trip
 * and DLL mapping each time; a resident agent pays that once.  It reads one JSON
 * request per line on stdin and answers each with one line
 *   {"id": 7, "exit": 0, "result": {...the object probe.exe would print...}}
 * Requests run one at a time in this process, so `obj create` markers stay held.
 * End of stdin ends the agent (exit 0): a controller that dies leaves nothing
 * behind.  `agent.exe --forever` ignores stdin and only keeps the container (its
 * wineserver and services) alive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../probe/commands.h"
#include "agent.h"
#include "agent_request.h"

typedef struct line_reader {
    HANDLE in;
    char *buf;
    size_t len, cap;
    size_t consumed; /* bytes of the line handed out last time */
    int eof;
} line_reader_t;

/* Next line without its "\n" (and "\r"), or NULL at end of input.  The returned
 * text stays valid until the next call. */
static char *next_line(line_reader_t *r)
{
    if (r->consumed) {
        memmove(r->buf, r->buf + r->consumed, r->len - r->consumed);
        r->len -= r->consumed;
        r->consumed = 0;
    }
    for (;;) {
        char *nl = memchr(r->buf, '\n', r->len);
        if (nl || (r->eof && r->len > 0)) {
            size_t n = nl ? (size_t)(nl - r->buf) : r->len;
            r->consumed = nl ? n + 1 : n;
            r->buf[n] = 0;
            if (n > 0 && r->buf[n - 1] == '\r')
                r->buf[n - 1] = 0;
            return r->buf;
        }
        if (r->eof)
            return NULL;
        if (r->cap - r->len < 65536) {
            r->cap = r->cap ? r->cap * 2 : 1 << 20;
            if (!(r->buf = realloc(r->buf, r->cap + 1)))
                abort();
        }
        DWORD got = 0;
        if (!ReadFile(r->in, r->buf + r->len, (DWORD)(r->cap - r->len), &got, NULL) || !got)
            r->eof = 1;
        r->len += got;
    }
}

static void answer(const char *id, int status, const out_t *result)
{
    size_t n = strlen(id ? id : "null") + result->len + 64;
    char *line = malloc(n);
    if (!line)
        abort();
    int len = snprintf(line, n, "{\"id\":%s,\"exit\":%d,\"result\":%s}", id ? id : "null",
                       status, result->buf);
    write_line(GetStdHandle(STD_OUTPUT_HANDLE), line, (size_t)len);
    free(line);
}

static void serve_one(const char *text, out_t *o)
{
    request_t q;
    const char *error = request_parse(text, &q);
    int status;

    out_reset(o);
    if (error) {
        out_begin(o);
        out_str(o, "command", "agent");
        status = out_usage(o, error);
        out_end(o);
        out_put_ok(o, 0);
    } else if (q.put)
        status = agent_put(o, q.put, q.data_b64);
    else
        status = dispatch(o, q.argc, q.argv);
    answer(q.id, status, o);
    request_free(&q);
}

static void ready(void)
{
    char line[64];
    int n = snprintf(line, sizeof line, "{\"ready\":true,\"pid\":%lu}",
                     (unsigned long)GetCurrentProcessId());
    write_line(GetStdHandle(STD_OUTPUT_HANDLE), line, (size_t)n);
}

int wmain(int argc, WCHAR **argv)
{
    line_reader_t r = {GetStdHandle(STD_INPUT_HANDLE), NULL, 0, 0, 0, 0};
    out_t o = {0};
    char *text;

    ready();
    if (argc > 1 && wcscmp(argv[1], L"--forever") == 0)
        for (;;)
            Sleep(INFINITE);
    while ((text = next_line(&r)) != NULL)
        if (text[strspn(text, " \t\r")])
            serve_one(text, &o);
    return 0;
}
