#ifndef GUEST_BASE64_H
#define GUEST_BASE64_H
#include <stddef.h>

/* Standard base64 (padding optional, whitespace ignored); malloc'ed, NULL if invalid. */
unsigned char *base64_decode(const char *text, size_t *n);

#endif
