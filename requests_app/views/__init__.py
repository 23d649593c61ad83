"""Public pages of privacy requests, one module per part (wired in ``requests_app/urls.py``).

- ``public``: the request form, confirmation, the status page, "I lost my link";
- ``status``: the status page's download step and signed receipt;
- ``packages``: the access-package download (the secret link from the e-mail);
- ``consent``: the consent overview and per-purpose pages;
- ``receipts``: the public signing keys and the receipt checker.

The API (JSON, DRF) is in ``requests_app/api/``.
"""
