"""The Azure store kinds and what they share.

One module per kind (``blob``, ``face``, ``speech``, ``video_indexer``, and
``ledger`` for ledger rows no other kind can delete), plus their plumbing: one
REST client on azure-core's pipeline (``client``), credentials (``auth``), a
rate limiter shared by all workers (``ratelimit``), the Video Indexer
access-token provider (``video_indexer_token``) and the helpers every Azure kind
uses (``common``). ``fakes/`` holds local stand-ins for the services without an
emulator, written from the REST specs (``manage.py azure_fakes``, tests, bench).
"""
