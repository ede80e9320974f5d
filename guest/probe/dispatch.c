/* The command table built from commands.def, and `help`. */
#include <stdio.h>
#include <string.h>
#include "commands.h"

static const struct {
    const char *name;
    command_fn fn;
    const char *help;
} commands[] = {
#define COMMAND(name, fn, help) {name, fn, help},
#include "commands.def"
#undef COMMAND
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

int cmd_help(out_t *o, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    out_str(o, "command", "help");
    out_arr(o, "commands");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        out_begin(o);
        out_str(o, "name", commands[i].name);
        out_str(o, "help", commands[i].help);
        out_end(o);
    }
    out_close_arr(o);
    return 0;
}

static int unknown(out_t *o, int argc, char **argv)
{
    char msg[512];
    int n = snprintf(msg, sizeof msg, "usage: COMMAND ARGS..., COMMAND one of:");
    for (size_t i = 0; i < N_COMMANDS && n < (int)sizeof msg; i++)
        n += snprintf(msg + n, sizeof msg - n, " %s", commands[i].name);
    out_str(o, "command", argc > 0 ? argv[0] : "");
    return out_usage(o, msg);
}

int dispatch(out_t *o, int argc, char **argv)
{
    int status = -1;

    out_begin(o);
    for (size_t i = 0; argc > 0 && i < N_COMMANDS && status < 0; i++)
        if (strcmp(commands[i].name, argv[0]) == 0)
            status = commands[i].fn(o, argc - 1, argv + 1);
    if (status < 0)
        status = unknown(o, argc, argv);
    out_end(o);
    out_put_ok(o, status == 0);
    return status;
}
