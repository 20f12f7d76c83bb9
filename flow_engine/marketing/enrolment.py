"""Enrolling a segment's members in a journey: one flow instance per member, once."""

from __future__ import annotations

from engine import Context, Platform, WriteUnit
from flow_engine.marketing import segments
from flow_engine.marketing.messages import MarketingInputError
from flow_engine.registry import runner_of


def enrol(platform: Platform, ctx: Context, app: str, segment: str, flow_name: str) -> tuple[list[int], int]:
    """Start ``flow_name`` for every member ``ctx`` may read who was never enrolled in it from
    this segment: ``(new instance ids, how many were enrolled already)``. The instances and
    the jobs that start them commit together, so a crash leaves none half-enrolled."""
    runner = runner_of(platform)
    found = segments.segment(platform, app, segment)
    with platform.db.connect() as conn:
        flow = runner.versions.latest(conn, app, flow_name)
    if flow.entity != found["entity"]:
        raise MarketingInputError(
            "segment_flow_entity",
            flow=flow_name,
            expected=flow.entity,
            entity=found["entity"],
            segment=segment,
        )
    ids = list(segments.member_ids(platform, ctx, app, segment))

    def work(unit: WriteUnit) -> tuple[list[int], int]:
        started: list[int] = []
        for record_id in ids:
            key = f"segment:{segment}:{flow_name}:{record_id}"
            instance = runner.create_instance(
                unit, flow, record_id, starter=ctx.user_id, cause="segment", start_key=key
            )
            if instance is not None:
                started.append(instance)
        return started, len(ids) - len(started)

    return platform.records.write(ctx, app, work)
