/* Standard base64 decoding for the agent's uploads. */
#include <stdlib.h>
#include <string.h>
#include "base64.h"

static int b64_digit(char c)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *hit = c ? strchr(alphabet, c) : NULL;
    return hit ? (int)(hit - alphabet) : -1;
}

unsigned char *base64_decode(const char *text, size_t *n)
{
    unsigned char *out = malloc(strlen(text) / 4 * 3 + 3);
    unsigned bits = 0;
    int nbits = 0, pad = 0;
    *n = 0;
    for (const char *p = text; out && *p; p++) {
        int d = b64_digit(*p);
        if (*p == '=' || *p == ' ' || *p == '\n' || *p == '\r') {
            pad += *p == '=';
            continue;
        }
        if (d < 0 || pad) {
            free(out);
            return NULL;
        }
        bits = bits << 6 | (unsigned)d;
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out[(*n)++] = (unsigned char)(bits >> nbits);
        }
    }
    return out;
}
