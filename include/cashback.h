/*
 * libcashback: report shop conversions to a cashback network, durably and
 * signed.
 *
 * Conventions for the whole API:
 * - Every function that can fail returns a `cashback_status`; `CASHBACK_OK`
 *   (0) is success. `cashback_strerror()` gives the text of a status, and
 *   `cashback_client_last_error()` / `cashback_options_last_error()` give the
 *   detail of the last failure (the field, key or line at fault). Detail
 *   strings never contain a secret.
 * - Strings are NUL-terminated UTF-8 unless a length is passed with them
 *   (`_n` variants and parsers take explicit lengths and never read past
 *   them).
 * - Ownership is stated per function: "takes ownership" means the callee
 *   frees the argument, even on failure; "borrowed" means the caller keeps
 *   it and it must stay valid for the call only.
 * - Thread-safety is stated once per type below and repeated where a
 *   function differs.
 * - Money is never a float: amounts are `int64_t` minor units of an ISO 4217
 *   currency (4990 EUR is 49.90 EUR, 1000 JPY is 1000 JPY).
 * - Times are Unix seconds (UTC) as `int64_t`.
 * - Structs that grow: an output struct that may get members in a later
 *   version starts with `size_t size`. Set it to sizeof the struct before
 *   the call (`cashback_queue_status s = {.size = sizeof(s)};`); the library
 *   writes no more than `size` bytes (a program built against an older
 *   header gets the members it knows) and refuses a size below the struct's
 *   first layout with CASHBACK_E_INVALID_ARGUMENT. In a struct passed to a
 *   callback the library sets `size`: read a member added later only when
 *   `size` covers it. See docs/abi.md.
 * - `CASHBACK_MUST_USE` (warn_unused_result) marks every call that returns
 *   a `cashback_status` whose ignored failure loses data or leaves the
 *   caller without a result: all of them but three. That is client_new, the
 *   options loaders and every option setter (options_set[_n] and each
 *   options_set_*: a refused setting leaves the default in place),
 *   secret_file_open, capture, capture_parts, click_read, click_verify,
 *   event_create, event_parse, event_builder_set, event_builder_finish,
 *   every event setter
 *   (set_click[_n|_full|_default], set_amount[_decimal[_n]],
 *   set_order_time, add_item[_decimal|_text[_n]], add_voucher[_n],
 *   set_customer, set_metadata[_n], set_refund_id[_n],
 *   set_reason[_n], set_test: an event whose setter was refused would be
 *   sent without that part), event_finalize, event_to_json, request_new,
 *   report, sender_start, flush, get_status, quarantine_list,
 *   quarantine_replay, import_csv, probe, spool_check, money_parse,
 *   money_format, time_parse, sign, verifier_add_key,
 *   verifier_set_tolerance, verifier_verify, batch_parse and batch_event
 *   (all cashback_), and each new call that returns a status. Check their
 *   status. Not marked: client_last_error and event_builder_error
 *   (queries: their status is the failure they describe) and sender_stop
 *   (always CASHBACK_OK).
 */
#ifndef CASHBACK_H
#define CASHBACK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define CASHBACK_API __attribute__((visibility("default")))
#define CASHBACK_MUST_USE __attribute__((warn_unused_result))
#define CASHBACK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CASHBACK_API
#define CASHBACK_MUST_USE
#define CASHBACK_PRINTF(f, a)
#endif

/** Version of this header; `cashback_version()` gives the library's. */
#define CASHBACK_VERSION "0.2.0"

/* Limits, in bytes, not counting the terminating NUL. */
#define CASHBACK_TOKEN_MAX 128       /**< click token */
#define CASHBACK_PARAM_MAX 32        /**< landing parameter name */
#define CASHBACK_ID_MAX 64           /**< merchant id, key id, order id, sku */
#define CASHBACK_EVENT_ID_LEN 32     /**< event id: 32 lowercase hex digits */
#define CASHBACK_SET_COOKIE_MAX 1024 /**< a Set-Cookie value we produce */
#define CASHBACK_METADATA_MAX 4096   /**< all metadata of one event */
/** One event serialized (its wire JSON): 252 KiB. The setters that add to
 * an event (items, vouchers, metadata) refuse, with CASHBACK_E_TOO_BIG
 * naming the field, what could make it longer. */
#define CASHBACK_EVENT_JSON_MAX 258048
#define CASHBACK_ERROR_MAX 256 /**< a last-error detail */

/**
 * Status codes. The numbers are fixed and never reused; new codes are added
 * at the end.
 */
typedef enum cashback_status {
  CASHBACK_OK = 0,                 /**< 0: success */
  CASHBACK_E_INVALID_ARGUMENT = 1, /**< 1: a NULL or out-of-range argument */
  CASHBACK_E_NOMEM = 2,            /**< 2: out of memory */
  CASHBACK_E_CONFIG = 3,           /**< 3: bad or missing configuration */
  CASHBACK_E_CLICK_NONE = 4,       /**< 4: no click token present */
  CASHBACK_E_CLICK_EXPIRED = 5,    /**< 5: click older than the window */
  CASHBACK_E_CLICK_TAMPERED = 6,   /**< 6: click cookie fails its MAC */
  CASHBACK_E_CLICK_MALFORMED = 7,  /**< 7: click token or cookie malformed */
  CASHBACK_E_AMOUNT = 8,           /**< 8: amount not exact or out of range */
  CASHBACK_E_CURRENCY = 9,         /**< 9: not an active ISO 4217 currency */
  CASHBACK_E_FIELD = 10,           /**< 10: an event field is invalid */
  CASHBACK_E_TOO_BIG = 11,         /**< 11: a size cap was exceeded */
  CASHBACK_E_SIG_MALFORMED = 12,   /**< 12: signature header unparsable */
  CASHBACK_E_SIG_TIMESTAMP = 13,   /**< 13: signature outside replay window */
  CASHBACK_E_SIG_UNKNOWN_KEY = 14, /**< 14: no signature by a known key */
  CASHBACK_E_SIG_MISMATCH = 15,    /**< 15: signature does not match body */
  CASHBACK_E_CRYPTO = 16,          /**< 16: the crypto library failed */
  CASHBACK_E_IO = 17,              /**< 17: a file system call failed */
  CASHBACK_E_INTERNAL = 18,        /**< 18: a bug in libcashback */
  CASHBACK_E_SPOOL_FULL = 19,      /**< 19: the spool reached its cap */
  CASHBACK_E_DISK_FULL = 20,       /**< 20: no space left on the disk */
  CASHBACK_E_NETWORK = 21,         /**< 21: connection failed or timed out */
  CASHBACK_E_HTTP = 22,            /**< 22: the network answered an error */
  CASHBACK_E_AUTH = 23,            /**< 23: the network refused the key */
  CASHBACK_E_BUSY = 24,            /**< 24: another sender holds the spool */
  CASHBACK_E_TIMEOUT = 25,         /**< 25: did not finish in time */
  CASHBACK_E_NOT_FOUND = 26,       /**< 26: no such quarantined event */
  CASHBACK_E_PROTOCOL = 27         /**< 27: the network's answer is invalid */
} cashback_status;

/**
 * Text of a status, e.g. "click cookie fails its signature check". Never
 * NULL; unknown values give "unknown status". Static storage; thread-safe.
 */
CASHBACK_API const char *cashback_strerror(cashback_status status);

/** Version string of the library, e.g. "0.2.0". Static; thread-safe. */
CASHBACK_API const char *cashback_version(void);

/**
 * Copies the `len` bytes at `text` (NULs included; NULL with any `len` is
 * "") into `out` (`size` bytes, NUL-terminated when `size` > 0) as
 * printable ASCII, for a message, a log line or a terminal: bytes 0x20-0x7e
 * as they are, every other byte as the four characters `\xNN`. A result that
 * does not fit is cut between two shown bytes and ends with "...". The rule
 * of libcashback's own error details and log lines. Returns the length
 * written. No allocation; thread-safe.
 */
CASHBACK_API size_t cashback_printable(char *out, size_t size, const char *text,
                                       size_t len);

/**
 * Formats `fmt` like vsnprintf() and writes the result into `out` (`size`
 * bytes) made printable exactly as `cashback_printable()` does: the one
 * step for a program's message that echoes arguments, file contents or the
 * network's answers. The formatted text is taken up to 4095 bytes; one that
 * is longer, or does not fit in `size` - 1 characters once shown, is cut
 * and ends with "...". Returns the length written (0 when `out` is NULL or
 * `size` is 0). No allocation; thread-safe.
 */
CASHBACK_API size_t cashback_vprintablef(char *out, size_t size,
                                         const char *fmt, va_list ap)
    CASHBACK_PRINTF(3, 0);

/** `cashback_vprintablef()` with the arguments given directly. */
CASHBACK_API size_t cashback_printablef(char *out, size_t size, const char *fmt,
                                        ...) CASHBACK_PRINTF(3, 4);

/* ------------------------------------------------------------------------
 * Logging
 * --------------------------------------------------------------------- */

