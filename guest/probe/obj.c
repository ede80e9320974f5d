/* `obj create|open|close mutex|event|pipe NAME`: named kernel objects and named
 * pipes as isolation markers.  `create` keeps the handle for the life of the
 * process, so in agent.exe a marker lives until `close` or the agent's exit. */
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "commands.h"

typedef struct held {
    struct held *next;
    char kind[8];
    char *name;
    HANDLE handle;
} held_t;

static held_t *held_list;

/* Pipes live in their own namespace: NAME becomes \\.\pipe\NAME. */
static WCHAR *object_path(const char *kind, const char *name)
{
    WCHAR *wname = utf8_to_wide(name);
    if (strcmp(kind, "pipe") != 0)
        return wname;
    WCHAR *path = malloc((wcslen(wname) + 10) * sizeof(WCHAR));
    if (!path)
        abort();
    wcscpy(path, L"\\\\.\\pipe\\");
    wcscat(path, wname);
    free(wname);
    return path;
}

static int obj_args(out_t *o, int argc, char **argv, WCHAR **path, const char *usage)
{
    if (argc != 2 || (strcmp(argv[0], "mutex") && strcmp(argv[0], "event") &&
                      strcmp(argv[0], "pipe")))
        return out_usage(o, usage);
    out_str(o, "kind", argv[0]);
    out_str(o, "name", argv[1]);
    *path = object_path(argv[0], argv[1]);
    if (strcmp(argv[0], "pipe") == 0)
        out_wstr(o, "path", *path);
    return 0;
}

/* A pipe "exists" when WaitNamedPipeW answers (free instance) or times out (121:
 * all instances busy or, in Wine, none listening yet); it does not take an
 * instance away from its server.  A missing pipe is ERROR_FILE_NOT_FOUND. */
static DWORD pipe_exists(const WCHAR *path, int *busy)
{
    *busy = 0;
    if (WaitNamedPipeW(path, 1))
        return 0;
    DWORD err = GetLastError();
    *busy = err == ERROR_SEM_TIMEOUT;
    return *busy ? 0 : err;
}

/* Pipes get the open-or-create meaning of CreateMutexW: "existed" says whether the
 * name was taken.  FILE_FLAG_FIRST_PIPE_INSTANCE would say it by failing, but Wine
 * 8 ignores that flag, so the answer would differ between platforms. */
static HANDLE create_object(const char *kind, const WCHAR *path)
{
    int busy;
    if (strcmp(kind, "mutex") == 0)
        return CreateMutexW(NULL, FALSE, path);
    if (strcmp(kind, "event") == 0)
        return CreateEventW(NULL, TRUE, FALSE, path);

    int existed = pipe_exists(path, &busy) == 0;
    HANDLE h = CreateNamedPipeW(path, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_WAIT,
                                PIPE_UNLIMITED_INSTANCES, 4096, 4096, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return NULL;
    SetLastError(existed ? ERROR_ALREADY_EXISTS : 0);
    return h;
}

static int obj_create(out_t *o, int argc, char **argv)
{
    WCHAR *path;
    if (obj_args(o, argc, argv, &path, "usage: obj create mutex|event|pipe NAME"))
        return 2;

    HANDLE h = create_object(argv[0], path);
    DWORD err = GetLastError();
    free(path);
    if (!h)
        return out_win32_error(o, strcmp(argv[0], "mutex") == 0   ? "CreateMutexW"
                                  : strcmp(argv[0], "event") == 0 ? "CreateEventW"
                                                                  : "CreateNamedPipeW",
                               err);
    held_t *e = calloc(1, sizeof *e);
    if (!e || !(e->name = _strdup(argv[1])))
        abort();
    strcpy(e->kind, argv[0]);
    e->handle = h;
    e->next = held_list;
    held_list = e;
    out_bool(o, "existed", err == ERROR_ALREADY_EXISTS);
    return 0;
}

static DWORD open_object(const char *kind, const WCHAR *path, int *busy)
{
    *busy = 0;
    if (strcmp(kind, "pipe") == 0)
        return pipe_exists(path, busy);
    HANDLE h = strcmp(kind, "mutex") == 0 ? OpenMutexW(SYNCHRONIZE, FALSE, path)
                                          : OpenEventW(SYNCHRONIZE, FALSE, path);
    if (!h)
        return GetLastError();
    CloseHandle(h);
    return 0;
}

static int obj_open(out_t *o, int argc, char **argv)
{
    WCHAR *path;
    int busy;
    if (obj_args(o, argc, argv, &path, "usage: obj open mutex|event|pipe NAME"))
        return 2;

    DWORD err = open_object(argv[0], path, &busy);
    free(path);
    if (err)
        return out_win32_error(o, strcmp(argv[0], "mutex") == 0   ? "OpenMutexW"
                                  : strcmp(argv[0], "event") == 0 ? "OpenEventW"
                                                                  : "WaitNamedPipeW",
                               err);
    out_bool(o, "exists", 1);
    if (strcmp(argv[0], "pipe") == 0)
        out_bool(o, "busy", busy);
    return 0;
}

static int obj_close(out_t *o, int argc, char **argv)
{
    WCHAR *path;
    if (obj_args(o, argc, argv, &path, "usage: obj close mutex|event|pipe NAME"))
        return 2;
    free(path);

    for (held_t **p = &held_list; *p; p = &(*p)->next) {
        held_t *e = *p;
        if (strcmp(e->kind, argv[0]) || strcmp(e->name, argv[1]))
            continue;
        *p = e->next;
        BOOL closed = CloseHandle(e->handle);
        DWORD err = GetLastError();
        free(e->name);
        free(e);
        return closed ? 0 : out_win32_error(o, "CloseHandle", err);
    }
    return out_error_msg(o, "close", ERROR_INVALID_HANDLE, "not held by this process");
}

static const subcommand_t obj_commands[] = {
    {"create", obj_create, "create mutex|event|pipe NAME"},
    {"open", obj_open, "open mutex|event|pipe NAME"},
    {"close", obj_close, "close mutex|event|pipe NAME"},
    {NULL, NULL, NULL},
};

int cmd_obj(out_t *o, int argc, char **argv)
{
    return run_subcommand(o, "obj", obj_commands, argc, argv);
}
