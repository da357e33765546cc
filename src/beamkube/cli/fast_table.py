"""The fast path's parameter tables, read from typer's own click objects (generation time only: imports typer).

Role: pure (builds data from the typer app); `beamkube.cli.startup.generate()` writes the result into
`_startup_cache.FAST`, and `beamkube.cli.fast` parses argv with it.

A command gets a table when its module lists it in `FAST_IMPLEMENTATIONS` (command name -> "module:function"
of its typer-free body, which the typer command also calls) and every parameter is of a kind `fast.parse`
models exactly: a string, a choice (case-sensitive), a default `TyperPath`, or a boolean flag; no envvar,
callback, prompt, count or eager processing; at most one argument. Anything else raises `Unsupported` at
generation, so a new option of an unmodelled kind fails loudly here instead of being parsed wrongly.
"""

from __future__ import annotations

import importlib
from typing import Any


class Unsupported(ValueError):
    """The command has a parameter the fast parser does not model."""


def _kind(param: Any) -> tuple[str, tuple[str, ...] | None]:
    type_name = type(param.type).__name__
    if type_name == "StringParamType":
        return "str", None
    if type_name == "TyperChoice":
        if not param.type.case_sensitive:
            raise Unsupported(f"{param.name}: case-insensitive choice")
        return "choice", tuple(param.type.normalize_choice(choice, None) for choice in param.type.choices)
    if type_name == "TyperPath":
        path = param.type
        default = (False, True, True, False, True, False, False, None)
        actual = (path.exists, path.file_okay, path.dir_okay, path.writable, path.readable, path.resolve_path,
                  path.allow_dash, path.type)
        if actual != default:
            raise Unsupported(f"{param.name}: a path with checks")
        return "path", None
    if type_name == "BoolParamType" and getattr(param, "is_flag", False):
        return "flag", None
    raise Unsupported(f"{param.name}: type {type_name}")


def _convertor(convertor: Any) -> tuple[str | None, str | None]:
    """(typer's scalar conversion, its list handling) from the convertor typer made for a parameter."""
    import typer.main

    if convertor is None:
        return None, None
    cells = dict(zip(convertor.__code__.co_freevars, [c.cell_contents for c in convertor.__closure__ or ()],
                     strict=True))
    if convertor is typer.main.param_path_convertor:
        return "path", None
    if convertor.__qualname__.startswith("generate_enum_convertor."):
        enum = cells["enum"]
        return f"enum:{enum.__module__}:{enum.__qualname__}", None
    if convertor.__qualname__.startswith("generate_list_convertor."):
        scalar, listed = _convertor(cells["convertor"])
        if listed is not None:
            raise Unsupported("a list of lists")
        return scalar, "none-if-empty" if cells["default_value"] is None else "keep"
    raise Unsupported(f"typer convertor {convertor.__qualname__}")


def _flags(param: Any) -> tuple[list[str], list[str]]:
    for flag in [*param.opts, *param.secondary_opts]:
        if not (flag.startswith("--") and len(flag) > 2) and not (flag[:1] == "-" and len(flag) == 2):
            raise Unsupported(f"{param.name}: option {flag}")
    return list(param.opts), list(param.secondary_opts)


def command_table(command: Any, callback: Any) -> list[dict[str, Any]]:
    """The rows `fast.parse` reads for one click command whose typer callback is `callback`."""
    import typer.main

    if command.context_settings or command.allow_extra_args or command.ignore_unknown_options:
        raise Unsupported(f"{command.name}: context settings")
    if not command.allow_interspersed_args:
        raise Unsupported(f"{command.name}: options after arguments")
    _, convertors, context_param = typer.main.get_params_convertors_ctx_param_name_from_function(callback)
    if context_param is not None:
        raise Unsupported(f"{command.name}: takes the click context")
    absent = command.make_context(command.name, [], resilient_parsing=True).params
    rows: list[dict[str, Any]] = []
    for param in command.params:
        if param.envvar or param.callback or param.is_eager or not param.expose_value:
            raise Unsupported(f"{param.name}: envvar, callback or eager")
        is_argument = param.param_type_name == "argument"
        if getattr(param, "prompt", None) or getattr(param, "count", False):
            raise Unsupported(f"{param.name}: prompt or count")
        if param.nargs != 1 and not (is_argument and param.nargs == -1):
            raise Unsupported(f"{param.name}: nargs {param.nargs}")
        kind, choices = _kind(param)
        opts, secondary = ([], []) if is_argument else _flags(param)
        convert, listed = _convertor(convertors.get(param.name))
        rows.append({
            "name": param.name, "argument": is_argument, "opts": opts, "secondary": secondary,
            "flag": kind == "flag", "type": kind, "choices": choices, "multiple": bool(param.multiple),
            "nargs": param.nargs, "required": bool(param.required), "absent": absent[param.name],
            "convert": convert, "listed": listed,
        })
    if sum(row["argument"] for row in rows) > 1:
        raise Unsupported(f"{command.name}: more than one argument")
    return rows


def fast_tables(modules: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Command name -> {"impl": "module:function", "params": rows} for every fast command of `modules`."""
    import typer.main

    from beamkube.cli.main import app_for

    tables: dict[str, dict[str, Any]] = {}
    for module_name in modules:
        module = importlib.import_module(f"beamkube.cli.{module_name}")
        implementations: dict[str, str] = getattr(module, "FAST_IMPLEMENTATIONS", {})
        if not implementations:
            continue
        group = typer.main.get_command(app_for((module_name,)))
        infos = {info.name: info for info in app_for((module_name,)).registered_commands}
        for name, impl in implementations.items():
            command = group.commands[name]  # type: ignore[attr-defined]
            tables[name] = {"impl": impl, "params": command_table(command, infos[name].callback)}
    return tables
