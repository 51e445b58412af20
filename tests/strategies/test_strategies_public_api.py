from __future__ import annotations

import inspect

import strategies


def test_every_public_function_has_a_docstring_with_an_example() -> None:
    for name in strategies.__all__:
        value = getattr(strategies, name)
        if inspect.isfunction(value):
            assert value.__doc__, name
            assert "Example:" in value.__doc__ or "Usage:" in value.__doc__, name


def test_strategy_arguments_are_keyword_only() -> None:
    for name in ("face_requests", "boundary_face_requests", "invalid_face_requests", "status_requests", "task_ids"):
        parameters = inspect.signature(getattr(strategies, name)).parameters.values()
        assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in parameters), name
