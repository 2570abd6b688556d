"""The guided tour's links (docs/tour.md) point at what they name, so the tour stays true as code moves."""

import pathlib
import re

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
LINK = re.compile(r"\[`([^`]+)`\]\((\.\./[^)#]+)#L(\d+)\)")


def test_every_tour_link_points_at_the_line_that_defines_what_it_names():
    text = (DOCS / "tour.md").read_text()
    links = LINK.findall(text)
    assert len(links) > 25  # the pattern still matches the page's links
    wrong = []
    for name, path, line in links:
        lines = (DOCS / path).resolve().read_text().splitlines()
        target = lines[int(line) - 1]
        if name.endswith(".py"):
            continue  # a file's link: the line is where reading starts
        identifier = name.split(".")[-1]
        if not re.search(rf"\b(def|class) {re.escape(identifier)}\b", target):
            found = [n for n, l in enumerate(lines, 1) if re.search(rf"\b(def|class) {re.escape(identifier)}\b", l)]
            wrong.append(f"{name} -> {path}#L{line} reads {target.strip()!r}; defined at lines {found}")
    assert not wrong, "\n".join(wrong)
