"""Storage housekeeping: removing what validators will never read again (CONTRACT §6.1)."""
