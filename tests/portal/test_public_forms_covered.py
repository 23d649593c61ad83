"""Every public form has a browser test: the URLconf is compared with the e2e tests' ``submits`` markers.

A public (non-admin, non-API, non-staff) URL pattern whose view handles POST is a form
people submit from a browser. Each must be named by a ``@pytest.mark.submits(...)`` test in
tests/e2e/ (the e2e conftest checks the browser really POSTs there). Adding a public form
without a browser test fails here, in every CI run, whether or not chromium is installed.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from tests.public_world import public_patterns

E2E = Path(__file__).resolve().parents[1] / "e2e"
# The host app's API (test_hostile_input.py), staff second factor, the Data Rights Protocol's signed
# machine-to-machine endpoints (tests/requests_app/test_drp.py).
NOT_PUBLIC = ("api/", "account/", "drp/")
# URL names served by the same view and form as another, already submitted, pattern.
SAME_FORM_AS = {"request-new": "request-new-access"}  # /requests/new/<kind>/ for the kinds above


def _handles_post(callback) -> bool:
    view = inspect.unwrap(callback)
    if hasattr(callback, "view_class"):
        return hasattr(callback.view_class, "post")
    return "POST" in inspect.getsource(view)


def public_post_forms() -> set[str]:
    return {
        pattern.name
        for route, pattern in public_patterns()
        if not route.startswith(NOT_PUBLIC) and _handles_post(pattern.callback)
    }


def submitted_in_browser_tests() -> set[str]:
    names: set[str] = set()
    for module in E2E.glob("test_*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "submits"
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == "mark"
            ):
                names.update(arg.value for arg in node.args if isinstance(arg, ast.Constant))
    return names


def test_public_post_forms_are_found():
    # The walk itself works: these forms exist and handle POST.
    assert {"request-new-access", "abuse-report", "abuse-appeal", "consent-purpose", "set_language"} <= (
        public_post_forms()
    )


def test_every_public_form_is_submitted_by_a_browser_test():
    missing = public_post_forms() - submitted_in_browser_tests() - set(SAME_FORM_AS)
    assert not missing, (
        f"public forms without a browser test (add one in tests/e2e/ with @pytest.mark.submits(...)): {sorted(missing)}"
    )


def test_browser_tests_name_only_real_forms():
    unknown = submitted_in_browser_tests() - public_post_forms()
    assert not unknown, f"submits markers naming no public POST form: {sorted(unknown)}"
    assert set(SAME_FORM_AS.values()) <= submitted_in_browser_tests()
