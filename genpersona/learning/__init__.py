"""Learning from outcomes: recipes as bandit arms, a click model, off-policy evaluation.

- ``thompson``: Beta-Bernoulli Thompson sampling (prior fit, warm-up, floor, retirement);
- ``update`` / ``tables``: ``learn update`` and the stored allocations (migration 0008);
- ``policy``: ``ThompsonPolicy``, the delivery's Policy shape over a stored allocation;
- ``clickmodel``: P(click | text) pretrained on Upworthy, updatable, ``predict_ctr``;
- ``ope`` / ``evaluate``: IPS, SNIPS, DR with bootstrap intervals, the promotion rule;
- ``logs`` / ``view``: the exposure log joined to clicks, and what the console shows.
"""
