/* Internal types of the template engine: tokens, nodes, values, the output
 * buffer and the function table.  Not installed.
 */
#ifndef FERRY_TEMPLATE_INTERNAL_H
#define FERRY_TEMPLATE_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ferry-template.h"

static inline void tpl_freep (void *p) { free (*(void **) p); }
#define CLEANUP_FREE __attribute__((cleanup (tpl_freep)))

/* ---- growable byte buffer (buf.c) */
struct tbuf {
  char *p;
  size_t len, cap;
  bool oom;                     /* an allocation failed; contents undefined */
};
void tbuf_add (struct tbuf *b, const char *s, size_t n);
void tbuf_adds (struct tbuf *b, const char *s);
void tbuf_addc (struct tbuf *b, char c);
void tbuf_printf (struct tbuf *b, const char *fs, ...)
  __attribute__((format (printf, 2, 3)));
void tbuf_add_rune (struct tbuf *b, uint32_t r);
char *tbuf_steal (struct tbuf *b);       /* NUL-terminated; NULL on oom */
void tbuf_free (struct tbuf *b);
static inline void tbuf_cleanup (struct tbuf *b) { tbuf_free (b); }
#define CLEANUP_TBUF __attribute__((cleanup (tbuf_cleanup)))

/* UTF-8 (buf.c): decode one rune at s[0..n), *w = bytes used (>=1 if n>0);
 * invalid input gives 0xFFFD with width 1, like Go.
 */
uint32_t utf8_decode (const char *s, size_t n, size_t *w);
bool uni_is_space (uint32_t r);
uint32_t uni_lower (uint32_t r);
uint32_t uni_upper (uint32_t r);
uint32_t uni_title (uint32_t r);        /* unicode.ToTitle */
bool uni_is_letter (uint32_t r);
bool uni_is_digit (uint32_t r);
bool uni_is_print (uint32_t r);

/* ---- tokens (lexer.c) */
enum tok_type {
  TOK_EOF, TOK_ERROR, TOK_TEXT, TOK_COMMENT, TOK_LEFT, TOK_RIGHT, TOK_SPACE,
  TOK_IDENT, TOK_FIELD, TOK_VARIABLE, TOK_DOT, TOK_STRING, TOK_RAWSTRING,
  TOK_CHAR, TOK_NUMBER, TOK_BOOL, TOK_NIL, TOK_PIPE, TOK_LPAREN, TOK_RPAREN,
  TOK_DECLARE, TOK_ASSIGN, TOK_CHARSYM,
  /* keywords */
  TOK_IF, TOK_ELSE, TOK_END, TOK_RANGE, TOK_WITH, TOK_DEFINE, TOK_TEMPLATE,
  TOK_BLOCK, TOK_BREAK, TOK_CONTINUE,
};
struct token {
  enum tok_type type;
  size_t pos;                   /* byte offset in the text */
  int line;                     /* 1-based, of the token's start */
  const char *val;              /* points into the text, or an error message */
  size_t len;
};
struct lexer;
/* Lex the whole text into an array.  On a lexical error the last token is
 * TOK_ERROR whose val is a static/owned message (lexer owns it).
 */
struct token *lex_all (const char *text, size_t len, size_t *ntok, char **errmsg);

/* ---- values */
enum tv_type {
  TV_NONE,                      /* Go's invalid reflect.Value: "<no value>" */
  TV_NIL,                       /* nil interface: "<nil>" */
  TV_STRING, TV_INT, TV_INT64, TV_UINT8, TV_FLOAT, TV_BOOL,
  TV_LIST,                      /* []string */
  TV_DATA,                      /* the data struct */
};
struct tlist { char **items; size_t *lens; size_t n; };
struct tv {
  enum tv_type type;
  bool owned;                   /* s is malloc'd and owned by this value */
  int64_t i;
  double f;
  bool b;
  const char *s;
  size_t len;
  const struct tlist *list;
  const struct ferry_template_data *data;
};
void tv_clear (struct tv *v);   /* frees owned storage, sets TV_NONE */
int tv_copy (struct tv *dst, const struct tv *src);   /* deep copies strings */
int tv_set_string_owned (struct tv *v, char *s, size_t len);
const char *tv_type_name (const struct tv *v);
bool tv_truth (const struct tv *v);
/* %v formatting (fmt.c) */
void tv_print (struct tbuf *b, const struct tv *v);

