#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make $TREE a git tree of the pristine base with patches/ applied by git am,
# one commit per patch. An up-to-date tree is left alone, so an edit in it is
# rebuilt incrementally; a stale tree with local work is never thrown away.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tarball=/usr/src/linux-source-6.12.tar.xz
stamp=$TREE/.git/series-applied     # "<series hash> <HEAD after git am>"
mkdir -p "$BUILD"

unpack() {
	local ver
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	step "unpacking linux-source-6.12 $ver into $TREE"
	[ -f "$tarball" ] || die "$tarball missing: run scripts/deps.sh"
	rm -rf "$TREE" "$TREE.tmp"
	mkdir -p "$TREE.tmp"
	run_logged "$BUILD/unpack.log" tar -xJf "$tarball" -C "$TREE.tmp" --strip-components=1
	step "recording the pristine base as the first commit"
	(
		cd "$TREE.tmp"
		git init -q -b base
		git config core.autocrlf false
		git config gc.auto 0
		git add -A -f .
		GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
			git commit -q -m "Linux $ver (Debian linux-source-6.12)"
		git tag pristine
	) >"$BUILD/unpack-git.log" 2>&1 || die "git init of the base failed (see $BUILD/unpack-git.log)"
	mv "$TREE.tmp" "$TREE"
	echo "$ver" >"$TREE/.git/base-version"
}

apply_series() {
	local n
	cd "$TREE"
	git checkout -q -B series pristine
	n=$(find "$PATCHES" -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | wc -l)
	step "applying the series: $n patch(es) with git am"
	if [ "$n" -gt 0 ]; then
		find "$PATCHES" -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort |
			xargs git am -q --keep-cr --whitespace=error-all ||
			{ git am --abort 2>/dev/null; die "the series does not apply to the base"; }
	fi
	echo "$(series_hash) $(git rev-parse HEAD)" >"$stamp"
	git log --oneline pristine..HEAD | sed 's/^/    /' >&2
}

[ -d "$TREE/.git" ] && [ -f "$TREE/.git/base-version" ] || unpack
cd "$TREE"
want=$(series_hash)
if [ ! -f "$stamp" ]; then
	apply_series
	exit 0
fi
read -r applied head <"$stamp"
local_work=
[ "$(git rev-parse HEAD)" = "$head" ] || local_work="commits not exported"
[ -z "$(git status --porcelain --untracked-files=no)" ] || local_work="uncommitted edits"
if [ "$applied" = "$want" ]; then
	[ -z "$local_work" ] || info "building the tree as it is ($local_work); run 'make export' to keep them"
	exit 0
fi
if [ -n "$local_work" ]; then
	die "patches/ changed but $TREE has $local_work. Export them ('make export') or discard them ('make reset-tree')."
fi
apply_series
