/* `scm query|list` and the helpers of the scm family. */
#include <stdlib.h>
#include "args.h"
#include "commands.h"
#include "scm.h"

const char *scm_state_name(DWORD state)
{
    static const char *names[] = {"UNKNOWN", "STOPPED", "START_PENDING", "STOP_PENDING",
                                  "RUNNING", "CONTINUE_PENDING", "PAUSE_PENDING", "PAUSED"};
    return state < sizeof names / sizeof names[0] ? names[state] : "UNKNOWN";
}

void scm_status_fields(out_t *o, const SERVICE_STATUS_PROCESS *st)
{
    out_str(o, "state", scm_state_name(st->dwCurrentState));
    out_int(o, "state_code", st->dwCurrentState);
    out_int(o, "pid", st->dwProcessId);
    out_int(o, "win32_exit_code", st->dwWin32ExitCode);
    out_int(o, "service_exit_code", st->dwServiceSpecificExitCode);
    out_int(o, "checkpoint", st->dwCheckPoint);
    out_int(o, "wait_hint", st->dwWaitHint);
    out_int(o, "controls_accepted", st->dwControlsAccepted);
}

DWORD scm_status(SC_HANDLE svc, SERVICE_STATUS_PROCESS *st)
{
    DWORD needed;
    if (QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (BYTE *)st, sizeof *st, &needed))
        return 0;
    return GetLastError();
}

int scm_open(out_t *o, const char *name, DWORD scm_access, DWORD svc_access,
             SC_HANDLE *scm, SC_HANDLE *svc)
{
    *svc = NULL;
    *scm = OpenSCManagerW(NULL, NULL, scm_access);
    if (!*scm)
        return out_win32_error(o, "OpenSCManagerW", GetLastError());
    if (!name)
        return 0;

    WCHAR *wname = utf8_to_wide(name);
    *svc = OpenServiceW(*scm, wname, svc_access);
    DWORD err = GetLastError();
    free(wname);
    if (*svc)
        return 0;
    CloseServiceHandle(*scm);
    *scm = NULL;
    return out_win32_error(o, "OpenServiceW", err);
}

void scm_close(SC_HANDLE scm, SC_HANDLE svc)
{
    if (svc)
        CloseServiceHandle(svc);
    if (scm)
        CloseServiceHandle(scm);
}

int scm_query(out_t *o, int argc, char **argv)
{
    SC_HANDLE scm, svc;
    SERVICE_STATUS_PROCESS st;

    if (argc != 1)
        return out_usage(o, "usage: scm query NAME");
    out_str(o, "name", argv[0]);
    if (scm_open(o, argv[0], SC_MANAGER_CONNECT, SERVICE_QUERY_STATUS, &scm, &svc))
        return 1;

    DWORD err = scm_status(svc, &st);
    scm_close(scm, svc);
    if (err)
        return out_win32_error(o, "QueryServiceStatusEx", err);
    scm_status_fields(o, &st);
    return 0;
}

static void list_entries(out_t *o, const ENUM_SERVICE_STATUS_PROCESSW *e, DWORD n)
{
    for (DWORD i = 0; i < n; i++) {
        out_begin(o);
        out_wstr(o, "name", e[i].lpServiceName);
        out_str(o, "state", scm_state_name(e[i].ServiceStatusProcess.dwCurrentState));
        out_int(o, "pid", e[i].ServiceStatusProcess.dwProcessId);
        out_end(o);
    }
}

/* EnumServicesStatusExW in rounds: ERROR_MORE_DATA means "call again from resume". */
static DWORD enum_services(out_t *o, SC_HANDLE scm)
{
    DWORD size = 64 * 1024, needed = 0, count = 0, resume = 0, err = ERROR_MORE_DATA;
    BYTE *buf = NULL;

    while (err == ERROR_MORE_DATA) {
        if (needed > size)
            size = needed;
        free(buf);
        buf = malloc(size);
        if (!buf)
            return ERROR_NOT_ENOUGH_MEMORY;
        BOOL done = EnumServicesStatusExW(scm, SC_ENUM_PROCESS_INFO, SERVICE_WIN32,
                                          SERVICE_STATE_ALL, buf, size, &needed, &count,
                                          &resume, NULL);
        err = done ? 0 : GetLastError();
        if (done || err == ERROR_MORE_DATA)
            list_entries(o, (ENUM_SERVICE_STATUS_PROCESSW *)buf, count);
        if (err == ERROR_MORE_DATA && count == 0 && needed <= size)
            break; /* no progress possible: report the code rather than spin */
    }
    free(buf);
    return err;
}

int scm_list(out_t *o, int argc, char **argv)
{
    SC_HANDLE scm, svc;
    (void)argv;

    if (argc != 0)
        return out_usage(o, "usage: scm list");
    if (scm_open(o, NULL, SC_MANAGER_ENUMERATE_SERVICE, 0, &scm, &svc))
        return 1;
    out_arr(o, "services");
    DWORD err = enum_services(o, scm);
    out_close_arr(o);
    scm_close(scm, svc);
    return err ? out_win32_error(o, "EnumServicesStatusExW", err) : 0;
}

static const subcommand_t scm_commands[] = {
    {"query", scm_query, "query NAME"},
    {"start", scm_start, "start NAME [--wait SECONDS] [-- ARGS...]"},
    {"stop", scm_stop, "stop NAME [--wait SECONDS]"},
    {"create", scm_create,
     "create NAME BINPATH [--display TEXT] [--start demand|auto] [--depend A,B]"},
    {"delete", scm_delete, "delete NAME"},
    {"config", scm_config, "config NAME --start auto|demand|disabled"},
    {"list", scm_list, "list"},
    {NULL, NULL, NULL},
};

int cmd_scm(out_t *o, int argc, char **argv)
{
    return run_subcommand(o, "scm", scm_commands, argc, argv);
}
