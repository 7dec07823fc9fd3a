"""`publications/index.html`: every published month and each of its revisions."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from zhongwei.config import TIMEZONE

from zhongwei.lake import replace_atomically
from zhongwei.publish.release import revisions


def catalogue(root: Path) -> list[dict]:
    """The months (newest first), each with its revisions (newest first), from their manifests."""
    months = []
    for month_dir in sorted((p for p in root.iterdir() if p.is_dir() and revisions(p)), reverse=True):
        revs = []
        for n in reversed(revisions(month_dir)):
            m = json.loads((month_dir / "revisions" / str(n) / "manifest.json").read_text(encoding="utf-8"))
            local = datetime.fromisoformat(m["published_at"]).astimezone(ZoneInfo(TIMEZONE))
            revs.append({"revision": n, "published_at": f"{local:%Y-%m-%d %H:%M}", "changes": len(m["changes"]),
                         "accepted": (m["gate"]["accepted"] or {}).get("reason"),
                         "generated": m.get("generated_data"),
                         "href": f"{month_dir.name}/revisions/{n}/bulletin.html"})
        months.append({"period": month_dir.name, "href": f"{month_dir.name}/bulletin.html", "revisions": revs})
    return months


def write_index(root: Path) -> Path:
    import jinja2

    from zhongwei.publish.bulletin import TEMPLATES

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    html = env.get_template("index.html.j2").render(months=catalogue(root))
    path = root / "index.html"
    replace_atomically(path, lambda tmp: tmp.write_text(html, encoding="utf-8"))
    return path
