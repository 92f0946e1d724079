"""Job kinds for model suggestions and retraining (registered with @job_kind)."""
