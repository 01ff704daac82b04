/* ferry core: openAPIV3Schema validation, as the Kubernetes API server
 * applies a CRD's structural schema: prune unknown fields, drop nulls that
 * are not nullable, then validate.  Messages say what was found and what
 * is allowed.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "internal.h"
#include "schema.h"
#include "yaml.h"

/* ---- the compiled-in CRDs ------------------------------------------- */

static pthread_once_t schemas_once = PTHREAD_ONCE_INIT;
static json_t *schemas;                 /* kind -> CRD document; never freed */

static void
load_schemas (void)
{
  schemas = json_object ();
  for (size_t i = 0; ferry_internal_schema_sources[i].name; ++i) {
    json_error_t err;
    json_t *doc = json_loads (ferry_internal_schema_sources[i].json, 0, &err);
    const char *kind = json_string_value (json_object_get (doc, "kind"));
    if (!doc || !kind) {
      /* A build problem, not a user problem: gen-schemas.sh output. */
      ferry_warn ("compiled-in schema %s is broken: %s",
                  ferry_internal_schema_sources[i].name, err.text);
      json_decref (doc);
      continue;
    }
    json_object_set_new (schemas, kind, doc);
  }
}

const json_t *
ferry_internal_schema_get0 (const char *kind)
{
  pthread_once (&schemas_once, load_schemas);
  return kind ? json_object_get (schemas, kind) : NULL;
}

/* ---- formats ------------------------------------------------------- */

static bool
digits (const char *s, int n, int *v)
{
  *v = 0;
  for (int i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    *v = *v * 10 + (s[i] - '0');
  }
  return true;
}

static bool
is_date_time (const char *s, bool need_offset)
{
  int y, mo, d, h, mi, sec, oh, om;
  static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

  if (strlen (s) < 19)
    return false;
  if (!digits (s, 4, &y) || s[4] != '-' || !digits (s + 5, 2, &mo) ||
      s[7] != '-' || !digits (s + 8, 2, &d) ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits (s + 11, 2, &h) || s[13] != ':' || !digits (s + 14, 2, &mi) ||
      s[16] != ':' || !digits (s + 17, 2, &sec))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
      sec > 60)
    return false;
  if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
    return false;
  s += 19;
  if (*s == '.') {
    s++;
    if (*s < '0' || *s > '9')
      return false;
    while (*s >= '0' && *s <= '9')
      s++;
  }
  if (*s == '\0')
    return !need_offset;
  if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
    return true;
  if (*s != '+' && *s != '-')
    return false;
  s++;
  if (!digits (s, 2, &oh) || oh > 23)
    return false;
  s += 2;
  if (*s == ':')
    s++;
  if (!digits (s, 2, &om) || om > 59)
    return false;
  return s[2] == '\0';
}

bool
ferry_internal_is_rfc3339 (const char *s)
{
  return s && is_date_time (s, true);
}

bool
ferry_internal_is_date_time (const char *s)
{
  return s && is_date_time (s, false);
}

static bool
is_base64 (const char *s, size_t n)
{
  size_t pad = 0;

  if (n % 4 != 0)
    return false;
  for (size_t i = 0; i < n; ++i) {
    char c = s[i];
    if (c == '=') {
      if (i < n - 2)
        return false;
      pad++;
    }
    else if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '+' || c == '/'))
      return false;
  }
  return true;
}

static size_t
utf8_chars (const char *s, size_t n)
{
  size_t c = 0;
  for (size_t i = 0; i < n; ++i)
    if (((unsigned char) s[i] & 0xc0) != 0x80)
      c++;
  return c;
}

/* ---- the validator ------------------------------------------------- */

struct ctx {
  const char *what;                     /* "Plan", or "" */
  ferry_schema_report_fn fn;
  void *opaque;
  int errors;
};

static void report (struct ctx *c, bool is_error, const char *path,
                    const char *fs, ...) FERRY_PRINTF (4, 5);

static void
report (struct ctx *c, bool is_error, const char *path, const char *fs, ...)
{
  va_list ap;
  char *msg = NULL;
  int r;

  va_start (ap, fs);
  r = vasprintf (&msg, fs, ap);
  va_end (ap);
  if (is_error)
    c->errors++;
  if (c->fn)
    c->fn (c->opaque, is_error, path, r < 0 ? "(out of memory)" : msg);
  free (msg);
}

