/* `wmi services [NAME]`: Win32_Service as WMI in this container reports it.
 *
 * One WQL query, SELECT Name, State, ProcessId FROM Win32_Service, through
 * IWbemLocator::ConnectServer(ROOT\CIMV2); with NAME only the services of that name
 * (compared without case) are listed, "count" is the number of all of them.  COM
 * failures are reported as the HRESULT's 32 bits. */
#define COBJMACROS
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <wbemidl.h>
#include "args.h"
#include "commands.h"

#define QUERY L"SELECT Name, State, ProcessId FROM Win32_Service"

/* Once per process: an agent runs many commands, and a second call fails with
 * RPC_E_TOO_LATE, which changes nothing. */
static void security_once(void)
{
    static int done;
    if (!done)
        CoInitializeSecurity(NULL, -1, NULL, NULL, RPC_C_AUTHN_LEVEL_DEFAULT,
                             RPC_C_IMP_LEVEL_IMPERSONATE, NULL, EOAC_NONE, NULL);
    done = 1;
}

static int connect_cimv2(out_t *o, IWbemServices **svc)
{
    IWbemLocator *locator = NULL;
    *svc = NULL;
    HRESULT hr = CoCreateInstance(&CLSID_WbemLocator, NULL, CLSCTX_INPROC_SERVER,
                                  &IID_IWbemLocator, (void **)&locator);
    if (FAILED(hr))
        return out_win32_error(o, "CoCreateInstance", (DWORD)hr);
    BSTR ns = SysAllocString(L"ROOT\\CIMV2");
    hr = IWbemLocator_ConnectServer(locator, ns, NULL, NULL, NULL, 0, NULL, NULL, svc);
    SysFreeString(ns);
    IWbemLocator_Release(locator);
    if (FAILED(hr))
        return out_win32_error(o, "IWbemLocator::ConnectServer", (DWORD)hr);
    CoSetProxyBlanket((IUnknown *)*svc, RPC_C_AUTHN_WINNT, RPC_C_AUTHZ_NONE, NULL,
                      RPC_C_AUTHN_LEVEL_CALL, RPC_C_IMP_LEVEL_IMPERSONATE, NULL, EOAC_NONE);
    return 0;
}

static void string_property(out_t *o, IWbemClassObject *row, const WCHAR *name,
                            const char *key)
{
    VARIANT v;
    VariantInit(&v);
    if (SUCCEEDED(IWbemClassObject_Get(row, name, 0, &v, NULL, NULL)) &&
        V_VT(&v) == VT_BSTR)
        out_wstr(o, key, V_BSTR(&v));
    else
        out_null(o, key);
    VariantClear(&v);
}

/* Writes the row when it matches `only` (NULL: every row); returns 1 if written. */
static int write_row(out_t *o, IWbemClassObject *row, const WCHAR *only)
{
    VARIANT name, pid;
    VariantInit(&name);
    VariantInit(&pid);
    IWbemClassObject_Get(row, L"Name", 0, &name, NULL, NULL);
    int match = !only || (V_VT(&name) == VT_BSTR && _wcsicmp(V_BSTR(&name), only) == 0);
    if (match) {
        out_begin(o);
        string_property(o, row, L"Name", "name");
        string_property(o, row, L"State", "state");
        if (SUCCEEDED(IWbemClassObject_Get(row, L"ProcessId", 0, &pid, NULL, NULL)) &&
            SUCCEEDED(VariantChangeType(&pid, &pid, 0, VT_I4)))
            out_int(o, "pid", V_I4(&pid));
        else
            out_null(o, "pid");
        out_end(o);
    }
    VariantClear(&name);
    VariantClear(&pid);
    return match;
}

/* Runs QUERY and lists the matching rows; returns 0 or the failed call's status. */
static int list_services(out_t *o, IWbemServices *svc, const WCHAR *only)
{
    IEnumWbemClassObject *rows = NULL;
    BSTR lang = SysAllocString(L"WQL"), query = SysAllocString(QUERY);
    HRESULT hr = IWbemServices_ExecQuery(
        svc, lang, query, WBEM_FLAG_FORWARD_ONLY | WBEM_FLAG_RETURN_IMMEDIATELY, NULL,
        &rows);
    SysFreeString(lang);
    SysFreeString(query);
    if (FAILED(hr))
        return out_win32_error(o, "IWbemServices::ExecQuery", (DWORD)hr);

    long count = 0;
    IWbemClassObject *row;
    ULONG got = 0;
    out_arr(o, "services");
    while (SUCCEEDED(hr = IEnumWbemClassObject_Next(rows, WBEM_INFINITE, 1, &row, &got)) &&
           got == 1) {
        count++;
        write_row(o, row, only);
        IWbemClassObject_Release(row);
    }
    out_close_arr(o);
    IEnumWbemClassObject_Release(rows);
    out_int(o, "count", count);
    return FAILED(hr) ? out_win32_error(o, "IEnumWbemClassObject::Next", (DWORD)hr) : 0;
}

static int wmi_services(out_t *o, int argc, char **argv)
{
    if (argc > 1)
        return out_usage(o, "usage: wmi services [NAME]");
    out_str(o, "query", "SELECT Name, State, ProcessId FROM Win32_Service");
    int com = SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED));
    security_once();
    IWbemServices *svc;
    int status = connect_cimv2(o, &svc);
    if (!status) {
        WCHAR *only = argc ? utf8_to_wide(argv[0]) : NULL;
        status = list_services(o, svc, only);
        free(only);
        IWbemServices_Release(svc);
    }
    if (com)
        CoUninitialize();
    return status;
}

static const subcommand_t wmi_commands[] = {
    {"services", wmi_services, "services [NAME]: Name, State, ProcessId of Win32_Service"},
    {NULL, NULL, NULL},
};

int cmd_wmi(out_t *o, int argc, char **argv)
{
    return run_subcommand(o, "wmi", wmi_commands, argc, argv);
}
