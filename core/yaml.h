/* ferry core: YAML (and JSON, as YAML's flow subset) into jansson values,
 * remembering where every node came from, and back out as YAML.
 */
#ifndef FERRY_CORE_YAML_H
#define FERRY_CORE_YAML_H

#include <stddef.h>
#include <jansson.h>

/* One document of a multi-document stream. */
struct ferry_yaml_doc {
  json_t *value;                        /* the document (never NULL) */
  size_t index;                         /* 0-based position in the stream */
  size_t line, column;                  /* 1-based start of the document */
  json_t *positions;                    /* object: field path -> [line, column] */
};

/* Field paths are kubectl's: "spec.vms[1].name"; "" is the root. */

/* Parse all documents of buf.  name is the file name used in messages:
 * "plan.yaml:3:7: mapping values are not allowed here".  Returns -1 after
 * ferry_error on any problem (syntax, NUL bytes or invalid UTF-8, input over
 * FERRY_YAML_MAX_BYTES, nesting deeper than FERRY_YAML_MAX_DEPTH, more than
 * FERRY_YAML_MAX_NODES nodes after alias expansion, duplicate mapping keys).
 */
#define FERRY_YAML_MAX_BYTES (16u * 1024 * 1024)
#define FERRY_YAML_MAX_DEPTH 64
#define FERRY_YAML_MAX_NODES 1000000

int ferry_internal_yaml_parse (const char *name, const char *buf, size_t len,
                               struct ferry_yaml_doc **docs, size_t *ndocs);
void ferry_internal_yaml_docs_free (struct ferry_yaml_doc *docs, size_t n);

/* Position of path (or of its nearest ancestor that has one). */
void ferry_internal_yaml_pos (const struct ferry_yaml_doc *doc,
                              const char *path, size_t *line, size_t *column);

#endif /* FERRY_CORE_YAML_H */