typedef enum cashback_log_level {
  CASHBACK_LOG_DEBUG = 0,
  CASHBACK_LOG_INFO = 1,
  CASHBACK_LOG_WARN = 2,
  CASHBACK_LOG_ERROR = 3
} cashback_log_level;

/**
 * Log callback. `message` is borrowed for the call and never contains a
 * secret. It may be called from any thread that uses the client, and from
 * several at once: the callback must be thread-safe. It must not call back
 * into the same client.
 */
typedef void (*cashback_log_fn)(cashback_log_level level, const char *message,
                                void *userdata);

/**
 * Clock callback: the current Unix time in seconds. For tests and replays;
 * by default the system clock is used. Same threading rules as the log
 * callback.
 */
typedef int64_t (*cashback_clock_fn)(void *userdata);

/* ------------------------------------------------------------------------
 * Options
 *
 * An options object collects configuration before a client is made.
 * Thread-safety: an options object is not thread-safe; use it from one
 * thread at a time. Distinct objects are independent.
 * --------------------------------------------------------------------- */

typedef struct cashback_options cashback_options;

/** New options with defaults. Caller owns it; NULL when out of memory. */
CASHBACK_API cashback_options *cashback_options_new(void);

/** Frees options (NULL is fine). Wipes secrets from memory. */
CASHBACK_API void cashback_options_free(cashback_options *opts);

/**
 * Sets one configuration key from its text form, as a config file, the
 * environment or a connection string would (keys are listed in
 * docs/onboarding.md, e.g. "merchant_id", "attribution_window").
 * `key` and `value` are borrowed. On error the options are unchanged and
 * `cashback_options_last_error()` names the key.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_options_set(
    cashback_options *opts, const char *key, const char *value);

/**
 * `cashback_options_set()` with explicit lengths, for bindings whose strings
 * are counted (`key_len` bytes at `key`, `value_len` bytes at `value`; no
 * NUL needed, none read past the length). A NUL byte inside the key or the
 * value is refused (`CASHBACK_E_CONFIG`, the detail names the key), never
 * taken as the end; a value longer than 65536 bytes is refused. `key` and
 * `value` are borrowed; the value is copied for parsing and the copy wiped.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_set_n(cashback_options *opts, const char *key, size_t key_len,
                       const char *value, size_t value_len);

/** Merchant id given by the network: 1-64 of [A-Za-z0-9._-]. */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_set_merchant_id(cashback_options *opts, const char *id);

/**
 * The signing key: its id (1-64 of [A-Za-z0-9._-]) and secret (16-256
 * printable ASCII characters, no space, ';' or '#'). Both borrowed and copied.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_options_set_key(
    cashback_options *opts, const char *key_id, const char *secret);

/**
 * A second key, signed with alongside the first during a key rotation
 * (NULL `key_id` removes it). Same rules as `cashback_options_set_key()`.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_options_set_next_key(
    cashback_options *opts, const char *key_id, const char *secret);

/**
 * A secret of the shop's own (same rules as a key's secret) for click
 * cookies only, so that they do not depend on the reporting key (NULL or ""
 * removes it). Without it, cookies are signed with a key derived from
 * `next_key`'s secret during a rotation, else from the current secret, and
 * read back under any of them; set it before a rotation whose overlap is
 * shorter than the attribution window. Copied.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_set_cookie_secret(cashback_options *opts, const char *secret);

/**
 * The network's batch endpoint, an absolute http:// or https:// URL.
 * Borrowed and copied.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_set_endpoint(cashback_options *opts, const char *url);

/**
 * Landing parameters that carry the click token, comma-separated, in
 * priority order, e.g. "cb_click,awc". A known network name prefixed with
 * '@' stands for that network's parameters ("@awin" is "awc", "@cj" is
 * "cjevent"; see docs/onboarding.md). Default: "cb_click".
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_set_landing_params(cashback_options *opts, const char *list);

/** Name of the click cookie: a cookie token of 1-64 characters. */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_set_cookie_name(cashback_options *opts, const char *name);

/** Domain attribute of the cookie, e.g. "shop.example"; NULL for none. */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_set_cookie_domain(cashback_options *opts, const char *domain);

/**
 * Attribution window in seconds (1 s to 400 days). The cookie's Max-Age, and
 * the age past which a click read back at checkout is expired.
 * Default: 30 days.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_set_attribution_window(cashback_options *opts,
                                        int64_t seconds);

/**
 * Log callback, its user data, and the lowest level passed to it
 * (default: no logging).
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_set_logger(cashback_options *opts, cashback_log_fn fn,
                            void *userdata, cashback_log_level min_level);

/** Clock callback (NULL: the system clock). */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_options_set_clock(
    cashback_options *opts, cashback_clock_fn fn, void *userdata);

/** How durable an event is when `cashback_report()` returns. */
typedef enum cashback_durability {
  /** On disk (fdatasync'd): survives a crash of the process or the machine,
   *  including a power cut. The default. */
  CASHBACK_DURABLE_SYNC = 0,
  /** Written to the operating system: survives a crash of the process, not
   *  a crash of the machine or a power cut. Faster. */
  CASHBACK_DURABLE_PROCESS = 1
} cashback_durability;

/**
 * Directory of the spool (absolute path; created 0700 when missing). Default:
 * /var/spool/cashback/<merchant_id> for root, else
 * $XDG_STATE_HOME/cashback/<merchant_id> (~/.local/state/...).
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_set_spool_dir(cashback_options *opts, const char *dir);

/**
 * File of CA certificates (PEM) that the sender trusts for the endpoint's TLS
 * certificate, instead of the system's CA store: for a network behind a
 * private CA. Absolute path, no control byte; checked readable by
 * `cashback_client_new()` (CASHBACK_E_CONFIG naming `ca_file` otherwise).
 * `path` is borrowed and copied. Text key `ca_file`. Not thread-safe, as
 * every options call: one thread at a time per options object.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_set_ca_file(cashback_options *opts, const char *path);

/** Durability of `cashback_report()` (default CASHBACK_DURABLE_SYNC). */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_options_set_durability(
    cashback_options *opts, cashback_durability durability);

/**
 * Cap of the spool in bytes (queued and quarantined events), 64 KiB to
 * 1 TiB; default 1 GiB. A report past it fails with CASHBACK_E_SPOOL_FULL.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_set_spool_max_bytes(cashback_options *opts, uint64_t bytes);

/**
 * Largest batch the sender posts: events (1-1000, default 500) and body
 * bytes (64 KiB to 4 MiB, default 1 MiB).
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_options_set_batch(
    cashback_options *opts, size_t max_events, size_t max_bytes);

/**
 * Sender timeouts in milliseconds: to connect (default 10000) and for a
 * whole request (default 30000); each 100 ms to 10 minutes.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_options_set_timeouts(
    cashback_options *opts, int64_t connect_ms, int64_t total_ms);

/**
 * Retry backoff in milliseconds: the base of the exponential backoff
 * (default 1000) and its cap (default 600000); full jitter.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_options_set_backoff(
    cashback_options *opts, int64_t base_ms, int64_t cap_ms);

/**
 * How long the sender keeps trying an event the network answered "retry"
 * (a refund, cancel or confirm that reached it before its sale), counted
 * from the first such answer: 1 s to 90 days, default 72 h. Past it, the
 * next "retry" quarantines the event. Not thread-safe (an options object is
 * used from one thread at a time).
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_set_followup_wait(cashback_options *opts, int64_t wait_ms);

/**
 * How long the sender thread (cashback_sender_start()) may wait for more
 * reports before it posts a batch that is not full, in milliseconds: 0 to
 * 10000, default 20; 0 posts at once (one request per wake-up). The wait
 * ends early once the batch is full (cashback_options_set_batch()), is
 * counted from when the sender first held an event back and never runs
 * longer than that past an event's report; cashback_flush(),
 * cashback_sender_stop() and every deadline ignore it. Not thread-safe (an
 * options object is used from one thread at a time).
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_set_linger(cashback_options *opts, int64_t linger_ms);

/**
 * Allows a plain http:// endpoint on a host other than loopback (default:
 * refused; https:// is always verified).
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_set_allow_insecure_http(cashback_options *opts, int allow);

/**
 * Loads a config file: one `key = value` per line, '#' comments, blank
 * lines ignored. Later settings override earlier ones. On error nothing from
 * the file is applied, and the last error names the line and key.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_load_file(cashback_options *opts, const char *path);

/**
 * Loads a connection string: "cashback:" followed by `key=value` pairs
 * separated by ';', values percent-encoded where needed. On error nothing is
 * applied, and the last error names the key.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_load_connection_string(cashback_options *opts,
                                        const char *connection);

/**
 * `cashback_options_load_connection_string()` with an explicit length (`len`
 * bytes at `connection`, borrowed, no NUL needed). A NUL byte inside a key
 * or a value is refused, naming the pair or the key, never taken as the end.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_load_connection_string_n(cashback_options *opts,
                                          const char *connection, size_t len);

/**
 * Loads the connection string held by the environment variable `name` (a
 * shim's directive naming it, e.g. a web server's per-site variable). All
 * or nothing: on error the options are unchanged and
 * `cashback_options_last_error()` names the variable: CASHBACK_E_CONFIG
 * when it is not set or empty, or the connection string's own error
 * (never its secret). Reads the process environment: do not call while
 * another thread changes it.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_load_connection_env(cashback_options *opts, const char *name);

/**
 * Loads the environment: first the file named by CASHBACK_CONFIG, then the
 * connection string in CASHBACK_CONNECTION, then each CASHBACK_<KEY> (e.g.
 * CASHBACK_MERCHANT_ID) variable, each overriding the ones before. Reads the
 * process environment: do not call while another thread changes it.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_options_load_env(cashback_options *opts);

/**
 * Opens a file that holds a secret (a config file, a connection string, a
 * keys file) for reading, under the one rule every reader of such a file in
 * libcashback and its tools follows: the opened file (fstat of the
 * descriptor, so what is checked is what is read) must be a regular file,
 * owned by the effective user or root, not writable by its group or others,
 * and not readable by others (group-readable is allowed: root:www-data 0640).
 * Symbolic links are followed; the file they lead to is checked.
 * `cashback_options_load_file()` and CASHBACK_CONFIG use it.
 *
 * On success `*fd` is a descriptor (close-on-exec) the caller reads and
 * closes. On failure `*fd` is -1 and `err` (may be NULL; `err_size` bytes,
 * CASHBACK_ERROR_MAX + 1 is enough) names the path, what is wrong and the
 * fix, e.g. "'/etc/shop/cashback.conf' holds a secret but every user can read
 * it (mode 0644); fix: chmod 600 FILE ...". CASHBACK_E_IO: it cannot be
 * opened, or is not a regular file; CASHBACK_E_CONFIG: its owner or mode
 * breaks the rule; CASHBACK_E_INVALID_ARGUMENT: `path` or `fd` is NULL.
 * Thread-safe.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_secret_file_open(
    const char *path, int *fd, char *err, size_t err_size);

/**
 * Detail of the last failure on these options, e.g.
 * "/etc/cashback.conf:3: unknown key 'merchnt_id'". Never NULL (empty when
 * none); valid until the next call on `opts`.
 */
