/* Subcommand dispatch inside a family and number parsing. */
#include <stdio.h>
#include <string.h>
#include "args.h"

static int family_usage(out_t *o, const char *family, const subcommand_t *table)
{
    char msg[512];
    int n = snprintf(msg, sizeof msg, "usage: %s", family);
    for (const subcommand_t *s = table; s->name && n < (int)sizeof msg; s++)
        n += snprintf(msg + n, sizeof msg - n, "%s %s", s == table ? "" : " |", s->usage);
    out_str(o, "command", family);
    return out_usage(o, msg);
}

int run_subcommand(out_t *o, const char *family, const subcommand_t *table,
                   int argc, char **argv)
{
    char command[128];

    for (const subcommand_t *s = table; argc > 0 && s->name; s++) {
        if (strcmp(s->name, argv[0]) != 0)
            continue;
        snprintf(command, sizeof command, "%s %s", family, s->name);
        out_str(o, "command", command);
        return s->fn(o, argc - 1, argv + 1);
    }
    return family_usage(o, family, table);
}

int arg_dword(const char *s, DWORD *value)
{
    unsigned long long v = 0;

    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        v = v * 10 + (unsigned)(*s - '0');
        if (v > 0xffffffffULL)
            return 0;
    }
    *value = (DWORD)v;
    return 1;
}

int arg_seconds_ms(const char *s, DWORD *ms)
{
    DWORD whole = 0, frac = 0, scale = 1000;
    char head[16];
    const char *dot = s ? strchr(s, '.') : NULL;
    size_t n = dot ? (size_t)(dot - s) : (s ? strlen(s) : 0);

    if (!s || n == 0 || n >= sizeof head)
        return 0;
    memcpy(head, s, n);
    head[n] = 0;
    if (!arg_dword(head, &whole) || whole > 4000000)
        return 0;
    for (const char *p = dot ? dot + 1 : ""; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        scale /= 10;
        frac += (DWORD)(*p - '0') * scale;
    }
    *ms = whole * 1000 + frac;
    return 1;
}
