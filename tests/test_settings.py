"""Settings: precedence (kwargs > env > TOML > defaults) and actionable errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from genpersona.errors import ConfigError
from genpersona.settings import Settings, get_settings


def test_defaults_and_home_dir_is_created(isolated_home: Path, monkeypatch) -> None:
    monkeypatch.delenv("GENPERSONA_LLM", raising=False)
    monkeypatch.delenv("GENPERSONA_EMBEDDER", raising=False)
    target = isolated_home / "nested" / "home"
    monkeypatch.setenv("GENPERSONA_HOME", str(target))
    settings = Settings()
    assert settings.llm == "local"
    assert settings.embedder == "minilm"
    assert settings.llm_timeout_s == 60.0 and settings.llm_max_retries == 2
    assert not target.exists()
    assert settings.home_dir == target.resolve() and target.is_dir()
    assert settings.sqlalchemy_url == f"sqlite:///{target.resolve() / 'genpersona.db'}"
    assert settings.chroma_path == target.resolve() / "chroma"


def test_env_overrides_and_provider_model_split(monkeypatch) -> None:
    monkeypatch.setenv("GENPERSONA_LLM", "openai:gpt-4o-mini")
    monkeypatch.setenv("GENPERSONA_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("GENPERSONA_LLM_TIMEOUT_S", "2.5")
    settings = Settings()
    assert (settings.llm_provider, settings.llm_model) == ("openai", "gpt-4o-mini")
    assert settings.openai_base_url == "http://127.0.0.1:9/v1"
    assert settings.llm_timeout_s == 2.5
    assert Settings(llm="local").llm_model is None
    assert Settings(llm="openai:").llm_model is None


def test_keyword_beats_env_beats_toml(isolated_home: Path, monkeypatch) -> None:
    (isolated_home / "config.toml").write_text(
        "[genpersona]\nseed = 7\nlocal_n_ctx = 1024\nllm_max_retries = 5\n", encoding="utf-8"
    )
    monkeypatch.setenv("GENPERSONA_LOCAL_N_CTX", "4096")
    settings = Settings(llm_max_retries=1)
    assert settings.seed == 7  # from the file
    assert settings.local_n_ctx == 4096  # env beats the file
    assert settings.llm_max_retries == 1  # keyword beats everything


def test_explicit_config_file_without_section(tmp_path: Path, monkeypatch) -> None:
    cfg = tmp_path / "my.toml"
    cfg.write_text("embed_batch_size = 8\n", encoding="utf-8")
    monkeypatch.setenv("GENPERSONA_CONFIG", str(cfg))
    assert Settings().embed_batch_size == 8


def test_missing_explicit_config_file_is_an_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GENPERSONA_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigError) as info:
        get_settings()
    assert "does not exist" in info.value.message
    assert "GENPERSONA_CONFIG" in info.value.fix


def test_broken_toml_is_an_error_not_a_silent_default(isolated_home: Path) -> None:
    (isolated_home / "config.toml").write_text("seed = = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        get_settings()
    assert "not valid TOML" in info.value.message
    assert info.value.data["path"].endswith("config.toml")


@pytest.mark.parametrize(
    ("var", "value", "needle"),
    [
        ("GENPERSONA_LLM", "gpt4all", "unknown LLM provider"),
        ("GENPERSONA_EMBEDDER", "bert", "unknown embedder"),
        ("GENPERSONA_LLM_TIMEOUT_S", "soon", "llm_timeout_s"),
    ],
)
def test_invalid_values_become_one_config_error(
    monkeypatch, var: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        get_settings()
    assert needle in info.value.message
    assert "GENPERSONA_" in info.value.fix


def test_get_settings_is_cached_until_cleared(monkeypatch) -> None:
    first = get_settings()
    monkeypatch.setenv("GENPERSONA_SEED", "99")
    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings().seed == 99
