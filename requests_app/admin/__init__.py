"""The privacy-requests admin, one module per part (Django's autodiscovery imports this package).

- ``privacy_requests``: the request list and detail page, put together from
  ``request_lists`` (paginator, filters), ``request_decisions`` (the decisions),
  ``dashboard`` and the inlines below;
- ``store_tasks``: the execution engine's store tasks (inline and changelist);
- ``links``: status, consent and access-package links (inline and changelists);
- ``azure``: consent purposes and notices, consents, the transmission ledger, Azure scans;
- ``agents``: requests filed by an authorized agent, with the consumer's signed permission;
- ``words``: how the timeline and the approval preview say things.
"""

from requests_app.admin import agents, azure, links, privacy_requests, store_tasks

__all__ = ["agents", "azure", "links", "privacy_requests", "store_tasks"]
