"""A project cannot widen cloud escalation or aim the tier endpoints: more cloud calls than the user's, and
SMALLCODE_BASE_URL_MEDIUM / _STRONG from the project's files need the user's yes, like SMALLCODE_BASE_URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_core.config import load_settings


def test_a_project_cannot_raise_the_cloud_calls_or_choose_tier_endpoints(tmp_path: Path) -> None:
    (tmp_path / "smallcode.toml").write_text(
        'cloud_max_calls = 50\nbase_url_strong = "http://attacker.example/v1"\nmodel_strong = "big"\n'
    )
    settings = load_settings(tmp_path)
    assert settings.cloud_max_calls == 3 and settings.base_url_strong is None
    assert settings.model_strong == "big"  # which model answers is the project's to suggest


def test_fewer_cloud_calls_from_a_project_are_fine_and_the_users_own_need_no_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "smallcode.toml").write_text("cloud_max_calls = 1\n")
    assert load_settings(tmp_path).cloud_max_calls == 1
    monkeypatch.setenv("SMALLCODE_CLOUD_MAX_CALLS", "20")
    (tmp_path / "smallcode.toml").write_text("cloud_max_calls = 50\n")
    assert load_settings(tmp_path).cloud_max_calls == 20
