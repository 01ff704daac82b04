/* Sprig's string functions, with Sprig's argument order and Go's strings
 * package semantics (byte-based where Go is, rune-based where Go is).
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "template-internal.h"

static int
ret_buf (struct tcall *c, struct tbuf *b)
{
  if (b->oom) { tbuf_free (b); return tcall_fail (c, "out of memory"); }
  size_t len = b->len;
  char *s = tbuf_steal (b);
  if (!s) return tcall_fail (c, "out of memory");
  tv_set_string_owned (c->ret, s, len);
  return 0;
}

/* Return a slice of argument K (borrowing when the argument borrows). */
static int
ret_slice (struct tcall *c, size_t k, size_t off, size_t len)
{
  struct tv *a = &c->args[k];
  if (!a->owned) {
    *c->ret = (struct tv) { .type = TV_STRING, .s = a->s + off, .len = len };
    return 0;
  }
  struct tbuf b = {0};
  tbuf_add (&b, a->s + off, len);
  if (len == 0) tbuf_add (&b, "", 0), b.oom = b.oom;
  if (!b.p) { char *e = strdup (""); if (!e) return tcall_fail (c, "out of memory"); tv_set_string_owned (c->ret, e, 0); return 0; }
  return ret_buf (c, &b);
}

static int
ret_bool (struct tcall *c, bool v)
{
  *c->ret = (struct tv) { .type = TV_BOOL, .b = v };
  return 0;
}

/* strings.Map with a per-rune mapping; invalid bytes become U+FFFD. */
static int
map_runes (struct tcall *c, const struct tv *s, uint32_t (*fn) (uint32_t))
{
  bool ascii = true;
  for (size_t k = 0; k < s->len; k++) if ((unsigned char) s->s[k] >= 0x80) { ascii = false; break; }
  struct tbuf b = {0};
  if (ascii) {
    tbuf_add (&b, s->s, s->len);
    for (size_t k = 0; k < b.len; k++) b.p[k] = (char) fn ((unsigned char) b.p[k]);
  }
  else
    for (size_t k = 0, w; k < s->len; k += w) {
      uint32_t r = utf8_decode (s->s + k, s->len - k, &w);
      tbuf_add_rune (&b, fn (r));
    }
  if (s->len == 0) return ret_slice (c, 0, 0, 0);
  return ret_buf (c, &b);
}

static int fn_lower (struct tcall *c) { return map_runes (c, &c->args[0], uni_lower); }
static int fn_upper (struct tcall *c) { return map_runes (c, &c->args[0], uni_upper); }

