"""The search tree of a beam search, drawn from the ``tree`` that
``rnnlib.beam_search`` returns (nothing is computed here).

Columns are the steps (0 is the start token); in each column every
candidate the search scored is a node, ordered by its parent's position and
then by token, so that siblings sit together. Candidates kept in the beam
are large dots labelled with their token and cumulative log-probability;
pruned ones are small grey dots with their token; the best hypothesis's
path is drawn thick.
"""

from __future__ import annotations

import numpy as np

__all__ = ["draw_beam_tree", "beam_tree_layout"]

_TREE_KEYS = ("parent", "token", "log_prob", "step", "kept", "finished")


def _check_tree(tree):
    if not isinstance(tree, dict) or any(k not in tree for k in _TREE_KEYS):
        raise ValueError(f"tree: expected the dict returned by rnnlib.beam_search with keys "
                         f"{list(_TREE_KEYS)}, got {sorted(tree) if isinstance(tree, dict) else type(tree).__name__}")
    return {k: np.asarray(tree[k]) for k in _TREE_KEYS}


def beam_tree_layout(tree) -> np.ndarray:
    """Vertical position in [0, 1] of every node (node 0 at 0.5): (n_nodes,)."""
    t = _check_tree(tree)
    n = len(t["parent"])
    y = np.full(n, 0.5)
    rank = np.zeros(n)                                  # order within the column
    for step in range(1, int(t["step"].max()) + 1):
        nodes = np.flatnonzero(t["step"] == step)
        order = sorted(nodes, key=lambda i: (rank[t["parent"][i]], t["token"][i]))
        for r, node in enumerate(order):
            rank[node] = r
            y[node] = 1.0 - (r + 0.5) / len(order)
    return y


def draw_beam_tree(tree, token_names=None, best=None, ax=None, title=None,
                   fontsize=10, logprob_digits=2, pruned_labels=12):
    """Draw a beam-search tree.

    Parameters
    ----------
    tree : dict from ``rnnlib.beam_search`` (``parent``, ``token``,
        ``log_prob``, ``step``, ``kept``, ``finished``).
    token_names : list of str, optional, the name of each token id.
    best : sequence of ints, optional: the emitted tokens of the hypothesis
        whose path is drawn thick (e.g. ``sequences[0]``).
    ax : matplotlib Axes, optional.
    title : str, optional.
    fontsize : points, at least 10 by default (the book's smallest text).
    logprob_digits : digits of the log-probabilities shown.
    pruned_labels : label the pruned candidates of a step with their token
        only when the step has at most this many candidates (more would
        overlap); True always, False never.

    Returns
    -------
    ax : matplotlib Axes.
    """
    t = _check_tree(tree)
    if ax is None:
        import matplotlib.pyplot as plt  # only when the caller gave no axes

        _, ax = plt.subplots(figsize=(5.7, 3.6), layout="constrained")
    names = token_names if token_names is not None else [str(i) for i in range(t["token"].max() + 1)]
    y = beam_tree_layout(tree)
    x = t["step"].astype(float)
    path = set()
    if best is not None:                                 # follow the tokens from the root
        node = 0
        for tok in best:
            kids = np.flatnonzero((t["parent"] == node) & (t["token"] == tok) & t["kept"])
            if kids.size == 0:
                break
            node = int(kids[0])
            path.add(node)
    for i in range(1, len(x)):
        p = t["parent"][i]
        on_path = i in path
        ax.plot([x[p], x[i]], [y[p], y[i]], color="C3" if on_path else
                ("0.35" if t["kept"][i] else "0.8"), lw=2.4 if on_path else
                (1.1 if t["kept"][i] else 0.6), zorder=1)
    pruned = ~t["kept"]
    ax.scatter(x[pruned], y[pruned], s=9, color="0.65", zorder=2)
    per_step = np.bincount(t["step"])
    for i in np.flatnonzero(pruned):
        if pruned_labels is False or (pruned_labels is not True
                                      and per_step[t["step"][i]] > pruned_labels):
            continue
        ax.text(x[i] + 0.04, y[i], names[t["token"][i]], fontsize=fontsize, color="0.55",
                va="center", ha="left", zorder=2)
    kept = t["kept"].copy()
    kept[0] = True
    colors = np.where(t["finished"][kept], "C2", "C0")
    ax.scatter(x[kept], y[kept], s=60, c=list(colors), edgecolor="k", linewidth=0.6, zorder=3)
    for i in np.flatnonzero(kept):
        label = names[t["token"][i]] if i else "start"
        if i:
            label += f" {t['log_prob'][i]:.{logprob_digits}f}"
        ax.text(x[i] + 0.07, y[i] + 0.012, label, fontsize=fontsize, va="bottom", ha="left",
                zorder=4, fontweight="bold" if i in path else "normal",
                bbox=dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none",
                          alpha=0.8))
    last = int(t["step"].max())
    ax.set_xlim(-0.15, last + 0.75)
    ax.set_ylim(-0.03, 1.05)
    ax.set_xticks(range(last + 1), ["start"] + [str(s) for s in range(1, last + 1)],
                  fontsize=fontsize)
    ax.set_yticks([])
    ax.set_xlabel("step", fontsize=fontsize)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=fontsize + 1)
    return ax
