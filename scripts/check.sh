#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Upstream-readiness gates: what a vfio maintainer and the kernel test robot
# check on a posted series, run here first. Prints one line per gate (findings,
# pass/fail) and exits non-zero if any gate fails.
# Usage: check.sh [GATE...]     gate numbers, default all: 1 2 3 4 5 6 7 8 9 10
#        (./testbed check [GATE...] installs the tools first; make check)
#
# The series is pristine..HEAD of build/linux (see tree.sh), the patches are
# patches/ without the cover letter.
#  1 checkpatch  scripts/checkpatch.pl --strict on every patch: no ERROR, no
#                WARNING, no CHECK that config/checkpatch-allowed.txt lacks.
#                FILE_PATH_CHANGES ("does MAINTAINERS need updating?") is
#                answered, not failed, when get_maintainer.pl finds an entry
#                (not THE REST or KERNEL SELFTEST FRAMEWORK) for every file
#                the patch adds.
#  2 bisect      every prefix of the series builds `vmlinux modules` with the
#                test config and with config/modular.config (vfio, vfio-pci-core
#                and vfio-pci as modules: modpost checks the exports), and the
#                kselftest targets the series touches build (with their test
#                modules) against it; the whole series also builds with
#                config/no-p2p.config (no P2PDMA, no dma-buf), and each variant
#                keeps its options after the build. Incremental builds, one
#                object directory per config, the variants seeded from the test
#                build (seed_obj): 10-60 s per prefix and config.  The patch
#                adding the feature's case to the ioctl is the last one that
#                changes the kernel (drivers/, include/, kernel/, mm/).
#  3 sparse      make C=2 over drivers/vfio/ and drivers/pci/p2pdma.o (test
#                config): no warning that the pristine base does not have
#                (the base builds no p2pdma.o without PCI_P2PDMA, so there
#                every finding is new).
#  4 W=1         make W=1 over the same: no new warning.
#  5 coccicheck  make coccicheck MODE=report over drivers/vfio/pci/, one
#                .cocci at a time: no new report, no newly failing script.
#  6 kernel-doc  scripts/kernel-doc -none -Wall over every .c/.h the series
#                touches and include/uapi/linux/vfio.h: no warning that the
#                file's pristine version does not have (new files: none).
#  7 rst         every Documentation .rst the series changes parses with
#                docutils without warning or error; the Sphinx and kernel
#                directives and roles plain docutils lacks are no-ops.
#  8 uapi        headers_install; a C11 program using both structs compiles
#                with _Static_asserts on mainline's layout and feature 11.
#  9 export      patches/ equals what scripts/export.sh writes from the tree.
# 10 distro      Debian's own 6.12 amd64 config (linux-config-6.12) at the tip:
#                olddefconfig alone must turn the export on (VFIO_PCI_DMABUF,
#                PCI_P2PDMA_CORE); config/distro.config merged after it must
#                keep each of its lines and add iommufd; the options either
#                step had to change are printed. Then drivers/pci/,
#                drivers/dma-buf/, drivers/vfio/ and drivers/iommu/iommufd/,
#                and the object of every other C file the series touches
#                (amdgpu, xe, RDMA, dma-iommu, dma-direct), build with that
#                config, modules as Debian has them (=m), without a warning
#                in a file the series touches; the series' objects are
#                always compiled again. No modpost: that needs the whole
#                kernel (gate 2 runs it, modular). Its own object directory
#                (obj-distro); about a minute cold.
# "New" compares against the same check on the pristine base: a finding is
# keyed by file, message and the text of the line it points at (not its
# number, so moved code matches), repeats of one location (a header seen from
# several .c files) count once, and the count per key must not grow. The base
# results are cached in build/check/base/ per base commit, config and tools.
#
# The developer's tree and objects are not touched: the commits are checked
# out in a detached worktree of build/linux (build/check/linux) and built in
# build/check/obj-test, obj-modular, obj-nop2p (base: obj-base). Every build
# runs under nice -n 19 with ccache, which the test build shares. Logs:
# build/check/.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

CK=$BUILD/check
WT=$CK/linux               # (objects one level below, as for $TREE: see kernel_cc)
O_TEST=$CK/obj-test
O_MOD=$CK/obj-modular
O_NOP2P=$CK/obj-nop2p
O_BASE=$CK/obj-base
O_DISTRO=$CK/obj-distro
DISTRO_CONFIG=/usr/src/linux-config-6.12/config.amd64_none_amd64.xz
DISTRO_FRAG=$TOP/config/distro.config
# What the series must have turned on in a distribution's kernel
DISTRO_WANT=(CONFIG_VFIO_PCI_DMABUF=y CONFIG_PCI_P2PDMA_CORE=y CONFIG_VFIO_PCI_CORE=m
	CONFIG_VFIO_PCI=m CONFIG_DMA_SHARED_BUFFER=y)
DISTRO_DIRS=(drivers/pci/ drivers/dma-buf/ drivers/vfio/ drivers/iommu/iommufd/)
ALLOW=$TOP/config/checkpatch-allowed.txt
LINT_TARGETS=(drivers/vfio/ drivers/pci/p2pdma.o)
LINT_OBJS=(drivers/vfio drivers/pci/p2pdma.o)
COCCI_DIR=drivers/vfio/pci
UAPI_HDR=include/uapi/linux/vfio.h
BASE_FORMAT=2          # bump when the baseline computation or the layout changes
PYDOC=python3          # a python3 with docutils (apt's python3-docutils)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import docutils' 2>/dev/null && PYDOC=/usr/bin/python3

GATES=(1 2 3 4 5 6 7 8 9 10)
declare -A NAME=([1]="checkpatch --strict" [2]="bisect: every prefix builds" [3]="sparse C=2 (new)"
	[4]="W=1 (new)" [5]="coccicheck (new)" [6]="kernel-doc -Wall (new)" [7]="rst (docutils)"
	[8]="uAPI layout" [9]="patches/ = export" [10]="Debian's 6.12 config")
declare -A FIND RES LOGF SECS
want=" ${*:-${GATES[*]}} "
for g in $want; do [[ " ${GATES[*]} " == *" $g "* ]] || die "unknown gate '$g' (gates: ${GATES[*]})"; done
sel() { [[ $want == *" $1 "* ]]; }
result() { # GATE FINDINGS pass|fail LOG
	FIND[$1]=$2 RES[$1]=$3 LOGF[$1]=$4
	if [ "$3" = pass ]; then info "gate $1 (${NAME[$1]}): pass, $2 (log: $4)"
	else warn "gate $1 (${NAME[$1]}): FAIL, $2 (log: $4)"; fi
}

mkdir -p "$CK"
exec 9>"$CK/.lock"
flock -n 9 || die "another check is running on $BUILD"
renice -n 19 -p $$ >/dev/null 2>&1 || true
T0=$SECONDS

kernel_cc

