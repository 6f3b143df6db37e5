// Saved views: the current view and filters saved as one filter, a saved filter asked of the
// server as the ticket list's query, and live changes matched against it.
import { describe, expect, it } from "vitest";
import type { Ticket } from "../api/client";
import { DEFAULT_FILTERS, filterQuery, matches, viewFilter } from "./queue";

const ticket = {
  id: "00000000-0000-7000-8000-000000000001",
  number: 1,
  subject: "Refund",
  status: "open",
  priority: "urgent",
  requester: { id: "0193aaaa-0000-7000-8000-000000000009", name: "Vera", email: "vera@example.com" },
  tags: ["billing"],
  source: "api",
  version: 1,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  assignee_id: "0193bbbb-0000-7000-8000-000000000002",
  category_id: "cat-1",
} as Ticket;

describe("saved views", () => {
  it("save a built-in view with the agent's filters", () => {
    expect(viewFilter("unassigned", { ...DEFAULT_FILTERS, priority: "urgent", tag: " Billing ", q: " ", sort: "priority", order: "asc" })).toEqual({
      status: ["open", "pending", "in_progress"],
      assignee_id: "none",
      priority: "urgent",
      tag: "Billing",
      sort: "priority",
      order: "asc",
    });
    expect(viewFilter("all", { ...DEFAULT_FILTERS, sort: "number", order: "asc" })).toEqual({ sort: "number", order: "asc" });
  });

  it("ask the server for a saved filter, newest first by creation when it names no order", () => {
    expect(filterQuery({ status: ["pending"], requester_id: "r1", assignee_id: "u1", tag: "vip", q: "late" }, "c2")).toEqual({
      sort: "created_at",
      order: "desc",
      limit: 50,
      status: ["pending"],
      requester_id: "r1",
      assignee_id: "u1",
      tag: "vip",
      q: "late",
      cursor: "c2",
    });
    expect(filterQuery({ status: [] })).toEqual({ sort: "created_at", order: "desc", limit: 50 });
  });

  it("match live changes by every field the console can read", () => {
    const me = "me-id";
    expect(matches({}, ticket, me)).toBe(true);
    expect(matches({ status: ["open"], priority: "urgent", tag: "BILLING", category_id: "cat-1" }, ticket, me)).toBe(true);
    expect(matches({ status: ["pending"] }, ticket, me)).toBe(false);
    expect(matches({ assignee_id: "0193BBBB000070008000000000000002" }, ticket, me)).toBe(true);
    expect(matches({ assignee_id: "0193cccc-0000-7000-8000-000000000003" }, ticket, me)).toBe(false);
    expect(matches({ assignee_id: "none" }, ticket, me)).toBe(false);
    expect(matches({ assignee_id: "me" }, { ...ticket, assignee_id: me }, me)).toBe(true);
    expect(matches({ requester_id: "0193aaaa-0000-7000-8000-000000000009" }, ticket, me)).toBe(true);
    expect(matches({ requester_id: "someone-else" }, ticket, me)).toBe(false);
    expect(matches({ q: "refund" }, ticket, me)).toBeNull();
    expect(matches({ q: "refund", priority: "low" }, ticket, me)).toBe(false);
  });
});
