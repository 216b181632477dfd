"""Background jobs: long work off the request path, with progress, a retry, and a result file.

The queue and the worker are django-tasks' database backend (decision record 0007); a
:class:`~cityeval.web.jobs.models.Job` row is ours: what was asked, by whom, its progress, its
outcome and an idempotency key, so that a job re-run after a worker died has its effects once.
"""
