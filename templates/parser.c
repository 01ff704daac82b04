/* Parser: tokens -> node tree, following Go's text/template/parse grammar
 * and its error messages.  Parse errors add the column Go leaves out:
 * "template: NAME:LINE:COL: reason".
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "template-internal.h"

struct parser {
  const char *name;
  const char *text;
  struct token *toks;
  size_t ntok, i;
  size_t cur;                   /* index of the most recently consumed token */
  char **vars;                  /* declared variable names (borrowed from nodes) */
  size_t nvars, capvars;
  int range_depth;
  int depth;                    /* nesting of pipelines and controls */
  int action_line;
  char *err;
  jmp_buf jb;
  struct node **all;            /* every node made, for freeing after an error */
  size_t nall, capall;
  struct tbuf tmp, tmp2;        /* scratch (freed at the end) */
};

static void node_free_shallow (struct node *n);
static void perr (struct parser *p, const char *fs, ...)
  __attribute__((format (printf, 2, 3), noreturn));

static void
perr (struct parser *p, const char *fs, ...)
{
  const struct token *t = &p->toks[p->cur];
  int col = 0;
  size_t ls = t->pos;
  while (ls > 0 && p->text[ls - 1] != '\n') ls--;
  col = (int) (t->pos - ls);
  char *m = NULL;
  va_list ap;
  va_start (ap, fs);
  if (vasprintf (&m, fs, ap) < 0) m = NULL;
  va_end (ap);
  if (asprintf (&p->err, "template: %s:%d:%d: %s", p->name, t->line, col, m ? m : "out of memory") < 0)
    p->err = NULL;
  free (m);
  longjmp (p->jb, 1);
}

static void *
xcalloc (struct parser *p, size_t n, size_t sz)
{
  void *r = calloc (n ? n : 1, sz);
  if (!r) perr (p, "out of memory");
  return r;
}

static char *
xstrndup (struct parser *p, const char *s, size_t n)
{
  char *r = malloc (n + 1);
  if (!r) perr (p, "out of memory");
  memcpy (r, s, n);
  r[n] = '\0';
  return r;
}

static void
push_kid (struct parser *p, struct node ***arr, size_t *n, struct node *k)
{
  struct node **a = realloc (*arr, (*n + 1) * sizeof *a);
  if (!a) perr (p, "out of memory");
  a[(*n)++] = k;
  *arr = a;
}

static struct token *
next (struct parser *p)
{
  if (p->i < p->ntok) p->cur = p->i++;
  return &p->toks[p->cur];
}
static void backup (struct parser *p) { if (p->i > 0) p->i--; }
static struct token *peek (struct parser *p) { return &p->toks[p->i < p->ntok ? p->i : p->ntok - 1]; }
static struct token *
next_non_space (struct parser *p)
{
  struct token *t;
  do t = next (p); while (t->type == TOK_SPACE);
  return t;
}
static struct token *
peek_non_space (struct parser *p)
{
  struct token *t = next_non_space (p);
  backup (p);
  return t;
}

static const char *
pquote (struct parser *p, const char *s, size_t n)
{
  p->tmp.len = 0;
  go_quote (&p->tmp, s, n);
  return p->tmp.p ? p->tmp.p : "";
}

/* Go's item.String(). */
static void
token_string (struct tbuf *b, const struct token *t)
{
  switch (t->type) {
  case TOK_EOF: tbuf_adds (b, "EOF"); return;
  case TOK_ERROR: tbuf_add (b, t->val, t->len); return;
  case TOK_IF: case TOK_ELSE: case TOK_END: case TOK_RANGE: case TOK_WITH:
  case TOK_DEFINE: case TOK_TEMPLATE: case TOK_BLOCK: case TOK_BREAK:
  case TOK_CONTINUE: case TOK_DOT: case TOK_NIL:
    tbuf_addc (b, '<'); tbuf_add (b, t->val, t->len); tbuf_addc (b, '>'); return;
  default: break;
  }
  if (t->len > 10) {
    /* %.10q: first 10 runes */
    size_t n = 0, k = 0, w;
    while (k < 10 && n < t->len) { utf8_decode (t->val + n, t->len - n, &w); n += w; k++; }
    go_quote (b, t->val, n);
    tbuf_adds (b, "...");
    return;
  }
  go_quote (b, t->val, t->len);
}

static void unexpected (struct parser *p, const struct token *t, const char *context)
  __attribute__((noreturn));
