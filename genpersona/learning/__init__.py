"""Learning from outcomes: recipes as bandit arms, a click model, off-policy evaluation.

- ``thompson``: Beta-Bernoulli Thompson sampling (prior fit, warm-up, floor, retirement);
- ``update`` / ``tables``: ``learn update`` and the stored allocations (migration 0008);
- ``policy``: ``ThompsonPolicy``, the delivery's Policy shape over a stored allocation;
- the click model (P(click | text), ``genpersona.clickmodel``) is a domain package below
  this one, so the agent can rank with it too; ``update`` tilts new recipes' priors by it;
- ``ope`` / ``evaluate``: IPS, SNIPS, DR with bootstrap intervals, the promotion rule;
- ``logs`` / ``view``: the exposure log joined to clicks, and what the console shows.
"""
