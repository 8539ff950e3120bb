"""Recommendations: which products to put in front of a customer, and why.

Entry point: ``genpersona.recs.recommender.Recommender`` (``fit`` on plain
purchase / item frames, ``recommend`` per request, ``save`` / ``load`` as .npz).
Pieces: ``interactions`` (frames -> per-customer arrays), ``co_purchase``
(item-to-item neighbour table), ``content`` (description embeddings),
``popularity`` (global / country / season), ``ranking`` and ``explain``
(top-k and "because you bought X"), ``retail`` (UCI Online Retail -> frames);
``store`` (fit from the
events table after an ingest, save under the home dir, load once per process) and
``serving`` (every known customer's default answer, precomputed at fit time).
"""
