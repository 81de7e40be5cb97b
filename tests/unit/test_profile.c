/* Delivery profiles (sdk/cashback_profile*.c): the exact request bytes for
 * each event type against tests/fixtures/networks/ (curl's test-data
 * style: one file per case, written from docs/networks.md and the
 * networks' public documentation), the classification of each answer the
 * networks document, and the built-in profile as the protocol's request.
 *
 * A fixture file:
 *   <options>  key=value lines (cashback_options_set)        </options>
 *   <ledger>   "order amount_minor currency order_time refunded" lines
 *   <events>   one event text per line (cashback_event_parse) </events>
 *   <request>  METHOD URL, header lines, an empty line, the body
 *   </request>, or <local>accepted|rejected REASON</local>
 *   <covers>   how many of the events the request covers (default: all)
 */
#include "cashback.h"
#include "cashback_options.h"
#include "cashback_profile.h"
#include "cashback_request.h"
#include "cashback_time.h"
#include "fixture.h"
#include "tests.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURE_NOW 1796169600 /* 2026-12-02T00:00:00Z */

/* --- Fixture files ------------------------------------------------------ */

static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  char *buf = malloc(1 << 20);
  ck_assert_ptr_nonnull(buf);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

/* The text between "<tag>\n" and "\n</tag>" (a copy), or NULL. */
static char *section(const char *text, const char *tag) {
  char open[32], close[32];
  snprintf(open, sizeof(open), "<%s>\n", tag);
  snprintf(close, sizeof(close), "\n</%s>", tag);
  const char *a = strstr(text, open);
  if (!a)
    return NULL;
  a += strlen(open);
  const char *b = strstr(a, close);
  ck_assert_msg(b != NULL, "<%s> is not closed", tag);
  return strndup(a, (size_t)(b - a));
}

typedef struct ledger_row {
  char order[CASHBACK_ID_MAX + 1];
  int64_t amount, refunded;
  char currency[4];
  int64_t order_time;
  int offset;
} ledger_row;

typedef struct ledger {
  ledger_row rows[16];
  size_t n;
} ledger;

static int ledger_lookup(void *ctx, const char *order_id, const char *event_id,
                         int64_t refund, cashback__profile_sale *out) {
  (void)event_id;
  const ledger *l = ctx;
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->rows[i].order, order_id) == 0) {
      memset(out, 0, sizeof(*out));
      out->amount = l->rows[i].amount;
      memcpy(out->currency, l->rows[i].currency, 4);
      out->order_time = l->rows[i].order_time;
      out->utc_offset = l->rows[i].offset;
      out->new_total = l->rows[i].amount - l->rows[i].refunded - refund;
      return 0;
    }
  return -1;
}

static void ledger_load(ledger *l, const char *text) {
  memset(l, 0, sizeof(*l));
  if (!text)
    return;
  for (const char *p = text; *p;) {
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) : strlen(p);
    char line[256], when[64];
    snprintf(line, sizeof(line), "%.*s", (int)n, p);
    ledger_row *r = &l->rows[l->n];
    long long amount, refunded;
    ck_assert_int_eq(sscanf(line, "%64s %lld %3s %63s %lld", r->order, &amount,
                            r->currency, when, &refunded),
                     5);
    r->amount = amount;
    r->refunded = refunded;
    ck_assert_int_eq(
        cashback__iso8601_parse(when, strlen(when), &r->order_time, &r->offset),
        CASHBACK_OK);
    l->n++;
    p += n + (eol ? 1 : 0);
  }
}

static void options_load(cashback_options *o, const char *text) {
  for (const char *p = text; *p;) {
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) : strlen(p);
    const char *eq = memchr(p, '=', n);
    ck_assert_msg(eq != NULL, "option line without '='");
    ck_assert_msg(cashback_options_set_n(o, p, (size_t)(eq - p), eq + 1,
                                         n - (size_t)(eq - p) - 1) ==
                      CASHBACK_OK,
                  "option %.*s: %s", (int)n, p, cashback_options_last_error(o));
    p += n + (eol ? 1 : 0);
  }
}

