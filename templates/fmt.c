/* Go's fmt for the verbs name templates use: %v %s %d %q %x %X %o %c %t
 * %f %e %E %g %G %% with width, precision and the flags - + 0 space #.
 * Floats print like strconv's shortest representation.
 */
#include <config.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "template-internal.h"

/* strconv.Quote */
void
go_quote (struct tbuf *b, const char *s, size_t n)
{
  tbuf_addc (b, '"');
  size_t k = 0;
  while (k < n) {
    size_t w;
    uint32_t r = utf8_decode (s + k, n - k, &w);
    if (r == 0xFFFD && w == 1 && !(n - k >= 3 && memcmp (s + k, "\xEF\xBF\xBD", 3) == 0)) {
      tbuf_printf (b, "\\x%02x", (unsigned char) s[k]);
      k++;
      continue;
    }
    k += w;
    switch (r) {
    case '"': tbuf_adds (b, "\\\""); continue;
    case '\\': tbuf_adds (b, "\\\\"); continue;
    case '\a': tbuf_adds (b, "\\a"); continue;
    case '\b': tbuf_adds (b, "\\b"); continue;
    case '\f': tbuf_adds (b, "\\f"); continue;
    case '\n': tbuf_adds (b, "\\n"); continue;
    case '\r': tbuf_adds (b, "\\r"); continue;
    case '\t': tbuf_adds (b, "\\t"); continue;
    case '\v': tbuf_adds (b, "\\v"); continue;
    }
    if (uni_is_print (r)) { tbuf_add_rune (b, r); continue; }
    if (r < ' ' || r == 0x7F) tbuf_printf (b, "\\x%02x", r);
    else if (r < 0x10000) tbuf_printf (b, "\\u%04x", r);
    else tbuf_printf (b, "\\U%08x", r);
  }
  tbuf_addc (b, '"');
}

/* Shortest decimal digits that round-trip: digits in d, decimal point
 * position dp (value = 0.d * 10^dp).
 */
static void
shortest_digits (double f, char *d, int *nd, int *dp)
{
  char buf[64];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf (buf, sizeof buf, "%.*e", prec - 1, f);
    if (strtod (buf, NULL) == f || prec == 17) break;
  }
  /* buf = d.ddddde[+-]xx */
  int n = 0;
  char *p = buf;
  for (; *p && *p != 'e'; p++)
    if (*p >= '0' && *p <= '9') d[n++] = *p;
  int x = atoi (p + 1);
  while (n > 1 && d[n - 1] == '0') n--;
  d[n] = '\0';
  *nd = n;
  *dp = x + 1;
}

/* Format |f| (sign handled by caller) per Go 'e', 'f', 'g' with prec
 * (-1 = shortest).
 */
static void
fmt_abs_float (struct tbuf *b, double f, char verb, int prec, bool sharp)
{
  char buf[512];
  bool upper = verb == 'E' || verb == 'G';
  char lv = (char) (verb | 0x20);
  if (prec < 0) {
    char d[32];
    int nd, dp;
    if (f == 0) { strcpy (d, "0"); nd = 1; dp = 1; }
    else shortest_digits (f, d, &nd, &dp);
    if (lv == 'g') {
      int eprec = 6;
      if (eprec > nd && nd >= dp) eprec = nd;
      int exp = dp - 1;
      if (exp < -4 || exp >= eprec) lv = 'e', prec = nd - 1;
      else lv = 'f', prec = nd > dp ? nd - dp : 0;
      if (sharp) { /* not used by name templates */ }
    }
    else if (lv == 'e') prec = nd - 1;
    else prec = nd > dp ? nd - dp : 0;
    snprintf (buf, sizeof buf, lv == 'e' ? "%.*e" : "%.*f", prec, f);
  }
  else if (lv == 'g') {
    if (prec == 0) prec = 1;
    /* Go's %g with precision: like C's, but Go keeps no trailing zero
     * stripping difference for these cases. */
    snprintf (buf, sizeof buf, "%.*g", prec, f);
  }
  else
    snprintf (buf, sizeof buf, lv == 'e' ? "%.*e" : "%.*f", prec, f);
  if (upper) for (char *p = buf; *p; p++) if (*p == 'e') *p = 'E';
  tbuf_adds (b, buf);
}

