/* `com register|unregister|create CLSID`: our COM local server (comsrv.exe).
 *
 * `register` writes HKLM\Software\Classes\CLSID\{CLSID}\LocalServer32 (what HKCR
 * shows) naming comsrv.exe, in this container only.  `create` activates the class
 * with CoCreateInstance(CLSCTX_LOCAL_SERVER) and reads the object's "Identity"
 * and "Pid": the identity of the container whose server was started.  An
 * unregistered class fails with REGDB_E_CLASSNOTREG (0x80040154 = 2147746132);
 * HRESULTs are reported as unsigned codes. */
#define COBJMACROS
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "commands.h"
#include <ole2.h>

#define SERVER L"C:\\harness\\comsrv.exe"

/* Software\Classes\CLSID\{CLSID} for a CLSID given as text; NULL when malformed. */
static WCHAR *class_key(out_t *o, const char *text, CLSID *clsid)
{
    WCHAR *w = utf8_to_wide(text), *key = NULL;
    out_str(o, "clsid", text);
    if (SUCCEEDED(CLSIDFromString(w, clsid))) {
        key = malloc((wcslen(w) + 32) * sizeof(WCHAR));
        if (!key)
            abort();
        wcscpy(key, L"Software\\Classes\\CLSID\\");
        wcscat(key, w);
    }
    free(w);
    return key;
}

static int com_register(out_t *o, int argc, char **argv)
{
    CLSID clsid;
    HKEY hkey;
    WCHAR *key = argc == 1 ? class_key(o, argv[0], &clsid) : NULL;
    if (!key)
        return out_usage(o, "usage: com register {CLSID}");

    WCHAR *server_key = malloc((wcslen(key) + 20) * sizeof(WCHAR));
    WCHAR *command = malloc((wcslen(SERVER) + strlen(argv[0]) + 8) * sizeof(WCHAR));
    WCHAR *wclsid = utf8_to_wide(argv[0]);
    if (!server_key || !command)
        abort();
    wcscat(wcscpy(server_key, key), L"\\LocalServer32");
    wcscat(wcscat(wcscat(wcscpy(command, L"\""), SERVER), L"\" "), wclsid);
    LSTATUS st = RegCreateKeyExW(HKEY_LOCAL_MACHINE, server_key, 0, NULL, 0,
                                 KEY_SET_VALUE, NULL, &hkey, NULL);
    if (!st) {
        st = RegSetValueExW(hkey, NULL, 0, REG_SZ, (const BYTE *)command,
                            (DWORD)((wcslen(command) + 1) * sizeof(WCHAR)));
        RegCloseKey(hkey);
    }
    out_wstr(o, "command_line", command);
    free(key), free(server_key), free(command), free(wclsid);
    return st ? out_win32_error(o, "RegSetValueExW", st) : 0;
}

static int com_unregister(out_t *o, int argc, char **argv)
{
    CLSID clsid;
    WCHAR *key = argc == 1 ? class_key(o, argv[0], &clsid) : NULL;
    if (!key)
        return out_usage(o, "usage: com unregister {CLSID}");
    LSTATUS st = RegDeleteTreeW(HKEY_LOCAL_MACHINE, key);
    free(key);
    return st ? out_win32_error(o, "RegDeleteTreeW", st) : 0;
}

static HRESULT get_property(IDispatch *obj, DISPID id, VARIANT *value)
{
    DISPPARAMS none = {NULL, NULL, 0, 0};
    VariantInit(value);
    return IDispatch_Invoke(obj, id, &IID_NULL, 0, DISPATCH_PROPERTYGET, &none, value,
                            NULL, NULL);
}

static int report_object(out_t *o, IDispatch *obj)
{
    VARIANT identity, pid;
    HRESULT hr = get_property(obj, 1, &identity);
    if (FAILED(hr) || V_VT(&identity) != VT_BSTR)
        return out_win32_error(o, "IDispatch::Invoke Identity",
                               FAILED(hr) ? (DWORD)hr : (DWORD)DISP_E_TYPEMISMATCH);
    out_wstr(o, "identity", V_BSTR(&identity));
    VariantClear(&identity);
    if (SUCCEEDED(get_property(obj, 2, &pid)) && V_VT(&pid) == VT_I4)
        out_int(o, "pid", V_I4(&pid));
    return 0;
}

static int com_create(out_t *o, int argc, char **argv)
{
    CLSID clsid;
    IDispatch *obj = NULL;
    WCHAR *key = argc == 1 ? class_key(o, argv[0], &clsid) : NULL;
    if (!key)
        return out_usage(o, "usage: com create {CLSID}");
    free(key);

    /* The agent's thread may be in an apartment already (another family's call):
     * then it stays there and is not uninitialized here. */
    HRESULT init = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    DWORD start = GetTickCount();
    HRESULT hr = CoCreateInstance(&clsid, NULL, CLSCTX_LOCAL_SERVER, &IID_IDispatch,
                                  (void **)&obj);
    out_int(o, "ms", GetTickCount() - start);
    int status = FAILED(hr) ? out_win32_error(o, "CoCreateInstance", (DWORD)hr)
                            : report_object(o, obj);
    if (obj)
        IDispatch_Release(obj);
    if (SUCCEEDED(init))
        CoUninitialize();
    return status;
}

static const subcommand_t com_commands[] = {
    {"register", com_register, "register {CLSID}"},
    {"unregister", com_unregister, "unregister {CLSID}"},
    {"create", com_create, "create {CLSID}"},
    {NULL, NULL, NULL},
};

int cmd_com(out_t *o, int argc, char **argv)
{
    return run_subcommand(o, "com", com_commands, argc, argv);
}