CASHBACK_API const char *
cashback_options_last_error(const cashback_options *opts);

/* ------------------------------------------------------------------------
 * Client
 *
 * A client serves one merchant. Thread-safety: every function taking a
 * client may be called from several threads at once, unless stated. Several
 * clients in one process are independent.
 *
 * fork(): a client made before `fork()` may be used in both processes. The
 * parent goes on as before. In the child, the client has no sender thread
 * (`cashback_sender_start()` starts one of the child's own); a report goes
 * into a segment of the child's own; `cashback_flush()` returns
 * CASHBACK_E_BUSY while the parent's (or anyone's) sender holds the spool;
 * `cashback_sender_stop()` and `cashback_client_free()` return at once and
 * never touch the parent's thread, lock or connection. Nothing the child
 * inherited keeps a lock or a file of the parent's alive: at the fork itself
 * (through `pthread_atfork()`; the list of live clients and spools behind it
 * is libcashback's one piece of global state, see docs/reliability.md) the
 * child's copies of the parent's segment, `sender.lock` and HTTP socket are
 * closed, whether or not the child ever calls libcashback. Call `fork()`
 * from a thread that is not inside a libcashback call (a log callback).
 * --------------------------------------------------------------------- */

typedef struct cashback_client cashback_client;

/**
 * Makes a client from options. Takes ownership of `opts` (freed here, even
 * on failure). Fails with CASHBACK_E_CONFIG when a required key is missing
 * (merchant_id, key_id, secret, endpoint); `detail`, when not NULL, receives
 * the reason (CASHBACK_ERROR_MAX + 1 bytes).
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_client_new(cashback_options *opts, cashback_client **out, char *detail,
                    size_t detail_size);

/** Frees a client (NULL is fine). No other thread may be using it. */
CASHBACK_API void cashback_client_free(cashback_client *client);

/**
 * The calling thread's last error on this client: copies the detail of the
 * most recent call this thread made on `client`, if that call failed, into
 * `buf` (truncated and NUL-terminated), and returns its status; returns
 * CASHBACK_OK and "" when that call succeeded or there was none. Each
 * thread has its own record: another thread's failures never show here
 * (nor does the sender thread's; its failures are in
 * `cashback_queue_status`). Every call below that takes a client starts by
 * clearing the calling thread's record, so right after a call returns a
 * failure the detail is that call's (a call refused before it looks at the
 * client, e.g. a NULL argument, may leave no detail: then CASHBACK_OK and
 * ""). Kept per client, for at most 256 threads at once (past that, the
 * thread that failed longest ago loses its record); no state is shared
 * between clients. Thread-safe. See docs/errors.md.
 */
CASHBACK_API cashback_status cashback_client_last_error(cashback_client *client,
                                                        char *buf, size_t size);

/** The merchant id of the client. Owned by the client; thread-safe. */
CASHBACK_API const char *cashback_client_merchant_id(const cashback_client *c);

/**
 * The name of the client's click cookie (option `cookie_name`, default
 * "cashback_click"): for a shim that is handed the request's cookies by
 * name (PHP's $_COOKIE, a framework's cookie jar) and verifies the value
 * with `cashback_click_verify()`. Owned by the client, valid until
 * `cashback_client_free()`; never NULL (NULL `c` gives ""). Thread-safe.
 */
CASHBACK_API const char *cashback_client_cookie_name(const cashback_client *c);

/* ------------------------------------------------------------------------
 * Click capture (landing) and read-back (checkout)
 * --------------------------------------------------------------------- */

/**
 * A click handle: the signed value of the click cookie,
 * "1.<captured_at>.<mac>.<param>.<token>", today at most 216 bytes; the
 * limit leaves room for a later version. Opaque: store it with the order as
 * it is and give it back to `cashback_click_verify()`; do not parse it.
 */
#define CASHBACK_HANDLE_MAX 256
#define CASHBACK_COOKIE_NAME_MAX 64    /**< the click cookie's name */
#define CASHBACK_COOKIE_DOMAIN_MAX 253 /**< its Domain attribute */

/**
 * A click read back at checkout, or verified from a handle. An output
 * struct that may grow: set `size` to `sizeof(cashback_click)` before the
 * call (a smaller or zero size is CASHBACK_E_INVALID_ARGUMENT; the library
 * never writes past `size`). A plain value; copy it freely.
 */
typedef struct cashback_click {
  size_t size;                         /**< set by the caller: sizeof */
  char token[CASHBACK_TOKEN_MAX + 1];  /**< the network's click token */
  char source[CASHBACK_PARAM_MAX + 1]; /**< landing parameter it came in */
  int64_t captured_at;                 /**< Unix time of the landing */
  /** The click handle (the verified cookie value): store this with the
   * order; `cashback_click_verify()` gives the whole click back from it. */
  char handle[CASHBACK_HANDLE_MAX + 1];
} cashback_click;

/**
 * The click cookie as parts, for frameworks that set cookies through their
 * own API (Django's set_cookie, Express's res.cookie). An output struct that
 * may grow: set `size` to `sizeof(cashback_cookie)` before the call. The
 * Set-Cookie string of `cashback_capture()` is formatted from exactly these
 * parts. A plain value; copy it freely.
 */
typedef struct cashback_cookie {
  size_t size;                                 /**< set by the caller: sizeof */
  char name[CASHBACK_COOKIE_NAME_MAX + 1];     /**< the cookie's name */
  char value[CASHBACK_HANDLE_MAX + 1];         /**< its value: the handle */
  int64_t max_age;                             /**< Max-Age, seconds (window) */
  char path[2];                                /**< Path: always "/" */
  char domain[CASHBACK_COOKIE_DOMAIN_MAX + 1]; /**< Domain, "" for none */
  int secure;                                  /**< Secure: always 1 */
  int http_only;                               /**< HttpOnly: always 1 */
  char same_site[8];                           /**< SameSite: always "Lax" */
} cashback_cookie;

