/* ferry kubevirt destination: a failed API call as one sentence, from the
 * Status object the API server answers with (metav1.Status: reason,
 * message, details {name, group, kind, causes[] {field, message}}).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "kubevirt.h"

/* What a path names: /api/v1/namespaces/NS/RES/NAME or
 * /apis/GROUP/VERSION/namespaces/NS/RES/NAME (cluster-scoped without
 * namespaces/NS; a subresource or a query after that is ignored).
 */
struct target {
  char group[128], ns[128], resource[128], name[256];
};

static void
segment (const char **p, char *out, size_t size)
{
  size_t n = strcspn (*p, "/?");
  if (n >= size)
    n = size - 1;
  memcpy (out, *p, n);
  out[n] = '\0';
  *p += strcspn (*p, "/?");
  if (**p == '/')
    (*p)++;
}

static void
parse_path (const char *path, struct target *t)
{
  const char *p = path;
  char skip[128];

  memset (t, 0, sizeof *t);
  if (strncmp (p, "/api/", 5) == 0) {
    p += 5;
    segment (&p, skip, sizeof skip);    /* version */
  }
  else if (strncmp (p, "/apis/", 6) == 0) {
    p += 6;
    segment (&p, t->group, sizeof t->group);
    segment (&p, skip, sizeof skip);
  }
  else
    return;
  if (strncmp (p, "namespaces/", 11) == 0) {
    p += 11;
    segment (&p, t->ns, sizeof t->ns);
    if (*p == '\0' || *p == '?') {      /* the namespace itself */
      strcpy (t->resource, "namespaces");
      snprintf (t->name, sizeof t->name, "%s", t->ns);
      t->ns[0] = '\0';
      return;
    }
  }
  segment (&p, t->resource, sizeof t->resource);
  if (*p != '\0' && *(p - 1) == '/')
    segment (&p, t->name, sizeof t->name);
}

static const char *
verb_of (const char *method, const struct target *t)
{
  if (strcmp (method, "GET") == 0)
    return t->name[0] ? "get" : "list";
  if (strcmp (method, "POST") == 0)
    return "create";
  if (strcmp (method, "PUT") == 0)
    return "update";
  if (strcmp (method, "PATCH") == 0)
    return "patch";
  if (strcmp (method, "DELETE") == 0)
    return t->name[0] ? "delete" : "deletecollection";
  return method;
}

/* "field: message; field: message" from details.causes. */
static char *
causes (const json_t *details)
{
  const json_t *c;
  size_t i, len = 0;
  char *out = NULL;
  FILE *f = open_memstream (&out, &len);

  if (f == NULL)
    return NULL;
  json_array_foreach (json_object_get (details, "causes"), i, c) {
    const char *field = json_string_value (json_object_get (c, "field"));
    const char *msg = json_string_value (json_object_get (c, "message"));
    fprintf (f, "%s%s%s%s", i ? "; " : "", field ? field : "",
             field ? ": " : "", msg ? msg : "invalid");
  }
  fclose (f);
  if (out != NULL && out[0] == '\0') {
    free (out);
    out = NULL;
  }
  return out;
}

char *
kube_status_message (const char *method, const char *path, long http,
                     const json_t *body, const char *raw)
{
  struct target t;
  const char *reason = json_string_value (json_object_get (body, "reason"));
  const char *message = json_string_value (json_object_get (body, "message"));
  const json_t *details = json_object_get (body, "details");
  char what[600], where[160];
  char *out = NULL, *list = NULL;
  int r;

  parse_path (path, &t);
  if (t.resource[0])
    snprintf (what, sizeof what, "%s %s%s%s%s%s", verb_of (method, &t),
              t.resource, t.group[0] ? "." : "", t.group,
              t.name[0] ? " " : "", t.name);
  else
    snprintf (what, sizeof what, "%s %s", method, path);
  where[0] = '\0';
  if (t.ns[0])
    snprintf (where, sizeof where, " in namespace %s", t.ns);
  if (message == NULL || message[0] == '\0')
    message = raw && raw[0] ? raw : "no message";

  switch (http) {
  case 401:
    r = asprintf (&out, "kubevirt: %s%s: unauthorized: the API server refused the token or client certificate (check the Provider's Secret)",
                  what, where);
    break;
  case 403:
    r = asprintf (&out, "kubevirt: forbidden: cannot %s%s (%s)",
                  what, where, message);
    break;
  case 404:
    r = asprintf (&out, "kubevirt: %s%s: not found (%s)", what, where, message);
    break;
  case 409:
    if (reason != NULL && strcmp (reason, "AlreadyExists") == 0)
      r = asprintf (&out, "kubevirt: %s%s: already exists", what, where);
    else
      r = asprintf (&out, "kubevirt: %s%s: conflict: the object was changed meanwhile (%s)",
                    what, where, message);
    break;
  case 422:
    list = causes (details);
    r = asprintf (&out, "kubevirt: %s%s: invalid: %s", what, where,
                  list ? list : message);
    break;
  default:
    r = asprintf (&out, "kubevirt: %s%s: HTTP %ld%s%s%s%s", what, where, http,
                  reason ? " " : "", reason ? reason : "", ": ", message);
    break;
  }
  free (list);
  return r == -1 ? NULL : out;
}
