"""The child-safety lane in a real browser: previews blurred by default, revealed by an audited click,
and a moderator without the child-safety role kept out (403)."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.test import Client
from PIL import Image, ImageStat

from abuse_app.models import Case, Evidence
from portal.models import AuditEvent
from tests.abuse_app.conftest import child_safety_case, real_png
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cs_moderator(transactional_db):
    from portal import roles
    from tests.conftest import _staff

    return _staff("cora", roles.CHILD_SAFETY_MODERATORS)


def browser_as(new_page, live_server, user):
    client = Client()
    login_staff(client, user)
    page = new_page()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return page


def shown_image_sharpness(page, selector: str) -> float:
    png = page.locator(selector).screenshot()
    return ImageStat.Stat(Image.open(io.BytesIO(png)).convert("L")).stddev[0]


def test_child_safety_preview_blurred_until_revealed(new_page, live_server, cs_moderator):
    case = child_safety_case(Client(), content=real_png(128))
    evidence = Evidence.objects.get(notice__cases=case)
    page = browser_as(new_page, live_server, cs_moderator)
    page.goto(f"/admin/abuse_app/case/{case.pk}/change/")
    image = f"#evidence-{evidence.pk} img"
    page.wait_for_function(f"document.querySelector('{image}').naturalWidth > 0")
    assert page.locator(image).get_attribute("alt") == "Blurred greyscale preview"
    blurred = shown_image_sharpness(page, image)
    page.get_by_role("button", name="Reveal (logged)").click()
    page.wait_for_url(f"**/case/{case.pk}/change/#evidence-{evidence.pk}")
    page.wait_for_function(f"document.querySelector('{image}').naturalWidth > 0")
    assert page.locator(image).get_attribute("alt") == "Revealed greyscale preview"
    assert shown_image_sharpness(page, image) > 3 * blurred
    assert AuditEvent.objects.filter(action="abuse.evidence_revealed", actor=cs_moderator).count() == 1


def test_moderator_without_the_role_is_refused_child_safety_evidence(new_page, live_server, moderator):
    case = child_safety_case(Client(), content=real_png())
    evidence = Evidence.objects.get(notice__cases=Case.objects.get(pk=case.pk))
    page = browser_as(new_page, live_server, moderator)
    page.goto(f"/admin/abuse_app/case/{case.pk}/change/")
    assert page.get_by_text("only to child-safety moderators").is_visible()
    assert page.locator("#evidence-previews img").count() == 0
    response = page.goto(f"/admin/abuse_app/notice/evidence/{evidence.pk}/preview/")
    assert response.status == 403
    response = page.goto(f"/admin/abuse_app/notice/evidence/{evidence.pk}/download/")
    assert response.status == 403
