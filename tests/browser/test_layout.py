"""Every page in a real browser at 1280 px and 390 px wide: nothing runs past the viewport (at
390 px only a table may be wider, scrolling inside its own box), and every form control has an
accessible name."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkadmin.jobs import imports
from tests.browser.uploads import upload_for_preview

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (1280, 390)
ROLES = {"textbox", "searchbox", "combobox", "listbox", "checkbox", "radio", "spinbutton", "button", "slider"}

# Elements running past the viewport that no box of their own scrolls or clips.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const boxed = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (style.overflowX !== "visible" && up.getBoundingClientRect().right <= width + 1) return up;
    }
    return null;
  };
  const named = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (typeof el.className === "string" && el.className ? "." + el.className : "");
  const over = [];
  for (const el of document.body.querySelectorAll("*")) {
    const rect = el.getBoundingClientRect();
    const visible = getComputedStyle(el).overflowX === "visible";
    const right = visible ? Math.max(rect.right, rect.left + el.scrollWidth) : rect.right;
    if (rect.width > 0 && right > width + 1 && el.checkVisibility()) over.push([el, right]);
  }
  const found = [];
  for (const [el, right] of over) {
    if (over.some(([other]) => other !== el && el.contains(other))) continue;  // name the innermost
    const box = boxed(el);
    if (box === null) found.push(named(el) + " " + Math.round(right) + "px");
    else if (!box.closest("table") && !box.querySelector("table")) found.push("scrolling " + named(box));
  }
  return {document: document.documentElement.scrollWidth, width, found: [...new Set(found)].slice(0, 8)};
}"""


def unnamed_controls(page) -> list[str]:
    """Form controls whose accessible name (as Chromium computes it) is empty."""
    session = page.context.new_cdp_session(page)
    nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    unnamed = []
    for node in nodes:
        role = node.get("role", {}).get("value")
        if node.get("ignored") or role not in ROLES or node.get("name", {}).get("value", "").strip():
            continue
        described = session.send("DOM.describeNode", {"backendNodeId": node["backendDOMNodeId"]})["node"]
        pairs = described.get("attributes", [])
        attributes = dict(zip(pairs[::2], pairs[1::2], strict=False))
        unnamed.append(f"{role} {described['localName']} id={attributes.get('id')} name={attributes.get('name')}")
    session.detach()
    return unnamed


def wide_people(tmp_path: Path) -> Path:
    """Twelve rows with long values in every column, two of them bad."""
    lines = ["name,email,age,status,tier,external_id,is_active,last_login,created_at,tags"]
    for n in range(1, 13):
        age = "old" if n in (3, 7) else str(20 + n)
        lines.append(
            f"Person with a rather long name {n},person.with.a.long.address.{n}@example.com,{age},active,gold,"
            f"external-identifier-{n:08d},true,2024-01-0{n % 9 + 1}T10:00:00,2023-05-0{n % 9 + 1}T10:00:00,"
            '"[""a-rather-long-tag"", ""another-long-tag""]"'
        )
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def page_urls(page, people, tmp_path: Path) -> list[str]:
    """Every page a user reaches: the static ones, a document, an import preview, a job with errors."""
    document = people.find_one({"email": "user1@example.com"})["_id"]
    job = imports.import_file(model="users", source=wide_people(tmp_path), dry_run=True)
    page.goto("/admin/bulk/")
    upload_for_preview(page, wide_people(tmp_path))
    preview = page.url.removeprefix(page.url.split("/admin/")[0])
    return [
        "/admin/bulk/",
        "/admin/bulk/collections/users/",
        "/admin/bulk/collections/users/?is_active=true",
        f"/admin/bulk/collections/users/documents/{document}/",
        "/admin/bulk/update/?collection=users",
        "/admin/bulk/delete/?collection=users",
        "/admin/bulk/import/",
        preview,
        "/admin/bulk/sync/",
        "/admin/bulk/cleanup/",
        "/admin/bulk/jobs/",
        f"/admin/bulk/jobs/{job.job_id}/",
        "/admin/bulk/export/?collection=users",
        f"/admin/bulk/collections/users/documents/{document}/edit/",
        "/admin/bulk/collections/users/add/",
    ]


def preview_update(page) -> None:
    """The composer's preview of an update: samples before and after, the final JSON."""
    page.goto("/admin/bulk/update/?collection=users")
    page.select_option("#id_filter-0-field", "age")
    page.select_option("#id_filter-0-operator", "lt")
    page.fill("#id_filter-0-value", "30")
    page.select_option("#id_update-0-field", "tier")
    page.select_option("#id_update-0-value", "gold")
    page.click("#preview-button")
    page.wait_for_selector("#preview-samples")


def problems_of(page, name: str, width: int) -> list[str]:
    """What runs past the viewport on the page as shown."""
    page.wait_for_load_state("networkidle")
    measured = page.evaluate(OVERFLOWING)
    if measured["document"] > measured["width"] or measured["found"]:
        return [f"{name} at {width}px: document {measured['document']}px, {measured['found']}"]
    return []


def test_every_page_fits_its_width_and_names_every_control(page, people, tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    problems = []
    for url in page_urls(page, people, tmp_path):
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(url)
            problems += problems_of(page, url, width)
        unnamed = unnamed_controls(page)
        if unnamed:
            problems.append(f"{url}: controls without a name: {unnamed}")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        preview_update(page)
        problems += problems_of(page, "the update preview", width)
    unnamed = unnamed_controls(page)
    if unnamed:
        problems.append(f"the update preview: controls without a name: {unnamed}")
    assert problems == [], "\n".join(problems)
