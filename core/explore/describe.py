"""Words for where a photo lands on the map: its nearest items and the cluster they share."""

from __future__ import annotations

from core.explore.service import ExploreMap, Placement

SHOWN = 5  # nearest items the page shows under the photo


def describe_placement(emap: ExploreMap, placement: Placement, shown: int = SHOWN) -> str:
    """"Nearest items: hat ×4, bag ×1 (mostly red); in cluster 3 with 4 of them (mostly
    jacket 45 %, hat 20 %)": the nearest items and the cluster told from the same rows, so
    the two never disagree; the cluster's own make-up is named beside it when it differs."""
    table = emap.table
    near = table.iloc[list(placement.neighbours[:shown])]
    if near.empty:
        return f"In cluster {placement.cluster}."
    cats = near["category"].astype(str).value_counts()
    colour = near["color"].astype(str).value_counts().index[0]
    items = ", ".join(f"{cat} ×{n}" for cat, n in cats.items())
    members = table.loc[table["cluster"] == placement.cluster, "category"].astype(str)
    shares = members.value_counts(normalize=True)
    makeup = [f"{cat} {share:.0%}" for cat, share in shares.head(1).items()]
    main = cats.index[0]
    if shares.index[0] != main:
        makeup.append(f"{main} {shares.get(main, 0.0):.0%}")
    with_them = int((near["cluster"] == placement.cluster).sum())
    return (f"Nearest items: {items} (mostly {colour}); in cluster {placement.cluster} with "
            f"{with_them} of them (mostly {', '.join(makeup)})")
