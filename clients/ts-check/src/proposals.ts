// Around the application (issue 22), as the front desk, a manager, a consultant and a student's app call it:
// a consultant's cap and a routing rule, a walk-in routed by it, a task, a proposal sent and accepted, and
// the socket's `proposal_received`. Typed by the types generated from /api/schema; CI compiles it against them.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Lead = components["schemas"]["Lead"];
type User = components["schemas"]["ManagedUser"];
type RoutingRule = components["schemas"]["RoutingRule"];
type Task = components["schemas"]["Task"];
type Proposal = components["schemas"]["Proposal"];
type ProposalStatus = components["schemas"]["ProposalStatusEnum"];
type Application = components["schemas"]["Application"];
type ApiError = components["schemas"]["Error"];

function fail(error: ApiError): never {
  throw new Error(`${error.error.code}: ${error.error.message}`);
}

const client = (baseUrl: string, access: string) =>
  createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${access}` } });

// The socket's `proposal_received` carries the same Proposal as REST (docs/websocket.md).
export type ProposalReceived = { event: "proposal_received"; data: Proposal };

export function onProposalFrame(raw: string, show: (proposal: Proposal) => void): void {
  const frame = JSON.parse(raw) as { event: string; data: unknown };
  if (frame.event === "proposal_received") show((frame as ProposalReceived).data);
}

export async function managerSetsRouting(baseUrl: string, access: string, consultantIds: number[]): Promise<RoutingRule> {
  const api = client(baseUrl, access);
  const first = consultantIds[0];
  if (first !== undefined) {
    const capped = await api.PATCH("/api/v1/users/{id}", {
      params: { path: { id: first } },
      body: { max_open_leads: 12 }, // null: no cap
    });
    if (capped.error) fail(capped.error); // 400 max_open_leads_consultants_only for another role
    const user: User = capped.data;
    console.log(`${user.email}: at most ${user.max_open_leads ?? "any number of"} open leads`);
  }
  const created = await api.POST("/api/v1/lead-routing-rules", {
    body: { order: 1, name: "UK walk-ins", conditions: { sources: ["walk_in"], countries: ["GB"] }, round_robin: consultantIds },
  });
  if (created.error) fail(created.error);
  const tested = await api.POST("/api/v1/lead-routing-rules/test", {
    body: { lead: { source: "walk_in", countries: ["GB"], levels: ["master"] } },
  });
  if (tested.error) fail(tested.error);
  console.log(`a UK walk-in would go to ${tested.data.consultant_id ?? "nobody (a manager assigns)"}`);
  return created.data;
}

export async function frontDeskWalkIn(baseUrl: string, access: string): Promise<Lead> {
  const created = await client(baseUrl, access).POST("/api/v1/leads", {
    body: { first_name: "Sam", last_name: "Lee", email: "sam@example.com", source: "walk_in", preferences: { countries: ["GB"] } },
  });
  if (created.error) fail(created.error);
  console.log(`routed to ${created.data.assigned_to ?? "nobody yet"}`);
  return created.data;
}

export async function consultantProposes(
  baseUrl: string,
  access: string,
  leadId: number,
  studentId: number,
  courseIds: number[],
): Promise<[Task, Proposal]> {
  const api = client(baseUrl, access);
  const task = await api.POST("/api/v1/tasks", {
    body: { title: "Call about the shortlist", lead_id: leadId, priority: "high", due_at: "2027-03-16T10:00:00Z" },
  });
  if (task.error) fail(task.error); // 400 task_assignee_cannot_see: the assignee may not see the lead
  const draft = await api.POST("/api/v1/proposals", {
    body: {
      student_id: studentId,
      items: courseIds.map((course_id) => ({ course_id, intake: "2027-09", note: "" })),
      message: "Three UK masters for September",
      expires_at: "2027-03-29T10:00:00Z",
    },
  });
  if (draft.error) fail(draft.error);
  for (const item of draft.data.items) {
    const cost = item.estimated_cost;
    console.log(`${item.course.name}: ${cost.total ?? "?"} ${cost.currency}${item.eligible ? "" : " (not eligible)"}`);
  }
  const sent = await api.POST("/api/v1/proposals/{id}/send", { params: { path: { id: draft.data.id } }, body: {} });
  if (sent.error) fail(sent.error);
  const overdue = await api.GET("/api/v1/tasks", { params: { query: { overdue: true, status: "open" } } });
  if (overdue.error) fail(overdue.error);
  return [task.data, sent.data];
}

export async function studentAccepts(baseUrl: string, access: string, proposal: Proposal): Promise<Application[]> {
  const api = client(baseUrl, access);
  const status: ProposalStatus = proposal.status;
  if (status !== "sent") return [];
  const chosen = proposal.items.slice(0, 2).map((item) => item.id);
  const accepted = await api.POST("/api/v1/proposals/{id}/accept", {
    params: { path: { id: proposal.id } },
    body: { item_ids: chosen },
  });
  if (accepted.error) fail(accepted.error); // 409 proposal_expired, proposal_invalid_move (decided already)
  console.log(`proposal ${accepted.data.proposal.status}: ${accepted.data.applications.length} draft applications`);
  return accepted.data.applications;
}
