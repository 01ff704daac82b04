/* Execution: walk the tree against a data set, following Go's
 * text/template/exec.go (argument typing, truth, variables, error text).
 * Every eval function returns 0 or -1 (error in s->err); results are owned
 * values the caller clears.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "template-internal.h"

struct var { const char *name; struct tv v; };

struct state {
  const struct ferry_template *t;
  const struct ferry_template_data *data;
  struct tbuf *out;
  const struct node *node;
  struct var *vars;
  size_t nvars, cap;
  char *err;
  int depth;
};

enum { WALK_OK = 0, WALK_ERR = -1, WALK_BREAK = 1, WALK_CONTINUE = 2 };

static int errorf (struct state *s, const char *fs, ...) __attribute__((format (printf, 2, 3)));
static int
errorf (struct state *s, const char *fs, ...)
{
  if (s->err) return -1;
  CLEANUP_FREE char *m = NULL;
  va_list ap;
  va_start (ap, fs);
  if (vasprintf (&m, fs, ap) < 0) m = NULL;
  va_end (ap);
  if (!s->node) {
    if (asprintf (&s->err, "template: %s: %s", s->t->name, m ? m : "out of memory") < 0) s->err = NULL;
    return -1;
  }
  int line, col;
  tpl_error_context (s->t, s->node, &line, &col);
  CLEANUP_TBUF struct tbuf ctx = {0};
  node_string (&ctx, s->node);
  CLEANUP_TBUF struct tbuf qn = {0};
  go_quote (&qn, s->t->name, strlen (s->t->name));
  if (asprintf (&s->err, "template: %s:%d:%d: executing %s at <%s>: %s",
                s->t->name, line, col, qn.p ? qn.p : "", ctx.p ? ctx.p : "",
                m ? m : "out of memory") < 0)
    s->err = NULL;
  return -1;
}

static void at (struct state *s, const struct node *n) { s->node = n; }

/* Node text for messages ("expected integer; found %s"). */
static const char *
nstr (struct tbuf *b, const struct node *n)
{
  b->len = 0;
  node_string (b, n);
  return b->p ? b->p : "";
}

static int
push_var (struct state *s, const char *name, const struct tv *v)
{
  if (s->nvars == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 8;
    struct var *a = realloc (s->vars, cap * sizeof *a);
    if (!a) return errorf (s, "out of memory");
    s->vars = a; s->cap = cap;
  }
  s->vars[s->nvars].name = name;
  if (tv_copy (&s->vars[s->nvars].v, v) < 0) return errorf (s, "out of memory");
  s->nvars++;
  return 0;
}

static void
pop_vars (struct state *s, size_t mark)
{
  while (s->nvars > mark) tv_clear (&s->vars[--s->nvars].v);
}

static int
set_var (struct state *s, const char *name, const struct tv *v)
{
  for (size_t k = s->nvars; k-- > 0;)
    if (strcmp (s->vars[k].name, name) == 0) {
      struct tv c;
      if (tv_copy (&c, v) < 0) return errorf (s, "out of memory");
      tv_clear (&s->vars[k].v);
      s->vars[k].v = c;
      return 0;
    }
  return errorf (s, "undefined variable: %s", name);
}

static int
set_top_var (struct state *s, size_t n, const struct tv *v)
{
  struct tv c;
  if (tv_copy (&c, v) < 0) return errorf (s, "out of memory");
  tv_clear (&s->vars[s->nvars - n].v);
  s->vars[s->nvars - n].v = c;
  return 0;
}

/* Borrowing view of a value (no ownership). */
static struct tv
borrow (const struct tv *v)
{
  struct tv b = *v;
  b.owned = false;
  return b;
}

static int eval_pipeline (struct state *s, const struct tv *dot, const struct node *pipe, struct tv *out);
static int eval_arg (struct state *s, const struct tv *dot, enum targ typ, const struct node *n, struct tv *out);
static int eval_function (struct state *s, const struct tv *dot, const struct node *ident,
                          const struct node *cmd, struct node *const *args, size_t nargs,
                          const struct tv *final, struct tv *out);

