"""Take the operator pages' screenshots at desktop (1280x800) and phone (390x844) size.

    .venv/bin/python docs/screenshots/take.py                 # every page, into docs/screenshots/
    .venv/bin/python docs/screenshots/take.py --pages desk    # only some (names below)
    .venv/bin/python docs/screenshots/take.py --out /tmp/shots

1. start a paper venue and a real web server on a throw-away database (tests/panel/server.py
   PanelServer, seeded by tests/panel/seed.py, plus the desk's trades); 2. log in as the operator in
   Debian's chromium through Playwright; 3. save one PNG per page and size (`<page>.png`,
   `<page>-phone.png`). A page that answers 404 (not built yet) is skipped with a note.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from paper_venue.faults import Faults  # noqa: E402
from paper_venue.testing import running_venue  # noqa: E402
from tests.panel.server import PanelServer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TICKS = 30
SIZES = {"": {"width": 1280, "height": 800}, "-phone": {"width": 390, "height": 844}}
# name -> (path, a selector to wait for before the shot; "" = the page's load is enough)
PAGES = {
    "desk": ("/desk/", "#desk-total"),
    "panel": ("/panel/", "#conn.live"),
    "agent": ("/agents/btc-hourly/", "figure.chart"),  # the charts are drawn after a fetch
    "run-viewer": ("/agents/runs/{run}/", ""),
    "run-search": ("/agents/runs/", ""),
    "approvals": ("/approvals/", ""),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default=",".join(PAGES), help=f"comma-separated, of: {', '.join(PAGES)}")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    wanted = [p for p in args.pages.split(",") if p]
    unknown = set(wanted) - set(PAGES)
    if unknown:
        parser.error(f"unknown page(s): {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="academy-shots-") as tmp:
        with running_venue(Path(tmp) / "venue") as venue:
            server = PanelServer.create(Path(tmp) / "web", venue_url=venue.url, venue_api_key=venue.api_key)
            try:
                seeded = server.shell("from tests.panel.seed import seed_desk; seed_desk()")
                print(*[line for line in seeded.splitlines() if line.startswith("seeded")])
                faults = Faults(venue.url, venue.faults_token)
                faults.tick(TICKS)  # the simulated traders move the marks a little: P&L that is not all zero
                faults.close()
                # seed() makes the demo run (every kind of step) last
                last = server.shell("from agents.models import Run; print('run', Run.objects.latest('id').pk)")
                run = re.search(r"run (\d+)", last)
                shoot(server.url, wanted, args.out, run_id=run.group(1) if run else "1")
            finally:
                server.stop()
    return 0


def shoot(base: str, wanted: list[str], out: Path, *, run_id: str) -> None:
    """Log in once per size, then save each page (full height)."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for suffix, viewport in SIZES.items():
            context = browser.new_context(viewport=viewport, is_mobile=bool(suffix), has_touch=bool(suffix))
            page = context.new_page()
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", "operator")
            page.fill("#id_password", "pw-operator")
            page.click("button[type=submit]")
            page.wait_for_load_state()
            for name in wanted:
                path, ready = PAGES[name]
                response = page.goto(base + path.format(run=run_id))
                if response is None or response.status == 404:
                    print(f"skipped {name}: {path} answers 404 (not built yet)")
                    continue
                if ready:
                    page.wait_for_selector(ready)
                page.wait_for_timeout(400)  # let scripts draw (charts, the panel's first snapshot)
                target = out / f"{name}{suffix}.png"
                page.screenshot(path=str(target), full_page=True)
                print(f"saved {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
            context.close()
        browser.close()


if __name__ == "__main__":
    raise SystemExit(main())
