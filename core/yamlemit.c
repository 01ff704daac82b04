/* ferry core: JSON -> block YAML (ferry_to_yaml).
 *
 * Written by hand rather than through libyaml's emitter so that the quoting
 * decision uses exactly the resolver the parser uses: a string is written
 * plain only if reading it back plain gives the same string.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "yaml.h"

struct out {
  char *buf;
  size_t len, cap;
  bool failed;
};

static void
put (struct out *o, const char *s, size_t n)
{
  if (o->failed)
    return;
  if (o->len + n + 1 > o->cap) {
    size_t cap = o->cap ? o->cap : 256;
    char *b;
    while (o->len + n + 1 > cap)
      cap *= 2;
    b = realloc (o->buf, cap);
    if (!b) {
      o->failed = true;
      return;
    }
    o->buf = b;
    o->cap = cap;
  }
  memcpy (o->buf + o->len, s, n);
  o->len += n;
  o->buf[o->len] = '\0';
}

static void
puts_ (struct out *o, const char *s)
{
  put (o, s, strlen (s));
}

static void
indent (struct out *o, size_t n)
{
  for (size_t i = 0; i < n; ++i)
    put (o, " ", 1);
}

/* Can s be written as a plain scalar and read back as the same string? */
static bool
plain_ok (const char *s, size_t n)
{
  json_t *v;
  bool same;

  if (n == 0)
    return false;
  if (strchr ("-?:,[]{}#&*!|>'\"%@` \t", s[0]))
    return false;
  if (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == ':')
    return false;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = s[i];
    if (c < 0x20 || c == 0x7f)
      return false;
    if (c == ':' && i + 1 < n && (s[i + 1] == ' ' || s[i + 1] == '\t'))
      return false;
    if (c == '#' && i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
      return false;
    /* Keep the emitter clear of BOMs and other Unicode line breaks. */
    if (c == 0xef || c == 0xc2 || c == 0xe2)
      return false;
  }
  /* YAML 1.1 readers (PyYAML, older Go ones) take 00:50:56:00:00:2a or
   * 1:20 as base-60 numbers; quote digits-and-colons for them too.
   */
  if ((s[0] >= '0' && s[0] <= '9') && memchr (s, ':', n))
    return false;
  v = ferry_internal_yaml_resolve_plain (s, n);
  same = v && json_is_string (v);
  json_decref (v);
  return same;
}

/* Code points YAML readers treat as line breaks, BOMs or non-printable:
 * C1 controls (NEL among them), LS, PS, U+FEFF, U+FFFE, U+FFFF.  Returns the
 * code point at s (n bytes left) and its length in *len if it is one.
 */
static unsigned
awkward_code_point (const unsigned char *s, size_t n, size_t *len)
{
  if (n >= 2 && s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
    *len = 2;
    return s[1];
  }
  if (n >= 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9)) {
    *len = 3;
    return 0x2000 | (s[2] - 0x80);
  }
  if (n >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) {
    *len = 3;
    return 0xfeff;
  }
  if (n >= 3 && s[0] == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf)) {
    *len = 3;
    return s[2] == 0xbe ? 0xfffe : 0xffff;
  }
  return 0;
}

static void
double_quoted (struct out *o, const char *s, size_t n)
{
  put (o, "\"", 1);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = s[i];
    char esc[8];
    size_t cl;
    unsigned cp = awkward_code_point ((const unsigned char *) s + i, n - i, &cl);
    if (cp) {
      snprintf (esc, sizeof esc, "\\u%04x", cp);
      puts_ (o, esc);
      i += cl - 1;
      continue;
    }
    switch (c) {
    case '"': puts_ (o, "\\\""); break;
    case '\\': puts_ (o, "\\\\"); break;
    case '\n': puts_ (o, "\\n"); break;
    case '\t': puts_ (o, "\\t"); break;
    case '\r': puts_ (o, "\\r"); break;
    case '\0': puts_ (o, "\\0"); break;
    default:
      if (c < 0x20 || c == 0x7f) {
        snprintf (esc, sizeof esc, "\\x%02x", c);
        puts_ (o, esc);
      }
      else
        put (o, (const char *) &s[i], 1);
    }
  }
  put (o, "\"", 1);
}

/* A multi-line string as a literal block, if that reads back the same. */
static bool
literal_ok (const char *s, size_t n)
{
  bool content = false;

  if (!memchr (s, '\n', n))
    return false;
  /* Only line breaks: a block scalar would read back as "". */
  for (size_t i = 0; i < n; ++i)
    if (s[i] != '\n')
      content = true;
  if (!content)
    return false;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = s[i];
    if ((c < 0x20 && c != '\n') || c == 0x7f || c == 0xc2 || c == 0xe2 ||
        c == 0xef)
      return false;
    /* Trailing spaces on a line survive a literal block, but a line of
     * only spaces before more-indented text confuses indentation.
     */
    if (c == ' ' && (i + 1 == n || s[i + 1] == '\n') &&
        (i == 0 || s[i - 1] == '\n' || s[i - 1] == ' '))
      return false;
  }
  return true;
}