static int
var_value (struct state *s, const char *name, struct tv *out)
{
  for (size_t k = s->nvars; k-- > 0;)
    if (strcmp (s->vars[k].name, name) == 0) {
      *out = borrow (&s->vars[k].v);
      return 0;
    }
  return errorf (s, "undefined variable: %s", name);
}

static int
not_a_function (struct state *s, struct node *const *args, size_t nargs, const struct tv *final)
{
  if (nargs > 1 || final) {
    CLEANUP_TBUF struct tbuf b = {0};
    return errorf (s, "can't give argument to non-function %s", nstr (&b, args[0]));
  }
  return 0;
}

static int
eval_field (struct state *s, const char *name, const struct node *node, bool has_args,
            const struct tv *receiver, struct tv *out)
{
  (void) node;
  if (receiver->type == TV_NONE) { *out = (struct tv) {0}; return 0; }
  if (receiver->type == TV_NIL)
    return errorf (s, "nil pointer evaluating interface {}.%s", name);
  if (receiver->type == TV_DATA) {
    const struct tfield *f = data_get0_field (receiver->data, name, strlen (name));
    if (f) {
      if (has_args) return errorf (s, "%s has arguments but cannot be invoked as function", name);
      *out = borrow (&f->v);
      if (f->v.type == TV_STRING && !out->s) out->s = "";
      return 0;
    }
  }
  return errorf (s, "can't evaluate field %s in type %s", name, tv_type_name (receiver));
}

static int
eval_field_chain (struct state *s, const struct tv *dot, const struct tv *receiver,
                  const struct node *node, char *const *idents, size_t n,
                  struct node *const *args, size_t nargs, const struct tv *final, struct tv *out)
{
  (void) dot;
  struct tv r = borrow (receiver);
  for (size_t k = 0; k + 1 < n; k++) {
    struct tv next;
    if (eval_field (s, idents[k], node, false, &r, &next) < 0) return -1;
    r = next;
  }
  return eval_field (s, idents[n - 1], node, nargs > 1 || final, &r, out);
}

static int
ideal_constant (struct state *s, const struct node *c, struct tv *out)
{
  at (s, c);
  bool hexint = c->text_len > 1 && c->text[0] == '0' && (c->text[1] == 'x' || c->text[1] == 'X')
    && !strpbrk (c->text, "pP");
  if (c->is_float && !hexint && !c->is_char && strpbrk (c->text, ".eEpP")) {
    *out = (struct tv) { .type = TV_FLOAT, .f = c->f64 };
    return 0;
  }
  if (c->is_int) { *out = (struct tv) { .type = TV_INT, .i = c->i64 }; return 0; }
  if (c->is_uint) return errorf (s, "%s overflows int", c->text);
  *out = (struct tv) {0};
  return 0;
}

