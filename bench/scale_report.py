#!/usr/bin/env python3
"""scale_report.py: the table and plot of bench/scale.sh.

    bench/scale_report.py WORKDIR

Reads WORKDIR/{size,build,micro}-F.json for every factor F that has all
three, prints a Markdown table (articles, index size and its ratio to the
JSONL, indexing rate and peak memory, p50 per query class) and writes
WORKDIR/scale.svg: p50 latency per class against the number of articles,
both axes logarithmic.  Standard library only.
"""
import json
import math
import os
import sys


def load(work):
    rows = []
    for name in os.listdir(work):
        if not (name.startswith("size-") and name.endswith(".json")):
            continue
        f = name[5:-5]
        paths = [os.path.join(work, "%s-%s.json" % (k, f)) for k in ("size", "build", "micro")]
        if not all(os.path.exists(p) for p in paths):
            continue
        row = {}
        for p in paths:
            with open(p) as fh:
                row.update(json.load(fh))
        rows.append(row)
    rows.sort(key=lambda r: r["docs"])
    return rows


def table(rows):
    classes = list(rows[0]["classes"].keys())
    head = ["articles", "JSONL MB", "index MB", "× JSONL", "build s", "articles/s", "indexer peak MB"]
    head += ["%s p50 ms" % c for c in classes]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [
            "{:,}".format(r["docs"]),
            "%.0f" % (r["jsonl_bytes"] / 1e6),
            "%.0f" % (r["index_bytes"] / 1e6),
            "%.2f" % (r["index_bytes"] / r["jsonl_bytes"]),
            "%.0f" % r["wall_s"],
            "%.0f" % (r["docs"] / r["wall_s"]) if r["wall_s"] else "-",
            "%.0f" % (r["peak_kb"] / 1024),
        ]
        cells += ["%.3f" % (r["classes"][c]["p50_us"] / 1000) for c in classes]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out), classes


def svg(rows, classes, path):
    w, h, ml, mr, mt, mb = 720, 440, 70, 170, 20, 50
    xs = [r["docs"] for r in rows]
    ys = [r["classes"][c]["p50_us"] / 1000 for r in rows for c in classes]
    x0, x1 = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    if y1 == y0:
        y1 += 1

    def px(x):
        return ml + (math.log10(x) - x0) / (x1 - x0) * (w - ml - mr)

    def py(y):
        return h - mb - (math.log10(y) - y0) / (y1 - y0) * (h - mt - mb)

    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
              "#bcbd22", "#17becf"]
    s = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
         'font-size="12">' % (w, h), '<rect width="100%" height="100%" fill="white"/>']
    for e in range(int(y0), int(y1) + 1):
        y = py(10 ** e)
        s.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (ml, y, w - mr, y))
        s.append('<text x="%d" y="%.1f" text-anchor="end">%g ms</text>' % (ml - 6, y + 4, 10 ** e))
    for x in xs:
        s.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (px(x), mt, px(x), h - mb))
        s.append('<text x="%.1f" y="%d" text-anchor="middle">{:,}</text>'.format(x) % (px(x), h - mb + 18))
    s.append('<text x="%d" y="%d" text-anchor="middle">articles (log)</text>' % ((ml + w - mr) / 2, h - 10))
    for i, c in enumerate(classes):
        col = colors[i % len(colors)]
        pts = " ".join("%.1f,%.1f" % (px(r["docs"]), py(r["classes"][c]["p50_us"] / 1000)) for r in rows)
        s.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>' % (pts, col))
        for r in rows:
            s.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' %
                     (px(r["docs"]), py(r["classes"][c]["p50_us"] / 1000), col))
        s.append('<text x="%d" y="%d" fill="%s">%s</text>' % (w - mr + 12, mt + 16 + 18 * i, col, c))
    s.append("</svg>")
    with open(path, "w") as fh:
        fh.write("\n".join(s) + "\n")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows = load(sys.argv[1])
    if not rows:
        sys.exit("scale_report.py: no complete results in %s" % sys.argv[1])
    text, classes = table(rows)
    print(text)
    path = os.path.join(sys.argv[1], "scale.svg")
    svg(rows, classes, path)
    print("\nplot: %s (p50 per class against articles, log-log)" % path)


if __name__ == "__main__":
    main()
