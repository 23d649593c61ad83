"""Local stand-ins for Azure services without an emulator (Face, Video Indexer, Speech).

Used by the tests, the benchmarks and ``manage.py azure_fakes`` (``make run`` demos).
Azure Blob Storage is not faked: the tests run Azurite (see ``tests/fakes/azurite.py``).
"""
