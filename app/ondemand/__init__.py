"""On-demand jobs: customers ask for data, miners answer within seconds, validators score."""