static void
literal (struct out *o, const char *s, size_t n, size_t ind)
{
  size_t trailing = 0;

  if (ind == 0)
    ind = 2;
  while (trailing < n && s[n - 1 - trailing] == '\n')
    trailing++;
  put (o, "|", 1);
  if (s[0] == ' ' || s[0] == '\n')
    put (o, "2", 1);                    /* explicit indentation indicator */
  if (trailing == 0)
    put (o, "-", 1);                    /* strip: no final newline */
  else if (trailing > 1)
    put (o, "+", 1);                    /* keep: all final newlines */
  put (o, "\n", 1);
  for (size_t i = 0; i < n;) {
    const char *nl = memchr (s + i, '\n', n - i);
    size_t end = nl ? (size_t) (nl - s) : n;
    if (end > i)
      indent (o, ind);
    put (o, s + i, end - i);
    put (o, "\n", 1);
    if (!nl)
      break;
    i = end + 1;
  }
}

/* Returns true if it wrote a block scalar (which ends with its newline). */
static bool
scalar_string (struct out *o, const char *s, size_t n, size_t ind,
               bool is_key)
{
  if (plain_ok (s, n))
    put (o, s, n);
  else if (!is_key && literal_ok (s, n)) {
    literal (o, s, n, ind);
    return true;
  }
  else
    double_quoted (o, s, n);
  return false;
}

static void
number (struct out *o, const json_t *v)
{
  char b[64];

  if (json_is_integer (v))
    snprintf (b, sizeof b, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
  else {
    double d = json_real_value (v);
    for (int prec = 15; prec <= 17; ++prec) {
      snprintf (b, sizeof b, "%.*g", prec, d);
      if (strtod (b, NULL) == d)
        break;
    }
    /* Keep it a float on the way back in. */
    if (!strpbrk (b, ".eEn"))
      strcat (b, ".0");
  }
  puts_ (o, b);
}

static void emit_value (struct out *o, const json_t *v, size_t ind);

/* Called with the cursor just after "key:" or "-"; writes " value\n" or
 * "\n" + a nested block.
 */
static void
emit_after (struct out *o, const json_t *v, size_t ind, bool in_seq)
{
  if (json_is_object (v) && json_object_size (v) > 0) {
    if (in_seq) {
      /* "- key: value" with the rest of the mapping aligned under key. */
      put (o, " ", 1);
      emit_value (o, v, ind + 2);
      return;
    }
    put (o, "\n", 1);
    emit_value (o, v, ind + 2);
  }
  else if (json_is_array (v) && json_array_size (v) > 0) {
    if (in_seq) {
      put (o, " ", 1);
      emit_value (o, v, ind + 2);
      return;
    }
    put (o, "\n", 1);
    emit_value (o, v, ind);             /* kubectl style: "- " at key level */
  }
  else {
    put (o, " ", 1);
    emit_value (o, v, ind + 2);
  }
}

/* Writes v at indentation ind.  For blocks, the first line's indentation
 * is assumed to be written already when called from emit_after in a
 * sequence; otherwise each line is indented here.
 */
static void
emit_value (struct out *o, const json_t *v, size_t ind)
{
  switch (json_typeof (v)) {
  case JSON_OBJECT: {
    const char *k;
    json_t *m;
    bool first = true;
    if (json_object_size (v) == 0) {
      puts_ (o, "{}\n");
      return;
    }
    json_object_foreach ((json_t *) v, k, m) {
      /* The first key of a mapping inside "- " is already positioned. */
      if (!first || o->len == 0 || o->buf[o->len - 1] == '\n')
        indent (o, ind);
      first = false;
      if (strlen (k) > 1000) {
        /* Implicit keys are limited to 1024 characters: say it explicitly. */
        put (o, "? ", 2);
        double_quoted (o, k, strlen (k));
        put (o, "\n", 1);
        indent (o, ind);
      }
      else
        scalar_string (o, k, strlen (k), ind, true);
      put (o, ":", 1);
      emit_after (o, m, ind, false);
    }
    return;
  }
  case JSON_ARRAY: {
    size_t i;
    json_t *m;
    if (json_array_size (v) == 0) {
      puts_ (o, "[]\n");
      return;
    }
    json_array_foreach (v, i, m) {
      if (i > 0 || o->len == 0 || o->buf[o->len - 1] == '\n')
        indent (o, ind);
      put (o, "-", 1);
      emit_after (o, m, ind, true);
    }
    return;
  }
  case JSON_STRING:
    if (scalar_string (o, json_string_value (v), json_string_length (v),
                       ind, false))
      return;
    break;
  case JSON_INTEGER:
  case JSON_REAL:
    number (o, v);
    break;
  case JSON_TRUE:
    puts_ (o, "true");
    break;
  case JSON_FALSE:
    puts_ (o, "false");
    break;
  case JSON_NULL:
    puts_ (o, "null");
    break;
  }
  put (o, "\n", 1);
}

char *
ferry_to_yaml (const json_t *v)
{
  struct out o = { 0 };

  if (!v) {
    ferry_error ("ferry_to_yaml: no value");
    return NULL;
  }
  emit_value (&o, v, 0);
  if (o.failed || !o.buf) {
    free (o.buf);
    ferry_error ("ferry_to_yaml: out of memory");
    return NULL;
  }
  return o.buf;
}
