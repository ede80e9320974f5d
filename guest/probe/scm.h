/* Helpers shared by the `scm` subcommands (scm.c, scm_control.c, scm_config.c). */
#ifndef PROBE_SCM_H
#define PROBE_SCM_H
#include "out.h"

const char *scm_state_name(DWORD state);
/* state, state_code, pid, win32_exit_code, service_exit_code, checkpoint, wait_hint,
 * controls_accepted */
void scm_status_fields(out_t *o, const SERVICE_STATUS_PROCESS *st);
/* QueryServiceStatusEx; returns 0 or the Win32 error code. */
DWORD scm_status(SC_HANDLE svc, SERVICE_STATUS_PROCESS *st);
/* Opens the SCM (scm_access) and, when name is not NULL, the service (svc_access).
 * On failure writes the error and returns exit status 1; otherwise 0. */
int scm_open(out_t *o, const char *name, DWORD scm_access, DWORD svc_access,
             SC_HANDLE *scm, SC_HANDLE *svc);
void scm_close(SC_HANDLE scm, SC_HANDLE svc);

int scm_query(out_t *o, int argc, char **argv);
int scm_list(out_t *o, int argc, char **argv);
int scm_start(out_t *o, int argc, char **argv);
int scm_stop(out_t *o, int argc, char **argv);
int scm_create(out_t *o, int argc, char **argv);
int scm_delete(out_t *o, int argc, char **argv);
int scm_config(out_t *o, int argc, char **argv);

#endif
