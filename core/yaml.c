/* ferry core: YAML (and JSON) into jansson values with positions.
 *
 * Built on libyaml's event parser rather than its document loader so that
 * aliases can be counted (and refused) before they are expanded, and so that
 * every node's position is known while its path is being built.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FERRY_WANT_LIBYAML 1
#include <yaml.h>                       /* libyaml, then core/yaml.h */

#include "internal.h"

/* ---- paths ------------------------------------------------------------ */

char *
ferry_internal_yaml_path_key (const char *parent, const char *key)
{
  char *p = NULL;
  int r;

  if (strpbrk (key, ".[]") != NULL || key[0] == '\0')
    r = asprintf (&p, "%s[%s]", parent, key);
  else if (parent[0] == '\0')
    r = asprintf (&p, "%s", key);
  else
    r = asprintf (&p, "%s.%s", parent, key);
  return r < 0 ? NULL : p;
}

char *
ferry_internal_yaml_path_index (const char *parent, size_t i)
{
  char *p = NULL;

  if (asprintf (&p, "%s[%zu]", parent, i) < 0)
    return NULL;
  return p;
}

void
ferry_internal_yaml_pos (const struct ferry_yaml_doc *doc,
                         const char *path, size_t *line, size_t *column)
{
  CLEANUP_FREE char *p = strdup (path ? path : "");

  *line = doc->line;
  *column = doc->column;
  if (!p || !doc->positions)
    return;
  for (;;) {
    json_t *pos = json_object_get (doc->positions, p);
    size_t n;

    if (json_is_array (pos)) {
      *line = json_integer_value (json_array_get (pos, 0));
      *column = json_integer_value (json_array_get (pos, 1));
      return;
    }
    /* Drop the last component: ".x" or "[...]". */
    n = strlen (p);
    if (n == 0)
      return;
    if (p[n - 1] == ']') {
      char *b = strrchr (p, '[');
      if (!b)
        return;
      *b = '\0';
    }
    else {
      char *d = strrchr (p, '.');
      char *b = strrchr (p, ']');
      if (d && (!b || d > b))
        *d = '\0';
      else if (b)
        b[1] = '\0';
      else
        p[0] = '\0';
    }
  }
}

/* ---- scalar resolution (go-yaml v2, as sigs.k8s.io/yaml uses it) ------- */

static bool
is_one_of (const char *text, size_t len, const char *const *words)
{
  for (size_t i = 0; words[i]; ++i)
    if (strlen (words[i]) == len && memcmp (words[i], text, len) == 0)
      return true;
  return false;
}

static const char *const null_words[] = { "~", "null", "Null", "NULL", NULL };
static const char *const true_words[] = {
  "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", NULL,
};
static const char *const false_words[] = {
  "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", NULL,
};
static const char *const inf_nan_words[] = {
  ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
  ".nan", ".NaN", ".NAN", NULL,
};

/* Go's strconv.ParseInt(s, 0, 64) / ParseUint on s (underscores already
 * removed).  Returns 1 int, 2 unsigned beyond int64, 0 not an integer.
 */
static int
parse_go_int (const char *s, int64_t *iv, uint64_t *uv)
{
  bool neg = false;
  int base = 10;
  uint64_t v = 0;
  const char *p = s;

  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  if (*p == '\0')
    return 0;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
    base = 16, p += 2;
  else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
    base = 8, p += 2;
  else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
    base = 2, p += 2;
  else if (p[0] == '0' && p[1] != '\0')
    base = 8, p += 1;
  if (*p == '\0')
    return 0;
  for (; *p; ++p) {
    int d;
    if (*p >= '0' && *p <= '9') d = *p - '0';
    else if (*p >= 'a' && *p <= 'f') d = *p - 'a' + 10;
    else if (*p >= 'A' && *p <= 'F') d = *p - 'A' + 10;
    else return 0;
    if (d >= base)
      return 0;
    if (v > (UINT64_MAX - (uint64_t) d) / (uint64_t) base)
      return 0;                         /* overflows uint64: not an int */
    v = v * (uint64_t) base + (uint64_t) d;
  }
  if (neg) {
    if (v > (uint64_t) INT64_MAX + 1)
      return 0;
    *iv = v == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) v;
    return 1;
  }
  if (v > (uint64_t) INT64_MAX) {
    *uv = v;
    return 2;
  }
  *iv = (int64_t) v;
  return 1;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool
