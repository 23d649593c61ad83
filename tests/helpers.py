"""Small helpers shared by tests."""

from __future__ import annotations

import time
from collections.abc import Callable


def login_staff(client, user) -> None:
    """Log a staff user in with their second factor verified (a TOTP device is created)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, interval: float = 0.05) -> bool:
    """Poll a condition the test cannot be told about directly (e.g. a worker's commit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
