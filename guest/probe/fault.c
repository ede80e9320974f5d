/* `sleep MS` and `crash [CODE]`: fault injection for the harness's own tests. */
#include "args.h"
#include "commands.h"

int cmd_sleep(out_t *o, int argc, char **argv)
{
    DWORD ms;
    out_str(o, "command", "sleep");
    if (argc != 1 || !arg_dword(argv[0], &ms))
        return out_usage(o, "usage: sleep MS");
    Sleep(ms);
    out_int(o, "ms", ms);
    return 0;
}

/* TerminateProcess on ourselves: no answer, no atexit handlers, no flushing,
 * as close to a crash as a test can ask for without a debugger popping up. */
int cmd_crash(out_t *o, int argc, char **argv)
{
    DWORD code = 3;
    out_str(o, "command", "crash");
    if (argc > 1 || (argc == 1 && (!arg_dword(argv[0], &code) || code == 0)))
        return out_usage(o, "usage: crash [CODE], CODE nonzero");
    TerminateProcess(GetCurrentProcess(), code);
    return 1;
}
