"""The job engine: the Huey queue, its tasks (one module per concern in `tasks/`) and `cvewatch worker`."""
