/* The networks' landing-parameter presets (cashback_presets.h). */
#include "cashback_presets.h"
#include "cashback_ascii.h"

#include <stdio.h>

static const struct {
  const char *name;
  const char *params[CASHBACK__PRESET_PARAMS];
} presets[] = {
    {"awin", {"awc", NULL}},
    {"cj", {"cjevent", NULL}},
    {"impact", {"irclickid", "clickid"}},
    {"rakuten", {"ranSiteID", NULL}},
    {"tradedoubler", {"tduid", "tdclid_sn"}},
    {"partnerize", {"clickref", NULL}},
    {"everflow", {"transaction_id", NULL}},
    {"cashback", {"cb_click", NULL}},
};

const char *const *cashback__preset(const char *name, size_t len) {
  for (size_t k = 0; k < sizeof(presets) / sizeof(presets[0]); k++)
    if (cashback__ascii_ieq(name, len, presets[k].name))
      return presets[k].params;
  return NULL;
}

const char *cashback__preset_names(char *out, size_t size) {
  size_t n = 0;
  out[0] = '\0';
  for (size_t k = 0; k < sizeof(presets) / sizeof(presets[0]); k++) {
    int w =
        snprintf(out + n, size - n, "%s@%s", k ? ", " : "", presets[k].name);
    if (w < 0 || (size_t)w >= size - n)
      break; /* cut: the buffer holds what fitted */
    n += (size_t)w;
  }
  return out;
}
