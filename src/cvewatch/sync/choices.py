from django.db import models


class RunStatus(models.TextChoices):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # finished, but some records were skipped (bad input): see counts and errors
    FAILED = "failed"  # stopped by an error; the cursor keeps what committed before it
    INTERRUPTED = "interrupted"  # the worker died or lost its lease; the next run resumes from the cursor
