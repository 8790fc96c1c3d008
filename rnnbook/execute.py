"""Execute the book's notebooks in parallel into MyST-NB's jupyter-cache.

MyST-NB (``execute_notebooks: cache``) executes each notebook that has no
cached outputs while Sphinx reads it, one after the other. On a two-core
machine half the machine waits. :func:`execute_into_cache` runs those
notebooks first, ``workers`` at a time, each in its own kernel, and stores the
executed copies in the same cache. MyST-NB then finds every notebook in the
cache and only reads it.

What is executed and how is exactly what MyST-NB does itself (the same
``jupyter_cache`` function, the notebook's own folder as working directory,
the timeout and ``allow_errors`` of ``_config.yml``), so outputs do not
depend on who ran the notebook. A notebook that fails is not cached: MyST-NB
then runs it again while reading it and reports the failing cell (an error
under ``-W``), as without this module.

``book/_ext/rnnbook_sphinx.py`` calls it at the start of the build; it can
also be run alone::

    python -m rnnbook.execute _build/.jupyter_cache book/*.ipynb
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

__all__ = ["execute_into_cache", "uncached"]


def uncached(paths, cache_path) -> list[Path]:
    """The notebooks among ``paths`` that have no executed copy in the cache.

    Parameters
    ----------
    paths : iterable of str or Path
        ``.ipynb`` files.
    cache_path : str or Path
        The jupyter-cache folder (MyST-NB's ``nb_execution_cache_path``).

    Returns
    -------
    list of Path
        In the order given.
    """
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_path))
    out = []
    for p in map(Path, paths):
        nb = nbformat.read(p, as_version=4)
        try:
            cache.match_cache_notebook(nb)
        except KeyError:
            out.append(p)
    return out


def _one_thread_per_kernel():
    """Worker initializer: kernels running side by side use one BLAS thread each."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def _execute_one(path: str, timeout: int | None, allow_errors: bool):
    """Worker: execute one notebook; return (path, notebook JSON or None, seconds, error)."""
    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.read(path, as_version=4)
    result = single_nb_execution(nb, cwd=str(Path(path).parent.resolve()),
                                 timeout=timeout, allow_errors=allow_errors,
                                 meta_override=True)
    if result.err is not None:
        return path, None, result.time, f"{type(result.err).__name__}"
    return path, nbformat.writes(nb), result.time, None


def execute_into_cache(paths, cache_path, workers: int | None = None,
                       timeout: int | None = None, allow_errors: bool = False,
                       force: bool = False, log=print) -> dict:
    """Execute the uncached notebooks among ``paths``, ``workers`` at a time.

    Parameters
    ----------
    paths : iterable of str or Path
        ``.ipynb`` files (others are ignored).
    cache_path : str or Path
        The jupyter-cache folder; created if missing.
    workers : int, optional
        Kernels running at once; default the number of CPU cores.
    timeout : int, optional
        Seconds per cell, as ``execute.timeout`` in ``_config.yml``.
    allow_errors : bool
        As ``execute.allow_errors``.
    force : bool
        Execute every notebook, cached or not (``RNNBOOK_EXECUTE=force``, as
        under CI), replacing its cached copy.
    log : callable
        Receives one line per notebook (``<path>: Executed notebook in S
        seconds`` or ``<path>: failed (...)``).

    Returns
    -------
    dict
        ``{path: seconds}`` for the notebooks executed and cached.
    """
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers: expected a positive int, got {workers!r}")
    paths = [Path(p) for p in paths if str(p).endswith(".ipynb")]
    todo = list(paths) if force else uncached(paths, cache_path)
    if not todo:
        return {}
    workers = min(workers or os.cpu_count() or 1, len(todo))
    cache = get_cache(str(cache_path))
    # Longest first (file size is a fair proxy), so no long notebook starts last.
    todo.sort(key=lambda p: p.stat().st_size, reverse=True)
    log(f"rnnbook.execute: executing {len(todo)} notebooks, {workers} at a time")
    done = {}
    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    init = _one_thread_per_kernel if workers > 1 else None
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init) as pool:
        futures = [pool.submit(_execute_one, str(p), timeout, allow_errors) for p in todo]
        for fut in as_completed(futures):
            path, text, seconds, error = fut.result()
            if error is not None:
                # No stale copy may stand in for it: MyST-NB must run it and report.
                try:
                    cache.remove_cache(
                        cache.match_cache_notebook(nbformat.read(path, as_version=4)).pk)
                except KeyError:
                    pass
                log(f"{path}: failed ({error}); MyST-NB will run it again and report it")
                continue
            nb = nbformat.reads(text, as_version=4)
            stage = cache.add_nb_to_project(path)
            cache.cache_notebook_bundle(
                CacheBundleIn(nb, stage.uri, data={"execution_seconds": seconds}),
                check_validity=False, overwrite=True)
            done[path] = seconds
            log(f"{path}: Executed notebook in {seconds:.2f} seconds")
    log(f"rnnbook.execute: {len(done)} of {len(todo)} notebooks executed in "
        f"{time.perf_counter() - t0:.1f} s wall clock")
    return done


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cache_path")
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--timeout", type=int, default=120)
    args = ap.parse_args(argv)
    paths = [Path(p) for p in args.notebooks]
    execute_into_cache(paths, args.cache_path, args.workers, args.timeout)
    return 1 if uncached(paths, args.cache_path) else 0


if __name__ == "__main__":
    sys.exit(main())
