import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/privacy/"])
def test_every_page_has_attribution_policy_and_abuse_links(client, url):
    html = client.get(url).content.decode()
    assert "using Microsoft Cognitive Services" in html
    assert 'href="https://azure.microsoft.com/products/ai-services/"' in html
    assert "/privacy/" in html
    assert "Report abuse" in html