# Like run_logged, but appends, returns the status instead of dying, and ticks
# every 30 s.
run_bg() { # LOG CMD...
	local log=$1 start pid rc ticker
	shift
	start=$(date +%s)
	"$@" >>"$log" 2>&1 &
	pid=$!
	# (without the lock's fd: a stray sleep must not hold the lock)
	( while sleep 30; do printf '    ... %ds\n' $(($(date +%s) - start)) >&2; done ) 9>&- &
	ticker=$!
	wait "$pid"
	rc=$?
	kill "$ticker" 2>/dev/null
	wait "$ticker" 2>/dev/null
	return $rc
}
kmake() { # OBJ LOG MAKE-ARGS...
	local obj=$1 log=$2
	shift 2
	run_bg "$log" nice -n 19 make -C "$WT" O="$obj" ARCH=x86_64 CC="$KCC" -j"$JOBS" "$@"
}
# Write OBJ/.config for the worktree: testbed.config + FRAGMENTS (kconfig.sh).
configure() { # OBJ LOG [FRAGMENT...]
	local obj=$1 log=$2
	shift 2
	KCONF_TREE=$WT KCONF_OBJ=$obj KCONF_LOG=$log nice -n 19 "$TOP/scripts/kconfig.sh" "$@"
}
# Print the options of FRAGMENTS (last value wins) that OBJ/.config lacks.
config_mismatch() { # OBJ FRAGMENT...
	local obj=$1 line opt
	shift
	while IFS= read -r line; do
		opt=${line%%=*}
		case "$line" in
		*=n) grep -q "^$opt=" "$obj/.config" && echo "$opt is set (asked: n)" ;;
		*)   grep -qxF "$line" "$obj/.config" ||
			echo "$line dropped (got: $(grep "^$opt=" "$obj/.config" || echo unset))" ;;
		esac
	done < <(cat "$@" | sed 's/[[:space:]]*#.*//' | grep '^CONFIG_' | tac | awk -F= '!seen[$1]++')
}
wt_checkout() { # REV
	if [ "$(git -C "$WT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null)" != "$TREE/.git" ]; then
		rm -rf "$WT"
		info "creating the worktree $WT (once, about a minute)"
		# -f: $WT may still be registered from before $TREE was unpacked again
		git -C "$TREE" worktree add -f -q --detach "$WT" "$1" || die "git worktree add $WT failed"
	fi
	git -C "$WT" checkout -q -f --detach "$1" || die "cannot check out $1 in $WT"
	# what the kselftest build leaves in the sources (test modules)
	git -C "$WT" clean -fdxq -- tools/testing/selftests
}
# A variant's object directory that was never built starts as a copy of the
# test build's (same worktree, so its dependency files are right) with the
# variant's own .config put back: kbuild then rebuilds only what the config
# change and the checkout touch, minutes instead of a cold build, since ccache
# cannot help a config it has not seen.
seed_obj() { # OBJ
	local obj=$1
	# (any build makes modpost before the first object; configuring does not)
	[ ! -e "$obj/scripts/mod/modpost" ] && [ -e "$O_TEST/vmlinux" ] || return 0
	info "seeding ${obj##*/} from ${O_TEST##*/} (once)"
	cp "$obj/.config" "$CK/.seed-config" && cp "$obj/.config.fragments" "$CK/.seed-fragments" || return 1
	rm -rf "$obj" && cp -a "$O_TEST" "$obj" || return 1
	# objtool's own build records absolute paths; every object depends on
	# the objtool binary, so a rebuilt objtool would rebuild everything.
	# Rewritten in place, times kept: a directory newer than its archive
	# would rebuild objtool all the same.
	grep -rlIF "$O_TEST" "$obj" | python3 -c '
import os, sys
old, new = (a.encode() for a in sys.argv[1:3])
for path in sys.stdin.read().split("\n"):
    if path:
        st = os.stat(path)
        with open(path, "r+b") as f:
            data = f.read().replace(old, new)
            f.seek(0)
            f.write(data)
            f.truncate()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))' "$O_TEST" "$obj"
	cp "$CK/.seed-config" "$obj/.config"     # newer than auto.conf: syncconfig runs
	cp "$CK/.seed-fragments" "$obj/.config.fragments"
}
subject() { git -C "$TREE" log -1 --format='%h %s' "$1"; }
py() { python3 "$CK/helper.py" "$@"; }
last_line() { tail -n1 "$1" | sed 's/^RESULT [0-9]* //'; }

# ---------------------------------------------------------------------------
# Python helpers: normalizing and comparing findings, checkpatch, docutils.
cat >"$CK/helper.py" <<'PY'
import collections, fnmatch, io, os, re, subprocess, sys

ANSI = re.compile(r"\x1b\[[0-9;]*[mK]")
PATTERNS = {
    # path:line:col: warning|error: message   (sparse, gcc)
    "sparse": re.compile(r"^(?P<path>[^\s:]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>warning|error): (?P<msg>.*)$"),
    # (W=1 also runs kernel-doc on each file, whose lines have no column)
    "gcc": re.compile(r"^(?P<path>[^\s:]+):(?P<line>\d+):(?:(?P<col>\d+):)? (?P<sev>warning|error|fatal error): (?P<msg>.*)$"),
    # path:line:col-col: WARNING|ERROR|INFO: message   (coccinelle report mode)
    "cocci": re.compile(r"^(?P<path>[^\s:]+):(?P<line>\d+):(?P<col>[\d-]+): (?P<sev>[A-Z]+): (?P<msg>.*)$"),
    # path:line: warning|error: message   (kernel-doc)
    "kdoc": re.compile(r"^(?P<path>[^\s:]+):(?P<line>\d+): (?P<sev>warning|error): (?P<msg>.*)$"),
}
SPARSE_MORE = re.compile(r"^(?P<path>[^\s:]+):(?P<line>\d+):(?P<col>\d+):\s{2,}(?P<msg>\S.*)$")

def relpath(path, wt, obj):
    if not os.path.isabs(path):
        path = os.path.normpath(os.path.join(obj, path))
    for root, tag in ((wt, ""), (obj, "<obj>/")):
        if path.startswith(root.rstrip("/") + "/"):
            return tag + os.path.relpath(path, root)
    return path

def parse(kind, logfile, wt, obj):
    """[(path, line, col, sev, msg)] from a log, exact repeats dropped."""
    pat, seen, out = PATTERNS[kind], set(), []
    for raw in open(logfile, errors="replace"):
        raw = ANSI.sub("", raw.rstrip("\n"))
        m = pat.match(raw)
        if kind == "sparse" and not m and out:
            c = SPARSE_MORE.match(raw)   # "expected ..."/"got ..." lines
            if c and relpath(c["path"], wt, obj) == out[-1][0]:
                p, l, co, s, msg = out.pop()
                seen.discard((p, l, co, s, msg))
                msg += " / " + c["msg"].strip()
                seen.add((p, l, co, s, msg))
                out.append((p, l, co, s, msg))
            continue
        if not m:
            continue
        if kind == "sparse" and re.search(r"\[-W[^]]*\]$", raw):
            continue             # a compiler warning in a sparse log
        d = m.groupdict()
        f = (relpath(d["path"], wt, obj), int(d["line"]), d.get("col") or "", d["sev"], d["msg"].strip())
        if f not in seen:
            seen.add(f)
            out.append(f)
    return out

class Source:
    """The text of a line, from a directory or from git (REPO:REV)."""
    def __init__(self, spec, obj):
        self.spec, self.obj, self.cache = spec, obj, {}
    def lines(self, path):
        if path not in self.cache:
            text = ""
            try:
                if path.startswith("<obj>/"):
                    text = open(os.path.join(self.obj, path[6:]), errors="replace").read()
                elif self.spec.startswith("git:"):
                    repo, rev = self.spec[4:].rsplit(":", 1)
                    text = subprocess.run(["git", "-C", repo, "show", f"{rev}:{path}"],
                                          capture_output=True, text=True, errors="replace").stdout
                else:
                    text = open(os.path.join(self.spec[4:], path), errors="replace").read()
            except OSError:
                pass
            self.cache[path] = text.split("\n")
        return self.cache[path]
    def line(self, path, no):
        lines = self.lines(path)
        return " ".join(lines[no - 1].split()) if 0 < no <= len(lines) else ""

