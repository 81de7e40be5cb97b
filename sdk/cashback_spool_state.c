/*
 * The storage of the sender's `state` file (its status: backoff schedule,
 * pause, counters), read and replaced by rename. Its format and checksum
 * are the sender's (cashback__sender_state_parse).
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

/* --- Sender state ------------------------------------------------------- */

cashback_status cashback__spool_state_read(cashback__spool *s, char *buf,
                                           size_t size) {
  buf[0] = '\0';
  int fd = cashback__spool_openat(s, "state", O_RDONLY, 0);
  if (fd < 0)
    return errno == ENOENT ? CASHBACK_E_NOT_FOUND : CASHBACK_E_IO;
  /* Up to size - 1 bytes: a longer file is cut, and its checksum then
   * fails (cashback__sender_state_parse). */
  size_t len = 0;
  while (len < size - 1) {
    ssize_t n = read(fd, buf + len, size - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      close(fd);
      buf[0] = '\0';
      return CASHBACK_E_IO;
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = '\0';
  return CASHBACK_OK;
}

cashback_status cashback__spool_state_write(cashback__spool *s,
                                            const char *text) {
  char tmp[64];
  snprintf(tmp, sizeof(tmp), "state.%ld.tmp", (long)getpid());
  int fd = cashback__spool_openat(s, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return CASHBACK_E_IO;
  size_t len = strlen(text);
  ssize_t n = write(fd, text, len);
  close(fd);
  if (n != (ssize_t)len || renameat(s->dirfd, tmp, s->dirfd, "state") != 0) {
    unlinkat(s->dirfd, tmp, 0);
    return CASHBACK_E_IO;
  }
  return CASHBACK_OK;
}
