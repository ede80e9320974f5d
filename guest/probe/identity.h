/* The container's identity, written by the harness into every container.
 * PIDs and host names collide between Wine prefixes, so this file is the only
 * reliable way for a guest tool to say which container answered. */
#ifndef PROBE_IDENTITY_H
#define PROBE_IDENTITY_H
#include <windows.h>

#define IDENTITY_PATH L"C:\\harness\\identity.txt"

/* The file's text (UTF-8, BOM allowed), trimmed; malloc'ed, NULL when unreadable. */
WCHAR *identity_read(void);

#endif
