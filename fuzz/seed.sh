#!/usr/bin/env bash
# Seeds each fuzz target's corpus from the real fixtures (tests/fixtures).
set -euo pipefail
cd "$(dirname "$0")"
fx=../tests/fixtures
mkdir -p corpus/toxlog corpus/junit corpus/envlist corpus/target_name
i=0
for f in "$fx"/tox*/tox.log "$fx"/github-job/*.log "$fx"/categories/*/output.txt; do
  i=$((i + 1)); head -c 65536 "$f" >"corpus/toxlog/seed-$i"
done
for f in "$fx"/tox4-sequential/junit/.junitxml-* "$fx"/categories/*/junit.xml; do
  i=$((i + 1)); head -c 65536 "$f" >"corpus/junit/seed-$i"
done
for f in "$fx"/sentry-python/tox.*.ini ../tests/toxproject/tox*.ini; do
  i=$((i + 1)); head -c 65536 "$f" >"corpus/envlist/seed-$i"
done
grep -ho 'py[0-9.t]*-[a-z_0-9-]*-v[0-9][^ ,}]*\|py[0-9.t]*-[a-z_-]*' "$fx"/sentry-python/tox.current.ini | sort -u | awk 'NR <= 200' | while read -r n; do
  i=$((i + 1)); printf '%s' "$n" >"corpus/target_name/seed-$i"
done
echo "seeded: $(ls corpus/* | wc -l) files"
