"""Issue 22's journey over REST and the socket against a real server process: a walk-in lead the front desk
creates without a consultant is routed by the office's rule to the consultant with room (the one at the cap
the manager set over the users API, and the deactivated one, skipped), converted; the consultant sets a task
and sends a proposal (`proposal_received` on the student's socket); the student accepts two of its three items
over REST and each becomes a draft application, heard live (`application_updated`) by the student and the
consultant, who also finds it all over REST: the lead's timeline naming the rule, the task, the accepted
proposal, the applications.

The clock: the package's conftest travels to 15 March 2027 (ticking); `live_servers` hands that moment to the
server process (CRM_TEST_CLOCK, core/tests/clock.py), so intakes, expiries and tokens read the same day there."""

import json
import time
from datetime import timedelta

import pytest
import requests
from django.contrib.auth.tokens import default_token_generator
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from websockets.sync.client import connect as ws_connect

from accounts.models import User
from accounts.tests.factories import PASSWORD, ConsultantFactory, ManagerFactory, ReceptionistFactory
from catalogue.tests.factories import CourseFactory
from core.tests.live_server import live_servers
from leads.tests.factories import LeadFactory
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db(transaction=True)


class Api:
    def __init__(self, base: str, token: str):
        self.base, self.headers = base, {"Authorization": f"Bearer {token}"}

    def __call__(self, method: str, path: str, expect: int = 200, **kwargs):
        response = requests.request(method, f"{self.base}/api/v1/{path}", headers=self.headers, timeout=15, **kwargs)
        assert response.status_code == expect, (method, path, response.status_code, response.text[:500])
        return response.json() if response.content and "json" in response.headers.get("Content-Type", "") else None


def sign_in(base: str, email: str, password: str = PASSWORD) -> tuple[Api, str]:
    response = requests.post(f"{base}/api/v1/auth/login", json={"email": email, "password": password}, timeout=15)
    assert response.status_code == 200, response.text[:500]
    token = response.json()["access"]
    return Api(base, token), token


class Socket:
    def __init__(self, port: int, token: str):
        self.ws = ws_connect(f"ws://127.0.0.1:{port}/ws/?token={token}")
        self.frames: list[dict] = []

    def events(self, name: str, count: int, timeout: float = 15) -> list[dict]:
        """The data of the first `count` `name` events, reading as long as needed (other events kept)."""
        deadline = time.monotonic() + timeout
        while sum(f.get("event") == name for f in self.frames) < count:
            remaining = deadline - time.monotonic()
            assert remaining > 0, (name, [f.get("event") for f in self.frames])
            self.frames.append(json.loads(self.ws.recv(timeout=remaining)))
        return [f["data"] for f in self.frames if f.get("event") == name][:count]

    def close(self) -> None:
        self.ws.close()


