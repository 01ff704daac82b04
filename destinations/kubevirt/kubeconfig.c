/* ferry kubevirt destination: kubeconfig files and the in-cluster service
 * account, as kubectl reads them (current-context, clusters, users,
 * contexts; file paths relative to the kubeconfig's directory).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "ferry/ferry.h"
#include "kubevirt.h"

#define FILE_MAX (16u * 1024 * 1024)    /* bytes */
#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

void
kube_conn_clear (struct kube_conn *c)
{
  free (c->server);
  free (c->token);
  free (c->ca_pem);
  free (c->cert_pem);
  free (c->key_pem);
  free (c->ns);
  memset (c, 0, sizeof *c);
}

char *
kube_read_file (const char *what, const char *path, size_t *len)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  char *buf;
  size_t done = 0;

  if (fd == -1) {
    ferry_error_errno (errno, "kubevirt: %s %s", what, path);
    return NULL;
  }
  /* Regular files only: a FIFO or a device could block or never end. */
  if (fstat (fd, &st) == -1 || !S_ISREG (st.st_mode) ||
      st.st_size > (off_t) FILE_MAX) {
    ferry_error ("kubevirt: %s %s: not a regular file of at most 16 MiB", what, path);
    close (fd);
    return NULL;
  }
  buf = malloc ((size_t) st.st_size + 1);
  if (buf == NULL) {
    ferry_error_errno (errno, "kubevirt: %s %s", what, path);
    close (fd);
    return NULL;
  }
  while (done < (size_t) st.st_size) {
    ssize_t r = read (fd, buf + done, (size_t) st.st_size - done);
    if (r <= 0) {
      if (r == -1 && errno == EINTR)
        continue;
      ferry_error_errno (r == 0 ? EIO : errno, "kubevirt: reading %s %s", what, path);
      free (buf);
      close (fd);
      return NULL;
    }
    done += (size_t) r;
  }
  close (fd);
  buf[done] = '\0';
  if (len)
    *len = done;
  return buf;
}

static int
b64_value (unsigned char ch)
{
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9') return ch - '0' + 52;
  if (ch == '+') return 62;
  if (ch == '/') return 63;
  return -1;
}

char *
kube_base64_decode (const char *in, size_t *len)
{
  size_t n = strlen (in), o = 0, pad = 0;
  unsigned acc = 0, bits = 0;
  char *out = malloc (n / 4 * 3 + 4);
  const char *p;

  if (out == NULL)
    return NULL;
  for (p = in; *p; ++p) {
    unsigned char ch = (unsigned char) *p;
    int v;
    if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
      continue;
    if (ch == '=') {
      pad++;
      continue;
    }
    v = b64_value (ch);
    if (v < 0 || pad > 0)
      goto bad;                         /* stray character, or data after '=' */
    acc = (acc << 6) | (unsigned) v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (char) ((acc >> bits) & 0xff);
    }
  }
  /* Leftover bits must be padding zeroes, and never a whole sextet. */
  if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0 || pad > 2)
    goto bad;
  out[o] = '\0';
  if (len)
    *len = o;
  return out;
 bad:
  free (out);
  return NULL;
}

/* The entry of list (clusters, users, contexts) whose name is want. */
static const json_t *
named (const json_t *doc, const char *list, const char *member,
       const char *want)
{
  const json_t *e;
  size_t i;

  json_array_foreach (json_object_get (doc, list), i, e) {
    const char *n = json_string_value (json_object_get (e, "name"));
    if (n != NULL && strcmp (n, want) == 0)
      return json_object_get (e, member);
  }
  return NULL;
}

/* PEM text from KEY-data (base64) or KEY (a file); *out NULL when neither. */
static int
pem_field (const char *name, const char *what, const json_t *obj,
           const char *key, const char *base_dir, char **out)
{
  char data_key[64];
  const char *data, *file;

  *out = NULL;
  snprintf (data_key, sizeof data_key, "%s-data", key);
  data = json_string_value (json_object_get (obj, data_key));
  file = json_string_value (json_object_get (obj, key));
  if (data != NULL && data[0] != '\0') {
    *out = kube_base64_decode (data, NULL);
    if (*out == NULL) {
      ferry_error ("kubevirt: %s: %s %s: not valid base64", name, what, data_key);
      return -1;
    }
    return 0;
  }
  if (file != NULL && file[0] != '\0') {
    DEST_CLEANUP_FREE char *path = NULL;
    if (file[0] == '/' || base_dir == NULL)
      path = strdup (file);
    else if (asprintf (&path, "%s/%s", base_dir, file) == -1)
      path = NULL;
    if (path == NULL) {
      ferry_error ("kubevirt: %s: out of memory", name);
      return -1;
    }
    *out = kube_read_file (key, path, NULL);
    if (*out == NULL) {
      ferry_error_prefix ("%s: %s", name, what);
      return -1;
    }
  }
  return 0;
}