/**
 * Landing: looks for a click token in `target` (a raw query string, or a
 * request target such as "/p?awc=X"; `len` bytes, not NUL-terminated). When
 * one is found, writes the value of a Set-Cookie header into `set_cookie`
 * (CASHBACK_SET_COOKIE_MAX + 1 bytes are always enough) and returns
 * CASHBACK_OK. The cookie carries the token and the capture time, signed;
 * it is Secure, HttpOnly, SameSite=Lax, Path=/, Max-Age = the window.
 * Returns CASHBACK_E_CLICK_NONE when there is no token (set no cookie),
 * CASHBACK_E_CLICK_MALFORMED when there is one but it is not valid (bad
 * character, too long, bad percent-encoding, two different values), and
 * CASHBACK_E_TOO_BIG when `set_cookie_size` is too small.
 * `target` is borrowed. Thread-safe.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_capture(cashback_client *client, const char *target, size_t len,
                 char *set_cookie, size_t set_cookie_size);

/**
 * Landing, as parts: the same search and the same cookie as
 * `cashback_capture()` (which formats its string from these parts), given
 * as name, value and attributes in `*out` (its `size` set by the caller).
 * Same statuses; on any failure `*out` holds empty strings and zeros (its
 * `size` kept). `target` is borrowed. Thread-safe.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_capture_parts(cashback_client *client, const char *target, size_t len,
                       cashback_cookie *out);

/**
 * Checkout: reads the click back from a raw Cookie header (`len` bytes).
 * Returns CASHBACK_OK and fills `out` (its `size` set by the caller), or
 * CASHBACK_E_CLICK_NONE (no click cookie), CASHBACK_E_CLICK_EXPIRED (older
 * than the window), CASHBACK_E_CLICK_TAMPERED (signature wrong) or
 * CASHBACK_E_CLICK_MALFORMED. Several cookies of that name: the newest
 * valid one wins. `out->handle` is the one to store with the order.
 * `cookie_header` is borrowed. Thread-safe.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_click_read(cashback_client *client, const char *cookie_header,
                    size_t len, cashback_click *out);

/**
 * Verifies a click handle (`len` bytes, not NUL-terminated: the
 * `handle` of a `cashback_click`, or the value of one click cookie)
 * exactly as `cashback_click_read()` checks a cookie: its form, its MAC
 * (constant time, against every cookie key of the client), a capture time
 * at most 300 s ahead of the client's clock, and its age against the
 * attribution window. Returns CASHBACK_OK and fills `out` (its `size` set
 * by the caller) with token, source, capture time and the handle, or
 * CASHBACK_E_CLICK_NONE (`len` 0), CASHBACK_E_CLICK_EXPIRED,
 * CASHBACK_E_CLICK_TAMPERED or CASHBACK_E_CLICK_MALFORMED (over
 * CASHBACK_HANDLE_MAX bytes, a NUL or any byte out of place), the detail on
 * the client. On failure the click is zeroed (its `size` kept). This is how
 * a request without the shopper's cookie (a payment webhook) reports the
 * sale: verify the stored handle, then `cashback_event_set_click_full()`.
 * `handle` is borrowed. Thread-safe.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_click_verify(cashback_client *client, const char *handle, size_t len,
                      cashback_click *out);

/* ------------------------------------------------------------------------
 * Money
 * --------------------------------------------------------------------- */

/**
 * Minor-unit exponent of an active ISO 4217 currency code ("EUR" 2, "JPY" 0,
 * "BHD" 3), or -1 when the code is not one. Thread-safe.
 */
CASHBACK_API int cashback_currency_exponent(const char *code);

/**
 * Parses a decimal amount exactly into minor units of `currency`:
 * "49.90" EUR is 4990, "1000" JPY is 1000, "1.234" BHD is 1234. An optional
 * leading '-' is allowed. More fraction digits than the currency has, an
 * exponent, spaces, or a value past 10^15 minor units is CASHBACK_E_AMOUNT;
 * an unknown currency CASHBACK_E_CURRENCY. Reads `len` bytes. Thread-safe.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_money_parse(
    const char *decimal, size_t len, const char *currency, int64_t *minor);

/**
 * Formats minor units as a decimal string of `currency` (4990 EUR gives
 * "49.90"). Thread-safe.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_money_format(
    int64_t minor, const char *currency, char *buf, size_t size);

/* ------------------------------------------------------------------------
 * Time
 * --------------------------------------------------------------------- */

/**
 * Parses an RFC 3339 timestamp (`len` bytes), e.g.
 * "2026-11-23T19:42:00+01:00" or "2026-11-23T18:42:00Z": date, 'T' (or 't'
 * or a space), time with seconds, an optional fraction (dropped), and a UTC
 * offset ('Z' or +hh:mm / -hh:mm, at most 14:00). Gives the Unix seconds and
 * the offset in minutes, ready for `cashback_event_set_order_time()`.
 * CASHBACK_E_FIELD when the text is not such a timestamp, has no offset, or
 * lies outside 1970 to 9999; the outputs are then unchanged. Thread-safe.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_time_parse(
    const char *text, size_t len, int64_t *unix_time, int *utc_offset_min);

/* ------------------------------------------------------------------------
 * Events
 *
 * An event is built with setters, then reported. An event object is not
 * thread-safe: build it in one thread. It does not depend on a client until
 * it is reported or serialized.
 * --------------------------------------------------------------------- */

typedef enum cashback_event_type {
  CASHBACK_EVENT_SALE = 1,   /**< an order was paid */
  CASHBACK_EVENT_REFUND = 2, /**< money returned, in part or whole */
  CASHBACK_EVENT_CANCEL = 3, /**< the whole order is void */
  CASHBACK_EVENT_CONFIRM = 4 /**< the return window is over */
} cashback_event_type;

typedef enum cashback_customer {
  CASHBACK_CUSTOMER_UNKNOWN = 0,
  CASHBACK_CUSTOMER_NEW = 1,
  CASHBACK_CUSTOMER_RETURNING = 2
} cashback_customer;

typedef struct cashback_event cashback_event;

/**
 * The wire name of an event type ("sale", "refund", "cancel", "confirm"),
 * or NULL for a value that is not one. Static storage; thread-safe.
 */
CASHBACK_API const char *cashback_event_type_name(cashback_event_type type);

/**
 * New event of `type` for the order `order_id` (1-64 printable ASCII
 * characters, no space). Caller owns it. NULL when an argument is invalid or
 * memory is short; `cashback_event_create()` says which.
 */
CASHBACK_API cashback_event *cashback_event_new(cashback_event_type type,
                                                const char *order_id);

/**
 * New event of `type` for the order `order_id` (`len` bytes, 1-64 printable
 * ASCII characters, no space, no NUL) into `*out`; the caller owns it. On
 * failure `*out` is NULL and `detail` (`detail_size` bytes, may be NULL;
 * CASHBACK_ERROR_MAX + 1 is enough) names the field: CASHBACK_E_FIELD
 * (order_id), CASHBACK_E_INVALID_ARGUMENT (type, NULL pointers),
 * CASHBACK_E_NOMEM. `cashback_event_new()` is this call without the reason.
 * Thread-safe.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_event_create(
    cashback_event_type type, const char *order_id, size_t len,
    cashback_event **out, char *detail, size_t detail_size);

/**
 * Builds an event from its text form (docs/events.md): `key=value` pairs
 * separated by ';', e.g. "type=sale;order_id=1001;amount=49.90;
 * currency=EUR;voucher=WELCOME10", values percent-decoded as in a
 * connection string. `len` bytes (not NUL-terminated, at most 65536); all
 * or nothing: on CASHBACK_OK `*out` is a new event the caller owns, on
 * failure `*out` is NULL and `detail` (`detail_size` bytes, may be NULL;
 * CASHBACK_ERROR_MAX + 1 is enough) names the key, or the position of a
 * pair without '='. `client` verifies a `click=` handle and may be NULL for
 * text without one. The event is not finalized. Thread-safe when each
 * thread passes its own `out` and `detail`.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_parse(cashback_client *client, const char *text, size_t len,
                     cashback_event **out, char *detail, size_t detail_size);

/** Frees an event (NULL is fine). */
CASHBACK_API void cashback_event_free(cashback_event *ev);

/**
 * An event builder: collects the fields of one event by their names in
 * the event vocabulary (docs/events.md), in any order, as a command line,
 * a CSV row or a script's array gives them, and builds the event from
 * them with the rules of `cashback_event_parse()` (which is this builder
 * fed from text). Opaque; one thread at a time per builder.
 */
typedef struct cashback_event_builder cashback_event_builder;

/**
 * New, empty builder. `client` verifies `click` handles and may be NULL
 * when none is given; it is borrowed and must outlive the builder. The
 * caller owns the builder (`cashback_event_builder_free()`). NULL when
 * memory is short. Thread-safe.
 */
CASHBACK_API cashback_event_builder *
cashback_event_builder_new(cashback_client *client);

