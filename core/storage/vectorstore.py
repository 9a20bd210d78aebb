"""A model's vectors in MongoDB: one document per item (``<model>|<sku>``, float32 bytes),
their version (bumped by every write or delete: it keys every cache) and paged reads into one
preallocated array. Mixed into the Repository, which owns the collections."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from bson import Binary
from pymongo import ASCENDING, UpdateOne

from core.storage.vectorbytes import decode_page, unzip_page
from core.storage.vectorsnapshot import drop_snapshots

VECTOR_PAGE = 5000  # vector documents per read (a few MB)
ID_PAGE = 2000  # ids per $in of a delete


class VectorStore:
    """Needs ``self.vectors_col`` and ``self.meta`` (collections) and ``self.skus()``."""

    def vectors_version(self, model_id: str) -> int:
        """Bumped whenever a model's vectors are written or deleted (drives index caches)."""
        doc = self.meta.find_one({"_id": _vectors_meta_id(model_id)})
        return int(doc["version"]) if doc else 0

    def vectors_source(self, model_id: str) -> str | None:
        """What a model's stored vectors were made with (e.g. its weights' sha256), if recorded."""
        doc = self.meta.find_one({"_id": _vectors_meta_id(model_id)})
        return doc.get("source") if doc else None

    def set_vectors_source(self, model_id: str, source: str) -> None:
        self.meta.update_one({"_id": _vectors_meta_id(model_id)}, {"$set": {"source": source}},
                             upsert=True)

    def bump_vectors_version(self, model_id: str) -> int:
        doc = self.meta.find_one_and_update(
            {"_id": _vectors_meta_id(model_id)}, {"$inc": {"version": 1}}, upsert=True,
            return_document=True,
        )
        return int(doc["version"])

    def put_vectors(self, model_id: str, skus: list[str], vectors: np.ndarray) -> None:
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        if vecs.ndim != 2 or len(vecs) != len(skus):
            raise ValueError(f"expected {len(skus)} vectors, got shape {vecs.shape}")
        # $set upserts: the embedded server fails to *replace* documents holding binary data.
        ops = [
            UpdateOne(
                {"_id": f"{model_id}|{sku}"},
                {"$set": {"sku": sku, "model_id": model_id, "dim": int(vecs.shape[1]),
                          "v": Binary(vecs[i].tobytes())}},
                upsert=True,
            )
            for i, sku in enumerate(skus)
        ]
        if ops:
            self.vectors_col.bulk_write(ops, ordered=False)
            self.bump_vectors_version(model_id)  # after the write: readers then see new rows

    def delete_vectors(self, model_id: str, skus: list[str] | None = None) -> int:
        """Delete a model's vectors (all, or those of ``skus``); returns how many went."""
        if skus is None:
            deleted = self.vectors_col.delete_many({"model_id": model_id}).deleted_count
        else:
            ids = [f"{model_id}|{s}" for s in map(str, skus)]
            deleted = sum(
                self.vectors_col.delete_many({"_id": {"$in": ids[i : i + ID_PAGE]}}).deleted_count
                for i in range(0, len(ids), ID_PAGE)
            )
        if deleted:
            self.bump_vectors_version(model_id)
        if skus is None:
            drop_snapshots(self, model_id)  # none could be read (the version moved): free them
        return deleted

    def vectors(self, model_id: str, page_size: int = VECTOR_PAGE, *,
                skus: Iterable[str] | None = None) -> tuple[list[str], np.ndarray]:
        """A model's vectors sorted by sku (only those of ``skus`` when given): (skus, float32
        matrix n×d).

        Counts first, then reads pages of ``_id`` + vector only, each decoded straight into
        its rows of one preallocated array: no list of documents or of row arrays is held.
        """
        if skus is not None:
            return self._vectors_of(model_id, skus, page_size)
        count = self.vector_count(model_id)
        prefix = f"{model_id}|"
        out: list[str] = []
        matrix: np.ndarray | None = None
        while len(out) < count:
            page = self.vector_page(model_id, out[-1] if out else "", {"_id": 1, "v": 1},
                                     min(page_size, count - len(out)))
            ids, blobs = unzip_page(page)
            if not ids:
                break  # vectors were deleted since the count
            if matrix is None:
                matrix = np.empty((count, len(blobs[0]) // 4), dtype=np.float32)
            matrix[len(out) : len(out) + len(ids)] = decode_page(blobs, matrix.shape[1],
                                                                 model_id)
            out.extend(i[len(prefix):] for i in ids)
        if matrix is None:
            return [], np.zeros((0, 0), dtype=np.float32)
        return out, matrix[: len(out)]

    def _vectors_of(self, model_id: str, skus: Iterable[str], page_size: int
                    ) -> tuple[list[str], np.ndarray]:
        """The vectors of the given skus, sorted by sku (skus without one are left out)."""
        wanted = sorted(set(map(str, skus)))
        row_of = {s: r for r, s in enumerate(wanted)}
        found = np.zeros(len(wanted), dtype=bool)
        matrix: np.ndarray | None = None
        prefix = f"{model_id}|"
        for start in range(0, len(wanted), page_size):
            chunk = [prefix + s for s in wanted[start : start + page_size]]
            page = self.vectors_col.find({"_id": {"$in": chunk}}, {"_id": 1, "v": 1})
            ids, blobs = unzip_page(page)
            if not ids:
                continue
            if matrix is None:
                matrix = np.empty((len(wanted), len(blobs[0]) // 4), dtype=np.float32)
            rows = np.fromiter((row_of[i[len(prefix):]] for i in ids), np.int64, len(ids))
            matrix[rows] = decode_page(blobs, matrix.shape[1], model_id)
            found[rows] = True
        if matrix is None:
            return [], np.zeros((0, 0), dtype=np.float32)
        if found.all():
            return wanted, matrix
        return [s for s, ok in zip(wanted, found, strict=True) if ok], matrix[found]

    def vector_skus(self, model_id: str, page_size: int = VECTOR_PAGE) -> list[str]:
        """Skus that have a vector of ``model_id``, sorted; reads only ``_id`` (in pages)."""
        prefix = f"{model_id}|"
        out: list[str] = []
        while True:
            page = self.vector_page(model_id, out[-1] if out else "", {"_id": 1}, page_size)
            ids = [d["_id"][len(prefix):] for d in page]
            out.extend(ids)
            if len(ids) < page_size:
                return out

    def vector_page(self, model_id: str, after: str, fields: dict[str, int], size: int):
        """One page of a model's vector documents, sorted by sku, after sku ``after``.

        Filter and sort follow the (model_id, sku) index: on the embedded server a range on
        ``_id`` scans the whole collection for every page (~1,500 vectors/s), a seek on this
        index reads ~28,000 vectors/s at any depth.
        """
        query = {"model_id": model_id, "sku": {"$gt": after}}
        return self.vectors_col.find(query, fields, batch_size=size).sort(
            [("model_id", ASCENDING), ("sku", ASCENDING)]).limit(size)

    def vector_count(self, model_id: str) -> int:
        """How many vectors ``model_id`` has. A ``$match`` + ``$count`` pipeline: the embedded
        server answers it from SQL in milliseconds, where count_documents reads every
        document (4 s for 50,000 vectors)."""
        pipeline = [{"$match": {"model_id": model_id}}, {"$count": "n"}]
        return next((int(d["n"]) for d in self.vectors_col.aggregate(pipeline)), 0)

    def skus_without_vectors(self, model_id: str) -> list[str]:
        have = set(self.vectors_col.distinct("sku", {"model_id": model_id}))
        return [s for s in self.skus() if s not in have]

    def model_ids(self) -> list[str]:
        return sorted(self.vectors_col.distinct("model_id"))


def _vectors_meta_id(model_id: str) -> str:
    return f"vectors|{model_id}"