/* The request as the fixtures write it. */
static char *request_text(const cashback__prequest *req) {
  cashback__buf b;
  cashback__buf_init(&b, 8u << 20);
  ck_assert_int_eq(cashback__buf_addf(&b, "%s %s\n", req->method, req->url),
                   CASHBACK_OK);
  for (size_t i = 0; i < req->n_headers; i++)
    ck_assert_int_eq(cashback__buf_addf(&b, "%s\n", req->headers[i]),
                     CASHBACK_OK);
  ck_assert_int_eq(cashback__buf_add(&b, "\n", 1), CASHBACK_OK);
  if (req->body.len)
    ck_assert_int_eq(cashback__buf_add(&b, req->body.data, req->body.len),
                     CASHBACK_OK);
  size_t len;
  return cashback__buf_detach(&b, &len);
}

/* Runs one fixture file; 0 when it passes (failures are asserted). */
static void run_fixture(const char *path) {
  char *text = read_all(path);
  char *opts_text = section(text, "options");
  char *ledger_text = section(text, "ledger");
  char *events_text = section(text, "events");
  char *want = section(text, "request");
  char *local = section(text, "local");
  char *covers = section(text, "covers");
  ck_assert_msg(opts_text && events_text && (want || local),
                "%s: needs <options>, <events> and <request> or <local>", path);

  int64_t now = FIXTURE_NOW;
  cashback_client *c = fixture_client("shop-1", &now);
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  options_load(o, opts_text);
  ledger l;
  ledger_load(&l, ledger_text);

  char *texts[16];
  size_t lens[16], n = 0;
  cashback__result results[16];
  memset(results, 0, sizeof(results));
  for (char *p = events_text; *p && n < 16;) {
    char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    cashback_event *ev = NULL;
    char detail[CASHBACK_ERROR_MAX + 1] = "";
    ck_assert_msg(cashback_event_parse(c, p, len, &ev, detail,
                                       sizeof(detail)) == CASHBACK_OK,
                  "%s: event %zu: %s", path, n + 1, detail);
    ck_assert_msg(cashback_event_finalize(c, ev, results[n].id) == CASHBACK_OK,
                  "%s: event %zu: %s", path, n + 1,
                  cashback_event_last_error(ev));
    ck_assert_int_eq(cashback_event_to_json(c, ev, &texts[n], &lens[n]),
                     CASHBACK_OK);
    cashback_event_free(ev);
    n++;
    p += len + (eol ? 1 : 0);
  }

  const cashback__profile *prof = cashback__profile_of(o);
  cashback__profile_orders orders = {ledger_lookup, &l};
  cashback__prequest req;
  cashback__prequest_init(&req);
  ck_assert_int_eq(prof->build(o, &orders, now, (const char *const *)texts,
                               lens, results, n, &req),
                   CASHBACK_OK);
  size_t want_n = covers ? (size_t)strtoul(covers, NULL, 10) : n;
  ck_assert_msg(req.n == want_n, "%s: covers %zu events, not %zu", path, req.n,
                want_n);
  if (local) {
    ck_assert_msg(req.local, "%s: a request, not settled locally", path);
    char outcome[16] = "", reason[CASHBACK_ID_MAX + 1] = "";
    sscanf(local, "%15s %64s", outcome, reason);
    ck_assert_str_eq(cashback__outcome_name(results[0].outcome), outcome);
    ck_assert_str_eq(results[0].reason, reason[0] ? reason : "");
  } else {
    ck_assert_msg(!req.local, "%s: settled locally (%s), not sent", path,
                  results[0].reason);
    char *got = request_text(&req);
    ck_assert_msg(strcmp(got, want) == 0, "%s:\n--- want\n%s\n--- got\n%s",
                  path, want, got);
    free(got);
  }
  cashback__prequest_free(&req);
  for (size_t i = 0; i < n; i++)
    cashback_free(texts[i]);
  cashback_options_free(o);
  cashback_client_free(c);
  free(text);
  free(opts_text);
  free(ledger_text);
  free(events_text);
  free(want);
  free(local);
  free(covers);
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every fixture of a network, by its file-name prefix; their count. */
static size_t run_fixtures(const char *prefix) {
  const char *top = getenv("top_srcdir");
  char dir[1024];
  snprintf(dir, sizeof(dir), "%s/tests/fixtures/networks", top ? top : "..");
  DIR *d = opendir(dir);
  ck_assert_msg(d != NULL, "cannot open %s (top_srcdir?)", dir);
  char *names[256];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 256)
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
      names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof(names[0]), by_name);
  for (size_t i = 0; i < n; i++) {
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
    run_fixture(path);
    free(names[i]);
  }
  return n;
}

