/* Lexer: Go text/template's tokens, in one pass into an array.
 * Delimiters are fixed to "{{" "}}"; trim markers are "{{- " and " -}}".
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "template-internal.h"

struct lexer {
  const char *in;
  size_t len, pos, start;
  int line, start_line;
  int paren_depth;
  struct token *toks;
  size_t n, cap;
  char *err;                    /* message of the TOK_ERROR, owned */
  bool failed;
};

#define EOF_RUNE 0xFFFFFFFFu

static bool
is_space (uint32_t r)
{
  return r == ' ' || r == '\t' || r == '\r' || r == '\n';
}

static bool
is_alnum (uint32_t r)
{
  return r == '_' || uni_is_letter (r) || uni_is_digit (r);
}

static void
emit (struct lexer *l, enum tok_type t)
{
  if (l->failed) return;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 32;
    struct token *p = realloc (l->toks, cap * sizeof *p);
    if (!p) { l->failed = true; return; }
    l->toks = p; l->cap = cap;
  }
  l->toks[l->n++] = (struct token) {
    .type = t, .pos = l->start, .line = l->start_line,
    .val = l->in + l->start, .len = l->pos - l->start,
  };
  l->start = l->pos;
  l->start_line = l->line;
}

static void
ignore (struct lexer *l)
{
  for (size_t i = l->start; i < l->pos; i++)
    if (l->in[i] == '\n') l->line++;
  l->start = l->pos;
  l->start_line = l->line;
}

static uint32_t
next (struct lexer *l)
{
  if (l->pos >= l->len) { l->pos = l->len + 1; return EOF_RUNE; }
  size_t w;
  uint32_t r = utf8_decode (l->in + l->pos, l->len - l->pos, &w);
  l->pos += w;
  if (r == '\n') l->line++;
  return r;
}

/* Undo one next(); only called right after next(). */
static void
backup (struct lexer *l, uint32_t r)
{
  if (r == EOF_RUNE) { l->pos = l->len; return; }
  size_t w = 1;
  if (r >= 0x80 && r != 0xFFFD) w = r < 0x800 ? 2 : r < 0x10000 ? 3 : 4;
  else if (r == 0xFFFD) {
    /* could be a real U+FFFD (3 bytes) or an invalid byte (1) */
    if (l->pos >= 3 && memcmp (l->in + l->pos - 3, "\xEF\xBF\xBD", 3) == 0) w = 3;
  }
  l->pos -= w;
  if (r == '\n') l->line--;
}

static uint32_t
peek (struct lexer *l)
{
  if (l->pos >= l->len) return EOF_RUNE;
  size_t w;
  return utf8_decode (l->in + l->pos, l->len - l->pos, &w);
}

static bool
has_prefix (struct lexer *l, size_t at, const char *p)
{
  size_t n = strlen (p);
  return at <= l->len && l->len - at >= n && memcmp (l->in + at, p, n) == 0;
}

static bool
left_trim_at (struct lexer *l, size_t at)
{
  return at + 2 <= l->len && l->in[at] == '-' && is_space ((unsigned char) l->in[at + 1]);
}

static bool
right_trim_at (struct lexer *l, size_t at)
{
  return at + 2 <= l->len && is_space ((unsigned char) l->in[at]) && l->in[at + 1] == '-';
}

/* Returns 1 at "}}", 2 at " -}}", else 0. */
static int
at_right_delim (struct lexer *l)
{
  if (right_trim_at (l, l->pos) && has_prefix (l, l->pos + 2, "}}")) return 2;
  if (has_prefix (l, l->pos, "}}")) return 1;
  return 0;
}

static void
errorf (struct lexer *l, const char *fs, ...) __attribute__((format (printf, 2, 3)));
static void
errorf (struct lexer *l, const char *fs, ...)
{
  va_list ap;
  va_start (ap, fs);
  char *m = NULL;
  if (vasprintf (&m, fs, ap) < 0) m = NULL;
  va_end (ap);
  free (l->err);
  l->err = m;
  size_t save = l->pos;
  l->pos = l->start;            /* error token is empty, at the start */
  emit (l, TOK_ERROR);
  l->pos = save;
  if (l->n) { l->toks[l->n - 1].val = m ? m : "out of memory"; l->toks[l->n - 1].len = m ? strlen (m) : 13; }
  l->failed = true;
}

/* Scan a "..." string or '...' character constant after its opening quote,
 * honouring backslash escapes; a newline or the end of input before the
 * closing quote is the error what.  Returns false after the error.
 */
static bool
scan_quoted (struct lexer *l, uint32_t quote, const char *what)
{
  for (;;) {
    uint32_t c = next (l);
    if (c == '\\') {
      c = next (l);
      if (c != EOF_RUNE && c != '\n') continue;
    }
    if (c == EOF_RUNE || c == '\n') {
      if (c == EOF_RUNE) l->pos = l->len;
      errorf (l, "%s", what);
      return false;
    }
    if (c == quote) return true;
  }
}

