// The consultancy's core work, as a student's app and a consultant's tool call it: the profile, the
// catalogue matched to the student, an application's checklist and moves, and `application_updated`.
// Typed by the types generated from /api/schema; CI compiles it against them.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Profile = components["schemas"]["Profile"];
type Course = components["schemas"]["Course"];
type Application = components["schemas"]["Application"];
type Checklist = components["schemas"]["Checklist"];
type ApplicationStatus = components["schemas"]["ApplicationStatusEnum"];
type ApiError = components["schemas"]["Error"];
type ApplicationsReport = components["schemas"]["ApplicationsReport"];

function fail(error: ApiError): never {
  throw new Error(`${error.error.code}: ${error.error.message}`);
}

// The socket's `application_updated` carries the same Application as REST (docs/websocket.md).
export type ApplicationUpdated = { event: "application_updated"; data: Application };

export function onSocketFrame(raw: string, apply: (application: Application) => void): void {
  const frame = JSON.parse(raw) as { event: string; data: unknown };
  if (frame.event === "application_updated") apply((frame as ApplicationUpdated).data);
}

export async function studentWorkspace(baseUrl: string, access: string): Promise<Course[]> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${access}` } });

  // 1. The profile: scores with their validity, what the student looks for.
  const saved = await api.PATCH("/api/v1/auth/me/profile", {
    body: {
      test_scores: [{ test: "ielts", overall: 7.0, taken_on: "2026-06-01" }],
      preferences: { countries: ["GB"], levels: ["master"], intake: "2027-09" },
    },
  });
  if (saved.error) fail(saved.error);
  const profile: Profile = saved.data;
  const valid = profile.test_scores.filter((score) => score.valid).map((score) => `${score.test} until ${score.valid_until}`);
  console.log(`valid scores: ${valid.join(", ")}; passport masked: ${profile.passport_masked}`);

  // 2. Courses the student qualifies for, best fit first; then a search.
  const eligible = await api.GET("/api/v1/courses", {
    params: { query: { eligible_for: profile.student_id, limit: 20 } },
  });
  if (eligible.error) fail(eligible.error);
  for (const course of eligible.data.results) {
    const ielts = course.requirements.min_ielts ?? "none";
    console.log(`${course.name} at ${course.university.name} (${course.university.country}): fit ${course.fit}, IELTS ${ielts}`);
  }
  const found = await api.GET("/api/v1/courses", { params: { query: { q: "data science", country: "GB" } } });
  if (found.error) fail(found.error);

  // 3. The student's applications and the first one's checklist.
  const mine = await api.GET("/api/v1/applications", { params: { query: { student: profile.student_id } } });
  if (mine.error) fail(mine.error);
  const first: Application | undefined = mine.data.results[0];
  if (first !== undefined) {
    const checklist = await api.GET("/api/v1/applications/{id}/checklist", { params: { path: { id: first.id } } });
    if (checklist.error) fail(checklist.error);
    const list: Checklist = checklist.data;
    const missing = list.items.filter((item) => item.required && item.state !== "approved").map((item) => item.label);
    console.log(`${first.course.name}: ${first.status}, checklist ${list.progress}%, missing ${missing.join(", ")}`);
  }
  return [...eligible.data.results, ...found.data.results];
}

export async function consultantMoves(baseUrl: string, access: string, studentId: number, courseId: number): Promise<Application> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${access}` } });
  const opened = await api.POST("/api/v1/applications", {
    body: { student_id: studentId, course_id: courseId, intake: "2027-09" },
  });
  if (opened.error) fail(opened.error); // 409 application_exists: one open application per intake
  let application: Application = opened.data;
  const road: ApplicationStatus[] = ["submitted", "unconditional_offer", "offer_accepted"];
  for (const to of road) {
    if (!application.next_statuses.includes(to)) break;
    const moved = await api.POST("/api/v1/applications/{id}/transition", {
      params: { path: { id: application.id } },
      body: { to, from_status: application.status, note: "" },
    });
    if (moved.error) fail(moved.error); // 409 checklist_incomplete, invalid_transition or stale_status
    application = moved.data;
  }
  const report = await api.GET("/api/v1/reports/applications", { params: { query: { intake: "2027-09" } } });
  if (!report.error && typeof report.data !== "string") {  // (the same path answers CSV with ?format=csv)
    const figures: ApplicationsReport = report.data;
    console.log(`offer rate ${figures.offer_rate}, ${figures.expected_commission.length} intake(s) with commission`);
  }
  return application;
}
