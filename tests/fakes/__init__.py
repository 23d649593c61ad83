"""Test-only Azure plumbing: Azurite (``azurite.py``) and pytest fixtures (``fixtures.py``).

The fakes of Face, Video Indexer and Speech ship with the code in
``requests_app/stores/azure/fakes/`` (``manage.py azure_fakes`` needs them).
"""
