#!/usr/bin/env bash
# make bench: the benchmark lives in bench/ (see bench/README.md).
exec "$(dirname "$0")/../bench/bench.sh" "$@"
