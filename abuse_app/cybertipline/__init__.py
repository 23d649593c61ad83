"""Reports to NCMEC's CyberTipline (18 U.S.C. §2258A) from confirmed child-safety cases.

- ``models``: ``CyberTiplineReport``, one per case; the row is the truth of how far the
  submission got (report id, each file's id, finished or retracted).
- ``xml``: the report and file-details XML, and the API's answers read back.
- ``client``: the ESP reporting API over HTTP (Basic auth, XML bodies).
- ``accounts``: what the host-app side knows about the reported account, through a
  callable it registers (abuse_app never imports requests_app).

The workflow (confirm, advance step by step, retract, give up) is in
``abuse_app.services.child_safety``; the tasks are in ``abuse_app.cybertipline.tasks``.
"""
