"""Local stand-ins for the services outside the portal that abuse_app talks to.

Written from the services' published documentation and source code, never from our
client. They ship with the package because ``manage.py transparency_db_fake`` runs
them for demos; tests and benchmarks use them too. Never for production.
"""
