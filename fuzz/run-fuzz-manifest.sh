#!/bin/sh
# Replay the YAML corpus and the manifest samples through fuzz-manifest.
set -e
exec "$abs_builddir/fuzz-manifest" "$abs_srcdir/corpus/yaml" \
  "$abs_top_srcdir"/tests/data/manifests/forklift/*
