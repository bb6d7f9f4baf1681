#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the output of vfio_dmabuf_bench (one boot of ./testbed bench) into
the table, a JSON file and the plots.

Usage: bench.py VM_OUTPUT DIR

VM_OUTPUT is what scripts/vm.py printed; the program's lines in it are

  BENCH-GOAL figure|what|goal|measured|met, missed or n/a
  BENCH-JSON {"figure": ..., ...}      one measurement

(possibly behind the "# " of the kselftest runner). DIR receives
results.json, the plot data and, with gnuplot, bench-map.svg (setup time
against BAR size for each route) and bench-revoke.svg (the revoking config
write against the number of buffers). Exits non-zero when the program
printed no goal at all: then it did not run.
"""
import json
import os
import re
import shutil
import subprocess
import sys


def parse(path):
    goals, rows = [], []
    for line in open(path, errors="replace"):
        m = re.search(r"BENCH-GOAL (.*)$", line)
        if m:
            f = [x.strip() for x in m.group(1).split("|")]
            if len(f) == 5:
                goals.append(dict(zip(("figure", "what", "goal", "measured", "verdict"), f)))
            continue
        m = re.search(r"BENCH-JSON (\{.*\})\s*$", line)
        if m:
            try:
                rows.append(json.loads(m.group(1)))
            except json.JSONDecodeError:
                print(f"bench.py: bad JSON line: {m.group(1)[:80]}", file=sys.stderr)
    return goals, rows


def table(goals):
    heads = ("figure", "what", "goal", "measured", "verdict")
    width = [max(len(h), *(len(g[h]) for g in goals)) for h in heads]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, width)) + " |"
    out = [line(heads), "|" + "|".join("-" * (w + 2) for w in width) + "|"]
    out += [line([g[h] for h in heads]) for g in goals]
    return "\n".join(out)


def gnuplot(svg, title, xlabel, ylabel, curves):
    """Draw @curves, (title, data file) pairs, on log axes into @svg."""
    if not curves:
        return False
    cmds = [f"set terminal svg size 800,500; set output '{svg}'",
            "set logscale xy; set grid",
            f"set title '{title}'",
            f"set xlabel '{xlabel}'; set ylabel '{ylabel}'; set key left top",
            "plot " + ", ".join(f"'{f}' using 1:2 with linespoints title '{n}'"
                                for n, f in curves)]
    return subprocess.run(["gnuplot", "-e", "; ".join(cmds)]).returncode == 0


def plots(rows, outdir):
    """Write the plot data; draw the plots when gnuplot is there."""
    routes = {}
    for r in rows:
        if r.get("figure") == "P-1" and r.get("op") == "setup" and "size" in r:
            routes.setdefault(r.get("route", "?"), []).append(
                (r["size"], r["median_ns"] / 1e9, bool(r.get("bounded"))))
    revoke = {}
    for r in rows:
        if r.get("figure") == "P-3" and "n" in r and r.get("op") in ("off", "on"):
            revoke.setdefault(r["op"], []).append((r["n"], r["median_ns"] / 1e6))
    files = []
    for name, pts in sorted(routes.items()):
        f = os.path.join(outdir, f"map-{name}.dat")
        with open(f, "w") as fh:
            for size, s, bounded in sorted(pts):
                fh.write(f"{size / 2**20:g} {s:.9f} {int(bounded)}\n")
        files.append((name, f))
    rfiles = []
    for op, pts in sorted(revoke.items()):
        f = os.path.join(outdir, f"revoke-{op}.dat")
        with open(f, "w") as fh:
            for n, ms in sorted(pts):
                fh.write(f"{n} {ms:.6f}\n")
        rfiles.append((op, f))
    if not shutil.which("gnuplot"):
        print("bench.py: no gnuplot: plot data only", file=sys.stderr)
        return []
    drawn = []
    for svg, title, xlabel, ylabel, curves in (
            ("bench-map.svg",
             "P-1: giving a peer a BAR (setup, median; a bounded type1 point is a lower bound)",
             "BAR size (MiB)", "seconds", files),
            ("bench-revoke.svg",
             "P-3: the config write that revokes (off) and restores (on), median",
             "buffers, each mapped by a peer", "ms",
             [(f"decode {op}", f) for op, f in rfiles])):
        if gnuplot(os.path.join(outdir, svg), title, xlabel, ylabel, curves):
            drawn.append(os.path.join(outdir, svg))
    return drawn


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, outdir = sys.argv[1:]
    goals, rows = parse(src)
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "results.json"), "w") as fh:
        json.dump({"goals": goals, "measurements": rows}, fh, indent=1)
    if not goals:
        print(f"FAILED: no BENCH-GOAL line in {src}: the benchmark did not run")
        return 1
    print(table(goals))
    for svg in plots(rows, outdir):
        print(f"plot: {svg}")
    print(f"results: {os.path.join(outdir, 'results.json')} "
          f"({len(goals)} goals, {len(rows)} measurements)")
    missed = [g for g in goals if g["verdict"] == "missed"]
    print(f"{len(goals) - len(missed)} of {len(goals)} goals met or not applicable")
    return 0


if __name__ == "__main__":
    sys.exit(main())
