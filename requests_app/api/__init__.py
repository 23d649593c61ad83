"""The privacy-requests API (``/api/v1/``), one module per part (wired in ``requests_app/urls.py``).

- ``privacy_requests``: file a request and read its status (public or host app);
- ``azure``: the transmission ledger and consent, for the host app;
- ``store_callbacks``: a webhook store's signed answer (docs/webhook-protocol.md).
"""
