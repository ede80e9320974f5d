/* `rpc resolve|call UUID [--protseq P] [--host H] [--endpoint E]`: the endpoint
 * mapper (RPCSS) and our test interface (dupif.idl, served by rpcsrv.exe).
 *
 * rpcsrv.exe registers its endpoints in the mapper under a fresh interface UUID
 * given by the test.  `resolve` asks the mapper of the machine named by --host
 * (default: this one) for that UUID; a mapper that knows nothing answers
 * EPT_S_NOT_REGISTERED (1753).  `call` resolves the same way (or uses --endpoint)
 * and calls DupIdentity of dupif on the endpoint found, which returns the identity
 * of the container whose server answered. */
#include <excpt.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "commands.h"
#include "dupif.h"

void *__RPC_USER MIDL_user_allocate(SIZE_T size)
{
    return malloc(size);
}

void __RPC_USER MIDL_user_free(void *p)
{
    free(p);
}

typedef struct rpc_target {
    const char *uuid, *protseq, *host, *endpoint;
} rpc_target_t;

static int rpc_args(out_t *o, int argc, char **argv, rpc_target_t *t, const char *usage)
{
    *t = (rpc_target_t){NULL, "ncalrpc", NULL, NULL};
    if (argc < 1 || argc % 2 == 0)
        return out_usage(o, usage);
    for (int i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "--protseq") == 0)
            t->protseq = argv[i + 1];
        else if (strcmp(argv[i], "--host") == 0)
            t->host = argv[i + 1];
        else if (strcmp(argv[i], "--endpoint") == 0)
            t->endpoint = argv[i + 1];
        else
            return out_usage(o, usage);
    }
    t->uuid = argv[0];
    out_str(o, "uuid", t->uuid);
    out_str(o, "protseq", t->protseq);
    return 0;
}

/* A binding to the target, resolved through the mapper unless an endpoint is given. */
static int rpc_bind(out_t *o, const rpc_target_t *t, RPC_BINDING_HANDLE *binding)
{
    RPC_CLIENT_INTERFACE fresh = *(RPC_CLIENT_INTERFACE *)dupif_v1_0_c_ifspec;
    RPC_WSTR text = NULL;
    WCHAR *uuid = utf8_to_wide(t->uuid), *protseq = utf8_to_wide(t->protseq);
    WCHAR *host = t->host ? utf8_to_wide(t->host) : NULL;
    WCHAR *endpoint = t->endpoint ? utf8_to_wide(t->endpoint) : NULL;
    RPC_STATUS st = UuidFromStringW(uuid, &fresh.InterfaceId.SyntaxGUID);
    if (!st)
        st = RpcStringBindingComposeW(NULL, protseq, host, endpoint, NULL, &text);
    free(uuid), free(protseq), free(host), free(endpoint);
    if (st)
        return out_win32_error(o, "RpcStringBindingComposeW", st);
    st = RpcBindingFromStringBindingW(text, binding);
    RpcStringFreeW(&text);
    if (st)
        return out_win32_error(o, "RpcBindingFromStringBindingW", st);
    /* The mapper reads only the interface and transfer syntax of `fresh`. */
    if (!t->endpoint && (st = RpcEpResolveBinding(*binding, &fresh))) {
        RpcBindingFree(binding);
        return out_win32_error(o, "RpcEpResolveBinding", st);
    }
    if (RpcBindingToStringBindingW(*binding, &text) == RPC_S_OK) {
        out_wstr(o, "binding", text);
        RpcStringFreeW(&text);
    }
    return 0;
}

static int rpc_resolve(out_t *o, int argc, char **argv)
{
    rpc_target_t t;
    RPC_BINDING_HANDLE binding;
    if (rpc_args(o, argc, argv, &t, "usage: rpc resolve UUID [--protseq P] [--host H]"))
        return 2;
    if (rpc_bind(o, &t, &binding))
        return 1;
    RpcBindingFree(&binding);
    return 0;
}

/* A failed call raises an RPC exception.  MinGW's C has no __try, so the call runs
 * in its own function under a structured exception handler of the assembler's
 * making (__try1); the filter keeps the exception code and execution continues
 * after __except1 with that code as the result. */
static volatile DWORD call_fault;

#define IDENTITY_CHARS 1024

/* Not static: the handler table written by __try1 names it in assembler. */
__attribute__((used)) LONG WINAPI rpc_call_filter(EXCEPTION_POINTERS *e)
{
    call_fault = e->ExceptionRecord->ExceptionCode;
    return EXCEPTION_EXECUTE_HANDLER;
}

static __attribute__((noinline)) DWORD guarded_call(RPC_BINDING_HANDLE binding,
                                                    wchar_t *identity, long *pid)
{
    call_fault = 0;
    __try1(rpc_call_filter)
    call_fault = DupIdentity(binding, IDENTITY_CHARS, identity, pid);
    __except1
    return call_fault;
}

static int rpc_call(out_t *o, int argc, char **argv)
{
    rpc_target_t t;
    RPC_BINDING_HANDLE binding;
    if (rpc_args(o, argc, argv, &t,
                 "usage: rpc call UUID [--protseq P] [--host H] [--endpoint E]"))
        return 2;
    if (rpc_bind(o, &t, &binding))
        return 1;

    wchar_t identity[IDENTITY_CHARS] = L"";
    long pid = 0;
    DWORD ms = GetTickCount();
    DWORD st = guarded_call(binding, identity, &pid);
    out_int(o, "ms", GetTickCount() - ms);
    RpcBindingFree(&binding);
    if (st)
        return out_win32_error(o, "DupIdentity", st);
    out_wstr(o, "identity", identity);
    out_int(o, "pid", pid);
    return 0;
}

static const subcommand_t rpc_commands[] = {
    {"resolve", rpc_resolve, "resolve UUID [--protseq P] [--host H]"},
    {"call", rpc_call, "call UUID [--protseq P] [--host H] [--endpoint E]"},
    {NULL, NULL, NULL},
};

int cmd_rpc(out_t *o, int argc, char **argv)
{
    return run_subcommand(o, "rpc", rpc_commands, argc, argv);
}
