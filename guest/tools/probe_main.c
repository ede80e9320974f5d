/* probe.exe SUBCOMMAND ARGS...: one JSON line on stdout, exit status 0/1/2. */
#include <stdlib.h>
#include "../probe/commands.h"

/* wmain, not main: the C runtime's narrow argv goes through the ANSI code page and
 * loses names such as "сервис-名前". */
int wmain(int argc, WCHAR **wargv)
{
    char **argv = calloc((size_t)argc + 1, sizeof *argv);
    out_t o = {0};

    if (!argv)
        return 2;
    for (int i = 0; i < argc; i++)
        argv[i] = wide_to_utf8(wargv[i]);
    out_reset(&o);
    int status = dispatch(&o, argc - 1, argv + 1);
    write_line(GetStdHandle(STD_OUTPUT_HANDLE), o.buf, o.len);
    return status;
}
