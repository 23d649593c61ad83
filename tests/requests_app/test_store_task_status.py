"""A store task's status moves only through its model (``StoreTask.start_attempt``, ``succeed``,
``fail``, ``retry_later``, ``StoreTaskQuerySet.reset_for_retry``): one place says which moves
are allowed and which fields come with each, so no workflow sets ``status`` by hand."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import requests_app

APP = Path(requests_app.__file__).parent
MODEL = APP / "models" / "execution.py"
STORE_TASK_STATUS = re.compile(r"^(ST|StoreTask\.Status)\.")  # ST: the engine's alias (dispatch.ST)


def _status_moves(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Assign):
            found += [
                f"{path.name}:{node.lineno} {ast.unparse(node)}"
                for target in node.targets
                if isinstance(target, ast.Attribute)
                and target.attr == "status"
                and STORE_TASK_STATUS.match(ast.unparse(node.value))
            ]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "update":
            found += [
                f"{path.name}:{node.lineno} update(status={ast.unparse(keyword.value)})"
                for keyword in node.keywords
                if keyword.arg == "status" and STORE_TASK_STATUS.match(ast.unparse(keyword.value))
            ]
    return found


def test_no_store_task_status_is_set_outside_its_model():
    offenders = [
        f"{path.parent.name}/{move}"
        for path in sorted(APP.rglob("*.py"))
        if path != MODEL and "migrations" not in path.parts
        for move in _status_moves(path)
    ]
    assert offenders == [], f"move store tasks with StoreTask's methods: {offenders}"


def test_the_check_sees_a_status_set_by_hand(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "task.status = ST.RUNNING\n"
        "StoreTask.objects.update(status=StoreTask.Status.PENDING)\n"
        "request.status = PR.COMPLETED\n"
        "task.status = StoreTask.Status.FAILED\n"
    )
    assert sorted(move.split(" ", 1)[0] for move in _status_moves(sample)) == [
        "sample.py:1",
        "sample.py:2",
        "sample.py:4",
    ]
