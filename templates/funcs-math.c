/* Sprig's integer and float arithmetic with spf13/cast's coercions:
 * strings parse as Go integer literals (base prefixes, "12.00" -> 12),
 * unparsable values become 0, float -> int truncates (out of range gives
 * math.MinInt64 as on amd64), integer overflow wraps.
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "template-internal.h"

static int64_t
float_to_int64 (double f)
{
  if (isnan (f) || f >= 9223372036854775808.0 || f < -9223372036854775808.0)
    return INT64_MIN;
  return (int64_t) f;
}

/* strconv.ParseInt(s, 0, 64) */
static bool
parse_go_int (const char *s, size_t n, int64_t *out)
{
  size_t i = 0;
  bool neg = false;
  if (n == 0) return false;
  if (s[0] == '+' || s[0] == '-') { neg = s[0] == '-'; i = 1; }
  if (i >= n) return false;
  int base = 10;
  size_t digits_start = i;
  if (s[i] == '0' && n - i > 1) {
    char c = s[i + 1] | 0x20;
    if (c == 'x') { base = 16; i += 2; }
    else if (c == 'o') { base = 8; i += 2; }
    else if (c == 'b') { base = 2; i += 2; }
    else { base = 8; i += 1; }
    digits_start = i;
    if (base != 8 && i >= n) return false;
  }
  uint64_t v = 0;
  bool any = base == 8 && digits_start > 0 && s[digits_start - 1] == '0';
  char saw = base != 10 ? '0' : '^';
  for (; i < n; i++) {
    char c = s[i];
    int d;
    if (c == '_') { if (saw != '0') return false; saw = '_'; continue; }
    if (c >= '0' && c <= '9') d = c - '0';
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') d = (c | 0x20) - 'a' + 10;
    else return false;
    if (d >= base) return false;
    if (v > (UINT64_MAX - (uint64_t) d) / (uint64_t) base) return false;
    v = v * (uint64_t) base + (uint64_t) d;
    any = true;
    saw = '0';
  }
  if (!any || saw == '_') return false;
  if (neg) {
    if (v > (uint64_t) INT64_MAX + 1) return false;
    *out = (int64_t) (0 - v);
  }
  else {
    if (v > (uint64_t) INT64_MAX) return false;
    *out = (int64_t) v;
  }
  return true;
}

int64_t
cast_to_int64 (const struct tv *v)
{
  switch (v->type) {
  case TV_INT: case TV_INT64: case TV_UINT8: return v->i;
  case TV_FLOAT: return float_to_int64 (v->f);
  case TV_BOOL: return v->b ? 1 : 0;
  case TV_STRING: {
    /* cast's trimZeroDecimal: "12.000" -> "12" */
    size_t n = v->len;
    bool zero = false;
    for (size_t k = n; k > 0; k--) {
      char c = v->s[k - 1];
      if (c == '.') { if (zero) n = k - 1; break; }
      if (c == '0') zero = true;
      else break;
    }
    int64_t r;
    return parse_go_int (v->s, n, &r) ? r : 0;
  }
  default: return 0;
  }
}

double
cast_to_float64 (const struct tv *v)
{
  switch (v->type) {
  case TV_INT: case TV_INT64: case TV_UINT8: return (double) v->i;
  case TV_FLOAT: return v->f;
  case TV_BOOL: return v->b ? 1 : 0;
  case TV_STRING: {
    char buf[128];
    if (v->len == 0 || v->len >= sizeof buf) return 0;
    size_t k = 0;
    for (size_t i = 0; i < v->len; i++) {
      char c = v->s[i];
      if (c == '_') continue;
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '\0') return 0;
      buf[k++] = c;
    }
    buf[k] = '\0';
    if (memchr (v->s, '_', v->len)) {
      /* underscores only between digits (Go literal rules) */
      for (size_t i = 0; i < v->len; i++)
        if (v->s[i] == '_' && (i == 0 || i + 1 >= v->len
                               || !((v->s[i - 1] >= '0' && v->s[i - 1] <= '9') || (v->s[i - 1] | 0x20) == 'x')
                               || !(v->s[i + 1] >= '0' && v->s[i + 1] <= '9')))
          return 0;
    }
    char *end;
    errno = 0;
    double f = strtod (buf, &end);
    if (*end || end == buf) return 0;
    if (errno == ERANGE && isinf (f)) return 0;
    /* strtod takes "infinity"/"nan(...)" forms Go rejects partly; accept
     * inf, +inf, -inf, infinity, nan like ParseFloat */
    if ((buf[0] == 'n' || buf[0] == 'N') && strlen (buf) != 3) return 0;
    if ((buf[0] == '0' && (buf[1] | 0x20) == 'x') && !strpbrk (buf, "pP")) return 0;
    return f;
  }
  default: return 0;
  }
}

