/*
 * The spool object and its directory: opening and closing a spool
 * (cashback__spool_open), the fork() hooks, opening files inside the
 * directory with the spool's rules (cashback__spool_openat), following the
 * configured path when it names another directory (reopen), the check of
 * the SDK's own files (cashback__spool_foreign), and the error texts the
 * spool's files share. The path's trust checks are cashback_spool_path.c.
 */
#include "cashback_spool_internal.h"
#include "cashback_fork.h"
#include "cashback_text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

void cashback__spool_errf(char *err, size_t size, const char *fmt, ...) {
  if (!err || !size)
    return;
  va_list ap;
  va_start(ap, fmt);
  cashback__vprintablef(err, size, fmt, ap);
  va_end(ap);
}

/* "user www-data, uid 33": the effective user, for error messages (a
 * spool shared by root and the shop's user fails for one of them). */
static void who(char *out, size_t size) {
  uid_t u = geteuid();
  struct passwd pw, *res = NULL;
  char buf[1024];
  if (getpwuid_r(u, &pw, buf, sizeof(buf), &res) == 0 && res)
    snprintf(out, size, "user %s, uid %u", pw.pw_name, (unsigned)u);
  else
    snprintf(out, size, "uid %u", (unsigned)u);
}

/* cashback__spool_errf() with the system's reason for `e` and the effective
 * user appended:
 * "<text>: Permission denied (as user www-data, uid 33)". */