/**
 * Gives field `key` (`klen` bytes: a name of docs/events.md, such as
 * "order_id" or "item", or "meta.<key>" for metadata) the plain value
 * `value` (`vlen` bytes, not percent-encoded; NULL only with 0). Both are
 * copied. Checked at once: the key is known, a field that is not
 * repeatable is given once, the value has no NUL and fits the field's cap,
 * all fields together (as their text form, key=value pairs joined by ';')
 * fit 65536 bytes, which caps the builder's memory. What needs other
 * fields (the amount's currency, the type's rules) is checked by
 * `cashback_event_builder_finish()`. The first failure sticks: this call
 * and every later one return it, and `cashback_event_builder_error()`
 * says what and which key. Not thread-safe on one builder.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_builder_set(cashback_event_builder *b, const char *key,
                           size_t klen, const char *value, size_t vlen);

/**
 * Builds the event: the type, order_id, currency and utc_offset first,
 * then the other fields in the order given. On CASHBACK_OK `*out` is a new
 * event (not finalized) that the caller owns; on failure `*out` is NULL
 * and `cashback_event_builder_error()` names the field. The builder keeps
 * its fields; only `cashback_event_builder_free()` is useful afterwards.
 * Not thread-safe on one builder.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_builder_finish(cashback_event_builder *b, cashback_event **out);

/**
 * The builder's first failure: returns its status (CASHBACK_OK when none).
 * `*key` (may be NULL) points to the key it is about, `*klen` bytes (0
 * when it is about no one key: a NULL argument, text without '='); valid
 * until the builder is freed. `detail` (`detail_size` bytes, may be NULL;
 * CASHBACK_ERROR_MAX + 1 is enough) receives the message
 * `cashback_event_parse()` gives, which starts with the field's name
 * ("amount: needs currency ...", "items: 'A:0:1': the quantity ...",
 * "order_id: required"); a binding can put its own name for the key in
 * front. Not thread-safe on one builder.
 */
CASHBACK_API cashback_status
cashback_event_builder_error(const cashback_event_builder *b, const char **key,
                             size_t *klen, char *detail, size_t detail_size);

/** Frees a builder and the fields it holds (NULL is fine). */
CASHBACK_API void cashback_event_builder_free(cashback_event_builder *b);

/**
 * The last validation failure on this event, naming the field, e.g.
 * "items[2].quantity: must be 1 to 1000000". Never NULL.
 */
CASHBACK_API const char *cashback_event_last_error(const cashback_event *ev);

/** Click token (as read back at checkout, 1-128 of [A-Za-z0-9._~-]). */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_set_click(cashback_event *ev, const char *token);

/** `cashback_event_set_click()` with a length: `len` bytes, no NUL. */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_set_click_n(cashback_event *ev, const char *token, size_t len);

/**
 * The whole click (token, source parameter and capture time) read back by
 * `cashback_click_read()` or verified by `cashback_click_verify()`: the
 * path that keeps what the network needs. Only those three fields are read
 * (not `size` nor `handle`), so a click built by hand works too.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_set_click_full(cashback_event *ev, const cashback_click *click);

/**
 * The request's click, for an event whose text names none: a shim (a web
 * server module, a middleware) that has the shopper's verified click (from
 * the request's Cookie header) gives it to the event it parsed from the
 * application's report header. A sale without a click token (no `click`
 * nor `click_token` in its text, no click set) gets `click` as
 * `cashback_event_set_click_full()` sets it; any other event is left as it
 * is and CASHBACK_OK returned: a click the application gave wins, and a
 * refund, cancel or confirm carries none of the request's. `click` is
 * borrowed. Errors as `cashback_event_set_click_full()`'s.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_event_set_click_default(
    cashback_event *ev, const cashback_click *click);

/**
 * Amount in minor units and its currency. For a sale: the order value the
 * commission is on (after discounts, without tax and shipping). For a
 * refund: the amount refunded. 0 to 10^15.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_event_set_amount(
    cashback_event *ev, int64_t minor, const char *currency);

/** Amount from an exact decimal string, see `cashback_money_parse()`. */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_set_amount_decimal(cashback_event *ev, const char *decimal,
                                  const char *currency);

/** `cashback_event_set_amount_decimal()` with lengths (no NUL inside). */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_set_amount_decimal_n(cashback_event *ev, const char *decimal,
                                    size_t len, const char *currency,
                                    size_t currency_len);

/**
 * When the order was placed: Unix seconds (UTC) and the shop's UTC offset
 * in minutes (-840 to 840), e.g. 60 for CET. Default: report time, UTC.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_event_set_order_time(
    cashback_event *ev, int64_t unix_time, int utc_offset_min);

/**
 * Adds an order line: sku (1-64), name (0-256, may be NULL), quantity
 * (1-1000000), unit price in minor units of the event's currency, category
 * or commission group (0-64, may be NULL). At most 1000 items, and the
 * event at most CASHBACK_EVENT_JSON_MAX bytes serialized: CASHBACK_E_TOO_BIG
 * ("items[i]: ...") for the item that would pass either cap (about 300
 * items with every field at its longest fit).
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_event_add_item(
    cashback_event *ev, const char *sku, const char *name, int64_t quantity,
    int64_t unit_price_minor, const char *category);

/**
 * `cashback_event_add_item()` with the unit price as an exact decimal
 * amount of `currency` (see `cashback_money_parse()`), e.g. "19.95" "EUR",
 * and every string counted (no NUL inside). The name (0-256 bytes) and the
 * category (0-64) are free-form UTF-8, ':' included; NULL or length 0 is
 * absent. `cashback_event_last_error()` names the part at fault
 * ("items[i].unit_price: ...").
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_event_add_item_decimal(
    cashback_event *ev, const char *sku, size_t sku_len, const char *name,
    size_t name_len, int64_t quantity, const char *unit_price,
    size_t unit_price_len, const char *currency, size_t currency_len,
    const char *category, size_t category_len);

/**
 * Adds an order line from its text form
 * "sku:quantity:unit_price[:name[:category]]", the unit price an exact
 * decimal amount of `currency` (see `cashback_money_parse()`), e.g.
 * "A-1:2:19.95:Teapot:kitchen" with "EUR". A name or category cannot
 * contain ':' (use `cashback_event_add_item()` then); empty ones are absent.
 * Otherwise as `cashback_event_add_item()`; `cashback_event_last_error()`
 * names the part at fault. `spec` and `currency` are borrowed.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_event_add_item_text(
    cashback_event *ev, const char *spec, const char *currency);

/** `cashback_event_add_item_text()` with lengths (no NUL inside). */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_add_item_text_n(cashback_event *ev, const char *spec, size_t len,
                               const char *currency, size_t currency_len);

/**
 * Adds a voucher (coupon) code used on the order (1-64, at most 20).
 * CASHBACK_E_TOO_BIG past 20, or when the event would pass
 * CASHBACK_EVENT_JSON_MAX serialized.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_add_voucher(cashback_event *ev, const char *code);

/** `cashback_event_add_voucher()` with a length: `len` bytes, no NUL. */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_add_voucher_n(cashback_event *ev, const char *code, size_t len);

/** New or returning customer (default unknown). */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_set_customer(cashback_event *ev, cashback_customer customer);

/**
 * Sets free-form metadata `key` (1-64 of [A-Za-z0-9._-]) to `value` (UTF-8);
 * all keys and values of one event together at most CASHBACK_METADATA_MAX.
 * CASHBACK_E_TOO_BIG ("metadata.<key>: ...") past that, or when the event
 * would pass CASHBACK_EVENT_JSON_MAX serialized.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_event_set_metadata(
    cashback_event *ev, const char *key, const char *value);

/** `cashback_event_set_metadata()` with lengths (no NUL inside). */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_event_set_metadata_n(
    cashback_event *ev, const char *key, size_t key_len, const char *value,
    size_t value_len);

/**
 * For a refund: the shop's own id of this refund (credit note), 1-64. The
 * refund's event id is derived from it, so reporting the same refund twice
 * cannot count twice. Without it each refund event gets a random id.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_set_refund_id(cashback_event *ev, const char *id);

/** `cashback_event_set_refund_id()` with a length: `len` bytes, no NUL. */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_set_refund_id_n(cashback_event *ev, const char *id, size_t len);

/** For a refund or cancel: a reason code (1-64 of [A-Za-z0-9._-]). */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_set_reason(cashback_event *ev, const char *reason);

/** `cashback_event_set_reason()` with a length: `len` bytes, no NUL. */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_set_reason_n(cashback_event *ev, const char *reason, size_t len);

/** Marks the event as a test: the network records it but pays nothing. */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_set_test(cashback_event *ev, int is_test);

/**
 * Checks the event is complete for its type and computes its id for the
 * client's merchant: a sale, cancel or confirm of one order always gets the
 * same id; a refund gets its id from its refund id, or a random one. Writes
 * the id (CASHBACK_EVENT_ID_LEN + 1 bytes) into `id` when not NULL. Called
 * by the report and serialize functions; calling it again keeps the id.
 * Returns CASHBACK_E_FIELD naming the missing field (see
 * `cashback_event_last_error()`).
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_event_finalize(cashback_client *client, cashback_event *ev, char *id);

/**
 * Serializes the finalized event as the JSON object sent on the wire (see
 * docs/protocol.md). `*json` is allocated; free it with `cashback_free()`.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_event_to_json(
    cashback_client *client, cashback_event *ev, char **json, size_t *len);

/** Frees memory that libcashback allocated for the caller. */
CASHBACK_API void cashback_free(void *p);

/* ------------------------------------------------------------------------
 * Requests: a signed batch as plain data, before any network I/O
 * --------------------------------------------------------------------- */

typedef struct cashback_request cashback_request;

