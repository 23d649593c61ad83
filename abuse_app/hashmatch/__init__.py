"""Matching media the host app is about to send to Azure against banks of known child sexual abuse
material: PDQ (perceptual, Hamming distance ≤ 31 by default) and MD5 (exact).

- ``models``: ``HashBank`` and ``BankedHash`` (hashes only: no image is ever stored);
- ``index``: the in-memory PDQ index (multi-index hashing over 16-bit chunks) and the MD5 set;
- ``abuse_app.services.hash_matching``: checking, importing banks (CSV, ThreatExchange-style
  exports), banking the files of confirmed cases, opening a child-safety case on a match.
"""