def key(f, src):
    # file, severity, message and the text of the line: robust to lines
    # moving, and a new line with an old message is still new
    return (f[0], f[3], re.sub(r"\bline \d+", "line N", f[4]), src.line(f[0], f[1]))

def fmt(f):
    return f"{f[0]}:{f[1]}:{f[2] + ':' if f[2] else ''} {f[3]}: {f[4]}"

def cmd_new(kind, base_log, base_wt, base_obj, base_src, tip_log, tip_wt, tip_obj, tip_src):
    """Findings of the tip log whose key occurs more often than in the base.
    *_SRC: where the checked sources are, "dir:PATH" or "git:REPO:REV"."""
    base = parse(kind, base_log, base_wt, base_obj)
    tip = parse(kind, tip_log, tip_wt, tip_obj)
    bs, ts = Source(base_src, base_obj), Source(tip_src, tip_obj)
    bc = collections.Counter(key(f, bs) for f in base)
    tc = collections.Counter(key(f, ts) for f in tip)
    new = {k: tc[k] - bc[k] for k in tc if tc[k] > bc[k]}
    n = sum(new.values())
    print(f"{len(tip)} finding(s) now, {len(base)} in the base; {n} new")
    for k in sorted(new):
        more = f"  ({bc[k]} like it in the base, {tc[k]} now)" if bc[k] else ""
        for f in tip:
            if key(f, ts) == k:
                print("NEW: " + fmt(f) + more + "\n       | " + k[3])
    if tip:
        print("\nall findings now:")
        for f in tip:
            print("  " + fmt(f) + ("" if key(f, ts) in new else "   [also in the base]"))
    print(f"RESULT {n} {n} new ({len(base)} in the base)")
    return 1 if n else 0

