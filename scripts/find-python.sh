#!/usr/bin/env bash
# Print the path of a Python interpreter of the given minor version (e.g. 3.10),
# looking under pyenv first, then on PATH; exit 1 with a clear message if none.
set -euo pipefail
want="${1:?usage: find-python.sh 3.10}"
candidates=()
if command -v pyenv >/dev/null 2>&1; then
  root="$(pyenv root)"
  for d in $(ls -d "$root"/versions/"$want".* 2>/dev/null | sort -V -r); do candidates+=("$d/bin/python"); done
fi
for d in $(ls -d "$HOME"/.pyenv/versions/"$want".* 2>/dev/null | sort -V -r); do candidates+=("$d/bin/python"); done
candidates+=("$(command -v "python$want" 2>/dev/null || true)")
for c in "${candidates[@]}"; do
  if [ -n "$c" ] && [ -x "$c" ] && "$c" -c "import sys, venv; assert '%d.%d' % sys.version_info[:2] == '$want'" 2>/dev/null; then
    echo "$c"; exit 0
  fi
done
echo "error: Python $want not found (looked in pyenv versions and PATH); install it, e.g. 'pyenv install $want'" >&2
exit 1
