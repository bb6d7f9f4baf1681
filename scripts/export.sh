#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Regenerate patches/ from the kernel tree: one file per commit on top of the
# pristine base, plus the cover letter. The output is deterministic: zero
# commit hashes, no git version signature, and the cover letter dated like the
# newest patch. The cover letter's subject and text are kept from the current
# patches/0000-cover-letter.patch; its shortlog and diffstat are regenerated.
# Usage: export.sh [--check]   (--check: only tell whether patches/ is current)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

check=
[ "${1:-}" = --check ] && check=1
[ -d "$TREE/.git" ] || die "no kernel tree at $TREE: run ./testbed build first"
cd "$TREE"
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	die "$TREE has uncommitted changes: commit them (git commit --amend or a fixup) first"

cover=$PATCHES/0000-cover-letter.patch
n=$(git rev-list --count pristine..HEAD)

# Subject and text of the cover letter, from the file when there is one.
if [ -f "$cover" ]; then
	desc=$(python3 - "$cover" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
head, body = text.split("\n\n", 1)
subject = re.search(r"^Subject: \[[^]]*\] (.*(?:\n .*)*)", head, re.M).group(1)
subject = re.sub(r"\n ", " ", subject)
m = re.search(r"^\S.* \(\d+\):$", body, re.M)
blurb = body[:m.start()] if m else body
print(subject + "\n\n" + blurb.strip())
PY
)
else
	desc="vfio/pci: export BAR ranges as dma-bufs

*** describe the series ***"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ "$n" -gt 0 ]; then
	git config branch."$(git symbolic-ref --short HEAD)".description "$desc"
	GIT_COMMITTER_DATE=$(git log -1 --format=%aD HEAD) \
	git -c diff.noprefix=false -c diff.mnemonicPrefix=false -c diff.renames=true \
		-c format.signature= -c format.signatureFile= -c format.headers= \
		format-patch -q --cover-letter --cover-from-description=subject \
		--zero-commit --no-signature --no-thread --subject-prefix=PATCH \
		--from="$(git log -1 --format='%an <%ae>' HEAD)" \
		-o "$tmp" pristine..HEAD
else
	# An empty series: only the cover letter, as it is.
	[ -f "$cover" ] && cp "$cover" "$tmp/"
fi

if [ -n "$check" ]; then
	if diff -r -u "$PATCHES" "$tmp" >"$BUILD/export-check.diff" 2>&1; then
		info "patches/ matches the tree ($n patch(es))"
		exit 0
	fi
	warn "patches/ differs from what the tree exports (see $BUILD/export-check.diff)"
	exit 1
fi
mkdir -p "$PATCHES"
rm -f "$PATCHES"/*.patch
cp "$tmp"/*.patch "$PATCHES/" 2>/dev/null || true
echo "$(series_hash) $(git rev-parse HEAD)" >"$TREE/.git/series-applied"
step "exported $n patch(es) to patches/"
ls "$PATCHES" | sed 's/^/    /' >&2
