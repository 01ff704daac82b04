/* ferry core: an HTTP(S) URL as a disk source (libcurl).
 *
 * Size from HEAD (Content-Length), or, when HEAD is refused, from the
 * Content-Range of a one-byte GET.  Reads are Range GETs that must come
 * back 206 with exactly the bytes asked for.  TLS verification is on
 * unless the caller says insecure (a warning is logged).  The cookie goes
 * only into the Cookie header and is never logged; URLs in messages lose
 * their user, password and query.  Redirects are followed only when no
 * cookie is set, so a cookie never travels to another host.
 *
 * Retries: a request that fails with a 5xx status, a reset or refused
 * connection, a timeout or a short body is tried again up to HTTP_RETRIES
 * times, after 0.1 s, 0.2 s, 0.4 s, ... (at most 2 s).
 *
 * Thread model: one curl easy handle per source object, used by one
 * thread at a time; clone() makes another (another connection), so the
 * engine gives each worker its own.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "ferry/log.h"
#include "ferry/transfer.h"
#include "transfer-internal.h"

#define HTTP_RETRIES 5
#define HTTP_BACKOFF_MS 100                     /* first retry delay */
#define HTTP_BACKOFF_MAX_MS 2000
#define HTTP_CONNECT_TIMEOUT 30L                /* seconds */
#define HTTP_LOW_SPEED_TIME 60L                 /* seconds below the limit... */
#define HTTP_LOW_SPEED_LIMIT 1024L              /* ... of bytes/s: timeout */

struct http_source {
  CURL *curl;
  char *url;
  char *safe_url;                       /* for messages: no credentials, no query */
  char **headers;                       /* copied; may be NULL */
  struct curl_slist *header_list;
  char *cookie;                         /* never logged */
  char *cafile;
  int insecure;
  uint64_t size;                        /* bytes */
  char errbuf[CURL_ERROR_SIZE];
};

/* What a response told us, filled by the callbacks. */
struct http_response {
  char *buf;                            /* where the body goes, or NULL: drop it */
  size_t want, got;                     /* bytes */
  bool overflow;                        /* the body was longer than asked */
  bool have_total;
  uint64_t total;                       /* from Content-Range: bytes a-b/TOTAL */
};

static const struct ferry_disk_source_ops http_source_ops;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_code;

static void
curl_init (void)
{
  curl_init_code = curl_global_init (CURL_GLOBAL_DEFAULT);
}

static char *
make_safe_url (const char *url)
{
  CURLU *u = curl_url ();
  char *out = NULL, *s = NULL;

  if (u && curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK) {
    curl_url_set (u, CURLUPART_USER, NULL, 0);
    curl_url_set (u, CURLUPART_PASSWORD, NULL, 0);
    curl_url_set (u, CURLUPART_QUERY, NULL, 0);
    curl_url_set (u, CURLUPART_FRAGMENT, NULL, 0);
    if (curl_url_get (u, CURLUPART_URL, &s, 0) == CURLUE_OK)
      out = strdup (s);
    curl_free (s);
  }
  curl_url_cleanup (u);
  return out ? out : strdup ("(unparseable URL)");
}

static void
http_source_free (struct http_source *hs)
{
  if (hs == NULL)
    return;
  if (hs->curl)
    curl_easy_cleanup (hs->curl);
  curl_slist_free_all (hs->header_list);
  ferry_internal_strv_free (hs->headers);
  free (hs->url);
  free (hs->safe_url);
  if (hs->cookie) {
    memset (hs->cookie, 0, strlen (hs->cookie));
    free (hs->cookie);
  }
  free (hs->cafile);
  free (hs);
}

static size_t
body_cb (char *ptr, size_t size, size_t nmemb, void *userdata)
{
  struct http_response *resp = userdata;
  size_t n = size * nmemb;

  if (resp->buf == NULL)
    return n;
  if (n > resp->want - resp->got) {
    resp->overflow = true;
    return 0;                           /* aborts the transfer */
  }
  memcpy (resp->buf + resp->got, ptr, n);
  resp->got += n;
  return n;
}

static size_t
header_cb (char *ptr, size_t size, size_t nmemb, void *userdata)
{
  struct http_response *resp = userdata;
  size_t n = size * nmemb;
  static const char name[] = "content-range:";

  if (n > sizeof name - 1 && strncasecmp (ptr, name, sizeof name - 1) == 0) {
    char line[256];
    const char *slash;
    size_t k = n < sizeof line - 1 ? n : sizeof line - 1;
    memcpy (line, ptr, k);
    line[k] = '\0';
    slash = strchr (line, '/');
    if (slash && slash[1] >= '0' && slash[1] <= '9') {
      resp->total = strtoull (slash + 1, NULL, 10);
      resp->have_total = true;
    }
  }
  return n;
}

