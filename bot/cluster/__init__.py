"""What the scaled-out cluster (scripts/cluster.py) adds to the bot: the nginx template and the Redis lock store."""
