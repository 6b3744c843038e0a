"""The whole journey over REST and the socket against a real server process: a student signs up, fills a
profile with scores and wishes, is matched to eligible courses, has two applications carried from draft
to `enrolled` and to `visa_refused` with checklists filled by reviewed documents, hears every move live,
and the report counts them."""

import json
import time

import pytest
import requests
from django.utils import timezone
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from accounts.tests.factories import PASSWORD, ConsultantFactory, ManagerFactory
from core.tests.live_server import daphne_servers
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db(transaction=True)
REAL_CLOCK = True  # the server runs on the machine's clock (conftest's travelled one stays out)
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
CHECKLIST = [
    "passport",
    "transcript",
    "test_score",
    "statement_of_purpose",
    "recommendation",
    "recommendation",
    "cv",
    "financial",
]


class Api:
    def __init__(self, base: str, token: str):
        self.base, self.headers = base, {"Authorization": f"Bearer {token}"}

    def __call__(self, method: str, path: str, expect: int = 200, **kwargs):
        response = requests.request(method, f"{self.base}/api/v1/{path}", headers=self.headers, timeout=15, **kwargs)
        assert response.status_code == expect, (method, path, response.status_code, response.text[:500])
        return response.json() if response.content and "json" in response.headers.get("Content-Type", "") else None


def sign_in(base: str, email: str) -> Api:
    tokens = requests.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=15)
    return Api(base, tokens.json()["access"])


class Socket:
    """A student's app: reconnects with its token when the server says its rights changed (4409, as
    when the office converting their lead claims them), as the SDK does."""

    def __init__(self, port: int, token: str):
        self.url = f"ws://127.0.0.1:{port}/ws/?token={token}"
        self.ws = ws_connect(self.url)
        self.frames: list[dict] = []
        self.reconnects = 0

    def recv(self, timeout: float) -> dict:
        try:
            return json.loads(self.ws.recv(timeout=timeout))
        except ConnectionClosed as closed:
            if closed.rcvd is None or closed.rcvd.code != 4409:
                raise
            self.ws, self.reconnects = ws_connect(self.url), self.reconnects + 1
            return {"event": "reconnected"}

    def reconnected(self, timeout: float = 15) -> None:
        """Reads until the server closes with 4409 and the socket is open again."""
        deadline, before = time.monotonic() + timeout, self.reconnects
        while self.reconnects == before:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "no 4409"
            self.frames.append(self.recv(remaining))

    def application_events(self, count: int, timeout: float = 15) -> list[dict]:
        deadline = time.monotonic() + timeout
        while sum(f["event"] == "application_updated" for f in self.frames) < count:
            remaining = deadline - time.monotonic()
            assert remaining > 0, [f["event"] for f in self.frames]
            self.frames.append(self.recv(remaining))
        return [f["data"] for f in self.frames if f["event"] == "application_updated"]


