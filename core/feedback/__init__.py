"""Text-feedback retrieval: reference image + "make it red with long sleeves" -> catalog items.

text (frozen text towers) · vocab / captions / parse (feedback phrasing) · pairs / data /
fashioniq (training data) · model / train (composition model) · metrics / evaluate / real
(evaluation) · pipeline (train and eval commands) · service (refine for the page and CLI).
"""
