"""The committed SDL matches the code: regenerate with `python -m server.api.schema`."""

from __future__ import annotations

from server.api.schema import SDL_PATH, export_sdl


def test_sdl_is_up_to_date() -> None:
    committed = SDL_PATH.read_text(encoding="utf-8")
    assert committed == export_sdl(), "run: .venv/bin/python -m server.api.schema"
