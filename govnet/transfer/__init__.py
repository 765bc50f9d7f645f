"""Across the gap (网闸): signed, hash-chained batches of results exported from one store and
imported into another (``govnet export`` / ``govnet import``)."""
