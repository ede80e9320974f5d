/* Argument helpers shared by the command families. */
#ifndef PROBE_ARGS_H
#define PROBE_ARGS_H
#include "out.h"

/* A family's second word, e.g. "query" in "scm query NAME". */
typedef struct subcommand {
    const char *name;
    int (*fn)(out_t *o, int argc, char **argv); /* argv starts after the word */
    const char *usage;
} subcommand_t;

/* Writes "command": "FAMILY WORD" and runs the matching entry of `table` (ended by
 * a NULL name); an unknown or missing word is a usage error listing the words. */
int run_subcommand(out_t *o, const char *family, const subcommand_t *table,
                   int argc, char **argv);

/* Decimal, no sign, fits in a DWORD; returns 0 when `s` is not such a number. */
int arg_dword(const char *s, DWORD *value);

/* Seconds as "30" or "0.5", converted to milliseconds; 0 when not such a number. */
int arg_seconds_ms(const char *s, DWORD *ms);

#endif