def test_a_student_from_signup_to_enrolment_and_to_a_refused_visa(tmp_path):
    office = OfficeFactory(name="Leeds office")
    manager = ManagerFactory(office=office, email="maya@example.com")
    consultant = ConsultantFactory(office=office, email="carl@example.com")
    next_year = timezone.localdate().year + 1
    with daphne_servers(tmp_path) as (ports, _):
        base = f"http://127.0.0.1:{ports[0]}"
        signed_up = requests.post(
            f"{base}/api/v1/auth/signup",
            json={"email": "sam@example.com", "password": "Sam-Student-2027", "first_name": "Sam", "last_name": "Lee"},
            timeout=15,
        ).json()
        sam = Api(base, signed_up["access"])
        sam_id = signed_up["user"]["id"]
        socket = Socket(ports[0], signed_up["access"])

        # 1. The profile: scores (one expired), education and wishes.
        profile = sam(
            "PATCH",
            "auth/me/profile",
            json={
                "nationality": "IN",
                "passport_number": "P7654321",
                "test_scores": [
                    {"test": "ielts", "overall": "7.0", "taken_on": f"{next_year - 2}-06-01"},
                    {"test": "toefl", "overall": "105", "taken_on": "2015-01-01"},
                ],
                "education": [
                    {
                        "level": "bachelor",
                        "institution": "Pune University",
                        "country": "IN",
                        "grade": "8.0",
                        "scale": "10",
                        "year": next_year - 2,
                    }
                ],
                "preferences": {
                    "countries": ["GB"],
                    "levels": ["master"],
                    "fields": ["Data"],
                    "intake": f"{next_year}-09",
                },
            },
        )
        assert [s["valid"] for s in profile["test_scores"]] == [True, False]

        # 2. The office takes them on: the website lead assigned and converted.
        maya, carl = sign_in(base, manager.email), sign_in(base, consultant.email)
        lead = maya("GET", "leads?q=sam@example.com")["results"][0]
        maya("POST", f"leads/{lead['id']}/assign", json={"consultant_id": consultant.pk})
        carl("POST", f"leads/{lead['id']}/convert")
        socket.reconnected()  # the office claimed Sam: the app signs in again with Sam's new rights

        # 3. The catalogue, and the courses Sam is eligible for, best fit first.
        leeds = maya(
            "POST",
            "universities",
            201,
            json={"name": "University of Leeds", "country": "GB", "partnership": "direct", "commission_rate": "15"},
        )
        course = {
            "university_id": leeds["id"],
            "level": "master",
            "duration_months": 12,
            "currency": "GBP",
            "intakes": [1, 9],
            "tuition_fee": "24000",
        }
        data = maya(
            "POST",
            "courses",
            201,
            json={
                **course,
                "name": "MSc Data Science",
                "field": "Data Science",
                "requirements": {"min_ielts": "6.5", "min_gpa": "3.0"},
            },
        )
        law = maya(
            "POST",
            "courses",
            201,
            json={**course, "name": "LLM Law", "field": "Law", "requirements": {"min_ielts": "6.5"}},
        )
        maya(
            "POST",
            "courses",
            201,
            json={**course, "name": "MSc Finance", "field": "Finance", "requirements": {"min_toefl": 100}},
        )
        eligible = sam("GET", f"courses?eligible_for={sam_id}")["results"]
        assert [c["name"] for c in eligible] == ["MSc Data Science", "LLM Law"]  # TOEFL expired; fit ranks Data first
        assert "commission_rate" not in sam("GET", f"universities/{leeds['id']}")

        # 4. Two applications, and a checklist filled by documents the consultant reviews.
        first = carl(
            "POST",
            "applications",
            201,
            json={"student_id": sam_id, "course_id": data["id"], "intake": f"{next_year}-09"},
        )
        second = carl(
            "POST",
            "applications",
            201,
            json={"student_id": sam_id, "course_id": law["id"], "intake": f"{next_year}-09"},
        )
        refused = carl("POST", f"applications/{first['id']}/transition", 409, json={"to": "submitted"})
        assert refused["error"]["code"] == "checklist_incomplete"

        def upload(kind: str) -> int:
            files = {"file": (f"{kind}.pdf", PDF, "application/pdf")}
            return sam("POST", "documents", 201, files=files, data={"kind": kind})["id"]

        for document_id in [upload(kind) for kind in CHECKLIST]:
            carl("POST", f"documents/{document_id}/review", json={"status": "approved", "note": ""})
        checklist = sam("GET", f"applications/{first['id']}/checklist")
        assert checklist["progress"] == 100 and {i["state"] for i in checklist["items"] if i["required"]} == {
            "approved"
        }
        assert [i["key"] for i in checklist["items"] if not i["required"]] == ["tb_test"]  # the UK's, if asked

        # 5. The moves: one to enrolment, one to a refused visa, with its documents linked.
        def move(application_id: int, to: str, **extra) -> dict:
            return carl("POST", f"applications/{application_id}/transition", json={"to": to, **extra})

        offer_letter, cas = upload("offer_letter"), upload("cas")
        road = [
            ("submitted", {}),
            ("conditional_offer", {"offer": {"conditions": "Final transcript", "document_id": offer_letter}}),
            ("unconditional_offer", {}),
            ("offer_accepted", {}),
            ("deposit_paid", {"offer": {"deposit_amount": "3000"}}),
            ("confirmation_issued", {"confirmation": {"number": "CAS-77", "document_id": cas}}),
            ("visa_applied", {"visa": {"reference": "GWF-1"}}),
        ]
        for to, extra in [*road, ("visa_granted", {}), ("enrolled", {})]:
            done = move(first["id"], to, **extra)
        assert done["status"] == "enrolled" and done["confirmation"]["kind"] == "cas"
        for to, extra in [*road[:1], ("unconditional_offer", {}), *road[3:], ("visa_refused", {"note": "Funds"})]:
            done = move(second["id"], to, **extra)
        assert done["status"] == "visa_refused"
        final = carl("POST", f"applications/{second['id']}/transition", 409, json={"to": "withdrawn", "note": "x"})
        assert final["error"]["code"] == "invalid_transition"

        # 6. Sam heard every move live, in order, each application's own.
        events = socket.application_events(10 + 8)  # each application's draft and its moves
        for application, last in ((first, "enrolled"), (second, "visa_refused")):
            mine = [e["status"] for e in events if e["id"] == application["id"]]
            assert mine[0] == "draft" and mine[-1] == last
        assert [e["status"] for e in events if e["id"] == first["id"]] == [
            "draft",
            "submitted",
            "conditional_offer",
            "unconditional_offer",
            "offer_accepted",
            "deposit_paid",
            "confirmation_issued",
            "visa_applied",
            "visa_granted",
            "enrolled",
        ]
        assert "commission" not in json.dumps(events)
        socket.ws.close()

        # 7. The report counts them.
        report = maya("GET", "reports/applications")
        assert report["total"] == 2
        assert report["by_status"]["enrolled"] == 1 and report["by_status"]["visa_refused"] == 1
        assert report["visa_success_rate"] == 0.5 and report["offer_rate"] == 1.0
        assert report["expected_commission"] == [
            {
                "intake": f"{next_year}-09",
                "currency": "GBP",
                "applications": 1,
                "expected": "3600.00",
                "enrolled": "3600.00",
            }
        ]
