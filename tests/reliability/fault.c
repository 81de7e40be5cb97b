/*
 * LD_PRELOAD fault injection for the reliability tests. A real disk error or
 * power cut cannot be produced on a test machine, so this shim stands in for
 * them at the one place the SDK depends on: fsync() and fdatasync(). It only
 * touches files under CASHBACK_FAULT_DIR (and that directory itself); every
 * other call passes straight to the C library.
 *
 *   CASHBACK_FAULT_DIR    the directory (absolute path, no trailing '/')
 *   CASHBACK_FAULT_CALLS  which calls are counted and may fail: "fdatasync",
 *                         "fsync" or "both" (default)
 *   CASHBACK_FAULT_FAIL   call numbers (1-based, per process, counting the
 *                         selected calls on files under the directory) that
 *                         fail, e.g. "5,6,20"
 *   CASHBACK_FAULT_FAIL_P probability (0 to 1) that such a call fails
 *   CASHBACK_FAULT_SEED   seed of that draw (default 1)
 *   CASHBACK_FAULT_ERRNO  errno of a failure (default EIO)
 *   CASHBACK_FAULT_FLOCK_DELAY_MS  sleep that long before each flock()
 *                         LOCK_EX of a file under the directory (widens the
 *                         window between creating a file and locking it)
 *   CASHBACK_FAULT_PREAD_FAIL  call numbers (1-based, per process) of the
 *                         pread() calls on segments ("*.log" files under
 *                         the directory) at an offset past 0 that fail with
 *                         EIO, e.g. "1": a transient read error of the disk
 *   CASHBACK_FAULT_LOG    side log, one line per event, tab-separated:
 *     F <n> <path>                 call number n failed (injected)
 *     S <size> <path>              a successful sync of a regular file: data
 *                                  up to <size> (its size when the call
 *                                  began) is on disk
 *     D <path> <name>/<name>/...   a successful sync of the directory: these
 *                                  entries are on disk
 *     R <n> <path>                 pread number n failed (injected)
 *
 * A failed call does not reach the kernel: the data stays in the page cache,
 * as after a real write-back error, and the SDK must treat it as lost.
 * The S and D lines are written before the call returns, so the test never
 * sees a sync the program acted on without its line (a kill -9 in between
 * loses a line only for a sync whose success nobody had seen yet).
 * Simulating a power cut (tests/reliability/reliability.py) then means: cut
 * every file back to its last S size (0 without one) and delete every entry
 * missing from the last D line of its directory.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef int (*sync_fn)(int);

/* Calls counted so far in this process (a test shim: global by nature). */
static atomic_ulong counted;
static atomic_ulong preads_counted;

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v && v[0] ? v : NULL;
}

/* The path of `fd` if it is the directory or under it, else 0. */
static int watched(int fd, char path[PATH_MAX]) {
  const char *dir = env("CASHBACK_FAULT_DIR");
  if (!dir)
    return 0;
  char link[64];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, PATH_MAX - 1);
  if (n <= 0)
    return 0;
  path[n] = '\0';
  size_t dl = strlen(dir);
  return strncmp(path, dir, dl) == 0 && (path[dl] == '\0' || path[dl] == '/');
}

static int selected(const char *call) {
  const char *calls = env("CASHBACK_FAULT_CALLS");
  return !calls || strcmp(calls, "both") == 0 || strcmp(calls, call) == 0;
}

/* A deterministic draw in [0, 1) for call n of this process. */
static double draw(unsigned long n) {
  const char *seed = env("CASHBACK_FAULT_SEED");
  uint64_t x = (seed ? strtoull(seed, NULL, 10) : 1) * 0x9e3779b97f4a7c15u;
  x ^= (uint64_t)getpid() << 32 ^ n;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdu;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53u;
  x ^= x >> 33;
  return (double)(x >> 11) / 9007199254740992.0;
}

static int should_fail(unsigned long n) {
  const char *list = env("CASHBACK_FAULT_FAIL");
  for (const char *p = list; p && *p;) {
    char *end;
    unsigned long k = strtoul(p, &end, 10);
    if (end == p)
      break;
    if (k == n)
      return 1;
    p = *end == ',' ? end + 1 : end;
  }
  const char *prob = env("CASHBACK_FAULT_FAIL_P");
  return prob && draw(n) < strtod(prob, NULL);
}

/* Appends one line to the side log with a single write(). */
static void side_log(const char *line, size_t len) {
  const char *path = env("CASHBACK_FAULT_LOG");
  if (!path)
    return;
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    return;
  if (write(fd, line, len) != (ssize_t)len)
    fprintf(stderr, "fault: cannot write %s\n", path);
  close(fd);
}

/* "D\t<dir>\t<name>/<name>...\n" for the entries of the directory now
 * (taken before the sync: what existed then is durable after it). Caller
 * frees; NULL on failure. */
