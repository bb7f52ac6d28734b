"""Server-rendered SVG: a job's throughput per batch (no scripts, no external assets)."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT, MAX_BARS = 640, 160, 120


def throughput_svg(batches: list[list[float]]) -> SafeString:
    """Bars of rows/s for each batch (`[rows, seconds]` pairs), grouped when there are many."""
    groups = _group(batches)
    if not groups:
        return SafeString("")
    rates = [rows / seconds if seconds > 0 else 0.0 for rows, seconds, _ in groups]
    top = max(rates) or 1.0
    bar = WIDTH / len(groups)
    bars = format_html_join(
        "",
        '<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="#417690">'
        "<title>batch {}: {} rows, {:.0f} rows/s</title></rect>",
        (
            (i * bar, HEIGHT - rate / top * HEIGHT, max(bar - 1, 1), rate / top * HEIGHT, label, int(rows), rate)
            for i, ((rows, _, label), rate) in enumerate(zip(groups, rates, strict=True))
        ),
    )
    return format_html(
        '<svg class="bulk-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="{}" height="{}" '
        'role="img" aria-label="Throughput per batch"><text x="4" y="14" font-size="12">{:.0f} rows/s</text>{}'
        '<line x1="0" y1="{}" x2="{}" y2="{}" stroke="#999"/></svg>',
        WIDTH,
        HEIGHT + 2,
        WIDTH,
        HEIGHT + 2,
        top,
        bars,
        HEIGHT,
        WIDTH,
        HEIGHT,
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
