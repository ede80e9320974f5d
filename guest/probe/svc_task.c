/* `task register|get|run|output|delete`: a task of this container's Task Scheduler.
 *
 * Tasks live in the root folder and go through ITaskService, which talks to the
 * Schedule service.  `register` sends ASCII XML (Wine rejects a BOM): the TEXT is
 * the task's description and what its action (cmd.exe echo) writes to
 * C:\harness\task-NAME.txt.  COM failures are reported as the HRESULT's 32 bits. */
#define COBJMACROS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <taskschd.h>
#include "args.h"
#include "commands.h"

#define XML_MAX 4096

static const char task_xml[] =
    "<?xml version=\"1.0\"?>"
    "<Task version=\"1.2\" "
    "xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">"
    "<RegistrationInfo><Description>%s</Description></RegistrationInfo>"
    "<Principals><Principal id=\"Author\"><UserId>S-1-5-18</UserId>"
    "<RunLevel>HighestAvailable</RunLevel></Principal></Principals>"
    "<Settings><AllowStartOnDemand>true</AllowStartOnDemand><Enabled>true</Enabled>"
    "<DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>"
    "<StopIfGoingOnBatteries>false</StopIfGoingOnBatteries></Settings>"
    "<Actions Context=\"Author\"><Exec><Command>cmd.exe</Command>"
    "<Arguments>/c echo %s&gt;C:\\harness\\task-%s.txt</Arguments></Exec></Actions>"
    "</Task>";

typedef struct session {
    ITaskService *service;
    ITaskFolder *root;
    int com; /* CoInitializeEx succeeded: CoUninitialize at the end */
} session_t;

/* Names go into a file name, texts into XML and a cmd.exe line, both unescaped:
 * only these characters pass (a text may also hold ':' and spaces). */
#define PLAIN "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."

static int plain(const char *s, const char *extra)
{
    for (const char *c = s; *c; c++)
        if (!strchr(PLAIN, *c) && !strchr(extra, *c))
            return 0;
    return *s != 0;
}

static BSTR bstr_utf8(const char *s)
{
    WCHAR *w = utf8_to_wide(s);
    BSTR b = SysAllocString(w);
    free(w);
    return b;
}

static void session_close(session_t *s)
{
    if (s->root)
        ITaskFolder_Release(s->root);
    if (s->service)
        ITaskService_Release(s->service);
    if (s->com)
        CoUninitialize();
}

/* COM, ITaskService::Connect (which starts Schedule) and the root folder. */
static int session_open(out_t *o, session_t *s)
{
    VARIANT none;
    VariantInit(&none);
    memset(s, 0, sizeof *s);
    s->com = SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED));
    HRESULT hr = CoCreateInstance(&CLSID_TaskScheduler, NULL, CLSCTX_INPROC_SERVER,
                                  &IID_ITaskService, (void **)&s->service);
    if (FAILED(hr))
        return out_win32_error(o, "CoCreateInstance", (DWORD)hr);
    hr = ITaskService_Connect(s->service, none, none, none, none);
    if (FAILED(hr))
        return out_win32_error(o, "ITaskService::Connect", (DWORD)hr);
    BSTR path = SysAllocString(L"\\");
    hr = ITaskService_GetFolder(s->service, path, &s->root);
    SysFreeString(path);
    return FAILED(hr) ? out_win32_error(o, "ITaskService::GetFolder", (DWORD)hr) : 0;
}

/* NAME TEXT: create or update the task as the SYSTEM account. */
static int task_register(out_t *o, int argc, char **argv)
{
    if (argc != 2 || !plain(argv[0], "") || !plain(argv[1], ": "))
        return out_usage(o, "usage: task register NAME TEXT (letters, digits, -_. and in "
                            "TEXT also ':' and spaces)");
    out_str(o, "name", argv[0]);
    session_t s;
    if (session_open(o, &s)) {
        session_close(&s);
        return 1;
    }
    char xml[XML_MAX];
    snprintf(xml, sizeof xml, task_xml, argv[1], argv[1], argv[0]);
    BSTR name = bstr_utf8(argv[0]), text = bstr_utf8(xml);
    VARIANT none;
    VariantInit(&none);
    IRegisteredTask *task = NULL;
    HRESULT hr = ITaskFolder_RegisterTask(s.root, name, text, TASK_CREATE_OR_UPDATE, none,
                                          none, TASK_LOGON_SERVICE_ACCOUNT, none, &task);
    SysFreeString(name);
    SysFreeString(text);
    if (task)
        IRegisteredTask_Release(task);
    session_close(&s);
    return FAILED(hr) ? out_win32_error(o, "ITaskFolder::RegisterTask", (DWORD)hr) : 0;
}

/* Opens the registered task NAME of the root folder. */
static int open_task(out_t *o, session_t *s, const char *name, IRegisteredTask **task)
{
    *task = NULL;
    out_str(o, "name", name);
    if (session_open(o, s))
        return 1;
    BSTR path = bstr_utf8(name);
    HRESULT hr = ITaskFolder_GetTask(s->root, path, task);
    SysFreeString(path);
    return FAILED(hr) ? out_win32_error(o, "ITaskFolder::GetTask", (DWORD)hr) : 0;
}

