"""A seeded, reproducible year in the life of a fictional retailer, acted out through Tillit's
own services and ingest (never by writing tables), so every page has something true to show.

``run.simulate`` builds a population with latent truth (:mod:`.population`), then runs the acts
(:mod:`.acts`) in order on a simulated clock (:mod:`.clock`), each with its own random
stream (:mod:`.rng`). What each person really is and did goes to ``<data dir>/demo/
truth.jsonl`` for evaluation; the product never reads it. A data directory is simulated once.
"""
