"""Cross-field spec rules found by running real releases."""

from __future__ import annotations

import pytest

from beamkube.errors import SpecError
from beamkube.spec import load_spec_text


def test_relx_eval_job_is_refused_with_its_line() -> None:
    text = 'name: kv\nimage: a/b:1\nrelease: {flavour: relx}\njobs:\n  - {name: migrate, eval: "kv:migrate()"}\n'
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "kv.yaml")
    assert str(caught.value) == (
        "kv.yaml:5: jobs[0].eval: not supported for relx releases "
        "(relx evaluates on an already running node); use command"
    )


def test_relx_command_job_and_mix_eval_job_are_fine() -> None:
    relx = 'name: kv\nimage: a/b:1\nrelease: {flavour: relx}\njobs:\n  - {name: m, command: [/app/bin/kv_migrate]}\n'
    assert load_spec_text(relx).jobs[0].command == ["/app/bin/kv_migrate"]
    mix = 'name: shop\nimage: a/b:1\njobs:\n  - {name: migrate, eval: "Shop.Release.migrate()"}\n'
    assert load_spec_text(mix).jobs[0].eval == "Shop.Release.migrate()"


def test_created_priority_class_is_namespaced_and_a_dns_label() -> None:
    from beamkube.render.names import priority_class_name

    short = load_spec_text("name: shop\nnamespace: eu\nimage: a/b:1\npriority: {value: 10}\n")
    assert priority_class_name(short) == "eu-shop-priority"
    other = load_spec_text("name: shop\nnamespace: us\nimage: a/b:1\npriority: {value: 10}\n")
    assert priority_class_name(other) != priority_class_name(short)
    long_ns = "n" * 60
    long_a = load_spec_text(f"name: shop\nnamespace: {long_ns}\nimage: a/b:1\npriority: {{value: 10}}\n")
    long_b = load_spec_text(f"name: shop\nnamespace: {long_ns[:-1]}m\nimage: a/b:1\npriority: {{value: 10}}\n")
    assert len(priority_class_name(long_a) or "") <= 63
    assert priority_class_name(long_a) != priority_class_name(long_b)
    named = load_spec_text("name: shop\nimage: a/b:1\npriority: {className: high}\n")
    assert priority_class_name(named) == "high"
