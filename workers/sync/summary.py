"""A run's summary as the CLI prints it."""

from __future__ import annotations

from workers.sync.runner import RunOutcome


def describe_run(run: RunOutcome) -> str:
    lines = [f"run {run.run_id} for user {run.user_id}: {run.status}"]
    if run.message:
        lines.append(f"  {run.message}")
    for entity, directions in sorted(run.counts.items()):
        for direction, counts in sorted(directions.items()):
            figures = ", ".join(
                f"{name} {value}" for name, value in sorted(counts.items()) if value
            )
            lines.append(f"  {entity} {direction}: {figures or 'no changes'}")
    return "\n".join(lines)
