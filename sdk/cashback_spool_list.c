/*
 * The segments in the directory: which names are segments, the sorted
 * listing, opening one for reading (never through a symlink, never a FIFO),
 * whether a writer still holds it, naming a file that cannot be read, and
 * the sweep of files a writer killed while setting up a segment left.
 */
#include "cashback_spool_internal.h"

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
#include <time.h>
#include <unistd.h>

int cashback__spool_is_segment(const char *name, size_t *base_len) {
  size_t n = strlen(name);
  if (n < 9 || n >= CASHBACK__SEG_NAME_MAX || strncmp(name, "seg-", 4) != 0 ||
      strcmp(name + n - 4, ".log") != 0)
    return 0;
  if (base_len)
    *base_len = n - 4;
  return 1;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The spool directory for readdir(), opened through its descriptor (the
 * directory the spool holds, whatever its path names now); NULL on
 * failure. */
static DIR *open_dir(cashback__spool *s) {
  int fd =
      openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d && fd >= 0)
    close(fd);
  return d;
}

/* Segment names, sorted (oldest first). Caller frees each and the array. */
cashback_status cashback__spool_list_segments(cashback__spool *s, char ***out,
                                              size_t *count) {
  *out = NULL;
  *count = 0;
  DIR *d = open_dir(s);
  if (!d)
    return CASHBACK_E_IO;
  char **names = NULL;
  size_t n = 0, cap = 0;
  cashback_status st = CASHBACK_OK;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!cashback__spool_is_segment(de->d_name, NULL))
      continue;
    char **p = cashback__grow(names, n, &cap, sizeof(*p), 16);
    if (!p) {
      st = CASHBACK_E_NOMEM;
      break;
    }
    names = p;
    if (!(names[n] = strdup(de->d_name))) {
      st = CASHBACK_E_NOMEM;
      break;
    }
    n++;
  }
  closedir(d);
  if (st != CASHBACK_OK) {
    cashback__spool_free_names(names, n);
    return st;
  }
  if (n)
    qsort(names, n, sizeof(*names), cmp_names);
  *out = names;
  *count = n;
  return CASHBACK_OK;
}

void cashback__spool_free_names(char **names, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

/* 1 when no writer holds the segment open. */
int cashback__spool_segment_closed(int fd) {
  if (flock(fd, LOCK_EX | LOCK_NB) != 0)
    return 0;
  flock(fd, LOCK_UN);
  return 1;
}

/* Names a file that could not be read, with the reason and who tried:
 * "<dir>/<file>: <what>: <reason> (euid N)". Only the first is kept. */
void cashback__spool_note_problem(char *out, size_t size,
                                  const cashback__spool *s, const char *name,
                                  const char *what, int e) {
  if (!out || !size || out[0])
    return;
  /* The directory may be long: the file, reason and uid matter most. */
  size_t dl = strlen(s->dir);
  const char *dir = dl > 96 ? s->dir + dl - 96 : s->dir;
  int n = snprintf(out, size, "%s%s/%.64s: %s: ", dl > 96 ? "..." : "", dir,
                   name, what);
  if (n < 0 || (size_t)n >= size)
    return;
  if (e)
    snprintf(out + n, size - (size_t)n, "%.100s (euid %ld)", strerror(e),
             (long)geteuid());
  else /* `what` says it: "a FIFO, not a segment" */
    snprintf(out, size, "%s%s/%.64s: %s (euid %ld)", dl > 96 ? "..." : "", dir,
             name, what, (long)geteuid());
}

int cashback__spool_fstat(int fd, struct stat *st) {
#ifdef STATX_NLINK
  struct statx sx;
  unsigned want = STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_SIZE;
  if (statx(fd, "", AT_EMPTY_PATH, want, &sx) == 0 &&
      (sx.stx_mask & want) == want) {
    memset(st, 0, sizeof(*st));
    st->st_mode = sx.stx_mode;
    st->st_nlink = sx.stx_nlink;
    st->st_size = (off_t)sx.stx_size;
    return 0;
  }
#endif
  return fstat(fd, st);
}

/* Opens a file named like a segment for reading: never through a symlink,
 * never blocking on a FIFO, and only a regular file. -1 with `*what` and
 * errno (0: not a regular file) when it cannot be read; ENOENT: gone. */
int cashback__spool_open_segment(cashback__spool *s, const char *name,
                                 const char **what) {
  int fd = cashback__spool_openat(s, name, O_RDONLY | O_NONBLOCK, 0);
  if (fd < 0) {
    *what = "cannot open";
    return -1;
  }
  struct stat st;
  if (cashback__spool_fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    *what = "cannot stat";
    errno = e;
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    *what = S_ISFIFO(st.st_mode)  ? "a FIFO, not a segment"
            : S_ISDIR(st.st_mode) ? "a directory, not a segment"
                                  : "not a regular file";
    errno = 0;
    return -1;
  }
  return fd;
}

/* A writer killed while it set up a segment leaves "<seg>.log.new" and
 * "<seg>.ack" with no "<seg>.log". Both are removed once a minute old: a live
 * writer renames its new segment within microseconds. */
#define ORPHAN_AGE_S 60
void cashback__spool_reclaim_orphans(cashback__spool *s) {
  DIR *d = open_dir(s);
  if (!d)
    return;
  time_t now = time(NULL);
  struct dirent *de;
  while ((de = readdir(d))) {
    const char *n = de->d_name;
    size_t len = strlen(n);
    if (strncmp(n, "seg-", 4) != 0 || len >= CASHBACK__SEG_NAME_MAX + 4)
      continue;
    char log[CASHBACK__SEG_NAME_MAX + 4];
    int is_new = len > 8 && strcmp(n + len - 8, ".log.new") == 0;
    int is_ack = len > 4 && (strcmp(n + len - 4, ".ack") == 0 ||
                             strcmp(n + len - 5, ".sync") == 0);
    if (!is_new && !is_ack)
      continue;
    memcpy(log, n, len + 1);
    if (is_ack) /* its segment's name */
      memcpy(log + len - (n[len - 1] == 'c' ? 5 : 4), ".log", 5);
    else
      log[len - 4] = '\0'; /* "<seg>.log" */
    struct stat st;
    if (fstatat(s->dirfd, log, &st, 0) == 0)
      continue; /* the segment exists: not an orphan */
    if (fstatat(s->dirfd, n, &st, 0) != 0 || now - st.st_mtime < ORPHAN_AGE_S)
      continue;
    unlinkat(s->dirfd, n, 0);
  }
  closedir(d);
}
