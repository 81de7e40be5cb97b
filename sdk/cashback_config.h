/* Config text parsers: file, connection string, environment. */
#ifndef CASHBACK_CONFIG_H
#define CASHBACK_CONFIG_H

#include "cashback.h"

#include <stddef.h>

/* Applies `len` bytes of config-file text ("key = value" lines) to `o`, all
 * or nothing. `origin` names the source in errors (a path). Never reads past
 * `len`. */
cashback_status cashback__config_parse_text(cashback_options *o,
                                            const char *text, size_t len,
                                            const char *origin);

/* Applies `len` bytes of a connection string, all or nothing. */
cashback_status cashback__config_parse_connection(cashback_options *o,
                                                  const char *s, size_t len);

#endif