static void
unexpected (struct parser *p, const struct token *t, const char *context)
{
  struct tbuf *bp = &p->tmp2;
  bp->len = 0;
  token_string (bp, t);
  struct tbuf b = *bp;
  if (t->type == TOK_ERROR) {
    if (p->action_line != 0 && p->action_line != t->line) {
      bool act = t->len >= 7 && memcmp (t->val + t->len - 7, " action", 7) == 0;
      perr (p, "%s%s at %s:%d", b.p, act ? "" : " in action started", p->name, p->action_line);
    }
    perr (p, "%s", b.p);
  }
  perr (p, "unexpected %s in %s", b.p ? b.p : "", context);
}

static struct node *
new_node (struct parser *p, enum node_type t, const struct token *tok)
{
  if (p->nall == p->capall) {
    size_t cap = p->capall ? p->capall * 2 : 32;
    struct node **a = realloc (p->all, cap * sizeof *a);
    if (!a) perr (p, "out of memory");
    p->all = a; p->capall = cap;
  }
  struct node *n = xcalloc (p, 1, sizeof *n);
  p->all[p->nall++] = n;
  n->type = t;
  n->pos = tok->pos;
  n->line = tok->line;
  return n;
}

/* Keep N freed if parsing fails before it is linked. */

static struct node *pipeline (struct parser *p, const char *context, enum tok_type end);
static struct node *item_list (struct parser *p, struct node **end_node);

static void
push_var (struct parser *p, char *name)
{
  if (p->nvars == p->capvars) {
    size_t cap = p->capvars ? p->capvars * 2 : 8;
    char **v = realloc (p->vars, cap * sizeof *v);
    if (!v) perr (p, "out of memory");
    p->vars = v; p->capvars = cap;
  }
  p->vars[p->nvars++] = name;
}

/* Unquote a Go string literal (interpreted or raw).  -1 on bad syntax. */
static int
unquote_char (const char **sp, const char *end, char quote, struct tbuf *out)
{
  const char *s = *sp;
  if (s >= end) return -1;
  unsigned char c = (unsigned char) *s;
  if (c == (unsigned char) quote && (quote == '\'' || quote == '"')) return -1;
  if (c >= 0x80) {
    size_t w;
    uint32_t r = utf8_decode (s, (size_t) (end - s), &w);
    tbuf_add_rune (out, r);     /* invalid bytes become U+FFFD, as in Go */
    *sp = s + w;
    return 0;
  }
  if (c != '\\') { tbuf_addc (out, (char) c); *sp = s + 1; return 0; }
  if (s + 1 >= end) return -1;
  c = (unsigned char) s[1];
  s += 2;
  uint32_t v = 0;
  int ndig = 0, base = 16;
  switch (c) {
  case 'a': tbuf_addc (out, '\a'); break;
  case 'b': tbuf_addc (out, '\b'); break;
  case 'f': tbuf_addc (out, '\f'); break;
  case 'n': tbuf_addc (out, '\n'); break;
  case 'r': tbuf_addc (out, '\r'); break;
  case 't': tbuf_addc (out, '\t'); break;
  case 'v': tbuf_addc (out, '\v'); break;
  case '\\': tbuf_addc (out, '\\'); break;
  case '\'': case '"':
    if (c != (unsigned char) quote) return -1;
    tbuf_addc (out, (char) c);
    break;
  case 'x': ndig = 2; goto digits;
  case 'u': ndig = 4; goto digits;
  case 'U': ndig = 8; goto digits;
  case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
    ndig = 3; base = 8; s--;
  digits:
    for (int k = 0; k < ndig; k++) {
      if (s >= end) return -1;
      int d;
      char h = *s++;
      if (h >= '0' && h <= '9') d = h - '0';
      else if (base == 16 && h >= 'a' && h <= 'f') d = h - 'a' + 10;
      else if (base == 16 && h >= 'A' && h <= 'F') d = h - 'A' + 10;
      else return -1;
      if (d >= base) return -1;
      v = v * (uint32_t) base + (uint32_t) d;
    }
    if (c == 'x' || base == 8) {
      if (v > 255) return -1;
      if (quote == '\'' ) { tbuf_add_rune (out, v); break; }
      tbuf_addc (out, (char) v);
      break;
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) return -1;
    tbuf_add_rune (out, v);
    break;
  default:
    return -1;
  }
  *sp = s;
  return 0;
}

