/* Pieces of agent.exe that live outside its main loop. */
#ifndef AGENT_H
#define AGENT_H
#include "../probe/out.h"

/* Decodes data_b64 and writes it to path; the answer is a whole object in `o`. */
int agent_put(out_t *o, const char *path, const char *data_b64);

#endif
