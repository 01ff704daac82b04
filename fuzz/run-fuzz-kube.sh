#!/bin/sh
# Replay the kube corpus (kubeconfigs, API Status answers) through fuzz-kube.
set -e
exec "$abs_builddir/fuzz-kube" "$abs_srcdir/corpus/kube"
