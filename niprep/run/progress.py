"""The progress bar of a run: tqdm's, without the monitor thread it would start.

tqdm's monitor thread outlives its bars by up to 10 s; while it runs, a process pool
opened by the next run cannot fork its workers from the calling process
(:class:`niprep.run.backends.ProcessBackend`) and takes them from a fork server.
"""

from __future__ import annotations

from tqdm.auto import tqdm


class Progress(tqdm):
    """``tqdm.auto.tqdm`` that starts no thread (it takes the same arguments)."""

    monitor_interval = 0