static int
http_setup (struct http_source *hs)
{
  CURL *c = hs->curl;

  curl_easy_setopt (c, CURLOPT_URL, hs->url);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, hs->errbuf);
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT, HTTP_CONNECT_TIMEOUT);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_LIMIT, HTTP_LOW_SPEED_LIMIT);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_TIME, HTTP_LOW_SPEED_TIME);
  curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, body_cb);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, header_cb);
  if (hs->cookie == NULL) {
    curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt (c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt (c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  }
  else
    curl_easy_setopt (c, CURLOPT_COOKIE, hs->cookie);
  if (hs->header_list)
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, hs->header_list);
  if (hs->cafile)
    curl_easy_setopt (c, CURLOPT_CAINFO, hs->cafile);
  if (hs->insecure) {
    curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  else {
    curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 2L);
  }
  return 0;
}

static bool
retryable (CURLcode code, long status)
{
  switch (code) {
  case CURLE_OK:
    return status >= 500 && status <= 599;
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return true;
  default:
    return false;
  }
}

static void
backoff (unsigned attempt)
{
  unsigned ms = HTTP_BACKOFF_MS << attempt;
  struct timespec ts;

  if (ms > HTTP_BACKOFF_MAX_MS)
    ms = HTTP_BACKOFF_MAX_MS;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long) (ms % 1000) * 1000000L;
  while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
    ;
}

/* One request with retries.  what names it in messages ("HEAD",
 * "GET bytes=0-511").  On success *status is the final HTTP status.
 */
static int
http_perform (struct http_source *hs, const char *what,
              struct http_response *resp, long *status)
{
  CURLcode code = CURLE_OK;

  for (unsigned attempt = 0;; attempt++) {
    struct http_response fresh = *resp;
    hs->errbuf[0] = '\0';
    fresh.got = 0;
    fresh.overflow = false;
    fresh.have_total = false;
    curl_easy_setopt (hs->curl, CURLOPT_WRITEDATA, &fresh);
    curl_easy_setopt (hs->curl, CURLOPT_HEADERDATA, &fresh);
    code = curl_easy_perform (hs->curl);
    *status = 0;
    curl_easy_getinfo (hs->curl, CURLINFO_RESPONSE_CODE, status);
    *resp = fresh;
    if (code == CURLE_WRITE_ERROR && resp->overflow) {
      ferry_error ("http source %s: %s: the server sent more than %zu bytes "
                   "(HTTP %ld)", hs->safe_url, what, resp->want, *status);
      return -1;
    }
    if (!retryable (code, *status))
      break;
    if (attempt >= HTTP_RETRIES) {
      if (code == CURLE_OK)
        ferry_error ("http source %s: %s: HTTP %ld after %u attempts",
                     hs->safe_url, what, *status, attempt + 1);
      else
        ferry_error ("http source %s: %s: %s after %u attempts", hs->safe_url,
                     what, hs->errbuf[0] ? hs->errbuf : curl_easy_strerror (code),
                     attempt + 1);
      return -1;
    }
    ferry_debug ("http source %s: %s: %s, retrying (%u of %d)",
                 hs->safe_url, what,
                 code == CURLE_OK ? "server error"
                 : (hs->errbuf[0] ? hs->errbuf : curl_easy_strerror (code)),
                 attempt + 1, HTTP_RETRIES);
    backoff (attempt);
  }
  if (code != CURLE_OK) {
    ferry_error ("http source %s: %s: %s", hs->safe_url, what,
                 hs->errbuf[0] ? hs->errbuf : curl_easy_strerror (code));
    return -1;
  }
  return 0;
}

static int
http_get_size (struct http_source *hs)
{
  struct http_response resp = { 0 };
  long status;
  curl_off_t len = -1;

  curl_easy_setopt (hs->curl, CURLOPT_NOBODY, 1L);
  if (http_perform (hs, "HEAD", &resp, &status) == -1)
    return -1;
  curl_easy_setopt (hs->curl, CURLOPT_NOBODY, 0L);
  curl_easy_setopt (hs->curl, CURLOPT_HTTPGET, 1L);
  if (status == 200 &&
      curl_easy_getinfo (hs->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
                         &len) == CURLE_OK && len >= 0) {
    hs->size = (uint64_t) len;
    return 0;
  }

  /* HEAD refused or without a length: ask for one byte. */
  char byte;
  resp = (struct http_response) { .buf = &byte, .want = 1 };
  curl_easy_setopt (hs->curl, CURLOPT_RANGE, "0-0");
  if (http_perform (hs, "GET bytes=0-0", &resp, &status) == -1)
    return -1;
  curl_easy_setopt (hs->curl, CURLOPT_RANGE, NULL);
  if (status != 206 || !resp.have_total) {
    ferry_error ("http source %s: cannot learn the size: HEAD gave no length "
                 "and a range request gave HTTP %ld%s", hs->safe_url, status,
                 status == 206 ? " without a total" : "");
    return -1;
  }
  hs->size = resp.total;
  return 0;
}

