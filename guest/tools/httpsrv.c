/* httpsrv.exe URL: the harness's HTTP Server API (HTTP.sys) server.
 *
 * Registers URL (e.g. http://+:8180/dup/) with HttpAddUrl, prints one JSON line
 * (ready, or the failing call and its Win32 code: 32 when another process holds
 * the URL), then answers every request under URL with 200 and a JSON body naming
 * the identity written into this container, its pid and the URL.  Started through
 * `probe proc start`, which returns that line. */
#include <winsock2.h>
#include <windows.h>
#include <http.h>
#include <stdlib.h>
#include "../probe/identity.h"
#include "../probe/out.h"

#define REQUEST_BYTES 16384

/* The JSON body of every answer; built once. */
static out_t body;

static void build_body(const WCHAR *identity, const WCHAR *url)
{
    out_reset(&body);
    out_begin(&body);
    out_wstr(&body, "identity", identity);
    out_int(&body, "pid", GetCurrentProcessId());
    out_wstr(&body, "url", url);
    out_end(&body);
}

static ULONG respond(HANDLE queue, HTTP_REQUEST_ID id)
{
    HTTP_RESPONSE r = {0};
    HTTP_DATA_CHUNK chunk = {0};
    ULONG sent = 0;

    r.StatusCode = 200;
    r.pReason = "OK";
    r.ReasonLength = 2;
    r.Headers.KnownHeaders[HttpHeaderContentType].pRawValue = "application/json";
    r.Headers.KnownHeaders[HttpHeaderContentType].RawValueLength = 16;
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = body.buf;
    chunk.FromMemory.BufferLength = (ULONG)body.len;
    r.EntityChunkCount = 1;
    r.pEntityChunks = &chunk;
    return HttpSendHttpResponse(queue, id, 0, &r, NULL, &sent, NULL, 0, NULL, NULL);
}

static void serve(HANDLE queue)
{
    HTTP_REQUEST *req = malloc(REQUEST_BYTES);
    if (!req)
        abort();
    for (;;) {
        ULONG got = 0;
        ULONG st = HttpReceiveHttpRequest(queue, HTTP_NULL_ID, 0, req, REQUEST_BYTES,
                                          &got, NULL);
        if (st == NO_ERROR)
            respond(queue, req->RequestId);
        else if (st != ERROR_MORE_DATA)
            break; /* the queue is gone */
    }
    free(req);
}

/* Initialize, open a queue, add the URL; returns 0 or the exit status after the
 * error was written. */
static int listen_on(out_t *o, const WCHAR *url, HANDLE *queue)
{
    HTTPAPI_VERSION v1 = HTTPAPI_VERSION_1;
    ULONG st = HttpInitialize(v1, HTTP_INITIALIZE_SERVER, NULL);
    if (st)
        return out_win32_error(o, "HttpInitialize", st);
    if ((st = HttpCreateHttpHandle(queue, 0)))
        return out_win32_error(o, "HttpCreateHttpHandle", st);
    if ((st = HttpAddUrl(*queue, url, NULL)))
        return out_win32_error(o, "HttpAddUrl", st);
    return 0;
}

int wmain(int argc, WCHAR **argv)
{
    out_t o = {0};
    HANDLE queue = NULL;
    WCHAR *identity = identity_read();
    int status;

    out_reset(&o);
    out_begin(&o);
    out_str(&o, "command", "httpsrv");
    if (argc != 2)
        status = out_usage(&o, "usage: httpsrv URL");
    else if (!identity)
        status = out_win32_error(&o, "identity_read", GetLastError());
    else {
        out_wstr(&o, "url", argv[1]);
        status = listen_on(&o, argv[1], &queue);
    }
    out_wstr(&o, "identity", identity ? identity : L"");
    out_int(&o, "pid", GetCurrentProcessId());
    out_end(&o);
    out_put_ok(&o, status == 0);
    write_line(GetStdHandle(STD_OUTPUT_HANDLE), o.buf, o.len);
    if (status)
        return status;
    build_body(identity, argv[1]);
    serve(queue);
    return 1;
}
