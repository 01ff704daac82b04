/* Output buffer, UTF-8 decoding and the few Unicode predicates the string
 * functions need.  Case mapping and letter classes use glibc's C.UTF-8
 * tables through a private locale object (never setlocale).
 */
#include <config.h>

#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <wctype.h>

#include "template-internal.h"

static bool
tbuf_reserve (struct tbuf *b, size_t n)
{
  if (b->oom)
    return false;
  if (b->len + n + 1 <= b->cap)
    return true;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + n + 1) {
    if (cap > SIZE_MAX / 2) { b->oom = true; return false; }
    cap *= 2;
  }
  char *p = realloc (b->p, cap);
  if (!p) { b->oom = true; return false; }
  b->p = p;
  b->cap = cap;
  return true;
}

void
tbuf_add (struct tbuf *b, const char *s, size_t n)
{
  if (n == 0 || !tbuf_reserve (b, n))
    return;
  memcpy (b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void tbuf_adds (struct tbuf *b, const char *s) { tbuf_add (b, s, strlen (s)); }
void tbuf_addc (struct tbuf *b, char c) { tbuf_add (b, &c, 1); }

void
tbuf_printf (struct tbuf *b, const char *fs, ...)
{
  va_list ap;
  va_start (ap, fs);
  int n = vsnprintf (NULL, 0, fs, ap);
  va_end (ap);
  if (n < 0 || !tbuf_reserve (b, (size_t) n))
    return;
  va_start (ap, fs);
  vsnprintf (b->p + b->len, (size_t) n + 1, fs, ap);
  va_end (ap);
  b->len += (size_t) n;
}

void
tbuf_add_rune (struct tbuf *b, uint32_t r)
{
  char s[4];
  if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
    r = 0xFFFD;
  if (r < 0x80) { s[0] = (char) r; tbuf_add (b, s, 1); }
  else if (r < 0x800) {
    s[0] = (char) (0xC0 | (r >> 6)); s[1] = (char) (0x80 | (r & 0x3F));
    tbuf_add (b, s, 2);
  }
  else if (r < 0x10000) {
    s[0] = (char) (0xE0 | (r >> 12)); s[1] = (char) (0x80 | ((r >> 6) & 0x3F));
    s[2] = (char) (0x80 | (r & 0x3F));
    tbuf_add (b, s, 3);
  }
  else {
    s[0] = (char) (0xF0 | (r >> 18)); s[1] = (char) (0x80 | ((r >> 12) & 0x3F));
    s[2] = (char) (0x80 | ((r >> 6) & 0x3F)); s[3] = (char) (0x80 | (r & 0x3F));
    tbuf_add (b, s, 4);
  }
}

char *
tbuf_steal (struct tbuf *b)
{
  if (!tbuf_reserve (b, 0)) {
    tbuf_free (b);
    return NULL;
  }
  b->p[b->len] = '\0';
  char *p = b->p;
  b->p = NULL;
  b->len = b->cap = 0;
  return p;
}

void
tbuf_free (struct tbuf *b)
{
  free (b->p);
  b->p = NULL;
  b->len = b->cap = 0;
  b->oom = false;
}

uint32_t
utf8_decode (const char *str, size_t n, size_t *w)
{
  const unsigned char *s = (const unsigned char *) str;
  *w = 1;
  if (n == 0) { *w = 0; return 0xFFFD; }
  unsigned c = s[0];
  if (c < 0x80) return c;
  size_t need;
  uint32_t r, min;
  if (c >= 0xC2 && c <= 0xDF) { need = 2; r = c & 0x1F; min = 0x80; }
  else if (c >= 0xE0 && c <= 0xEF) { need = 3; r = c & 0x0F; min = 0x800; }
  else if (c >= 0xF0 && c <= 0xF4) { need = 4; r = c & 0x07; min = 0x10000; }
  else return 0xFFFD;
  if (n < need) return 0xFFFD;
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0xFFFD;
    r = (r << 6) | (s[i] & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
    return 0xFFFD;
  *w = need;
  return r;
}

/* Go's unicode.IsSpace. */
bool
uni_is_space (uint32_t r)
{
  switch (r) {
  case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
  case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
  case 0x202F: case 0x205F: case 0x3000:
    return true;
  }
  return r >= 0x2000 && r <= 0x200A;
}

static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;
static void
utf8_locale_init (void)
{
  utf8_locale = newlocale (LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
}
/* Free it when the library is unloaded, so valgrind sees nothing left. */
__attribute__((destructor)) static void
utf8_locale_fini (void)
{
  if (utf8_locale) freelocale (utf8_locale);
  utf8_locale = (locale_t) 0;
}

static locale_t
get_locale (void)
{
  pthread_once (&utf8_once, utf8_locale_init);
  return utf8_locale;
}

uint32_t
uni_lower (uint32_t r)
{
  if (r < 0x80)
    return (r >= 'A' && r <= 'Z') ? r + 32 : r;
  locale_t l = get_locale ();
  return l ? (uint32_t) towlower_l ((wint_t) r, l) : r;
}

uint32_t
uni_upper (uint32_t r)
{
  if (r < 0x80)
    return (r >= 'a' && r <= 'z') ? r - 32 : r;
  locale_t l = get_locale ();
  return l ? (uint32_t) towupper_l ((wint_t) r, l) : r;
}

uint32_t
uni_title (uint32_t r)
{
  switch (r) {
  case 0x1C4: case 0x1C5: case 0x1C6: return 0x1C5;
  case 0x1C7: case 0x1C8: case 0x1C9: return 0x1C8;
  case 0x1CA: case 0x1CB: case 0x1CC: return 0x1CB;
  case 0x1F1: case 0x1F2: case 0x1F3: return 0x1F2;
  }
  return uni_upper (r);
}

bool
uni_is_letter (uint32_t r)
{
  if (r < 0x80)
    return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
  locale_t l = get_locale ();
  return l && iswalpha_l ((wint_t) r, l) && !uni_is_digit (r);
}

bool
uni_is_digit (uint32_t r)
{
  if (r < 0x80)
    return r >= '0' && r <= '9';
  return false;                 /* non-ASCII decimal digits: see README */
}

bool
uni_is_print (uint32_t r)
{
  if (r < 0x20 || r == 0x7F) return false;
  if (r < 0x7F) return true;
  if (r >= 0x80 && r < 0xA0) return false;
  if (r == 0xAD) return false;
  if (r == 0xFFFD) return true;
  /* Go's IsPrint: letters, marks, numbers, punctuation, symbols and the
   * ASCII space only; no other spaces, no format or private-use chars. */
  if (r == 0xA0 || r == 0x1680 || (r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F)
      || (r >= 0x205F && r <= 0x206F) || r == 0x3000 || r == 0xFEFF || (r >= 0xFFF9 && r <= 0xFFFB)
      || (r >= 0x600 && r <= 0x605) || r == 0x61C || r == 0x6DD || r == 0x70F || r == 0x180E
      || (r >= 0xE000 && r <= 0xF8FF) || r >= 0xF0000 || (r >= 0xE0000 && r <= 0xE007F)
      || (r >= 0xD800 && r <= 0xDFFF))
    return false;
  locale_t l = get_locale ();
  return l && iswprint_l ((wint_t) r, l);
}
