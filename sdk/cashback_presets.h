/* The networks' landing-parameter presets: the query parameters in which
 * each affiliate network passes its click id, by the network's name (the
 * '@network' items of landing_params, docs/onboarding.md). */
#ifndef CASHBACK_PRESETS_H
#define CASHBACK_PRESETS_H

#include <stddef.h>

#define CASHBACK__PRESET_PARAMS 2 /* parameters of a preset, at most */

/* The parameters of the network named `name` (`len` bytes, ASCII case
 * aside), in priority order, with NULL after the last (or filling the
 * array); NULL when no network has that name. Static data. */
const char *const *cashback__preset(const char *name, size_t len);

/* The known names, "@awin, @cj, ...", in the table's order, for an error
 * message: written into `out` (`size` > 0 bytes, cut at a name when short),
 * which it returns. */
const char *cashback__preset_names(char *out, size_t size);

#endif
