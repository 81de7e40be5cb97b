/* The one rule for a file that holds a secret (a config file, a connection
 * string file, a verifier's or the sandbox's keys file), used by every reader
 * of such a file: the SDK's config loader, the cashback command and the
 * sandbox (docs/security.md, "Files holding a secret").
 *
 * The file is opened first and the opened descriptor is examined (fstat), so
 * what is checked is what is read: no window between a check of the path and
 * the open. It is refused when it is not a regular file, when its owner is
 * neither the effective user nor root, when its group or other users can
 * write it, or when other users can read it. Group-readable is allowed:
 * root:www-data 0640 is how a shop shares it with its PHP workers. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "cashback.h"
#include "cashback_text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_SHOWN 100 /* bytes of the path shown in a message, at most */

/* The path for a message: printable (cashback__printable), at most
 * PATH_SHOWN bytes. */
static const char *shown(const char *path, char *out) {
  cashback__printable(out, PATH_SHOWN + 1, path, strlen(path));
  return out;
}

static const char *kind(mode_t m) {
  if (S_ISDIR(m))
    return "a directory";
  if (S_ISFIFO(m))
    return "a FIFO";
  if (S_ISSOCK(m))
    return "a socket";
  if (S_ISCHR(m) || S_ISBLK(m))
    return "a device";
  return "not a regular file";
}

cashback_status cashback_secret_file_open(const char *path, int *fd_out,
                                          char *err, size_t err_size) {
  char tmp[1];
  if (!err || err_size == 0) {
    err = tmp;
    err_size = sizeof(tmp);
  }
  err[0] = '\0';
  if (fd_out)
    *fd_out = -1;
  if (!path || !fd_out) {
    snprintf(err, err_size, "secret file: %s is NULL",
             path ? "the descriptor pointer" : "the path");
    return CASHBACK_E_INVALID_ARGUMENT;
  }
  char p[PATH_SHOWN + 1], ebuf[128];
  /* O_NONBLOCK: a FIFO put in the file's place must not block the open
   * before fstat can refuse it. Symbolic links are followed (a Kubernetes
   * secret volume or a config manager links its files): the file checked is
   * the one opened. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    int e = errno;
    snprintf(err, err_size, "cannot open '%s': %s", shown(path, p),
             cashback__errtext(e, ebuf, sizeof(ebuf)));
    return CASHBACK_E_IO;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    snprintf(err, err_size, "cannot examine '%s': %s", shown(path, p),
             cashback__errtext(e, ebuf, sizeof(ebuf)));
    return CASHBACK_E_IO;
  }
  cashback_status rc = CASHBACK_OK;
  uid_t me = geteuid();
  unsigned mode = (unsigned)(st.st_mode & 07777);
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, err_size, "cannot use '%s': %s, not a regular file",
             shown(path, p), kind(st.st_mode));
    rc = CASHBACK_E_IO;
  } else if (st.st_uid != me && st.st_uid != 0) {
    char who[48] = "root";
    if (me != 0)
      snprintf(who, sizeof(who), "%u (or root)", (unsigned)me);
    snprintf(err, err_size,
             "'%s' holds a secret but is owned by uid %u, not this user "
             "(uid %u) or root; fix (as root): chown %s FILE",
             shown(path, p), (unsigned)st.st_uid, (unsigned)me, who);
    rc = CASHBACK_E_CONFIG;
  } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    snprintf(err, err_size,
             "'%s' holds a secret but other users can change it (mode "
             "%04o); fix: chmod 600 FILE (or 640 for a group)",
             shown(path, p), mode);
    rc = CASHBACK_E_CONFIG;
  } else if (st.st_mode & S_IROTH) {
    snprintf(err, err_size,
             "'%s' holds a secret but every user can read it (mode %04o); "
             "fix: chmod 600 FILE (or 640 for a group)",
             shown(path, p), mode);
    rc = CASHBACK_E_CONFIG;
  }
  if (rc != CASHBACK_OK) {
    close(fd);
    return rc;
  }
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0)
    (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  *fd_out = fd;
  return CASHBACK_OK;
}