static int
eval_command (struct state *s, const struct tv *dot, const struct node *cmd,
              const struct tv *final, struct tv *out)
{
  const struct node *first = cmd->kids[0];
  switch (first->type) {
  case N_FIELD:
    at (s, first);
    return eval_field_chain (s, dot, dot, first, first->idents, first->nidents,
                             cmd->kids, cmd->nkids, final, out);
  case N_CHAIN: {
    at (s, first);
    if (first->pipe->type == N_NIL) {
      CLEANUP_TBUF struct tbuf b = {0};
      return errorf (s, "indirection through explicit nil in %s", nstr (&b, first));
    }
    struct tv recv = {0};
    if (eval_arg (s, dot, A_VALUE, first->pipe, &recv) < 0) return -1;
    int r = eval_field_chain (s, dot, &recv, first, first->idents, first->nidents,
                              cmd->kids, cmd->nkids, final, out);
    if (r == 0 && recv.owned && out->s == recv.s) { *out = recv; return 0; }
    tv_clear (&recv);
    return r;
  }
  case N_IDENT:
    return eval_function (s, dot, first, cmd, cmd->kids, cmd->nkids, final, out);
  case N_PIPE:
    if (not_a_function (s, cmd->kids, cmd->nkids, final) < 0) return -1;
    return eval_pipeline (s, dot, first, out);
  case N_VARIABLE: {
    at (s, first);
    struct tv v;
    if (var_value (s, first->idents[0], &v) < 0) return -1;
    if (first->nidents == 1) {
      if (not_a_function (s, cmd->kids, cmd->nkids, final) < 0) return -1;
      *out = v;
      return 0;
    }
    return eval_field_chain (s, dot, &v, first, first->idents + 1, first->nidents - 1,
                             cmd->kids, cmd->nkids, final, out);
  }
  default: break;
  }
  at (s, first);
  if (not_a_function (s, cmd->kids, cmd->nkids, final) < 0) return -1;
  switch (first->type) {
  case N_BOOL: *out = (struct tv) { .type = TV_BOOL, .b = first->b }; return 0;
  case N_DOT: *out = borrow (dot); return 0;
  case N_NIL: return errorf (s, "nil is not a command");
  case N_NUMBER: return ideal_constant (s, first, out);
  case N_STRING: *out = (struct tv) { .type = TV_STRING, .s = first->text, .len = first->text_len }; return 0;
  default: break;
  }
  CLEANUP_TBUF struct tbuf b = {0};
  CLEANUP_TBUF struct tbuf q = {0};
  nstr (&b, first);
  go_quote (&q, b.p ? b.p : "", b.len);
  return errorf (s, "can't evaluate command %s", q.p);
}

static const char *
targ_name (enum targ t)
{
  switch (t) {
  case A_STRING: return "string";
  case A_INT: return "int";
  case A_BOOL: return "bool";
  case A_FLOAT: return "float64";
  case A_ANY: return "interface {}";
  case A_VALUE: return "reflect.Value";
  }
  return "?";
}

/* Go's validateType: V (owned, moved into *out) must suit TYP. */
static int
validate_type (struct state *s, struct tv *v, enum targ typ, struct tv *out)
{
  if (v->type == TV_NONE) {
    if (typ == A_ANY) { *out = (struct tv) { .type = TV_NIL }; return 0; }
    if (typ == A_VALUE) { *out = *v; *v = (struct tv) {0}; return 0; }
    tv_clear (v);
    return errorf (s, "invalid value; expected %s", targ_name (typ));
  }
  bool ok;
  switch (typ) {
  case A_STRING: ok = v->type == TV_STRING; break;
  case A_INT: ok = v->type == TV_INT; break;
  case A_BOOL: ok = v->type == TV_BOOL; break;
  case A_FLOAT: ok = v->type == TV_FLOAT; break;
  default: ok = true; break;
  }
  if (!ok) {
    const char *got = tv_type_name (v);
    if (v->type == TV_NIL) { tv_clear (v); return errorf (s, "invalid value; expected %s", targ_name (typ)); }
    int r = errorf (s, "wrong type for value; expected %s; got %s", targ_name (typ), got);
    tv_clear (v);
    return r;
  }
  *out = *v;
  *v = (struct tv) {0};
  return 0;
}