void
go_format_float (struct tbuf *b, double f, char verb, int prec)
{
  if (isnan (f)) { tbuf_adds (b, "NaN"); return; }
  if (isinf (f)) { tbuf_adds (b, f > 0 ? "+Inf" : "-Inf"); return; }
  if (signbit (f)) { tbuf_addc (b, '-'); f = -f; }
  fmt_abs_float (b, f, verb == 'v' ? 'g' : verb, prec, false);
}

static void
print_list (struct tbuf *b, const struct tlist *l)
{
  tbuf_addc (b, '[');
  for (size_t k = 0; l && k < l->n; k++) {
    if (k) tbuf_addc (b, ' ');
    tbuf_add (b, l->items[k], l->lens[k]);
  }
  tbuf_addc (b, ']');
}

static void
print_data (struct tbuf *b, const struct ferry_template_data *d)
{
  tbuf_addc (b, '{');
  for (size_t k = 0; k < d->n; k++) {
    if (k) tbuf_addc (b, ' ');
    tv_print (b, &d->fields[k].v);
  }
  tbuf_addc (b, '}');
}

void
tv_print (struct tbuf *b, const struct tv *v)
{
  switch (v->type) {
  case TV_NONE: tbuf_adds (b, "<no value>"); return;
  case TV_NIL: tbuf_adds (b, "<nil>"); return;
  case TV_STRING: tbuf_add (b, v->s ? v->s : "", v->len); return;
  case TV_INT: case TV_INT64: case TV_UINT8: tbuf_printf (b, "%" PRId64, v->i); return;
  case TV_FLOAT: go_format_float (b, v->f, 'v', -1); return;
  case TV_BOOL: tbuf_adds (b, v->b ? "true" : "false"); return;
  case TV_LIST: print_list (b, v->list); return;
  case TV_DATA: print_data (b, v->data); return;
  }
}

/* fmt.Sprint / Sprintln */
void
go_sprint (struct tbuf *b, const struct tv *args, size_t nargs, bool ln)
{
  bool prev_string = false;
  for (size_t k = 0; k < nargs; k++) {
    bool is_string = args[k].type == TV_STRING;
    if (k > 0 && (ln || (!is_string && !prev_string))) tbuf_addc (b, ' ');
    if (args[k].type == TV_NONE) tbuf_adds (b, "<nil>");
    else tv_print (b, &args[k]);
    prev_string = is_string;
  }
  if (ln) tbuf_addc (b, '\n');
}

struct spec {
  bool minus, plus, zero, space, sharp;
  bool plus_v;                  /* %+v: field names in structs */
  int width, prec;              /* -1 = absent */
};

static size_t
rune_count (const char *s, size_t n)
{
  size_t c = 0, k = 0, w;
  while (k < n) { utf8_decode (s + k, n - k, &w); k += w; c++; }
  return c;
}

/* Pad S (already formatted) to the width. */
/* zero_ok: 0 never pad with zeros, 1 zeros on the left, 2 zeros after a
 * leading sign (numbers).
 */
static void
pad (struct tbuf *b, const struct spec *sp, const char *s, size_t n, int zero_ok)
{
  size_t rc = rune_count (s, n);
  size_t w = sp->width > 0 ? (size_t) sp->width : 0;
  if (rc >= w) { tbuf_add (b, s, n); return; }
  size_t fill = w - rc;
  if (sp->minus) {
    tbuf_add (b, s, n);
    for (size_t k = 0; k < fill; k++) tbuf_addc (b, ' ');
    return;
  }
  if (sp->zero && zero_ok) {
    /* zeros go after the sign */
    size_t k = 0;
    if (zero_ok == 2 && n > 0 && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) { tbuf_addc (b, s[0]); k = 1; }
    for (size_t z = 0; z < fill; z++) tbuf_addc (b, '0');
    tbuf_add (b, s + k, n - k);
    return;
  }
  for (size_t k = 0; k < fill; k++) tbuf_addc (b, ' ');
  tbuf_add (b, s, n);
}

