"""A progress display for training loops: a widget in notebooks, text elsewhere.

In a running Jupyter kernel the bar is an ``ipywidgets.IntProgress`` with a
``Label`` next to it; in a terminal, a script or a test it prints a few
plain lines. Only the step count and the loss are shown, never times or
rates, so an executed notebook or a log is the same on every run. (A
widget's saved output also holds a widget model id, which differs between
runs; a chapter whose outputs must be byte-identical uses ``mode="text"``
or no progress display.)
"""

from __future__ import annotations

import sys

from ._validate import check_positive_int

__all__ = ["in_notebook", "Progress"]


def in_notebook() -> bool:
    """True when running inside a Jupyter kernel (not a terminal IPython).

    A kernel's shell has a ``kernel`` attribute (ipykernel's
    ``ZMQInteractiveShell``); the terminal shell and plain Python do not.
    """
    ipython_module = sys.modules.get("IPython")
    if ipython_module is None:
        return False
    try:
        shell = ipython_module.get_ipython()
    except Exception:  # pragma: no cover - a broken IPython install
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


class Progress:
    """Show the progress of ``total`` steps.

    Use ``update(step, loss)`` after each step and ``close(message)`` at the end.

    Parameters
    ----------
    total : int
        Number of steps, at least 1.
    description : str
        Short text in front of the counts.
    mode : str
        "auto" (widget in a kernel, text otherwise), "widget", "text" or "off".
    stream : file-like
        Where text goes (default ``sys.stdout``).
    every : int, optional
        Text mode prints a line every ``every`` steps (default: 10 lines over
        the run) and at the last step.
    """

    def __init__(self, total: int, description: str = "training", mode: str = "auto",
                 stream=None, every: int | None = None):
        self.total = check_positive_int("total", total)
        if mode not in ("auto", "widget", "text", "off"):
            raise ValueError(f"mode: expected 'auto', 'widget', 'text' or 'off', got {mode!r}")
        if mode == "auto":
            mode = "widget" if in_notebook() else "text"
        self.mode = mode
        self.description = description
        self.stream = stream if stream is not None else sys.stdout
        self.every = check_positive_int("every", every, allow_none=True) or max(1, self.total // 10)
        self._bar = self._label = None
        if self.mode == "widget":
            import ipywidgets as widgets
            from IPython.display import display
            self._bar = widgets.IntProgress(value=0, min=0, max=self.total,
                                            description=description)
            self._label = widgets.Label(value=f"0/{self.total}")
            display(widgets.HBox([self._bar, self._label]))

    def _text(self, step: int, loss) -> str:
        loss_txt = "" if loss is None else f"  loss {loss:.4g}"
        return f"{self.description}: step {step}/{self.total}{loss_txt}"

    def update(self, step: int, loss: float | None = None) -> None:
        """Report that ``step`` steps (1-based) are done, with the latest loss."""
        if self.mode == "widget":
            self._bar.value = step
            self._label.value = self._text(step, loss).split(": ", 1)[1]
        elif self.mode == "text" and (step % self.every == 0 or step == self.total):
            print(self._text(step, loss), file=self.stream)

    def close(self, message: str | None = None) -> None:
        """Finish: in widget mode colour the bar (red if ``message`` reports a stop)."""
        if self.mode == "widget":
            self._bar.bar_style = "danger" if message else "success"
            if message:
                self._label.value = message
        elif self.mode == "text" and message:
            print(message, file=self.stream)
