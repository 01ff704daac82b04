/* fuzz: a main() that feeds files (or every file of directories) to
 * LLVMFuzzerTestOneInput, so that each harness is an ordinary program
 * under make check and a libFuzzer target when built with
 * -fsanitize=fuzzer -DFERRY_LIBFUZZER.
 */
#ifndef FERRY_FUZZ_REPLAY_H
#define FERRY_FUZZ_REPLAY_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#ifndef FERRY_LIBFUZZER
static int
replay_file (const char *path)
{
  FILE *fp = fopen (path, "rb");
  unsigned char *buf = NULL;
  size_t len = 0, cap = 0;

  if (!fp) {
    perror (path);
    return -1;
  }
  for (;;) {
    size_t n;
    if (len == cap) {
      unsigned char *nb = realloc (buf, cap = cap ? cap * 2 : 65536);
      if (!nb) {
        fclose (fp);
        free (buf);
        return -1;
      }
      buf = nb;
    }
    n = fread (buf + len, 1, cap - len, fp);
    if (n == 0)
      break;
    len += n;
  }
  fclose (fp);
  LLVMFuzzerTestOneInput (buf, len);
  free (buf);
  return 0;
}

int
main (int argc, char **argv)
{
  int files = 0;

  for (int i = 1; i < argc; ++i) {
    struct stat st;
    if (stat (argv[i], &st) == -1) {
      perror (argv[i]);
      return 1;
    }
    if (S_ISDIR (st.st_mode)) {
      struct dirent **list;
      int n = scandir (argv[i], &list, NULL, alphasort);
      if (n < 0) {
        perror (argv[i]);
        return 1;
      }
      for (int j = 0; j < n; ++j) {
        char p[4096];
        if (list[j]->d_name[0] != '.') {
          snprintf (p, sizeof p, "%s/%s", argv[i], list[j]->d_name);
          if (replay_file (p) == -1)
            return 1;
          files++;
        }
        free (list[j]);
      }
      free (list);
    }
    else if (replay_file (argv[i]) == -1)
      return 1;
    else
      files++;
  }
  printf ("%s: replayed %d inputs\n", argv[0], files);
  return 0;
}
#endif

#endif /* FERRY_FUZZ_REPLAY_H */
