/* Go's Regexp.ReplaceAllString on PCRE2.  Patterns are RE2 syntax; the
 * RE2-only subset is enforced by rejecting PCRE features RE2 lacks
 * (lookaround, backreferences, atomic groups, possessive quantifiers,
 * recursion).  See README.md for the remaining differences.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "template-internal.h"

/* NULL if RE uses nothing RE2 lacks, else the reason; *at and *len give
 * the offending fragment (as Go's message shows it).
 */
static const char *
re2_unsupported (const char *re, size_t n, size_t *at, size_t *len)
{
  bool in_class = false;
  for (size_t k = 0; k < n; k++) {
    char c = re[k];
    if (c == '\\') {
      if (k + 1 >= n) return NULL;           /* PCRE2 reports it */
      char e = re[k + 1];
      *at = k; *len = 2;
      if (!in_class && ((e >= '1' && e <= '9') || e == 'g' || e == 'k'))
        return "invalid escape sequence";
      if (e == 'Z' || e == 'R' || e == 'K' || e == 'X' || e == 'G' || e == 'h' || e == 'H' || e == 'V' || e == 'N')
        return "invalid escape sequence";
      k++;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '[') {
      in_class = true;
      if (k + 1 < n && re[k + 1] == '^') k++;
      if (k + 1 < n && re[k + 1] == ']') k++;
      continue;
    }
    if (c == '(' && k + 1 < n && re[k + 1] == '?') {
      *at = k; *len = k + 3 <= n ? 3 : n - k;
      if (k + 2 < n) {
        char d = re[k + 2];
        if (d == '=' || d == '!' || d == '>' || d == '|' || d == 'R' || d == '&' || d == '(' || d == '#' || (d >= '0' && d <= '9') || d == '+' || d == 'C')
          return "invalid or unsupported Perl syntax";
        if (d == '<' && k + 3 < n && (re[k + 3] == '=' || re[k + 3] == '!'))
          return "invalid or unsupported Perl syntax";
        if (d == 'P' && k + 3 < n && (re[k + 3] == '=' || re[k + 3] == '>'))
          return "invalid or unsupported Perl syntax";
      }
      continue;
    }
    if (c == '{') {
      /* RE2 caps repeat counts at 1000 */
      size_t e = k + 1;
      long a = -1, b = -1, cur = -1;
      bool comma = false, ok = true;
      for (; e < n && re[e] != '}'; e++) {
        if (re[e] >= '0' && re[e] <= '9') { cur = (cur < 0 ? 0 : cur) * 10 + (re[e] - '0'); if (cur > 100000) cur = 100000; }
        else if (re[e] == ',' && !comma) { comma = true; a = cur; cur = -1; }
        else { ok = false; break; }
      }
      if (ok && e < n) {
        if (comma) b = cur; else a = cur;
        if ((a > 1000 || b > 1000) && a >= 0) {
          *at = k; *len = e - k + 1;
          return "invalid repeat count";
        }
      }
    }
    if ((c == '*' || c == '+' || c == '?') && k + 1 < n && (re[k + 1] == '+' || re[k + 1] == '*')) {
      *at = k; *len = 2;
      return "invalid nested repetition operator";
    }
  }
  return NULL;
}

static bool
name_char (uint32_t r)
{
  return r == '_' || uni_is_letter (r) || uni_is_digit (r);
}

