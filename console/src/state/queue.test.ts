// How live changes merge into a loaded list: in place, held while the agent works the list,
// never past the loaded page, and removed when a ticket leaves the view.
import { describe, expect, it } from "vitest";
import type { Ticket } from "../api/client";
import { ticket as fixture } from "./fixtures";
import { append, belongs, DEFAULT_FILTERS, merge, release, viewCount, viewQuery, type QueueList } from "./queue";

// Each ticket a newer version than the one before, as the server's answers are.
let serial = 0;
function ticket(number: number, updated: string, changes: Partial<Ticket> = {}): Ticket {
  serial += 1;
  return fixture(number, updated, { version: serial, ...changes });
}

const byUpdate = { sort: "updated_at", order: "desc" } as const;
const numbers = (list: QueueList): number[] => list.items.map((item) => item.number);

function list(items: Ticket[], nextCursor: string | null = null): QueueList {
  return { items, nextCursor, held: [] };
}

describe("merge", () => {
  const first = ticket(1, "2026-01-01T10:00:00Z");
  const second = ticket(2, "2026-01-01T09:00:00Z");
  const third = ticket(3, "2026-01-01T08:00:00Z");

  it("inserts a new ticket at its place when the agent is not working the list", () => {
    const fresh = ticket(4, "2026-01-01T09:30:00Z");
    expect(numbers(merge(list([first, second, third]), fresh, true, { ...byUpdate, hold: false }))).toEqual([1, 4, 2, 3]);
  });

  it("holds a new ticket while the agent works the list, and shows it on release", () => {
    const fresh = ticket(4, "2026-01-01T11:00:00Z");
    const held = merge(list([first, second]), fresh, true, { ...byUpdate, hold: true });
    expect(numbers(held)).toEqual([1, 2]);
    expect(held.held).toHaveLength(1);
    const shown = release(held, byUpdate);
    expect(numbers(shown)).toEqual([4, 1, 2]);
    expect(shown.held).toHaveLength(0);
  });

  it("updates a row in place when its position does not change, even while holding", () => {
    const renamed = { ...second, subject: "Renamed" };
    const merged = merge(list([first, second, third]), renamed, true, { ...byUpdate, hold: true });
    expect(numbers(merged)).toEqual([1, 2, 3]);
    expect(merged.items[1]?.subject).toBe("Renamed");
    expect(merged.held).toHaveLength(0);
  });

  it("updates the row in place but holds the move while the agent works the list", () => {
    const bumped = { ...third, updated_at: "2026-01-01T12:00:00Z", subject: "Bumped" };
    const held = merge(list([first, second, third]), bumped, true, { ...byUpdate, hold: true });
    expect(numbers(held)).toEqual([1, 2, 3]);
    expect(held.items[2]?.subject).toBe("Bumped");
    expect(numbers(release(held, byUpdate))).toEqual([3, 1, 2]);
  });

  it("removes a ticket that left the view, or holds the removal", () => {
    const closed = { ...second, status: "closed" as const };
    expect(numbers(merge(list([first, second, third]), closed, false, { ...byUpdate, hold: false }))).toEqual([1, 3]);
    const held = merge(list([first, second, third]), closed, false, { ...byUpdate, hold: true });
    expect(numbers(held)).toEqual([1, 2, 3]);
    expect(numbers(release(held, byUpdate))).toEqual([1, 3]);
  });

  it("never adds a ticket past the loaded page, which 'load more' will bring", () => {
    const old = ticket(5, "2026-01-01T01:00:00Z");
    expect(numbers(merge(list([first, second], "next"), old, true, { ...byUpdate, hold: false }))).toEqual([1, 2]);
    expect(numbers(merge(list([first, second], null), old, true, { ...byUpdate, hold: false }))).toEqual([1, 2, 5]);
  });

  it("adds nothing when it cannot tell whether the ticket matches a search", () => {
    const fresh = ticket(6, "2026-01-01T12:00:00Z");
    expect(numbers(merge(list([first]), fresh, null, { ...byUpdate, hold: false }))).toEqual([1]);
  });

  it("keeps one held entry per ticket, the latest", () => {
    const fresh = ticket(7, "2026-01-01T12:00:00Z");
    const once = merge(list([first]), fresh, true, { ...byUpdate, hold: true });
    const twice = merge(once, { ...fresh, subject: "Later" }, true, { ...byUpdate, hold: true });
    expect(twice.held.map((entry) => entry.ticket.subject)).toEqual(["Later"]);
  });

  it("does not show a ticket twice when the next page brings one already added live", () => {
    const fresh = ticket(8, "2026-01-01T09:30:00Z");
    const merged = merge(list([first, second], "next"), fresh, true, { ...byUpdate, hold: false });
    expect(numbers(append(merged, [fresh, third], null))).toEqual([1, 8, 2, 3]);
  });
});

describe("views", () => {
  it("asks the server for the view's statuses and assignee, with the filters", () => {
    expect(viewQuery("mine", { ...DEFAULT_FILTERS, priority: "urgent", category: "billing-id", q: " late " }, "c1")).toEqual({
      sort: "created_at",
      order: "desc",
      limit: 50,
      status: ["open", "pending", "in_progress"],
      assignee_id: "me",
      priority: "urgent",
      category_id: "billing-id",
      q: "late",
      cursor: "c1",
    });
    expect(viewQuery("all", DEFAULT_FILTERS)).toEqual({ sort: "created_at", order: "desc", limit: 50 });
  });

  it("tells whether a ticket belongs to a view", () => {
    const mine = ticket(9, "2026-01-01T00:00:00Z", { assignee_id: "me-id", tags: ["billing"] });
    expect(belongs("mine", DEFAULT_FILTERS, mine, "me-id")).toBe(true);
    expect(belongs("unassigned", DEFAULT_FILTERS, mine, "me-id")).toBe(false);
    expect(belongs("done", DEFAULT_FILTERS, mine, "me-id")).toBe(false);
    expect(belongs("all", { ...DEFAULT_FILTERS, tag: "Billing" }, mine, "me-id")).toBe(true);
    expect(belongs("all", { ...DEFAULT_FILTERS, priority: "low" }, mine, "me-id")).toBe(false);
    expect(belongs("all", { ...DEFAULT_FILTERS, category: "billing-id" }, mine, "me-id")).toBe(false);
    expect(belongs("all", { ...DEFAULT_FILTERS, category: "billing-id" }, { ...mine, category_id: "billing-id" }, "me-id")).toBe(true);
    expect(belongs("all", { ...DEFAULT_FILTERS, q: "refund" }, mine, "me-id")).toBeNull();
  });

  it("counts each view from the stats", () => {
    const stats = { by_status: { open: 3, pending: 2, in_progress: 1, resolved: 4, closed: 5 }, by_priority: {}, unassigned: 2, assigned_to_me: 1, created_per_day: [], sla: [] };
    expect(viewCount("mine", stats)).toBe(1);
    expect(viewCount("unassigned", stats)).toBe(2);
    expect(viewCount("open", stats)).toBe(6);
    expect(viewCount("pending", stats)).toBe(2);
    expect(viewCount("done", stats)).toBe(9);
    expect(viewCount("all", stats)).toBe(15);
  });
});