START_TEST(awin_requests_match_fixtures) {
  ck_assert_uint_ge(run_fixtures("awin-"), 10);
}
END_TEST

START_TEST(impact_requests_match_fixtures) {
  ck_assert_uint_ge(run_fixtures("impact-"), 10);
}
END_TEST

/* --- Classification ----------------------------------------------------- */

static cashback_options *profile_options(const char *profile) {
  cashback_options *o = cashback_options_new();
  ck_assert_ptr_nonnull(o);
  ck_assert_int_eq(cashback_options_set(o, "profile", profile), CASHBACK_OK);
  return o;
}

/* Classifies answer (`status`, `body`, `retry_after`) to a request of
 * `n` events of `orders` to `api`; results in `res`. */
static void classify(const char *profile, int api, const char *const *orders,
                     size_t n, long status, const char *body,
                     const char *retry_after, cashback__result *res,
                     cashback__decision *d, char *submission) {
  cashback_options *o = profile_options(profile);
  cashback__prequest req;
  cashback__prequest_init(&req);
  ck_assert_int_eq(cashback__prequest_orders(&req, n), CASHBACK_OK);
  for (size_t i = 0; i < n; i++) {
    snprintf(req.orders[i], sizeof(req.orders[i]), "%s", orders[i]);
    memset(&res[i], 0, sizeof(res[i]));
    snprintf(res[i].id, sizeof(res[i].id), "%032zx", i + 1);
  }
  req.n = n;
  req.api = api;
  cashback__answer a;
  memset(&a, 0, sizeof(a));
  a.transport = status ? CASHBACK_OK : CASHBACK_E_NETWORK;
  a.status = status;
  a.body = body;
  a.body_len = body ? strlen(body) : 0;
  a.retry_after = retry_after;
  a.retry_after_len = retry_after ? strlen(retry_after) : 0;
  a.now_s = FIXTURE_NOW;
  cashback__sent b = {res, n, n, 0, 0};
  cashback__profile_of(o)->classify(o, &req, &a, &b, d, submission);
  cashback__prequest_free(&req);
  cashback_options_free(o);
}

static const char *const THREE[] = {"1001", "1002", "1003"};

START_TEST(awin_200_settles_each_order_by_reference) {
  cashback__result r[3];
  cashback__decision d;
  char sub[CASHBACK__SUBMISSION_MAX + 1];
  classify("awin", 1, THREE, 3, 200,
           "{\"orders\":[{\"orderReference\":\"1001\",\"status\":"
           "\"accepted\"},{\"orderReference\":\"1002\",\"status\":"
           "\"duplicate\"},{\"orderReference\":\"1003\",\"status\":"
           "\"rejected\",\"message\":\"unknown awc\"}]}",
           NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_SETTLE);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_ACCEPTED);
  ck_assert_int_eq(r[1].outcome, CASHBACK__OUTCOME_DUPLICATE);
  ck_assert_int_eq(r[2].outcome, CASHBACK__OUTCOME_REJECTED);
  ck_assert_str_eq(r[2].reason, "awin_rejected");
  ck_assert_str_eq(r[2].message, "unknown awc");
  /* An order missing from the answer is sent again. */
  classify("awin", 1, THREE, 3, 200,
           "{\"orders\":[{\"orderReference\":\"1002\",\"status\":"
           "\"accepted\"}]}",
           NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_SETTLE);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_PENDING);
  ck_assert_int_eq(r[1].outcome, CASHBACK__OUTCOME_ACCEPTED);
  ck_assert_int_eq(r[2].outcome, CASHBACK__OUTCOME_PENDING);
  /* None settled, or no list: a protocol retry. */
  classify("awin", 1, THREE, 3, 200, "{\"orders\":[]}", NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_RETRY);
  ck_assert_int_eq(d.cause, CASHBACK__CAUSE_SETTLED_NONE);
  classify("awin", 1, THREE, 3, 200, "<html>", NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_RETRY);
  ck_assert_int_eq(d.cause, CASHBACK__CAUSE_NO_RESULTS);
}
END_TEST