/* Go's %#U: U+0041 'A' */
static void
fmt_U (char *out, size_t n, uint32_t r)
{
  struct tbuf b = {0};
  if (r == EOF_RUNE) r = 0xFFFFFFFF;
  if (r == 0xFFFFFFFF) { snprintf (out, n, "U+FFFFFFFFFFFFFFFF"); return; }
  tbuf_printf (&b, "U+%04X", r);
  if (uni_is_print (r)) { tbuf_adds (&b, " '"); tbuf_add_rune (&b, r); tbuf_addc (&b, '\''); }
  snprintf (out, n, "%s", b.p ? b.p : "");
  tbuf_free (&b);
}

static bool
at_terminator (struct lexer *l)
{
  uint32_t r = peek (l);
  if (is_space (r)) return true;
  switch (r) {
  case EOF_RUNE: case '.': case ',': case '|': case ':': case ')': case '(':
    return true;
  }
  return has_prefix (l, l->pos, "}}");
}

static bool
accept (struct lexer *l, const char *valid)
{
  if (l->pos < l->len && strchr (valid, l->in[l->pos]) && l->in[l->pos]) {
    l->pos++;
    return true;
  }
  return false;
}

static void
accept_run (struct lexer *l, const char *valid)
{
  while (accept (l, valid))
    ;
}

static bool
scan_number (struct lexer *l)
{
  accept (l, "+-");
  const char *digits = "0123456789_";
  if (accept (l, "0")) {
    if (accept (l, "xX")) digits = "0123456789abcdefABCDEF_";
    else if (accept (l, "oO")) digits = "01234567_";
    else if (accept (l, "bB")) digits = "01_";
  }
  accept_run (l, digits);
  if (accept (l, "."))
    accept_run (l, digits);
  if (strlen (digits) == 11 && accept (l, "eE")) {
    accept (l, "+-");
    accept_run (l, "0123456789_");
  }
  if (strlen (digits) == 23 && accept (l, "pP")) {
    accept (l, "+-");
    accept_run (l, "0123456789_");
  }
  accept (l, "i");
  if (is_alnum (peek (l))) {
    next (l);
    return false;
  }
  return true;
}

static const struct { const char *w; enum tok_type t; } keywords[] = {
  { "if", TOK_IF }, { "else", TOK_ELSE }, { "end", TOK_END },
  { "range", TOK_RANGE }, { "with", TOK_WITH }, { "define", TOK_DEFINE },
  { "template", TOK_TEMPLATE }, { "block", TOK_BLOCK },
  { "break", TOK_BREAK }, { "continue", TOK_CONTINUE }, { "nil", TOK_NIL },
};

/* Inside an action, after the left delimiter. */
static void
lex_action (struct lexer *l)
{
  char u[64];
  for (;;) {
    if (l->failed) return;
    int d = at_right_delim (l);
    if (d) {
      if (l->paren_depth != 0) { errorf (l, "unclosed left paren"); return; }
      if (d == 2) { l->pos += 2; ignore (l); }
      l->pos += 2;
      emit (l, TOK_RIGHT);
      if (d == 2) {
        while (l->pos < l->len && is_space ((unsigned char) l->in[l->pos])) l->pos++;
        ignore (l);
      }
      return;
    }
    uint32_t r = next (l);
    if (r == EOF_RUNE) { l->pos = l->len; errorf (l, "unclosed action"); return; }
    if (is_space (r)) {
      backup (l, r);
      int nsp = 0;
      while (is_space (peek (l))) { next (l); nsp++; }
      if (right_trim_at (l, l->pos - 1) && has_prefix (l, l->pos + 1, "}}")) {
        l->pos--;               /* before the space of " -}}" */
        if (l->in[l->pos] == '\n') l->line--;
        if (nsp == 1)
          continue;             /* at the delimiter now */
      }
      emit (l, TOK_SPACE);
      continue;
    }
    switch (r) {
    case '=': emit (l, TOK_ASSIGN); continue;
    case ':':
      if (next (l) != '=') { errorf (l, "expected :="); return; }
      emit (l, TOK_DECLARE);
      continue;
    case '|': emit (l, TOK_PIPE); continue;
    case '"':
      if (!scan_quoted (l, '"', "unterminated quoted string")) return;
      emit (l, TOK_STRING);
      continue;
    case '`':
      for (;;) {
        uint32_t c = next (l);
        if (c == EOF_RUNE) { l->pos = l->len; errorf (l, "unterminated raw quoted string"); return; }
        if (c == '`') break;
      }
      emit (l, TOK_RAWSTRING);
      continue;
    case '\'':
      if (!scan_quoted (l, '\'', "unterminated character constant")) return;
      emit (l, TOK_CHAR);
      continue;
    case '$':
    case '.': {
      enum tok_type t = r == '$' ? TOK_VARIABLE : TOK_FIELD;
      if (r == '.' && l->pos < l->len && l->in[l->pos] >= '0' && l->in[l->pos] <= '9')
        goto number;
      if (at_terminator (l)) {
        emit (l, r == '$' ? TOK_VARIABLE : TOK_DOT);
        continue;
      }
      uint32_t c;
      for (;;) {
        c = next (l);
        if (!is_alnum (c)) { backup (l, c); break; }
      }
      if (!at_terminator (l)) {
        c = peek (l);
        fmt_U (u, sizeof u, c);
        errorf (l, "bad character %s", u);
        return;
      }
      emit (l, t);
      continue;
    }
    case '(':
      emit (l, TOK_LPAREN); l->paren_depth++; continue;
    case ')':
      emit (l, TOK_RPAREN);
      l->paren_depth--;
      if (l->paren_depth < 0) { fmt_U (u, sizeof u, r); errorf (l, "unexpected right paren %s", u); return; }
      continue;
    }
    if (r == '+' || r == '-' || (r >= '0' && r <= '9')) {
    number:
      backup (l, r);
      if (r == '.') l->pos = l->start;
      if (!scan_number (l)) {
        struct tbuf q = {0};
        go_quote (&q, l->in + l->start, l->pos - l->start);
        errorf (l, "bad number syntax: %s", q.p ? q.p : "\"\"");
        tbuf_free (&q);
        return;
      }
      if (l->pos < l->len && (l->in[l->pos] == '+' || l->in[l->pos] == '-')) {
        /* complex: not supported, but lex it like Go */
        if (!scan_number (l) || l->in[l->pos - 1] != 'i') {
          struct tbuf q = {0};
          go_quote (&q, l->in + l->start, l->pos - l->start);
          errorf (l, "bad number syntax: %s", q.p ? q.p : "\"\"");
          tbuf_free (&q);
          return;
        }
      }
      emit (l, TOK_NUMBER);
      continue;
    }
    if (is_alnum (r)) {
      uint32_t c;
      for (;;) {
        c = next (l);
        if (!is_alnum (c)) { backup (l, c); break; }
      }
      if (!at_terminator (l)) {
        c = peek (l);
        fmt_U (u, sizeof u, c);
        errorf (l, "bad character %s", u);
        return;
      }
      size_t wl = l->pos - l->start;
      const char *w = l->in + l->start;
      enum tok_type t = TOK_IDENT;
      for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strlen (keywords[i].w) == wl && memcmp (keywords[i].w, w, wl) == 0)
          t = keywords[i].t;
      if ((wl == 4 && memcmp (w, "true", 4) == 0) || (wl == 5 && memcmp (w, "false", 5) == 0))
        t = TOK_BOOL;
      emit (l, t);
      continue;
    }
    if (r < 0x80 && r >= 0x20 && r != 0x7F) {
      emit (l, TOK_CHARSYM);
      continue;
    }
    fmt_U (u, sizeof u, r);
    errorf (l, "unrecognized character in action: %s", u);
    return;
  }
}