static void
add_group (struct tbuf *out, const char *src, const PCRE2_SIZE *ov, uint32_t ngroups, long g)
{
  if (g < 0 || (uint32_t) g >= ngroups) return;
  if (ov[2 * g] == PCRE2_UNSET) return;
  tbuf_add (out, src + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
}

/* Regexp.Expand for one match. */
static void
expand (struct tbuf *out, const pcre2_code *code, const char *tpl, size_t tn,
        const char *src, const PCRE2_SIZE *ov, uint32_t ngroups)
{
  size_t k = 0;
  while (k < tn) {
    const char *d = memchr (tpl + k, '$', tn - k);
    if (!d) break;
    size_t at = (size_t) (d - tpl);
    tbuf_add (out, tpl + k, at - k);
    k = at + 1;
    if (k < tn && tpl[k] == '$') { tbuf_addc (out, '$'); k++; continue; }
    /* extract */
    size_t p = k;
    bool brace = false;
    if (p < tn && tpl[p] == '{') { brace = true; p++; }
    size_t ns = p, w;
    while (p < tn) {
      uint32_t r = utf8_decode (tpl + p, tn - p, &w);
      if (!name_char (r)) break;
      p += w;
    }
    size_t nlen = p - ns;
    if (nlen == 0 || (brace && (p >= tn || tpl[p] != '}'))) { tbuf_addc (out, '$'); continue; }
    if (brace) p++;
    long num = 0;
    for (size_t i = 0; i < nlen; i++) {
      char c = tpl[ns + i];
      if (c < '0' || c > '9' || num >= 100000000) { num = -1; break; }
      num = num * 10 + (c - '0');
    }
    if (tpl[ns] == '0' && nlen > 1) num = -1;
    k = p;
    if (num >= 0) { add_group (out, src, ov, ngroups, num); continue; }
    uint32_t count = 0, esize = 0;
    PCRE2_SPTR table = NULL;
    pcre2_pattern_info (code, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info (code, PCRE2_INFO_NAMEENTRYSIZE, &esize);
    pcre2_pattern_info (code, PCRE2_INFO_NAMETABLE, &table);
    long best = -1;
    for (uint32_t e = 0; e < count; e++) {
      PCRE2_SPTR ent = table + (size_t) e * esize;
      long g = (ent[0] << 8) | ent[1];
      const char *name = (const char *) ent + 2;
      if (strlen (name) == nlen && memcmp (name, tpl + ns, nlen) == 0 && (best < 0 || g < best))
        best = g;
    }
    if (best >= 0) add_group (out, src, ov, ngroups, best);
  }
  tbuf_add (out, tpl + k, tn - k);
}

int
go_regex_replace_all (const char *re, size_t relen, const char *src, size_t srclen,
                      const char *repl, size_t repllen, struct tbuf *out, char **err)
{
  *err = NULL;
  size_t fat = 0, flen = 0;
  const char *why = re2_unsupported (re, relen, &fat, &flen);
  if (why) {
    if (asprintf (err, "error parsing regexp: %s: `%.*s`", why, (int) flen, re + fat) < 0) *err = NULL;
    return -1;
  }
  int ec;
  PCRE2_SIZE eo;
  pcre2_code *code = pcre2_compile ((PCRE2_SPTR) re, relen,
                                    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY,
                                    &ec, &eo, NULL);
  if (!code) {
    /* Go's wording for the common mistakes; PCRE2's otherwise */
    const char *lb;
    int r;
    switch (ec) {
    case 114:                   /* missing closing parenthesis */
      r = asprintf (err, "error parsing regexp: missing closing ): `%.*s`", (int) relen, re);
      break;
    case 106:                   /* missing terminating ] */
      lb = memchr (re, '[', relen);
      if (!lb) lb = re;
      r = asprintf (err, "error parsing regexp: missing closing ]: `%.*s`", (int) (relen - (size_t) (lb - re)), lb);
      break;
    case 101:                   /* \ at end of pattern */
      r = asprintf (err, "error parsing regexp: trailing backslash at end of expression: ``");
      break;
    case 104: {                 /* numbers out of order in {} */
      size_t e = eo <= relen ? eo : relen, b = e;
      while (b > 0 && re[b - 1] != '{') b--;
      if (b > 0) b--;
      while (e < relen && re[e - 1] != '}') e++;
      r = asprintf (err, "error parsing regexp: invalid repeat count: `%.*s`", (int) (e - b), re + b);
      break;
    }
    case 109: {                 /* quantifier does not follow a repeatable item */
      size_t b = eo > 0 ? eo - 1 : 0;
      r = asprintf (err, "error parsing regexp: %s: `%.*s`",
                    b > 0 && strchr ("*+?", re[b - 1]) ? "invalid nested repetition operator" : "missing argument to repetition operator",
                    (int) (b > 0 && strchr ("*+?", re[b - 1]) ? 2 : 1), re + (b > 0 && strchr ("*+?", re[b - 1]) ? b - 1 : b));
      break;
    }
    default: {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message (ec, msg, sizeof msg);
      r = asprintf (err, "error parsing regexp: %s at offset %zu: `%.*s`", (char *) msg, (size_t) eo, (int) relen, re);
    }
    }
    if (r < 0) *err = NULL;
    return -1;
  }
  pcre2_match_data *md = pcre2_match_data_create_from_pattern (code, NULL);
  if (!md) { pcre2_code_free (code); return -1; }
  uint32_t ngroups = pcre2_get_ovector_count (md);
  size_t last_end = 0, pos = 0;
  int rc = 0;
  bool any = false;
  while (pos <= srclen) {
    int m = pcre2_match (code, (PCRE2_SPTR) src, srclen, pos, 0, md, NULL);
    if (m == PCRE2_ERROR_NOMATCH) break;
    if (m < 0) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message (m, msg, sizeof msg);
      if (asprintf (err, "regexp: %s", (char *) msg) < 0) *err = NULL;
      rc = -1;
      break;
    }
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer (md);
    size_t a0 = ov[0], a1 = ov[1];
    if (a1 < a0) a1 = a0;        /* \K cannot happen (rejected) */
    tbuf_add (out, src + last_end, a0 > last_end ? a0 - last_end : 0);
    if (a1 > last_end || a0 == 0)
      expand (out, code, repl, repllen, src, ov, ngroups);
    last_end = a1;
    any = true;
    size_t w = 1;
    if (pos < srclen) utf8_decode (src + pos, srclen - pos, &w);
    if (pos + w > a1) pos += w;
    else if (pos + 1 > a1) pos++;
    else pos = a1;
  }
  (void) any;
  if (rc == 0) tbuf_add (out, src + last_end, srclen - last_end);
  pcre2_match_data_free (md);
  pcre2_code_free (code);
  if (rc == 0 && out->oom) { *err = strdup ("out of memory"); rc = -1; }
  return rc;
}
