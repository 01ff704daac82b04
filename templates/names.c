/* Kubernetes names: RFC 1123 validation, Forklift's automatic VM renaming
 * and generateName-style suffixes.
 */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "template-internal.h"

#define LABEL_MAX 63            /* bytes */
#define SUBDOMAIN_MAX 253       /* bytes */

static bool
is_alnum_lower (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
label_ok (const char *s, size_t n, const char **reason)
{
  if (n == 0) { if (reason) *reason = "must not be empty"; return false; }
  if (n > LABEL_MAX) { if (reason) *reason = "must be no more than 63 characters"; return false; }
  for (size_t k = 0; k < n; k++)
    if (!is_alnum_lower (s[k]) && s[k] != '-') {
      if (reason) *reason = "must consist of lower case alphanumeric characters or '-'";
      return false;
    }
  if (!is_alnum_lower (s[0]) || !is_alnum_lower (s[n - 1])) {
    if (reason) *reason = "must start and end with an alphanumeric character";
    return false;
  }
  return true;
}

bool
ferry_template_is_dns1123_label (const char *s, const char **reason)
{
  if (!s) { if (reason) *reason = "must not be empty"; return false; }
  return label_ok (s, strlen (s), reason);
}

bool
ferry_template_is_dns1123_subdomain (const char *s, const char **reason)
{
  if (!s || !*s) { if (reason) *reason = "must not be empty"; return false; }
  size_t n = strlen (s);
  if (n > SUBDOMAIN_MAX) { if (reason) *reason = "must be no more than 253 characters"; return false; }
  const char *p = s;
  for (;;) {
    const char *dot = strchr (p, '.');
    size_t len = dot ? (size_t) (dot - p) : strlen (p);
    if (len == 0) {
      if (reason) *reason = "must consist of dot-separated non-empty labels";
      return false;
    }
    if (len > LABEL_MAX) { if (reason) *reason = "each label must be no more than 63 characters"; return false; }
    if (!label_ok (p, len, reason)) return false;
    if (!dot) break;
    p = dot + 1;
  }
  return true;
}

static int
default_random (void *user_data, void *buf, size_t n)
{
  (void) user_data;
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom ((char *) buf + got, n - got, 0);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    got += (size_t) r;
  }
  return 0;
}

/* N chars from ALPHABET, unbiased. */
static int
random_chars (char *out, size_t n, const char *alphabet,
              ferry_template_random_fn rnd, void *rnd_data)
{
  size_t alen = strlen (alphabet);
  unsigned limit = 256 - 256 % (unsigned) alen;
  if (!rnd) rnd = default_random;
  size_t k = 0;
  int tries = 0;
  while (k < n) {
    unsigned char b;
    if (rnd (rnd_data, &b, 1) < 0) return -1;
    if (b >= limit) {
      if (++tries > 10000) { errno = EIO; return -1; }
      continue;
    }
    out[k++] = alphabet[b % alen];
  }
  return 0;
}

static const char vm_alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
static const char k8s_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

static void
trim_set (struct tbuf *b, const char *set)
{
  size_t a = 0, e = b->len;
  while (a < e && strchr (set, b->p[a])) a++;
  while (e > a && strchr (set, b->p[e - 1])) e--;
  memmove (b->p, b->p + a, e - a);
  b->len = e - a;
  b->p[b->len] = '\0';
}

static void
cap_len (struct tbuf *b, size_t max)
{
  if (b->len > max) { b->len = max; b->p[max] = '\0'; }
}

