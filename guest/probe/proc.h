/* `proc stop|list` (svc_proc_end.c), dispatched by the proc family in svc_proc.c. */
#ifndef PROBE_PROC_H
#define PROBE_PROC_H
#include "out.h"

/* The event a harness server waits on to end by itself: harness-stop-<its pid>. */
#define PROC_STOP_EVENT L"harness-stop-%lu"

int proc_stop(out_t *o, int argc, char **argv);
int proc_list(out_t *o, int argc, char **argv);

#endif
