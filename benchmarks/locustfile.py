"""Locust users for benchmarks/load.py: readers and one editor against loopback instances.

Not run on its own: ``benchmarks/load.py`` starts the gunicorn instances, writes the run's
data (instance ports, the query mix, piece keys, topics) to the JSON file named by
``LOAD_DATA`` and runs ``locust -f benchmarks/locustfile.py --headless`` against them. The
editor's writes (pieces created, synopses edited, failed forms) go to ``LOAD_RESULT`` when
the test stops, for load.py to check against the database.

Readers (``FastHttpUser``, no wait: a closed loop, as many requests in flight as users)
fetch the home page, ``/pieces/`` pages, filtered browse, searches and piece pages, each
request on the next instance in turn (a round-robin balancer). The editor signs in through
the real login form and alternates creating a piece and editing one it created, CSRF and
all. Every URL is on 127.0.0.1; load.py refuses anything else.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

from locust import FastHttpUser, HttpUser, constant, events, task

EDITOR = ("bench-editor", "bench password 4 load")
DATA = json.loads(Path(os.environ["LOAD_DATA"]).read_text(encoding="utf-8"))
BASES = [f"http://127.0.0.1:{port}" for port in DATA["ports"]]
RESULT: dict[str, object] = {"created": [], "edits": {}, "failures": []}


class FormParser(HTMLParser):
    """The named fields of a page's form, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif (
            tag == "option"
            and self._select
            and ("selected" in attrs or self._select not in self.fields)
        ):
            self.fields[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


def reader_path(rng: random.Random) -> tuple[str, str]:
    """(endpoint name, path): the old load client's reader mix, unchanged."""
    roll = rng.random()
    if roll < 0.10:
        return "home", "/"
    if roll < 0.25:
        return "browse", f"/pieces/?page={rng.randint(1, 50)}"
    if roll < 0.45:
        return "search", "/search/?" + urllib.parse.urlencode({"q": rng.choice(DATA["queries"])})
    if roll < 0.65:
        choice = rng.random()
        if choice < 0.5:
            query: dict[str, object] = {"topic": rng.choice(DATA["topics"])}
        elif choice < 0.8:
            query = {"year": rng.randint(1990, 2025)}
        else:
            query = {"type": "commentary", "year": rng.randint(1990, 2025)}
        return "browse_filtered", "/pieces/?" + urllib.parse.urlencode(query)
    return "piece", f"/pieces/{rng.choice(DATA['keys'])}/"


_seeds = itertools.count()


class Reader(FastHttpUser):
    host = BASES[0]
    wait_time = constant(0)

    def on_start(self) -> None:
        self.rng = random.Random(next(_seeds))
        self.turn = itertools.count()

    @task
    def read(self) -> None:
        endpoint, path = reader_path(self.rng)
        base = BASES[next(self.turn) % len(BASES)]
        self.client.get(base + path, name=endpoint)


class Editor(HttpUser):
    """One editor: create a piece, edit an earlier one, repeat, alternating instances."""

    host = BASES[0]
    fixed_count = 1
    wait_time = constant(0)

    def on_start(self) -> None:
        self.number = 0
        # Every instance shares the database, so one session serves all of them.
        fields = self._form(BASES[0] + "/accounts/login/", "login_form")
        fields.update(username=EDITOR[0], password=EDITOR[1])
        self._post(BASES[0] + "/accounts/login/", fields, "login")

    def _cookies(self) -> dict[str, str]:
        """The session's cookies, Secure ones included (DEBUG=0 marks them Secure).

        Browsers treat loopback as a secure context and send Secure cookies to it over
        plain http; requests does not, so they are sent by hand.
        """
        return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in self.client.cookies)}

    def _form(self, url: str, name: str) -> dict[str, str]:
        response = self.client.get(url, name=name, headers=self._cookies())
        parser = FormParser()
        parser.feed(response.text or "")
        return parser.fields

    def _post(self, url: str, fields: dict[str, str], name: str):
        headers = {"X-CSRFToken": self.client.cookies.get("csrftoken", ""), **self._cookies()}
        with self.client.post(
            url, data=fields, headers=headers, name=name, allow_redirects=False,
            catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 302:
                response.failure(f"{name}: {response.status_code}, not a redirect")
            return response

    @task
    def write(self) -> None:
        self.number += 1
        base = BASES[self.number % len(BASES)]
        created: list[str] = RESULT["created"]  # type: ignore[assignment]
        edits: dict[str, str] = RESULT["edits"]  # type: ignore[assignment]
        failures: list[str] = RESULT["failures"]  # type: ignore[assignment]
        if self.number % 2 or not created:
            fields = self._form(base + "/pieces/new/", "editor_create_form")
            fields.update(
                title=f"Load test piece {self.number} on Đà Nẵng & <b>ports</b>",
                authors_text="Zoë Lefèvre\nAbdul Basit",
                date_text="2024-05",
                synopsis=f"Created by the load benchmark, round {self.number}.",
                topics_text="",
                regions_text="",
            )
            response = self._post(base + "/pieces/new/", fields, "editor_create")
            if response.status_code == 302:
                location = response.headers["Location"].rstrip("/").split("/")[-1]
                created.append(urllib.parse.unquote(location))
            else:
                failures.append(f"create {self.number}: {response.status_code}")
        else:
            key = random.Random(self.number).choice(created)
            fields = self._form(f"{base}/pieces/{key}/edit/", "editor_edit_form")
            fields["synopsis"] = f"Edited by the load benchmark, round {self.number}."
            response = self._post(f"{base}/pieces/{key}/edit/", fields, "editor_edit")
            if response.status_code == 302:
                edits[key] = fields["synopsis"]
            else:
                failures.append(f"edit {key}: {response.status_code}")


@events.test_stop.add_listener
def _write_result(**_kwargs) -> None:
    with Path(os.environ["LOAD_RESULT"]).open("w", encoding="utf-8") as handle:
        json.dump(RESULT, handle)