/* One dot-separated part, already lower-cased. */
static void
clean_part (struct tbuf *out, const char *s, size_t n)
{
  struct tbuf part = {0};
  tbuf_add (&part, "", 0);
  for (size_t k = 0; k < n; k++) {
    char c = s[k];
    if (c == '_' || c == '+' || c == '*' || c == '/' || c == '\\' || c == ' ')
      c = '-';
    if (!is_alnum_lower (c) && c != '-') continue;
    if (c == '-' && part.len > 0 && part.p[part.len - 1] == '-') continue;  /* collapse */
    tbuf_addc (&part, c);
  }
  if (part.p) {
    trim_set (&part, "-.");
    cap_len (&part, LABEL_MAX);
    trim_set (&part, "-.");
    tbuf_add (out, part.p, part.len);
  }
  tbuf_free (&part);
}

char *
ferry_template_vm_name (const char *source, ferry_template_taken_fn taken, void *taken_data,
                        ferry_template_random_fn rnd, void *rnd_data)
{
  if (!source) { errno = EINVAL; return NULL; }
  CLEANUP_TBUF struct tbuf low = {0};
  size_t n = strlen (source);
  for (size_t k = 0, w; k < n; k += w) {
    uint32_t r = utf8_decode (source + k, n - k, &w);
    r = uni_lower (r);
    if (r < 0x80) tbuf_addc (&low, (char) r);
    /* anything non-ASCII is dropped below anyway */
  }
  tbuf_add (&low, "", 0);
  if (low.oom) { errno = ENOMEM; return NULL; }
  if (!low.p) { low.p = NULL; }
  CLEANUP_TBUF struct tbuf name = {0};
  tbuf_add (&name, "", 0);
  if (low.p) {
    trim_set (&low, ".-");
    const char *p = low.p, *end = low.p + low.len;
    while (p <= end) {
      const char *dot = memchr (p, '.', (size_t) (end - p));
      const char *e = dot ? dot : end;
      size_t before = name.len;
      if (before > 0) tbuf_addc (&name, '.');
      size_t mark = name.len;
      clean_part (&name, p, (size_t) (e - p));
      if (name.len == mark) { name.len = before; if (name.p) name.p[before] = '\0'; }  /* empty part dropped */
      if (!dot) break;
      p = dot + 1;
    }
  }
  if (name.p) {
    cap_len (&name, LABEL_MAX);
    trim_set (&name, ".-");
  }
  if (name.oom) { errno = ENOMEM; return NULL; }
  if (!name.p || name.len == 0) {
    char suf[4];
    if (random_chars (suf, 4, vm_alphabet, rnd, rnd_data) < 0) return NULL;
    tbuf_free (&name);
    tbuf_adds (&name, "vm-");
    tbuf_add (&name, suf, 4);
  }
  if (taken && taken (taken_data, name.p)) {
    CLEANUP_TBUF struct tbuf base = {0};
    tbuf_add (&base, name.p, name.len);
    cap_len (&base, LABEL_MAX - 5);
    trim_set (&base, ".-");
    for (int attempt = 0;; attempt++) {
      if (attempt >= 100) { errno = EEXIST; return NULL; }
      char suf[4];
      if (random_chars (suf, 4, vm_alphabet, rnd, rnd_data) < 0) return NULL;
      tbuf_free (&name);
      tbuf_add (&name, base.p ? base.p : "", base.len);
      if (name.len) tbuf_addc (&name, '-');
      tbuf_add (&name, suf, 4);
      if (name.oom) { errno = ENOMEM; return NULL; }
      if (!taken (taken_data, name.p)) break;
    }
  }
  return tbuf_steal (&name);
}

char *
ferry_template_generate_name (const char *prefix, ferry_template_random_fn rnd, void *rnd_data)
{
  if (!prefix) prefix = "";
  struct tbuf b = {0};
  size_t n = strlen (prefix);
  if (n > LABEL_MAX - 5) n = LABEL_MAX - 5;
  tbuf_add (&b, prefix, n);
  char suf[5];
  if (random_chars (suf, 5, k8s_alphabet, rnd, rnd_data) < 0) { tbuf_free (&b); return NULL; }
  tbuf_add (&b, suf, 5);
  char *r = tbuf_steal (&b);
  if (!r) errno = ENOMEM;
  return r;
}
