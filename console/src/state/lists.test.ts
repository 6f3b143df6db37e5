// The lists kept for views the agent left: found again by their filter, kept current by live
// changes under each one's own filter, and the least recently shown forgotten beyond capacity.
import { describe, expect, it } from "vitest";
import type { ViewFilter } from "../api/client";
import { ticket } from "./fixtures";
import { KeptLists, listKey } from "./lists";
import type { QueueList } from "./queue";

const OPEN: ViewFilter = { status: ["open", "pending", "in_progress"], sort: "updated_at", order: "desc" };
const DONE: ViewFilter = { status: ["resolved", "closed"], sort: "updated_at", order: "desc" };
const numbers = (list: QueueList | null): number[] | undefined => list?.items.map((item) => item.number);

describe("KeptLists", () => {
  const first = ticket(1, "2026-01-01T10:00:00Z");
  const second = ticket(2, "2026-01-01T09:00:00Z");

  it("finds a list by its filter, whatever object carries it", () => {
    const kept = new KeptLists(4);
    kept.keep(OPEN, { items: [first, second], nextCursor: "next", held: [] });
    expect(numbers(kept.get({ ...OPEN }))).toEqual([1, 2]);
    expect(kept.get({ ...OPEN })?.nextCursor).toBe("next");
    expect(kept.get(DONE)).toBeNull();
    expect(listKey(OPEN)).not.toBe(listKey(DONE));
  });

  it("applies the changes a list held when the agent left it", () => {
    const kept = new KeptLists(4);
    const arrived = ticket(3, "2026-01-01T11:00:00Z");
    kept.keep(OPEN, { items: [first, second], nextCursor: null, held: [{ ticket: arrived, belongs: true }] });
    const list = kept.get(OPEN);
    expect(numbers(list)).toEqual([3, 1, 2]);
    expect(list?.held).toEqual([]);
  });

  it("merges a live change into each list by that list's filter", () => {
    const kept = new KeptLists(4);
    kept.keep(OPEN, { items: [first, second], nextCursor: null, held: [] });
    kept.keep(DONE, { items: [], nextCursor: null, held: [] });
    kept.merge({ ...second, status: "resolved", updated_at: "2026-01-01T12:00:00Z" }, "me");
    expect(numbers(kept.get(OPEN))).toEqual([1]);
    expect(numbers(kept.get(DONE))).toEqual([2]);
    kept.drop(second.id);
    expect(numbers(kept.get(DONE))).toEqual([]);
  });

  it("forgets the least recently shown list beyond its capacity", () => {
    const kept = new KeptLists(2);
    const mine: ViewFilter = { ...OPEN, assignee_id: "me" };
    kept.keep(OPEN, { items: [first], nextCursor: null, held: [] });
    kept.keep(DONE, { items: [], nextCursor: null, held: [] });
    expect(kept.get(OPEN)).not.toBeNull();
    kept.keep(mine, { items: [], nextCursor: null, held: [] });
    expect(kept.get(DONE)).toBeNull();
    expect(kept.get(OPEN)).not.toBeNull();
    expect(kept.get(mine)).not.toBeNull();
    kept.clear();
    expect(kept.get(OPEN)).toBeNull();
  });
});
