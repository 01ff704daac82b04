#!/bin/sh
# Replay the YAML corpus and the manifest samples through fuzz-yaml.
set -e
exec "$abs_builddir/fuzz-yaml" "$abs_srcdir/corpus/yaml" \
  "$abs_top_srcdir"/tests/data/manifests/forklift/*
