"""Synthetic (or imported) customers and a fused recommendation score.

params (settings of a run and of the score) · geo (haversine, store proximity) · affinity
(category similarity from the taxonomy's families) · popularity (counts, trend penalty) ·
catalog (the item arrays everything reads) · customers (profiles and purchases) · simulation
(the purchase generator) · score (the fused score and its parts) · evaluate (leave-last-out) ·
pipeline (run and store a simulation) · importer (a real purchase history in its place) ·
logfile (reading CSV / JSON records, collecting their problems) · service (recommend and
evaluate for the page and CLI) · figures (what the page draws).
"""
