/* The client as the owner of its spool and sender (layer 4, sdk/LAYERS):
 * made and freed by cashback_client.c; the lower layers include only
 * cashback_core.h. */
#ifndef CASHBACK_CLIENT_H
#define CASHBACK_CLIENT_H

#include "cashback_core.h"

struct cashback__spool;
struct cashback__sender;
/* The client's spool, opened on first use (the options' spool_dir, or the
 * default directory); records the failure on the client. */
cashback_status cashback__client_spool(cashback_client *c,
                                       struct cashback__spool **out);

/* Releases the spool and the sender (stopping its thread). */
void cashback__client_release_spool(cashback_client *c);

/* The client's sender, made on first use over its spool. */
cashback_status cashback__client_sender(cashback_client *c,
                                        struct cashback__sender **out);

#endif