static int
unquote (const char *s, size_t n, struct tbuf *out)
{
  if (n < 2) return -1;
  if (s[0] == '`') {
    if (s[n - 1] != '`') return -1;
    for (size_t k = 1; k + 1 < n; k++)
      if (s[k] != '\r') tbuf_addc (out, s[k]);
    if (n == 2) tbuf_add (out, "", 0);
    return 0;
  }
  if (s[0] != '"' || s[n - 1] != '"') return -1;
  const char *q = s + 1, *end = s + n - 1;
  while (q < end) {
    if (*q == '\n') return -1;
    if (unquote_char (&q, end, '"', out) < 0) return -1;
  }
  return 0;
}

static bool
underscore_ok (const char *s, size_t n)
{
  /* Go's strconv underscoreOK: '_' only between digits or prefix and digit */
  char saw = '^';
  size_t i = 0;
  if (n >= 1 && (s[0] == '-' || s[0] == '+')) { i = 1; }
  bool hex = false;
  if (n - i >= 2 && s[i] == '0' && strchr ("xXbBoO", s[i + 1])) {
    hex = s[i + 1] == 'x' || s[i + 1] == 'X';
    i += 2; saw = '0';
  }
  for (; i < n; i++) {
    char c = s[i];
    if ((c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))) { saw = '0'; continue; }
    if (c == '_') { if (saw != '0') return false; saw = '_'; continue; }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

/* strconv.ParseInt/ParseUint with base 0. */
static bool
parse_int_base0 (const char *s, size_t n, bool is_signed, int64_t *iv, uint64_t *uv)
{
  size_t i = 0;
  bool neg = false;
  if (is_signed && n > 0 && (s[0] == '+' || s[0] == '-')) { neg = s[0] == '-'; i = 1; }
  if (i >= n) return false;
  int base = 10;
  bool prefixed = false;
  if (s[i] == '0' && n - i > 1) {
    char c = s[i + 1];
    if (c == 'x' || c == 'X') { base = 16; i += 2; prefixed = true; }
    else if (c == 'o' || c == 'O') { base = 8; i += 2; prefixed = true; }
    else if (c == 'b' || c == 'B') { base = 2; i += 2; prefixed = true; }
    else { base = 8; i += 1; prefixed = true; }
  }
  (void) prefixed;
  if (i >= n && base != 8) return false;
  uint64_t v = 0;
  bool any = base == 8 && s[i - 1] == '0';
  bool underscores = false;
  for (; i < n; i++) {
    char c = s[i];
    int d;
    if (c == '_') { underscores = true; continue; }
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'Z') d = c - 'A' + 10;
    else return false;
    if (d >= base) return false;
    if (v > (UINT64_MAX - (uint64_t) d) / (uint64_t) base) return false;
    v = v * (uint64_t) base + (uint64_t) d;
    any = true;
  }
  if (!any) return false;
  if (underscores && !underscore_ok (s, n)) return false;
  if (!is_signed) { *uv = v; return true; }
  if (neg) {
    if (v > (uint64_t) INT64_MAX + 1) return false;
    *iv = v == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) v;
  }
  else {
    if (v > (uint64_t) INT64_MAX) return false;
    *iv = (int64_t) v;
  }
  return true;
}

static bool
parse_float (const char *s, size_t n, double *f)
{
  char buf[128];
  size_t k = 0;
  if (n == 0 || n >= sizeof buf) return false;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '_') continue;
    buf[k++] = s[i];
  }
  buf[k] = '\0';
  if (memchr (s, '_', n) && !underscore_ok (s, n)) return false;
  /* reject forms C accepts but Go does not: inf, nan, hex without p */
  bool hex = k > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X');
  if (buf[0] == '+' || buf[0] == '-') hex = k > 3 && buf[1] == '0' && (buf[2] == 'x' || buf[2] == 'X');
  for (size_t i = 0; i < k; i++) {
    char c = buf[i];
    bool ok = (c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-';
    if (hex) ok = ok || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == 'x' || c == 'X' || c == 'p' || c == 'P';
    else ok = ok || c == 'e' || c == 'E';
    if (!ok) return false;
  }
  if (hex && !strpbrk (buf, "pP")) return false;
  char *end;
  errno = 0;
  double v = strtod (buf, &end);
  if (*end != '\0' || end == buf) return false;
  if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL)) return false;
  *f = v;
  return true;
}

