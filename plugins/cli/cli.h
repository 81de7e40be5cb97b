/*
 * The `cashback` command: one file per subcommand over the public API of
 * libcashback. This header holds what they share: exit codes, the
 * configuration, messages, and output helpers.
 */
#ifndef CASHBACK_CLI_H
#define CASHBACK_CLI_H

#include <cashback.h>

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes (docs/cli.md). */
#define CLI_OK 0      /* done */
#define CLI_FAIL 1    /* the operation failed or found a problem */
#define CLI_USAGE 2   /* the command line is wrong */
#define CLI_CONFIG 3  /* the configuration is missing or invalid */
#define CLI_STORAGE 4 /* the spool is full, the disk is full, or I/O failed */
#define CLI_NETWORK 5 /* not delivered: network, HTTP, paused, busy */

typedef struct cli {
  const char *command;         /* "report", ... for messages */
  const char *config;          /* --config FILE */
  const char *connection;      /* --connection STRING ("-": a line of stdin) */
  const char *connection_file; /* --connection-file FILE ("-": stdin) */
  int verbose;                 /* --verbose: SDK log lines on stderr */
  int daemon;                  /* send --watch: SDK warnings on stderr */
} cli;

/* `s` made printable (cashback_printable(): \xNN for any byte that is not
 * printable ASCII, cut with "...") in `buf`, which it returns: for every
 * value printed that came from an argument, a file, the spool or the
 * network. */
const char *cli_shown(char *buf, size_t size, const char *s);

/* "cashback <command>: <message>" on stderr, the message made printable
 * (one line: it cannot hold a newline either); returns `code`. */
int cli_error(const cli *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Handles a common option (C, K, F, v, h); 1 when it was one. For 'h' prints
 * `usage` and exits 0; for '?' (getopt's error) prints the hint and
 * returns -1. */
int cli_common_option(cli *c, int opt, const char *usage);

/* A subcommand's command line, for cli_parse_options(). */
typedef struct cli_options {
  const char *usage; /* printed by --help */
  /* The subcommand's own options (getopt_long() entries, ending with a zero
   * entry; at most CLI_OWN_OPTIONS_MAX). One with a `flag` is set by
   * getopt_long() itself; every other one goes to `take`. */
  const struct option *own;
  /* Takes option `opt` (its argument `arg`, NULL for none); an exit code:
   * anything but CLI_OK stops the parsing (message printed). NULL when
   * every own option has a flag. */
  int (*take)(cli *c, int opt, const char *arg, void *ud);
  void *ud;
  int operands; /* at most this many arguments after the options; -1: any */
} cli_options;

#define CLI_OWN_OPTIONS_MAX 24

/* Parses argv (argv[0] is the subcommand's name): the common options
 * (cli_common_option()) and `o->own`, then checks the number of operands
 * ("unexpected argument 'X'"). Returns CLI_OK with optind at the first
 * operand, or an exit code (message printed). */
int cli_parse_options(cli *c, int argc, char **argv, const cli_options *o);

/* Loads the configuration (environment, then --config, then --connection)
 * and makes the client. Returns CLI_OK or CLI_CONFIG (message printed). */
int cli_client(cli *c, cashback_client **out);

/* The exit code for an SDK status. */
int cli_exit_code(cashback_status st);

/* Prints the client's last error for a failed call and returns its exit
 * code. */
int cli_sdk_error(const cli *c, cashback_client *client, const char *what,
                  cashback_status st);

/* Writes `s` as a JSON string (quoted, escaped) to `f`. */
void cli_json_string(FILE *f, const char *s);

/* "2026-11-23T18:42:00Z" for a Unix time; "" for 0. */
void cli_iso_time(int64_t t, char *buf, size_t size);

/* "3 h 20 min", "45 s": a duration for people. */
void cli_duration(int64_t seconds, char *buf, size_t size);

/* "1.5 MiB": a size for people. */
void cli_bytes(uint64_t n, char *buf, size_t size);

/* A whole number from `s` in [min, max]; 0 on success. */
int cli_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* A progress bar on stderr, drawn only when stderr is a terminal. */
typedef struct cli_progress {
  int on;
  const char *label;
  int64_t start_ms;
  int64_t last_ms;
} cli_progress;

void cli_progress_start(cli_progress *p, const char *label, int enabled);
void cli_progress_draw(cli_progress *p, uint64_t done, uint64_t total,
                       const char *unit);
void cli_progress_end(cli_progress *p);
int64_t cli_now_ms(void);

/* The subcommands: argc/argv start at the subcommand's name. */
int cli_report(cli *c, int argc, char **argv);
int cli_send(cli *c, int argc, char **argv);
int cli_status(cli *c, int argc, char **argv);
int cli_quarantine(cli *c, int argc, char **argv);
int cli_import(cli *c, int argc, char **argv);
int cli_verify(cli *c, int argc, char **argv);
int cli_doctor(cli *c, int argc, char **argv);

#endif
