"""Sphinx glue for the RNN book (loaded from _config.yml, sphinx.local_extensions).

1. ``RNNBOOK_EXECUTE`` (``force``, ``cache``, ``auto`` or ``off``) overrides
   ``execute.execute_notebooks`` from ``_config.yml``: ``scripts/book.sh``
   sets it to ``force`` under CI so every notebook runs from scratch there,
   while local builds re-run only changed notebooks (jupyter-cache).
2. ``window.FontAwesomeConfig = {autoReplaceSvg: "nest"}`` is put in every
   page's <head> as a plain (not deferred) script, so it runs before the
   theme's deferred FontAwesome 6 script. Without it FontAwesome replaces the
   ``<i class="fa fa-play">`` inside the widgets' Play button by an ``<svg>``
   outside the element the widget manager later updates, and the button
   stops showing play/pause (the browser test checks the icon and clicks).
   FontAwesome does not follow the widget's later class changes on that
   ``<i>``; ``static/rnnbook-widgets.js`` handles that part.
3. Scripts that an extension registers twice are written once per page:
   sphinx-thebe 0.3.1 adds its inline ``const THEBE_JS_URL = ...`` config
   twice under Jupyter Book 1 (once with filename None, once with ""),
   and the second copy is a SyntaxError in the
   browser console on every page.
4. ``static/rnnbook.css`` on every page: code and printed output wrap on
   phones (no sideways scrolling at 390 px), the values under an animation
   frame wrap. (``static/rnnbook-widgets.js``, on pages with widgets, also
   disables the controls of ``rnnlib.viz.live_interact`` widgets, which need
   a kernel, and shows their note.)
"""

from __future__ import annotations

import os
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

MODES = ("force", "cache", "auto", "off")

FONTAWESOME_CONFIG = 'window.FontAwesomeConfig = {autoReplaceSvg: "nest"};'


def _execution_mode_from_env(app, config):
    mode = os.environ.get("RNNBOOK_EXECUTE", "").strip()
    if not mode:
        return
    if mode not in MODES:
        raise ValueError(
            f"RNNBOOK_EXECUTE: expected one of {', '.join(MODES)}, got {mode!r}")
    if mode == "force":
        app._rnnbook_force_execution = True
        mode = "cache"
    config.nb_execution_mode = mode


def _execute_in_parallel(app, env, docnames):
    """Before Sphinx reads the notebooks, execute those MyST-NB would execute."""
    cfg = getattr(env, "mystnb_config", None)
    if cfg is None or cfg.execution_mode != "cache":
        return
    from rnnbook.execute import execute_into_cache

    paths = [p for p in (Path(env.doc2path(d)) for d in sorted(docnames))
             if p.suffix == ".ipynb"]
    raw = os.environ.get("RNNBOOK_EXECUTE_WORKERS", "").strip()
    if raw and not raw.isdigit():
        raise ValueError(f"RNNBOOK_EXECUTE_WORKERS: expected a positive integer, got {raw!r}")
    workers = int(raw) if raw else None
    execute_into_cache(paths, cfg.execution_cache_path, workers=workers,
                       timeout=cfg.execution_timeout,
                       allow_errors=cfg.execution_allow_errors,
                       force=getattr(app, "_rnnbook_force_execution", False),
                       log=logger.info)


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        attrs = getattr(js, "attributes", {}) or {}
        key = (getattr(js, "filename", None) or "", tuple(sorted(attrs.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def setup(app):
    app.connect("config-inited", _execution_mode_from_env, priority=900)
    app.connect("env-before-read-docs", _execute_in_parallel)
    app.add_js_file(None, body=FONTAWESOME_CONFIG, priority=1)
    app.connect("html-page-context", _dedupe_scripts, priority=999)
    app.add_css_file("rnnbook.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": 1}