START_TEST(awin_transactions_200_queued_accepts_all_with_the_job) {
  cashback__result r[3];
  cashback__decision d;
  char sub[CASHBACK__SUBMISSION_MAX + 1];
  classify("awin", 2, THREE, 3, 200,
           "{\"jobId\":\"job-77\",\"status\":\"QUEUED\"}", NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_SETTLE);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(r[i].outcome, CASHBACK__OUTCOME_ACCEPTED);
  ck_assert_str_eq(sub, "awin job job-77 (QUEUED)");
}
END_TEST

START_TEST(awin_400_rejects_one_and_splits_several) {
  cashback__result r[3];
  cashback__decision d;
  char sub[CASHBACK__SUBMISSION_MAX + 1];
  const char *err = "{\"error\":\"invalid_currency\",\"description\":"
                    "\"currency XXX is not supported\"}";
  classify("awin", 1, THREE, 1, 400, err, NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_SETTLE);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_REJECTED);
  ck_assert_str_eq(r[0].reason, "invalid_currency");
  ck_assert_str_eq(r[0].message, "currency XXX is not supported");
  classify("awin", 1, THREE, 3, 400, err, NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_SPLIT);
  ck_assert_uint_eq(d.batch_limit, 1);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(r[i].outcome, CASHBACK__OUTCOME_PENDING);
}
END_TEST

START_TEST(awin_call_level_answers) {
  cashback__result r[3];
  cashback__decision d;
  char sub[CASHBACK__SUBMISSION_MAX + 1];
  const char *unauth = "{\"error\":\"unauthorized\",\"description\":\"bad\"}";
  classify("awin", 1, THREE, 3, 401, unauth, NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_PAUSE);
  classify("awin", 2, THREE, 1, 403, unauth, NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_PAUSE);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_PENDING);
  classify("awin", 1, THREE, 3, 413, "", NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_SPLIT);
  ck_assert_uint_eq(d.batch_limit, 1); /* half of the 3 collected */
  classify("awin", 1, THREE, 3, 429, "", "30", r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_RETRY);
  ck_assert_int_eq(d.retry_after_ms, 30000);
  classify("awin", 1, THREE, 3, 503, "", NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_RETRY);
  ck_assert_int_eq(d.status, CASHBACK_E_HTTP);
  classify("awin", 1, THREE, 3, 0, NULL, NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_RETRY);
  ck_assert_int_eq(d.status, CASHBACK_E_NETWORK);
}
END_TEST

