"""Local stand-ins for Azure services without an emulator (Face, Video Indexer, Speech).

Written from the REST specs (Azure/azure-rest-api-specs), not from our client code.
Used by ``manage.py azure_fakes`` (``make run`` demos), the tests and the benchmarks;
they ship with the package because that command needs them. Never for production.
Azure Blob Storage is not faked: the tests run Azurite (see ``tests/fakes/azurite.py``).
"""
