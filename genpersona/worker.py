"""The one Celery app to run workers and beat with: ``celery -A genpersona.worker worker|beat``.

Celery tasks live with the package that owns their work: campaign batches and schedules in
``genpersona.campaigns`` (tasks, beat, erasure compaction), allocation updates in
``genpersona.learning``. The campaigns package cannot import learning (learning reads
campaign and delivery tables), so no package below the interfaces sees every task; this
module does, and is therefore what deployments point Celery at. Importing it registers
every task and every beat entry:

- ``campaign-tick`` and the daily win-back booking (``genpersona.campaigns.beat``),
- ``erasure-compact`` (``genpersona.campaigns.beat``),
- ``learning-update`` (``genpersona.learning.beat``),
- the campaign batch task (``genpersona.campaigns.tasks``).
"""

from __future__ import annotations

from genpersona.learning.beat import app

__all__ = ["app"]