static void
fmt_integer (struct tbuf *b, const struct spec *sp, int64_t v, bool is_unsigned, char verb)
{
  CLEANUP_TBUF struct tbuf t = {0};
  uint64_t u = is_unsigned ? (uint64_t) v : (v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v);
  bool neg = !is_unsigned && v < 0;
  char digits[80];
  int base = verb == 'x' || verb == 'X' ? 16 : verb == 'o' ? 8 : verb == 'b' ? 2 : 10;
  const char *dig = verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  int nd = 0;
  do { digits[nd++] = dig[u % (uint64_t) base]; u /= (uint64_t) base; } while (u);
  int prec = sp->prec;
  bool zero_pad = false;
  if (prec < 0 && sp->zero && !sp->minus && sp->width > 0) {
    /* Go pads with zeros as a precision, the sign (not 0x) excluded */
    prec = sp->width - ((neg || sp->plus || sp->space) ? 1 : 0);
    zero_pad = true;
  }
  if (sp->prec == 0 && v == 0) nd = 0;
  int zeros = prec > nd ? prec - nd : 0;
  if (neg) tbuf_addc (&t, '-');
  else if (sp->plus) tbuf_addc (&t, '+');
  else if (sp->space) tbuf_addc (&t, ' ');
  if (sp->sharp) {
    if (base == 16) tbuf_adds (&t, verb == 'X' ? "0X" : "0x");
    else if (base == 8 && !(nd > 0 && digits[nd - 1] == '0') && zeros == 0) tbuf_addc (&t, '0');
  }
  for (int k = 0; k < zeros; k++) tbuf_addc (&t, '0');
  for (int k = nd - 1; k >= 0; k--) tbuf_addc (&t, digits[k]);
  (void) zero_pad;
  pad (b, sp, t.p ? t.p : "", t.len, 0);
}

static void
fmt_string (struct tbuf *b, const struct spec *sp, const char *s, size_t n, char verb)
{
  CLEANUP_TBUF struct tbuf t = {0};
  if (sp->prec >= 0) {
    /* precision counts runes */
    size_t k = 0, c = 0, w;
    while (k < n && c < (size_t) sp->prec) { utf8_decode (s + k, n - k, &w); k += w; c++; }
    n = k;
  }
  switch (verb) {
  case 'q':
    if (sp->sharp && !memchr (s, '`', n)) { tbuf_addc (&t, '`'); tbuf_add (&t, s, n); tbuf_addc (&t, '`'); }
    else go_quote (&t, s, n);
    break;
  case 'x': case 'X': {
    const char *dig = verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    for (size_t k = 0; k < n; k++) {
      if (sp->space && k > 0) tbuf_addc (&t, ' ');
      if (sp->sharp && (k == 0 || sp->space)) tbuf_adds (&t, verb == 'X' ? "0X" : "0x");
      unsigned char c = (unsigned char) s[k];
      tbuf_addc (&t, dig[c >> 4]);
      tbuf_addc (&t, dig[c & 15]);
    }
    break;
  }
  default:
    tbuf_add (&t, s, n);
  }
  pad (b, sp, t.p ? t.p : "", t.len, 1);
}

/* Go's '#' for floats: keep a decimal point, and for %g/%x pad with
 * zeros to PREC significant digits (6 if unset).  T holds the number,
 * possibly with a leading sign.
 */
static void
sharpen (struct tbuf *t, char verb, int prec)
{
  if (!t->p || verb == 'b') return;
  int digits = 0;
  if (verb == 'g' || verb == 'G' || verb == 'x')   /* not 'X': as in Go */
    digits = prec < 0 ? 6 : prec;
  size_t start = (t->p[0] == '-' || t->p[0] == '+' || t->p[0] == ' ') ? 1 : 0;
  char tail[32] = "";
  bool point = false, nonzero = false;
  size_t n = t->len;
  for (size_t i = start; i < n; i++) {
    char c = t->p[i];
    if (c == '.') { point = true; continue; }
    if (c == 'p' || c == 'P' || ((c == 'e' || c == 'E') && verb != 'x' && verb != 'X')) {
      snprintf (tail, sizeof tail, "%s", t->p + i);
      t->len = i;
      break;
    }
    if (c != '0') nonzero = true;
    if (nonzero) digits--;
  }
  if (!point) {
    if (t->len - start == 1 && t->p[start] == '0') digits--;
    tbuf_addc (t, '.');
  }
  while (digits-- > 0) tbuf_addc (t, '0');
  tbuf_adds (t, tail);
}

