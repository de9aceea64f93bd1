"""How an audit report reads on a terminal: the counts first, then every violation kept."""

from __future__ import annotations

from application.audit.report import AuditReport, Comparison


def comparison_text(comparison: Comparison) -> str:
    if comparison.position is None:
        return f"{comparison.name} not compared ({comparison.note})"
    if comparison.differences:
        return f"{comparison.name} DIFFERS ({comparison.differences:,})"
    return f"{comparison.name} matches"


def report_text(report: AuditReport) -> str:
    statuses = ", ".join(f"{name} {count:,}" for name, count in report.generation_statuses.items())
    tokens = report.tokens
    limit = (
        "rate limiting off"
        if report.hourly_limit is None
        else f"{report.hourly_limit} per rolling hour"
    )
    compared = ", ".join(comparison_text(c) for c in report.projections) or "none"
    lines = [
        f"Atelier audit of log positions {report.first_position:,}-{report.last_position:,}",
        f"  events        {report.events:,}",
        f"  accounts      {report.accounts:,}",
        f"  generations   {report.generations:,} ({statuses})",
        f"  tokens        granted {tokens.granted:,}, reserved now {tokens.reserved:,}, "
        f"captured {tokens.captured:,}, released {tokens.released:,}",
        f"  limits        {limit}, queue capacity {report.queue_capacity:,}",
        f"  read models   {compared}",
    ]
    found = report.violations
    if not found:
        lines.append("No violations: every invariant holds over the whole history.")
        return "\n".join(lines)
    by_rule = ", ".join(f"{rule} {count:,}" for rule, count in sorted(found.counts.items()))
    lines.append(f"{found.total:,} violations ({by_rule}):")
    lines += [f"  {violation}" for violation in found.kept]
    if len(found.kept) < found.total:
        lines.append(f"  ... the first {len(found.kept):,} of {found.total:,} are shown.")
    return "\n".join(lines)
