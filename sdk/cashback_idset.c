/* Open addressing with linear probing over at least twice as many slots as
 * ids, keyed by FNV-1a (cashback_idset.h). */
#include "cashback_idset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t id_hash(const char *id) {
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)id; *p; p++)
    h = (h ^ *p) * 16777619u;
  return h;
}

cashback_status cashback__idset_init(cashback__idset *s, size_t cap) {
  s->slot = NULL;
  s->n = 0;
  s->cap = cap;
  size_t nb = 16;
  while (nb < 2 * cap) {
    if (nb > SIZE_MAX / 2 / sizeof(*s->slot))
      return CASHBACK_E_NOMEM;
    nb *= 2;
  }
  s->mask = nb - 1;
  s->slot = calloc(nb, sizeof(*s->slot));
  return s->slot ? CASHBACK_OK : CASHBACK_E_NOMEM;
}

void cashback__idset_free(cashback__idset *s) {
  free(s->slot);
  s->slot = NULL;
  s->n = 0;
}

/* The slot holding `id`, or the free one where it would go. */
static cashback__idset_slot *find(const cashback__idset *s, const char *id) {
  size_t b = id_hash(id) & s->mask;
  while (s->slot[b].id && strcmp(s->slot[b].id, id) != 0)
    b = (b + 1) & s->mask;
  return &s->slot[b];
}

size_t cashback__idset_put(cashback__idset *s, const char *id, size_t value) {
  if (!s->slot)
    return SIZE_MAX;
  cashback__idset_slot *x = find(s, id);
  if (x->id)
    return x->value;
  if (s->n >= s->cap)
    return SIZE_MAX;
  x->id = id;
  x->value = value;
  s->n++;
  return value;
}

size_t cashback__idset_get(const cashback__idset *s, const char *id) {
  if (!s->slot)
    return SIZE_MAX;
  const cashback__idset_slot *x = find(s, id);
  return x->id ? x->value : SIZE_MAX;
}
