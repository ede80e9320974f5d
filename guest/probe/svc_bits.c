/* `bits create|list|cancel`: transfer jobs of this container's BITS service.
 *
 * The manager is the BITS service's COM object (CLSCTX_LOCAL_SERVER: creating it
 * starts the service); jobs are download jobs without files, named by the caller,
 * and `list` shows this user's jobs.  COM failures are reported as the HRESULT's
 * 32 bits. */
#define COBJMACROS
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <bits.h>
#include "args.h"
#include "commands.h"

typedef int (*job_fn)(out_t *o, IBackgroundCopyJob *job, const WCHAR *name);

static int open_manager(out_t *o, IBackgroundCopyManager **mgr)
{
    HRESULT hr = CoCreateInstance(&CLSID_BackgroundCopyManager, NULL, CLSCTX_LOCAL_SERVER,
                                  &IID_IBackgroundCopyManager, (void **)mgr);
    return FAILED(hr) ? out_win32_error(o, "CoCreateInstance", (DWORD)hr) : 0;
}

/* Runs `fn` with the manager between CoInitializeEx and CoUninitialize. */
static int with_manager(out_t *o, int (*fn)(out_t *, IBackgroundCopyManager *, char *),
                        char *arg)
{
    int com = SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED));
    IBackgroundCopyManager *mgr = NULL;
    int status = open_manager(o, &mgr);
    if (!status) {
        status = fn(o, mgr, arg);
        IBackgroundCopyManager_Release(mgr);
    }
    if (com)
        CoUninitialize();
    return status;
}

static void guid_field(out_t *o, const char *key, const GUID *id)
{
    WCHAR text[40];
    if (StringFromGUID2(id, text, 40))
        out_wstr(o, key, text);
}

static int create_job(out_t *o, IBackgroundCopyManager *mgr, char *name)
{
    WCHAR *wname = utf8_to_wide(name);
    IBackgroundCopyJob *job = NULL;
    GUID id;
    HRESULT hr = IBackgroundCopyManager_CreateJob(mgr, wname, BG_JOB_TYPE_DOWNLOAD, &id,
                                                  &job);
    free(wname);
    if (FAILED(hr))
        return out_win32_error(o, "IBackgroundCopyManager::CreateJob", (DWORD)hr);
    guid_field(o, "id", &id);
    IBackgroundCopyJob_Release(job);
    return 0;
}

/* Calls `fn` for every job of this user; returns 0 or the failed call's status. */
static int each_job(out_t *o, IBackgroundCopyManager *mgr, job_fn fn, const WCHAR *name)
{
    IEnumBackgroundCopyJobs *jobs = NULL;
    HRESULT hr = IBackgroundCopyManager_EnumJobs(mgr, 0, &jobs);
    if (FAILED(hr))
        return out_win32_error(o, "IBackgroundCopyManager::EnumJobs", (DWORD)hr);
    IBackgroundCopyJob *job;
    ULONG got = 0;
    int status = 0;
    while (!status && IEnumBackgroundCopyJobs_Next(jobs, 1, &job, &got) == S_OK && got) {
        status = fn(o, job, name);
        IBackgroundCopyJob_Release(job);
    }
    IEnumBackgroundCopyJobs_Release(jobs);
    return status;
}

static int list_one(out_t *o, IBackgroundCopyJob *job, const WCHAR *name)
{
    WCHAR *display = NULL;
    BG_JOB_STATE state;
    GUID id;
    (void)name;
    out_begin(o);
    if (SUCCEEDED(IBackgroundCopyJob_GetDisplayName(job, &display)))
        out_wstr(o, "name", display);
    CoTaskMemFree(display);
    if (SUCCEEDED(IBackgroundCopyJob_GetId(job, &id)))
        guid_field(o, "id", &id);
    if (SUCCEEDED(IBackgroundCopyJob_GetState(job, &state)))
        out_int(o, "state", state);
    out_end(o);
    return 0;
}

static int list_jobs(out_t *o, IBackgroundCopyManager *mgr, char *unused)
{
    (void)unused;
    out_arr(o, "jobs");
    int status = each_job(o, mgr, list_one, NULL);
    out_close_arr(o);
    return status;
}

static int cancel_named(out_t *o, IBackgroundCopyJob *job, const WCHAR *name)
{
    WCHAR *display = NULL;
    int match = SUCCEEDED(IBackgroundCopyJob_GetDisplayName(job, &display)) &&
                wcscmp(display, name) == 0;
    CoTaskMemFree(display);
    if (!match)
        return 0;
    HRESULT hr = IBackgroundCopyJob_Cancel(job);
    return FAILED(hr) ? out_win32_error(o, "IBackgroundCopyJob::Cancel", (DWORD)hr) : 0;
}

static int cancel_jobs(out_t *o, IBackgroundCopyManager *mgr, char *name)
{
    WCHAR *wname = utf8_to_wide(name);
    int status = each_job(o, mgr, cancel_named, wname);
    free(wname);
    return status;
}

static int bits_create(out_t *o, int argc, char **argv)
{
    if (argc != 1)
        return out_usage(o, "usage: bits create NAME");
    out_str(o, "name", argv[0]);
    return with_manager(o, create_job, argv[0]);
}

static int bits_list(out_t *o, int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return out_usage(o, "usage: bits list");
    return with_manager(o, list_jobs, NULL);
}

static int bits_cancel(out_t *o, int argc, char **argv)
{
    if (argc != 1)
        return out_usage(o, "usage: bits cancel NAME");
    out_str(o, "name", argv[0]);
    return with_manager(o, cancel_jobs, argv[0]);
}

static const subcommand_t bits_commands[] = {
    {"create", bits_create, "create NAME: a download job without files"},
    {"list", bits_list, "list: this user's jobs (name, id, state)"},
    {"cancel", bits_cancel, "cancel NAME: cancel every job of that name"},
    {NULL, NULL, NULL},
};

int cmd_bits(out_t *o, int argc, char **argv)
{
    return run_subcommand(o, "bits", bits_commands, argc, argv);
}
