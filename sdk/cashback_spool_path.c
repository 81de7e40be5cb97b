/*
 * Opening a spool directory's path safely (docs/reliability.md, "Who may
 * own a spool"): one component at a time from "/", creating what is
 * missing 0700, following a symlink only when it is owned as a directory
 * there would have to be, and refusing a directory others may write to.
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

#define MAX_HOPS 40 /* symlinks and ".." followed in one spool path */

/* Directories above the spool are only passed through: O_PATH needs no
 * read permission on them (a 0711 home directory). */
#ifdef O_PATH
#define PASS_THROUGH O_PATH
#else
#define PASS_THROUGH O_RDONLY
#endif

/* Makes the entry `comp` just made in directory `fd` durable. */
static int sync_parent(int fd) {
  int rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc = rfd < 0 ? -1 : fsync(rfd);
  int e = errno;
  if (rfd >= 0)
    close(rfd);
  errno = e;
  return rc;
}

static int others_may_write(const struct stat *st) {
  return (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

/* Why `st` (a directory or a symlink met on the way to the spool, inside
 * `parent`, NULL for "/") cannot be trusted, or NULL. `*other` is the one
 * owner besides root and us that root accepts on the path: the spool's
 * owner (docs/reliability.md, "Who may own a spool"). */
static const char *untrusted(const struct stat *st, const struct stat *parent,
                             int last, uid_t me, uid_t *other) {
  uid_t u = st->st_uid;
  if (parent && others_may_write(parent) && u != me && u != 0)
    return "is in a directory other users may write to, and is not owned by "
           "this user";
  if (u != 0 && u != me) {
    if (me != 0)
      return "is owned by another user";
    if (*other != (uid_t)-1 && *other != u)
      return "is owned by another user than the rest of the path";
    *other = u;
  }
  if (!last && S_ISDIR(st->st_mode) && others_may_write(st) &&
      !(st->st_mode & S_ISVTX))
    return "is writable by other users";
  return NULL;
}

/* The walk down a spool path, one component at a time from "/". */
typedef struct path_walk {
  const char *path;           /* as configured, for messages */
  char pending[2 * PATH_MAX]; /* what is left to walk, from "/" */
  char resolved[PATH_MAX];    /* the directories passed so far */
  uid_t me, other;            /* other: see untrusted() */
  int hops;                   /* symlinks and ".." followed */
  int fd;                     /* the directory reached (-1: none) */
  struct stat pst;            /* its status */
  char *err;
  size_t err_size;
} path_walk;

/* Starts (again) from "/". 0, or -1 with the error set. */
static int walk_start(path_walk *w) {
  if (w->fd >= 0)
    close(w->fd);
  w->resolved[0] = '\0';
  w->fd = open("/", PASS_THROUGH | O_DIRECTORY | O_CLOEXEC);
  if (w->fd < 0 || fstat(w->fd, &w->pst) != 0) {
    cashback__spool_errf_sys(w->err, w->err_size, errno,
                             "spool_dir %s: cannot open /", w->path);
    return -1;
  }
  const char *why = untrusted(&w->pst, NULL, 0, w->me, &w->other);
  if (why) {
    cashback__spool_errf(w->err, w->err_size,
                         "spool_dir %s: / %s (owner uid %u, mode %04o)",
                         w->path, why, (unsigned)w->pst.st_uid,
                         (unsigned)(w->pst.st_mode & 07777));
    return -1;
  }
  return 0;
}

/* What is left to walk becomes `head` "/" `rest` (one more hop). 1 (walk
 * again from "/"), or -1 past MAX_HOPS. */
static int walk_redirect(path_walk *w, const char *head, const char *rest) {
  if (++w->hops > MAX_HOPS) {
    cashback__spool_errf_sys(w->err, w->err_size, ELOOP, "spool_dir %s",
                             w->path);
    return -1;
  }
  char next[2 * PATH_MAX];
  snprintf(next, sizeof(next), "%s/%s", head, rest);
  memcpy(w->pending, next, sizeof(w->pending));
  return 1;
}

/* Opens the component `comp` of the directory reached, making it (0700,
 * durable in its parent) when it is missing. The descriptor, or -1 with
 * errno (and the error set when it could not be made: *made_err). */
static int open_or_make(path_walk *w, const char *comp, int oflags,
                        int *made_err) {
  *made_err = 0;
  int nfd = openat(w->fd, comp, oflags);
  if (nfd >= 0 || errno != ENOENT)
    return nfd;
  if (mkdirat(w->fd, comp, 0700) == 0 ? sync_parent(w->fd) != 0
                                      : errno != EEXIST) {
    cashback__spool_errf_sys(w->err, w->err_size, errno,
                             "spool_dir %s: cannot create %s/%s", w->path,
                             w->resolved, comp);
    *made_err = 1;
    return -1;
  }
  return openat(w->fd, comp, oflags);
}

/* `comp` could not be opened as a directory (errno `e`): when it is a
 * symlink owned as a directory there would have to be, the walk follows
 * it (1); -1 with the error set otherwise. */
static int follow_link(path_walk *w, const char *comp, const char *rest,
                       int e) {
  struct stat lst;
  if ((e != ELOOP && e != ENOTDIR) ||
      fstatat(w->fd, comp, &lst, AT_SYMLINK_NOFOLLOW) != 0 ||
      !S_ISLNK(lst.st_mode)) {
    cashback__spool_errf_sys(w->err, w->err_size, e,
                             "spool_dir %s: cannot open %s/%s", w->path,
                             w->resolved, comp);
    return -1;
  }
  const char *why = untrusted(&lst, &w->pst, 1, w->me, &w->other);
  if (why) {
    cashback__spool_errf(w->err, w->err_size,
                         "spool_dir %s: the symlink %s/%s %s (owner uid %u); "
                         "it is not followed",
                         w->path, w->resolved, comp, why, (unsigned)lst.st_uid);
    return -1;
  }
  char target[PATH_MAX];
  ssize_t tl = readlinkat(w->fd, comp, target, sizeof(target) - 1);
  if (tl <= 0 || w->hops + 1 > MAX_HOPS) {
    cashback__spool_errf_sys(w->err, w->err_size, tl <= 0 ? errno : ELOOP,
                             "spool_dir %s: cannot follow %s/%s", w->path,
                             w->resolved, comp);
    return -1;
  }
  target[tl] = '\0';
  if (target[0] == '/')
    return walk_redirect(w, target, rest);
  char head[2 * PATH_MAX];
  snprintf(head, sizeof(head), "%s/%s", w->resolved, target);
  return walk_redirect(w, head, rest);
}

/* Steps into `nfd`, the component `comp` (`n` bytes), once it passes the
 * checks. 0, or -1 with the error set (nfd closed). */
static int descend(path_walk *w, int nfd, const char *comp, size_t n,
                   int last) {
  struct stat st;
  if (fstat(nfd, &st) != 0) {
    cashback__spool_errf_sys(w->err, w->err_size, errno,
                             "spool_dir %s: cannot stat %s/%s", w->path,
                             w->resolved, comp);
    close(nfd);
    return -1;
  }
  size_t rl = strlen(w->resolved);
  if (rl + 1 + n >= sizeof(w->resolved)) {
    close(nfd);
    cashback__spool_errf_sys(w->err, w->err_size, ENAMETOOLONG, "spool_dir %s",
                             w->path);
    return -1;
  }
  w->resolved[rl] = '/';
  memcpy(w->resolved + rl + 1, comp, n + 1);
  const char *why = untrusted(&st, &w->pst, last, w->me, &w->other);
  if (why) {
    cashback__spool_errf(
        w->err, w->err_size,
        "spool_dir %s: %s %s (owner uid %u, mode %04o); a spool is used only "
        "when it and every directory above it are owned by root or its owner "
        "and writable by no one else",
        w->path, w->resolved, why, (unsigned)st.st_uid,
        (unsigned)(st.st_mode & 07777));
    close(nfd);
    return -1;
  }
  close(w->fd);
  w->fd = nfd;
  w->pst = st;
  return 0;
}

/* Walks `pending` from "/": 0 at its end, 1 when it was redirected (a
 * symlink, a ".."; walk again), -1 with the error set. */
static int walk(path_walk *w) {
  if (walk_start(w) != 0)
    return -1;
  const char *p = w->pending;
  char comp[NAME_MAX + 1];
  for (;;) {
    while (*p == '/')
      p++;
    if (!*p)
      return 0;
    size_t n = strcspn(p, "/");
    if (n > NAME_MAX) {
      cashback__spool_errf_sys(w->err, w->err_size, ENAMETOOLONG,
                               "spool_dir %s", w->path);
      return -1;
    }
    memcpy(comp, p, n);
    comp[n] = '\0';
    p += n;
    while (*p == '/')
      p++;
    int last = *p == '\0';
    if (strcmp(comp, ".") == 0)
      continue;
    if (strcmp(comp, "..") == 0) {
      char *slash = strrchr(w->resolved, '/');
      if (slash)
        *slash = '\0';
      char head[PATH_MAX];
      snprintf(head, sizeof(head), "%s", w->resolved);
      return walk_redirect(w, head, p);
    }
    int made_err;
    int nfd = open_or_make(w, comp,
                           (last ? O_RDONLY : PASS_THROUGH) | O_DIRECTORY |
                               O_NOFOLLOW | O_CLOEXEC,
                           &made_err);
    if (nfd < 0)
      return made_err ? -1 : follow_link(w, comp, p, errno);
    if (descend(w, nfd, comp, n, last) != 0)
      return -1;
  }
}

/* The spool directory itself: the owner the path allows, and the owner's
 * only (made 0700 when it is ours). 0, or -1 with the error set. */
static int check_spool_dir(path_walk *w) {
  if (!S_ISDIR(w->pst.st_mode) ||
      (w->other != (uid_t)-1 && w->pst.st_uid != w->other)) {
    cashback__spool_errf(w->err, w->err_size,
                         "spool_dir %s: the directories above it belong to "
                         "uid %u, the spool to uid %u",
                         w->path, (unsigned)w->other, (unsigned)w->pst.st_uid);
    return -1;
  }
  /* Events may carry personal data: the directory is the owner's only. */
  if ((w->pst.st_mode & 077) != 0) {
    if (w->pst.st_uid != w->me || fchmod(w->fd, 0700) != 0) {
      cashback__spool_errf(w->err, w->err_size,
                           "spool_dir %s: is accessible to others (mode %03o) "
                           "and cannot be made 0700",
                           w->path, (unsigned)(w->pst.st_mode & 0777));
      return -1;
    }
    w->pst.st_mode &= ~(mode_t)077;
  }
  return 0;
}

int cashback__spool_open_path(const char *path, int *out, struct stat *out_st,
                              char *err, size_t err_size) {
  path_walk w = {.path = path,
                 .me = geteuid(),
                 .other = (uid_t)-1,
                 .fd = -1,
                 .err = err,
                 .err_size = err_size};
  snprintf(w.pending, sizeof(w.pending), "%s", path);
  int r;
  do
    r = walk(&w);
  while (r == 1);
  if (r == 0)
    r = check_spool_dir(&w);
  if (r == 0) {
    *out = w.fd;
    *out_st = w.pst;
  } else if (w.fd >= 0) {
    close(w.fd);
  }
  return r;
}