static struct http_source *
http_source_new (const char *url, const char *const *headers,
                 const char *cookie, const char *cafile, int insecure)
{
  struct http_source *hs = calloc (1, sizeof *hs);

  if (hs == NULL) {
    ferry_error_errno (errno, "http source");
    return NULL;
  }
  hs->insecure = insecure;
  hs->url = strdup (url);
  hs->safe_url = make_safe_url (url);
  if (hs->url == NULL || hs->safe_url == NULL ||
      (cookie && (hs->cookie = strdup (cookie)) == NULL) ||
      (cafile && (hs->cafile = strdup (cafile)) == NULL)) {
    ferry_error_errno (errno, "http source");
    goto err;
  }
  if (headers && headers[0]) {
    hs->headers = ferry_internal_strv_copy (headers, "http source: headers");
    if (hs->headers == NULL)
      goto err;
    for (size_t i = 0; hs->headers[i]; i++) {
      struct curl_slist *l = curl_slist_append (hs->header_list, hs->headers[i]);
      if (l == NULL) {
        ferry_error ("http source %s: cannot add a header", hs->safe_url);
        goto err;
      }
      hs->header_list = l;
    }
  }
  hs->curl = curl_easy_init ();
  if (hs->curl == NULL) {
    ferry_error ("http source %s: curl_easy_init failed", hs->safe_url);
    goto err;
  }
  http_setup (hs);
  return hs;

 err:
  http_source_free (hs);
  return NULL;
}

static struct ferry_disk_source *
http_source_wrap (struct http_source *hs)
{
  struct ferry_disk_source *src = calloc (1, sizeof *src);

  if (src == NULL) {
    ferry_error_errno (errno, "http source %s", hs->safe_url);
    http_source_free (hs);
    return NULL;
  }
  src->ops = &http_source_ops;
  src->priv = hs;
  return src;
}

struct ferry_disk_source *
ferry_http_source_open (const char *url, const struct ferry_http_options *opts_in)
{
  struct ferry_http_options opts = { 0 };
  struct http_source *hs;

  if (url == NULL || *url == '\0') {
    ferry_error ("http source: no URL");
    return NULL;
  }
  if (opts_in) {
    size_t n = opts_in->struct_size < sizeof opts
      ? opts_in->struct_size : sizeof opts;
    memcpy (&opts, opts_in, n);
  }
  pthread_once (&curl_once, curl_init);
  if (curl_init_code != CURLE_OK) {
    ferry_error ("http source: curl_global_init: %s",
                 curl_easy_strerror (curl_init_code));
    return NULL;
  }
  hs = http_source_new (url, opts.headers, opts.cookie, opts.cafile,
                        opts.insecure);
  if (hs == NULL)
    return NULL;
  if (opts.insecure)
    ferry_warn ("http source %s: TLS certificate verification is off "
                "(insecure)", hs->safe_url);
  if (http_get_size (hs) == -1) {
    http_source_free (hs);
    return NULL;
  }
  return http_source_wrap (hs);
}

static int64_t
http_source_size (struct ferry_disk_source *src)
{
  struct http_source *hs = src->priv;
  return (int64_t) hs->size;
}

static uint32_t
http_source_block_size (struct ferry_disk_source *src)
{
  return 0;
}

static int
http_source_pread (struct ferry_disk_source *src, void *buf, size_t count,
                   uint64_t offset)
{
  struct http_source *hs = src->priv;
  struct http_response resp = { .buf = buf, .want = count };
  char range[64], what[80];
  long status;

  if (count == 0)
    return 0;
  snprintf (range, sizeof range, "%" PRIu64 "-%" PRIu64,
            offset, offset + count - 1);
  snprintf (what, sizeof what, "GET bytes=%s", range);
  curl_easy_setopt (hs->curl, CURLOPT_RANGE, range);
  if (http_perform (hs, what, &resp, &status) == -1)
    return -1;
  if (status != 206) {
    ferry_error ("http source %s: %s at offset %" PRIu64 ": HTTP %ld%s",
                 hs->safe_url, what, offset, status,
                 status == 200 ? " (the server ignored the range)" : "");
    return -1;
  }
  if (resp.got != count) {
    ferry_error ("http source %s: %s at offset %" PRIu64
                 ": got %zu of %zu bytes", hs->safe_url, what, offset,
                 resp.got, count);
    return -1;
  }
  return 0;
}

static int
http_source_can_multi_conn (struct ferry_disk_source *src)
{
  return 1;                             /* stateless: every GET sees the same URL */
}

static struct ferry_disk_source *
http_source_clone (struct ferry_disk_source *src)
{
  struct http_source *hs = src->priv;
  struct http_source *c;

  c = http_source_new (hs->url, (const char *const *) hs->headers, hs->cookie,
                       hs->cafile, hs->insecure);
  if (c == NULL)
    return NULL;
  c->size = hs->size;
  return http_source_wrap (c);
}

static void
http_source_close (struct ferry_disk_source *src)
{
  if (src == NULL)
    return;
  http_source_free (src->priv);
  free (src);
}

static const struct ferry_disk_source_ops http_source_ops = {
  .struct_size = sizeof (struct ferry_disk_source_ops),
  .name = "http",
  .size = http_source_size,
  .block_size = http_source_block_size,
  .pread = http_source_pread,
  .can_multi_conn = http_source_can_multi_conn,
  .clone = http_source_clone,
  .close = http_source_close,
};
