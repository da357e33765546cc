"""`beamkube.spec.bounds.cron_problem` against robfig/cron (the parser the Kubernetes CronJob controller and its
validation use, `cron.ParseStandard`): field forms from its parser_test.go and its bounds (minutes 0-59, hours 0-23,
day of month 1-31, months 1-12, day of week 0-6; names; `?` only in the day fields; positive steps).

Role: tests (pure).
"""

from __future__ import annotations

import pytest

from beamkube.spec.bounds import cron_problem

VALID = [
    "5 * * * *", "1,5-7/2,3 * * * *", "5-5 * * * *", "5-7/1 * * * *", "*/2 * * * *", "0 0 1 1 0",
    "59 23 31 12 6", "0 0 ? * MON-FRI", "0 0 * jan,JUL sun", "*/15 1-5/2 ? JAN-jun mon,FRI", "0 9-17 * * 1-5",
    "@midnight", "@hourly", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "5/10 * * * *",
]  # fmt: skip
INVALID = [
    ("60 * * * *", "minute '60': 60 is outside 0-59"),
    ("* 24 * * *", "hour '24': 24 is outside 0-23"),
    ("* * 0 * *", "day of month '0': 0 is outside 1-31"),
    ("* * 32 * *", "day of month '32': 32 is outside 1-31"),
    ("* * * 13 *", "month '13': 13 is outside 1-12"),
    ("* * * * 7", "day of week '7': 7 is outside 0-6"),
    ("* * * * sunday", "day of week 'sunday': 'sunday' is not a number or a name"),
    ("? * * * *", "minute '?': ? is only allowed in day of month and day of week"),
    ("*/0 * * * *", "minute '*/0': the step after / must be a positive number, not '0'"),
    ("5-1 * * * *", "minute '5-1': the range 5-1 runs backwards"),
    ("1,,2 * * * *", "minute '1,,2': '' is not a number"),
    ("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4"),
    ("0 5 * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 6"),
    ("TZ=UTC 5 * * * *", "a time zone cannot be part of the schedule (Kubernetes has a separate timeZone field)"),
    ("@reboot", "expected one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"),
    ("١ * * * *", "minute '١': '١' is not a number"),
]  # fmt: skip


@pytest.mark.parametrize("schedule", VALID)
def test_valid_schedules(schedule: str) -> None:
    assert cron_problem(schedule) is None


@pytest.mark.parametrize(("schedule", "problem"), INVALID, ids=[s for s, _ in INVALID])
def test_invalid_schedules(schedule: str, problem: str) -> None:
    assert cron_problem(schedule) == problem
