/* `scm create|delete`: own-process services as the harness installs them;
 * `scm config`: a service's start type, e.g. disabled so that nothing (COM
 * activation included) can start it again while a check needs it stopped. */
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "scm.h"

typedef struct create_args {
    const char *name, *binpath, *display, *depend;
    DWORD start_type;
} create_args_t;

static int parse_create(out_t *o, int argc, char **argv, create_args_t *a)
{
    static const char usage[] = "usage: scm create NAME BINPATH [--display TEXT] "
                                "[--start demand|auto] [--depend A,B]";
    memset(a, 0, sizeof *a);
    a->start_type = SERVICE_DEMAND_START;
    if (argc < 2 || argv[0][0] == '-' || argv[1][0] == '-')
        return out_usage(o, usage);
    a->name = argv[0];
    a->binpath = argv[1];
    for (int i = 2; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && strcmp(argv[i], "--display") == 0)
            a->display = v;
        else if (v && strcmp(argv[i], "--depend") == 0)
            a->depend = v;
        else if (v && strcmp(argv[i], "--start") == 0 && strcmp(v, "demand") == 0)
            a->start_type = SERVICE_DEMAND_START;
        else if (v && strcmp(argv[i], "--start") == 0 && strcmp(v, "auto") == 0)
            a->start_type = SERVICE_AUTO_START;
        else
            return out_usage(o, usage);
    }
    return 0;
}

/* "A,B" -> "A\0B\0\0", the double-NUL list CreateServiceW wants; NULL for none. */
static WCHAR *dependency_list(const char *csv)
{
    if (!csv || !*csv)
        return NULL;
    WCHAR *w = utf8_to_wide(csv);
    size_t n = wcslen(w);
    WCHAR *list = realloc(w, (n + 2) * sizeof(WCHAR));
    if (!list)
        abort();
    for (size_t i = 0; i < n; i++)
        if (list[i] == L',')
            list[i] = 0;
    list[n + 1] = 0;
    return list;
}

static SC_HANDLE create_service(SC_HANDLE scm, const create_args_t *a)
{
    WCHAR *name = utf8_to_wide(a->name), *bin = utf8_to_wide(a->binpath);
    WCHAR *display = a->display ? utf8_to_wide(a->display) : NULL;
    WCHAR *deps = dependency_list(a->depend);

    SC_HANDLE svc = CreateServiceW(scm, name, display ? display : name, SERVICE_ALL_ACCESS,
                                   SERVICE_WIN32_OWN_PROCESS, a->start_type,
                                   SERVICE_ERROR_NORMAL, bin, NULL, NULL, deps, NULL, NULL);
    DWORD err = GetLastError();
    free(name);
    free(bin);
    free(display);
    free(deps);
    SetLastError(err);
    return svc;
}

int scm_create(out_t *o, int argc, char **argv)
{
    create_args_t a;
    SC_HANDLE scm, none;

    if (parse_create(o, argc, argv, &a))
        return 2;
    out_str(o, "name", a.name);
    if (scm_open(o, NULL, SC_MANAGER_CREATE_SERVICE | SC_MANAGER_CONNECT, 0, &scm, &none))
        return 1;

    SC_HANDLE svc = create_service(scm, &a);
    DWORD err = GetLastError();
    scm_close(scm, svc);
    if (!svc)
        return out_win32_error(o, "CreateServiceW", err);
    out_str(o, "binpath", a.binpath);
    out_str(o, "start", a.start_type == SERVICE_AUTO_START ? "auto" : "demand");
    return 0;
}

int scm_delete(out_t *o, int argc, char **argv)
{
    SC_HANDLE scm, svc;

    if (argc != 1 || argv[0][0] == '-')
        return out_usage(o, "usage: scm delete NAME");
    out_str(o, "name", argv[0]);
    if (scm_open(o, argv[0], SC_MANAGER_CONNECT, DELETE, &scm, &svc))
        return 1;

    BOOL deleted = DeleteService(svc);
    DWORD err = GetLastError();
    scm_close(scm, svc);
    return deleted ? 0 : out_win32_error(o, "DeleteService", err);
}

static const char *start_names[] = {"boot", "system", "auto", "demand", "disabled"};

static const char *start_name(DWORD type)
{
    return type < sizeof start_names / sizeof start_names[0] ? start_names[type]
                                                             : "unknown";
}

static int parse_start(const char *name, DWORD *type)
{
    for (DWORD i = SERVICE_AUTO_START; i <= SERVICE_DISABLED; i++)
        if (strcmp(name, start_names[i]) == 0)
            return *type = i, 1;
    return 0;
}

/* The start type before the change, read with QueryServiceConfigW. */
static DWORD previous_start(SC_HANDLE svc, DWORD *type)
{
    DWORD needed = 0;
    QueryServiceConfigW(svc, NULL, 0, &needed);
    QUERY_SERVICE_CONFIGW *config = malloc(needed ? needed : 1);
    if (!config)
        abort();
    DWORD err = QueryServiceConfigW(svc, config, needed, &needed) ? 0 : GetLastError();
    *type = err ? 0 : config->dwStartType;
    free(config);
    return err;
}

int scm_config(out_t *o, int argc, char **argv)
{
    SC_HANDLE scm, svc;
    DWORD type, was;

    if (argc != 3 || strcmp(argv[1], "--start") != 0 || !parse_start(argv[2], &type))
        return out_usage(o, "usage: scm config NAME --start auto|demand|disabled");
    out_str(o, "name", argv[0]);
    if (scm_open(o, argv[0], SC_MANAGER_CONNECT,
                 SERVICE_QUERY_CONFIG | SERVICE_CHANGE_CONFIG, &scm, &svc))
        return 1;

    DWORD err = previous_start(svc, &was);
    const char *call = "QueryServiceConfigW";
    if (!err && !ChangeServiceConfigW(svc, SERVICE_NO_CHANGE, type, SERVICE_NO_CHANGE,
                                      NULL, NULL, NULL, NULL, NULL, NULL, NULL))
        err = GetLastError(), call = "ChangeServiceConfigW";
    scm_close(scm, svc);
    if (err)
        return out_win32_error(o, call, err);
    out_str(o, "start", start_name(type));
    out_str(o, "previous", start_name(was));
    return 0;
}