def cmd_checkpatch(allow_file, raw, covered_file):
    # FILE_PATH_CHANGES asks whether MAINTAINERS needs updating: not when an
    # existing entry already covers every file the patch adds (covered_file:
    # "PATCH | ENTRIES" lines, from get_maintainer.pl)
    covered = {}
    for line in open(covered_file):
        if " | " in line:
            pname, entries = line.rstrip("\n").split(" | ", 1)
            covered[pname] = entries
    allow, bad = [], 0
    for no, line in enumerate(open(allow_file), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = [p.strip() for p in s.split(" | ")]
        if len(parts) != 5 or not all(parts):
            print(f"{allow_file}:{no}: not 'TYPE | FILE | MESSAGE | LINE | REASON' with a reason: {s}")
            bad += 1
            continue
        t = parts[0].split(":")[-1]
        allow.append({"no": no, "type": t, "file": parts[1], "msg": parts[2], "src": parts[3], "used": 0})
    head = re.compile(r"^(ERROR|WARNING|CHECK):([A-Z0-9_]+): (.*)$")
    loc = re.compile(r"^#\d+: (?:FILE: (.+?):\d+:)?")
    finds, patch, cur, src_of, unfinished = [], None, None, None, set()
    for line in open(raw, errors="replace"):
        line = ANSI.sub("", line.rstrip("\n"))
        if src_of is not None and line.startswith("+"):
            src_of["src"] = " ".join(line[1:].split())   # the line flagged
            src_of = None
            continue
        if line.startswith("### "):
            patch = line[4:]
            unfinished.add(patch)
            continue
        if line.startswith("total: "):
            unfinished.discard(patch)
        m = head.match(line)
        if m:
            cur = {"patch": patch, "level": m[1], "type": m[2], "msg": m[3], "file": "-", "src": ""}
            finds.append(cur)
            src_of = None
            continue
        m = loc.match(line)
        if m and cur is not None:
            cur["file"] = m[1] or "-"
            src_of = cur if m[1] else None
            cur = None
    n = {"ERROR": 0, "WARNING": 0, "CHECK": 0}
    allowed = 0
    for f in finds:
        n[f["level"]] += 1
        verdict = "FAIL"
        if f["type"] == "FILE_PATH_CHANGES" and f["patch"] in covered:
            verdict = f"answered (MAINTAINERS covers every added file: {covered[f['patch']]})"
            allowed += 1
        elif f["level"] == "CHECK":
            for a in allow:
                if (a["type"] == f["type"] and a["file"] == f["file"] and fnmatch.fnmatchcase(f["msg"], a["msg"])
                        and fnmatch.fnmatchcase(f["src"] or "-", a["src"])):
                    a["used"] += 1
                    verdict = f"allowed ({os.path.basename(allow_file)}:{a['no']})"
                    allowed += 1
                    break
        print(f"{verdict}: {f['patch']}: {f['level']}:{f['type']}: {f['msg']}  [{f['file']}]"
              + (f"\n    | {f['src']}" if f["src"] else ""))
    unused = [a for a in allow if not a["used"]]
    for a in unused:
        print(f"FAIL: unused entry {os.path.basename(allow_file)}:{a['no']}: {a['type']} | {a['file']} | {a['msg']} | {a['src']}")
    for p in sorted(unfinished):
        print(f"FAIL: {p}: checkpatch did not finish (no 'total:' line)")
    fails = n["ERROR"] + n["WARNING"] + n["CHECK"] - allowed + bad + len(unfinished) + len(unused)
    print(f"RESULT {fails} {n['ERROR']} errors, {n['WARNING']} warnings, {n['CHECK']} checks ({allowed} allowed)"
          + (f", {bad} bad allow entries" if bad else "")
          + (f", {len(unused)} unused allow entries" if unused else "")
          + (f", checkpatch failed on {len(unfinished)} patch(es)" if unfinished else ""))
    return 1 if fails else 0

SPHINX_DIRECTIVES = """kernel-doc kernel-include kernel-abi kernel-feat kernel-figure kernel-image
kernel-render maintainers-include toctree only index highlight literalinclude seealso
versionadded versionchanged deprecated glossary tabularcolumns productionlist hlist centered
sectionauthor codeauthor moduleauthor todo c:function c:macro c:struct c:union c:enum
c:enumerator c:type c:member c:var c:alias c:namespace c:namespace-push c:namespace-pop""".split()
SPHINX_ROLES = """ref doc numref any download term keyword option envvar token file samp kbd
command program guilabel menuselection mimetype newsgroup makevar manpage regexp dfn
c:func c:type c:data c:macro c:member c:struct c:union c:enum c:enumerator c:expr c:texpr
c:var""".split()

def cmd_rst(files):
    import docutils, docutils.core, docutils.nodes
    from docutils.parsers.rst import Directive, directives, roles

    class AnyOption(dict):
        def __contains__(self, k): return True
        def __getitem__(self, k): return directives.unchanged

    class Noop(Directive):
        has_content = True
        optional_arguments = 100
        final_argument_whitespace = True
        option_spec = AnyOption()
        def run(self): return []

    def noop_role(name, rawtext, text, lineno, inliner, options={}, content=[]):
        return [docutils.nodes.literal(rawtext, text)], []

    for d in SPHINX_DIRECTIVES:
        directives.register_directive(d, Noop)
    for r in SPHINX_ROLES:
        roles.register_local_role(r, noop_role)
    print(f"docutils {docutils.__version__}; no-op directives: {' '.join(SPHINX_DIRECTIVES)}")
    print(f"no-op roles: {' '.join(SPHINX_ROLES)}\n")
    total = 0
    for path in files:
        stream = io.StringIO()
        docutils.core.publish_doctree(
            open(path, encoding="utf-8").read(), source_path=path,
            settings_overrides={"report_level": 2, "halt_level": 5, "warning_stream": stream,
                                "syntax_highlight": "none", "input_encoding": "utf-8",
                                "file_insertion_enabled": True, "raw_enabled": True})
        text = stream.getvalue()
        n = len(re.findall(r"\((?:WARNING|ERROR|SEVERE)/\d\)", text))
        total += n
        print(f"{path}: {n} message(s)")
        if text:
            print(text)
    print(f"RESULT {total} {total} in {len(files)} file(s)")
    return 1 if total else 0

cmd = sys.argv[1]
sys.exit({"new": lambda a: cmd_new(*a), "checkpatch": lambda a: cmd_checkpatch(*a),
          "rst": lambda a: cmd_rst(a)}[cmd](sys.argv[2:]))
PY

# ---------------------------------------------------------------------------
step "check: the series"
"$TOP/scripts/tree.sh" || die "cannot bring $TREE up to date with patches/"
git -C "$TREE" rev-parse -q --verify pristine >/dev/null || die "$TREE has no 'pristine' tag"
BASE=$(git -C "$TREE" rev-parse pristine)
TIP=$(git -C "$TREE" rev-parse HEAD)
mapfile -t COMMITS < <(git -C "$TREE" rev-list --reverse pristine..HEAD)
[ -z "$(git -C "$TREE" rev-list --merges pristine..HEAD)" ] || die "the series has merge commits"
N=${#COMMITS[@]}
info "$N commit(s) on top of the base; logs in $CK/"
[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] ||
	warn "$TREE has uncommitted edits: they are not checked (only commits are)"
mapfile -t TOUCHED < <(git -C "$TREE" diff --name-only --diff-filter=d "$BASE" "$TIP")

# --- 1: checkpatch ---------------------------------------------------------
if sel 1; then
	step "gate 1: checkpatch --strict"
	t=$SECONDS log=$CK/1-checkpatch.log raw=$CK/1-checkpatch.raw
	: >"$raw"
	mapfile -t PF < <(find "$PATCHES" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort)
	for p in "${PF[@]}"; do
		info "${p##*/}"
		echo "### ${p##*/}" >>"$raw"
		# (from a directory and HOME without a personal .checkpatch.conf)
		(cd "$CK" && HOME=$CK perl "$TREE/scripts/checkpatch.pl" --strict --show-types \
			--color=never "$p") >>"$raw" 2>&1
	done
	# Which patches only add files an existing MAINTAINERS entry covers
	# (other than the catch-alls THE REST and KERNEL SELFTEST FRAMEWORK),
	# as get_maintainer.pl sees them in the series' tip.
	covered=$CK/1-covered.txt
	: >"$covered"
	for p in "${PF[@]}"; do
		mapfile -t added < <(sed -n 's@^ create mode [0-7]* @@p' "$p")
		[ ${#added[@]} -gt 0 ] || continue
		ents=() ok=1
		for f in "${added[@]}"; do
			e=$(cd "$TREE" && git show "$TIP:$f" >/dev/null 2>&1 &&
				perl scripts/get_maintainer.pl --no-git --no-git-fallback --no-email --no-l \
					--no-r --subsystem --no-status -f "$f" 2>/dev/null |
				grep -vx 'THE REST\|KERNEL SELFTEST FRAMEWORK' | head -n1)
			[ -n "$e" ] || { ok=; break; }
			ents+=("$e")
		done
		[ -n "$ok" ] && echo "${p##*/} | $(printf '%s\n' "${ents[@]}" | sort -u | paste -sd, -)" >>"$covered"
	done
	{ echo "checkpatch --strict on ${#PF[@]} patch(es); allow file: $ALLOW"; echo; } >"$log"
	if py checkpatch "$ALLOW" "$raw" "$covered" >>"$log"; then r=pass; else r=fail; fi
	sum=$(last_line "$log")
	{ echo; echo "--- raw checkpatch output"; cat "$raw"; } >>"$log"
	result 1 "$sum" $r "$log"
	SECS[1]=$((SECONDS - t))
fi

# --- 9: export -------------------------------------------------------------
if sel 9; then
	step "gate 9: patches/ equals the export"
	t=$SECONDS log=$CK/9-export.log
	rm -f "$BUILD/export-check.diff"
	if "$TOP/scripts/export.sh" --check >"$log" 2>&1; then
		result 9 "patches/ is current" pass "$log"
	else
		nd=0
		if [ -f "$BUILD/export-check.diff" ]; then
			{ echo; cat "$BUILD/export-check.diff"; } >>"$log"
			nd=$(grep -c '^diff \|^Only in ' "$BUILD/export-check.diff")
		fi
		result 9 "$nd file(s) differ" fail "$log"
	fi
	SECS[9]=$((SECONDS - t))
fi

need_wt=
for g in 2 3 4 5 6 7 8 10; do sel $g && need_wt=1; done

if [ -n "$need_wt" ]; then
	# Configure every object directory at the tip, where every option the
	# fragments may ask for exists.
	step "worktree $WT at the tip; configuring"
	wt_checkout "$TIP"
	cfg_fail=
	configure "$O_TEST" "$CK/kconfig-test.log" || cfg_fail+=" test"
	if sel 2; then
		configure "$O_MOD" "$CK/kconfig-modular.log" "$TOP/config/modular.config" || cfg_fail+=" modular"
		configure "$O_NOP2P" "$CK/kconfig-nop2p.log" "$TOP/config/no-p2p.config" || cfg_fail+=" no-p2p"
	fi
	if sel 3 || sel 4 || sel 5; then
		configure "$O_BASE" "$CK/kconfig-base.log" || cfg_fail+=" base"
	fi
	[ -z "$cfg_fail" ] || warn "configuration failed for:$cfg_fail (see $CK/kconfig-*.log)"
fi

# sparse, then W=1 (objects removed first so every file is compiled again;
# ccache replays the warnings) over LINT_TARGETS in OBJ; logs in DIR.
lint_run() { # OBJ DIR
	local obj=$1 d=$2 o targets=()
	mkdir -p "$d"
	rm -f "$d/build.log" "$d/sparse.log" "$d/w1.log"
	[ "$obj" = "$O_TEST" ] || seed_obj "$obj"
	# p2pdma.o only where the config builds it: the base builds it only
	# with PCI_P2PDMA, which the test config, as distributions, leaves
	# off; the series builds it with PCI_P2PDMA_CORE. Without a base
	# object every finding of the tip's counts as new.
	for o in "${LINT_TARGETS[@]}"; do
		if [ "$o" = drivers/pci/p2pdma.o ] && ! grep -q '^CONFIG_PCI_P2PDMA=y' "$obj/.config" &&
		   ! { grep -q '^config PCI_P2PDMA_CORE$' "$WT/drivers/pci/Kconfig" &&
		       grep -q '^CONFIG_PCI_P2PDMA_CORE=y' "$obj/.config"; }; then
			continue
		fi
		targets+=("$o")
	done
	info "building ${targets[*]}"
	kmake "$obj" "$d/build.log" "${targets[@]}" || return 1
	info "sparse (C=2)"
	kmake "$obj" "$d/sparse.log" C=2 "${targets[@]}" || return 2
	for o in "${LINT_OBJS[@]}"; do
		if [ -d "$obj/$o" ]; then find "$obj/$o" -name '*.o' -delete; else rm -f "$obj/$o"; fi
	done
	info "W=1"
	kmake "$obj" "$d/w1.log" W=1 "${targets[@]}" || return 3
}
# coccicheck MODE=report over COCCI_DIR, one script at a time (so that one
# script that cannot run does not stop the others); scripts with OCaml rules
# are skipped when no OCaml compiler is installed.
cocci_run() { # OBJ DIR
	local obj=$1 d=$2 f i=0 n
	mkdir -p "$d"
	: >"$d/cocci.log"
	: >"$d/cocci-failed.txt"
	mapfile -t cf < <(cd "$WT" && find scripts/coccinelle -name '*.cocci' | sort)
	n=${#cf[@]}
	for f in "${cf[@]}"; do
		i=$((i + 1))
		[ $((i % 10)) = 0 ] && info "coccicheck: $i/$n scripts"
		if grep -qE '^@ *(script|initialize|finalize) *: *ocaml' "$WT/$f" &&
		   ! command -v ocamlopt >/dev/null && ! command -v ocamlopt.opt >/dev/null; then
			echo "### $f: skipped (OCaml rules, no OCaml compiler)" >>"$d/cocci.log"
			continue
		fi
		echo "### $f" >>"$d/cocci.log"
		nice -n 19 make -s -C "$WT" O="$obj" coccicheck MODE=report M="$WT/$COCCI_DIR" \
			J="$JOBS" COCCI="$WT/$f" >>"$d/cocci.log" 2>&1 || echo "$f" >>"$d/cocci-failed.txt"
	done
}
base_key() { # PART
	{
		echo "$BASE_FORMAT $1 $BASE"
		sha256sum <"$TOP/config/testbed.config"
		gcc --version | head -n1
		sparse --version 2>&1
		spatch --version 2>&1 | head -n1
		echo "${LINT_TARGETS[*]} $COCCI_DIR"
	} | sha256sum | cut -c1-16
}

# --- 2: bisectability -------------------------------------------------------
if sel 2; then
	step "gate 2: every prefix builds (test and modular config), the series without P2P"
	t=$SECONDS log=$CK/2-bisect.log
	: >"$log"
	fails=0 builds=0
	pre=("${COMMITS[@]}")
	[ "$N" -gt 0 ] || pre=("$BASE")    # an empty series: the base itself
	# Build `vmlinux modules` in OBJ; then the config must still hold the
	# options of FRAGMENTS (at a middle prefix only the variant's fragment,
	# whose options all exist in the base; at the tip testbed.config too).
	build_one() { # CFG OBJ LABEL FRAGMENT...
		local cfg=$1 obj=$2 label=$3 blog s bad
		shift 3
		builds=$((builds + 1))
		blog=$CK/build-$cfg-$builds.log
		: >"$blog"
		s=$SECONDS
		[ "$obj" = "$O_TEST" ] || seed_obj "$obj" >>"$blog" 2>&1
		if kmake "$obj" "$blog" vmlinux modules; then
			bad=$( [ $# = 0 ] || config_mismatch "$obj" "$@")
			if [ -z "$bad" ]; then
				info "$label: $cfg ok ($((SECONDS - s))s)"
				echo "ok    $cfg  $label  ($((SECONDS - s))s)" >>"$log"
				return 0
			fi
			echo "FAIL  $cfg  $label: builds, but the config lost options:" >>"$log"
			echo "$bad" | sed 's/^/        /' >>"$log"
		else
			echo "FAIL  $cfg  $label: build failed (log: $blog)" >>"$log"
			grep -E 'error:|Error [0-9]|undefined reference|undefined!|ERROR:' "$blog" | head -n 20 |
				sed 's/^/        /' >>"$log"
		fi
		warn "$label: $cfg FAILS (log: $blog)"
		fails=$((fails + 1))
		return 1
	}
	# At the tip every option of the fragments must hold; an earlier prefix
	# whose Kconfig lacked one may have dropped it: then configure again.
	reconfigure_if_needed() { # CFG OBJ [FRAGMENT]
		[ -n "$(config_mismatch "$2" "$TOP/config/testbed.config" ${3:+"$3"})" ] || return 0
		info "$1: the config lost options of the fragments; configuring again"
		rm -f "$2/.config.fragments"
		configure "$2" "$CK/kconfig-$1.log" ${3:+"$3"} || true
	}
	if [ -n "$cfg_fail" ]; then
		echo "FAIL  configuration:$cfg_fail (see $CK/kconfig-*.log)" >>"$log"
		fails=$((fails + 1))
	fi
	# The kselftest targets the series touches build (with their test
	# modules, against the prefix's test kernel) at every prefix having them.
	mapfile -t KST < <(printf '%s\n' "${TOUCHED[@]}" |
		sed -n 's@^tools/testing/selftests/\([^/]*\)/.*@\1@p' | sort -u)
	build_kselftests() { # LABEL
		local t targets=() blog s
		for t in "${KST[@]}"; do
			[ -n "$(git -C "$WT" ls-tree HEAD -- "tools/testing/selftests/$t")" ] && targets+=("$t")
		done
		[ ${#targets[@]} -gt 0 ] || return 0
		builds=$((builds + 1))
		blog=$CK/build-kselftest-$builds.log
		: >"$blog"
		s=$SECONDS
		rm -rf "$CK/kselftest"
		if kmake "$O_TEST" "$blog" headers_install &&
		   run_bg "$blog" nice -n 19 make -C "$WT/tools/testing/selftests" TARGETS="${targets[*]}" \
			O="$CK/kselftest" KDIR="$O_TEST" KHDR_INCLUDES="-isystem $O_TEST/usr/include" -j"$JOBS"; then
			info "$1: kselftests ${targets[*]} ok ($((SECONDS - s))s)"
			echo "ok    kselftests ${targets[*]}  $1  ($((SECONDS - s))s)" >>"$log"
			return 0
		fi
		echo "FAIL  kselftests ${targets[*]}  $1: build failed (log: $blog)" >>"$log"
		grep -E 'error:|Error [0-9]|undefined reference|ERROR:' "$blog" | head -n 20 | sed 's/^/        /' >>"$log"
		warn "$1: kselftests FAIL (log: $blog)"
		fails=$((fails + 1))
		return 1
	}
	# Boot the no-p2p kernel with the test bed's initramfs (its kselftests
	# are userspace and run on any kernel) and run vfio_dmabuf_uapi_test there:
	# support.matches_kconfig must pass (PROBE and GET fail with ENOTTY and
	# create nothing), nothing may fail and the console must stay clean.
	boot_no_p2p() {
		local blog=$CK/boot-no-p2p.log out=$CK/vm-no-p2p s=$SECONDS tip_time
		builds=$((builds + 1))
		: >"$blog"
		tip_time=$(git -C "$TREE" log -1 --format=%ct HEAD)
		if [ ! -f "$BUILD/initramfs.cpio" ] || [ "$(stat -c %Y "$BUILD/initramfs.cpio")" -lt "$tip_time" ]; then
			info "no initramfs of the current series: building the test kernel and initramfs"
			"$TOP/scripts/build.sh" >>"$blog" 2>&1 && "$TOP/scripts/initramfs.sh" >>"$blog" 2>&1 ||
				{ echo "FAIL  no-p2p boot: building the initramfs failed (log: $blog)" >>"$log"
				  fails=$((fails + 1)); return 1; }
		fi
		info "booting the no-p2p kernel: vfio_dmabuf_uapi_test there"
		if kmake "$O_NOP2P" "$blog" bzImage &&
		   nice -n 19 python3 "$TOP/scripts/vm.py" --kernel "$O_NOP2P/arch/x86/boot/bzImage" \
			--initrd "$BUILD/initramfs.cpio" --out "$out" --mode test --allow-skips \
			--tests vfio:vfio_dmabuf_uapi_test >>"$blog" 2>&1 &&
		   grep -qE '^# ok [0-9]+ support\.matches_kconfig$' "$out/ktap.log"; then
			echo "ok    no-p2p boot: support.matches_kconfig ok, $(tail -n1 "$blog")  ($((SECONDS - s))s)" >>"$log"
			echo "        $(grep -cE '^# ok [0-9]+ .*# SKIP kernel built without CONFIG_VFIO_PCI_DMABUF' "$out/ktap.log") other tests skip: kernel built without CONFIG_VFIO_PCI_DMABUF" >>"$log"
			return 0
		fi
		echo "FAIL  no-p2p boot: support.matches_kconfig did not pass, or a test failed or the console has a splat (log: $blog)" >>"$log"
		grep -hE '^# (not ok|ok [0-9]+ support)|FAILED' "$out/ktap.log" "$blog" 2>/dev/null | head -n 20 | sed 's/^/        /' >>"$log"
		fails=$((fails + 1))
		return 1
	}
	# Safe at every commit: the patch that wires the feature up is the last
	# one changing the kernel, so no prefix hands out buffers that a reset,
	# decode off or unbind would not revoke.
	wire=
	for c in "${COMMITS[@]}"; do
		git -C "$TREE" show --format= "$c" -- drivers/ |
			grep -q '^+.*case VFIO_DEVICE_FEATURE_DMA_BUF:' && wire=$c
	done
	if [ -n "$wire" ]; then
		late=$(git -C "$TREE" log --reverse --format='%h %s' "$wire..$TIP" -- drivers/ include/ kernel/ mm/)
		if [ -n "$late" ]; then
			echo "FAIL  the feature is wired up by $(subject "$wire"), before these kernel changes:" >>"$log"
			echo "$late" | sed 's/^/        /' >>"$log"
			fails=$((fails + 1))
		else
			echo "ok    the feature is wired up by the last kernel patch: $(subject "$wire")" >>"$log"
		fi
	fi
	MODF=$TOP/config/modular.config NOPF=$TOP/config/no-p2p.config
	# From the tip down: the tip's test build is the test bed's own build,
	# which ccache already has; each earlier prefix then only rebuilds what
	# its checkout and its config (kbuild tracks options one by one) change.
	boot=
	for ((k = ${#pre[@]}; k >= 1; k--)); do
		c=${pre[k - 1]}
		label="prefix $k/${#pre[@]} $(subject "$c")"
		[ "$N" -gt 0 ] || label="base (empty series) $(subject "$c")"
		info "$label"
		wt_checkout "$c"
		if [ "$k" = "${#pre[@]}" ]; then
			reconfigure_if_needed test "$O_TEST"
			reconfigure_if_needed modular "$O_MOD" "$MODF"
			reconfigure_if_needed no-p2p "$O_NOP2P" "$NOPF"
			build_one test "$O_TEST" "$label" "$TOP/config/testbed.config" && build_kselftests "$label"
			build_one modular "$O_MOD" "$label" "$TOP/config/testbed.config" "$MODF"
			if build_one no-p2p "$O_NOP2P" "$label" "$TOP/config/testbed.config" "$NOPF" &&
			   [ -n "$(git -C "$WT" ls-tree HEAD -- tools/testing/selftests/vfio/vfio_dmabuf_uapi_test.c)" ]; then
				boot_no_p2p && boot=", the no-p2p kernel says ENOTTY" || boot=", the no-p2p boot FAILS"
			fi
		else
			build_one test "$O_TEST" "$label" && build_kselftests "$label"
			build_one modular "$O_MOD" "$label" "$MODF"
		fi
	done
	result 2 "$fails of $builds builds fail$boot" "$([ "$fails" = 0 ] && echo pass || echo fail)" "$log"
	SECS[2]=$((SECONDS - t))
fi

# --- baseline for 3, 4, 5 on the pristine base -----------------------------
BASE_LINT_OK= BASE_COCCI_OK=
if sel 3 || sel 4 || sel 5; then
	kl=$(base_key lint) kc=$(base_key cocci)
	if { sel 3 || sel 4; } && [ "$(cat "$CK/base/lint.key" 2>/dev/null)" = "$kl" ]; then BASE_LINT_OK=1; fi
	if sel 5 && [ "$(cat "$CK/base/cocci.key" 2>/dev/null)" = "$kc" ]; then BASE_COCCI_OK=1; fi
	if { { sel 3 || sel 4; } && [ -z "$BASE_LINT_OK" ]; } || { sel 5 && [ -z "$BASE_COCCI_OK" ]; }; then
		step "baseline: sparse, W=1, coccicheck on the pristine base (cached afterwards)"
		t=$SECONDS
		wt_checkout "$BASE"
		if { sel 3 || sel 4; } && [ -z "$BASE_LINT_OK" ]; then
			rm -f "$CK/base/lint.key"
			if lint_run "$O_BASE" "$CK/base"; then
				echo "$kl" >"$CK/base/lint.key"
				BASE_LINT_OK=1
			else
				warn "the baseline lint build failed (see $CK/base/)"
			fi
		fi
		if sel 5 && [ -z "$BASE_COCCI_OK" ]; then
			rm -f "$CK/base/cocci.key"
			cocci_run "$O_BASE" "$CK/base"
			echo "$kc" >"$CK/base/cocci.key"
			BASE_COCCI_OK=1
		fi
		info "baseline done in $((SECONDS - t))s"
	else
		info "baseline: cached in $CK/base/"
	fi
fi

if [ -n "$need_wt" ]; then
	wt_checkout "$TIP"
fi

# --- 3, 4: sparse and W=1 at the tip ------------------------------------------
if sel 3 || sel 4; then
	step "gates 3, 4: sparse and W=1 over ${LINT_TARGETS[*]} at the tip"
	t=$SECONDS
	lint_run "$O_TEST" "$CK/tip"
	lrc=$?
	for g in 3 4; do
		sel $g || continue
		kind=sparse raw=$CK/tip/sparse.log braw=$CK/base/sparse.log log=$CK/3-sparse.log
		[ $g = 4 ] && kind=gcc raw=$CK/tip/w1.log braw=$CK/base/w1.log log=$CK/4-w1.log
		if [ -z "$BASE_LINT_OK" ]; then
			echo "the baseline build failed; see $CK/base/" >"$log"
			result $g "no baseline" fail "$log"
			continue
		fi
		if [ "$lrc" != 0 ] && { [ $g = 4 ] || [ "$lrc" -le 2 ]; }; then
			{ echo "the build failed:"; tail -n 40 "$CK/tip/build.log" "$raw" 2>/dev/null; } >"$log"
			result $g "build failed" fail "$log"
			continue
		fi
		if py new $kind "$braw" "$WT" "$O_BASE" "git:$TREE:$BASE" "$raw" "$WT" "$O_TEST" "dir:$WT" >"$log"
		then r=pass; else r=fail; fi
		sum=$(last_line "$log")
		echo "raw logs: $raw, base: $braw" >>"$log"
		result $g "$sum" $r "$log"
	done
	SECS[3]=$((SECONDS - t)) SECS[4]=$((SECONDS - t))
fi

# --- 5: coccicheck at the tip -----------------------------------------------
if sel 5; then
	step "gate 5: coccicheck MODE=report over $COCCI_DIR/ at the tip (a few minutes)"
	t=$SECONDS log=$CK/5-cocci.log
	cocci_run "$O_TEST" "$CK/tip"
	if py new cocci "$CK/base/cocci.log" "$WT" "$O_BASE" "git:$TREE:$BASE" "$CK/tip/cocci.log" "$WT" "$O_TEST" "dir:$WT" >"$log"
	then r=pass; else r=fail; fi
	sum=$(last_line "$log")
	newfail=$(comm -13 <(sort "$CK/base/cocci-failed.txt") <(sort "$CK/tip/cocci-failed.txt"))
	{
		echo
		echo "scripts that could not run (base): $(tr '\n' ' ' <"$CK/base/cocci-failed.txt")"
		echo "scripts that could not run (tip):  $(tr '\n' ' ' <"$CK/tip/cocci-failed.txt")"
		grep 'skipped' "$CK/tip/cocci.log"
		echo "raw log: $CK/tip/cocci.log"
	} >>"$log"
	if [ -n "$newfail" ]; then
		r=fail
		sum="$sum; $(echo "$newfail" | wc -l) script(s) fail only now"
	fi
	result 5 "$sum" $r "$log"
	SECS[5]=$((SECONDS - t))
fi

# --- 6: kernel-doc --------------------------------------------------------------
if sel 6; then
	step "gate 6: kernel-doc -none -Wall"
	t=$SECONDS log=$CK/6-kernel-doc.log
	mapfile -t KF < <(printf '%s\n' "${TOUCHED[@]}" "$UAPI_HDR" | grep -E '\.[ch]$' | sort -u)
	rm -rf "$CK/kdoc-base"
	mkdir -p "$CK/kdoc-base"
	: >"$CK/kdoc-tip.raw"
	: >"$CK/kdoc-base.raw"
	for f in "${KF[@]}"; do
		(cd "$WT" && perl scripts/kernel-doc -none -Wall "$f") >>"$CK/kdoc-tip.raw" 2>&1
		if git -C "$TREE" cat-file -e "$BASE:$f" 2>/dev/null; then
			mkdir -p "$CK/kdoc-base/$(dirname "$f")"
			git -C "$TREE" show "$BASE:$f" >"$CK/kdoc-base/$f"
			(cd "$CK/kdoc-base" && perl "$WT/scripts/kernel-doc" -none -Wall "$f") >>"$CK/kdoc-base.raw" 2>&1
		fi
	done
	{ echo "files (${#KF[@]}):"; printf '  %s\n' "${KF[@]}"; echo; } >"$log"
	if py new kdoc "$CK/kdoc-base.raw" "$CK/kdoc-base" "$CK/kdoc-base" "dir:$CK/kdoc-base" \
		"$CK/kdoc-tip.raw" "$WT" "$WT" "dir:$WT" >>"$log"; then r=pass; else r=fail; fi
	result 6 "$(last_line "$log")" $r "$log"
	SECS[6]=$((SECONDS - t))
fi

# --- 7: documentation ------------------------------------------------------------
if sel 7; then
	step "gate 7: the changed Documentation .rst files parse with docutils"
	t=$SECONDS log=$CK/7-rst.log
	mapfile -t RF < <(printf '%s\n' "${TOUCHED[@]}" | grep -E '^Documentation/.*\.rst$')
	if [ ${#RF[@]} = 0 ]; then
		echo "the series changes no Documentation .rst file" >"$log"
		result 7 "no .rst changed" pass "$log"
	else
		if (cd "$WT" && $PYDOC "$CK/helper.py" rst "${RF[@]}") >"$log" 2>&1; then r=pass; else r=fail; fi
		grep -q '^RESULT' "$log" || echo "RESULT 1 docutils failed to run" >>"$log"
		result 7 "$(last_line "$log")" $r "$log"
	fi
	SECS[7]=$((SECONDS - t))
fi

# --- 8: uAPI ---------------------------------------------------------------------
if sel 8; then
	step "gate 8: uAPI headers and layout"
	t=$SECONDS log=$CK/8-uapi.log hdr=$CK/uapi
	rm -rf "$hdr"
	: >"$log"
	if ! kmake "$O_TEST" "$log" headers_install INSTALL_HDR_PATH="$hdr"; then
		result 8 "headers_install failed" fail "$log"
	else
		h=$hdr/include/linux/vfio.h missing=()
		grep -q 'struct vfio_region_dma_range *{' "$h" || missing+=("struct vfio_region_dma_range")
		grep -q 'struct vfio_device_feature_dma_buf *{' "$h" || missing+=("struct vfio_device_feature_dma_buf")
		grep -qE '#define[[:space:]]+VFIO_DEVICE_FEATURE_DMA_BUF[[:space:]]' "$h" || missing+=("VFIO_DEVICE_FEATURE_DMA_BUF")
		if [ ${#missing[@]} -gt 0 ]; then
			printf 'the series does not define in <linux/vfio.h>: %s\n' "${missing[@]}" | tee -a "$log" >&2
			result 8 "${#missing[@]} of 3 uAPI items not defined" fail "$log"
		else
			cat >"$CK/uapi-test.c" <<'EOF'
/* Mainline's (6.19) layout of the dma-buf export uAPI. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <linux/vfio.h>

_Static_assert(VFIO_DEVICE_FEATURE_DMA_BUF == 11, "feature number");
_Static_assert(sizeof(struct vfio_region_dma_range) == 16, "sizeof vfio_region_dma_range");
_Static_assert(offsetof(struct vfio_region_dma_range, offset) == 0, "offset");
_Static_assert(offsetof(struct vfio_region_dma_range, length) == 8, "length");
_Static_assert(sizeof(struct vfio_device_feature_dma_buf) == 16, "sizeof vfio_device_feature_dma_buf");
_Static_assert(offsetof(struct vfio_device_feature_dma_buf, region_index) == 0, "region_index");
_Static_assert(offsetof(struct vfio_device_feature_dma_buf, open_flags) == 4, "open_flags");
_Static_assert(offsetof(struct vfio_device_feature_dma_buf, flags) == 8, "flags");
_Static_assert(offsetof(struct vfio_device_feature_dma_buf, nr_ranges) == 12, "nr_ranges");
_Static_assert(offsetof(struct vfio_device_feature_dma_buf, dma_ranges) == 16, "dma_ranges");

int main(void)
{
	size_t sz = sizeof(struct vfio_device_feature) +
		    sizeof(struct vfio_device_feature_dma_buf) +
		    2 * sizeof(struct vfio_region_dma_range);
	struct vfio_device_feature *feat = calloc(1, sz);
	struct vfio_device_feature_dma_buf *db;

	if (!feat)
		return 1;
	feat->argsz = sz;
	feat->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_BUF;
	db = (struct vfio_device_feature_dma_buf *)feat->data;
	db->region_index = VFIO_PCI_BAR2_REGION_INDEX;
	db->open_flags = O_RDWR | O_CLOEXEC;
	db->flags = 0;
	db->nr_ranges = 2;
	db->dma_ranges[1].offset = 4096;
	db->dma_ranges[1].length = 4096;
	free(feat);
	return 0;
}
EOF
			if gcc -std=c11 -Wall -Wextra -Werror -I"$hdr/include" -o "$CK/uapi-test" "$CK/uapi-test.c" >>"$log" 2>&1 &&
			   "$CK/uapi-test" >>"$log" 2>&1; then
				echo "compiled and ran $CK/uapi-test.c against $hdr/include" >>"$log"
				result 8 "layout and feature 11 as mainline" pass "$log"
			else
				result 8 "$(grep -c 'error:' "$log") compile error(s)" fail "$log"
			fi
		fi
	fi
	SECS[8]=$((SECONDS - t))
fi

# --- 10: Debian's config ----------------------------------------------------------
# The value of OPTION in CONFIG (y, m, a string, or n when unset).
config_val() { # CONFIG OPTION
	local v
	v=$(grep -m1 "^$2=" "$1" | cut -d= -f2-)
	echo "${v:-n}"
}
# A line per option of DISTRO_WANT that CONFIG does not have as wanted.
distro_unwanted() { # CONFIG WHAT
	local w
	for w in "${DISTRO_WANT[@]}"; do
		[ "$(config_val "$1" "${w%%=*}")" = "${w#*=}" ] ||
			echo "$2 ${w%%=*}=$(config_val "$1" "${w%%=*}") (want ${w#*=})"
	done
}
if sel 10; then
	step "gate 10: Debian's 6.12 amd64 config, olddefconfig, config/distro.config"
	t=$SECONDS log=$CK/10-distro.log od=$O_DISTRO bad=()
	: >"$log"
	mkdir -p "$od"
	if [ ! -r "$DISTRO_CONFIG" ]; then
		result 10 "no $DISTRO_CONFIG (package linux-config-6.12)" fail "$log"
	elif ! xz -dc "$DISTRO_CONFIG" >"$od/config.debian" ||
	     ! cp "$od/config.debian" "$od/.config" ||
	     ! kmake "$od" "$log" olddefconfig || ! cp "$od/.config" "$od/config.olddefconfig"; then
		result 10 "Debian's config: olddefconfig failed" fail "$log"
	else
		{
		echo "Debian's config ($DISTRO_CONFIG), then olddefconfig with the series:"
		for w in "${DISTRO_WANT[@]}" CONFIG_PCI_P2PDMA CONFIG_DMABUF_MOVE_NOTIFY CONFIG_IOMMUFD CONFIG_VFIO_DEVICE_CDEV; do
			o=${w%%=*}
			printf '  %-26s Debian: %-4s olddefconfig: %s\n' "$o" \
				"$(config_val "$od/config.debian" "$o")" "$(config_val "$od/.config" "$o")"
		done
		} | tee -a "$log" >&2
		while IFS= read -r m; do bad+=("$m"); done < <(distro_unwanted "$od/.config" "olddefconfig alone left")
		if ! (cd "$od" && "$WT/scripts/kconfig/merge_config.sh" -m -O "$od" "$od/.config" "$DISTRO_FRAG") >>"$log" 2>&1 ||
		   ! kmake "$od" "$log" olddefconfig; then
			bad+=("merging config/distro.config failed")
		else
			echo "config/distro.config had to set:" | tee -a "$log" >&2
			while IFS= read -r line; do
				o=${line%%=*}
				printf '  %-26s %s -> %s\n' "$o" "$(config_val "$od/config.olddefconfig" "$o")" \
					"$(config_val "$od/.config" "$o")" | tee -a "$log" >&2
			done < <(sed 's/[[:space:]]*#.*//' "$DISTRO_FRAG" | grep '^CONFIG_')
			while IFS= read -r m; do bad+=("config/distro.config: $m"); done < <(config_mismatch "$od" "$DISTRO_FRAG")
			while IFS= read -r m; do bad+=("$m"); done < <(distro_unwanted "$od/.config" "with config/distro.config,")
		fi
		if [ ${#bad[@]} -gt 0 ]; then
			printf '%s\n' "${bad[@]}" | tee -a "$log" >&2
			result 10 "${bad[0]}" fail "$log"
		else
			# Every C file the series touches is compiled again (an object
			# left from an earlier run would hide its warnings; ccache
			# replays them), those outside DISTRO_DIRS as single objects.
			mapfile -t touched < <(git -C "$WT" diff --name-only "$BASE" "$TIP" |
				grep -vE '^(tools|Documentation|samples)/')
			extra=()
			for f in "${touched[@]}"; do
				[[ $f == *.c ]] || continue
				rm -f "$od/${f%.c}.o"
				in_dirs=
				for d in "${DISTRO_DIRS[@]}"; do [[ $f == "$d"* ]] && in_dirs=1; done
				[ -n "$in_dirs" ] || extra+=("${f%.c}.o")
			done
			info "building ${DISTRO_DIRS[*]} and ${#extra[@]} other object(s) the series touches with Debian's config"
			echo "also built: ${extra[*]}" >>"$log"
			b=$SECONDS blog=$CK/10-distro-build.log
			: >"$blog"
			if ! kmake "$od" "$blog" modules_prepare ||
			   ! kmake "$od" "$blog" "${DISTRO_DIRS[@]}" ${extra[@]+"${extra[@]}"}; then
				grep -E '(error|Error [0-9]+)' "$blog" | head -n 5 | tee -a "$log" >&2
				result 10 "build failed: $(grep -m1 -oE '^[^ :]+\.[ch]:[0-9]+' "$blog" || echo "see the log")" fail "$blog"
			else
				warns=$(grep -E '^[^ :]+:[0-9]+:[0-9]+: warning:' "$blog" |
					grep -E "(^|/)($(IFS='|'; echo "${touched[*]}")):" || true)
				if [ -n "$warns" ]; then
					echo "$warns" | tee -a "$log" >&2
					result 10 "$(echo "$warns" | wc -l) warning(s) in files the series touches" fail "$blog"
				elif ! [ -s "$od/drivers/vfio/pci/vfio_pci_dmabuf.o" ] ||
				     ! [ -s "$od/drivers/iommu/iommufd/pages.o" ]; then
					result 10 "vfio_pci_dmabuf.o or iommufd's pages.o was not built" fail "$blog"
				else
					echo "built ${DISTRO_DIRS[*]} in $((SECONDS - b))s" >>"$log"
					result 10 "export on with no option set; fragment adds iommufd; built in $((SECONDS - b))s" pass "$log"
				fi
			fi
		fi
	fi
	SECS[10]=$((SECONDS - t))
fi

# --- summary -----------------------------------------------------------------------
step "summary ($N patch(es); $(((SECONDS - T0) / 60))m$(((SECONDS - T0) % 60))s)"
printf '%-2s %-28s %-6s %s\n' "#" gate result findings
rc=0 np=0 nf=0 ns=0
for g in "${GATES[@]}"; do
	if [ -z "${RES[$g]:-}" ]; then
		printf '%-2s %-28s %-6s %s\n' "$g" "${NAME[$g]}" skip "-"
		ns=$((ns + 1))
		continue
	fi
	if [ "${RES[$g]}" = pass ]; then np=$((np + 1)); else rc=1 nf=$((nf + 1)); fi
	printf '%-2s %-28s %-6s %s\n' "$g" "${NAME[$g]}" "$([ "${RES[$g]}" = pass ] && echo pass || echo FAIL)" "${FIND[$g]}"
done
echo "logs:"
for g in "${GATES[@]}"; do
	[ -n "${LOGF[$g]:-}" ] && printf '  %s %s%s\n' "$g" "${LOGF[$g]}" "${SECS[$g]:+ (${SECS[$g]}s)}"
done
echo "gates: $np passed, $nf failed, $ns skipped"
exit $rc
