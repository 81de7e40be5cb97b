/*
 * The one piece of process-wide state of libcashback (besides libcurl's own
 * global init): a list of live spools, senders and clients, walked by
 * pthread_atfork() handlers.
 *
 * Why global: a child made by fork() inherits descriptors that hold the
 * parent's flock()s (sender.lock, the parent's open segment). flock() locks
 * belong to the open file description, so as long as any child keeps its
 * copy open, the lock outlives the parent, even if the child never calls
 * libcashback again. Only code that runs at the fork itself can close them
 * in every child; a per-client check at the next call (which we also make)
 * would leave them open in a child that never calls. pthread_atfork() takes
 * plain functions, so they need the list.
 *
 * Thread-safety: the list has its own mutex. The prepare handler takes it
 * (so no object is added or removed across the fork) and then each object's
 * prepare hook; the parent handler releases them in reverse; the child
 * handler runs the child hooks (only the forking thread exists there) and
 * releases the list mutex, which the forking thread holds. Lock order: the
 * list mutex before any object mutex; objects register and unregister
 * without holding theirs.
 *
 * With glibc the handlers are unregistered when a dlopen()ed libcashback is
 * unloaded (PHP extensions are); nothing else is left behind.
 */
#include "cashback_fork.h"

#include <pthread.h>
#include <stddef.h>

static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static cashback__fork_node fork_head = {&fork_head, &fork_head, NULL, NULL};

static void on_prepare(void) {
  pthread_mutex_lock(&fork_lock);
  for (cashback__fork_node *n = fork_head.next; n != &fork_head; n = n->next)
    if (n->hooks->prepare)
      n->hooks->prepare(n->obj);
}

static void on_parent(void) {
  for (cashback__fork_node *n = fork_head.prev; n != &fork_head; n = n->prev)
    if (n->hooks->parent)
      n->hooks->parent(n->obj);
  pthread_mutex_unlock(&fork_lock);
}

static void on_child(void) {
  for (cashback__fork_node *n = fork_head.prev; n != &fork_head; n = n->prev)
    if (n->hooks->child)
      n->hooks->child(n->obj);
  pthread_mutex_unlock(&fork_lock);
}

static void install(void) {
  (void)pthread_atfork(on_prepare, on_parent, on_child);
}

void cashback__fork_register(cashback__fork_node *n,
                             const cashback__fork_hooks *hooks, void *obj) {
  pthread_once(&fork_once, install);
  n->hooks = hooks;
  n->obj = obj;
  pthread_mutex_lock(&fork_lock);
  n->next = &fork_head;
  n->prev = fork_head.prev;
  fork_head.prev->next = n;
  fork_head.prev = n;
  pthread_mutex_unlock(&fork_lock);
}

void cashback__fork_unregister(cashback__fork_node *n) {
  if (!n->hooks)
    return; /* never registered */
  pthread_mutex_lock(&fork_lock);
  n->prev->next = n->next;
  n->next->prev = n->prev;
  pthread_mutex_unlock(&fork_lock);
  n->prev = n->next = NULL;
  n->hooks = NULL;
}

int cashback__fork_reset_mutex(pthread_mutex_t *m) {
  if (pthread_mutex_trylock(m) == 0) {
    pthread_mutex_unlock(m);
    return 0;
  }
  /* Held by a thread of the parent, which the child does not have: it
   * would stay locked forever. */
  pthread_mutex_init(m, NULL);
  return 1;
}

void cashback__fork_owner_set(cashback__fork_owner *o) {
  o->tid = pthread_self();
  atomic_store(&o->held, 1);
}

void cashback__fork_owner_clear(cashback__fork_owner *o) {
  atomic_store(&o->held, 0);
}

int cashback__fork_reset_owned_mutex(pthread_mutex_t *m,
                                     cashback__fork_owner *o) {
  /* The child has one thread, the forking one: `tid` was written by the
   * holder before `held` was set, so when `held` is seen set and the holder
   * was this thread, `tid` is this thread's own write. */
  if (atomic_load(&o->held) && pthread_equal(o->tid, pthread_self()))
    return -1;
  atomic_store(&o->held, 0);
  return cashback__fork_reset_mutex(m);
}