START_TEST(impact_answers) {
  cashback__result r[1];
  cashback__decision d;
  char sub[CASHBACK__SUBMISSION_MAX + 1];
  classify("impact", 1, THREE, 1, 200,
           "{\"Status\":\"QUEUED\",\"QueuedUri\":\"/Advertisers/IRabc123/"
           "APISubmissions/A-1\"}",
           NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_SETTLE);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_ACCEPTED);
  ck_assert_str_eq(sub, "/Advertisers/IRabc123/APISubmissions/A-1");
  classify("impact", 1, THREE, 1, 200,
           "{\"Status\":\"ERROR\",\"Message\":\"Invalid ClickId\"}", NULL, r,
           &d, sub);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_REJECTED);
  ck_assert_str_eq(r[0].reason, "impact_error");
  ck_assert_str_eq(r[0].message, "Invalid ClickId");
  classify("impact", 1, THREE, 1, 400,
           "{\"Status\":\"ERROR\",\"Message\":\"Missing EventDate\","
           "\"Errors\":[{\"Field\":\"EventDate\"}]}",
           NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_SETTLE);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_REJECTED);
  ck_assert_str_eq(r[0].message, "Missing EventDate");
  classify("impact", 1, THREE, 1, 400,
           "{\"Status\":\"ERROR\",\"Message\":\"Duplicate OrderId 1001\"}",
           NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_SETTLE);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_DUPLICATE);
  classify("impact", 2, THREE, 1, 200, "{\"Status\":\"OK\"}", NULL, r, &d, sub);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_ACCEPTED);
  classify("impact", 2, THREE, 1, 404,
           "{\"Status\":\"ERROR\",\"Message\":\"No action found\"}", NULL, r,
           &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_SETTLE);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_REJECTED);
  ck_assert_str_eq(r[0].reason, "impact_no_action");
  ck_assert_str_eq(r[0].message, "No action found");
  classify("impact", 1, THREE, 1, 401, "", NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_PAUSE);
  classify("impact", 2, THREE, 1, 403, "", NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_PAUSE);
  classify("impact", 1, THREE, 1, 429, "", "7", r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_RETRY);
  ck_assert_int_eq(d.retry_after_ms, 7000);
  classify("impact", 1, THREE, 1, 502, "", NULL, r, &d, sub);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_RETRY);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_PENDING);
}
END_TEST

/* The built-in profile builds what the protocol's request builder does,
 * and decides as cashback__decide(). */
START_TEST(builtin_profile_is_the_protocol) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://api.network.example/v1/events"),
      CASHBACK_OK);
  ck_assert_ptr_eq(cashback__profile_of(o), &cashback__profile_builtin);
  const char *ev = "{\"id\":\"0123456789abcdef0123456789abcdef\"}";
  const char *texts[1] = {ev};
  size_t lens[1] = {strlen(ev)};
  cashback__result res[1];
  memset(res, 0, sizeof(res));
  cashback__prequest req;
  cashback__prequest_init(&req);
  ck_assert_int_eq(cashback__profile_builtin.build(o, NULL, FIXTURE_NOW, texts,
                                                   lens, res, 1, &req),
                   CASHBACK_OK);
  cashback__buf body;
  cashback__buf_init(&body, CASHBACK__BATCH_MAX_BYTES);
  char sig[CASHBACK__SIG_HEADER_MAX + 1], line[CASHBACK__SIG_HEADER_MAX + 64];
  ck_assert_int_eq(cashback__request_build("shop-1", &o->key, &o->next_key,
                                           FIXTURE_NOW, texts, lens, 1, &body,
                                           sig, sizeof(sig)),
                   CASHBACK_OK);
  ck_assert_str_eq(req.method, "POST");
  ck_assert_str_eq(req.url, "https://api.network.example/v1/events");
  ck_assert_uint_eq(req.n, 1);
  ck_assert_uint_eq(req.n_headers, 3);
  ck_assert_str_eq(req.headers[0], "Content-Type: application/json");
  ck_assert_str_eq(req.headers[1], "Accept: application/json");
  snprintf(line, sizeof(line), "%s: %s", CASHBACK_SIGNATURE_HEADER, sig);
  ck_assert_str_eq(req.headers[2], line);
  ck_assert_uint_eq(req.body.len, body.len);
  ck_assert_mem_eq(req.body.data, body.data, body.len);
  cashback__buf_free(&body);
  cashback__prequest_free(&req);
  cashback_options_free(o);
}
END_TEST

/* The profile keys: secrets are checked without being echoed, a profile
 * needs its own keys (and no libcashback key or endpoint). */