is_yaml_float (const char *s)
{
  const char *p = s;
  bool digits = false;

  if (*p == '+' || *p == '-')
    p++;
  if (*p == '.') {
    p++;
    if (!(*p >= '0' && *p <= '9'))
      return false;
    while (*p >= '0' && *p <= '9') p++;
  }
  else {
    while (*p >= '0' && *p <= '9') p++, digits = true;
    if (!digits)
      return false;
    if (*p == '.') {
      p++;
      while (*p >= '0' && *p <= '9') p++;
    }
  }
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!(*p >= '0' && *p <= '9'))
      return false;
    while (*p >= '0' && *p <= '9') p++;
  }
  return *p == '\0';
}

/* A float as sigs.k8s.io/yaml passes it on: through encoding/json, which
 * writes an integral float64 below 1e21 without a fraction, so it comes
 * back as an integer.
 */
static json_t *
float_value (double d)
{
  /* Integral and well inside int64 (no libm needed for the test). */
  if (d > -9.2e18 && d < 9.2e18 && (double) (int64_t) d == d)
    return json_integer ((json_int_t) d);
  return json_real (d);
}

json_t *
ferry_internal_yaml_resolve_plain (const char *text, size_t len)
{
  CLEANUP_FREE char *plain = NULL;
  size_t j = 0;
  int64_t iv;
  uint64_t uv;
  int r;

  if (len == 0 || is_one_of (text, len, null_words))
    return json_null ();
  if (is_one_of (text, len, true_words))
    return json_true ();
  if (is_one_of (text, len, false_words))
    return json_false ();
  if (is_one_of (text, len, inf_nan_words))
    return NULL;
  /* Numbers start with a digit, sign or dot (go-yaml's hint table). */
  if (!((text[0] >= '0' && text[0] <= '9') || text[0] == '+' ||
        text[0] == '-' || text[0] == '.'))
    return json_stringn (text, len);
  if (memchr (text, '\0', len))
    return json_stringn (text, len);
  plain = malloc (len + 1);
  if (!plain)
    return NULL;
  for (size_t i = 0; i < len; ++i)
    if (text[i] != '_')
      plain[j++] = text[i];
  plain[j] = '\0';
  r = parse_go_int (plain, &iv, &uv);
  if (r == 1)
    return json_integer (iv);
  if (r == 2)
    return json_real ((double) uv);
  if (is_yaml_float (plain)) {
    double d;
    errno = 0;
    d = strtod (plain, NULL);
    if (d > DBL_MAX || d < -DBL_MAX)    /* Go: ParseFloat range error: a string */
      return json_stringn (text, len);
    return float_value (d);
  }
  return json_stringn (text, len);
}

/* ---- text checks ------------------------------------------------------- */

/* 0 if buf is NUL-free valid UTF-8, else the offset of the bad byte + 1. */
static size_t
first_bad_byte (const char *buf, size_t len, bool *nul)
{
  const unsigned char *s = (const unsigned char *) buf;
  size_t i = 0;

  while (i < len) {
    unsigned c = s[i];
    size_t n;
    unsigned cp;

    if (c == 0) {
      *nul = true;
      return i + 1;
    }
    if (c < 0x80) { i++; continue; }
    if ((c & 0xe0) == 0xc0) n = 1, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0) n = 2, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0) n = 3, cp = c & 0x07;
    else return i + 1;
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
        return i + 1;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return i + 1;
    i += n + 1;
  }
  return 0;
}

