/* `proc stop PID [--ask SECONDS]` and `proc list [--module NAME]`.
 *
 * `stop` terminates the process.  With --ask it first sets the event
 * harness-stop-PID (PROC_STOP_EVENT) and waits up to SECONDS for the process to
 * end by itself: the harness's servers wait on that event to undo what they
 * registered (rpcsrv.exe removes its endpoint-mapper entry, which a terminated
 * server leaves behind).  "how" says which way it ended ("asked" or
 * "terminated"), "exit_code" what it returned.  A program without that event
 * is error 2 (OpenEventW) and keeps running; one that does not end in time is
 * terminated and reported as error 258 (WAIT_TIMEOUT).
 *
 * `list --module NAME` lists only the processes that have a module of that file
 * name loaded (without case): on Wine a kernel driver such as http.sys runs in
 * a winedevice.exe process, which this finds.  Processes whose modules cannot be
 * read (another session's, a protected one) are left out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <tlhelp32.h>
#include "args.h"
#include "proc.h"

/* Sets the stop event of `pid`; 0 or the Win32 code of OpenEventW/SetEvent. */
static DWORD ask_to_stop(DWORD pid)
{
    WCHAR name[64];
    swprintf(name, sizeof name / sizeof name[0], PROC_STOP_EVENT, (unsigned long)pid);
    HANDLE event = OpenEventW(EVENT_MODIFY_STATE, FALSE, name);
    if (!event)
        return GetLastError();
    DWORD err = SetEvent(event) ? 0 : GetLastError();
    CloseHandle(event);
    return err;
}

static int end_process(out_t *o, HANDLE h, DWORD ask_ms, int ask)
{
    const char *call = NULL;
    DWORD err = 0, code = 0;
    if (ask && (err = ask_to_stop(GetProcessId(h))))
        return out_win32_error(o, "OpenEventW", err);
    if (ask && WaitForSingleObject(h, ask_ms) != WAIT_OBJECT_0)
        err = WAIT_TIMEOUT, call = "WaitForSingleObject";
    int asked = ask && !err;
    if (!asked && !TerminateProcess(h, 1))
        return out_win32_error(o, "TerminateProcess", GetLastError());
    WaitForSingleObject(h, 10000);
    GetExitCodeProcess(h, &code);
    out_str(o, "how", asked ? "asked" : "terminated");
    out_int(o, "exit_code", code);
    return call ? out_win32_error(o, call, err) : 0;
}

int proc_stop(out_t *o, int argc, char **argv)
{
    DWORD pid, ask_ms = 0;
    int ask = argc == 3 && strcmp(argv[1], "--ask") == 0;
    if ((argc != 1 && !ask) || !arg_dword(argv[0], &pid) ||
        (ask && !arg_seconds_ms(argv[2], &ask_ms)))
        return out_usage(o, "usage: proc stop PID [--ask SECONDS]");
    out_int(o, "pid", pid);

    HANDLE h = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE | PROCESS_QUERY_INFORMATION,
                           FALSE, pid);
    if (!h)
        return out_win32_error(o, "OpenProcess", GetLastError());
    int status = end_process(o, h, ask_ms, ask);
    CloseHandle(h);
    return status;
}

/* Whether process `pid` has a module named `module` loaded (0 when unreadable). */
static int has_module(DWORD pid, const WCHAR *module)
{
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPMODULE, pid);
    MODULEENTRY32W m = {.dwSize = sizeof m};
    int found = 0;
    if (snap == INVALID_HANDLE_VALUE)
        return 0;
    for (BOOL more = Module32FirstW(snap, &m); more && !found;
         more = Module32NextW(snap, &m))
        found = _wcsicmp(m.szModule, module) == 0;
    CloseHandle(snap);
    return found;
}

int proc_list(out_t *o, int argc, char **argv)
{
    if (argc != 0 && (argc != 2 || strcmp(argv[0], "--module") != 0))
        return out_usage(o, "usage: proc list [--module NAME]");
    WCHAR *module = argc ? utf8_to_wide(argv[1]) : NULL;

    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    PROCESSENTRY32W e = {.dwSize = sizeof e};
    if (snap == INVALID_HANDLE_VALUE) {
        free(module);
        return out_win32_error(o, "CreateToolhelp32Snapshot", GetLastError());
    }
    out_arr(o, "processes");
    for (BOOL more = Process32FirstW(snap, &e); more; more = Process32NextW(snap, &e)) {
        if (module && !has_module(e.th32ProcessID, module))
            continue;
        out_begin(o);
        out_int(o, "pid", e.th32ProcessID);
        out_wstr(o, "name", e.szExeFile);
        out_end(o);
    }
    out_close_arr(o);
    CloseHandle(snap);
    free(module);
    return 0;
}
