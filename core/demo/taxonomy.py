"""Kept for the demo generator's old import path only: the taxonomy lives in
:mod:`core.taxonomy`; import it from there."""

from core.taxonomy import *  # noqa: F403