static void
offset_to_linecol (const char *buf, size_t off, size_t *line, size_t *col)
{
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < off; ++i) {
    if (buf[i] == '\n')
      (*line)++, *col = 1;
    else if (((unsigned char) buf[i] & 0xc0) != 0x80)
      (*col)++;
  }
}

/* ---- the builder -------------------------------------------------------- */

struct anchor {
  char *name;
  json_t *value;
  size_t nodes;                         /* nodes the value expands to */
};

struct frame {
  json_t *container;                    /* object or array */
  char *path;
  char *key;                            /* object: pending key, or NULL */
  bool merge_key;                       /* pending key is "<<" */
  json_t *merged;                       /* keys that came from "<<" */
  size_t key_line, key_col;
  char *anchor;                         /* anchor to define at the end */
  size_t nodes_at_start;
};

struct builder {
  const char *name;
  const char *buf;
  struct frame stack[FERRY_YAML_MAX_DEPTH + 1];
  size_t depth;
  struct anchor *anchors;
  size_t nanchors;
  size_t nodes;
  json_t *root;
  json_t *positions;
};

static void
builder_clear_anchors (struct builder *b)
{
  for (size_t i = 0; i < b->nanchors; ++i) {
    free (b->anchors[i].name);
    json_decref (b->anchors[i].value);
  }
  free (b->anchors);
  b->anchors = NULL;
  b->nanchors = 0;
}

static void
frame_clear (struct frame *fr)
{
  json_decref (fr->container);
  json_decref (fr->merged);
  free (fr->path);
  free (fr->key);
  free (fr->anchor);
  memset (fr, 0, sizeof *fr);
}

static void
builder_clear_doc (struct builder *b)
{
  while (b->depth > 0)
    frame_clear (&b->stack[--b->depth]);
  json_decref (b->root);
  b->root = NULL;
  json_decref (b->positions);
  b->positions = NULL;
  builder_clear_anchors (b);
}

static int
define_anchor (struct builder *b, const char *name, json_t *value,
               size_t nodes)
{
  struct anchor *a;

  /* A redefined anchor replaces the old one for later aliases. */
  for (size_t i = 0; i < b->nanchors; ++i)
    if (strcmp (b->anchors[i].name, name) == 0) {
      json_decref (b->anchors[i].value);
      b->anchors[i].value = json_incref (value);
      b->anchors[i].nodes = nodes;
      return 0;
    }
  a = realloc (b->anchors, (b->nanchors + 1) * sizeof *a);
  if (!a) {
    ferry_error_errno (errno, "%s: realloc", b->name);
    return -1;
  }
  b->anchors = a;
  a[b->nanchors].name = strdup (name);
  if (!a[b->nanchors].name) {
    ferry_error_errno (errno, "%s: strdup", b->name);
    return -1;
  }
  a[b->nanchors].value = json_incref (value);
  a[b->nanchors].nodes = nodes;
  b->nanchors++;
  return 0;
}

static int
count_node (struct builder *b, size_t n, const yaml_mark_t *m)
{
  b->nodes += n;
  if (b->nodes > FERRY_YAML_MAX_NODES) {
    ferry_error ("%s:%zu:%zu: more than %u nodes (aliases expanded): refusing "
                 "a document this large (an alias bomb?)",
                 b->name, m->line + 1, m->column + 1, FERRY_YAML_MAX_NODES);
    return -1;
  }
  return 0;
}

static int
set_pos (struct builder *b, const char *path, size_t line, size_t col)
{
  json_t *pos = json_pack ("[II]", (json_int_t) line, (json_int_t) col);
  if (!pos || json_object_set_new (b->positions, path, pos) == -1) {
    ferry_error ("%s: out of memory", b->name);
    return -1;
  }
  return 0;
}

