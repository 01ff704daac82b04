/* text/template's built-in functions: and or not eq ne lt le gt ge len
 * index print printf println, and the function table lookup.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "template-internal.h"

int
tcall_fail (struct tcall *c, const char *fs, ...)
{
  va_list ap;
  va_start (ap, fs);
  free (c->err);
  if (vasprintf (&c->err, fs, ap) < 0) c->err = NULL;
  va_end (ap);
  return -1;
}

/* and/or are evaluated in exec.c (short-circuit); these never run. */
static int fn_andor (struct tcall *c) { (void) c; return 0; }

static int
fn_not (struct tcall *c)
{
  *c->ret = (struct tv) { .type = TV_BOOL, .b = !tv_truth (&c->args[0]) };
  return 0;
}

enum kind { K_INVALID, K_BOOL, K_INT, K_UINT, K_FLOAT, K_STRING, K_OTHER };

static enum kind
basic_kind (const struct tv *v)
{
  switch (v->type) {
  case TV_BOOL: return K_BOOL;
  case TV_INT: case TV_INT64: return K_INT;
  case TV_UINT8: return K_UINT;
  case TV_FLOAT: return K_FLOAT;
  case TV_STRING: return K_STRING;
  case TV_NONE: case TV_NIL: return K_INVALID;
  default: return K_OTHER;
  }
}

static int
cmp_strings (const struct tv *a, const struct tv *b)
{
  size_t n = a->len < b->len ? a->len : b->len;
  int r = memcmp (a->s, b->s, n);
  if (r) return r;
  return a->len < b->len ? -1 : a->len > b->len;
}

/* 1 equal, 0 not, -1 error (message in c) */
static int
eq2 (struct tcall *c, const struct tv *a, const struct tv *b)
{
  enum kind k1 = basic_kind (a), k2 = basic_kind (b);
  if (k1 != k2) {
    if (k1 == K_INT && k2 == K_UINT) return a->i >= 0 && a->i == b->i;
    if (k1 == K_UINT && k2 == K_INT) return b->i >= 0 && a->i == b->i;
    if (a->type != TV_NONE && b->type != TV_NONE)
      return tcall_fail (c, "incompatible types for comparison");
    return 0;
  }
  switch (k1) {
  case K_BOOL: return a->b == b->b;
  case K_INT: case K_UINT: return a->i == b->i;
  case K_FLOAT: return a->f == b->f;
  case K_STRING: return a->len == b->len && memcmp (a->s, b->s, a->len) == 0;
  case K_INVALID: return (a->type == TV_NONE || a->type == TV_NIL) && (b->type == TV_NONE || b->type == TV_NIL);
  default: {
    /* lists and data sets: Go's messages for what it cannot compare */
    if (a->type != b->type) {
      CLEANUP_TBUF struct tbuf ta = {0};
      CLEANUP_TBUF struct tbuf tb = {0};
      go_sprint_s (&ta, a);
      tv_print (&tb, b);
      return tcall_fail (c, "non-comparable types %s: %s, %s: %s", ta.p ? ta.p : "",
                         tv_type_name (a), tv_type_name (b), tb.p ? tb.p : "");
    }
    bool comparable = b->type != TV_LIST;
    if (b->type == TV_DATA)
      for (size_t k = 0; k < b->data->n; k++)
        if (b->data->fields[k].v.type == TV_LIST) comparable = false;
    if (!comparable) {
      CLEANUP_TBUF struct tbuf t = {0};
      go_sprint_s (&t, b);
      return tcall_fail (c, "non-comparable type %s: %s", t.p ? t.p : "", tv_type_name (b));
    }
    return a->data == b->data;
  }
  }
}

static int
fn_eq (struct tcall *c)
{
  if (c->nargs < 2) return tcall_fail (c, "missing argument for comparison");
  for (size_t k = 1; k < c->nargs; k++) {
    int r = eq2 (c, &c->args[0], &c->args[k]);
    if (r < 0) return -1;
    if (r) { *c->ret = (struct tv) { .type = TV_BOOL, .b = true }; return 0; }
  }
  *c->ret = (struct tv) { .type = TV_BOOL, .b = false };
  return 0;
}

static int
fn_ne (struct tcall *c)
{
  int r = eq2 (c, &c->args[0], &c->args[1]);
  if (r < 0) return -1;
  *c->ret = (struct tv) { .type = TV_BOOL, .b = !r };
  return 0;
}

/* a < b: 1/0, -1 on error */
static int
lt2 (struct tcall *c, const struct tv *a, const struct tv *b)
{
  enum kind k1 = basic_kind (a), k2 = basic_kind (b);
  if (k1 == K_INVALID || k1 == K_OTHER || k2 == K_INVALID || k2 == K_OTHER)
    return tcall_fail (c, "invalid type for comparison");
  if (k1 != k2) {
    if (k1 == K_INT && k2 == K_UINT) return a->i < 0 || a->i < b->i;
    if (k1 == K_UINT && k2 == K_INT) return b->i >= 0 && a->i < b->i;
    return tcall_fail (c, "incompatible types for comparison");
  }
  switch (k1) {
  case K_BOOL: return tcall_fail (c, "invalid type for comparison");
  case K_INT: case K_UINT: return a->i < b->i;
  case K_FLOAT: return a->f < b->f;
  case K_STRING: return cmp_strings (a, b) < 0;
  default: return tcall_fail (c, "invalid type for comparison");
  }
}

static int
ret_bool (struct tcall *c, int r)
{
  if (r < 0) return -1;
  *c->ret = (struct tv) { .type = TV_BOOL, .b = r != 0 };
  return 0;
}