/* "string \"abc\"", "integer 5", "a mapping", ...: for messages. */
static void
describe (const json_t *v, char *buf, size_t n)
{
  switch (json_typeof (v)) {
  case JSON_STRING: {
    const char *s = json_string_value (v);
    size_t len = json_string_length (v);
    if (len > 40)
      snprintf (buf, n, "string \"%.40s...\"", s);
    else
      snprintf (buf, n, "string \"%s\"", s);
    break;
  }
  case JSON_INTEGER:
    snprintf (buf, n, "integer %" JSON_INTEGER_FORMAT, json_integer_value (v));
    break;
  case JSON_REAL:
    snprintf (buf, n, "number %g", json_real_value (v));
    break;
  case JSON_TRUE: snprintf (buf, n, "boolean true"); break;
  case JSON_FALSE: snprintf (buf, n, "boolean false"); break;
  case JSON_NULL: snprintf (buf, n, "null"); break;
  case JSON_OBJECT: snprintf (buf, n, "a mapping"); break;
  case JSON_ARRAY: snprintf (buf, n, "a list"); break;
  }
}

static const char *
type_words (const char *type)
{
  if (strcmp (type, "object") == 0) return "a mapping (object)";
  if (strcmp (type, "array") == 0) return "a list (array)";
  if (strcmp (type, "integer") == 0) return "an integer";
  if (strcmp (type, "number") == 0) return "a number";
  if (strcmp (type, "boolean") == 0) return "a boolean (true or false)";
  if (strcmp (type, "string") == 0) return "a string";
  return type;
}

static bool
flag (const json_t *s, const char *name)
{
  return json_is_true (json_object_get (s, name));
}

/* Integral and within int64 (without libm). */
static bool
is_int64_value (double d)
{
  return d > -9.2e18 && d < 9.2e18 && (double) (int64_t) d == d;
}

/* Every double this large is integral; none of them fits in int64. */
static bool
is_huge_integral (double d)
{
  return d <= -9.2e18 || d >= 9.2e18;
}

static int validate (struct ctx *c, const json_t *s, json_t *v,
                     const char *path, json_t **replace);

/* Children of an object: prune unknowns and non-nullable nulls, recurse. */
static void
validate_members (struct ctx *c, const json_t *s, json_t *v, const char *path)
{
  const json_t *props = json_object_get (s, "properties");
  const json_t *addl = json_object_get (s, "additionalProperties");
  bool preserve = flag (s, "x-kubernetes-preserve-unknown-fields");
  const char *k;
  json_t *m;
  void *tmp;

  json_object_foreach_safe (v, tmp, k, m) {
    CLEANUP_FREE char *p = ferry_internal_yaml_path_key (path, k);
    const json_t *ms = json_object_get (props, k);
    json_t *replace = NULL;

    if (!ms && json_is_object (addl))
      ms = addl;
    if (!ms) {
      if (preserve || json_is_true (addl))
        continue;
      report (c, false, p ? p : path,
              "unknown field \"%s\" (not in the %s%sschema): dropped, as "
              "Kubernetes prunes unknown fields", k, c->what,
              *c->what ? " " : "");
      json_object_del (v, k);
      continue;
    }
    if (json_is_null (m) && !flag (ms, "nullable")) {
      report (c, false, p ? p : path,
              "null value dropped (the field is not nullable), as "
              "Kubernetes does");
      json_object_del (v, k);
      continue;
    }
    validate (c, ms, m, p ? p : path, &replace);
    if (replace)
      json_object_set_new (v, k, replace);
  }

  /* Defaults of absent fields, as the API server applies them (after
   * pruning; a default is trusted to be valid, as Kubernetes requires).
   */
  json_object_foreach ((json_t *) props, k, m) {
    const json_t *def = json_object_get (m, "default");
    if (def && !json_object_get (v, k))
      json_object_set_new (v, k, json_deep_copy (def));
  }
}

