/* `proc start`: server processes started inside a container (`proc stop|list`
 * live in svc_proc_end.c).
 *
 * `proc start` runs a program with its stdout on a pipe and waits for its first
 * line: the harness's servers (rpcsrv.exe, httpsrv.exe) print one JSON object
 * when they are ready or when they failed, and that object comes back as "ready".
 * A server that reports "ok": false makes the start fail with the server's own
 * error (e.g. HttpAddUrl 32), so decisions stay on Win32 codes.  A program that
 * prints nothing is running once the wait ends ("ready": null).  A program that
 * has exited by then fails with its exit code as the code (GetExitCodeProcess),
 * even after an "ok" line: a server that stops at once is not serving. */
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "commands.h"
#include "proc.h"

#define LINE_MAX_BYTES 65536

/* The command line of argv: every argument quoted, inner quotes escaped. */
static WCHAR *command_line(int argc, char **argv)
{
    size_t cap = 16;
    for (int i = 0; i < argc; i++)
        cap += strlen(argv[i]) * 2 + 3;
    WCHAR *line = calloc(cap, sizeof(WCHAR)), *p = line;
    if (!line)
        abort();
    for (int i = 0; i < argc; i++) {
        WCHAR *w = utf8_to_wide(argv[i]);
        *p++ = L'"';
        for (WCHAR *c = w; *c; c++) {
            if (*c == L'"')
                *p++ = L'\\';
            *p++ = *c;
        }
        *p++ = L'"';
        *p++ = i + 1 < argc ? L' ' : 0;
        free(w);
    }
    return line;
}

/* Reads the child's first line (or gives up when it exits or after wait_ms).
 * Returns the malloc'ed line, NULL when none came.  Once the child has exited,
 * ReadFile cannot block (no writer is left, unless the child handed its stdout to
 * a process of its own), so what it wrote is drained. */
static char *first_line(HANDLE pipe, HANDLE process, DWORD wait_ms)
{
    char *buf = calloc(LINE_MAX_BYTES + 1, 1);
    DWORD len = 0, start = GetTickCount();
    int exited = 0;
    if (!buf)
        abort();
    while (len < LINE_MAX_BYTES) {
        DWORD avail = 0, got = 0;
        char *nl = memchr(buf, '\n', len);
        if (nl) {
            *nl = 0;
            return buf;
        }
        BOOL open = PeekNamedPipe(pipe, NULL, 0, NULL, &avail, NULL);
        if (exited || !open || avail) {
            DWORD room = LINE_MAX_BYTES - len;
            DWORD want = exited || !open ? room : min(avail, room);
            if (!ReadFile(pipe, buf + len, want, &got, NULL) || !got)
                break; /* end of the child's output */
            len += got;
            continue;
        }
        if (GetTickCount() - start >= wait_ms)
            break;
        exited = WaitForSingleObject(process, 20) == WAIT_OBJECT_0;
    }
    free(buf);
    return NULL;
}

static int spawn(out_t *o, int argc, char **argv, HANDLE out_write, PROCESS_INFORMATION *pi)
{
    STARTUPINFOW si = {.cb = sizeof si, .dwFlags = STARTF_USESTDHANDLES};
    WCHAR *line = command_line(argc, argv);

    si.hStdOutput = out_write;
    si.hStdError = out_write;
    BOOL made = CreateProcessW(NULL, line, NULL, NULL, TRUE, CREATE_NO_WINDOW, NULL,
                               NULL, &si, pi);
    DWORD err = GetLastError();
    free(line);
    return made ? 0 : out_win32_error(o, "CreateProcessW", err);
}

/* The server's own answer decides: its "ok" and its "error" become ours. */
static int report_ready(out_t *o, const char *line)
{
    out_raw(o, "ready", line);
    const char *error = strstr(line, "\"error\":");
    if (strstr(line, "\"ok\":false") == NULL)
        return 0;
    const char *code = error ? strstr(error, "\"code\":") : NULL;
    const char *call = error ? strstr(error, "\"call\":\"") : NULL;
    char name[64] = "server";
    if (call) {
        call += 8;
        size_t n = strcspn(call, "\"");
        memcpy(name, call, min(n, sizeof name - 1));
        name[min(n, sizeof name - 1)] = 0;
    }
    return out_win32_error(o, name, code ? (DWORD)strtoul(code + 7, NULL, 10) : 1);
}

static int proc_start(out_t *o, int argc, char **argv)
{
    DWORD wait_ms = 10000;
    if (argc >= 2 && strcmp(argv[0], "--wait") == 0) {
        if (!arg_seconds_ms(argv[1], &wait_ms))
            return out_usage(o, "proc start: --wait SECONDS");
        argc -= 2;
        argv += 2;
    }
    if (argc < 1)
        return out_usage(o, "usage: proc start [--wait SECONDS] PROGRAM [ARGS...]");
    out_str(o, "program", argv[0]);

    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE rd, wr;
    PROCESS_INFORMATION pi;
    if (!CreatePipe(&rd, &wr, &sa, 0))
        return out_win32_error(o, "CreatePipe", GetLastError());
    SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
    int status = spawn(o, argc, argv, wr, &pi);
    CloseHandle(wr);
    if (status) {
        CloseHandle(rd);
        return status;
    }

    out_int(o, "pid", pi.dwProcessId);
    char *line = first_line(rd, pi.hProcess, wait_ms);
    CloseHandle(rd);
    DWORD code = STILL_ACTIVE;
    GetExitCodeProcess(pi.hProcess, &code);
    out_bool(o, "running", code == STILL_ACTIVE);
    if (line)
        status = report_ready(o, line);
    else
        out_null(o, "ready");
    free(line);
    if (!status && code != STILL_ACTIVE)
        status = out_error_msg(o, "GetExitCodeProcess", code, "the program exited");
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    return status;
}

static const subcommand_t proc_commands[] = {
    {"start", proc_start, "start [--wait SECONDS] PROGRAM [ARGS...]"},
    {"stop", proc_stop, "stop PID [--ask SECONDS]"},
    {"list", proc_list, "list [--module NAME]"},
    {NULL, NULL, NULL},
};

int cmd_proc(out_t *o, int argc, char **argv)
{
    return run_subcommand(o, "proc", proc_commands, argc, argv);
}