static char *
dup_nonempty (const char *s)
{
  return s != NULL && s[0] != '\0' ? strdup (s) : NULL;
}

int
kube_conn_parse_kubeconfig (const char *name, const char *text, size_t len,
                            const char *base_dir, struct kube_conn *c)
{
  DEST_CLEANUP_JSON json_t *doc = ferry_yaml_parse (name, text, len);
  const char *cur, *cluster_name, *user_name, *server;
  const json_t *ctx, *cluster, *user;
  struct kube_conn n = { 0 };

  if (doc == NULL)
    return -1;
  if (!json_is_object (doc)) {
    ferry_error ("kubevirt: %s: not a kubeconfig (a mapping with clusters, users and contexts)",
                 name);
    return -1;
  }
  cur = json_string_value (json_object_get (doc, "current-context"));
  if (cur == NULL || cur[0] == '\0') {
    ferry_error ("kubevirt: %s: no current-context (run 'kubectl config use-context NAME')",
                 name);
    return -1;
  }
  ctx = named (doc, "contexts", "context", cur);
  if (!json_is_object (ctx)) {
    ferry_error ("kubevirt: %s: current-context \"%s\" is not among its contexts",
                 name, cur);
    return -1;
  }
  cluster_name = json_string_value (json_object_get (ctx, "cluster"));
  user_name = json_string_value (json_object_get (ctx, "user"));
  cluster = cluster_name ? named (doc, "clusters", "cluster", cluster_name) : NULL;
  if (!json_is_object (cluster)) {
    ferry_error ("kubevirt: %s: context \"%s\": cluster \"%s\" not found",
                 name, cur, cluster_name ? cluster_name : "");
    return -1;
  }
  server = json_string_value (json_object_get (cluster, "server"));
  if (server == NULL || strncmp (server, "https://", 8) != 0) {
    ferry_error ("kubevirt: %s: cluster \"%s\": server must be an https:// URL",
                 name, cluster_name);
    return -1;
  }
  n.server = strdup (server);
  if (n.server && n.server[strlen (n.server) - 1] == '/')
    n.server[strlen (n.server) - 1] = '\0';
  n.insecure = json_is_true (json_object_get (cluster, "insecure-skip-tls-verify"));
  n.ns = dup_nonempty (json_string_value (json_object_get (ctx, "namespace")));
  if (pem_field (name, "cluster", cluster, "certificate-authority", base_dir, &n.ca_pem) == -1)
    goto fail;

  user = user_name ? named (doc, "users", "user", user_name) : NULL;
  if (user_name != NULL && user_name[0] != '\0' && !json_is_object (user)) {
    ferry_error ("kubevirt: %s: context \"%s\": user \"%s\" not found",
                 name, cur, user_name);
    goto fail;
  }
  if (user != NULL) {
    const char *tok = json_string_value (json_object_get (user, "token"));
    const char *tok_file = json_string_value (json_object_get (user, "tokenFile"));
    n.token = dup_nonempty (tok);
    if (n.token == NULL && tok_file != NULL && tok_file[0] != '\0') {
      DEST_CLEANUP_FREE char *path = NULL;
      if (tok_file[0] == '/' || base_dir == NULL)
        path = strdup (tok_file);
      else if (asprintf (&path, "%s/%s", base_dir, tok_file) == -1)
        path = NULL;
      n.token = path ? kube_read_file ("tokenFile", path, NULL) : NULL;
      if (n.token == NULL)
        goto fail;
      n.token[strcspn (n.token, "\r\n")] = '\0';
    }
    if (pem_field (name, "user", user, "client-certificate", base_dir, &n.cert_pem) == -1 ||
        pem_field (name, "user", user, "client-key", base_dir, &n.key_pem) == -1)
      goto fail;
    if ((n.cert_pem == NULL) != (n.key_pem == NULL)) {
      ferry_error ("kubevirt: %s: user \"%s\": a client certificate needs its key and the key its certificate",
                   name, user_name);
      goto fail;
    }
    if (json_object_get (user, "exec") || json_object_get (user, "auth-provider")) {
      if (n.token == NULL && n.cert_pem == NULL) {
        ferry_error ("kubevirt: %s: user \"%s\": exec and auth-provider credentials are not supported (use a token or a client certificate)",
                     name, user_name);
        goto fail;
      }
    }
  }
  if (n.server == NULL) {
    ferry_error ("kubevirt: %s: out of memory", name);
    goto fail;
  }
  kube_conn_clear (c);
  *c = n;
  return 0;
 fail:
  kube_conn_clear (&n);
  return -1;
}

