"""Shared plumbing for the Azure store kinds: one REST client on azure-core's pipeline,
credentials (key or Microsoft Entra ID), a rate limiter shared by all workers, and the
Video Indexer access-token provider."""
