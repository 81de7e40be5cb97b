/* cashback import: a shop's CSV export into the spool (the parsing and the
 * mapping are the SDK's cashback_import_csv(); this prints). */
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: cashback import [--dry-run] [--quiet] [--json] FILE.csv\n"
    "\n"
    "Reports each row of a shop's export (RFC 4180 CSV with a header row;\n"
    "columns in docs/cli.md) as an event. Bad rows are reported with their\n"
    "line numbers and skipped; good rows are stored. Importing the same file\n"
    "again creates no duplicate: the event ids are derived from the orders\n"
    "(and refund ids). FILE '-' reads standard input.\n"
    "Exit status: 0 every row imported, 1 some rows skipped (or the header\n"
    "is bad), 2 usage, 3 configuration, 4 spool or disk full.\n"
    "\n"
    "  --dry-run               check every row, store nothing\n"
    "  --quiet                 no line per skipped row, only the summary\n"
    "  --json                  the summary as JSON\n"
    "  --progress, --no-progress   a progress bar on a terminal (default: "
    "on)\n"
    "  --config FILE, --connection-file FILE, --connection STRING|-,\n"
    "  --verbose, --help\n";

typedef struct ctx {
  const char *file;
  int quiet;
  cli_progress bar;
} ctx;

static void on_row(const cashback_import_row *row, void *ud) {
  ctx *x = ud;
  if (row->status != CASHBACK_OK && !x->quiet) {
    /* The cells are the file's bytes: shown printable, never as they are. */
    char file[1024], order[4 * 64 + 4], error[4 * CASHBACK_ERROR_MAX];
    if (x->bar.on)
      fputc('\n', stderr); /* keep the bar's line */
    fprintf(stderr, "%s:%llu: skipped%s%s%s: %s\n",
            cli_shown(file, sizeof(file), x->file),
            (unsigned long long)row->line, row->order_id[0] ? " (order " : "",
            cli_shown(order, sizeof(order), row->order_id),
            row->order_id[0] ? ")" : "",
            cli_shown(error, sizeof(error), row->error));
  }
  if (row->bytes_total)
    cli_progress_draw(&x->bar, row->bytes_read, row->bytes_total, "bytes");
}

int cli_import(cli *c, int argc, char **argv) {
  int dry = 0, json = 0, progress = 1;
  ctx x = {0};
  const struct option own[] = {{"dry-run", no_argument, &dry, 1},
                               {"quiet", no_argument, &x.quiet, 1},
                               {"json", no_argument, &json, 1},
                               {"progress", no_argument, &progress, 1},
                               {"no-progress", no_argument, &progress, 0},
                               {NULL, 0, NULL, 0}};
  int rc = cli_parse_options(
      c, argc, argv,
      &(cli_options){.usage = usage, .own = own, .operands = -1});
  if (rc != CLI_OK)
    return rc;
  if (optind >= argc)
    return cli_error(c, CLI_USAGE, "which file? (FILE.csv, or - for stdin)");
  if (optind + 1 < argc)
    return cli_error(c, CLI_USAGE, "one file at a time ('%s' is extra)",
                     argv[optind + 1]);
  const char *file = argv[optind];
  const char *path = strcmp(file, "-") == 0 ? "/dev/stdin" : file;
  x.file = strcmp(file, "-") == 0 ? "stdin" : file;
  if (access(path, R_OK) != 0)
    return cli_error(c, CLI_USAGE, "cannot read '%s': %s", file,
                     strerror(errno));
  cashback_client *client;
  rc = cli_client(c, &client);
  if (rc != CLI_OK)
    return rc;
  cli_progress_start(&x.bar, dry ? "checking" : "importing", progress);
  cashback_import_stats stats = {.size = sizeof(stats)};
  cashback_status st = cashback_import_csv(
      client, path, dry ? CASHBACK_IMPORT_DRY_RUN : 0, on_row, &x, &stats);
  cli_progress_end(&x.bar);
  if (st == CASHBACK_E_FIELD) {
    rc = cli_sdk_error(c, client, "nothing imported", st);
    rc = CLI_FAIL;
  } else if (st != CASHBACK_OK) {
    rc = cli_sdk_error(c, client,
                       stats.imported ? "stopped (the rows before are stored; "
                                        "importing again is safe)"
                                      : "nothing imported",
                       st);
  } else {
    rc = stats.skipped ? CLI_FAIL : CLI_OK;
  }
  if (st == CASHBACK_OK || stats.rows) {
    if (json) {
      printf("{\"file\":");
      cli_json_string(stdout, x.file);
      printf(",\"rows\":%llu,\"imported\":%llu,\"skipped\":%llu,"
             "\"dry_run\":%s}\n",
             (unsigned long long)stats.rows, (unsigned long long)stats.imported,
             (unsigned long long)stats.skipped, dry ? "true" : "false");
    } else {
      char shown[1024];
      printf("%s: %llu row%s, %llu %s, %llu skipped\n",
             cli_shown(shown, sizeof(shown), x.file),
             (unsigned long long)stats.rows, stats.rows == 1 ? "" : "s",
             (unsigned long long)stats.imported,
             dry ? "valid (dry run: nothing stored)" : "imported",
             (unsigned long long)stats.skipped);
    }
  }
  cashback_client_free(client);
  return rc;
}
