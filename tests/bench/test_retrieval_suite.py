"""`smallcode bench retrieval` on a small real package (unidiff, one of SmallCode's own dependencies): questions
derived from its code, recall@5 beside plain search, and the index timings."""

from __future__ import annotations

from pathlib import Path

from agent_core.bench.registry import SUITES, load_suite
from agent_core.bench.retrieval_data import derive_questions, fetch_package
from agent_core.bench.retrieval_suite import run


def test_questions_come_from_the_package_itself(tmp_path: Path) -> None:
    version = fetch_package("unidiff", tmp_path)
    assert version and (tmp_path / "unidiff" / "patch.py").is_file()
    questions = derive_questions("unidiff", tmp_path, per_kind=6)
    assert {q.kind for q in questions} == {"name", "description"}
    assert questions == derive_questions("unidiff", tmp_path, per_kind=6)  # the same every time
    for q in questions:
        line = (tmp_path / q.path).read_text().splitlines()[q.line - 1].strip()
        assert line.startswith(("def ", "class ", "async def ")) and q.name.rsplit(".", 1)[-1] in line
        if q.kind == "description":
            assert q.name.lower() not in q.query and q.keyword in q.query.split()


def test_the_suite_reports_recall_tokens_and_timings(tmp_path: Path) -> None:
    assert SUITES["retrieval"] == "agent_core.bench.retrieval_suite:run" and load_suite("retrieval") is run
    report = run(tmp_path, packages=("unidiff",), per_kind=6)
    f = report.figures
    assert f["questions"] == len(report.cases) == 12
    assert f["graph"]["recall_at_5"] >= 0.8
    assert 0 <= f["search"]["recall_at_5"] <= 1 and 0 <= f["find_files"]["file_recall_at_5"] <= 1
    unidiff = f["packages"]["unidiff"]
    assert unidiff["files"] >= 3 and unidiff["lines"] > 500 and unidiff["parsed"] == unidiff["files"]
    assert 0 < unidiff["incremental_cpu_ms_median"] < 50
    assert {"graph_tokens", "search_tokens", "answer", "query"} <= set(report.cases[0])
    assert "recall@5 of file:line — graph_search" in report.text