/**
 * Builds the signed request for a batch of `n` events (1-1000), as the
 * sender posts it: URL, JSON body and Cashback-Signature header, signed at
 * the client's current time. Finalizes the events. Caller owns `*out`.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_request_new(cashback_client *client, cashback_event *const *events,
                     size_t n, cashback_request **out);

/** The URL to POST to. Owned by the request. */
CASHBACK_API const char *cashback_request_url(const cashback_request *req);

/** The body bytes and their length. Owned by the request. */
CASHBACK_API const char *cashback_request_body(const cashback_request *req,
                                               size_t *len);

/**
 * The value of the Cashback-Signature header (without the name). Owned by
 * the request.
 */
CASHBACK_API const char *
cashback_request_signature(const cashback_request *req);

/** Frees a request (NULL is fine). */
CASHBACK_API void cashback_request_free(cashback_request *req);

/* ------------------------------------------------------------------------
 * Reporting: the durable spool and the sender
 *
 * `cashback_report()` writes the event to the spool on local disk and
 * returns; a sender posts spooled events to the network in batches, with
 * retries, and removes them once the network has answered for them. The
 * spool is shared by every process of the merchant on the machine; at most
 * one sender drains it at a time (the others stand by). All functions here
 * are thread-safe.
 * --------------------------------------------------------------------- */

/**
 * Finalizes the event (see `cashback_event_finalize()`) and stores it in
 * the spool. Returns CASHBACK_OK only once the event is stored as durably as
 * configured (by default on disk, after fdatasync); from then on it will
 * reach the network. Reporting the same sale again stores it again under the
 * same id, and the network counts it once. Errors: CASHBACK_E_FIELD (the
 * event, see `cashback_event_last_error()`), CASHBACK_E_SPOOL_FULL,
 * CASHBACK_E_DISK_FULL, CASHBACK_E_IO (not stored; the detail says why).
 * An event the setters accepted always fits a spool record: its size is
 * checked by the setters (CASHBACK_EVENT_JSON_MAX), never here.
 * The event stays owned by the caller. `id` as in `cashback_event_finalize()`.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_report(cashback_client *client, cashback_event *ev, char *id);

/**
 * A report header's event, as every shim handles it (the Apache and nginx
 * modules: one instance of the application's X-Cashback-Event header):
 * parses `text` (`len` bytes, not NUL-terminated) with
 * `cashback_event_parse()`, gives a sale that names no click the request's
 * `click` with `cashback_event_set_click_default()` (`click` may be NULL:
 * no request click) and stores the event with `cashback_report()`, which
 * writes its id into `id` (CASHBACK_EVENT_ID_LEN + 1 bytes; "" on
 * failure). On failure `detail` (`detail_size` bytes, may be NULL;
 * CASHBACK_ERROR_MAX + 1 is enough) says why, without the secret: the
 * field for a text that is not an event, "<status text>: <client's
 * detail>" for one that was not stored. `cashback_report_text_not_stored()`
 * tells the two apart for the failure policy. Nothing is kept: the event
 * is freed here; `text` and `click` are borrowed. Thread-safe (several
 * threads on one client, each with its own `id` and `detail`).
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_report_text(
    cashback_client *client, const char *text, size_t len,
    const cashback_click *click, char *id, char *detail, size_t detail_size);

/**
 * 1 when a status of `cashback_report_text()` means a valid event that was
 * not stored (CASHBACK_E_SPOOL_FULL, CASHBACK_E_DISK_FULL, CASHBACK_E_IO,
 * CASHBACK_E_NOMEM, CASHBACK_E_INTERNAL: a retry may store it; a payment
 * webhook answers 503), 0 for CASHBACK_OK and for a text that is not an
 * event (it never will be: log it and drop it). No allocation; thread-safe.
 */
CASHBACK_API int cashback_report_text_not_stored(cashback_status status);

/**
 * Starts the background sender thread of this client. It drains the spool
 * whenever it holds the spool's sender lock, and otherwise stands by,
 * trying again every few seconds. CASHBACK_OK if it runs (or already ran).
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_sender_start(cashback_client *client);

/**
 * Stops the sender thread after a final flush of at most `flush_timeout_ms`;
 * a request in flight ends by that deadline too (within about a second),
 * not by its own timeout. Events not sent stay in the spool. CASHBACK_OK
 * when it was not running.
 */
CASHBACK_API cashback_status cashback_sender_stop(cashback_client *client,
                                                  int64_t flush_timeout_ms);

/**
 * Sends what is in the spool now, in this thread, for at most `timeout_ms`.
 * Returns CASHBACK_OK when the spool is empty (everything delivered or
 * quarantined); CASHBACK_E_BUSY when another process's sender holds the
 * spool; CASHBACK_E_AUTH when the network refused the key (sending is
 * paused); CASHBACK_E_TIMEOUT, or the status of the last failure
 * (CASHBACK_E_NETWORK, CASHBACK_E_HTTP, CASHBACK_E_PROTOCOL), when events
 * remain because the network did not take them in time. Honours the backoff:
 * it does not send before a retry is due. Returns by `timeout_ms`: a request
 * is given the time left as its timeout when that is shorter than the
 * request timeout (a network that does not answer costs `timeout_ms`, not
 * the request timeout), none is started with less than 100 ms left, and a
 * request of this client's sender thread in flight is not waited for.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_flush(cashback_client *client, int64_t timeout_ms);

/** What the spool and the sender are doing. A plain value. */
typedef struct cashback_queue_status {
  size_t size; /**< set by the caller to sizeof(cashback_queue_status)
                  (docs/abi.md) */
  uint64_t queued_events; /**< waiting to be sent */
  uint64_t queued_bytes;  /**< their size on disk */
  int64_t oldest_age_s;   /**< age of the oldest queued event; 0: none */
  uint64_t quarantined;   /**< rejected events kept in quarantine */
  uint64_t
      corrupt_skipped;  /**< damaged records skipped since the spool began */
  int64_t last_success; /**< Unix time of the last delivery; 0: never */
  int64_t next_attempt; /**< Unix time of the next retry; 0: none due */
  int paused;           /**< 1: the network refused the key */
  cashback_status last_status;             /**< of the last send attempt */
  char last_error[CASHBACK_ERROR_MAX + 1]; /**< its detail, or "" */
  /**
   * The HTTP status (400-499) of a path fault, 0: none. Set when the
   * endpoint answers a batch-level 4xx to every batch, also to two events
   * sent alone, without settling any event since the 4xx began: a proxy or
   * a wrong endpoint, not bad events. Nothing is quarantined for it; the
   * sender backs off and tries again (docs/protocol.md, section 7).
   */
  long path_fault;
  /** Damaged regions of the quarantine file (a flipped bit, a torn write):
   * spans no entry can be read from. They are kept in the file as they are
   * and not counted in `quarantined`; 0 when there are none. */
  uint64_t quarantine_damaged;
  /** Segment reads that failed (EIO...) since the sender's last collection
   * that had no read error (0 again once reads work). Such a segment is
   * left as it was and read again; the others go on. */
  uint64_t read_errors;
  /** Files named like segments that cannot be read now (permission, a FIFO,
   * a directory, a symlink): skipped, never deleted; the others go on. */
  uint64_t unreadable_files;
  /** The first unreadable file now, else the last read error: the file,
   * the reason and the effective uid that tried; else why the spool's
   * `seq` cannot be used (stamps then follow each process's clock); or "". */
  char spool_problem[CASHBACK_ERROR_MAX + 1];
  /** Times the sender's `state` file (retry schedule, pause, counters) was
   * found damaged and ignored since the spool began; each is logged. */
  uint64_t state_damaged;
  /**
   * Events the network answered "retry" (a refund, cancel or confirm that
   * reached it before its sale), kept in the spool's `deferred` file and
   * sent again on their own backoff until it takes them or `followup_wait`
   * passes (then they are quarantined). Not in queued_events.
   */
  uint64_t deferred;
  /** Unix time when the next deferred event is due; 0: none. */
  int64_t deferred_next;
  /** The last local failure of this client's spool or sender (opening the
   * spool, writing to it, taking its sender lock), with the system's reason
   * and the effective user, e.g. "cannot take the sender lock: spool
   * /var/spool/cashback/m: cannot open sender.lock: Permission denied (as
   * user www-data, uid 33)"; CASHBACK_OK and "" when none since the sender
   * last took the lock. Kept in memory: another process's failures are not
   * seen as such, but when there is none, a file of the spool that this
   * user or the spool's owner cannot use is reported here (e.g. a root-owned
   * sender.lock in www-data's spool). */
  cashback_status spool_status;
  char spool_error[CASHBACK_ERROR_MAX + 1]; /**< its detail, or "" */
  /** Unix time a send attempt began that has not ended yet (a request in
   * flight, possibly to a network that accepted it and does not answer);
   * 0: none. */
  int64_t in_flight_since;
  /** Unix time until which a delivery profile's rate limit holds the next
   * request back (Awin: 20 calls in any 60 s, docs/networks.md); 0: not
   * paced. */
  int64_t paced_until;
  /** What the network last said it queued, for a profile whose network
   * answers asynchronously: "awin job <id> (QUEUED)", or Impact's URI to
   * poll ("/Advertisers/<sid>/APISubmissions/<id>"); "" when none. */
  char submission[257];
} cashback_queue_status;

