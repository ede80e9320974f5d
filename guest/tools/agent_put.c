/* The agent's "put": write an uploaded file, creating its folders. */
#include <stdlib.h>
#include <string.h>
#include "../probe/out.h"
#include "agent.h"
#include "base64.h"

/* Creates every folder above `path` (either slash); existing ones are fine. */
static void create_parents(WCHAR *path)
{
    for (WCHAR *p = path; *p; p++) {
        if ((*p != L'\\' && *p != L'/') || p == path || p[-1] == L':')
            continue;
        WCHAR saved = *p;
        *p = 0;
        CreateDirectoryW(path, NULL);
        *p = saved;
    }
}

static DWORD write_file(const WCHAR *path, const unsigned char *data, size_t n)
{
    HANDLE h = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return GetLastError();
    DWORD written = 0, err = 0;
    if (!WriteFile(h, data, (DWORD)n, &written, NULL))
        err = GetLastError();
    else if (written != n)
        err = ERROR_WRITE_FAULT;
    if (!CloseHandle(h) && !err)
        err = GetLastError();
    return err;
}

int agent_put(out_t *o, const char *path, const char *data_b64)
{
    size_t n;
    out_begin(o);
    out_str(o, "command", "put");
    out_str(o, "path", path);

    unsigned char *data = base64_decode(data_b64, &n);
    int status = 0;
    if (!data)
        status = out_usage(o, "data_b64 is not base64");
    WCHAR *wpath = utf8_to_wide(path);
    if (!status) {
        create_parents(wpath);
        DWORD err = write_file(wpath, data, n);
        status = err ? out_win32_error(o, "CreateFileW/WriteFile", err) : 0;
    }
    if (!status)
        out_int(o, "bytes", (long long)n);
    free(wpath);
    free(data);
    out_end(o);
    out_put_ok(o, status == 0);
    return status;
}
