"""Imported by the extraction pool's fork server (pipelines/workers/pool.py PRELOAD) before it forks any
worker: the extraction code, py3langid's model and dateparser's locales are loaded once there,
and every worker starts with them, rather than each worker loading them on its first pages.
They are then frozen out of the garbage collector's view (gc.freeze): a worker's collections
neither walk them nor write to their pages, which it would otherwise copy from the fork server."""

import gc

from pipelines.core import analysis  # noqa: F401 (imported for its modules, as the workers need them)
from pipelines.core.extraction import load_models

load_models()
gc.freeze()