static int
eval_arg (struct state *s, const struct tv *dot, enum targ typ, const struct node *n, struct tv *out)
{
  at (s, n);
  struct tv v = {0};
  int r;
  switch (n->type) {
  case N_DOT:
    v = borrow (dot);
    return validate_type (s, &v, typ, out);
  case N_NIL:
    if (typ == A_ANY) { *out = (struct tv) { .type = TV_NIL }; return 0; }
    if (typ == A_VALUE) { *out = (struct tv) {0}; return 0; }
    return errorf (s, "cannot assign nil to %s", targ_name (typ));
  case N_FIELD:
    r = eval_field_chain (s, dot, dot, n, n->idents, n->nidents, (struct node *const *) &n, 1, NULL, &v);
    if (r < 0) return -1;
    return validate_type (s, &v, typ, out);
  case N_VARIABLE: {
    struct tv x;
    if (var_value (s, n->idents[0], &x) < 0) return -1;
    if (n->nidents == 1) v = x;
    else if (eval_field_chain (s, dot, &x, n, n->idents + 1, n->nidents - 1, NULL, 0, NULL, &v) < 0)
      return -1;
    return validate_type (s, &v, typ, out);
  }
  case N_PIPE:
    if (eval_pipeline (s, dot, n, &v) < 0) return -1;
    return validate_type (s, &v, typ, out);
  case N_IDENT:
    if (eval_function (s, dot, n, n, NULL, 0, NULL, &v) < 0) return -1;
    return validate_type (s, &v, typ, out);
  case N_CHAIN: {
    struct node cmd = { .type = N_COMMAND };
    const struct node *kids[1] = { n };
    cmd.kids = (struct node **) kids;
    cmd.nkids = 1;
    if (eval_command (s, dot, &cmd, NULL, &v) < 0) return -1;
    return validate_type (s, &v, typ, out);
  }
  default: break;
  }
  CLEANUP_TBUF struct tbuf b = {0};
  switch (typ) {
  case A_BOOL:
    if (n->type == N_BOOL) { *out = (struct tv) { .type = TV_BOOL, .b = n->b }; return 0; }
    return errorf (s, "expected bool; found %s", nstr (&b, n));
  case A_STRING:
    if (n->type == N_STRING) { *out = (struct tv) { .type = TV_STRING, .s = n->text, .len = n->text_len }; return 0; }
    return errorf (s, "expected string; found %s", nstr (&b, n));
  case A_INT:
    if (n->type == N_NUMBER && n->is_int) { *out = (struct tv) { .type = TV_INT, .i = n->i64 }; return 0; }
    return errorf (s, "expected integer; found %s", nstr (&b, n));
  case A_FLOAT:
    if (n->type == N_NUMBER && n->is_float) { *out = (struct tv) { .type = TV_FLOAT, .f = n->f64 }; return 0; }
    return errorf (s, "expected float; found %s", nstr (&b, n));
  case A_ANY: case A_VALUE:
    switch (n->type) {
    case N_BOOL: *out = (struct tv) { .type = TV_BOOL, .b = n->b }; return 0;
    case N_NUMBER: return ideal_constant (s, n, out);
    case N_STRING: *out = (struct tv) { .type = TV_STRING, .s = n->text, .len = n->text_len }; return 0;
    default: break;
    }
  }
  return errorf (s, "can't handle %s for arg of type %s", nstr (&b, n), targ_name (typ));
}

static void
clear_args (struct tv *a, size_t n)
{
  for (size_t k = 0; k < n; k++) tv_clear (&a[k]);
}