static int fn_lt (struct tcall *c) { return ret_bool (c, lt2 (c, &c->args[0], &c->args[1])); }
static int
fn_le (struct tcall *c)
{
  int r = lt2 (c, &c->args[0], &c->args[1]);
  if (r < 0) return -1;
  if (r) return ret_bool (c, 1);
  return ret_bool (c, eq2 (c, &c->args[0], &c->args[1]));
}
static int
fn_gt (struct tcall *c)
{
  int r = lt2 (c, &c->args[0], &c->args[1]);
  if (r < 0) return -1;
  if (r) return ret_bool (c, 0);
  int e = eq2 (c, &c->args[0], &c->args[1]);
  if (e < 0) return -1;
  return ret_bool (c, !e);
}
static int
fn_ge (struct tcall *c)
{
  int r = lt2 (c, &c->args[0], &c->args[1]);
  if (r < 0) return -1;
  return ret_bool (c, !r);
}

static int
fn_len (struct tcall *c)
{
  const struct tv *v = &c->args[0];
  int64_t n;
  switch (v->type) {
  case TV_STRING: n = (int64_t) v->len; break;
  case TV_LIST: n = (int64_t) v->list->n; break;
  case TV_NONE: return tcall_fail (c, "reflect: call of reflect.Value.Type on zero Value");
  case TV_NIL: return tcall_fail (c, "len of nil pointer");
  default: return tcall_fail (c, "len of type %s", tv_type_name (v));
  }
  *c->ret = (struct tv) { .type = TV_INT, .i = n };
  return 0;
}

static int
fn_index (struct tcall *c)
{
  struct tv item = c->args[0];
  item.owned = false;
  if (item.type == TV_NONE || item.type == TV_NIL) return tcall_fail (c, "index of untyped nil");
  for (size_t k = 1; k < c->nargs; k++) {
    const struct tv *ix = &c->args[k];
    size_t len;
    if (item.type == TV_STRING) len = item.len;
    else if (item.type == TV_LIST) len = item.list->n;
    else return tcall_fail (c, "can't index item of type %s", tv_type_name (&item));
    int64_t x;
    switch (ix->type) {
    case TV_INT: case TV_INT64: case TV_UINT8: x = ix->i; break;
    case TV_NONE: case TV_NIL: return tcall_fail (c, "cannot index slice/array with nil");
    default: return tcall_fail (c, "cannot index slice/array with type %s", tv_type_name (ix));
    }
    if (x < 0 || (uint64_t) x > len) return tcall_fail (c, "index out of range: %" PRId64, x);
    if ((uint64_t) x == len)
      return tcall_fail (c, item.type == TV_STRING ? "reflect: string index out of range" : "reflect: slice index out of range");
    if (item.type == TV_STRING)
      item = (struct tv) { .type = TV_UINT8, .i = (unsigned char) item.s[x] };
    else
      item = (struct tv) { .type = TV_STRING, .s = item.list->items[x], .len = item.list->lens[x] };
  }
  if (c->nargs == 1 && c->args[0].owned) {
    *c->ret = c->args[0];
    c->args[0] = (struct tv) {0};
    return 0;
  }
  *c->ret = item;
  return 0;
}

static int
ret_buf (struct tcall *c, struct tbuf *b)
{
  size_t len = b->len;
  char *s = tbuf_steal (b);
  if (!s) return tcall_fail (c, "out of memory");
  tv_set_string_owned (c->ret, s, len);
  return 0;
}

static int
fn_print (struct tcall *c)
{
  struct tbuf b = {0};
  go_sprint (&b, c->args, c->nargs, false);
  return ret_buf (c, &b);
}

static int
fn_println (struct tcall *c)
{
  struct tbuf b = {0};
  go_sprint (&b, c->args, c->nargs, true);
  return ret_buf (c, &b);
}

static int
fn_printf (struct tcall *c)
{
  struct tbuf b = {0};
  go_sprintf (&b, c->args[0].s, c->args[0].len, c->args + 1, c->nargs - 1);
  return ret_buf (c, &b);
}

const struct tfunc tfuncs_builtin[] = {
  { "and", fn_andor, 1, { A_VALUE }, true, A_VALUE, true },
  { "or", fn_andor, 1, { A_VALUE }, true, A_VALUE, true },
  { "not", fn_not, 1, { A_VALUE }, false, 0, true },
  { "eq", fn_eq, 1, { A_VALUE }, true, A_VALUE, true },
  { "ne", fn_ne, 2, { A_VALUE, A_VALUE }, false, 0, true },
  { "lt", fn_lt, 2, { A_VALUE, A_VALUE }, false, 0, true },
  { "le", fn_le, 2, { A_VALUE, A_VALUE }, false, 0, true },
  { "gt", fn_gt, 2, { A_VALUE, A_VALUE }, false, 0, true },
  { "ge", fn_ge, 2, { A_VALUE, A_VALUE }, false, 0, true },
  { "len", fn_len, 1, { A_VALUE }, false, 0, true },
  { "index", fn_index, 1, { A_VALUE }, true, A_VALUE, true },
  { "print", fn_print, 0, { 0 }, true, A_ANY, true },
  { "printf", fn_printf, 1, { A_STRING }, true, A_ANY, true },
  { "println", fn_println, 0, { 0 }, true, A_ANY, true },
  { NULL, NULL, 0, { 0 }, false, 0, false },
};

const struct tfunc *
tfunc_lookup (const char *name, size_t len)
{
  /* No Sprig name here clashes with a built-in, so the order is moot. */
  const struct tfunc *tables[] = { tfuncs_builtin, tfuncs_strings, tfuncs_math };
  for (size_t t = 0; t < 3; t++)
    for (const struct tfunc *f = tables[t]; f->name; f++)
      if (strlen (f->name) == len && memcmp (f->name, name, len) == 0)
        return f;
  return NULL;
}
