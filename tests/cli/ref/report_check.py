"""Check an ml-drift HTML report: self-contained, one chart per feature with
bars, the drifted features marked, the violations listed.

usage: report_check.py REPORT.html FEATURES DRIFTED VIOLATIONS
       (FEATURES: how many charts; DRIFTED: the drifted features, comma-separated;
        VIOLATIONS: "feature:check" pairs, comma-separated)
       report_check.py --png SHOT.png
       (a screenshot: the baseline and current bar colours cover some area)
Prints what it found; exit 1 when a check fails.
"""
import re
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

if sys.argv[1] == "--png":
    from PIL import Image
    img = Image.open(sys.argv[2]).convert("RGB")
    counts = {(0x4E, 0x79, 0xA7): 0, (0xF2, 0x8E, 0x2B): 0}
    for px in img.getdata():
        if px in counts:
            counts[px] += 1
    print(f"{img.size[0]}x{img.size[1]}: {counts[(0x4E, 0x79, 0xA7)]} baseline-blue and {counts[(0xF2, 0x8E, 0x2B)]} current-orange pixels")
    sys.exit(0 if all(c > 2000 for c in counts.values()) else 1)

path, nfeatures, drifted, violations = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
text = open(path, encoding="utf-8").read()
fails = []


class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = {}
        self.cards = []
        self.external = []
        self.in_td = False
        self.cells = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        a = dict(attrs)
        for k in ("src", "href", "srcset", "data", "action"):
            if k in a:
                self.external.append(f"<{tag} {k}={a[k]}>")
        if tag in ("script", "link", "iframe", "object", "embed", "img"):
            self.external.append(f"<{tag}>")
        if tag == "div" and "card" in a.get("class", ""):
            self.cards.append("drift" in a.get("class", ""))
        if tag == "td":
            self.in_td = True
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self.in_td = False

    def handle_data(self, data):
        if self.in_td:
            self.cells[-1] += data


p = P()
p.feed(text)
if p.external or re.search(r"url\(|@import|https?://", text):
    fails.append(f"external resources: {p.external}")
svgs = re.findall(r"<svg viewBox.*?</svg>", text, re.S)  # the distribution charts
nonempty = 0
for s in svgs:
    root = ET.fromstring(s)  # well-formed XML, or this raises
    bars = [r for r in root.iter("rect") if float(r.get("height")) > 0]
    nonempty += len(bars) >= 2
if len(svgs) != nfeatures or nonempty != nfeatures:
    fails.append(f"{len(svgs)} charts, {nonempty} with bars; wanted {nfeatures}")
marked = re.findall(r'<div class="card drift"><h3>([^ <]+)', text)
if ",".join(marked) != drifted:
    fails.append(f"drifted cards {marked}, wanted {drifted}")
found = []
cells = p.cells
for i in range(len(cells) - 2):
    if cells[i + 1].endswith("_check") and ":" not in cells[i]:
        found.append(cells[i] + ":" + cells[i + 1])
if ",".join(found) != violations:
    fails.append(f"violations {found}, wanted {violations}")
print(f"{len(svgs)} inline SVG charts, {nonempty} with bars; drifted {marked}; violations {found}; {len(text)} bytes")
for f in fails:
    print("FAIL", f)
sys.exit(1 if fails else 0)
