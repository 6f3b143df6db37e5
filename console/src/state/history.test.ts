// A ticket's history in words: each kind read from its data, personal and malformed events
// left out, and live events merged once, in the log's order.
import { describe, expect, it } from "vitest";
import type { TicketEvent } from "../api/client";
import { entry, latestChanges, mergeEntries } from "./history";

function event(id: number, kind: TicketEvent["kind"], data: object, changes: Partial<TicketEvent> = {}): TicketEvent {
  return { id, ticket_id: "t", kind, actor_id: "ana", internal: false, data: data as TicketEvent["data"], created_at: "2026-01-01T00:00:00Z", ...changes };
}

describe("entry", () => {
  it("reads each kind's change", () => {
    expect(entry(event(1, "created", { number: 1 }))?.happening).toEqual({ kind: "created" });
    expect(entry(event(2, "status_changed", { from: "open", to: "pending" }))?.happening).toEqual({ kind: "status", from: "open", to: "pending", automatic: false });
    expect(entry(event(3, "status_changed", { from: "resolved", to: "closed", automatic: true }, { actor_id: null }))).toMatchObject({ actor: null, happening: { automatic: true } });
    expect(entry(event(4, "priority_changed", { from: "low", to: "urgent" }))?.happening).toEqual({ kind: "priority", from: "low", to: "urgent" });
    expect(entry(event(5, "assignee_changed", { from: null, to: "leo" }))?.happening).toEqual({ kind: "assignee", to: "leo" });
    expect(entry(event(6, "assignee_changed", { from: "leo", to: null }))?.happening).toEqual({ kind: "assignee", to: null });
    expect(entry(event(7, "category_changed", { from: null, to: "c1" }))?.happening).toEqual({ kind: "category", to: "c1" });
    expect(entry(event(8, "tags_changed", { from: [], to: ["vip", "refund"] }))?.happening).toEqual({ kind: "tags", to: ["vip", "refund"] });
    expect(entry(event(9, "subject_changed", { from: "a", to: "b" }))?.happening).toEqual({ kind: "subject", to: "b" });
    expect(entry(event(10, "message_created", { message_id: "m" }, { internal: true }))?.happening).toEqual({ kind: "message", internal: true });
    expect(entry(event(11, "attachment_added", { message_id: "m", attachment_id: "a", filename: "receipt.pdf" }))?.happening).toEqual({ kind: "attachment", filename: "receipt.pdf" });
  });

  it("leaves out notifications, the deletion and data its kind does not write", () => {
    expect(entry(event(1, "notification_created", {}, { recipient_id: "ana" }))).toBeNull();
    expect(entry(event(2, "deleted", {}))).toBeNull();
    expect(entry(event(3, "status_changed", { to: "pending" }))).toBeNull();
    expect(entry(event(4, "priority_changed", { from: "low", to: "extreme" }))).toBeNull();
    expect(entry(event(5, "tags_changed", { to: "vip" }))).toBeNull();
  });
});

describe("mergeEntries", () => {
  it("adds each event once, in id order, and skips what it does not show", () => {
    const first = mergeEntries([], [event(1, "created", {}), event(3, "message_created", {})]);
    const merged = mergeEntries(first, [event(2, "priority_changed", { from: "low", to: "high" }), event(3, "message_created", {}), event(4, "deleted", {})]);
    expect(merged.map((item) => item.id)).toEqual([1, 2, 3]);
    expect(mergeEntries(merged, [event(3, "message_created", {})])).toBe(merged);
  });
});

describe("latestChanges", () => {
  it("keeps the latest change of each field asked for, in the log's order", () => {
    const entries = mergeEntries([], [
      event(1, "priority_changed", { from: "low", to: "high" }),
      event(2, "status_changed", { from: "open", to: "pending" }),
      event(3, "priority_changed", { from: "high", to: "urgent" }, { actor_id: "leo" }),
      event(4, "message_created", {}),
    ]);
    expect(latestChanges(entries, ["priority"]).map((item) => [item.id, item.actor])).toEqual([[3, "leo"]]);
    expect(latestChanges(entries, ["status", "priority"]).map((item) => item.id)).toEqual([2, 3]);
    expect(latestChanges(entries, ["tags"])).toEqual([]);
  });
});
