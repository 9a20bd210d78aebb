"""Who a sku belongs to during an ingest run: the stored item, the first image of the run that
names it, or (with ``replace``) a new image that takes over a stored item's picture."""

from __future__ import annotations

import logging
from pathlib import Path

from core.ingest.report import Rejection
from core.storage import Item, Repository

log = logging.getLogger(__name__)


class SkuClaims:
    """Sku conflicts: a different image under a stored or already-claimed sku."""

    def __init__(self, repo: Repository, *, replace: bool = False):
        self.repo, self.replace = repo, replace
        self.stored: dict[str, Item] = {}  # stored items of the skus looked up
        self._looked_up: set[str] = set()
        self._run: dict[str, str] = {}  # sku -> the file that claimed it in this run
        self._replacing: set[str] = set()

    def load(self, skus: list[str]) -> None:
        """Look the stored items of ``skus`` up (once per sku)."""
        new = sorted(set(skus) - self._looked_up)
        self._looked_up.update(new)
        self.stored.update((it.sku, it) for it in self.repo.get_items(new))

    def claim(self, sku: str | None, digest: str, label: str) -> Rejection | None:
        """None when ``label`` may take ``sku``; the conflict otherwise."""
        if not sku:
            return None
        if sku in self._run:
            return Rejection(label, f"conflict: sku {sku} is already given to "
                             f"{self._run[sku]} in this run")
        stored = self.stored.get(sku)
        if stored is not None and stored.hash != digest:
            if not self.replace:
                return Rejection(label, f"conflict: sku {sku} already names another image; "
                                 "use --replace to update it")
            self._replacing.add(sku)
        self._run[sku] = label
        return None

    def release(self, sku: str | None) -> None:
        """The image that claimed ``sku`` was rejected: the sku is free again."""
        if sku:
            self._run.pop(sku, None)
            self._replacing.discard(sku)

    def replaces(self, sku: str) -> bool:
        return sku in self._replacing


def replace_items(repo: Repository, data_dir: Path, items: list[Item],
                  stored: dict[str, Item]) -> int:
    """New pictures for stored items: the records are replaced (popularity kept), their
    vectors deleted (the next embed run makes new ones) and the old files removed."""
    for item in items:
        item.popularity = stored[item.sku].popularity
    replaced = repo.replace_items(items)
    skus = [it.sku for it in items]
    for model_id in repo.model_ids():
        repo.delete_vectors(model_id, skus)
    for item in items:
        _remove_stored_files(data_dir, stored[item.sku], item)
    return replaced


def _remove_stored_files(data_dir: Path, old: Item, new: Item) -> None:
    for rel in (old.image_path, old.mask_path):
        if not rel or Path(rel).is_absolute() or rel in (new.image_path, new.mask_path):
            continue
        try:
            (data_dir / rel).unlink(missing_ok=True)
        except OSError as exc:  # a leftover file is harmless; the record no longer names it
            log.warning("could not remove %s: %s", rel, exc)
