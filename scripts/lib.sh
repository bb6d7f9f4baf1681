# SPDX-License-Identifier: GPL-2.0
# Common settings for the harness scripts. Sourced, not run.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
TREE=$BUILD/linux          # git tree: pristine base + one commit per patch
# The benchmark kernel (./testbed bench) sets these to directories of its
# own, so that building it does not touch the test kernel's.
OBJ=${TESTBED_OBJ:-$BUILD/obj}   # kernel object directory (make O=)
IMG=${TESTBED_IMG:-$BUILD}       # installed kselftests, initramfs, build logs
OUT=${TESTBED_OUT:-$BUILD/out}   # logs and results of the last run
PATCHES=$TOP/patches
JOBS=${JOBS:-$(nproc)}

# Identity for the throwaway commits of the build tree when git has none.
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-$(git config user.name 2>/dev/null || echo testbed)}
export GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-$(git config user.email 2>/dev/null || echo testbed@localhost)}
export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-$GIT_AUTHOR_NAME}
export GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-$GIT_AUTHOR_EMAIL}

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
warn() { printf '\033[1;33mWARNING: %s\033[0m\n' "$*" >&2; }
die()  { printf '\033[1;31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

# Run a long command, printing a dot every 10 s so a terminal never goes silent,
# with its output in a log file that is shown (tail) if it fails.
run_logged() {
	local log=$1; shift
	local start=$SECONDS
	mkdir -p "$(dirname "$log")"
	"$@" >"$log" 2>&1 &
	local pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 10
		kill -0 "$pid" 2>/dev/null && printf '    ... %ds\n' $((SECONDS - start)) >&2
	done
	if ! wait "$pid"; then
		tail -n 40 "$log" >&2
		die "failed: $* (full log: $log)"
	fi
	info "done in $((SECONDS - start))s (log: $log)"
}

# Set KCC, the compiler for kernel builds: "ccache gcc" when ccache is
# installed. Every kernel object directory sits one level below the directory
# of its source tree (build/obj next to build/linux, build/check/obj-* next to
# build/check/linux), so that with paths made relative to $BUILD the compiler
# command lines of the test build and of check.sh's builds are the same and
# share the cache. -fmacro-prefix-map holds the absolute source path but maps
# it away, so it does not change the object and is left out of the hash.
kernel_cc() {
	KCC=gcc
	if command -v ccache >/dev/null; then
		KCC="ccache gcc"
		export CCACHE_BASEDIR=$BUILD CCACHE_SLOPPINESS=time_macros,include_file_mtime
		export CCACHE_IGNOREOPTIONS='-fmacro-prefix-map=*'
	fi
}
# Reproducible version strings, so that ccache hits across rebuilds.
export KBUILD_BUILD_TIMESTAMP="@946684800" KBUILD_BUILD_USER=testbed KBUILD_BUILD_HOST=testbed

base_version() { grep -v '^#' "$TOP/config/base-version" | head -n1; }

# Hash of the series as committed in patches/: tells whether the tree is stale.
series_hash() {
	find "$PATCHES" -name '*.patch' -print0 | sort -z | xargs -0 -r cat | sha256sum | cut -d' ' -f1
}