START_TEST(profile_option_keys) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set(o, "profile", "nope"),
                   CASHBACK_E_CONFIG);
  ck_assert_int_eq(cashback_options_set(o, "awin_api_key", "has space secret"),
                   CASHBACK_E_CONFIG);
  ck_assert_ptr_null(strstr(cashback_options_last_error(o), "space secret"));
  ck_assert_int_eq(cashback_options_set(o, "awin_advertiser_id", "12a"),
                   CASHBACK_E_CONFIG);
  ck_assert_int_eq(cashback_options_set(o, "profile", "AWIN"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set(o, "merchant_id", "shop-1"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_E_CONFIG);
  ck_assert_str_eq(cashback_options_last_error(o),
                   "missing required key 'awin_advertiser_id' (profile=awin)");
  ck_assert_int_eq(cashback_options_set(o, "awin_advertiser_id", "12345"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set(o, "awin_api_key", "key-0123"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set(o, "awin_api_token", "tok-0123"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_E_CONFIG);
  ck_assert_str_eq(cashback_options_last_error(o),
                   "missing required key 'cookie_secret' (profile=awin)");
  ck_assert_int_eq(
      cashback_options_set(o, "cookie_secret", "cookie-secret-0123456789"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set(o, "awin_base_url", "http://203.0.113.9/x"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_E_CONFIG);
  ck_assert_int_eq(
      cashback_options_set(o, "awin_base_url", "http://127.0.0.1:8080"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_OK);
  /* A pause is about the credentials: another token, another key. */
  cashback__key a, b;
  cashback__profile_pause_key(o, &a);
  ck_assert_int_eq(cashback_options_set(o, "awin_api_token", "tok-4567"),
                   CASHBACK_OK);
  cashback__profile_pause_key(o, &b);
  ck_assert_str_eq(a.id, "awin");
  ck_assert_str_ne(a.secret, b.secret);
  ck_assert_ptr_null(strstr(a.secret, "tok-"));
  cashback_options_free(o);
}
END_TEST

START_TEST(form_encoding) {
  cashback__buf b;
  cashback__buf_init(&b, 1024);
  ck_assert_int_eq(
      cashback__form_field(&b, "EventDate", "2026-12-01T10:15:00+01:00"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback__form_field(&b, "X", "a b~c&d=é"), CASHBACK_OK);
  ck_assert_str_eq(b.data, "EventDate=2026-12-01T10%3A15%3A00%2B01%3A00"
                           "&X=a%20b~c%26d%3D%C3%A9");
  cashback__buf_free(&b);
}
END_TEST

/* A payload whose items or vouchers are an object, not a list, is not an
 * event (cJSON_ArrayForEach walks an object's members too: it once indexed
 * a NULL item list; found by fuzz_profile_build). */
START_TEST(pevent_lists_must_be_lists) {
  static const char *const bad[] = {
      "{\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"sale\","
      "\"order_id\":\"1\",\"order_time\":\"2026-12-01T10:15:00Z\","
      "\"items\":{\"a\":{\"sku\":\"S\",\"quantity\":1,\"unit_price\":1}}}",
      "{\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"sale\","
      "\"order_id\":\"1\",\"order_time\":\"2026-12-01T10:15:00Z\","
      "\"vouchers\":{\"a\":\"V\"}}"};
  for (size_t i = 0; i < 2; i++) {
    cashback__pevent ev;
    ck_assert_int_eq(cashback__pevent_parse(bad[i], strlen(bad[i]), &ev),
                     CASHBACK_E_PROTOCOL);
  }
}
END_TEST

TCase *cashback_test_profile(void) {
  TCase *tc = tcase_create("profile");
  tcase_add_test(tc, awin_requests_match_fixtures);
  tcase_add_test(tc, impact_requests_match_fixtures);
  tcase_add_test(tc, awin_200_settles_each_order_by_reference);
  tcase_add_test(tc, awin_transactions_200_queued_accepts_all_with_the_job);
  tcase_add_test(tc, awin_400_rejects_one_and_splits_several);
  tcase_add_test(tc, awin_call_level_answers);
  tcase_add_test(tc, impact_answers);
  tcase_add_test(tc, builtin_profile_is_the_protocol);
  tcase_add_test(tc, profile_option_keys);
  tcase_add_test(tc, form_encoding);
  tcase_add_test(tc, pevent_lists_must_be_lists);
  return tc;
}
