"""Anchors for the book's claim cells.

Every code cell whose first line is ``# claim: <id>`` (see
``rnnbook.claims``) gets the HTML id ``claim-<id>`` on its cell container,
and the same name as a Sphinx label, so the "Claims checked" appendix can
link each claim to the cell that checks it with ``{ref}`` and the build
(``-n``) fails when a link has no cell. Chapters need no extra markup.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

_CLAIM_LINE = re.compile(r"^#\s*claim:\s*(\S+)\s*$")


def _claim_id(cell: nodes.Element) -> str | None:
    for block in cell.findall(nodes.literal_block):
        lines = block.astext().lstrip("\n").splitlines()
        if lines:
            match = _CLAIM_LINE.match(lines[0].strip())
            if match:
                return match.group(1)
        return None           # only the cell's own source (the first block) counts
    return None


def _label_claim_cells(app, doctree):
    env = app.env
    std = env.get_domain("std")
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") != "cell_code":
            continue
        claim = _claim_id(cell)
        if claim is None:
            continue
        name = f"claim-{claim}".lower()     # Sphinx labels are lower-case
        if name in std.labels and std.labels[name][0] != env.docname:
            other = std.labels[name][0]
            logger.warning(
                "claim %r is checked in two documents (%s and %s)", claim, other,
                env.docname, location=cell)
            continue
        if name not in cell["ids"]:
            cell["ids"].append(name)
        std.labels[name] = (env.docname, name, f"claim {claim}")
        std.anonlabels[name] = (env.docname, name)


def setup(app):
    app.connect("doctree-read", _label_claim_cells)
    return {"parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": 1}
