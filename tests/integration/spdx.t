#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Every source file says its licence: acme-diag is ISC (LICENSE).
#
# The rule, for every file git tracks (git ls-files; a file deleted in the
# work tree is passed over):
#   - exempt, as documentation, data or Debian metadata: *.md, LICENSE,
#     NEWS, VERSION, .gitignore, fuzz/corpus/*, tests/integration/data/*.json
#     (JSON has no comments), and debian/* except
#     debian/rules;
#   - every other file is source, and one of its first 5 lines contains
#     "SPDX-License-Identifier: ISC" (in the file's comment syntax:
#     /* */ for C, # for shell, Python, make, completions (after
#     #compdef in zsh files), .\" for man pages, ; for zone files).
# A new kind of data file (a golden output, a binary fixture) fails until
# it gets the line or an entry in exempt() below, said in the commit.
# No lab needed: runs as a plain 'prove tests/integration/spdx.t'.
. "$(dirname "$0")/../lib/tap.sh"

if ! command -v git >/dev/null 2>&1 ||
	[ "$(git -C "$TOP" rev-parse --show-toplevel 2>/dev/null)" != "$TOP" ]; then
	echo "1..0 # SKIP not a git checkout (the tracked files define the sources)"
	exit 0
fi

exempt() {
	case "$1" in
	*.md | LICENSE | NEWS | VERSION | .gitignore | fuzz/corpus/*) return 0 ;;
	# JSON has no comments: test inputs kept byte for byte as tools emit them
	tests/integration/data/*.json) return 0 ;;
	debian/rules) return 1 ;;
	debian/*) return 0 ;;
	esac
	return 1
}

has_spdx() { head -n 5 -- "$TOP/$1" | grep -q 'SPDX-License-Identifier: ISC\b'; }

files=()
while IFS= read -r -d '' f; do
	[ -f "$TOP/$f" ] || continue
	exempt "$f" || files+=("$f")
done < <(git -C "$TOP" ls-files -z)

plan $((${#files[@]} + 1))
check "LICENSE is the ISC licence" grep -q '^ISC License' "$TOP/LICENSE"
for f in "${files[@]}"; do
	check "$f: SPDX-License-Identifier: ISC in its first 5 lines" has_spdx "$f"
done
done_testing