int
kube_conn_from_kubeconfig (const char *path, struct kube_conn *c)
{
  DEST_CLEANUP_FREE char *file = NULL;
  DEST_CLEANUP_FREE char *text = NULL;
  char *slash;
  size_t len;

  if (path == NULL || path[0] == '\0') {
    const char *env = getenv ("KUBECONFIG");
    const char *home = getenv ("HOME");
    if (env != NULL && env[0] != '\0')
      file = strndup (env, strcspn (env, ":"));
    else if (home != NULL && asprintf (&file, "%s/.kube/config", home) == -1)
      file = NULL;
  }
  else
    file = strdup (path);
  if (file == NULL) {
    ferry_error ("kubevirt: no kubeconfig: set KUBECONFIG, or give the Provider a url and a token");
    return -1;
  }
  text = kube_read_file ("kubeconfig", file, &len);
  if (text == NULL)
    return -1;
  /* Messages name the file; paths in it are relative to its directory. */
  slash = strrchr (file, '/');
  if (slash == NULL)
    return kube_conn_parse_kubeconfig (file, text, len, ".", c);
  {
    DEST_CLEANUP_FREE char *dir = strndup (file, (size_t) (slash - file));
    if (dir == NULL) {
      ferry_error ("kubevirt: kubeconfig %s: out of memory", file);
      return -1;
    }
    return kube_conn_parse_kubeconfig (file, text, len,
                                       dir[0] ? dir : "/", c);
  }
}

int
kube_conn_in_cluster (const char *sa_dir, struct kube_conn *c)
{
  const char *host = getenv ("KUBERNETES_SERVICE_HOST");
  const char *port = getenv ("KUBERNETES_SERVICE_PORT");
  DEST_CLEANUP_FREE char *tok_path = NULL, *ca_path = NULL, *ns_path = NULL;
  struct kube_conn n = { 0 };

  if (sa_dir == NULL)
    sa_dir = SA_DIR;
  if (host == NULL || host[0] == '\0') {
    ferry_error ("kubevirt: not in a cluster (KUBERNETES_SERVICE_HOST unset) and no kubeconfig: give the Provider a url and a Secret with a token");
    return -1;
  }
  if (asprintf (&tok_path, "%s/token", sa_dir) == -1 ||
      asprintf (&ca_path, "%s/ca.crt", sa_dir) == -1 ||
      asprintf (&ns_path, "%s/namespace", sa_dir) == -1 ||
      asprintf (&n.server, strchr (host, ':') ? "https://[%s]:%s" : "https://%s:%s",
                host, port && port[0] ? port : "443") == -1) {
    ferry_error ("kubevirt: in-cluster configuration: out of memory");
    return -1;
  }
  n.token = kube_read_file ("service account token", tok_path, NULL);
  if (n.token == NULL)
    goto fail;
  n.token[strcspn (n.token, "\r\n")] = '\0';
  n.ca_pem = kube_read_file ("service account CA", ca_path, NULL);
  if (n.ca_pem == NULL)
    goto fail;
  n.ns = kube_read_file ("service account namespace", ns_path, NULL);
  if (n.ns != NULL)
    n.ns[strcspn (n.ns, "\r\n")] = '\0';
  ferry_clear_error ();                 /* the namespace file is optional */
  kube_conn_clear (c);
  *c = n;
  return 0;
 fail:
  kube_conn_clear (&n);
  return -1;
}
