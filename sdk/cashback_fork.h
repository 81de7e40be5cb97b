/*
 * fork() safety: the registry of this process's live spools, senders and
 * clients, so that a child made by fork() drops at once what it inherited
 * (descriptors holding the parent's locks, the parent's thread, mutexes
 * held by threads the child does not have). See docs/reliability.md,
 * "After fork()".
 */
#ifndef CASHBACK_FORK_H
#define CASHBACK_FORK_H

typedef struct cashback__fork_node cashback__fork_node;

/* What to do around a fork() for one object. `prepare` runs in the forking
 * thread before the fork (take the object's short-lived mutexes), `parent`
 * after it in the parent (release them), `child` in the child (close what
 * belongs to the parent, reinitialise the synchronisation). Any may be NULL.
 * `prepare` must not wait for anything that waits for a fork. */
typedef struct cashback__fork_hooks {
  void (*prepare)(void *obj);
  void (*parent)(void *obj);
  void (*child)(void *obj);
} cashback__fork_hooks;

/* Embedded in each registered object. */
struct cashback__fork_node {
  cashback__fork_node *prev, *next;
  const cashback__fork_hooks *hooks;
  void *obj;
};

/* Adds / removes `obj`. Never call with a mutex held that a `prepare` hook
 * takes. Thread-safe. */
void cashback__fork_register(cashback__fork_node *n,
                             const cashback__fork_hooks *hooks, void *obj);
void cashback__fork_unregister(cashback__fork_node *n);

/* Reinitialises a mutex of an object in the child: kept if nobody held it
 * at the fork, made anew if a thread of the parent (gone in the child) did.
 * Returns 1 when it had to be made anew (what it guarded may be torn). */
#include <pthread.h>
#include <stdatomic.h>
int cashback__fork_reset_mutex(pthread_mutex_t *m);

/* Who holds a mutex, for the child: set by its holder right after locking
 * (cashback__fork_owner_set) and cleared right before unlocking
 * (cashback__fork_owner_clear). A mutex the forking thread holds itself (a
 * fork() from a callback run with it held) must not be made anew in the
 * child: the holder is on the child's own stack and unlocks it when it
 * returns, and what it guards is in use, not torn. */
typedef struct cashback__fork_owner {
  pthread_t tid; /* valid while `held` */
  atomic_int held;
} cashback__fork_owner;
void cashback__fork_owner_set(cashback__fork_owner *o);
void cashback__fork_owner_clear(cashback__fork_owner *o);
/* In the child: -1 when the forking thread holds `m` itself (it is left as
 * it is), else as cashback__fork_reset_mutex (0 kept, 1 made anew, and the
 * owner cleared). */
int cashback__fork_reset_owned_mutex(pthread_mutex_t *m,
                                     cashback__fork_owner *o);

#endif
