/* `evt write|find`: an event written through this container's Event Log and
 * looked for again.
 *
 * `find` reads the log backwards with ReadEventLog and compares each record's
 * strings with the text; "records" is GetNumberOfEventLogRecords and "end" the
 * code ReadEventLog ended with (38, ERROR_HANDLE_EOF, is the normal end). */
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "commands.h"

#define EVENT_ID 1000
#define READ_BUFFER 0x10000

/* SOURCE TEXT: one information event with TEXT as its only string. */
static int evt_write(out_t *o, int argc, char **argv)
{
    if (argc != 2)
        return out_usage(o, "usage: evt write SOURCE TEXT");
    out_str(o, "source", argv[0]);
    WCHAR *source = utf8_to_wide(argv[0]);
    HANDLE h = RegisterEventSourceW(NULL, source);
    DWORD err = GetLastError();
    free(source);
    if (!h)
        return out_win32_error(o, "RegisterEventSourceW", err);

    WCHAR *text = utf8_to_wide(argv[1]);
    const WCHAR *strings[] = {text};
    BOOL reported = ReportEventW(h, EVENTLOG_INFORMATION_TYPE, 0, EVENT_ID, NULL, 1, 0,
                                 strings, NULL);
    err = GetLastError();
    free(text);
    DeregisterEventSource(h);
    return reported ? 0 : out_win32_error(o, "ReportEventW", err);
}

/* Does one record carry `text` in one of its strings? */
static int record_has(const EVENTLOGRECORD *r, const WCHAR *text)
{
    const WCHAR *s = (const WCHAR *)((const BYTE *)r + r->StringOffset);
    for (WORD i = 0; i < r->NumStrings; i++, s += wcslen(s) + 1)
        if (wcsstr(s, text))
            return 1;
    return 0;
}

typedef struct scan {
    DWORD scanned;
    int found;
    DWORD end; /* the code ReadEventLogW stopped with */
} scan_t;

static void scan_log(HANDLE h, const WCHAR *text, scan_t *sc)
{
    DWORD size = READ_BUFFER, got = 0, needed = 0;
    BYTE *buf = malloc(size);

    while (buf && !sc->found) {
        if (!ReadEventLogW(h, EVENTLOG_SEQUENTIAL_READ | EVENTLOG_BACKWARDS_READ, 0, buf,
                           size, &got, &needed)) {
            sc->end = GetLastError();
            if (sc->end != ERROR_INSUFFICIENT_BUFFER || needed <= size)
                break;
            free(buf);
            buf = malloc(size = needed);
            continue;
        }
        for (DWORD at = 0; at < got && !sc->found;) {
            const EVENTLOGRECORD *r = (const EVENTLOGRECORD *)(buf + at);
            sc->scanned++;
            sc->found = record_has(r, text);
            at += r->Length ? r->Length : got;
        }
    }
    if (!buf)
        sc->end = ERROR_NOT_ENOUGH_MEMORY;
    free(buf);
}

/* LOG TEXT: "found" says whether any record of LOG carries TEXT. */
static int evt_find(out_t *o, int argc, char **argv)
{
    if (argc != 2)
        return out_usage(o, "usage: evt find LOG TEXT");
    out_str(o, "log", argv[0]);
    WCHAR *log = utf8_to_wide(argv[0]);
    HANDLE h = OpenEventLogW(NULL, log);
    DWORD err = GetLastError(), records = 0;
    free(log);
    if (!h)
        return out_win32_error(o, "OpenEventLogW", err);

    if (GetNumberOfEventLogRecords(h, &records))
        out_int(o, "records", records);
    WCHAR *text = utf8_to_wide(argv[1]);
    scan_t sc = {0};
    scan_log(h, text, &sc);
    free(text);
    CloseEventLog(h);
    out_bool(o, "found", sc.found);
    out_int(o, "scanned", sc.scanned);
    if (!sc.found)
        out_int(o, "end", sc.end);
    if (sc.found || sc.end == ERROR_HANDLE_EOF)
        return 0;
    return out_win32_error(o, "ReadEventLogW", sc.end);
}

static const subcommand_t evt_commands[] = {
    {"write", evt_write, "write SOURCE TEXT: one information event"},
    {"find", evt_find, "find LOG TEXT: is there a record carrying TEXT?"},
    {NULL, NULL, NULL},
};

int cmd_evt(out_t *o, int argc, char **argv)
{
    return run_subcommand(o, "evt", evt_commands, argc, argv);
}
