#!/usr/bin/env bash
# Checks that every C++ source under ROOT follows ROOT/.clang-format.
# Usage: check-format.sh ROOT
# Prints each file that clang-format would change; exits 1 if there is any.
set -euo pipefail

root=${1:?usage: check-format.sh ROOT}
clang_format=${CLANG_FORMAT:-clang-format}

if ! command -v "$clang_format" >/dev/null 2>&1; then
  echo "check-format: $clang_format not found (apt-get install clang-format)" >&2
  exit 77
fi

# Folders that hold our own C++; missing ones (not written yet) are skipped.
dirs=()
for dir in plugins tests/elements tests/pipelines tests/browser daemon pipelines; do
  [ -d "$root/$dir" ] && dirs+=("$root/$dir")
done

files=()
if [ ${#dirs[@]} -gt 0 ]; then
  while IFS= read -r -d '' file; do
    files+=("$file")
  done < <(find "${dirs[@]}" -type f \( -name '*.cpp' -o -name '*.h' \) -print0 | sort -z)
fi

bad=0
for file in "${files[@]}"; do
  if ! "$clang_format" --style=file --dry-run -Werror "$file" >/dev/null 2>&1; then
    echo "needs formatting: ${file#"$root"/}"
    bad=$((bad + 1))
  fi
done

if [ "$bad" -gt 0 ]; then
  echo "check-format: $bad of ${#files[@]} files need formatting;" \
    "run: clang-format -i <file> (style from $root/.clang-format)" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted correctly"
