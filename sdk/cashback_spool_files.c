/*
 * Small files of the spool replaced whole (the sender's `deferred` list):
 * read with a size cap, replaced by temporary file and rename, and the
 * sweep of temporary files a crash left.
 */
#include "cashback_spool_internal.h"
#include "cashback_buf.h"

#include <dirent.h>
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

/* --- Small files replaced whole (the sender's deferred list) ------------ */

cashback_status cashback__spool_file_read(cashback__spool *s, const char *name,
                                          cashback__buf *out, char *why,
                                          size_t why_size) {
  cashback__buf_reset(out);
  if (why_size)
    why[0] = '\0';
  /* O_NONBLOCK: a FIFO in its place must not hang the reader. */
  int fd = cashback__spool_openat(s, name, O_RDONLY | O_NONBLOCK, 0);
  if (fd < 0) {
    if (errno == ENOENT)
      return CASHBACK_OK;
    if (why_size)
      snprintf(why, why_size, "%s: %s (euid %u)", name, strerror(errno),
               (unsigned)geteuid());
    return CASHBACK_E_IO;
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    if (why_size)
      snprintf(why, why_size, "%s: not a regular file", name);
    close(fd);
    return CASHBACK_E_IO;
  }
  if (out->max && (uint64_t)sb.st_size > out->max) {
    if (why_size)
      snprintf(why, why_size, "%s: %lld bytes, more than the %zu allowed", name,
               (long long)sb.st_size, out->max);
    close(fd);
    return CASHBACK_E_TOO_BIG;
  }
  char chunk[8192];
  cashback_status st = CASHBACK_OK;
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      st = CASHBACK_E_IO;
      break;
    }
    if (n == 0)
      break;
    if ((st = cashback__buf_add(out, chunk, (size_t)n)) != CASHBACK_OK)
      break;
  }
  close(fd);
  if (st != CASHBACK_OK && why_size && !why[0])
    snprintf(why, why_size, "%s: %s", name, cashback_strerror(st));
  return st;
}

size_t cashback__spool_sweep_tmp(cashback__spool *s, const char *name) {
  int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
  if (!dir) {
    if (fd >= 0)
      close(fd);
    return 0;
  }
  size_t nl = strlen(name), swept = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    const char *n = e->d_name;
    size_t len = strlen(n);
    if (len < nl + 6 || strncmp(n, name, nl) != 0 || n[nl] != '.' ||
        strcmp(n + len - 4, ".tmp") != 0)
      continue;
    size_t digits = 0;
    while (n[nl + 1 + digits] >= '0' && n[nl + 1 + digits] <= '9')
      digits++;
    if (digits == 0 || nl + 1 + digits != len - 4)
      continue;
    if (unlinkat(s->dirfd, n, 0) == 0)
      swept++;
  }
  closedir(dir);
  return swept;
}

cashback_status cashback__spool_file_replace(cashback__spool *s,
                                             const char *name, const void *data,
                                             size_t len) {
  if (len == 0) {
    if (unlinkat(s->dirfd, name, 0) != 0 && errno != ENOENT)
      return CASHBACK_E_IO;
    return CASHBACK_OK;
  }
  char tmp[CASHBACK__SEG_NAME_MAX + 32];
  snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", name, (long)getpid());
  int fd = cashback__spool_openat(s, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return errno == ENOSPC || errno == EDQUOT ? CASHBACK_E_DISK_FULL
                                              : CASHBACK_E_IO;
  const char *p = data;
  size_t left = len;
  int e = 0;
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      e = n < 0 ? errno : EIO;
      break;
    }
    p += n;
    left -= (size_t)n;
  }
  int sync = s->durability == CASHBACK_DURABLE_SYNC;
  if (!e && sync && fsync(fd) != 0)
    e = errno;
  close(fd);
  if (!e && renameat(s->dirfd, tmp, s->dirfd, name) != 0)
    e = errno;
  if (!e && sync && fsync(s->dirfd) != 0)
    e = errno;
  if (e) {
    unlinkat(s->dirfd, tmp, 0);
    return e == ENOSPC || e == EDQUOT ? CASHBACK_E_DISK_FULL : CASHBACK_E_IO;
  }
  return CASHBACK_OK;
}