def test_a_walk_in_routed_by_rule_proposed_to_and_accepted_live(tmp_path):
    office = OfficeFactory(name="Leeds office")
    manager = ManagerFactory(office=office, email="maya@example.com")
    desk = ReceptionistFactory(office=office, email="rita@example.com")
    full = ConsultantFactory(office=office, email="fay@example.com")
    LeadFactory(office=office, assigned_to=full, status="contacted")  # one open lead: her cap, once set
    gone = ConsultantFactory(office=office, email="gus@example.com")
    carl = ConsultantFactory(office=office, email="carl@example.com")
    ConsultantFactory(office=office, email="other@example.com")  # not in the rule: never chosen by it
    year = timezone.localdate().year + 1
    courses = [
        CourseFactory(university__name="Leeds", university__country="GB", name="MSc Data Science", intakes=[9]),
        CourseFactory(university__name="York", university__country="GB", name="MSc AI", intakes=[9, 1]),
        CourseFactory(university__name="Bath", university__country="GB", name="MSc Finance", intakes=[9]),
    ]

    with live_servers(tmp_path) as ((port,), _):
        base = f"http://127.0.0.1:{port}"
        maya, _ = sign_in(base, manager.email)
        rita, _ = sign_in(base, desk.email)
        carl_api, carl_token = sign_in(base, carl.email)
        carl_socket = Socket(port, carl_token)

        # 1. The manager caps Fay at one open lead, writes the rule (UK walk-ins to Fay, Gus and Carl in turn),
        #    then Gus leaves (deactivated).
        assert maya("PATCH", f"users/{full.pk}", json={"max_open_leads": 1})["max_open_leads"] == 1
        rule = maya(
            "POST",
            "lead-routing-rules",
            201,
            json={
                "order": 1,
                "name": "UK walk-ins",
                "conditions": {"sources": ["walk_in"], "countries": ["GB"]},
                "round_robin": [full.pk, gone.pk, carl.pk],
            },
        )
        maya("POST", f"users/{gone.pk}/deactivate")
        tested = maya("POST", "lead-routing-rules/test", json={"lead": {"source": "walk_in", "countries": ["GB"]}})
        assert tested["rule_id"] == rule["id"] and tested["consultant_id"] == carl.pk

        # 2. The walk-in, created at the desk without a consultant: routed to Carl, the only one with room.
        lead = rita(
            "POST",
            "leads",
            201,
            json={
                "first_name": "Sam",
                "last_name": "Lee",
                "email": "sam@example.com",
                "source": "walk_in",
                "preferences": {"countries": ["GB"], "levels": ["master"]},
            },
        )
        assert lead["assigned_to"] == carl.pk and lead["office_id"] == office.pk
        timeline = carl_api("GET", f"leads/{lead['id']}/activities")
        routed = [a for a in timeline["results"] if a["kind"] == "assigned"]
        assert routed and routed[0]["data"]["routing"]["rule_id"] == rule["id"], timeline

        # 3. Carl sets a task on the lead and converts it; Sam sets a password from the reset code and signs in.
        task = carl_api(
            "POST",
            "tasks",
            201,
            json={
                "title": "Call Sam about the shortlist",
                "lead_id": lead["id"],
                "priority": "high",
                "due_at": (timezone.now() + timedelta(days=1)).isoformat(),
            },
        )
        assert task["assignee_id"] == carl.pk
        converted = carl_api("POST", f"leads/{lead['id']}/convert")
        sam_user = User.objects.get(pk=converted["student_id"])
        code = f"{urlsafe_base64_encode(force_bytes(sam_user.pk))}.{default_token_generator.make_token(sam_user)}"
        requests.post(
            f"{base}/api/v1/auth/password/reset/confirm",
            json={"code": code, "new_password": "Sam-Student-2027"},
            timeout=15,
        ).raise_for_status()
        sam, sam_token = sign_in(base, "sam@example.com", "Sam-Student-2027")
        sam_socket = Socket(port, sam_token)

        # 4. Carl proposes three courses and sends them: Sam hears it live.
        draft = carl_api(
            "POST",
            "proposals",
            201,
            json={
                "student_id": sam_user.pk,
                "items": [{"course_id": c.pk, "intake": f"{year}-09", "note": "A good fit"} for c in courses],
                "message": "Three UK masters for September",
                "expires_at": (timezone.now() + timedelta(days=14)).isoformat(),
            },
        )
        assert sam("GET", f"proposals/{draft['id']}", 404)["error"]["code"] == "not_found"  # a draft is hidden
        carl_api("POST", f"proposals/{draft['id']}/send", json={})
        (received,) = sam_socket.events("proposal_received", 1)
        assert received["id"] == draft["id"] and received["status"] == "sent"
        assert [i["course_id"] for i in received["items"]] == [c.pk for c in courses]
        assert "commission" not in json.dumps(received)

        # 5. Sam accepts two of the three over REST: two draft applications, heard live by both.
        chosen = [received["items"][0]["id"], received["items"][2]["id"]]
        accepted = sam("POST", f"proposals/{draft['id']}/accept", json={"item_ids": chosen})
        assert accepted["proposal"]["status"] == "accepted"
        opened = {a["id"]: a for a in accepted["applications"]}
        assert [(a["course_id"], a["status"], a["consultant_id"]) for a in accepted["applications"]] == [
            (courses[0].pk, "draft", carl.pk),
            (courses[2].pk, "draft", carl.pk),
        ]
        for socket in (sam_socket, carl_socket):
            live = socket.events("application_updated", 2)
            assert {e["id"] for e in live} == set(opened) and {e["status"] for e in live} == {"draft"}
            assert "commission" not in json.dumps(live)
        sam("POST", f"proposals/{draft['id']}/accept", 409, json={"item_ids": chosen})  # once only

        # 6. Carl follows it all over REST: the task, the proposal, the applications, the student's timeline.
        assert [t["id"] for t in carl_api("GET", f"tasks?lead={lead['id']}&status=open")["results"]] == [task["id"]]
        proposals = carl_api("GET", f"proposals?student={sam_user.pk}")["results"]
        assert [(p["id"], p["status"]) for p in proposals] == [(draft["id"], "accepted")]
        assert [i["application_id"] is not None for i in proposals[0]["items"]] == [True, False, True]
        applications = carl_api("GET", f"applications?student={sam_user.pk}")["results"]
        assert {a["id"] for a in applications} == set(opened)
        assert {a["id"] for a in sam("GET", "applications")["results"]} == set(opened)
        sam_socket.close()
        carl_socket.close()
