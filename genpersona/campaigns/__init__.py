"""Campaign jobs: segments, the idempotent runner, Celery fan-out, outcomes, run records."""
