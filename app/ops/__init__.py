"""What operators watch: logs, request ids, readiness, start-up failures, metrics access."""
