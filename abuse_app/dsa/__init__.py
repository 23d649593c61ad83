"""The DSA duties that reach outside the portal (see docs/abuse.md, "DSA duties")."""