/* Path and position of the next value in the top frame (or the root). */
static char *
child_path (struct builder *b, const yaml_mark_t *m)
{
  struct frame *top;
  char *p;

  if (b->depth == 0)
    return strdup ("");
  top = &b->stack[b->depth - 1];
  if (json_is_object (top->container)) {
    if (top->merge_key)
      return strdup (top->path);
    p = ferry_internal_yaml_path_key (top->path, top->key);
    if (p && set_pos (b, p, top->key_line, top->key_col) == -1) {
      free (p);
      return NULL;
    }
    return p;
  }
  p = ferry_internal_yaml_path_index (top->path,
                                      json_array_size (top->container));
  if (p && set_pos (b, p, m->line + 1, m->column + 1) == -1) {
    free (p);
    return NULL;
  }
  return p;
}

/* Add a finished value (reference stolen) to the top frame or make it the
 * document root.
 */
static int
add_value (struct builder *b, json_t *v, const yaml_mark_t *m)
{
  struct frame *top;

  if (b->depth == 0) {
    b->root = v;
    return 0;
  }
  top = &b->stack[b->depth - 1];
  if (json_is_array (top->container)) {
    if (json_array_append_new (top->container, v) == -1) {
      ferry_error ("%s: out of memory", b->name);
      return -1;
    }
    return 0;
  }
  if (top->merge_key) {
    /* "<<": a mapping or a sequence of mappings; explicit keys win. */
    json_t *srcs = json_is_array (v) ? v : NULL;
    size_t n = srcs ? json_array_size (srcs) : 1;
    top->merge_key = false;
    free (top->key);
    top->key = NULL;
    for (size_t i = 0; i < n; ++i) {
      json_t *src = srcs ? json_array_get (srcs, i) : v;
      const char *k;
      json_t *val;
      if (!json_is_object (src)) {
        ferry_error ("%s:%zu:%zu: %s: a merge key (<<) needs a mapping or a "
                     "sequence of mappings",
                     b->name, top->key_line, top->key_col,
                     top->path[0] ? top->path : "(root)");
        json_decref (v);
        return -1;
      }
      json_object_foreach (src, k, val) {
        if (json_object_get (top->container, k))
          continue;
        json_object_set (top->container, k, val);
        json_object_set_new (top->merged, k, json_true ());
      }
    }
    json_decref (v);
    return 0;
  }
  if (json_object_get (top->container, top->key)) {
    if (json_object_get (top->merged, top->key))
      json_object_del (top->merged, top->key);
    else {
      CLEANUP_FREE char *p = ferry_internal_yaml_path_key (top->path, top->key);
      ferry_error ("%s:%zu:%zu: %s: duplicate key \"%s\" in a mapping",
                   b->name, top->key_line, top->key_col, p ? p : "", top->key);
      json_decref (v);
      return -1;
    }
  }
  if (json_object_set_new (top->container, top->key, v) == -1) {
    ferry_error ("%s:%zu:%zu: key \"%s\" is not valid UTF-8", b->name,
                 top->key_line, top->key_col, top->key);
    return -1;
  }
  free (top->key);
  top->key = NULL;
  return 0;
}

/* A scalar in key position of the top frame, if it is a mapping waiting
 * for a key.  Returns 1 if consumed as a key.
 */
static int
maybe_key (struct builder *b, const char *text, size_t len, bool plain,
           const yaml_mark_t *m)
{
  struct frame *top;

  if (b->depth == 0)
    return 0;
  top = &b->stack[b->depth - 1];
  if (!json_is_object (top->container) || top->key || top->merge_key)
    return 0;
  if (memchr (text, '\0', len)) {
    ferry_error ("%s:%zu:%zu: a mapping key holds a NUL character",
                 b->name, m->line + 1, m->column + 1);
    return -1;
  }
  top->key_line = m->line + 1;
  top->key_col = m->column + 1;
  if (!(plain && len == 2 && memcmp (text, "<<", 2) == 0)) {
    /* Duplicates are found here, while the first key's position is still
     * the one recorded for the path.
     */
    CLEANUP_FREE char *k = strndup (text, len);
    json_t *first_pos;
    if (!k) {
      ferry_error_errno (errno, "%s: strdup", b->name);
      return -1;
    }
    if (json_object_get (top->container, k) &&
        !json_object_get (top->merged, k)) {
      CLEANUP_FREE char *p = ferry_internal_yaml_path_key (top->path, k);
      first_pos = p ? json_object_get (b->positions, p) : NULL;
      ferry_error ("%s:%zu:%zu: %s: duplicate key \"%s\" (first at line "
                   "%" JSON_INTEGER_FORMAT " column %" JSON_INTEGER_FORMAT
                   "); a key may appear once in a mapping",
                   b->name, top->key_line, top->key_col, p ? p : "", k,
                   json_integer_value (json_array_get (first_pos, 0)),
                   json_integer_value (json_array_get (first_pos, 1)));
      return -1;
    }
  }
  if (plain && len == 2 && memcmp (text, "<<", 2) == 0) {
    top->merge_key = true;
    top->key = strdup ("<<");
  }
  else
    top->key = strndup (text, len);
  if (!top->key) {
    ferry_error_errno (errno, "%s: strdup", b->name);
    return -1;
  }
  return 1;
}

