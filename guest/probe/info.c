/* `info`: which container, which Windows, which Wine answered. */
#include <stdlib.h>
#include "commands.h"
#include "identity.h"

typedef LONG(WINAPI *rtl_get_version_fn)(RTL_OSVERSIONINFOW *);
typedef const char *(CDECL *wine_get_version_fn)(void);

/* RtlGetVersion, because GetVersionEx reports 6.2 to programs without a manifest. */
static void windows_version(out_t *o)
{
    RTL_OSVERSIONINFOW v = {.dwOSVersionInfoSize = sizeof v};
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    rtl_get_version_fn get = (rtl_get_version_fn)(void *)GetProcAddress(ntdll, "RtlGetVersion");

    out_obj(o, "windows");
    if (get && get(&v) == 0) {
        out_int(o, "major", v.dwMajorVersion);
        out_int(o, "minor", v.dwMinorVersion);
        out_int(o, "build", v.dwBuildNumber);
    }
    out_end(o);
}

/* Only Wine's ntdll exports wine_get_version; on Windows this is null. */
static void wine_version(out_t *o)
{
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    wine_get_version_fn get =
        (wine_get_version_fn)(void *)GetProcAddress(ntdll, "wine_get_version");
    out_str(o, "wine", get ? get() : NULL);
}

static void computer(out_t *o)
{
    WCHAR name[MAX_COMPUTERNAME_LENGTH + 1];
    DWORD n = MAX_COMPUTERNAME_LENGTH + 1;
    out_wstr(o, "computer", GetComputerNameW(name, &n) ? name : NULL);
}

static void cwd(out_t *o)
{
    WCHAR dir[MAX_PATH * 2];
    DWORD n = GetCurrentDirectoryW(MAX_PATH * 2, dir);
    out_wstr(o, "cwd", n > 0 && n < MAX_PATH * 2 ? dir : NULL);
}

int cmd_info(out_t *o, int argc, char **argv)
{
    (void)argv;
    out_str(o, "command", "info");
    if (argc > 0)
        return out_usage(o, "usage: info");

    WCHAR *identity = identity_read();
    computer(o);
    out_int(o, "pid", GetCurrentProcessId());
    windows_version(o);
    wine_version(o);
    out_wstr(o, "identity", identity);
    cwd(o);
    free(identity);
    return 0;
}