static void
fmt_float (struct tbuf *b, const struct spec *sp, double f, char verb)
{
  CLEANUP_TBUF struct tbuf t = {0};
  int prec = sp->prec;
  if (verb == 'v') verb = 'g';
  if (prec < 0 && (verb == 'e' || verb == 'E' || verb == 'f' || verb == 'F')) prec = 6;
  if (verb == 'F') verb = 'f';
  if (verb == 'b' && isfinite (f)) {
    /* strconv 'b': mantissa "p" binary exponent */
    uint64_t bits;
    memcpy (&bits, &f, sizeof bits);
    uint64_t mant = bits & (((uint64_t) 1 << 52) - 1);
    int exp = (int) ((bits >> 52) & 0x7ff);
    if (exp == 0) exp++;
    else mant |= (uint64_t) 1 << 52;
    exp += -1023 - 52;
    if (signbit (f)) tbuf_addc (&t, '-');
    else if (sp->plus) tbuf_addc (&t, '+');
    else if (sp->space) tbuf_addc (&t, ' ');
    tbuf_printf (&t, "%" PRIu64 "p%c%d", mant, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    pad (b, sp, t.p, t.len, 2);
    return;
  }
  if ((verb == 'x' || verb == 'X') && isfinite (f)) {
    /* hex float: Go writes at least two exponent digits */
    char buf[128];
    if (prec >= 0) snprintf (buf, sizeof buf, "%+.*a", prec, f);
    else snprintf (buf, sizeof buf, "%+a", f);
    char *p = strchr (buf, 'p');
    if (p && (p[2] >= '0' && p[2] <= '9') && p[3] == '\0') { memmove (p + 3, p + 2, 2); p[2] = '0'; }
    if (verb == 'X') for (char *q = buf; *q; q++) if (*q >= 'a' && *q <= 'z') *q = (char) (*q - 32);
    char *out = buf;
    if (*out == '+' && !sp->plus) { out++; if (sp->space) *--out = ' '; }
    CLEANUP_TBUF struct tbuf sh = {0};
    if (sp->sharp) { tbuf_adds (&sh, out); sharpen (&sh, verb, prec); out = sh.p; }
    if (sp->zero && !sp->minus && sp->width > 0 && strlen (out) < (size_t) sp->width) {
      /* zeros after sign and 0x */
      size_t pre = (out[0] == '-' || out[0] == '+' || out[0] == ' ') ? 3 : 2;
      tbuf_add (&t, out, pre);
      for (size_t z = strlen (out); z < (size_t) sp->width; z++) tbuf_addc (&t, '0');
      tbuf_adds (&t, out + pre);
      tbuf_add (b, t.p, t.len);
      return;
    }
    struct spec s2 = *sp; s2.zero = false;
    pad (b, &s2, out, strlen (out), 0);
    return;
  }
  if (isnan (f)) {
    tbuf_adds (&t, sp->plus ? "+NaN" : sp->space ? " NaN" : "NaN");
    struct spec s2 = *sp; s2.zero = false;
    pad (b, &s2, t.p, t.len, 0);
    return;
  }
  if (isinf (f)) {
    if (f > 0) tbuf_adds (&t, sp->plus ? "+Inf" : sp->space ? " Inf" : "+Inf");
    else tbuf_adds (&t, "-Inf");
    if (f > 0 && !sp->plus && !sp->space) {
      /* Go prints +Inf for %v only with plus; plain %f gives "+Inf" too */
    }
    struct spec s2 = *sp; s2.zero = false;
    pad (b, &s2, t.p, t.len, 0);
    return;
  }
  if (signbit (f)) { tbuf_addc (&t, '-'); f = -f; }
  else if (sp->plus) tbuf_addc (&t, '+');
  else if (sp->space) tbuf_addc (&t, ' ');
  fmt_abs_float (&t, f, verb, prec, sp->sharp);
  if (sp->sharp) sharpen (&t, verb, prec);
  pad (b, sp, t.p, t.len, 2);
}

static void fmt_arg (struct tbuf *b, const struct spec *sp, const struct tv *v, char verb);

/* %!verb(type=value): Go prints the value with %v and the same flags. */
static void
bad_verb (struct tbuf *b, const struct spec *sp, char verb, const struct tv *v)
{
  tbuf_addc (b, '%');
  tbuf_addc (b, '!');
  tbuf_addc (b, verb);
  tbuf_addc (b, '(');
  if (v->type == TV_NIL || v->type == TV_NONE) tbuf_adds (b, "<nil>");
  else {
    tbuf_adds (b, tv_type_name (v));
    tbuf_addc (b, '=');
    fmt_arg (b, sp, v, 'v');
  }
  tbuf_addc (b, ')');
}

/* %#v: Go syntax. */
static void
fmt_sharp_v (struct tbuf *b, const struct spec *sp, const struct tv *v)
{
  struct spec s2 = *sp;
  s2.sharp = false;
  switch (v->type) {
  case TV_NONE: case TV_NIL: tbuf_adds (b, "<nil>"); return;
  case TV_STRING: fmt_string (b, &s2, v->s ? v->s : "", v->len, 'q'); return;
  case TV_UINT8: s2.sharp = true; fmt_integer (b, &s2, v->i, true, 'x'); return;
  case TV_LIST:
    tbuf_adds (b, "[]string{");
    for (size_t k = 0; v->list && k < v->list->n; k++) {
      if (k) tbuf_adds (b, ", ");
      fmt_string (b, &s2, v->list->items[k], v->list->lens[k], 'q');
    }
    tbuf_addc (b, '}');
    return;
  case TV_DATA:
    tbuf_adds (b, v->data->type_name);
    tbuf_addc (b, '{');
    for (size_t k = 0; k < v->data->n; k++) {
      if (k) tbuf_adds (b, ", ");
      tbuf_adds (b, v->data->fields[k].name);
      tbuf_addc (b, ':');
      fmt_sharp_v (b, sp, &v->data->fields[k].v);
    }
    tbuf_addc (b, '}');
    return;
  default:
    fmt_arg (b, &s2, v, 'v');
  }
}

static void
fmt_arg (struct tbuf *b, const struct spec *sp, const struct tv *v, char verb)
{
  if (verb == 'v' && sp->sharp) { fmt_sharp_v (b, sp, v); return; }
  switch (v->type) {
  case TV_NONE: case TV_NIL:
    if (verb == 'v') { pad (b, sp, "<nil>", 5, 1); return; }
    bad_verb (b, sp, verb, v);
    return;
  case TV_BOOL:
    if (verb == 't' || verb == 'v') { const char *s = v->b ? "true" : "false"; pad (b, sp, s, strlen (s), 1); return; }
    bad_verb (b, sp, verb, v);
    return;
  case TV_INT: case TV_INT64: case TV_UINT8:
    switch (verb) {
    case 'v': case 'd': fmt_integer (b, sp, v->i, v->type == TV_UINT8, 'd'); return;
    case 'x': case 'X': case 'o': case 'b': fmt_integer (b, sp, v->i, v->type == TV_UINT8, verb); return;
    case 'c': {
      CLEANUP_TBUF struct tbuf t = {0};
      tbuf_add_rune (&t, v->i < 0 || v->i > 0x10FFFF ? 0xFFFD : (uint32_t) v->i);
      pad (b, sp, t.p, t.len, 1);
      return;
    }
    case 'q': {
      CLEANUP_TBUF struct tbuf t = {0};
      CLEANUP_TBUF struct tbuf r = {0};
      uint32_t rr = v->i < 0 || v->i > 0x10FFFF ? 0xFFFD : (uint32_t) v->i;
      tbuf_add_rune (&r, rr);
      if (rr == '\'') tbuf_adds (&t, "'\\''");
      else if (rr == '"') tbuf_adds (&t, "'\"'");
      else {
        go_quote (&t, r.p, r.len);
        t.p[0] = '\''; t.p[t.len - 1] = '\'';
      }
      pad (b, sp, t.p, t.len, 1);
      return;
    }
    }
    bad_verb (b, sp, verb, v);
    return;
  case TV_FLOAT:
    switch (verb) {
    case 'v': case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'x': case 'X': case 'b':
      fmt_float (b, sp, v->f, verb);
      return;
    }
    bad_verb (b, sp, verb, v);
    return;
  case TV_STRING:
    switch (verb) {
    case 'v': case 's': case 'q': case 'x': case 'X':
      fmt_string (b, sp, v->s ? v->s : "", v->len, verb);
      return;
    }
    bad_verb (b, sp, verb, v);
    return;
  case TV_LIST:
    tbuf_addc (b, '[');
    for (size_t k = 0; v->list && k < v->list->n; k++) {
      if (k) tbuf_addc (b, ' ');
      struct tv e = { .type = TV_STRING, .s = v->list->items[k], .len = v->list->lens[k] };
      fmt_arg (b, sp, &e, verb);
    }
    tbuf_addc (b, ']');
    return;
  case TV_DATA:
    tbuf_addc (b, '{');
    for (size_t k = 0; k < v->data->n; k++) {
      if (k) tbuf_addc (b, ' ');
      if (sp->plus_v) { tbuf_adds (b, v->data->fields[k].name); tbuf_addc (b, ':'); }
      fmt_arg (b, sp, &v->data->fields[k].v, verb);
    }
    tbuf_addc (b, '}');
    return;
  }
}

/* Go's argNumber: "[n]" at fs[*k]; returns the new arg index. */
static size_t
arg_number (const char *fs, size_t n, size_t *k, size_t argi, size_t nargs, bool *good, bool *reordered, bool *after_index)
{
  *after_index = false;
  if (*k >= n || fs[*k] != '[') return argi;
  *reordered = true;
  size_t e = *k + 1;
  long v = 0;
  bool digits = false;
  while (e < n && fs[e] >= '0' && fs[e] <= '9') { if (v < 1000000) v = v * 10 + (fs[e] - '0'); e++; digits = true; }
  if (e < n && fs[e] == ']') {
    if (digits && v >= 1 && (size_t) v <= nargs + 1) {
      /* Go accepts any index here; it checks the range when used */
    }
    *k = e + 1;
    if (!digits || v < 1 || (size_t) v > nargs) { *good = false; return argi; }
    *after_index = true;
    return (size_t) (v - 1);
  }
  /* no closing bracket: bad index, skip to ']' or the end */
  *good = false;
  while (e < n && fs[e] != ']') e++;
  *k = e < n ? e + 1 : e;
  return argi;
}

/* int argument for '*' (Go's intFromArg); -1 in *ok if bad */
static bool
int_from_arg (const struct tv *args, size_t nargs, size_t *argi, int *out)
{
  if (*argi >= nargs) return false;
  const struct tv *a = &args[*argi];
  (*argi)++;
  if (a->type != TV_INT && a->type != TV_INT64 && a->type != TV_UINT8) return false;
  if (a->i > 1000000 || a->i < -1000000) return false;
  *out = (int) a->i;
  return true;
}

/* fmt.Sprintf */
void
go_sprintf (struct tbuf *b, const char *fs, size_t n, const struct tv *args, size_t nargs)
{
  size_t argi = 0;
  bool reordered = false;
  size_t k = 0;
  while (k < n) {
    bool good = true;
    if (fs[k] != '%') {
      size_t e = k;
      while (e < n && fs[e] != '%') e++;
      tbuf_add (b, fs + k, e - k);
      k = e;
      continue;
    }
    k++;
    struct spec sp = { .width = -1, .prec = -1 };
    for (; k < n; k++) {
      char c = fs[k];
      if (c == '-') { sp.minus = true; sp.zero = false; }
      else if (c == '+') sp.plus = true;
      else if (c == '0') sp.zero = !sp.minus;
      else if (c == ' ') sp.space = true;
      else if (c == '#') sp.sharp = true;
      else break;
    }
    bool after_index;
    argi = arg_number (fs, n, &k, argi, nargs, &good, &reordered, &after_index);
    if (k < n && fs[k] == '*') {
      k++;
      if (!int_from_arg (args, nargs, &argi, &sp.width)) { tbuf_adds (b, "%!(BADWIDTH)"); sp.width = -1; }
      else if (sp.width < 0) { sp.width = -sp.width; sp.minus = true; sp.zero = false; }
      after_index = false;
    }
    else if (k < n && fs[k] >= '0' && fs[k] <= '9') {
      sp.width = 0;
      while (k < n && fs[k] >= '0' && fs[k] <= '9') { if (sp.width < 1000000) sp.width = sp.width * 10 + (fs[k] - '0'); k++; }
      if (after_index) good = false;
    }
    if (k < n && fs[k] == '.') {
      k++;
      if (after_index) good = false;
      argi = arg_number (fs, n, &k, argi, nargs, &good, &reordered, &after_index);
      if (k < n && fs[k] == '*') {
        k++;
        if (!int_from_arg (args, nargs, &argi, &sp.prec)) { tbuf_adds (b, "%!(BADPREC)"); sp.prec = -1; }
        else if (sp.prec < 0) { sp.prec = -1; }
        after_index = false;
      }
      else {
        sp.prec = 0;
        while (k < n && fs[k] >= '0' && fs[k] <= '9') { if (sp.prec < 1000000) sp.prec = sp.prec * 10 + (fs[k] - '0'); k++; }
      }
    }
    if (!after_index)
      argi = arg_number (fs, n, &k, argi, nargs, &good, &reordered, &after_index);
    if (sp.width > 10000) sp.width = 10000;   /* bounded output; see README */
    if (sp.prec > 10000) sp.prec = 10000;
    if (k >= n) { tbuf_adds (b, "%!(NOVERB)"); break; }
    size_t w;
    uint32_t verb = utf8_decode (fs + k, n - k, &w);
    k += w;
    if (verb == '%') { tbuf_addc (b, '%'); continue; }
    if (!good) {
      tbuf_adds (b, "%!");
      tbuf_add_rune (b, verb);
      tbuf_adds (b, "(BADINDEX)");
      continue;
    }
    if (argi >= nargs) {
      tbuf_adds (b, "%!");
      tbuf_add_rune (b, verb);
      tbuf_adds (b, "(MISSING)");
      continue;
    }
    const struct tv *a = &args[argi++];
    if (verb == 'v' && sp.plus) { sp.plus = false; sp.plus_v = true; }
    if (verb == 'T') {
      const char *tn = a->type == TV_NIL || a->type == TV_NONE ? "<nil>" : tv_type_name (a);
      pad (b, &sp, tn, strlen (tn), 1);
      continue;
    }
    if (verb == 'U' && (a->type == TV_INT || a->type == TV_INT64 || a->type == TV_UINT8)) {
      CLEANUP_TBUF struct tbuf t = {0};
      uint64_t u = (uint64_t) a->i;
      tbuf_printf (&t, "U+%04" PRIX64, u);
      if (sp.sharp && u <= 0x10FFFF && uni_is_print ((uint32_t) u)) {
        tbuf_adds (&t, " '"); tbuf_add_rune (&t, (uint32_t) u); tbuf_addc (&t, '\'');
      }
      struct spec s2 = sp; s2.zero = false;
      pad (b, &s2, t.p, t.len, 0);
      continue;
    }
    if (verb > 0x7F || !strchr ("vsdqxXocbtfFeEgG", (int) verb)) {
      tbuf_adds (b, "%!");
      tbuf_add_rune (b, verb);
      tbuf_addc (b, '(');
      if (a->type == TV_NIL || a->type == TV_NONE) tbuf_adds (b, "<nil>");
      else { tbuf_adds (b, tv_type_name (a)); tbuf_addc (b, '='); tv_print (b, a); }
      tbuf_addc (b, ')');
      continue;
    }
    fmt_arg (b, &sp, a, (char) verb);
  }
  if (!reordered && argi < nargs) {
    tbuf_adds (b, "%!(EXTRA ");
    for (size_t j = argi; j < nargs; j++) {
      if (j > argi) tbuf_adds (b, ", ");
      if (args[j].type == TV_NIL || args[j].type == TV_NONE) tbuf_adds (b, "<nil>");
      else { tbuf_adds (b, tv_type_name (&args[j])); tbuf_addc (b, '='); tv_print (b, &args[j]); }
    }
    tbuf_addc (b, ')');
  }
}

/* Go's %s of a value, for messages. */
void
go_sprint_s (struct tbuf *b, const struct tv *v)
{
  struct spec sp = { .width = -1, .prec = -1 };
  fmt_arg (b, &sp, v, 's');
}
