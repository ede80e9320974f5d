/* `scm start|stop`: change a service's state and wait for the change to finish.
 *
 * The wait follows the rule of the SCM documentation ("Starting a Service"): a
 * pending service proves it is alive by advancing dwCheckPoint within dwWaitHint;
 * one that does not is hung.  The whole wait is also bounded by --wait.  We poll
 * at most every tenth of the wait hint as the docs suggest, but start at 5 ms and
 * back off to at most 250 ms instead of their 1-10 s, so that a start of 50 ms is
 * measured as such (QueryServiceStatusEx is cheap). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "scm.h"

#define DEFAULT_WAIT_MS 30000
#define POLL_MIN_MS 5
#define POLL_MAX_MS 250
/* A service that has not yet reported a wait hint gets this much grace; Windows'
 * SCM assumes 2 s for a service that has just been started. */
#define HINT_FLOOR_MS 2000

typedef struct wait {
    SERVICE_STATUS_PROCESS st;
    ULONGLONG started;   /* GetTickCount64 before the StartService/ControlService */
    int hung;            /* 0, or 1 after the bound, 2 after the checkpoint stalled */
} wait_t;

static DWORD poll_interval(DWORD hint, DWORD backoff, ULONGLONG left)
{
    DWORD ms = hint / 10;
    ms = ms < POLL_MIN_MS ? POLL_MIN_MS : ms > POLL_MAX_MS ? POLL_MAX_MS : ms;
    ms = backoff < ms ? backoff : ms;
    return left < ms ? (DWORD)left : ms;
}

/* Polls while the service is in `pending`; returns 0 or QueryServiceStatusEx's code. */
static DWORD wait_while(SC_HANDLE svc, DWORD pending, DWORD limit_ms, wait_t *w)
{
    DWORD err = scm_status(svc, &w->st);
    ULONGLONG progress_at = GetTickCount64(), deadline = w->started + limit_ms;
    DWORD checkpoint = w->st.dwCheckPoint, backoff = POLL_MIN_MS;

    while (!err && w->st.dwCurrentState == pending && limit_ms > 0) {
        ULONGLONG now = GetTickCount64();
        DWORD hint = w->st.dwWaitHint > HINT_FLOOR_MS ? w->st.dwWaitHint : HINT_FLOOR_MS;
        if (now >= deadline) {
            w->hung = 1;
            break;
        }
        if (now - progress_at > hint) {
            w->hung = 2;
            break;
        }
        Sleep(poll_interval(w->st.dwWaitHint, backoff, deadline - now));
        backoff = backoff < POLL_MAX_MS ? backoff * 2 : POLL_MAX_MS;
        err = scm_status(svc, &w->st);
        if (!err && w->st.dwCheckPoint != checkpoint) {
            checkpoint = w->st.dwCheckPoint;
            progress_at = GetTickCount64();
        }
    }
    return err;
}

/* Writes the final status and, when the target state was not reached, the error. */
static int report(out_t *o, const wait_t *w, DWORD pending, DWORD target)
{
    DWORD state = w->st.dwCurrentState, code = w->st.dwWin32ExitCode;
    char msg[160];

    scm_status_fields(o, &w->st);
    out_int(o, "elapsed_ms", (long long)(GetTickCount64() - w->started));
    if (w->hung) {
        snprintf(msg, sizeof msg, w->hung == 1 ? "still %s when --wait ran out"
                                               : "%s without checkpoint progress within "
                                                 "its wait hint", scm_state_name(pending));
        out_str(o, "hung", scm_state_name(pending));
        return out_error_msg(o, "wait", ERROR_SERVICE_REQUEST_TIMEOUT, msg);
    }
    if (state == target || state == pending)
        return 0;
    /* Stopped while starting: the service's own exit code says why (e.g. a WSA
     * bind error); a service that gave none died without saying. */
    snprintf(msg, sizeof msg, "ended in %s", scm_state_name(state));
    return out_error_msg(o, "wait", code ? code : ERROR_PROCESS_ABORTED, msg);
}