/**
 * Fills `out` from the spool on disk (every process's events). Cost grows
 * with the number of queued events (it reads record headers). Its texts are
 * printable ASCII (as `cashback_printable()` makes them), whatever the
 * spool's files hold.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_get_status(cashback_client *client, cashback_queue_status *out);

/** An order's state in the per-order ledger. */
typedef enum cashback_order_state {
  CASHBACK_ORDER_OPEN = 0,      /**< sold, neither cancelled nor confirmed */
  CASHBACK_ORDER_CANCELLED = 1, /**< a cancel was delivered */
  CASHBACK_ORDER_CONFIRMED = 2  /**< a confirm was delivered */
} cashback_order_state;

/**
 * One order as the per-order ledger beside the spool has it
 * (docs/reliability.md section 15): what the network accepted of it.
 */
typedef struct cashback_order_info {
  size_t size; /**< set by the caller to sizeof(cashback_order_info)
                  (docs/abi.md) */
  char order_id[CASHBACK_ID_MAX + 1];
  int has_sale;            /**< 0: refunds delivered, no sale seen */
  char currency[4];        /**< the sale's (or the first refund's) */
  int64_t sale_amount;     /**< minor units */
  int64_t refunded_amount; /**< the distinct refunds, summed, minor units */
  uint64_t refunds;        /**< how many distinct refunds */
  int64_t total;           /**< sale less refunds, never below 0 */
  int mixed_currency;      /**< 1: a refund in another currency */
  cashback_order_state state;
  char order_time[40];  /**< the sale's order time, RFC 3339; "" */
  int utc_offset;       /**< of order_time, minutes */
  int64_t updated_ms;   /**< Unix ms of the last change */
  char remote_ref[257]; /**< what the network said it queued; "" */
} cashback_order_info;

/**
 * Fills `out` with order `order_id` from the ledger of the client's spool
 * (any process's sender writes it; this call only reads). CASHBACK_E_NOT_FOUND
 * when the ledger does not hold the order (never delivered through this
 * spool, or pruned after its confirm or the attribution window),
 * CASHBACK_E_CONFIG when ledger_max_orders is 0, CASHBACK_E_IO when the
 * ledger cannot be read. Texts are printable ASCII. Thread-safe; `out` is
 * the caller's.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_order_status(
    cashback_client *client, const char *order_id, cashback_order_info *out);

/**
 * A quarantined event, as passed to a `cashback_quarantine_fn`. Every entry
 * of the quarantine is listed, including those that are not events:
 * - reason "invalid_record": a spool record that was not an event (not
 *   written by libcashback, or damaged in a way its checksum did not
 *   catch); `id` is "invalid-<crc32c>-<length>" (with "-p<k>of<n>" when
 *   its bytes fill several entries);
 * - reason "unreadable_entry": an entry that is not readable JSON (written
 *   by libcashback 0.1, which spliced such records in as they were); `id`
 *   is "unreadable-<crc32c>-<length>".
 * For those, `event_json` is a JSON string whose characters U+0000 to
 * U+00FF are the bytes, one each (printable ASCII as it is, the rest as
 * `\u00XX`), and they cannot be replayed. Damaged regions of the file are
 * counted in `cashback_queue_status.quarantine_damaged`. `id`, `reason` and
 * `message` are printable ASCII (`cashback_printable()`: they come from a
 * file of the spool); `cashback_quarantine_replay()` takes `id` as shown.
 */
typedef struct cashback_quarantined {
  size_t size;    /**< set by the library: the bytes it filled (docs/abi.md) */
  const char *id; /**< event id */
  const char *reason;  /**< the network's reason code, e.g. "unknown_click" */
  const char *message; /**< the network's message, or "" */
  int64_t quarantined_at; /**< Unix time */
  const char *event_json; /**< the event as it was sent (always JSON) */
  size_t event_len;
} cashback_quarantined;

/**
 * Called once per quarantined event; the strings are borrowed for the call.
 * Return 0 to go on, non-zero to stop.
 */
typedef int (*cashback_quarantine_fn)(const cashback_quarantined *q,
                                      void *userdata);

/** Lists the quarantine, oldest first. */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_quarantine_list(
    cashback_client *client, cashback_quarantine_fn fn, void *userdata);

/**
 * Puts the quarantined event `id` (NULL: every one) back into the spool to
 * be sent again, with its id unchanged, and removes it from the quarantine.
 * `*replayed` (may be NULL) counts them. CASHBACK_E_NOT_FOUND when `id` is
 * not quarantined; CASHBACK_E_INVALID_ARGUMENT when `id` names an entry
 * that is not an event ("invalid_record", "unreadable_entry": sending it
 * could only bring it back). Those stay in the quarantine; with `id` NULL
 * they are skipped (and logged).
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_quarantine_replay(
    cashback_client *client, const char *id, size_t *replayed);

/* ------------------------------------------------------------------------
 * Importing a shop's CSV export
 *
 * Each row of the file becomes an event reported to the spool, so that a
 * shop can take part from a nightly export, with no code. The columns are
 * listed in docs/cli.md.
 * --------------------------------------------------------------------- */

/** What happened to one row, as passed to a `cashback_import_fn`. */
typedef struct cashback_import_row {
  size_t size;   /**< set by the library: the bytes it filled (docs/abi.md) */
  uint64_t line; /**< line of the file where the row starts */
  cashback_status status; /**< CASHBACK_OK: reported; else skipped */
  const char *error;      /**< why it was skipped, naming the column; "" */
  const char *event_id;   /**< its event id when reported, else "" */
  const char *type;       /**< the row's type cell as written, or "" */
  const char *order_id;   /**< the row's order_id cell as written, or "" */
  uint64_t bytes_read;    /**< of the file so far, for progress */
  uint64_t bytes_total;   /**< size of the file; 0 when unknown (a pipe) */
} cashback_import_row;

/** Called once per data row, in file order; the strings are borrowed. */
typedef void (*cashback_import_fn)(const cashback_import_row *row,
                                   void *userdata);

/** Counts of one import. A plain value. */
typedef struct cashback_import_stats {
  size_t size;       /**< set by the caller to sizeof(cashback_import_stats)
                        (docs/abi.md) */
  uint64_t rows;     /**< data rows read (blank lines not counted) */
  uint64_t imported; /**< rows reported (or valid, in a dry run) */
  uint64_t skipped;  /**< bad rows, skipped */
} cashback_import_stats;

/** Flag of `cashback_import_csv()`: check every row, report nothing. */
#define CASHBACK_IMPORT_DRY_RUN 1u

/**
 * Imports the CSV file at `path` (RFC 4180; a header row naming the
 * columns is required): each data row becomes a sale, refund, cancel or
 * confirm event, reported with `cashback_report()`. A bad row is skipped and
 * passed to `fn` with its line number and the reason; good rows are
 * reported. A bad record, or one longer than 256 KiB as written (status
 * CASHBACK_E_TOO_BIG to `fn`), is skipped whole, to the end its quotes give
 * it: a line inside a quoted field is never read as a row.
 * Ids are derived from the order (and for a refund from its
 * `refund_id`, which an import requires), so importing the same file again
 * reports the same ids, which the network counts once. `fn` (may be NULL)
 * is called from this thread for every data row; `stats` (may be NULL)
 * receives the counts. Returns CASHBACK_OK when the whole file was read,
 * bad rows or not; CASHBACK_E_FIELD when the header is bad (an unknown,
 * repeated or missing column) and nothing was imported; CASHBACK_E_IO when
 * the file cannot be read; or the status of a report that failed for every
 * row (CASHBACK_E_SPOOL_FULL, CASHBACK_E_DISK_FULL, CASHBACK_E_IO, ...):
 * the import stops there, the rows before it stay reported, and importing
 * the file again once the cause is fixed is safe. The detail is in
 * `cashback_client_last_error()`. Thread-safe like `cashback_report()`.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_import_csv(
    cashback_client *client, const char *path, unsigned flags,
    cashback_import_fn fn, void *userdata, cashback_import_stats *stats);

/* ------------------------------------------------------------------------
 * Diagnostics (`cashback doctor`)
 * --------------------------------------------------------------------- */

/** What `cashback_probe()` found. A plain value. */
typedef struct cashback_probe_result {
  size_t size;          /**< set by the caller to sizeof(cashback_probe_result)
                           (docs/abi.md) */
  long http_status;     /**< the HTTP status of the answer; 0: none */
  int tls;              /**< 1: answered over https, certificate verified */
  int tls_error;        /**< 1: the TLS handshake or certificate failed */
  int64_t server_time;  /**< the answer's Date header, Unix s; 0: none */
  int64_t clock_skew_s; /**< this client's clock minus `server_time` */
  int64_t elapsed_ms;   /**< the round trip */
  char event_id[CASHBACK_EVENT_ID_LEN + 1]; /**< id of the test event */
  char outcome[16]; /**< "accepted", "duplicate", "rejected", "retry"; "" */
  char reason[CASHBACK_ID_MAX + 1];    /**< the network's reason, if rejected
                                          or retry */
  char detail[CASHBACK_ERROR_MAX + 1]; /**< transport error, error answer or
                                          rejection message; "" */
} cashback_probe_result;