static struct node *
new_number (struct parser *p, const struct token *t)
{
  struct node *n = new_node (p, N_NUMBER, t);
  n->text = xstrndup (p, t->val, t->len);
  n->text_len = t->len;
  const char *s = t->val;
  size_t len = t->len;
  if (t->type == TOK_CHAR) {
    struct tbuf *bp = &p->tmp2;
    bp->len = 0;
    const char *q = s + 1, *end = s + len;
    if (len < 3 || unquote_char (&q, end - 1, '\'', bp) < 0) perr (p, "invalid syntax");
    struct tbuf b = *bp;
    if (q != end - 1) perr (p, "malformed character constant: %s", n->text);
    size_t w;
    uint32_t r = b.len ? utf8_decode (b.p, b.len, &w) : 0;
    if (b.len == 1) r = (unsigned char) b.p[0];
    n->is_char = n->is_int = n->is_uint = n->is_float = true;
    n->i64 = r; n->u64 = r; n->f64 = r;
    return n;
  }
  if (len && s[len - 1] == 'i')
    perr (p, "complex constants are not supported: %s", n->text);
  uint64_t u;
  int64_t i;
  if (parse_int_base0 (s, len, false, NULL, &u)) { n->is_uint = true; n->u64 = u; }
  if (parse_int_base0 (s, len, true, &i, NULL)) {
    n->is_int = true; n->i64 = i;
    if (i == 0) { n->is_uint = true; n->u64 = 0; }
  }
  if (n->is_int) { n->is_float = true; n->f64 = (double) n->i64; }
  else if (n->is_uint) { n->is_float = true; n->f64 = (double) n->u64; }
  else {
    double f;
    if (parse_float (s, len, &f)) {
      if (!strpbrk (n->text, ".eEpP"))
        perr (p, "integer overflow: %s", pquote (p, s, len));
      n->is_float = true;
      n->f64 = f;
      if (!n->is_int && f >= -9.2233720368547758e18 && f < 9.2233720368547758e18 && (double) (int64_t) f == f) {
        n->is_int = true; n->i64 = (int64_t) f;
      }
      if (!n->is_uint && f >= 0 && f < 1.8446744073709552e19 && (double) (uint64_t) f == f) {
        n->is_uint = true; n->u64 = (uint64_t) f;
      }
    }
  }
  if (!n->is_int && !n->is_uint && !n->is_float) {
    perr (p, "illegal number syntax: %s", pquote (p, s, len));
  }
  return n;
}

static struct node *
new_var_or_field (struct parser *p, enum node_type type, const struct token *t,
                  const char *s, size_t len)
{
  struct node *n = new_node (p, type, t);
  /* split on '.'; a field's leading '.' is dropped */
  size_t k = 0;
  if (type == N_FIELD) k = 1;
  while (k <= len) {
    size_t e = k;
    while (e < len && s[e] != '.') e++;
    char **a = realloc (n->idents, (n->nidents + 1) * sizeof *a);
    if (!a) perr (p, "out of memory");
    n->idents = a;
    n->idents[n->nidents++] = xstrndup (p, s + k, e - k);
    k = e + 1;
  }
  return n;
}

static struct node *
use_var (struct parser *p, const struct token *t)
{
  struct node *v = new_var_or_field (p, N_VARIABLE, t, t->val, t->len);
  for (size_t k = 0; k < p->nvars; k++)
    if (strcmp (p->vars[k], v->idents[0]) == 0)
      return v;
  perr (p, "undefined variable %s", pquote (p, v->idents[0], strlen (v->idents[0])));
}

static struct node *
term (struct parser *p)
{
  struct token *t = next_non_space (p);
  switch (t->type) {
  case TOK_IDENT: {
    const struct tfunc *f = tfunc_lookup (t->val, t->len);
    if (!f) {
      perr (p, "function %s not defined", pquote (p, t->val, t->len));
    }
    struct node *n = new_node (p, N_IDENT, t);
    n->fn = f;
    n->text = xstrndup (p, t->val, t->len);
    n->text_len = t->len;
    return n;
  }
  case TOK_DOT: return new_node (p, N_DOT, t);
  case TOK_NIL: return new_node (p, N_NIL, t);
  case TOK_VARIABLE: return use_var (p, t);
  case TOK_FIELD: return new_var_or_field (p, N_FIELD, t, t->val, t->len);
  case TOK_BOOL: {
    struct node *n = new_node (p, N_BOOL, t);
    n->b = t->len == 4;
    return n;
  }
  case TOK_CHAR: case TOK_NUMBER: return new_number (p, t);
  case TOK_LPAREN: return pipeline (p, "parenthesized pipeline", TOK_RPAREN);
  case TOK_STRING: case TOK_RAWSTRING: {
    struct node *n = new_node (p, N_STRING, t);
    n->quoted = xstrndup (p, t->val, t->len);
    struct tbuf *bp = &p->tmp2;
    bp->len = 0;
    if (unquote (t->val, t->len, bp) < 0) perr (p, "invalid syntax");
    struct tbuf b = *bp;
    n->text = xstrndup (p, b.p ? b.p : "", b.len);
    n->text_len = b.len;
    return n;
  }
  default:
    backup (p);
    return NULL;
  }
}