static json_t *
scalar_value (struct builder *b, const yaml_event_t *ev)
{
  const char *text = (const char *) ev->data.scalar.value;
  size_t len = ev->data.scalar.length;
  const char *tag = (const char *) ev->data.scalar.tag;
  json_t *v;

  if (tag && (strcmp (tag, YAML_STR_TAG) == 0 ||
              strcmp (tag, "tag:yaml.org,2002:binary") == 0))
    return json_stringn (text, len);
  if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
      !(tag && strncmp (tag, "tag:yaml.org,2002:", 18) == 0))
    return json_stringn (text, len);
  v = ferry_internal_yaml_resolve_plain (text, len);
  if (!v)
    ferry_error ("%s:%zu:%zu: \"%.*s\" (infinity or NaN) cannot be "
                 "represented in JSON; quote it if it is a string",
                 b->name, ev->start_mark.line + 1, ev->start_mark.column + 1,
                 (int) (len > 20 ? 20 : len), text);
  else if (tag && (strcmp (tag, YAML_INT_TAG) == 0 && !json_is_integer (v))) {
    ferry_error ("%s:%zu:%zu: \"%.*s\" is tagged !!int but is not an integer",
                 b->name, ev->start_mark.line + 1, ev->start_mark.column + 1,
                 (int) (len > 20 ? 20 : len), text);
    json_decref (v);
    return NULL;
  }
  return v;
}

static int
push (struct builder *b, json_t *container, const yaml_event_t *ev,
      const char *anchor)
{
  struct frame *fr;
  char *path;

  if (b->depth >= FERRY_YAML_MAX_DEPTH) {
    ferry_error ("%s:%zu:%zu: nesting deeper than %d levels",
                 b->name, ev->start_mark.line + 1, ev->start_mark.column + 1,
                 FERRY_YAML_MAX_DEPTH);
    json_decref (container);
    return -1;
  }
  path = child_path (b, &ev->start_mark);
  if (!path) {
    json_decref (container);
    return -1;
  }
  fr = &b->stack[b->depth++];
  memset (fr, 0, sizeof *fr);
  fr->container = container;
  fr->path = path;
  fr->merged = json_object ();
  fr->nodes_at_start = b->nodes;
  if (anchor && !(fr->anchor = strdup (anchor)))
    return -1;
  return 0;
}

static int
pop (struct builder *b, const yaml_event_t *ev)
{
  struct frame *fr = &b->stack[--b->depth];
  json_t *c = fr->container;
  int r = 0;

  fr->container = NULL;
  if (fr->anchor)
    r = define_anchor (b, fr->anchor, c, b->nodes - fr->nodes_at_start + 1);
  frame_clear (fr);
  if (r == -1) {
    json_decref (c);
    return -1;
  }
  return add_value (b, c, &ev->start_mark);
}