static void
lex_text (struct lexer *l)
{
  while (!l->failed) {
    const char *p = NULL;
    if (l->pos < l->len)
      p = memmem (l->in + l->pos, l->len - l->pos, "{{", 2);
    if (!p) {
      l->pos = l->len;
      if (l->pos > l->start) { emit (l, TOK_TEXT); }
      emit (l, TOK_EOF);
      return;
    }
    l->pos = (size_t) (p - l->in);
    size_t trim = 0;
    if (left_trim_at (l, l->pos + 2))
      while (trim < l->pos - l->start && is_space ((unsigned char) l->in[l->pos - trim - 1]))
        trim++;
    l->pos -= trim;
    if (l->pos > l->start) {
      size_t save = l->pos;
      for (size_t i = l->start; i < l->pos; i++) if (l->in[i] == '\n') l->line++;
      emit (l, TOK_TEXT);
      l->pos = save;
    }
    l->pos += trim;
    ignore (l);
    /* left delimiter */
    l->pos += 2;
    bool trim_left = left_trim_at (l, l->pos);
    size_t after = trim_left ? 2 : 0;
    if (has_prefix (l, l->pos + after, "/*")) {
      l->pos += after;
      ignore (l);
      l->pos += 2;
      const char *e = l->pos <= l->len ? memmem (l->in + l->pos, l->len - l->pos, "*/", 2) : NULL;
      if (!e) { errorf (l, "unclosed comment"); return; }
      l->pos = (size_t) (e - l->in) + 2;
      int d = at_right_delim (l);
      if (!d) { errorf (l, "comment ends before closing delimiter"); return; }
      if (d == 2) l->pos += 2;
      l->pos += 2;
      if (d == 2)
        while (l->pos < l->len && is_space ((unsigned char) l->in[l->pos])) l->pos++;
      ignore (l);
      continue;
    }
    emit (l, TOK_LEFT);
    l->pos += after;
    ignore (l);
    l->paren_depth = 0;
    lex_action (l);
  }
}

struct token *
lex_all (const char *text, size_t len, size_t *ntok, char **errmsg)
{
  struct lexer l = { .in = text, .len = len, .line = 1, .start_line = 1 };
  lex_text (&l);
  if (!l.toks || (l.failed && !l.err && (l.n == 0 || l.toks[l.n - 1].type != TOK_ERROR))) {
    free (l.toks);
    free (l.err);
    *errmsg = NULL;
    *ntok = 0;
    return NULL;
  }
  *ntok = l.n;
  *errmsg = l.err;              /* owned by the caller; TOK_ERROR val points to it */
  return l.toks;
}
