"""`headroom dashboard` in a real browser: the page headless chromium renders shows what
`headroom savings --json` prints, refreshes live, and nothing is served without the token."""

from __future__ import annotations

import json
import re
import struct
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import CLIENT, MODEL, ROOT, start_dashboard, stop

PAGE = ROOT / "daemon" / "src" / "dashboard" / "index.html"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'"
INTEGER_METRICS = ["requests", "tokens_before", "tokens_after", "removed_tokens", "added_tokens", "retrieves",
                   "retrieved_tokens", "net_saved_tokens", "memories", "rewrites"]

#: Everything the page shows, as the page holds it: headline numbers, table rows, chart bars.
READ_PAGE = """(() => {
  const metrics = {};
  for (const e of document.querySelectorAll('[data-metric]'))
    metrics[e.dataset.metric] = {value: e.dataset.value, text: e.textContent};
  const rows = {};
  for (const tr of document.querySelectorAll('tr[data-row]')) {
    const cells = {};
    for (const td of tr.cells) cells[td.dataset.col] = td.dataset.value ?? td.textContent;
    rows[tr.dataset.row] = cells;
  }
  const bars = [...document.querySelectorAll('#chart svg rect.bar')].map(r =>
    ({date: r.dataset.date, value: Number(r.dataset.value), height: r.getBBox().height}));
  return {metrics, rows, bars, recent: document.querySelectorAll('tr[data-row^="recent:"]').length,
          since: document.body.dataset.since, href: location.href};
})()"""


def get(url: str) -> tuple[int, dict, bytes]:
    """Status, lower-cased headers and body of a GET, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def show(browser, dashboard, since: str) -> dict:
    """Opens the page, picks ``since`` with the range selector and returns what it shows."""
    browser.events.clear()
    browser.navigate(dashboard.url())
    browser.wait_for("document.body.dataset.loaded === 'true'")
    browser.evaluate(f"document.querySelector('#range input[value=\"{since}\"]').click()")
    browser.wait_for(f"document.body.dataset.since === '{since}'")
    return browser.evaluate(READ_PAGE)


def assert_totals(page: dict, figures: dict) -> None:
    """Every headline number the page shows is the CLI's, in data-value and in the text."""
    metrics = page["metrics"]
    for key, value in figures["totals"].items():
        assert key in metrics, f"no data-metric={key} on the page"
        assert float(metrics[key]["value"]) == value, (key, metrics[key], value)
    for key in INTEGER_METRICS:
        assert int(re.sub(r"[^\d-]", "", metrics[key]["text"])) == figures["totals"][key], (key, metrics[key])
    for key in ("p50_us", "p99_us"):
        assert float(metrics[f"latency.{key}"]["value"]) == figures["latency"][key], (key, metrics)


def assert_problem_free(browser) -> None:
    browser.evaluate("1")  # collects the events sent so far
    assert browser.problems() == []


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk; fails on anything that is not a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_page_shows_what_savings_json_prints(daemon, dashboard, browser):
    """The headline numbers, the tables and the chart for `all`, then for each other range."""
    figures = daemon.wait_for_requests(daemon.sent)
    totals = figures["totals"]
    assert totals["net_saved_tokens"] > 0 and totals["removed_tokens"] > totals["net_saved_tokens"], totals
    assert totals["retrieves"] == daemon.retrieved and totals["retrieved_tokens"] > 0, totals
    page = show(browser, dashboard, "all")
    assert page["href"].endswith("since=all"), page["href"]
    assert_totals(page, figures)

    rows = page["rows"]
    assert {k for k in rows if not k.startswith("recent:")} == (
        {f"model:{m['name']}" for m in figures["by_model"]}
        | {f"compressor:{c['name']}" for c in figures["by_compressor"]}
        | {f"client:{c['name']}" for c in figures["by_client"]})
    for m in figures["by_model"]:
        row = rows[f"model:{m['name']}"]
        for key in ("requests", "tokens_before", "tokens_after", "saved_tokens", "money_saved"):
            assert float(row[key]) == m[key], (m["name"], key, row, m)
    for c in figures["by_client"]:
        row = rows[f"client:{c['name']}"]
        for key in ("requests", "tokens_before", "tokens_after", "saved_tokens"):
            assert float(row[key]) == c[key], (c["name"], key, row, c)
    for c in figures["by_compressor"]:
        row = rows[f"compressor:{c['name']}"]
        for key in ("blocks", "tokens_before", "tokens_after", "saved_tokens"):
            assert float(row[key]) == c[key], (c["name"], key, row, c)
    assert float(rows[f"model:{MODEL}"]["requests"]) == daemon.sent
    assert float(rows[f"model:{MODEL}"]["price"]) > 0, "gpt-4o has a default price"
    assert float(rows[f"client:{CLIENT}"]["requests"]) == daemon.sent
    assert "compressor:logs" in rows
    assert page["recent"] == len(figures["recent"]) > 0

    bars = {b["date"]: b for b in page["bars"]}
    assert figures["days"] and len(bars) >= len(figures["days"])
    for day in figures["days"]:
        assert bars[day["date"]]["value"] == day["net_saved_tokens"], (day, bars.get(day["date"]))
    assert max(b["height"] for b in page["bars"]) > 10, page["bars"]
    assert sum(b["value"] for b in page["bars"]) == sum(d["net_saved_tokens"] for d in figures["days"])

    ARTIFACTS.mkdir(exist_ok=True)
    browser.evaluate("scrollTo(0, 0)")
    shot = browser.screenshot()
    assert png_size(shot) == (1280, 900)
    (ARTIFACTS / "dashboard.png").write_bytes(shot)
    light = browser.evaluate("getComputedStyle(document.body).backgroundColor")
    browser.page("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": "dark"}])
    try:
        assert browser.evaluate("getComputedStyle(document.body).backgroundColor") != light, "no dark scheme"
        (ARTIFACTS / "dashboard-dark.png").write_bytes(browser.screenshot())
    finally:
        browser.page("Emulation.setEmulatedMedia", features=[])

    for since in ("24h", "7d", "30d"):
        browser.evaluate(f"document.querySelector('#range input[value=\"{since}\"]').click()")
        browser.wait_for(f"document.body.dataset.since === '{since}'")
        assert_totals(browser.evaluate(READ_PAGE), daemon.savings(since))
    assert_problem_free(browser)