static int
on_event (struct builder *b, const yaml_event_t *ev)
{
  switch (ev->type) {
  case YAML_SCALAR_EVENT: {
    const char *text = (const char *) ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const char *anchor = (const char *) ev->data.scalar.anchor;
    json_t *v;
    int r;
    CLEANUP_FREE char *path = NULL;

    if (count_node (b, 1, &ev->start_mark) == -1)
      return -1;
    r = maybe_key (b, text, len,
                   ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE,
                   &ev->start_mark);
    if (r != 0) {
      if (r == 1 && anchor) {
        CLEANUP_JSON_DECREF json_t *k = json_stringn (text, len);
        return define_anchor (b, anchor, k, 1);
      }
      return r;
    }
    path = child_path (b, &ev->start_mark);
    if (!path)
      return -1;
    v = scalar_value (b, ev);
    if (!v)
      return -1;
    if (anchor && define_anchor (b, anchor, v, 1) == -1) {
      json_decref (v);
      return -1;
    }
    return add_value (b, v, &ev->start_mark);
  }
  case YAML_ALIAS_EVENT: {
    const char *name = (const char *) ev->data.alias.anchor;
    struct anchor *a = NULL;
    struct frame *top = b->depth ? &b->stack[b->depth - 1] : NULL;
    CLEANUP_FREE char *path = NULL;
    json_t *v;

    for (size_t i = 0; i < b->nanchors; ++i)
      if (strcmp (b->anchors[i].name, name) == 0)
        a = &b->anchors[i];
    if (!a) {
      ferry_error ("%s:%zu:%zu: alias *%s refers to no anchor",
                   b->name, ev->start_mark.line + 1,
                   ev->start_mark.column + 1, name);
      return -1;
    }
    if (count_node (b, a->nodes, &ev->start_mark) == -1)
      return -1;
    if (top && json_is_object (top->container) && !top->key &&
        !top->merge_key) {
      if (!json_is_string (a->value)) {
        ferry_error ("%s:%zu:%zu: alias *%s used as a mapping key is not a "
                     "string", b->name, ev->start_mark.line + 1,
                     ev->start_mark.column + 1, name);
        return -1;
      }
      return maybe_key (b, json_string_value (a->value),
                        json_string_length (a->value), false,
                        &ev->start_mark) == 1 ? 0 : -1;
    }
    path = child_path (b, &ev->start_mark);
    if (!path)
      return -1;
    v = json_deep_copy (a->value);
    if (!v) {
      ferry_error ("%s: out of memory", b->name);
      return -1;
    }
    return add_value (b, v, &ev->start_mark);
  }
  case YAML_SEQUENCE_START_EVENT:
  case YAML_MAPPING_START_EVENT: {
    struct frame *top = b->depth ? &b->stack[b->depth - 1] : NULL;
    bool map = ev->type == YAML_MAPPING_START_EVENT;
    const char *anchor = (const char *)
      (map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor);

    if (count_node (b, 1, &ev->start_mark) == -1)
      return -1;
    if (top && json_is_object (top->container) && !top->key &&
        !top->merge_key) {
      ferry_error ("%s:%zu:%zu: a %s used as a mapping key: keys must be "
                   "strings", b->name, ev->start_mark.line + 1,
                   ev->start_mark.column + 1, map ? "mapping" : "sequence");
      return -1;
    }
    return push (b, map ? json_object () : json_array (), ev, anchor);
  }
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    return pop (b, ev);
  default:
    return 0;
  }
}

static void
parser_error (const char *name, const yaml_parser_t *p)
{
  const char *problem = p->problem ? p->problem : "syntax error";

  if (p->error == YAML_MEMORY_ERROR) {
    ferry_error ("%s: out of memory parsing YAML", name);
    return;
  }
  if (p->context)
    ferry_error ("%s:%zu:%zu: %s (%s, which started at line %zu column %zu)",
                 name, p->problem_mark.line + 1, p->problem_mark.column + 1,
                 problem, p->context, p->context_mark.line + 1,
                 p->context_mark.column + 1);
  else
    ferry_error ("%s:%zu:%zu: %s", name, p->problem_mark.line + 1,
                 p->problem_mark.column + 1, problem);
}