/* ---- data (data.c) */
struct tfield {
  char *name;
  struct tv v;                  /* strings owned */
  struct tlist list;            /* when v.type == TV_LIST */
};
struct ferry_template_data {
  enum ferry_template_kind kind;
  const char *type_name;        /* "api.PVCNameTemplateData" */
  struct tfield *fields;
  size_t n, cap;
};
const struct tfield *data_get0_field (const struct ferry_template_data *d,
                                      const char *name, size_t len);

/* ---- nodes (parser.c) */
enum node_type {
  N_LIST, N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH, N_PIPE, N_COMMAND,
  N_FIELD, N_VARIABLE, N_DOT, N_NIL, N_IDENT, N_STRING, N_NUMBER, N_BOOL,
  N_CHAIN, N_COMMENT, N_BREAK, N_CONTINUE,
};
struct node {
  enum node_type type;
  size_t pos;
  int line;
  /* children */
  struct node **kids;           /* LIST items, COMMAND args, PIPE cmds */
  size_t nkids;
  struct node **decl;           /* PIPE: declared variables (N_VARIABLE) */
  size_t ndecl;
  bool is_assign;               /* PIPE: "=" rather than ":=" */
  struct node *pipe;            /* ACTION/IF/RANGE/WITH; CHAIN: the operand */
  struct node *list, *else_list; /* IF/RANGE/WITH */
  /* leaves */
  char *text;                   /* TEXT bytes, STRING value, IDENT name, NUMBER source */
  size_t text_len;
  char *quoted;                 /* STRING: the source form */
  char **idents;                /* FIELD/VARIABLE/CHAIN: names (VARIABLE[0] = "$x") */
  size_t nidents;
  bool b;                       /* BOOL */
  /* NUMBER */
  bool is_int, is_uint, is_float, is_char;
  int64_t i64;
  uint64_t u64;
  double f64;
  const struct tfunc *fn;       /* IDENT: resolved function */
};
void node_free (struct node *n);
/* Go's Node.String() */
void node_string (struct tbuf *b, const struct node *n);

struct ferry_template {
  char *name;
  char *text;
  size_t text_len;
  struct node *root;
};
void tpl_error_context (const struct ferry_template *t, const struct node *n,
                        int *line, int *col);

/* ---- functions (funcs-*.c) */
enum targ { A_ANY, A_STRING, A_INT, A_BOOL, A_FLOAT, A_VALUE /* reflect.Value */ };
struct tcall {
  struct tv *args;
  size_t nargs;
  struct tv *ret;
  char *err;                    /* set on failure: "error calling X: <err>" */
  const struct ferry_template_data *data;
};
typedef int (*tfunc_impl) (struct tcall *c);
struct tfunc {
  const char *name;
  tfunc_impl impl;
  int nparams;                  /* fixed params */
  enum targ params[3];
  bool variadic;                /* extra params of type vparam */
  enum targ vparam;
  bool builtin;
};
const struct tfunc *tfunc_lookup (const char *name, size_t len);
int tcall_fail (struct tcall *c, const char *fs, ...)
  __attribute__((format (printf, 2, 3)));
extern const struct tfunc tfuncs_builtin[];
extern const struct tfunc tfuncs_strings[];
extern const struct tfunc tfuncs_math[];

/* Sprig/cast coercions (funcs-math.c) */
int64_t cast_to_int64 (const struct tv *v);
double cast_to_float64 (const struct tv *v);

/* fmt (fmt.c) */
void go_sprintf (struct tbuf *b, const char *fs, size_t fslen,
                 const struct tv *args, size_t nargs);
void go_sprint (struct tbuf *b, const struct tv *args, size_t nargs, bool ln);
void go_format_float (struct tbuf *b, double f, char verb, int prec);
void go_quote (struct tbuf *b, const char *s, size_t n);
void go_sprint_s (struct tbuf *b, const struct tv *v);     /* fmt "%s" */

/* regex (regex.c): Go's Regexp.ReplaceAllString.  Returns 0, or -1 and a
 * malloc'd error "error parsing regexp: ..." in *err.
 */
int go_regex_replace_all (const char *re, size_t relen, const char *src,
                          size_t srclen, const char *repl, size_t repllen,
                          struct tbuf *out, char **err);

#endif /* FERRY_TEMPLATE_INTERNAL_H */
