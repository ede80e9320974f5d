/* One request line of agent.exe:
 *   {"id": 7, "argv": ["scm", "query", "dupsvc"]}
 *   {"id": 8, "put": "C:/harness/x.exe", "data_b64": "TVqQ..."}
 * Unknown keys are ignored so that a newer controller can add fields. */
#ifndef AGENT_REQUEST_H
#define AGENT_REQUEST_H
#include <stddef.h>

typedef struct request {
    char *id;        /* the id's JSON text (number or string) as sent, or NULL */
    int has_argv;    /* "argv" was given, possibly empty */
    int argc;
    char **argv;     /* UTF-8, NULL-terminated when argc > 0 */
    char *put;       /* path to write, UTF-8, or NULL */
    char *data_b64;  /* with put */
} request_t;

/* Returns NULL on success, else a static message; `r` must be freed either way. */
const char *request_parse(const char *line, request_t *r);
void request_free(request_t *r);

#endif
