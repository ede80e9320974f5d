/* Reads IDENTITY_PATH; see identity.h. */
#include <stdlib.h>
#include <string.h>
#include <wctype.h>
#include "identity.h"
#include "out.h"

#define IDENTITY_MAX 65536

static char *read_small_file(const WCHAR *path)
{
    HANDLE h = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return NULL;

    char *buf = malloc(IDENTITY_MAX + 1);
    DWORD got = 0;
    if (buf && !ReadFile(h, buf, IDENTITY_MAX, &got, NULL)) {
        free(buf);
        buf = NULL;
    }
    CloseHandle(h);
    if (buf)
        buf[got] = 0;
    return buf;
}

static void trim(WCHAR *w)
{
    size_t n = wcslen(w), start = 0;
    while (n > 0 && iswspace(w[n - 1]))
        w[--n] = 0;
    while (start < n && iswspace(w[start]))
        start++;
    memmove(w, w + start, (n - start + 1) * sizeof(WCHAR));
}

WCHAR *identity_read(void)
{
    char *raw = read_small_file(IDENTITY_PATH);
    if (!raw)
        return NULL;

    const char *text = raw;
    if (strncmp(text, "\xEF\xBB\xBF", 3) == 0)
        text += 3;
    WCHAR *w = utf8_to_wide(text);
    free(raw);
    trim(w);
    return w;
}
