from __future__ import annotations

from pathlib import Path

from agent_core.bench.patch_suite import build_corpus, run


def test_patch_bench_meets_the_bar(tmp_path: Path) -> None:
    report = run(tmp_path)
    engine, naive = report.figures["engine"], report.figures["naive"]
    assert report.figures["cases"] >= 500
    assert engine["wrong"] == 0 and engine["crashed"] == 0
    assert engine["right_rate"] >= 0.95 and report.ok
    assert naive["right_rate"] < engine["right_rate"]
    assert "engine:" in report.text and "naive:" in report.text


def test_corpus_is_deterministic() -> None:
    first = [(c.name, c.search, c.replace) for c in build_corpus()[:50]]
    assert first == [(c.name, c.search, c.replace) for c in build_corpus()[:50]]
