from pathlib import Path

import pytest

from server.__main__ import parse_args
from server.config.settings import ConfigError, Settings, settings_from_env


def test_environment_overrides_defaults():
    settings = settings_from_env(
        {"HLS_HOST": "0.0.0.0", "HLS_PORT": "9000", "HLS_DATA_DIR": "/srv/hls", "HLS_CORS_ORIGINS": "https://a, https://b",
         "HLS_WARM_CLIPS": "0", "HLS_RENDER_WORKERS": "3"}
    )
    assert (settings.host, settings.port, settings.data_dir) == ("0.0.0.0", 9000, Path("/srv/hls"))
    assert settings.cors_origins == ("https://a", "https://b")
    assert settings.warm_clips is False and settings.render_workers == 3


def test_command_line_overrides_environment():
    settings = parse_args(["--port", "8123", "--data-dir", "/tmp/x"], settings_from_env({"HLS_PORT": "9000"}))
    assert settings.port == 8123 and settings.data_dir == Path("/tmp/x")


@pytest.mark.parametrize("environ", [{"HLS_PORT": "eighty"}, {"HLS_PORT": "70000"}, {"HLS_RENDER_WORKERS": "0"}])
def test_unusable_settings_are_refused_with_the_reason(environ):
    with pytest.raises(ConfigError):
        settings_from_env(environ)


def test_a_postgresql_database_url_is_taken_and_anything_else_refused():
    assert settings_from_env({"DATABASE_URL": "postgresql://127.0.0.1/test"}).database_url == "postgresql://127.0.0.1/test"
    with pytest.raises(ConfigError, match="postgresql://"):
        settings_from_env({"DATABASE_URL": "mysql://127.0.0.1/test"})


def test_the_admin_token_and_signing_key_stay_out_of_the_settings_repr():
    settings = settings_from_env({"HLS_ADMIN_TOKEN": "s3cret-token", "HLS_SIGNING_KEY": "k3y"})
    assert settings.admin_token == "s3cret-token"
    assert "s3cret" not in repr(settings) and "k3y" not in repr(settings)


def test_defaults_listen_on_loopback_with_data_under_the_working_directory():
    settings = Settings()
    assert settings.host == "127.0.0.1" and settings.clips_dir == Path("data/exercises")


def test_the_hlsjs_path_defaults_to_the_checkouts_node_modules_and_follows_the_environment():
    assert settings_from_env({}).hlsjs_path.parts[-4:] == ("node_modules", "hls.js", "dist", "hls.min.js")
    assert settings_from_env({"HLS_HLSJS_PATH": "/opt/hls.min.js"}).hlsjs_path == Path("/opt/hls.min.js")


def test_the_render_time_limit_and_shutdown_grace_are_read_in_seconds_and_checked():
    settings = settings_from_env({"HLS_RENDER_TIMEOUT_SECONDS": "2.5", "HLS_SHUTDOWN_GRACE_SECONDS": "0"})
    assert settings.render_timeout_seconds == 2.5 and settings.shutdown_grace_seconds == 0
    assert Settings().render_timeout_seconds == 30 and Settings().shutdown_grace_seconds == 20
    for environ in ({"HLS_RENDER_TIMEOUT_SECONDS": "0"}, {"HLS_RENDER_TIMEOUT_SECONDS": "soon"},
                    {"HLS_SHUTDOWN_GRACE_SECONDS": "-1"}):
        with pytest.raises(ConfigError):
            settings_from_env(environ)