static struct node *
operand (struct parser *p)
{
  struct node *n = term (p);
  if (!n) return NULL;
  if (peek (p)->type == TOK_FIELD) {
    struct node *chain = new_node (p, N_CHAIN, peek (p));
    while (peek (p)->type == TOK_FIELD) {
      struct token *f = next (p);
      char **a = realloc (chain->idents, (chain->nidents + 1) * sizeof *a);
      if (!a) perr (p, "out of memory");
      chain->idents = a;
      chain->idents[chain->nidents++] = xstrndup (p, f->val + 1, f->len - 1);
    }
    switch (n->type) {
    case N_FIELD: case N_VARIABLE:
      for (size_t k = 0; k < chain->nidents; k++) {
        char **a = realloc (n->idents, (n->nidents + 1) * sizeof *a);
        if (!a) perr (p, "out of memory");
        n->idents = a;
        n->idents[n->nidents++] = chain->idents[k];
        chain->idents[k] = NULL;
      }
      n->pos = chain->pos;
      n->line = chain->line;
      chain->type = N_COMMENT;  /* unlinked: freed at the end of parsing */
      return n;
    case N_BOOL: case N_STRING: case N_NUMBER: case N_NIL: case N_DOT: {
      p->tmp2.len = 0;
      node_string (&p->tmp2, n);
      perr (p, "unexpected . after term %s", pquote (p, p->tmp2.p ? p->tmp2.p : "", p->tmp2.len));
    }
    default:
      chain->pipe = n;
      return chain;
    }
  }
  return n;
}

static struct node *
command (struct parser *p)
{
  struct node *cmd = new_node (p, N_COMMAND, peek_non_space (p));
  for (;;) {
    peek_non_space (p);
    struct node *o = operand (p);
    if (o) push_kid (p, &cmd->kids, &cmd->nkids, o);
    struct token *t = next (p);
    if (t->type == TOK_SPACE) continue;
    if (t->type == TOK_RIGHT || t->type == TOK_RPAREN) backup (p);
    else if (t->type != TOK_PIPE) unexpected (p, t, "operand");
    break;
  }
  if (cmd->nkids == 0) perr (p, "empty command");
  return cmd;
}

/* Nesting bound: the parser and the executor recurse per level. */
#define MAX_DEPTH 1000

static struct node *pipeline_body (struct parser *p, const char *context, enum tok_type end);

static struct node *
pipeline (struct parser *p, const char *context, enum tok_type end)
{
  if (++p->depth > MAX_DEPTH)
    perr (p, "template nesting too deep (more than %d levels)", MAX_DEPTH);
  struct node *n = pipeline_body (p, context, end);
  p->depth--;
  return n;
}