static int
eval_function (struct state *s, const struct tv *dot, const struct node *ident,
               const struct node *cmd, struct node *const *args, size_t nargs,
               const struct tv *final, struct tv *out)
{
  at (s, ident);
  const struct tfunc *f = ident->fn;
  const char *name = ident->text;
  if (!f) return errorf (s, "\"%s\" is not a defined function", name);
  if (args) { args++; nargs--; }
  else nargs = 0;
  size_t num_in = nargs + (final ? 1 : 0);
  size_t num_fixed = nargs;
  if (f->variadic) {
    num_fixed = (size_t) f->nparams;
    if (num_in < num_fixed)
      return errorf (s, "wrong number of args for %s: want at least %d got %zu", name, f->nparams, nargs);
  }
  else if (num_in != (size_t) f->nparams)
    return errorf (s, "wrong number of args for %s: want %d got %zu", name, f->nparams, num_in);

  if (f->builtin && (strcmp (name, "and") == 0 || strcmp (name, "or") == 0)) {
    bool want = name[0] == 'o';
    struct tv v = {0};
    for (size_t k = 0; k < nargs; k++) {
      tv_clear (&v);
      if (eval_arg (s, dot, A_VALUE, args[k], &v) < 0) return -1;
      if (tv_truth (&v) == want) { *out = v; return 0; }
    }
    if (final) {
      tv_clear (&v);
      struct tv c;
      if (tv_copy (&c, final) < 0) return errorf (s, "out of memory");
      *out = c;
      return 0;
    }
    *out = v;
    return 0;
  }

  struct tv argv_small[8];
  CLEANUP_FREE struct tv *argv_big = NULL;
  struct tv *argv = argv_small;
  if (num_in > 8) {
    argv = argv_big = calloc (num_in, sizeof *argv);
    if (!argv) return errorf (s, "out of memory");
  }
  memset (argv, 0, (num_in > 8 ? num_in : 8) * sizeof *argv);
  size_t i = 0;
  for (; i < num_fixed && i < nargs; i++)
    if (eval_arg (s, dot, f->params[i], args[i], &argv[i]) < 0) { clear_args (argv, num_in); return -1; }
  if (f->variadic)
    for (; i < nargs; i++)
      if (eval_arg (s, dot, f->vparam, args[i], &argv[i]) < 0) { clear_args (argv, num_in); return -1; }
  if (final) {
    enum targ t;
    if (f->variadic) t = (num_in - 1 < num_fixed) ? f->params[num_in - 1] : f->vparam;
    else t = f->params[num_in - 1];
    struct tv c;
    if (tv_copy (&c, final) < 0) { clear_args (argv, num_in); return errorf (s, "out of memory"); }
    if (validate_type (s, &c, t, &argv[i]) < 0) { clear_args (argv, num_in); return -1; }
  }
  struct tcall call = { .args = argv, .nargs = num_in, .ret = out, .data = s->data };
  *out = (struct tv) {0};
  int r = f->impl (&call);
  clear_args (argv, num_in);
  if (r < 0) {
    at (s, cmd);
    errorf (s, "error calling %s: %s", name, call.err ? call.err : "out of memory");
    free (call.err);
    tv_clear (out);
    return -1;
  }
  return 0;
}

static int
eval_pipeline (struct state *s, const struct tv *dot, const struct node *pipe, struct tv *out)
{
  at (s, pipe);
  struct tv value = {0};
  bool have = false;
  for (size_t k = 0; k < pipe->nkids; k++) {
    struct tv next = {0};
    if (eval_command (s, dot, pipe->kids[k], have ? &value : NULL, &next) < 0) {
      tv_clear (&value);
      return -1;
    }
    /* keep owned storage alive when NEXT borrows from VALUE */
    if (value.owned && next.s == value.s && !next.owned) { next.owned = true; value.owned = false; }
    tv_clear (&value);
    value = next;
    have = true;
  }
  for (size_t k = 0; k < pipe->ndecl; k++) {
    const char *name = pipe->decl[k]->idents[0];
    int r = pipe->is_assign ? set_var (s, name, &value) : push_var (s, name, &value);
    if (r < 0) { tv_clear (&value); return -1; }
  }
  *out = value;
  return 0;
}

static int walk (struct state *s, const struct tv *dot, const struct node *n);

static int
walk_list (struct state *s, const struct tv *dot, const struct node *list)
{
  for (size_t k = 0; k < list->nkids; k++) {
    int r = walk (s, dot, list->kids[k]);
    if (r != WALK_OK) return r;
  }
  return WALK_OK;
}

static int
walk_if_or_with (struct state *s, const struct tv *dot, const struct node *n)
{
  size_t mark = s->nvars;
  struct tv val = {0};
  if (eval_pipeline (s, dot, n->pipe, &val) < 0) return WALK_ERR;
  int r = WALK_OK;
  if (tv_truth (&val)) {
    if (n->type == N_WITH) r = walk_list (s, &val, n->list);
    else r = walk_list (s, dot, n->list);
  }
  else if (n->else_list)
    r = walk_list (s, dot, n->else_list);
  tv_clear (&val);
  pop_vars (s, mark);
  return r;
}