static void description(out_t *o, IRegisteredTask *task)
{
    ITaskDefinition *def = NULL;
    IRegistrationInfo *info = NULL;
    BSTR text = NULL;
    if (SUCCEEDED(IRegisteredTask_get_Definition(task, &def)) &&
        SUCCEEDED(ITaskDefinition_get_RegistrationInfo(def, &info)) &&
        SUCCEEDED(IRegistrationInfo_get_Description(info, &text)))
        out_wstr(o, "description", text);
    SysFreeString(text);
    if (info)
        IRegistrationInfo_Release(info);
    if (def)
        ITaskDefinition_Release(def);
}

/* A field the scheduler answers is written as `key`, one it does not answer as
 * `key`_hr with the HRESULT.  A task that never ran has the last result
 * SCHED_S_TASK_HAS_NOT_RUN (0x41303). */
static void hr_field(out_t *o, const char *key, HRESULT hr, long long value)
{
    char name[40];
    if (SUCCEEDED(hr)) {
        out_int(o, key, value);
        return;
    }
    snprintf(name, sizeof name, "%s_hr", key);
    out_int(o, name, (DWORD)hr);
}

static void run_fields(out_t *o, IRegisteredTask *task)
{
    TASK_STATE state = 0;
    LONG result = 0;
    HRESULT hr = IRegisteredTask_get_State(task, &state);
    hr_field(o, "state", hr, state);
    hr = IRegisteredTask_get_LastTaskResult(task, &result);
    hr_field(o, "last_result", hr, (DWORD)result);
}

static int task_get(out_t *o, int argc, char **argv)
{
    if (argc != 1)
        return out_usage(o, "usage: task get NAME");
    session_t s;
    IRegisteredTask *task;
    int status = open_task(o, &s, argv[0], &task);
    if (!status) {
        description(o, task);
        run_fields(o, task);
        IRegisteredTask_Release(task);
    }
    session_close(&s);
    return status;
}

static int task_run(out_t *o, int argc, char **argv)
{
    if (argc != 1)
        return out_usage(o, "usage: task run NAME");
    session_t s;
    IRegisteredTask *task;
    int status = open_task(o, &s, argv[0], &task);
    if (!status) {
        VARIANT none;
        VariantInit(&none);
        IRunningTask *running = NULL;
        HRESULT hr = IRegisteredTask_Run(task, none, &running);
        if (running)
            IRunningTask_Release(running);
        IRegisteredTask_Release(task);
        if (FAILED(hr))
            status = out_win32_error(o, "IRegisteredTask::Run", (DWORD)hr);
    }
    session_close(&s);
    return status;
}

/* NAME: what the task's action wrote, C:\\harness\\task-NAME.txt, trimmed. */
static int task_output(out_t *o, int argc, char **argv)
{
    if (argc != 1 || !plain(argv[0], ""))
        return out_usage(o, "usage: task output NAME");
    out_str(o, "name", argv[0]);
    WCHAR path[MAX_PATH];
    WCHAR *name = utf8_to_wide(argv[0]);
    swprintf(path, MAX_PATH, L"C:\\harness\\task-%ls.txt", name);
    free(name);
    HANDLE f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return out_win32_error(o, "CreateFileW", GetLastError());
    char buf[XML_MAX] = {0};
    DWORD got = 0;
    BOOL read = ReadFile(f, buf, sizeof buf - 1, &got, NULL);
    DWORD err = GetLastError();
    CloseHandle(f);
    if (!read)
        return out_win32_error(o, "ReadFile", err);
    while (got > 0 && (buf[got - 1] == '\r' || buf[got - 1] == '\n' || buf[got - 1] == ' '))
        buf[--got] = 0;
    out_str(o, "output", buf);
    return 0;
}

static int task_delete(out_t *o, int argc, char **argv)
{
    if (argc != 1)
        return out_usage(o, "usage: task delete NAME");
    out_str(o, "name", argv[0]);
    session_t s;
    int status = session_open(o, &s);
    if (!status) {
        BSTR name = bstr_utf8(argv[0]);
        HRESULT hr = ITaskFolder_DeleteTask(s.root, name, 0);
        SysFreeString(name);
        if (FAILED(hr))
            status = out_win32_error(o, "ITaskFolder::DeleteTask", (DWORD)hr);
    }
    session_close(&s);
    return status;
}

static const subcommand_t task_commands[] = {
    {"register", task_register, "register NAME TEXT: a task as SYSTEM, run on demand"},
    {"get", task_get, "get NAME: description, state, last result"},
    {"run", task_run, "run NAME"},
    {"output", task_output, "output NAME: what the task's action wrote"},
    {"delete", task_delete, "delete NAME"},
    {NULL, NULL, NULL},
};

int cmd_task(out_t *o, int argc, char **argv)
{
    return run_subcommand(o, "task", task_commands, argc, argv);
}
