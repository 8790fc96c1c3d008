"""Helpers for section 8.3, a hidden-state explorer (``book/08_3_state_explorer.ipynb``)."""