static int
validate (struct ctx *c, const json_t *s, json_t *v, const char *path,
          json_t **replace)
{
  const char *type = json_string_value (json_object_get (s, "type"));
  const char *format = json_string_value (json_object_get (s, "format"));
  const json_t *e;
  char got[80];
  int before = c->errors;

  *replace = NULL;
  if (json_is_null (v)) {
    if (flag (s, "nullable"))
      return 0;
    report (c, true, path, "must not be null");
    return c->errors - before;
  }
  describe (v, got, sizeof got);

  if (flag (s, "x-kubernetes-int-or-string")) {
    if (json_is_real (v) && is_int64_value (json_real_value (v)))
      ;                                 /* yaml.c already made it an integer */
    else if (!json_is_integer (v) && !json_is_string (v)) {
      report (c, true, path, "expected an integer or a string, got %s", got);
      return c->errors - before;
    }
  }
  else if (type) {
    bool ok;
    if (strcmp (type, "object") == 0) ok = json_is_object (v);
    else if (strcmp (type, "array") == 0) ok = json_is_array (v);
    else if (strcmp (type, "string") == 0) ok = json_is_string (v);
    else if (strcmp (type, "boolean") == 0) ok = json_is_boolean (v);
    else if (strcmp (type, "number") == 0) ok = json_is_number (v);
    else if (strcmp (type, "integer") == 0) {
      ok = json_is_integer (v);
      if (!ok && json_is_real (v)) {
        double d = json_real_value (v);
        if (is_int64_value (d)) {
          *replace = json_integer ((json_int_t) d);
          v = *replace;
          ok = true;
        }
        else if (is_huge_integral (d)) {
          report (c, true, path, "%s is out of range for int64 (integers "
                  "are at most 9223372036854775807)", got);
          return c->errors - before;
        }
      }
    }
    else ok = true;
    if (!ok) {
      const char *hint = "";
      if (strcmp (type, "string") == 0 &&
          (json_is_boolean (v) || json_is_number (v)))
        hint = " (quote it to make it a string)";
      else if (strcmp (type, "boolean") == 0 && json_is_string (v))
        hint = " (write true or false without quotes)";
      else if (strcmp (type, "integer") == 0 && json_is_string (v))
        hint = " (write the number without quotes)";
      report (c, true, path, "expected %s, got %s%s",
              type_words (type), got, hint);
      return c->errors - before;
    }
  }

  if ((e = json_object_get (s, "enum")) && json_is_array (e)) {
    size_t i;
    json_t *x;
    bool found = false;
    json_array_foreach (e, i, x)
      if (json_equal (x, v))
        found = true;
    if (!found) {
      CLEANUP_FREE char *allowed = json_dumps (e, JSON_COMPACT);
      report (c, true, path, "unsupported value: %s; must be one of %s",
              got, allowed ? allowed : "the schema's enum");
    }
  }

  if (json_is_string (v)) {
    const char *str = json_string_value (v);
    size_t len = json_string_length (v);
    size_t chars = utf8_chars (str, len);
    const json_t *n;
    if ((n = json_object_get (s, "maxLength")) && json_is_integer (n) &&
        (json_int_t) chars > json_integer_value (n))
      report (c, true, path, "is %zu characters long; at most %"
              JSON_INTEGER_FORMAT " are allowed", chars,
              json_integer_value (n));
    if ((n = json_object_get (s, "minLength")) && json_is_integer (n) &&
        (json_int_t) chars < json_integer_value (n))
      report (c, true, path, "is %zu characters long; at least %"
              JSON_INTEGER_FORMAT " are required", chars,
              json_integer_value (n));
    if (format && strcmp (format, "date-time") == 0 &&
        !is_date_time (str, false))
      report (c, true, path, "%s is not a date-time; use RFC 3339, for "
              "example 2024-04-04T01:23:45Z or 2024-04-04T01:23:45+09:00",
              got);
    if (format && strcmp (format, "byte") == 0 && !is_base64 (str, len))
      report (c, true, path, "%s is not valid base64", got);
    if ((n = json_object_get (s, "pattern")) && json_is_string (n)) {
      int errcode;
      PCRE2_SIZE erroff;
      pcre2_code *re = pcre2_compile ((PCRE2_SPTR) json_string_value (n),
                                      PCRE2_ZERO_TERMINATED, PCRE2_UTF,
                                      &errcode, &erroff, NULL);
      if (re) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern (re, NULL);
        int r = md ? pcre2_match (re, (PCRE2_SPTR) str, len, 0, 0, md, NULL)
                   : 0;
        if (r < 0)
          report (c, true, path, "%s does not match the pattern %s", got,
                  json_string_value (n));
        pcre2_match_data_free (md);
        pcre2_code_free (re);
      }
      else
        ferry_debug ("schema pattern %s does not compile; not checked",
                     json_string_value (n));
    }
  }

  if (json_is_number (v)) {
    double d = json_number_value (v);
    const json_t *n;
    if ((n = json_object_get (s, "minimum")) && json_is_number (n)) {
      double m = json_number_value (n);
      if (flag (s, "exclusiveMinimum") ? d <= m : d < m)
        report (c, true, path, "%s is %s the minimum %g", got,
                flag (s, "exclusiveMinimum") ? "not greater than" :
                "less than", m);
    }
    if ((n = json_object_get (s, "maximum")) && json_is_number (n)) {
      double m = json_number_value (n);
      if (flag (s, "exclusiveMaximum") ? d >= m : d > m)
        report (c, true, path, "%s is %s the maximum %g", got,
                flag (s, "exclusiveMaximum") ? "not less than" :
                "greater than", m);
    }
    if (format && strcmp (format, "int32") == 0 && json_is_integer (v) &&
        (json_integer_value (v) < INT32_MIN ||
         json_integer_value (v) > INT32_MAX))
      report (c, true, path, "%s is out of range for int32 "
              "(-2147483648 to 2147483647)", got);
    /* int64: yaml.c turns integers beyond int64 into reals. */
    if (format && strcmp (format, "int64") == 0 && json_is_real (v) &&
        (d >= 9223372036854775808.0 || d < -9223372036854775808.0))
      report (c, true, path, "%s is out of range for int64", got);
  }

  if (json_is_array (v)) {
    const json_t *items = json_object_get (s, "items");
    const json_t *n;
    size_t i, size = json_array_size (v);
    json_t *x;
    if ((n = json_object_get (s, "minItems")) && json_is_integer (n) &&
        (json_int_t) size < json_integer_value (n))
      report (c, true, path, "has %zu items; at least %" JSON_INTEGER_FORMAT
              " are required", size, json_integer_value (n));
    if ((n = json_object_get (s, "maxItems")) && json_is_integer (n) &&
        (json_int_t) size > json_integer_value (n))
      report (c, true, path, "has %zu items; at most %" JSON_INTEGER_FORMAT
              " are allowed", size, json_integer_value (n));
    if (json_is_object (items)) {
      json_array_foreach (v, i, x) {
        CLEANUP_FREE char *p = ferry_internal_yaml_path_index (path, i);
        json_t *r = NULL;
        validate (c, items, x, p ? p : path, &r);
        if (r)
          json_array_set_new (v, i, r);
      }
    }
  }

  if (json_is_object (v)) {
    const json_t *req = json_object_get (s, "required");
    const json_t *n;
    size_t i, size;
    json_t *x;

    validate_members (c, s, v, path);
    size = json_object_size (v);
    json_array_foreach (req, i, x) {
      if (json_is_string (x) && !json_object_get (v, json_string_value (x)))
        report (c, true, path, "missing required field \"%s\"",
                json_string_value (x));
    }
    if ((n = json_object_get (s, "minProperties")) && json_is_integer (n) &&
        (json_int_t) size < json_integer_value (n))
      report (c, true, path, "has %zu fields; at least %" JSON_INTEGER_FORMAT
              " are required", size, json_integer_value (n));
    if ((n = json_object_get (s, "maxProperties")) && json_is_integer (n) &&
        (json_int_t) size > json_integer_value (n))
      report (c, true, path, "has %zu fields; at most %" JSON_INTEGER_FORMAT
              " are allowed", size, json_integer_value (n));
  }
  return c->errors - before;
}

int
ferry_internal_schema_validate (const json_t *schema, json_t *value,
                                const char *path, const char *what,
                                ferry_schema_report_fn fn, void *opaque)
{
  struct ctx c = { .what = what ? what : "", .fn = fn, .opaque = opaque };
  json_t *replace = NULL;

  validate (&c, schema, value, path ? path : "", &replace);
  /* A replaced root (an integral real) cannot be handed back; roots are
   * objects in practice.
   */
  json_decref (replace);
  return c.errors;
}