/**
 * Sends one signed test event (a zero-amount sale of order
 * "probe-<unix time>", click token "cashback-probe", `test: true`) straight
 * to the endpoint, in this thread, bypassing the spool, and reports what
 * happened in `out`: the HTTP status, whether TLS was verified, the clock
 * skew against the answer's Date header, and the network's verdict on the
 * event. Bounded by the configured timeouts. Returns CASHBACK_OK when the
 * network answered 200 with a result for the event (`outcome` says which);
 * CASHBACK_E_AUTH on 401 or 403 (wrong key or secret, or a clock outside the
 * replay window: see `clock_skew_s`); CASHBACK_E_HTTP on another status;
 * CASHBACK_E_PROTOCOL when a 200 has no result for the event;
 * CASHBACK_E_NETWORK when no answer came (`tls_error` tells a TLS failure);
 * CASHBACK_E_CONFIG when the endpoint is not allowed (plain http:// to a
 * host other than loopback). Thread-safe.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_probe(cashback_client *client, cashback_probe_result *out);

/** The spool directory as `cashback_spool_check()` finds it. A plain value. */
typedef struct cashback_spool_info {
  size_t size;           /**< set by the caller to sizeof(cashback_spool_info)
                            (docs/abi.md) */
  char dir[4096];        /**< its path */
  uint32_t mode;         /**< its permission bits, e.g. 0700 */
  int owned;             /**< 1: owned by this process's effective user */
  int writable;          /**< 1: this process may create files in it */
  uint64_t free_bytes;   /**< space left on its file system for this user */
  uint64_t total_bytes;  /**< size of that file system */
  uint64_t queued_bytes; /**< what the spool holds, waiting to be sent */
  uint64_t max_bytes;    /**< the spool's cap (spool_max_bytes) */
  /** Files of the spool (by the names the SDK uses, segments aside: they are
   * counted in `cashback_queue_status.unreadable_files`) that this user or the
   * spool's owner cannot use: a symlink, not a regular file, not readable
   * and writable, or owned by another user than the directory (a root
   * `cashback send` in www-data's spool, before this was fixed). Each one
   * can stop a report or a sender. */
  uint64_t foreign_files;
  /** The first of them and why, with the system's reason and the effective
   * user, e.g. "sender.lock cannot be read and written (owner uid 0):
   * Permission denied (as user www-data, uid 33)"; "" when none. */
  char foreign[CASHBACK_ERROR_MAX + 1];
} cashback_spool_info;

/**
 * Opens the client's spool as a report would (creating its directory 0700
 * when missing) and fills `out` with the directory's path, permissions,
 * owner, and the free space of its file system (statvfs). Errors as
 * `cashback_get_status()`; CASHBACK_E_IO when the directory cannot be
 * examined. Thread-safe.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_spool_check(cashback_client *client, cashback_spool_info *out);

/* ------------------------------------------------------------------------
 * Signing and verification (the network side, and tools)
 * --------------------------------------------------------------------- */

/** Name of the signature header. */
#define CASHBACK_SIGNATURE_HEADER "Cashback-Signature"

/**
 * Signs `body` as of `timestamp` with one key, writing a complete
 * Cashback-Signature value ("t=<ts>,v1=<key_id>:<hex>") into `buf`
 * (at least 200 bytes). Thread-safe.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_sign(const char *key_id, const char *secret, int64_t timestamp,
              const void *body, size_t body_len, char *buf, size_t size);

/**
 * A verifier checks Cashback-Signature headers against a set of keys.
 * Configure it from one thread; once configured, `cashback_verifier_verify()`
 * may be called from several threads at once.
 */
typedef struct cashback_verifier cashback_verifier;

/** New verifier with no keys and a 300 s tolerance. Caller owns it. */
CASHBACK_API cashback_verifier *cashback_verifier_new(void);

/** Frees a verifier and wipes its keys (NULL is fine). */
CASHBACK_API void cashback_verifier_free(cashback_verifier *v);

/** Accepts signatures by this key (at most 16 keys). Copies both strings. */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_verifier_add_key(
    cashback_verifier *v, const char *key_id, const char *secret);

/** Replay window: how far the timestamp may be from now, in seconds. */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_verifier_set_tolerance(cashback_verifier *v, int64_t seconds);

/**
 * Verifies a signature header (`header_len` bytes) over `body` at time
 * `now`. Comparison is constant-time. Returns CASHBACK_OK when a signature by
 * a known key matches, else which check failed: CASHBACK_E_SIG_MALFORMED,
 * CASHBACK_E_SIG_TIMESTAMP, CASHBACK_E_SIG_UNKNOWN_KEY,
 * CASHBACK_E_SIG_MISMATCH. When `key_id` is not NULL, the matching key's id
 * is copied into it (CASHBACK_ID_MAX + 1 bytes).
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_verifier_verify(
    const cashback_verifier *v, const char *header, size_t header_len,
    const void *body, size_t body_len, int64_t now, char *key_id);

/* ------------------------------------------------------------------------
 * Receiving batches (the network side, and tools)
 *
 * A receiver verifies a request's signature with a `cashback_verifier`,
 * then parses its body with `cashback_batch_parse()`, which checks the
 * batch as a whole and each event on its own against docs/protocol.md, and
 * answers per event. A parsed batch is read-only: several threads may read
 * one batch at once.
 * --------------------------------------------------------------------- */

typedef struct cashback_batch cashback_batch;

/** Flags of `cashback_batch_parse()`. */
#define CASHBACK_BATCH_CHECK_IDS 1u /**< ids must be the derived ones */

/**
 * Parses a received batch body (`len` bytes, exactly as received; borrowed).
 * On success `*out` is a new batch the caller owns (free it with
 * `cashback_batch_free()`); events that break the protocol are still in it,
 * marked invalid with the reason (see `cashback_batch_event()`). With
 * CASHBACK_BATCH_CHECK_IDS, a sale, cancel, confirm, or refund with a
 * `refund_id` whose id is not the one derived from the batch's merchant id
 * (docs/protocol.md section 4) is invalid. Errors, with `*out` NULL and the
 * reason in `detail` (when not NULL; `detail_size` bytes, at most
 * CASHBACK_ERROR_MAX + 1 used): CASHBACK_E_PROTOCOL when the body as a whole
 * is malformed (not a JSON object, protocol not 1, merchant_id invalid,
 * events not an array of 1 to 1000; the receiver answers 400),
 * CASHBACK_E_TOO_BIG past 4 MiB or 1000 events (413), CASHBACK_E_NOMEM,
 * CASHBACK_E_INVALID_ARGUMENT. Thread-safe.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status
cashback_batch_parse(const char *body, size_t len, unsigned flags,
                     cashback_batch **out, char *detail, size_t detail_size);

/** The batch's merchant id. Owned by the batch. */
CASHBACK_API const char *cashback_batch_merchant_id(const cashback_batch *b);

/** The number of events in the batch (1 to 1000). */
CASHBACK_API size_t cashback_batch_count(const cashback_batch *b);

/**
 * A received event, as `cashback_batch_event()` gives it. The strings are
 * owned by the batch, valid until `cashback_batch_free()`, never NULL.
 */
typedef struct cashback_received_event {
  size_t size;       /**< set by the caller to sizeof(cashback_received_event)
                        (docs/abi.md) */
  int valid;         /**< 1: follows the protocol; 0: see `error` */
  const char *error; /**< why it is invalid, naming the field; "" */
  const char *id;    /**< as sent, as printable ASCII, cut to 64 */
  cashback_event_type type; /**< 0 when not one of the four */
  const char *order_id;     /**< as sent, as printable ASCII, cut to 64 */
  int has_amount;           /**< 1 when `amount` and `currency` are set */
  int64_t amount;           /**< minor units of `currency` */
  const char *currency;     /**< ISO 4217 code, "" when absent */
  int test;                 /**< 1: a test event (pays nothing) */
  const char *click_token;  /**< "" when absent */
  const char *refund_id;    /**< "" when absent */
  const char *json;         /**< the event object, compact JSON */
  size_t json_len;          /**< its length */
} cashback_received_event;

/**
 * Fills `out` with the event at `index` (0 to count - 1). An invalid event's
 * answer is `rejected` with reason `invalid_event` and `error` as message.
 * CASHBACK_E_INVALID_ARGUMENT when `index` is out of range.
 */
CASHBACK_API CASHBACK_MUST_USE cashback_status cashback_batch_event(
    const cashback_batch *b, size_t index, cashback_received_event *out);

/** Frees a batch (NULL is fine). */
CASHBACK_API void cashback_batch_free(cashback_batch *b);

#ifdef __cplusplus
}
#endif

#endif /* CASHBACK_H */
