/* dupsvc.exe: an ordinary own-process service, the "ordinary" service under test.
 *
 * Options come from the binpath and then from StartService's arguments (which win):
 *   --port N               answer TCP connections on all IPv4 addresses, port N
 *   --start-pending SECS   stay START_PENDING (advancing the checkpoint) that long
 *   --stop-pending SECS    the same when stopping
 *   --stall                while pending, report once and then never again (a
 *                          hung service, as opposed to a slow one)
 * Every connection gets {"service", "identity", "pid", "port"} as one JSON line.
 * When it cannot listen it stops with dwWin32ExitCode set to the WSA error, so
 * `scm query` tells why; bad options stop it with 87. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dupsvc.h"
#include "../probe/args.h"
#include "../probe/identity.h"
#include "../probe/out.h"

#define PENDING_STEP_MS 500
#define PENDING_HINT_MS 2000 /* four steps of grace before a waiter calls us hung */

static dupsvc_options_t binpath_options;
static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS status;
static HANDLE stop_event;

static void set_state(DWORD state, DWORD exit_code, DWORD wait_hint)
{
    int pending = state != SERVICE_RUNNING && state != SERVICE_STOPPED;
    status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    status.dwCurrentState = state;
    status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP : 0;
    status.dwWin32ExitCode = exit_code;
    status.dwServiceSpecificExitCode = 0;
    status.dwWaitHint = wait_hint;
    status.dwCheckPoint = pending ? status.dwCheckPoint + 1 : 0;
    SetServiceStatus(status_handle, &status);
}

/* Stays in `state` for `ms`, advancing the checkpoint so a waiter sees progress.
 * With --stall it stays silent after the report that entered `state` (made by
 * service_main or the control handler), as a hung service does. */
static void linger(DWORD state, DWORD ms, int stall)
{
    ULONGLONG end = GetTickCount64() + ms;
    for (ULONGLONG now = GetTickCount64(); now < end; now = GetTickCount64()) {
        if (!stall)
            set_state(state, NO_ERROR, PENDING_HINT_MS);
        Sleep(end - now < PENDING_STEP_MS ? (DWORD)(end - now) : PENDING_STEP_MS);
    }
}

/* Applies the options (UTF-16, as both sources give them) over `o`. */
static int parse_options(int argc, WCHAR **argv, dupsvc_options_t *o)
{
    for (int i = 0; i < argc; i += 2) {
        if (wcscmp(argv[i], L"--stall") == 0) {
            o->stall = 1;
            i--;
            continue;
        }
        char *value = i + 1 < argc ? wide_to_utf8(argv[i + 1]) : NULL;
        int good = 0;
        if (value && wcscmp(argv[i], L"--port") == 0)
            good = arg_dword(value, &o->port) && o->port < 65536;
        else if (value && wcscmp(argv[i], L"--start-pending") == 0)
            good = arg_seconds_ms(value, &o->start_pending_ms);
        else if (value && wcscmp(argv[i], L"--stop-pending") == 0)
            good = arg_seconds_ms(value, &o->stop_pending_ms);
        free(value);
        if (!good)
            return 0;
    }
    return 1;
}

static DWORD WINAPI handler(DWORD control, DWORD type, void *data, void *context)
{
    (void)type, (void)data, (void)context;
    if (control == SERVICE_CONTROL_INTERROGATE)
        return NO_ERROR;
    if (control != SERVICE_CONTROL_STOP)
        return ERROR_CALL_NOT_IMPLEMENTED;
    set_state(SERVICE_STOP_PENDING, NO_ERROR, PENDING_HINT_MS);
    SetEvent(stop_event);
    return NO_ERROR;
}

/* RUNNING until stopped; with a port, answering connections meanwhile. */
static DWORD run(const WCHAR *name, const dupsvc_options_t *o, const WCHAR *identity)
{
    int wsa_error = 0;
    SOCKET listener = INVALID_SOCKET;

    if (o->port && (listener = dupsvc_listen(o->port, &wsa_error)) == INVALID_SOCKET)
        return (DWORD)wsa_error;
    set_state(SERVICE_RUNNING, NO_ERROR, 0);
    if (listener != INVALID_SOCKET)
        dupsvc_serve(listener, stop_event, name, identity, o->port);
    else
        WaitForSingleObject(stop_event, INFINITE);
    linger(SERVICE_STOP_PENDING, o->stop_pending_ms, o->stall);
    if (listener != INVALID_SOCKET)
        closesocket(listener);
    return NO_ERROR;
}

static void WINAPI service_main(DWORD argc, WCHAR **argv)
{
    dupsvc_options_t o = binpath_options;
    const WCHAR *name = argc > 0 ? argv[0] : L"";

    status_handle = RegisterServiceCtrlHandlerExW(name, handler, NULL);
    if (!status_handle)
        return;
    stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
    set_state(SERVICE_START_PENDING, NO_ERROR, PENDING_HINT_MS);
    if (!parse_options((int)argc - 1, argv + 1, &o)) {
        set_state(SERVICE_STOPPED, ERROR_INVALID_PARAMETER, 0);
        return;
    }

    WCHAR *identity = identity_read();
    linger(SERVICE_START_PENDING, o.start_pending_ms, o.stall);
    DWORD exit_code = run(name, &o, identity);
    free(identity);
    set_state(SERVICE_STOPPED, exit_code, 0);
}

/* Run by hand (not by the SCM) the dispatcher fails with 1063; say so as JSON. */
static int not_a_service(DWORD code, const char *call, const char *message)
{
    out_t o = {0};
    out_reset(&o);
    out_begin(&o);
    out_str(&o, "command", "dupsvc");
    int status = code == ERROR_INVALID_PARAMETER ? out_usage(&o, message)
                                                 : out_error_msg(&o, call, code, message);
    out_end(&o);
    out_put_ok(&o, 0);
    write_line(GetStdHandle(STD_OUTPUT_HANDLE), o.buf, o.len);
    return status;
}

int wmain(int argc, WCHAR **argv)
{
    SERVICE_TABLE_ENTRYW table[] = {{L"", service_main}, {NULL, NULL}};

    if (!parse_options(argc - 1, argv + 1, &binpath_options))
        return not_a_service(ERROR_INVALID_PARAMETER, "usage",
                             "usage: dupsvc.exe [--port N] [--start-pending SECONDS] "
                             "[--stop-pending SECONDS] [--stall]");
    if (!StartServiceCtrlDispatcherW(table))
        return not_a_service(GetLastError(), "StartServiceCtrlDispatcherW",
                             "dupsvc.exe runs as a service: install it with "
                             "`probe scm create NAME BINPATH`");
    return 0;
}
