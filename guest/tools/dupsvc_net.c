/* The TCP side of dupsvc.exe: who answered, as one JSON line per connection. */
#include "dupsvc.h"
#include "../probe/out.h"

SOCKET dupsvc_listen(DWORD port, int *wsa_error)
{
    WSADATA wsa;
    struct sockaddr_in addr = {0};
    SOCKET s = INVALID_SOCKET;

    *wsa_error = WSAStartup(MAKEWORD(2, 2), &wsa);
    if (*wsa_error)
        return INVALID_SOCKET;
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons((u_short)port);
    s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (s != INVALID_SOCKET && bind(s, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        listen(s, SOMAXCONN) == 0)
        return s;
    *wsa_error = WSAGetLastError();
    if (s != INVALID_SOCKET)
        closesocket(s);
    return INVALID_SOCKET;
}

static void answer(SOCKET client, const WCHAR *service, const WCHAR *identity, DWORD port)
{
    out_t o = {0};
    u_long blocking = 0;

    /* accept() hands out sockets in the listener's non-blocking, event-selected mode. */
    WSAEventSelect(client, NULL, 0);
    ioctlsocket(client, FIONBIO, &blocking);
    out_reset(&o);
    out_begin(&o);
    out_wstr(&o, "service", service);
    out_wstr(&o, "identity", identity);
    out_int(&o, "pid", GetCurrentProcessId());
    out_int(&o, "port", port);
    out_end(&o);
    send(client, o.buf, (int)o.len, 0);
    send(client, "\n", 1, 0);
    shutdown(client, SD_SEND);
    closesocket(client);
    out_free(&o);
}

void dupsvc_serve(SOCKET listener, HANDLE stop, const WCHAR *service,
                  const WCHAR *identity, DWORD port)
{
    HANDLE incoming = WSACreateEvent();
    HANDLE waits[2] = {stop, incoming};

    WSAEventSelect(listener, incoming, FD_ACCEPT);
    while (WaitForMultipleObjects(2, waits, FALSE, INFINITE) == WAIT_OBJECT_0 + 1) {
        SOCKET client;
        WSAResetEvent(incoming);
        while ((client = accept(listener, NULL, NULL)) != INVALID_SOCKET)
            answer(client, service, identity, port);
    }
    WSACloseEvent(incoming);
}