static int
walk_range (struct state *s, const struct tv *dot, const struct node *n)
{
  at (s, n);
  size_t mark0 = s->nvars;
  struct tv val = {0};
  if (eval_pipeline (s, dot, n->pipe, &val) < 0) return WALK_ERR;
  size_t mark = s->nvars;
  int r = WALK_OK;
  bool iterated = false;
  if (val.type == TV_LIST) {
    const struct tlist *l = val.list;
    for (size_t k = 0; k < l->n; k++) {
      iterated = true;
      struct tv elem = { .type = TV_STRING, .s = l->items[k], .len = l->lens[k] };
      struct tv index = { .type = TV_INT, .i = (int64_t) k };
      const struct node *p = n->pipe;
      int e = 0;
      if (p->ndecl > 0) {
        if (p->is_assign) e = set_var (s, p->decl[0]->idents[0], p->ndecl > 1 ? &index : &elem);
        else e = set_top_var (s, 1, &elem);
      }
      if (e == 0 && p->ndecl > 1) {
        if (p->is_assign) e = set_var (s, p->decl[1]->idents[0], &elem);
        else e = set_top_var (s, 2, &index);
      }
      if (e < 0) { r = WALK_ERR; break; }
      r = walk_list (s, &elem, n->list);
      pop_vars (s, mark);
      if (r == WALK_CONTINUE) { r = WALK_OK; continue; }
      if (r == WALK_BREAK) { r = WALK_OK; break; }
      if (r != WALK_OK) break;
    }
  }
  else if (val.type != TV_NONE && val.type != TV_NIL) {
    CLEANUP_TBUF struct tbuf b = {0};
    tv_print (&b, &val);
    errorf (s, "range can't iterate over %s", b.p ? b.p : "");
    r = WALK_ERR;
  }
  if (r == WALK_OK && !iterated && n->else_list)
    r = walk_list (s, dot, n->else_list);
  tv_clear (&val);
  pop_vars (s, mark0);
  return r;
}

static int
walk (struct state *s, const struct tv *dot, const struct node *n)
{
  switch (n->type) {
  case N_ACTION: {
    struct tv val = {0};
    if (eval_pipeline (s, dot, n->pipe, &val) < 0) return WALK_ERR;
    if (n->pipe->ndecl == 0) {
      at (s, n);
      tv_print (s->out, &val);
    }
    tv_clear (&val);
    return s->out->oom ? (errorf (s, "out of memory"), WALK_ERR) : WALK_OK;
  }
  case N_BREAK: return WALK_BREAK;
  case N_CONTINUE: return WALK_CONTINUE;
  case N_IF: case N_WITH: return walk_if_or_with (s, dot, n);
  case N_LIST: return walk_list (s, dot, n);
  case N_RANGE: return walk_range (s, dot, n);
  case N_TEXT: tbuf_add (s->out, n->text, n->text_len); return WALK_OK;
  default: return WALK_OK;
  }
}

char *
ferry_template_execute_len (const struct ferry_template *t, const struct ferry_template_data *data,
                            size_t *len_out, char **err)
{
  if (err) *err = NULL;
  struct tbuf out = {0};
  struct state s = { .t = t, .data = data, .out = &out };
  struct tv dot = {0};
  if (data) dot = (struct tv) { .type = TV_DATA, .data = data };
  else dot = (struct tv) { .type = TV_NONE };
  int r = push_var (&s, "$", &dot);
  if (r == 0 && walk (&s, &dot, t->root) < 0) r = -1;
  pop_vars (&s, 0);
  free (s.vars);
  if (r < 0 || out.oom) {
    tbuf_free (&out);
    if (!s.err) s.err = strdup ("template: out of memory");
    if (err) *err = s.err; else free (s.err);
    return NULL;
  }
  size_t len = out.len;
  char *res = tbuf_steal (&out);
  if (!res) {
    if (err) *err = strdup ("template: out of memory");
    return NULL;
  }
  if (len_out) *len_out = len;
  return res;
}

char *
ferry_template_execute (const struct ferry_template *t, const struct ferry_template_data *data, char **err)
{
  return ferry_template_execute_len (t, data, NULL, err);
}
