/* The probe's subcommands.  Each family lives in its own file and is listed in
 * commands.def; a command gets its arguments after the subcommand name, as UTF-8,
 * writes one JSON object into `o` and returns the process exit status (0 when the
 * call it reports succeeded, 1 when it reports a Win32 error, 2 on bad usage).
 */
#ifndef PROBE_COMMANDS_H
#define PROBE_COMMANDS_H
#include "out.h"

typedef int (*command_fn)(out_t *o, int argc, char **argv);

#define COMMAND(name, fn, help) int fn(out_t *o, int argc, char **argv);
#include "commands.def"
#undef COMMAND

/* Run one command line (argv[0] is the subcommand) into `o`. */
int dispatch(out_t *o, int argc, char **argv);

#endif
