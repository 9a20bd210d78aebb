"""Progress callback types shared by long-running core work.

The CLI feeds these callbacks to tqdm, the pages to ``st.progress``; core only calls them.
"""

from __future__ import annotations

from collections.abc import Callable

# (done, total) for one counted job: items ingested, vectors embedded, epochs trained…
Progress = Callable[[int, int], None]
# (stage name, done, total) for a run of several counted jobs (the first-run set-up).
StageProgress = Callable[[str, int, int], None]
# (fraction in [0, 1], message) for work measured in stages rather than items (the map).
FractionProgress = Callable[[float, str], None]
