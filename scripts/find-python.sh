#!/usr/bin/env bash
# Print a working Python 3.10 interpreter: python3.10 on PATH, else pyenv's 3.10, else say what to install.
set -u
candidates=(python3.10)
if command -v pyenv >/dev/null 2>&1; then
  candidates+=("$(pyenv root)"/versions/3.10*/bin/python3.10)
fi
candidates+=("${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10)
for c in "${candidates[@]}"; do
  path=$(command -v "$c" 2>/dev/null) || continue
  if "$path" -c 'import sys, venv; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
    echo "$path"
    exit 0
  fi
done
echo "Python 3.10 is needed (Rasa 3.6): install it, e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv'." >&2
exit 1