static int
ret_i64 (struct tcall *c, int64_t v)
{
  *c->ret = (struct tv) { .type = TV_INT64, .i = v };
  return 0;
}

static int
ret_f64 (struct tcall *c, double v)
{
  *c->ret = (struct tv) { .type = TV_FLOAT, .f = v };
  return 0;
}

static int64_t wrap_add (int64_t a, int64_t b) { return (int64_t) ((uint64_t) a + (uint64_t) b); }
static int64_t wrap_mul (int64_t a, int64_t b) { return (int64_t) ((uint64_t) a * (uint64_t) b); }

static int
fn_add (struct tcall *c)
{
  int64_t a = 0;
  for (size_t k = 0; k < c->nargs; k++) a = wrap_add (a, cast_to_int64 (&c->args[k]));
  return ret_i64 (c, a);
}

static int fn_add1 (struct tcall *c) { return ret_i64 (c, wrap_add (cast_to_int64 (&c->args[0]), 1)); }

static int
fn_sub (struct tcall *c)
{
  return ret_i64 (c, (int64_t) ((uint64_t) cast_to_int64 (&c->args[0]) - (uint64_t) cast_to_int64 (&c->args[1])));
}

static int
fn_div (struct tcall *c)
{
  int64_t a = cast_to_int64 (&c->args[0]), b = cast_to_int64 (&c->args[1]);
  if (b == 0) return tcall_fail (c, "runtime error: integer divide by zero");
  if (a == INT64_MIN && b == -1) return ret_i64 (c, INT64_MIN);
  return ret_i64 (c, a / b);
}

static int
fn_mod (struct tcall *c)
{
  int64_t a = cast_to_int64 (&c->args[0]), b = cast_to_int64 (&c->args[1]);
  if (b == 0) return tcall_fail (c, "runtime error: integer divide by zero");
  if (b == -1) return ret_i64 (c, 0);
  return ret_i64 (c, a % b);
}

static int
fn_mul (struct tcall *c)
{
  int64_t a = cast_to_int64 (&c->args[0]);
  for (size_t k = 1; k < c->nargs; k++) a = wrap_mul (a, cast_to_int64 (&c->args[k]));
  return ret_i64 (c, a);
}

static int
fn_max (struct tcall *c)
{
  int64_t a = cast_to_int64 (&c->args[0]);
  for (size_t k = 1; k < c->nargs; k++) { int64_t b = cast_to_int64 (&c->args[k]); if (b > a) a = b; }
  return ret_i64 (c, a);
}

static int
fn_min (struct tcall *c)
{
  int64_t a = cast_to_int64 (&c->args[0]);
  for (size_t k = 1; k < c->nargs; k++) { int64_t b = cast_to_int64 (&c->args[k]); if (b < a) a = b; }
  return ret_i64 (c, a);
}

static int fn_floor (struct tcall *c) { return ret_f64 (c, floor (cast_to_float64 (&c->args[0]))); }
static int fn_ceil (struct tcall *c) { return ret_f64 (c, ceil (cast_to_float64 (&c->args[0]))); }

/* Sprig's round: round half up (away from zero only for positives) */
static int
fn_round (struct tcall *c)
{
  double round_on = c->nargs > 2 ? c->args[2].f : 0.5;
  double val = cast_to_float64 (&c->args[0]);
  double places = (double) c->args[1].i;
  double p = pow (10, places);
  double digit = p * val;
  double ip;
  double frac = modf (digit, &ip);
  double r = frac >= round_on ? ceil (digit) : floor (digit);
  return ret_f64 (c, r / p);
}

const struct tfunc tfuncs_math[] = {
  { "add", fn_add, 0, { 0 }, true, A_ANY, false },
  { "add1", fn_add1, 1, { A_ANY }, false, 0, false },
  { "sub", fn_sub, 2, { A_ANY, A_ANY }, false, 0, false },
  { "div", fn_div, 2, { A_ANY, A_ANY }, false, 0, false },
  { "mod", fn_mod, 2, { A_ANY, A_ANY }, false, 0, false },
  { "mul", fn_mul, 1, { A_ANY }, true, A_ANY, false },
  { "max", fn_max, 1, { A_ANY }, true, A_ANY, false },
  { "min", fn_min, 1, { A_ANY }, true, A_ANY, false },
  { "floor", fn_floor, 1, { A_ANY }, false, 0, false },
  { "ceil", fn_ceil, 1, { A_ANY }, false, 0, false },
  { "round", fn_round, 2, { A_ANY, A_INT }, true, A_FLOAT, false },
  { NULL, NULL, 0, { 0 }, false, 0, false },
};