def test_page_refreshes_live(daemon, dashboard, browser):
    """A request compressed while the page is open shows up without a reload."""
    before = daemon.wait_for_requests(daemon.sent)["totals"]["requests"]
    page = show(browser, dashboard, "all")
    assert float(page["metrics"]["requests"]["value"]) == before
    browser.evaluate("window.sameDocument = true")
    daemon.compress("Zookeeper_2k.log")
    start = time.monotonic()
    browser.wait_for(f"document.querySelector('[data-metric=requests]').dataset.value === '{before + 1}'", seconds=8)
    assert time.monotonic() - start < 5, "the page refreshes every 2 s"
    assert browser.evaluate("window.sameDocument") is True, "the page reloaded"
    assert_totals(browser.evaluate(READ_PAGE), daemon.wait_for_requests(before + 1))
    assert_problem_free(browser)


def test_api_and_page_are_served_as_the_contract_says(daemon, dashboard):
    """The embedded page as is, with its CSP; /api/savings is `savings --json`; 404 elsewhere."""
    status, headers, body = get(dashboard.url())
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["content-security-policy"] == CSP
    assert body == PAGE.read_bytes(), "the binary serves another page than index.html: rebuild it (cargo build --release)"
    assert not re.search(rb"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//""", body), "external URL"

    status, headers, body = get(dashboard.url("/api/savings", since="all"))
    assert status == 200 and headers["content-type"].startswith("application/json")
    served, printed = json.loads(body), daemon.savings("all")
    assert served.keys() == printed.keys()
    assert served["totals"] == printed["totals"] and served["by_model"] == printed["by_model"]
    default = json.loads(get(dashboard.url("/api/savings"))[2])
    assert abs((default["until_ms"] - default["since_ms"]) - 30 * 86_400_000) < 120_000, "default range is 30d"

    assert get(dashboard.url("/nothing-here"))[0] == 404


def test_nothing_is_served_without_the_token(dashboard):
    """Missing or wrong token: 403 with a short text body, on the page and on the API."""
    wrong = "0" * 32 if dashboard.token != "0" * 32 else "1" * 32
    for path in ("/", "/api/savings", "/nothing-here"):
        for token in {"", wrong, dashboard.token[:-1], dashboard.token.upper()} - {dashboard.token}:
            status, _, body = get(dashboard.url(path, token=token, since="all"))
            assert status == 403, (path, token, status)
            assert 0 < len(body) < 200 and b"<html" not in body.lower() and b"totals" not in body, body


def test_each_dashboard_has_its_own_token_and_the_asked_port(daemon, dashboard):
    """`--port N` listens on N, with a fresh random token the other dashboard's does not open."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    other = start_dashboard(daemon.env, "--port", str(port))
    try:
        assert other.port == port
        assert other.token != dashboard.token
        assert get(other.url())[0] == 200
        assert get(other.url(token=dashboard.token))[0] == 403
    finally:
        stop(other.process)
