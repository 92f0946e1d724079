"""Job kinds for large exports (registered with @job_kind)."""