static struct node *
pipeline_body (struct parser *p, const char *context, enum tok_type end)
{
  struct node *pipe = new_node (p, N_PIPE, peek_non_space (p));
decls:
  if (peek_non_space (p)->type == TOK_VARIABLE) {
    struct token *v = next_non_space (p);
    size_t after_var = p->i;
    struct token *tav = peek (p);
    struct token *nx = peek_non_space (p);
    if (nx->type == TOK_ASSIGN || nx->type == TOK_DECLARE) {
      pipe->is_assign = nx->type == TOK_ASSIGN;
      next_non_space (p);
      struct node *vn = new_var_or_field (p, N_VARIABLE, v, v->val, v->len);
      push_kid (p, &pipe->decl, &pipe->ndecl, vn);
      push_var (p, vn->idents[0]);
    }
    else if (nx->type == TOK_CHARSYM && nx->len == 1 && nx->val[0] == ',') {
      next_non_space (p);
      struct node *vn = new_var_or_field (p, N_VARIABLE, v, v->val, v->len);
      push_kid (p, &pipe->decl, &pipe->ndecl, vn);
      push_var (p, vn->idents[0]);
      if (strcmp (context, "range") == 0 && pipe->ndecl < 2) {
        enum tok_type pt = peek_non_space (p)->type;
        if (pt == TOK_VARIABLE || pt == TOK_RIGHT || pt == TOK_RPAREN)
          goto decls;
        perr (p, "range can only initialize variables");
      }
      perr (p, "too many declarations in %s", context);
    }
    else if (tav->type == TOK_SPACE) {
      p->i = after_var - 1;     /* back before the variable */
    }
    else {
      p->i = after_var - 1;
    }
  }
  for (;;) {
    struct token *t = next_non_space (p);
    if (t->type == end) {
      if (pipe->nkids == 0) perr (p, "missing value for %s", context);
      for (size_t k = 1; k < pipe->nkids; k++) {
        enum node_type a0 = pipe->kids[k]->kids[0]->type;
        if (a0 == N_BOOL || a0 == N_DOT || a0 == N_NIL || a0 == N_NUMBER || a0 == N_STRING)
          perr (p, "non executable command in pipeline stage %zu", k + 1);
      }
      return pipe;
    }
    switch (t->type) {
    case TOK_BOOL: case TOK_CHAR: case TOK_DOT: case TOK_FIELD: case TOK_IDENT:
    case TOK_NUMBER: case TOK_NIL: case TOK_RAWSTRING: case TOK_STRING:
    case TOK_VARIABLE: case TOK_LPAREN:
      backup (p);
      push_kid (p, &pipe->kids, &pipe->nkids, command (p));
      break;
    default:
      unexpected (p, t, context);
    }
  }
}

static struct node *
control (struct parser *p, enum node_type type, bool allow_else_if, const char *context)
{
  size_t saved_vars = p->nvars;
  if (++p->depth > MAX_DEPTH)
    perr (p, "template nesting too deep (more than %d levels)", MAX_DEPTH);
  struct node *n = new_node (p, type, peek (p));
  n->pipe = pipeline (p, context, TOK_RIGHT);
  n->pos = n->pipe->pos;
  n->line = n->pipe->line;
  if (type == N_RANGE) p->range_depth++;
  struct node *next_node = NULL;
  n->list = item_list (p, &next_node);
  if (type == N_RANGE) p->range_depth--;
  if (next_node->text && strcmp (next_node->text, "else") == 0) {
    size_t else_pos = next_node->pos;
    int else_line = next_node->line;
    next_node = NULL;
    if (allow_else_if && peek (p)->type == TOK_IF) {
      struct token *ift = next (p);
      (void) ift;
      n->else_list = new_node (p, N_LIST, peek (p));
      n->else_list->pos = else_pos;
      n->else_list->line = else_line;
      push_kid (p, &n->else_list->kids, &n->else_list->nkids,
                control (p, N_IF, true, "if"));
      p->nvars = saved_vars;
      p->depth--;
      return n;
    }
    n->else_list = item_list (p, &next_node);
    if (strcmp (next_node->text, "end") != 0) {
      perr (p, "expected end; found {{else}}");
    }
  }
  p->nvars = saved_vars;
  p->depth--;
  return n;
}

/* {{end}} and {{else}} come back as N_TEXT-less markers with text "end"/"else". */
static struct node *
marker (struct parser *p, const char *what, const struct token *t)
{
  struct node *n = new_node (p, N_COMMENT, t);
  n->text = xstrndup (p, what, strlen (what));
  return n;
}

