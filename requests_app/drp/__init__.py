"""The Data Rights Protocol (DRP v1.0 / v0.9.4): requests that authorized agents send by API.

Consumer Reports' DRP (``consumer-reports-innovation-lab/data-rights-protocol``,
``data-rights-protocol.md``) lets an agent app exercise a consumer's rights at a
business. This package is the business side (the "Privacy Infrastructure
Provider"):

- ``messages``: decoding and checking a signed message (Ed25519, libsodium
  "combined" mode, base64) and its claims, in the order §3.07 prescribes.
- ``services``: pairing (``POST /v1/agent/{id}``), exercise, status, revoke,
  and the status object sent back to agents (polling and callbacks).
- ``tasks``: the status callback, a Celery task with retries and backoff.
- ``views`` / ``urls``: the HTTP endpoints (mounted under ``/drp/``, so an
  agent's ``api_base`` is ``<PORTAL_BASE_URL>/drp``).
- ``admin``: staff admit agents (public key pasted or imported from the DRP
  service directory JSON) and see every DRP request.

Every DRP access or deletion becomes an ordinary ``PrivacyRequest`` (channel
``drp``) linked from its ``DrpRequest`` row, which records the agent. An
opt-out of sale/sharing withdraws the subject's consents for the purposes the
operator marked as sale/sharing (``ConsentPurpose.sale_or_sharing``).
"""
