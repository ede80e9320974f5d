/* dupsvc.exe, the ordinary own-process test service; see dupsvc.c. */
#ifndef DUPSVC_H
#define DUPSVC_H
#include <winsock2.h>
#include <windows.h>

typedef struct dupsvc_options {
    DWORD port;             /* 0: listen nowhere */
    DWORD start_pending_ms; /* time spent in START_PENDING before RUNNING */
    DWORD stop_pending_ms;  /* time spent in STOP_PENDING before STOPPED */
    int stall;              /* pending without checkpoint progress */
} dupsvc_options_t;

/* A listening socket on all IPv4 addresses, or INVALID_SOCKET with *wsa_error set. */
SOCKET dupsvc_listen(DWORD port, int *wsa_error);
/* Answers each connection with one JSON line until `stop` is signalled. */
void dupsvc_serve(SOCKET listener, HANDLE stop, const WCHAR *service,
                  const WCHAR *identity, DWORD port);

#endif