static struct node *
action (struct parser *p)
{
  struct token *t = next_non_space (p);
  switch (t->type) {
  case TOK_BLOCK: case TOK_TEMPLATE: case TOK_DEFINE:
    perr (p, "{{%.*s}} is not supported in name templates", (int) t->len, t->val);
  case TOK_BREAK: case TOK_CONTINUE: {
    bool brk = t->type == TOK_BREAK;
    struct token *n = next_non_space (p);
    if (n->type != TOK_RIGHT) unexpected (p, n, brk ? "{{break}}" : "{{continue}}");
    if (p->range_depth == 0) perr (p, brk ? "{{break}} outside {{range}}" : "{{continue}} outside {{range}}");
    return new_node (p, brk ? N_BREAK : N_CONTINUE, t);
  }
  case TOK_ELSE: {
    struct token *pk = peek_non_space (p);
    if (pk->type == TOK_IF)
      return marker (p, "else", pk);
    struct token *r = next_non_space (p);
    if (r->type != TOK_RIGHT) unexpected (p, r, "else");
    return marker (p, "else", r);
  }
  case TOK_END: {
    struct token *r = next_non_space (p);
    if (r->type != TOK_RIGHT) unexpected (p, r, "end");
    return marker (p, "end", r);
  }
  case TOK_IF: return control (p, N_IF, true, "if");
  case TOK_RANGE: return control (p, N_RANGE, false, "range");
  case TOK_WITH: return control (p, N_WITH, false, "with");
  default: break;
  }
  backup (p);
  struct token *pk = peek (p);
  struct node *a = new_node (p, N_ACTION, pk);
  a->pipe = pipeline (p, "command", TOK_RIGHT);
  return a;
}

static struct node *
text_or_action (struct parser *p)
{
  struct token *t = next_non_space (p);
  switch (t->type) {
  case TOK_TEXT: {
    struct node *n = new_node (p, N_TEXT, t);
    n->text = xstrndup (p, t->val, t->len);
    n->text_len = t->len;
    return n;
  }
  case TOK_LEFT: {
    int saved = p->action_line;
    p->action_line = t->line;
    struct node *n = action (p);
    p->action_line = saved;
    return n;
  }
  default:
    unexpected (p, t, "input");
  }
}

static bool
is_marker (const struct node *n, const char *what)
{
  return n->type == N_COMMENT && n->text && (!what || strcmp (n->text, what) == 0);
}

static struct node *
item_list (struct parser *p, struct node **end_node)
{
  struct node *list = new_node (p, N_LIST, peek_non_space (p));
  while (peek_non_space (p)->type != TOK_EOF) {
    struct node *n = text_or_action (p);
    if (is_marker (n, NULL)) {
      *end_node = n;
      return list;
    }
    push_kid (p, &list->kids, &list->nkids, n);
  }
  perr (p, "unexpected EOF");
}

/* The whole text; NULL after an error (pp->err set). */
static struct node *
parse_tree (struct parser *pp)
{
  if (setjmp (pp->jb) != 0)
    return NULL;
  push_var (pp, (char *) "$");
  struct node *root = new_node (pp, N_LIST, peek (pp));
  while (peek (pp)->type != TOK_EOF) {
    struct node *n = text_or_action (pp);
    if (is_marker (n, NULL))
      perr (pp, "unexpected {{%s}}", n->text);
    push_kid (pp, &root->kids, &root->nkids, n);
  }
  return root;
}

struct ferry_template *
ferry_template_parse (const char *name, const char *text, char **err)
{
  if (err) *err = NULL;
  if (!name) name = "";
  if (!text) text = "";
  struct ferry_template *t = calloc (1, sizeof *t);
  if (!t) goto oom;
  t->name = strdup (name);
  t->text_len = strlen (text);
  t->text = strdup (text);
  if (!t->name || !t->text) goto oom;

  size_t ntok;
  char *lexerr = NULL;
  struct token *toks = lex_all (t->text, t->text_len, &ntok, &lexerr);
  if (!toks) goto oom;
  struct parser *pp = calloc (1, sizeof *pp);
  if (!pp) { free (toks); free (lexerr); goto oom; }
  *pp = (struct parser) { .name = t->name, .text = t->text, .toks = toks, .ntok = ntok };
  t->root = parse_tree (pp);
  /* Nodes never linked into the tree (markers, merged chains) go now;
   * after an error, every node goes, one by one.
   */
  for (size_t k = 0; k < pp->nall; k++)
    if (!t->root || pp->all[k]->type == N_COMMENT)
      node_free_shallow (pp->all[k]);
  char *perrmsg = pp->err;
  free (pp->all);
  tbuf_free (&pp->tmp);
  tbuf_free (&pp->tmp2);
  free (pp->vars);
  free (pp);
  free (toks);
  free (lexerr);
  if (!t->root) {
    if (err) *err = perrmsg ? perrmsg : strdup ("template: out of memory");
    else free (perrmsg);
    ferry_template_free (t);
    return NULL;
  }
  return t;

 oom:
  ferry_template_free (t);
  if (err) *err = strdup ("template: out of memory");
  return NULL;
}