static bool
is_separator (uint32_t r)
{
  if (r <= 0x7F) {
    if ((r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == '_')
      return false;
    return true;
  }
  if (uni_is_letter (r) || uni_is_digit (r)) return false;
  return uni_is_space (r);
}

/* strings.Title */
static int
fn_title (struct tcall *c)
{
  const struct tv *s = &c->args[0];
  struct tbuf b = {0};
  uint32_t prev = ' ';
  for (size_t k = 0, w; k < s->len; k += w) {
    uint32_t r = utf8_decode (s->s + k, s->len - k, &w);
    tbuf_add_rune (&b, is_separator (prev) ? uni_title (r) : r);
    prev = r;
  }
  if (s->len == 0) return ret_slice (c, 0, 0, 0);
  return ret_buf (c, &b);
}

/* goutils.Uncapitalize: lower-case the first rune after whitespace. */
static int
fn_untitle (struct tcall *c)
{
  const struct tv *s = &c->args[0];
  if (s->len == 0) return ret_slice (c, 0, 0, 0);
  struct tbuf b = {0};
  bool next = true;
  for (size_t k = 0, w; k < s->len; k += w) {
    uint32_t r = utf8_decode (s->s + k, s->len - k, &w);
    if (uni_is_space (r)) next = true;
    else if (next) { r = uni_lower (r); next = false; }
    tbuf_add_rune (&b, r);
  }
  return ret_buf (c, &b);
}

static bool
byte_is_space (unsigned char ch)
{
  /* unicode.IsSpace(rune(byte)) */
  return ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r' || ch == ' '
    || ch == 0x85 || ch == 0xA0;
}

/* goutils.DeleteWhiteSpace: byte-wise, re-encoding bytes as runes when
 * anything was removed (Go's quirk, kept).
 */
static int
fn_nospace (struct tcall *c)
{
  const struct tv *s = &c->args[0];
  size_t removed = 0;
  for (size_t k = 0; k < s->len; k++) if (byte_is_space ((unsigned char) s->s[k])) removed++;
  if (removed == 0) return ret_slice (c, 0, 0, s->len);
  struct tbuf b = {0};
  for (size_t k = 0; k < s->len; k++)
    if (!byte_is_space ((unsigned char) s->s[k]))
      tbuf_add_rune (&b, (unsigned char) s->s[k]);
  if (!b.p) return ret_slice (c, 0, 0, 0);
  return ret_buf (c, &b);
}

/* goutils.Initials: byte-wise, first byte (as a rune) of each word. */
static int
fn_initials (struct tcall *c)
{
  const struct tv *s = &c->args[0];
  struct tbuf b = {0};
  bool gap = true;
  for (size_t k = 0; k < s->len; k++) {
    unsigned char ch = (unsigned char) s->s[k];
    if (byte_is_space (ch)) gap = true;
    else if (gap) { tbuf_add_rune (&b, ch); gap = false; }
  }
  if (!b.p) return ret_slice (c, 0, 0, 0);
  return ret_buf (c, &b);
}

/* strings.TrimSpace */
static int
fn_trim (struct tcall *c)
{
  const struct tv *s = &c->args[0];
  size_t a = 0, e = s->len, w;
  while (a < e) {
    uint32_t r = utf8_decode (s->s + a, e - a, &w);
    if (!uni_is_space (r)) break;
    a += w;
  }
  while (e > a) {
    /* step back one rune */
    size_t st = e - 1;
    while (st > a && ((unsigned char) s->s[st] & 0xC0) == 0x80 && e - st < 4) st--;
    uint32_t r = utf8_decode (s->s + st, e - st, &w);
    if (st + w != e) { st = e - 1; r = 0xFFFD; }
    if (!uni_is_space (r)) break;
    e = st;
  }
  return ret_slice (c, 0, a, e - a);
}

static bool
in_cutset (const struct tv *set, uint32_t r)
{
  for (size_t k = 0, w; k < set->len; k += w) {
    uint32_t x = utf8_decode (set->s + k, set->len - k, &w);
    if (x == r) return true;
  }
  return false;
}

/* trimAll CUTSET S = strings.Trim(S, CUTSET) */
static int
fn_trim_all (struct tcall *c)
{
  const struct tv *set = &c->args[0], *s = &c->args[1];
  size_t a = 0, e = s->len, w;
  if (s->len == 0 || set->len == 0) return ret_slice (c, 1, 0, s->len);
  while (a < e) {
    uint32_t r = utf8_decode (s->s + a, e - a, &w);
    if (!in_cutset (set, r)) break;
    a += w;
  }
  while (e > a) {
    size_t st = e - 1;
    while (st > a && ((unsigned char) s->s[st] & 0xC0) == 0x80 && e - st < 4) st--;
    uint32_t r = utf8_decode (s->s + st, e - st, &w);
    if (st + w != e) { st = e - 1; r = 0xFFFD; }
    if (!in_cutset (set, r)) break;
    e = st;
  }
  return ret_slice (c, 1, a, e - a);
}

static int
fn_trim_suffix (struct tcall *c)
{
  const struct tv *x = &c->args[0], *s = &c->args[1];
  if (x->len <= s->len && memcmp (s->s + s->len - x->len, x->s, x->len) == 0)
    return ret_slice (c, 1, 0, s->len - x->len);
  return ret_slice (c, 1, 0, s->len);
}

static int
fn_trim_prefix (struct tcall *c)
{
  const struct tv *x = &c->args[0], *s = &c->args[1];
  if (x->len <= s->len && memcmp (s->s, x->s, x->len) == 0)
    return ret_slice (c, 1, x->len, s->len - x->len);
  return ret_slice (c, 1, 0, s->len);
}

static int
fn_has_prefix (struct tcall *c)
{
  const struct tv *x = &c->args[0], *s = &c->args[1];
  return ret_bool (c, x->len <= s->len && memcmp (s->s, x->s, x->len) == 0);
}

static int
fn_has_suffix (struct tcall *c)
{
  const struct tv *x = &c->args[0], *s = &c->args[1];
  return ret_bool (c, x->len <= s->len && memcmp (s->s + s->len - x->len, x->s, x->len) == 0);
}

static int
fn_contains (struct tcall *c)
{
  const struct tv *x = &c->args[0], *s = &c->args[1];
  if (x->len == 0) return ret_bool (c, true);
  return ret_bool (c, s->len >= x->len && memmem (s->s, s->len, x->s, x->len) != NULL);
}

/* replace OLD NEW SRC = strings.Replace(SRC, OLD, NEW, -1) */
static int
fn_replace (struct tcall *c)
{
  const struct tv *old = &c->args[0], *nw = &c->args[1], *src = &c->args[2];
  struct tbuf b = {0};
  if (old->len == 0) {
    /* insert NEW before every rune and at the end */
    tbuf_add (&b, nw->s, nw->len);
    for (size_t k = 0, w; k < src->len; k += w) {
      utf8_decode (src->s + k, src->len - k, &w);
      tbuf_add (&b, src->s + k, w);
      tbuf_add (&b, nw->s, nw->len);
    }
  }
  else {
    size_t k = 0;
    for (;;) {
      const char *p = k < src->len ? memmem (src->s + k, src->len - k, old->s, old->len) : NULL;
      if (!p) break;
      size_t at = (size_t) (p - src->s);
      tbuf_add (&b, src->s + k, at - k);
      tbuf_add (&b, nw->s, nw->len);
      k = at + old->len;
    }
    if (k == 0) return ret_slice (c, 2, 0, src->len);
    tbuf_add (&b, src->s + k, src->len - k);
  }
  if (!b.p) return ret_slice (c, 2, 0, 0);
  return ret_buf (c, &b);
}

/* Output bound for repeat: Go would try to allocate; we refuse above this. */
#define REPEAT_MAX ((size_t) 16 << 20)  /* bytes */

static int
fn_repeat (struct tcall *c)
{
  int64_t n = c->args[0].i;
  const struct tv *s = &c->args[1];
  if (n < 0) return tcall_fail (c, "strings: negative Repeat count");
  if (s->len && n > 0) {
    /* Go's checks: wrapped product, then the allocator's limit (2^48) */
    int64_t prod = (int64_t) ((uint64_t) s->len * (uint64_t) n);
    if (prod / n != (int64_t) s->len)
      return tcall_fail (c, "strings: Repeat count causes overflow");
    if (prod < 0 || (uint64_t) prod > ((uint64_t) 1 << 48))
      return tcall_fail (c, "runtime error: makeslice: cap out of range");
  }
  if (s->len && (uint64_t) n > REPEAT_MAX / s->len)
    return tcall_fail (c, "strings: Repeat output too large (limit %zu bytes)", REPEAT_MAX);
  if (n == 0 || s->len == 0) return ret_slice (c, 1, 0, 0);
  struct tbuf b = {0};
  for (int64_t k = 0; k < n; k++) tbuf_add (&b, s->s, s->len);
  return ret_buf (c, &b);
}

/* substr START END S (byte offsets, Go slice bounds checks) */
static int
fn_substr (struct tcall *c)
{
  int64_t start = c->args[0].i, end = c->args[1].i;
  const struct tv *s = &c->args[2];
  int64_t len = (int64_t) s->len;
  if (start < 0) {
    if (end < 0)
      return tcall_fail (c, "runtime error: slice bounds out of range [:%" PRId64 "]", end);
    if (end > len)
      return tcall_fail (c, "runtime error: slice bounds out of range [:%" PRId64 "] with length %" PRId64, end, len);
    return ret_slice (c, 2, 0, (size_t) end);
  }
  if (end < 0 || end > len) {
    if (start > len)
      return tcall_fail (c, "runtime error: slice bounds out of range [%" PRId64 ":%" PRId64 "]", start, len);
    return ret_slice (c, 2, (size_t) start, (size_t) (len - start));
  }
  if (start > end)
    return tcall_fail (c, "runtime error: slice bounds out of range [%" PRId64 ":%" PRId64 "]", start, end);
  return ret_slice (c, 2, (size_t) start, (size_t) (end - start));
}

/* trunc N S (bytes; negative N keeps the tail) */
static int
fn_trunc (struct tcall *c)
{
  int64_t n = c->args[0].i;
  const struct tv *s = &c->args[1];
  int64_t len = (int64_t) s->len;
  if (n < 0 && len + n > 0) return ret_slice (c, 1, (size_t) (len + n), (size_t) -n);
  if (n >= 0 && len > n) return ret_slice (c, 1, 0, (size_t) n);
  return ret_slice (c, 1, 0, s->len);
}

/* regexp's quote: backquoted when possible. */
static void
re_quote (struct tbuf *q, const char *s, size_t n)
{
  bool bq = true;
  for (size_t k = 0, w; k < n; k += w) {
    uint32_t r = utf8_decode (s + k, n - k, &w);
    if (r == '`' || r == 0xFFFD || (r < ' ' && r != '\t') || r == 0x7F) { bq = false; break; }
  }
  if (bq) { tbuf_addc (q, '`'); tbuf_add (q, s, n); tbuf_addc (q, '`'); }
  else go_quote (q, s, n);
}

static int
regex_common (struct tcall *c, bool must)
{
  const struct tv *re = &c->args[0], *s = &c->args[1], *repl = &c->args[2];
  struct tbuf b = {0};
  CLEANUP_FREE char *err = NULL;
  if (go_regex_replace_all (re->s, re->len, s->s, s->len, repl->s, repl->len, &b, &err) < 0) {
    tbuf_free (&b);
    if (must) return tcall_fail (c, "%s", err ? err : "out of memory");
    CLEANUP_TBUF struct tbuf q = {0};
    re_quote (&q, re->s, re->len);
    return tcall_fail (c, "regexp: Compile(%s): %s", q.p ? q.p : "", err ? err : "out of memory");
  }
  if (!b.p) return ret_slice (c, 1, 0, 0);
  return ret_buf (c, &b);
}

static int fn_regex_replace_all (struct tcall *c) { return regex_common (c, false); }
static int fn_must_regex_replace_all (struct tcall *c) { return regex_common (c, true); }

#define S1 1, { A_STRING }
#define S2 2, { A_STRING, A_STRING }
#define S3 3, { A_STRING, A_STRING, A_STRING }
const struct tfunc tfuncs_strings[] = {
  { "lower", fn_lower, S1, false, 0, false },
  { "upper", fn_upper, S1, false, 0, false },
  { "title", fn_title, S1, false, 0, false },
  { "untitle", fn_untitle, S1, false, 0, false },
  { "trim", fn_trim, S1, false, 0, false },
  { "nospace", fn_nospace, S1, false, 0, false },
  { "initials", fn_initials, S1, false, 0, false },
  { "trimAll", fn_trim_all, S2, false, 0, false },
  { "trimall", fn_trim_all, S2, false, 0, false },
  { "trimSuffix", fn_trim_suffix, S2, false, 0, false },
  { "trimPrefix", fn_trim_prefix, S2, false, 0, false },
  { "hasPrefix", fn_has_prefix, S2, false, 0, false },
  { "hasSuffix", fn_has_suffix, S2, false, 0, false },
  { "contains", fn_contains, S2, false, 0, false },
  { "replace", fn_replace, S3, false, 0, false },
  { "repeat", fn_repeat, 2, { A_INT, A_STRING }, false, 0, false },
  { "substr", fn_substr, 3, { A_INT, A_INT, A_STRING }, false, 0, false },
  { "trunc", fn_trunc, 2, { A_INT, A_STRING }, false, 0, false },
  { "regexReplaceAll", fn_regex_replace_all, S3, false, 0, false },
  { "mustRegexReplaceAll", fn_must_regex_replace_all, S3, false, 0, false },
  { NULL, NULL, 0, { 0 }, false, 0, false },
};