static char *dir_line(const char *path, size_t *out_len) {
  DIR *d = opendir(path);
  if (!d)
    return NULL;
  size_t cap = 4096, len = 0;
  char *line = malloc(cap);
  int n = line ? snprintf(line, cap, "D\t%s\t", path) : -1;
  if (n < 0 || (size_t)n >= cap) {
    free(line);
    closedir(d);
    return NULL;
  }
  len = (size_t)n;
  struct dirent *de;
  int first = 1;
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    size_t nl = strlen(de->d_name);
    if (len + nl + 3 > cap) {
      size_t nc = (len + nl + 3) * 2;
      char *p = realloc(line, nc);
      if (!p)
        break;
      line = p;
      cap = nc;
    }
    if (!first)
      line[len++] = '/';
    memcpy(line + len, de->d_name, nl);
    len += nl;
    first = 0;
  }
  closedir(d);
  line[len++] = '\n';
  *out_len = len;
  return line;
}

static int intercept(const char *name, int fd) {
  sync_fn real = (sync_fn)dlsym(RTLD_NEXT, name);
  if (!real) {
    errno = ENOSYS;
    return -1;
  }
  char path[PATH_MAX];
  if (!watched(fd, path))
    return real(fd);
  struct stat st;
  int have = fstat(fd, &st) == 0;
  size_t dlen = 0;
  char *dline = have && S_ISDIR(st.st_mode) ? dir_line(path, &dlen) : NULL;
  if (selected(name)) {
    unsigned long n = atomic_fetch_add(&counted, 1) + 1;
    if (should_fail(n)) {
      char line[PATH_MAX + 64];
      int len = snprintf(line, sizeof(line), "F\t%lu\t%s\n", n, path);
      if (len > 0 && (size_t)len < sizeof(line))
        side_log(line, (size_t)len);
      const char *e = env("CASHBACK_FAULT_ERRNO");
      free(dline);
      errno = e ? atoi(e) : EIO;
      return -1;
    }
  }
  int rc = real(fd);
  if (rc == 0 && have) {
    if (dline) {
      side_log(dline, dlen);
    } else if (S_ISREG(st.st_mode)) {
      char line[PATH_MAX + 64];
      int len = snprintf(line, sizeof(line), "S\t%lld\t%s\n",
                         (long long)st.st_size, path);
      if (len > 0 && (size_t)len < sizeof(line))
        side_log(line, (size_t)len);
    }
  }
  free(dline);
  return rc;
}

int flock(int fd, int op) {
  typedef int (*flock_fn)(int, int);
  flock_fn real = (flock_fn)dlsym(RTLD_NEXT, "flock");
  if (!real) {
    errno = ENOSYS;
    return -1;
  }
  const char *delay = env("CASHBACK_FAULT_FLOCK_DELAY_MS");
  char path[PATH_MAX];
  if (delay && (op & LOCK_EX) && watched(fd, path)) {
    long ms = atol(delay);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
      ;
  }
  return real(fd, op);
}

/* pread() (and pread64, its other name): fails chosen reads of segments. */
static ssize_t intercept_pread(const char *name, int fd, void *buf, size_t n,
                               off_t off) {
  typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);
  pread_fn real = (pread_fn)dlsym(RTLD_NEXT, name);
  if (!real) {
    errno = ENOSYS;
    return -1;
  }
  const char *list = env("CASHBACK_FAULT_PREAD_FAIL");
  char path[PATH_MAX];
  if (list && off > 0 && watched(fd, path)) {
    size_t pl = strlen(path);
    if (pl > 4 && strcmp(path + pl - 4, ".log") == 0) {
      unsigned long k = atomic_fetch_add(&preads_counted, 1) + 1;
      for (const char *p = list; *p;) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p)
          break;
        if (v == k) {
          char line[PATH_MAX + 64];
          int len = snprintf(line, sizeof(line), "R\t%lu\t%s\n", k, path);
          if (len > 0 && (size_t)len < sizeof(line))
            side_log(line, (size_t)len);
          errno = EIO;
          return -1;
        }
        p = *end == ',' ? end + 1 : end;
      }
    }
  }
  return real(fd, buf, n, off);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off) {
  return intercept_pread("pread", fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off);
ssize_t pread64(int fd, void *buf, size_t n, off_t off) {
  return intercept_pread("pread64", fd, buf, n, off);
}

int fsync(int fd) {
  int saved = errno;
  int rc = intercept("fsync", fd);
  if (rc == 0)
    errno = saved;
  return rc;
}

int fdatasync(int fd) {
  int saved = errno;
  int rc = intercept("fdatasync", fd);
  if (rc == 0)
    errno = saved;
  return rc;
}
