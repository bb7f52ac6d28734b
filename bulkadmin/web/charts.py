"""Server-rendered SVG: a job's throughput per batch (no scripts, no external assets)."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT, MAX_BARS = 640, 160, 120


def throughput_svg(batches: list[list[float]]) -> SafeString:
    """Bars of rows/s for each batch (`[rows, seconds]` pairs), grouped when there are many; none
    for a single batch (one bar compares nothing: the page states its rate)."""
    groups = _group(batches)
    if len(groups) < 2:
        return SafeString("")
    rates = [rows / seconds if seconds > 0 else 0.0 for rows, seconds, _ in groups]
    top = max(rates) or 1.0
    width = min(WIDTH / len(groups), 40.0)
    scale = HEIGHT - 20  # room for the label above the tallest bar
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#417690"><title>batch {}: {} rows, {} rows/s</title></rect>',
        (
            (
                f"{number * width:.1f}",
                f"{HEIGHT - rate / top * scale:.1f}",
                f"{max(width - 1, 1):.1f}",
                f"{rate / top * scale:.1f}",
                label,
                int(rows),
                f"{rate:.0f}",
            )
            for number, ((rows, _, label), rate) in enumerate(zip(groups, rates, strict=True))
        ),
    )
    return format_html(
        '<svg class="bulk-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'role="img" aria-label="Throughput per batch"><text x="4" y="14" font-size="12">max {top} rows/s</text>{bars}'
        '<line x1="0" y1="{base}" x2="{w}" y2="{base}" stroke="#999"/></svg>',
        w=WIDTH,
        h=HEIGHT + 2,
        top=f"{top:.0f}",
        bars=bars,
        base=HEIGHT,
    )


def _group(batches: list[list[float]]) -> list[tuple[float, float, str]]:
    """At most MAX_BARS (rows, seconds, label) groups of consecutive batches."""
    size = max(1, -(-len(batches) // MAX_BARS))
    groups = []
    for start in range(0, len(batches), size):
        chunk = batches[start : start + size]
        label = str(start + 1) if size == 1 else f"{start + 1}-{start + len(chunk)}"
        groups.append((sum(rows for rows, _ in chunk), sum(seconds for _, seconds in chunk), label))
    return groups
