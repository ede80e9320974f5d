/* rpcsrv.exe UUID [--tcp PORT] [--lrpc NAME]: the harness's RPC server.
 *
 * Serves dupif.idl over ncalrpc and ncacn_ip_tcp (fixed endpoints when given,
 * dynamic ones otherwise) and registers its endpoints in this machine's endpoint
 * mapper under the interface UUID UUID, fresh for each test, so that only this
 * server's registration can resolve it.  (An object UUID would be the textbook
 * way, but Wine's RpcEpResolveBinding always asks the mapper for the nil object.)
 * Prints one JSON line (its endpoints, or the failing call and its Win32 code)
 * and serves until it is ended; DupIdentity answers with the identity written
 * into this container.  Started through `probe proc start`, which returns that
 * line.
 *
 * Ending it: `probe proc stop PID --ask SECONDS` sets the event harness-stop-PID,
 * and the server removes its mapper entry (RpcEpUnregister), stops listening and
 * exits with 0, or with RpcEpUnregister's code.  A server that is terminated
 * instead leaves its entry behind: on Wine 8 the mapper keeps resolving the UUID
 * to the dead server's endpoints until RPCSS itself ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../probe/dupif.h"
#include "../probe/identity.h"
#include "../probe/out.h"
#include "../probe/proc.h"

static WCHAR *identity;
/* What was registered in the mapper, kept for RpcEpUnregister. */
static RPC_SERVER_INTERFACE registered;
static RPC_BINDING_VECTOR *bindings;
static RPC_STATUS unregistered;

void *__RPC_USER MIDL_user_allocate(SIZE_T size)
{
    return malloc(size);
}

void __RPC_USER MIDL_user_free(void *p)
{
    free(p);
}

error_status_t DupIdentity(handle_t binding, long size, wchar_t *answer, long *pid)
{
    (void)binding;
    *pid = (long)GetCurrentProcessId();
    if (size < 1)
        return ERROR_INSUFFICIENT_BUFFER;
    lstrcpynW(answer, identity, size);
    return 0;
}

typedef struct options {
    WCHAR *uuid, *tcp_port, *lrpc_name;
} options_t;

static int parse(int argc, WCHAR **argv, options_t *opt)
{
    *opt = (options_t){NULL, NULL, NULL};
    if (argc < 2 || argc % 2 != 0)
        return 0;
    opt->uuid = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        if (wcscmp(argv[i], L"--tcp") == 0)
            opt->tcp_port = argv[i + 1];
        else if (wcscmp(argv[i], L"--lrpc") == 0)
            opt->lrpc_name = argv[i + 1];
        else
            return 0;
    }
    return 1;
}

static RPC_STATUS use_protseq(const WCHAR *protseq, WCHAR *endpoint)
{
    if (endpoint)
        return RpcServerUseProtseqEpW((RPC_WSTR)protseq, RPC_C_PROTSEQ_MAX_REQS_DEFAULT,
                                      (RPC_WSTR)endpoint, NULL);
    return RpcServerUseProtseqW((RPC_WSTR)protseq, RPC_C_PROTSEQ_MAX_REQS_DEFAULT, NULL);
}

static void list_bindings(out_t *o, RPC_BINDING_VECTOR *v)
{
    out_arr(o, "bindings");
    for (ULONG i = 0; i < v->Count; i++) {
        RPC_WSTR text;
        if (RpcBindingToStringBindingW(v->BindingH[i], &text) == RPC_S_OK) {
            out_wstr(o, NULL, text);
            RpcStringFreeW(&text);
        }
    }
    out_close_arr(o);
}

/* Endpoints, interface, mapper entry; returns 0 or the exit status after the error. */
static int register_all(out_t *o, const options_t *opt)
{
    RPC_SERVER_INTERFACE fresh = *(RPC_SERVER_INTERFACE *)dupif_v1_0_s_ifspec;
    RPC_STATUS st;

    if ((st = UuidFromStringW((RPC_WSTR)opt->uuid, &fresh.InterfaceId.SyntaxGUID)))
        return out_win32_error(o, "UuidFromStringW", st);
    if ((st = use_protseq(L"ncalrpc", opt->lrpc_name)))
        return out_win32_error(o, "RpcServerUseProtseqEpW ncalrpc", st);
    if ((st = use_protseq(L"ncacn_ip_tcp", opt->tcp_port)))
        return out_win32_error(o, "RpcServerUseProtseqEpW ncacn_ip_tcp", st);
    /* Unauthenticated callers from the network are allowed: the client machine's
     * impacket binds without credentials. */
    if ((st = RpcServerRegisterIfEx(dupif_v1_0_s_ifspec, NULL, NULL,
                                    RPC_IF_ALLOW_CALLBACKS_WITH_NO_AUTH,
                                    RPC_C_LISTEN_MAX_CALLS_DEFAULT, NULL)))
        return out_win32_error(o, "RpcServerRegisterIfEx", st);
    if ((st = RpcServerInqBindings(&bindings)))
        return out_win32_error(o, "RpcServerInqBindings", st);
    list_bindings(o, bindings);
    /* The mapper reads only the interface and transfer syntax of `fresh`. */
    st = RpcEpRegisterW(&fresh, bindings, NULL, (RPC_WSTR)L"harness rpcsrv");
    registered = fresh;
    return st ? out_win32_error(o, "RpcEpRegisterW", st) : 0;
}

/* Waits for the stop event, then undoes the registration and ends the listen. */
static DWORD WINAPI stop_on_request(void *event)
{
    WaitForSingleObject(event, INFINITE);
    unregistered = RpcEpUnregister(&registered, bindings, NULL);
    RpcMgmtStopServerListening(NULL);
    return 0;
}

static int watch_stop_event(out_t *o)
{
    WCHAR name[64];
    swprintf(name, sizeof name / sizeof name[0], PROC_STOP_EVENT,
             (unsigned long)GetCurrentProcessId());
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, name);
    if (!event)
        return out_win32_error(o, "CreateEventW", GetLastError());
    HANDLE thread = CreateThread(NULL, 0, stop_on_request, event, 0, NULL);
    if (!thread)
        return out_win32_error(o, "CreateThread", GetLastError());
    CloseHandle(thread);
    return 0;
}

int wmain(int argc, WCHAR **argv)
{
    options_t opt;
    out_t o = {0};
    int status;

    out_reset(&o);
    out_begin(&o);
    out_str(&o, "command", "rpcsrv");
    identity = identity_read();
    if (!parse(argc, argv, &opt))
        status = out_usage(&o, "usage: rpcsrv UUID [--tcp PORT] [--lrpc NAME]");
    else if (!identity)
        status = out_win32_error(&o, "identity_read", GetLastError());
    else if (!(status = register_all(&o, &opt)))
        status = watch_stop_event(&o);
    out_wstr(&o, "identity", identity ? identity : L"");
    out_int(&o, "pid", GetCurrentProcessId());
    out_end(&o);
    out_put_ok(&o, status == 0);
    write_line(GetStdHandle(STD_OUTPUT_HANDLE), o.buf, o.len);
    if (status)
        return status;
    RPC_STATUS st = RpcServerListen(1, RPC_C_LISTEN_MAX_CALLS_DEFAULT, FALSE);
    return st ? (int)st : (int)unregistered;
}