void cashback__spool_errf_sys(char *err, size_t size, int e, const char *fmt,
                              ...) {
  if (!err || !size)
    return;
  char text[PATH_MAX + 256], user[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  who(user, sizeof(user));
  cashback__printablef(err, size, "%s: %s (as %s)", text, strerror(e), user);
}

/* Opens `name` in the spool directory, never through a symlink
 * (O_NOFOLLOW: a planted link is refused with ELOOP, its target untouched),
 * and never through a hard link: what is opened for writing or with O_CREAT
 * must be a regular file with one link, owned by the directory's owner, by
 * us or by root; anything else is refused (EINVAL: no regular file, EMLINK:
 * more than one link, EPERM: another user's) before it is changed. Creation
 * is told apart from opening an existing file (O_CREAT|O_EXCL first, then
 * without O_CREAT), so that only a file this call created is given to the
 * directory's owner when we run as root (and one of ours with one link, the
 * leftover of an older root process: healed); O_TRUNC is done by
 * ftruncate() after the checks. -1 and errno on failure. */
int cashback__spool_openat(cashback__spool *s, const char *name, int flags,
                           mode_t mode) {
  int base = (flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOFOLLOW | O_CLOEXEC;
  int checked =
      (flags & (O_CREAT | O_TRUNC)) || (flags & O_ACCMODE) != O_RDONLY;
  if (!checked)
    return openat(s->dirfd, name, base, mode);
  base |= O_NONBLOCK; /* a planted FIFO must not hang the open (no effect
                         on the regular files that pass the checks) */
  int fd = -1, created = 0;
  for (int tries = 0; fd < 0 && tries < 8; tries++) {
    if (flags & O_CREAT) {
      fd = openat(s->dirfd, name, base | O_CREAT | O_EXCL, mode);
      if (fd >= 0) {
        created = 1;
        break;
      }
      if (errno != EEXIST || (flags & O_EXCL))
        return -1;
    }
    fd = openat(s->dirfd, name, base, mode);
    if (fd < 0 && (errno != ENOENT || !(flags & O_CREAT)))
      return -1; /* ENOENT with O_CREAT: removed meanwhile, create it */
  }
  if (fd < 0)
    return -1;
  struct stat st;
  int e = 0;
  uid_t me = geteuid();
  if (fstat(fd, &st) != 0)
    e = errno;
  else if (!S_ISREG(st.st_mode))
    e = EINVAL;
  else if (st.st_nlink != 1)
    e = EMLINK;
  else if (st.st_uid != s->owner_uid && st.st_uid != me && st.st_uid != 0)
    e = EPERM;
  else if (s->chown_files && (created || st.st_uid == me) &&
           (st.st_uid != s->owner_uid || st.st_gid != s->owner_gid) &&
           fchown(fd, s->owner_uid, s->owner_gid) != 0)
    e = errno;
  else if ((flags & O_TRUNC) && st.st_size != 0 && ftruncate(fd, 0) != 0)
    e = errno;
  if (e) {
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int cashback__spool_dirfd(const cashback__spool *s) {
  return s->dirfd;
}

void cashback__spool_set_pread(cashback__spool *s,
                               ssize_t (*fn)(int, void *, size_t, off_t)) {
  s->pread_fn = fn ? fn : pread;
}

void cashback__spool_set_pwrite(cashback__spool *s,
                                ssize_t (*fn)(int, const void *, size_t,
                                              off_t)) {
  s->pwrite_fn = fn ? fn : pwrite;
}

/* Takes the directory `fd` (status `st`) as the spool's. */
static void set_dir(cashback__spool *s, const struct stat *st) {
  s->dir_dev = st->st_dev;
  s->dir_ino = st->st_ino;
  s->owner_uid = st->st_uid;
  s->owner_gid = st->st_gid;
  s->chown_files = geteuid() == 0 && (st->st_uid != 0 || st->st_gid != 0);
}

/* --- fork() ------------------------------------------------------------- */

static void spool_fork_prepare(void *p) {
  pthread_mutex_lock(&((cashback__spool *)p)->lock);
}

static void spool_fork_parent(void *p) {
  pthread_mutex_unlock(&((cashback__spool *)p)->lock);
}

/* In the child: the parent's open segment and sender lock stay the
 * parent's. Closing our copies releases nothing of theirs (a flock belongs
 * to the open file description, which the parent still holds) and leaves
 * nothing that outlives the parent. The child opens its own segment at its
 * first report. */
static void spool_fork_child(void *p) {
  cashback__spool *s = p;
  cashback__spool_close_segment(s);
  if (s->sender_fd >= 0)
    close(s->sender_fd);
  s->sender_fd = -1;
  if (s->seq_fd >= 0)
    close(s->seq_fd); /* its flock would be the parent's too */
  s->seq_fd = -1;
  s->seq_tried_ms = -1;
  s->syncing = 0;
  s->waiters = 0;
  s->poisoned = 0;
  s->written_seq = s->synced_seq = s->failed_seq = 0;
  s->pid = getpid();
  pthread_cond_init(&s->cv, NULL); /* its waiters are the parent's */
  pthread_mutex_unlock(&s->lock);  /* taken by the forking thread */
}

static const cashback__fork_hooks spool_fork_hooks = {
    spool_fork_prepare, spool_fork_parent, spool_fork_child};

cashback_status cashback__spool_open(const cashback__spool_config *cfg,
                                     cashback__spool **out, char *err,
                                     size_t err_size) {
  *out = NULL;
  if (!cfg->dir || cfg->dir[0] != '/' || strlen(cfg->dir) >= PATH_MAX - 80) {
    cashback__spool_errf(err, err_size, "spool_dir: must be an absolute path");
    return CASHBACK_E_CONFIG;
  }
  int dirfd;
  struct stat st;
  if (cashback__spool_open_path(cfg->dir, &dirfd, &st, err, err_size) != 0)
    return CASHBACK_E_IO;
  cashback__spool *s = calloc(1, sizeof(*s));
  if (!s) {
    close(dirfd);
    return CASHBACK_E_NOMEM;
  }
  memcpy(s->dir, cfg->dir, strlen(cfg->dir) + 1);
  s->dirfd = dirfd;
  set_dir(s, &st);
  s->durability = cfg->durability;
  s->max_bytes = cfg->max_bytes;
  s->segment_bytes = cfg->segment_bytes ? cfg->segment_bytes : 4u << 20;
  s->fd = -1;
  s->sync_fd = -1;
  s->sender_fd = -1;
  s->pid = getpid();
  s->used_at_ms = -1; /* never scanned */
  s->usage_tried_ms = -1;
  s->usage_refresh_ms = -1;
  cashback__spool_seq_init(s);
  s->pread_fn = pread;
  s->pwrite_fn = pwrite;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->cv, NULL);
  cashback__fork_register(&s->fork_node, &spool_fork_hooks, s);
  *out = s;
  return CASHBACK_OK;
}

const char *cashback__spool_dir(const cashback__spool *s) {
  return s->dir;
}

void cashback__spool_close(cashback__spool *s) {
  if (!s)
    return;
  cashback__fork_unregister(&s->fork_node);
  cashback__spool_close_segment(s); /* cut to its data end */
  if (s->sender_fd >= 0)
    close(s->sender_fd);
  if (s->seq_fd >= 0)
    close(s->seq_fd);
  cashback__spool_usage_close(s);
  close(s->dirfd);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

/* A name the SDK makes in a spool. */
static int sdk_name(const char *n) {
  static const char *const fixed[] = {
      "sender.lock",    "quarantine.log", "quarantine.lock",
      "quarantine.tmp", "state",          "seq",
      "deferred",       "ledger.log",     "usage"};
  for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
    if (strcmp(n, fixed[i]) == 0)
      return 1;
  size_t len = strlen(n);
  if ((strncmp(n, "state.", 6) == 0 || strncmp(n, "deferred.", 9) == 0) &&
      len > 10 && strcmp(n + len - 4, ".tmp") == 0)
    return 1;
  /* Segments themselves are the collection's to name (unreadable_files). */
  return strncmp(n, "seg-", 4) == 0 && !cashback__spool_is_segment(n, NULL);
}

uint64_t cashback__spool_foreign(cashback__spool *s, char *detail,
                                 size_t size) {
  if (size)
    detail[0] = '\0';
  int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0)
      close(fd);
    return 0;
  }
  uid_t me = geteuid();
  uint64_t n = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    const char *name = de->d_name;
    struct stat st;
    if (!sdk_name(name) ||
        fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    char why[160] = "";
    int e = 0;
    if (S_ISLNK(st.st_mode))
      snprintf(why, sizeof(why), "is a symlink (never followed)");
    else if (!S_ISREG(st.st_mode))
      snprintf(why, sizeof(why), "is not a regular file");
    else if (faccessat(s->dirfd, name, R_OK | W_OK, AT_EACCESS) != 0) {
      e = errno;
      snprintf(why, sizeof(why), "cannot be read and written (owner uid %u)",
               (unsigned)st.st_uid);
    } else if (st.st_uid != s->owner_uid && (me == 0 || st.st_uid != me))
      snprintf(why, sizeof(why),
               "is owned by uid %u, not by the spool's owner (uid %u), who "
               "cannot use it",
               (unsigned)st.st_uid, (unsigned)s->owner_uid);
    else
      continue;
    if (n++ == 0) {
      if (e)
        cashback__spool_errf_sys(detail, size, e, "%s %s", name, why);
      else
        cashback__spool_errf(detail, size, "%s %s", name, why);
    }
  }
  closedir(d);
  return n;
}

/* 1 when the configured path still names the directory we hold open. */
int cashback__spool_dir_current(cashback__spool *s) {
  struct stat st;
  return stat(s->dir, &st) == 0 && st.st_dev == s->dir_dev &&
         st.st_ino == s->dir_ino;
}

/* The configured path names another directory (or none: it was removed):
 * opens it again (creating it, as at open) in place of the old one's
 * descriptor. dup3 replaces the number atomically, so a thread using it
 * meanwhile sees one directory or the other, never a closed descriptor.
 * The sender lock was the old directory's. Mutex held. */
cashback_status cashback__spool_reopen_dir(cashback__spool *s, char *err,
                                           size_t err_size) {
  int fd;
  struct stat st;
  if (cashback__spool_open_path(s->dir, &fd, &st, err, err_size) != 0)
    return CASHBACK_E_IO;
  if (dup3(fd, s->dirfd, O_CLOEXEC) < 0) {
    cashback__spool_errf_sys(err, err_size, errno, "spool %s: cannot reopen",
                             s->dir);
    close(fd);
    return CASHBACK_E_IO;
  }
  close(fd);
  set_dir(s, &st);
  if (s->sender_fd >= 0)
    close(s->sender_fd);
  s->sender_fd = -1;
  s->used_at_ms = -1;
  s->usage_tried_ms = -1; /* the new directory's count, at the next check */
  s->dir_reopens++;
  return CASHBACK_OK;
}
