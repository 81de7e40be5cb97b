/*
 * The sender lock: flock(sender.lock), held by the one process that drains
 * the spool.
 */
#include "cashback_spool_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* --- Sender side -------------------------------------------------------- */

cashback_status cashback__spool_take_sender(cashback__spool *s, char *err,
                                            size_t err_size) {
  pthread_mutex_lock(&s->lock);
  cashback_status st = CASHBACK_OK;
  /* A sender follows the configured path: a directory removed and made
   * again under a running daemon is drained, not the old one. */
  if (!cashback__spool_dir_current(s))
    st = cashback__spool_reopen_dir(s, err, err_size);
  if (st == CASHBACK_OK && s->sender_fd < 0) {
    int fd = cashback__spool_openat(s, "sender.lock", O_RDWR | O_CREAT, 0600);
    if (fd < 0) {
      cashback__spool_errf_sys(err, err_size, errno,
                               "spool %s: cannot open sender.lock", s->dir);
      st = CASHBACK_E_IO;
    } else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      close(fd);
      if (e == EWOULDBLOCK) {
        cashback__spool_errf(err, err_size,
                             "spool %s: another sender holds sender.lock",
                             s->dir);
        st = CASHBACK_E_BUSY;
      } else {
        cashback__spool_errf_sys(err, err_size, e,
                                 "spool %s: cannot lock sender.lock", s->dir);
        st = CASHBACK_E_IO;
      }
    } else {
      s->sender_fd = fd;
      s->sender_gen++;
    }
  }
  pthread_mutex_unlock(&s->lock);
  return st;
}

uint64_t cashback__spool_sender_gen(cashback__spool *s) {
  pthread_mutex_lock(&s->lock);
  uint64_t g = s->sender_fd >= 0 ? s->sender_gen : 0;
  pthread_mutex_unlock(&s->lock);
  return g;
}

cashback_status cashback__spool_lock_sender(cashback__spool *s) {
  return cashback__spool_take_sender(s, NULL, 0);
}

void cashback__spool_unlock_sender(cashback__spool *s) {
  pthread_mutex_lock(&s->lock);
  if (s->sender_fd >= 0) {
    close(s->sender_fd);
    s->sender_fd = -1;
  }
  pthread_mutex_unlock(&s->lock);
}
