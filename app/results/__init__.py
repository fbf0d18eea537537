"""Validation scores one trusted validator publishes and every other validator reads."""
