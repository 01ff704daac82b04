/* template-eval: the ferry side of the template conformance test and
 * benchmark (the Go side is tests/peers/gotemplate).  Same fixed data set,
 * same corpus format, same output format:
 *
 *   template-eval corpus FILE      one "LINE ok:OUT" / "LINE err:MSG" per template
 *   template-eval bench N TEMPLATE  execute a PVC template N times
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ferry-template.h"

static struct ferry_template_data *
make_data (const char *kind)
{
  struct ferry_template_data *d;
  if (strcmp (kind, "volume") == 0) {
    d = ferry_template_data_new (FERRY_TEMPLATE_KIND_VOLUME);
    ferry_template_data_set_string (d, "PVCName", "plan-vm-disk-0");
    ferry_template_data_set_int (d, "VolumeIndex", 3);
  }
  else if (strcmp (kind, "network") == 0) {
    d = ferry_template_data_new (FERRY_TEMPLATE_KIND_NETWORK);
    ferry_template_data_set_string (d, "NetworkName", "ovn-net");
    ferry_template_data_set_string (d, "NetworkNamespace", "default");
    ferry_template_data_set_string (d, "NetworkType", "multus");
    ferry_template_data_set_int (d, "NetworkIndex", 1);
  }
  else if (strcmp (kind, "custom") == 0) {
    static const char *const list[] = { "a", "B", "c d" };
    d = ferry_template_data_new (FERRY_TEMPLATE_KIND_CUSTOM);
    ferry_template_data_set_string (d, "Name", "Hello, World");
    ferry_template_data_set_string (d, "Empty", "");
    ferry_template_data_set_int (d, "Num", 42);
    ferry_template_data_set_int (d, "Neg", -7);
    ferry_template_data_set_bool (d, "Flag", false);
    ferry_template_data_set_list (d, "List", list, 3);
    ferry_template_data_set_list (d, "None", NULL, 0);
  }
  else {
    d = ferry_template_data_new (FERRY_TEMPLATE_KIND_PVC);
    ferry_template_data_set_string (d, "VmName", "My.VM_01 \xc3\x9cn\xc3\xaf" "code");
    ferry_template_data_set_string (d, "TargetVmName", "my-vm-01");
    ferry_template_data_set_string (d, "PlanName", "migration-plan-production-east");
    ferry_template_data_set_string (d, "VmId", "vm-1234");
    ferry_template_data_set_int (d, "DiskIndex", 2);
    ferry_template_data_set_int (d, "RootDiskIndex", 0);
    ferry_template_data_set_bool (d, "Shared", true);
    ferry_template_data_set_string (d, "FileName", "[datastore1] my vm/my vm_1.vmdk");
    ferry_template_data_set_string (d, "WinDriveLetter", "c");
    ferry_template_data_set_string (d, "DiskId", "6000C29a-1b2c-3d4e");
  }
  if (!d) { perror ("data"); exit (1); }
  return d;
}

static void
escape (const char *s, size_t n)
{
  for (size_t k = 0; k < n; k++) {
    unsigned char c = (unsigned char) s[k];
    if (c == '\\') fputs ("\\\\", stdout);
    else if (c >= 0x20 && c < 0x7f) putchar (c);
    else printf ("\\x%02x", c);
  }
}

/* Same rules as the Go peer's parseLine; TEXT is modified in place. */
static bool
parse_line (char *s, const char **kind, char **text)
{
  if (!*s || *s == '#') return false;
  *kind = "pvc";
  if (*s == '@') {
    char *sp = strchr (s, ' ');
    if (!sp) return false;
    *sp = '\0';
    *kind = s + 1;
    s = sp + 1;
  }
  /* U+23CE (E2 8F 8E) -> '\n' */
  char *w = s;
  for (char *r = s; *r;) {
    if ((unsigned char) r[0] == 0xE2 && (unsigned char) r[1] == 0x8F && (unsigned char) r[2] == 0x8E) {
      *w++ = '\n'; r += 3;
    }
    else *w++ = *r++;
  }
  *w = '\0';
  *text = s;
  return true;
}

static int
corpus (const char *path)
{
  FILE *fp = fopen (path, "r");
  if (!fp) { perror (path); return 1; }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int lineno = 0;
  while ((n = getline (&line, &cap, fp)) >= 0) {
    lineno++;
    if (n > 0 && line[n - 1] == '\n') line[--n] = '\0';
    const char *kind;
    char *text;
    if (!parse_line (line, &kind, &text)) continue;
    struct ferry_template_data *d = make_data (kind);
    char *err = NULL;
    struct ferry_template *t = ferry_template_parse (kind, text, &err);
    printf ("%d ", lineno);
    if (t) {
      size_t len;
      char *out = ferry_template_execute_len (t, d, &len, &err);
      if (out) { fputs ("ok:", stdout); escape (out, len); }
      free (out);
    }
    if (err) { fputs ("err:", stdout); escape (err, strlen (err)); }
    putchar ('\n');
    free (err);
    ferry_template_free (t);
    ferry_template_data_free (d);
  }
  free (line);
  fclose (fp);
  return 0;
}

static int
bench (long n, const char *text)
{
  char *err = NULL;
  struct ferry_template *t = ferry_template_parse ("pvc", text, &err);
  if (!t) { fprintf (stderr, "%s\n", err); free (err); return 1; }
  struct ferry_template_data *d = make_data ("pvc");
  struct timespec a, b;
  size_t total = 0;
  clock_gettime (CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    ferry_template_data_set_int (d, "DiskIndex", i);
    size_t len;
    char *out = ferry_template_execute_len (t, d, &len, &err);
    if (!out) { fprintf (stderr, "%s\n", err); free (err); return 1; }
    total += len;
    free (out);
  }
  clock_gettime (CLOCK_MONOTONIC, &b);
  double el = (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9;
  printf ("ferry %ld %.3f %.0f %zu\n", n, el, (double) n / el, total);
  ferry_template_data_free (d);
  ferry_template_free (t);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "corpus") == 0) return corpus (argv[2]);
  if (argc == 4 && strcmp (argv[1], "bench") == 0) return bench (atol (argv[2]), argv[3]);
  fprintf (stderr, "usage: template-eval corpus FILE | bench N TEMPLATE\n");
  return 2;
}