static void
node_free_shallow (struct node *n)
{
  free (n->kids);
  free (n->decl);
  free (n->text);
  free (n->quoted);
  for (size_t k = 0; k < n->nidents; k++) free (n->idents[k]);
  free (n->idents);
  free (n);
}

void
node_free (struct node *n)
{
  if (!n) return;
  for (size_t k = 0; k < n->nkids; k++) node_free (n->kids[k]);
  free (n->kids);
  for (size_t k = 0; k < n->ndecl; k++) node_free (n->decl[k]);
  free (n->decl);
  node_free (n->pipe);
  node_free (n->list);
  node_free (n->else_list);
  free (n->text);
  free (n->quoted);
  for (size_t k = 0; k < n->nidents; k++) free (n->idents[k]);
  free (n->idents);
  free (n);
}

void
ferry_template_free (struct ferry_template *t)
{
  if (!t) return;
  node_free (t->root);
  free (t->name);
  free (t->text);
  free (t);
}

const char *
ferry_template_get0_name (const struct ferry_template *t)
{
  return t->name;
}

void
node_string (struct tbuf *b, const struct node *n)
{
  switch (n->type) {
  case N_LIST:
    for (size_t k = 0; k < n->nkids; k++) node_string (b, n->kids[k]);
    break;
  case N_TEXT: tbuf_add (b, n->text, n->text_len); break;
  case N_ACTION: tbuf_adds (b, "{{"); node_string (b, n->pipe); tbuf_adds (b, "}}"); break;
  case N_IF: case N_RANGE: case N_WITH:
    tbuf_adds (b, n->type == N_IF ? "{{if " : n->type == N_RANGE ? "{{range " : "{{with ");
    node_string (b, n->pipe);
    tbuf_adds (b, "}}");
    node_string (b, n->list);
    if (n->else_list) { tbuf_adds (b, "{{else}}"); node_string (b, n->else_list); }
    tbuf_adds (b, "{{end}}");
    break;
  case N_PIPE:
    for (size_t k = 0; k < n->ndecl; k++) {
      if (k) tbuf_adds (b, ", ");
      node_string (b, n->decl[k]);
    }
    if (n->ndecl) tbuf_adds (b, " := ");
    for (size_t k = 0; k < n->nkids; k++) {
      if (k) tbuf_adds (b, " | ");
      node_string (b, n->kids[k]);
    }
    break;
  case N_COMMAND:
    for (size_t k = 0; k < n->nkids; k++) {
      if (k) tbuf_addc (b, ' ');
      if (n->kids[k]->type == N_PIPE) { tbuf_addc (b, '('); node_string (b, n->kids[k]); tbuf_addc (b, ')'); }
      else node_string (b, n->kids[k]);
    }
    break;
  case N_FIELD:
    for (size_t k = 0; k < n->nidents; k++) { tbuf_addc (b, '.'); tbuf_adds (b, n->idents[k]); }
    break;
  case N_VARIABLE:
    for (size_t k = 0; k < n->nidents; k++) { if (k) tbuf_addc (b, '.'); tbuf_adds (b, n->idents[k]); }
    break;
  case N_CHAIN:
    if (n->pipe->type == N_PIPE) { tbuf_addc (b, '('); node_string (b, n->pipe); tbuf_addc (b, ')'); }
    else node_string (b, n->pipe);
    for (size_t k = 0; k < n->nidents; k++) { tbuf_addc (b, '.'); tbuf_adds (b, n->idents[k]); }
    break;
  case N_DOT: tbuf_addc (b, '.'); break;
  case N_NIL: tbuf_adds (b, "nil"); break;
  case N_IDENT: tbuf_add (b, n->text, n->text_len); break;
  case N_STRING: tbuf_adds (b, n->quoted); break;
  case N_NUMBER: tbuf_add (b, n->text, n->text_len); break;
  case N_BOOL: tbuf_adds (b, n->b ? "true" : "false"); break;
  case N_BREAK: tbuf_adds (b, "{{break}}"); break;
  case N_CONTINUE: tbuf_adds (b, "{{continue}}"); break;
  case N_COMMENT: break;
  }
}

void
tpl_error_context (const struct ferry_template *t, const struct node *n, int *line, int *col)
{
  size_t pos = n->pos;
  if (pos > t->text_len) pos = t->text_len;
  int l = 1;
  size_t ls = 0;
  for (size_t k = 0; k < pos; k++)
    if (t->text[k] == '\n') { l++; ls = k + 1; }
  *line = l;
  *col = (int) (pos - ls);
}
