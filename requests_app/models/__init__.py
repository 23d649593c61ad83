"""Privacy requests, the execution engine's rows, the Azure transmission ledger, consent.

The database is the truth for every state: a Celery message only says "look
at row N again". Status changes go through ``PrivacyRequest.transition`` which
checks the state machine and writes the audit event in the same transaction.

One module per part: ``privacy_request`` (the request, its queries, its status
links), ``execution`` (the engine's store tasks, identities, access package),
``consent`` (purposes, notices, grants, consent links), ``ledger`` (what was
sent to Azure, the orphan scans). Import them from here, as Django does.
"""

from portal.transitions import InvalidTransition
from requests_app.models.agents import AgentFiling
from requests_app.models.consent import Consent, ConsentLink, ConsentNotice, ConsentPurpose
from requests_app.models.execution import AccessPackage, Progress, StoreTask, StoreTaskQuerySet, SubjectIdentity
from requests_app.models.ledger import AzureScan, Transmission
from requests_app.models.privacy_request import (
    PrivacyRequest,
    PrivacyRequestQuerySet,
    StatusLink,
    StatusLinkQuerySet,
    new_reference,
)

__all__ = [
    "AccessPackage",
    "AgentFiling",
    "AzureScan",
    "Consent",
    "ConsentLink",
    "ConsentNotice",
    "ConsentPurpose",
    "InvalidTransition",
    "PrivacyRequest",
    "PrivacyRequestQuerySet",
    "Progress",
    "StatusLink",
    "StatusLinkQuerySet",
    "StoreTask",
    "StoreTaskQuerySet",
    "SubjectIdentity",
    "Transmission",
    "new_reference",
]
