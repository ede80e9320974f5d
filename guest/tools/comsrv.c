/* comsrv.exe {CLSID} [-Embedding]: the harness's COM local server.
 *
 * Registered by `probe com register` under HKCR\CLSID\{CLSID}\LocalServer32 of one
 * container only; COM starts it for CoCreateInstance(CLSCTX_LOCAL_SERVER).  Its
 * object is an IDispatch (marshalled by the system's own proxy, so no proxy DLL
 * is needed) with two read-only properties: DISPID 1 "Identity", the identity
 * written into this container, and DISPID 2 "Pid".  The server exits when its
 * last object is released, or after IDLE_MS when no client ever came. */
#define COBJMACROS
#include <windows.h>
#include <ole2.h>
#include "../probe/identity.h"

#define IDLE_MS 60000

typedef struct dup_object {
    IDispatch iface;
    LONG refs;
} dup_object_t;

static LONG live_objects;
static DWORD main_thread;
static BSTR identity;

static HRESULT STDMETHODCALLTYPE obj_query(IDispatch *self, REFIID riid, void **out)
{
    if (!IsEqualIID(riid, &IID_IUnknown) && !IsEqualIID(riid, &IID_IDispatch)) {
        *out = NULL;
        return E_NOINTERFACE;
    }
    *out = self;
    IDispatch_AddRef(self);
    return S_OK;
}

static ULONG STDMETHODCALLTYPE obj_addref(IDispatch *self)
{
    return InterlockedIncrement(&((dup_object_t *)self)->refs);
}

static ULONG STDMETHODCALLTYPE obj_release(IDispatch *self)
{
    LONG refs = InterlockedDecrement(&((dup_object_t *)self)->refs);
    if (refs == 0) {
        HeapFree(GetProcessHeap(), 0, self);
        if (InterlockedDecrement(&live_objects) == 0)
            PostThreadMessageW(main_thread, WM_QUIT, 0, 0);
    }
    return refs;
}

static HRESULT STDMETHODCALLTYPE obj_type_count(IDispatch *self, UINT *count)
{
    (void)self;
    *count = 0;
    return S_OK;
}

static HRESULT STDMETHODCALLTYPE obj_type_info(IDispatch *self, UINT i, LCID lcid,
                                               ITypeInfo **info)
{
    (void)self, (void)i, (void)lcid;
    *info = NULL;
    return E_NOTIMPL;
}

static HRESULT STDMETHODCALLTYPE obj_ids(IDispatch *self, REFIID riid, LPOLESTR *names,
                                         UINT n, LCID lcid, DISPID *ids)
{
    HRESULT hr = S_OK;
    (void)self, (void)riid, (void)lcid;
    for (UINT i = 0; i < n; i++) {
        ids[i] = !lstrcmpiW(names[i], L"Identity") ? 1
                 : !lstrcmpiW(names[i], L"Pid")    ? 2
                                                   : DISPID_UNKNOWN;
        if (ids[i] == DISPID_UNKNOWN)
            hr = DISP_E_UNKNOWNNAME;
    }
    return hr;
}

static HRESULT STDMETHODCALLTYPE obj_invoke(IDispatch *self, DISPID id, REFIID riid,
                                            LCID lcid, WORD flags, DISPPARAMS *params,
                                            VARIANT *result, EXCEPINFO *ex, UINT *arg)
{
    (void)self, (void)riid, (void)lcid, (void)flags, (void)params, (void)ex, (void)arg;
    if (!result)
        return E_POINTER;
    VariantInit(result);
    if (id == 1) {
        V_VT(result) = VT_BSTR;
        V_BSTR(result) = SysAllocString(identity);
        return V_BSTR(result) ? S_OK : E_OUTOFMEMORY;
    }
    if (id == 2) {
        V_VT(result) = VT_I4;
        V_I4(result) = (LONG)GetCurrentProcessId();
        return S_OK;
    }
    return DISP_E_MEMBERNOTFOUND;
}

static IDispatchVtbl obj_vtbl = {obj_query,     obj_addref, obj_release, obj_type_count,
                                 obj_type_info, obj_ids,    obj_invoke};

static HRESULT STDMETHODCALLTYPE cf_query(IClassFactory *self, REFIID riid, void **out)
{
    if (!IsEqualIID(riid, &IID_IUnknown) && !IsEqualIID(riid, &IID_IClassFactory)) {
        *out = NULL;
        return E_NOINTERFACE;
    }
    *out = self;
    return S_OK;
}

static ULONG STDMETHODCALLTYPE cf_addref(IClassFactory *self)
{
    (void)self;
    return 2; /* a static object */
}

static HRESULT STDMETHODCALLTYPE cf_create(IClassFactory *self, IUnknown *outer,
                                           REFIID riid, void **out)
{
    (void)self;
    *out = NULL;
    if (outer)
        return CLASS_E_NOAGGREGATION;
    dup_object_t *obj = HeapAlloc(GetProcessHeap(), 0, sizeof *obj);
    if (!obj)
        return E_OUTOFMEMORY;
    obj->iface.lpVtbl = &obj_vtbl;
    obj->refs = 1;
    InterlockedIncrement(&live_objects);
    HRESULT hr = IDispatch_QueryInterface(&obj->iface, riid, out);
    IDispatch_Release(&obj->iface);
    return hr;
}

static HRESULT STDMETHODCALLTYPE cf_lock(IClassFactory *self, BOOL lock)
{
    (void)self, (void)lock;
    return S_OK;
}

static IClassFactoryVtbl cf_vtbl = {cf_query, cf_addref, (void *)cf_addref, cf_create,
                                    cf_lock};
static IClassFactory factory = {&cf_vtbl};

/* The CLSID is the first argument in braces; COM adds -Embedding after it. */
static HRESULT parse_clsid(int argc, WCHAR **argv, CLSID *clsid)
{
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == L'{')
            return CLSIDFromString(argv[i], clsid);
    return E_INVALIDARG;
}

/* Messages until the last object is gone (WM_QUIT), or IDLE_MS without a client. */
static void serve(void)
{
    MSG msg;
    DWORD started = GetTickCount();
    for (;;) {
        while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE)) {
            if (msg.message == WM_QUIT)
                return;
            DispatchMessageW(&msg);
        }
        if (live_objects == 0 && GetTickCount() - started > IDLE_MS)
            return;
        MsgWaitForMultipleObjects(0, NULL, FALSE, 1000, QS_ALLINPUT);
    }
}

int wmain(int argc, WCHAR **argv)
{
    CLSID clsid;
    DWORD cookie;
    WCHAR *text = identity_read();

    main_thread = GetCurrentThreadId();
    identity = SysAllocString(text ? text : L"");
    HRESULT hr = parse_clsid(argc, argv, &clsid);
    if (SUCCEEDED(hr))
        hr = CoInitializeEx(NULL, COINIT_APARTMENTTHREADED);
    if (SUCCEEDED(hr))
        hr = CoRegisterClassObject(&clsid, (IUnknown *)&factory, CLSCTX_LOCAL_SERVER,
                                   REGCLS_MULTIPLEUSE, &cookie);
    if (FAILED(hr))
        return (int)hr;
    serve();
    CoRevokeClassObject(cookie);
    CoUninitialize();
    return 0;
}