void
ferry_internal_yaml_docs_free (struct ferry_yaml_doc *docs, size_t n)
{
  if (!docs)
    return;
  for (size_t i = 0; i < n; ++i) {
    json_decref (docs[i].value);
    json_decref (docs[i].positions);
  }
  free (docs);
}

int
ferry_internal_yaml_parse (const char *name, const char *buf, size_t len,
                           struct ferry_yaml_doc **docs_ret, size_t *ndocs_ret)
{
  struct builder b = { .name = name, .buf = buf };
  struct ferry_yaml_doc *docs = NULL;
  size_t ndocs = 0;
  yaml_parser_t parser;
  size_t bad;
  bool nul = false;
  bool done = false;
  int ret = -1;

  *docs_ret = NULL;
  *ndocs_ret = 0;
  if (len > FERRY_YAML_MAX_BYTES) {
    ferry_error ("%s: %zu bytes is larger than the limit for manifests "
                 "(FERRY_YAML_MAX_BYTES, %u bytes = %u MiB); split it into "
                 "several files", name, len, FERRY_YAML_MAX_BYTES,
                 FERRY_YAML_MAX_BYTES / (1024 * 1024));
    return -1;
  }
  bad = first_bad_byte (buf, len, &nul);
  if (bad) {
    size_t line, col;
    offset_to_linecol (buf, bad - 1, &line, &col);
    ferry_error ("%s:%zu:%zu: not a text file (%s at byte offset %zu); "
                 "manifests are UTF-8 YAML or JSON",
                 name, line, col, nul ? "NUL byte" : "invalid UTF-8",
                 bad - 1);
    return -1;
  }

  if (!yaml_parser_initialize (&parser)) {
    ferry_error ("%s: cannot initialise the YAML parser", name);
    return -1;
  }
  /* No yaml_parser_set_encoding: libyaml then skips a UTF-8 BOM (UTF-16
   * cannot get here, it has NUL bytes).
   */
  yaml_parser_set_input_string (&parser, (const unsigned char *) buf, len);

  while (!done) {
    yaml_event_t ev;

    if (!yaml_parser_parse (&parser, &ev)) {
      parser_error (name, &parser);
      goto out;
    }
    switch (ev.type) {
    case YAML_STREAM_END_EVENT:
      done = true;
      break;
    case YAML_DOCUMENT_START_EVENT: {
      struct ferry_yaml_doc *d = realloc (docs, (ndocs + 1) * sizeof *d);
      if (!d) {
        ferry_error_errno (errno, "%s: realloc", name);
        yaml_event_delete (&ev);
        goto out;
      }
      docs = d;
      memset (&docs[ndocs], 0, sizeof docs[ndocs]);
      docs[ndocs].index = ndocs;
      docs[ndocs].line = ev.start_mark.line + 1;
      docs[ndocs].column = ev.start_mark.column + 1;
      b.positions = json_object ();
      ndocs++;
      if (!b.positions ||
          set_pos (&b, "", ev.start_mark.line + 1, ev.start_mark.column + 1)) {
        yaml_event_delete (&ev);
        goto out;
      }
      break;
    }
    case YAML_DOCUMENT_END_EVENT:
      docs[ndocs - 1].value = b.root ? b.root : json_null ();
      docs[ndocs - 1].positions = b.positions;
      b.root = NULL;
      b.positions = NULL;
      builder_clear_anchors (&b);
      break;
    default:
      if (on_event (&b, &ev) == -1) {
        yaml_event_delete (&ev);
        goto out;
      }
    }
    yaml_event_delete (&ev);
  }
  *docs_ret = docs;
  *ndocs_ret = ndocs;
  docs = NULL;
  ndocs = 0;
  ret = 0;
 out:
  builder_clear_doc (&b);
  yaml_parser_delete (&parser);
  /* Documents whose end was not reached have NULL value/positions. */
  ferry_internal_yaml_docs_free (docs, ndocs);
  return ret;
}