/* NAME [--wait SECONDS] [-- ARGS...]; returns 0 or 2 (usage, already written). */
static int parse_control(out_t *o, int argc, char **argv, DWORD *wait_ms, int *rest,
                         int allow_args, const char *usage)
{
    *wait_ms = DEFAULT_WAIT_MS;
    *rest = argc;
    if (argc < 1 || argv[0][0] == '-')
        return out_usage(o, usage);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--wait") == 0 && i + 1 < argc &&
            arg_seconds_ms(argv[i + 1], wait_ms))
            i++;
        else if (strcmp(argv[i], "--") == 0 && allow_args) {
            *rest = i + 1;
            return 0;
        } else
            return out_usage(o, usage);
    }
    return 0;
}

static BOOL start_with_args(SC_HANDLE svc, int argc, char **argv)
{
    WCHAR **wargv = calloc((size_t)argc + 1, sizeof *wargv);
    for (int i = 0; wargv && i < argc; i++)
        wargv[i] = utf8_to_wide(argv[i]);
    BOOL started = StartServiceW(svc, (DWORD)argc, (const WCHAR **)wargv);
    DWORD err = GetLastError();
    for (int i = 0; wargv && i < argc; i++)
        free(wargv[i]);
    free(wargv);
    SetLastError(err);
    return started;
}

/* After StartService/ControlService: on failure report the code together with the
 * current status (a caller deciding on 1056 or 1062 usually wants the pid too),
 * otherwise wait for `target`. */
static int finish(out_t *o, SC_HANDLE svc, const char *call, BOOL acted, DWORD pending,
                  DWORD target, DWORD wait_ms, wait_t *w)
{
    if (!acted) {
        DWORD code = GetLastError();
        if (!scm_status(svc, &w->st))
            scm_status_fields(o, &w->st);
        return out_win32_error(o, call, code);
    }
    DWORD err = wait_while(svc, pending, wait_ms, w);
    if (err)
        return out_win32_error(o, "QueryServiceStatusEx", err);
    return report(o, w, pending, target);
}

int scm_start(out_t *o, int argc, char **argv)
{
    static const char usage[] = "usage: scm start NAME [--wait SECONDS] [-- ARGS...]";
    SC_HANDLE scm, svc;
    DWORD wait_ms;
    int rest;
    wait_t w = {0};

    if (parse_control(o, argc, argv, &wait_ms, &rest, 1, usage))
        return 2;
    out_str(o, "name", argv[0]);
    if (scm_open(o, argv[0], SC_MANAGER_CONNECT, SERVICE_START | SERVICE_QUERY_STATUS,
                 &scm, &svc))
        return 1;

    w.started = GetTickCount64();
    BOOL started = start_with_args(svc, argc - rest, argv + rest);
    int status = finish(o, svc, "StartServiceW", started, SERVICE_START_PENDING,
                        SERVICE_RUNNING, wait_ms, &w);
    scm_close(scm, svc);
    return status;
}

int scm_stop(out_t *o, int argc, char **argv)
{
    static const char usage[] = "usage: scm stop NAME [--wait SECONDS]";
    SC_HANDLE scm, svc;
    SERVICE_STATUS ss;
    DWORD wait_ms;
    int rest;
    wait_t w = {0};

    if (parse_control(o, argc, argv, &wait_ms, &rest, 0, usage))
        return 2;
    out_str(o, "name", argv[0]);
    if (scm_open(o, argv[0], SC_MANAGER_CONNECT, SERVICE_STOP | SERVICE_QUERY_STATUS,
                 &scm, &svc))
        return 1;

    w.started = GetTickCount64();
    BOOL stopping = ControlService(svc, SERVICE_CONTROL_STOP, &ss);
    int status = finish(o, svc, "ControlService", stopping, SERVICE_STOP_PENDING,
                        SERVICE_STOPPED, wait_ms, &w);
    scm_close(scm, svc);
    return status;
}
