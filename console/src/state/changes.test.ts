// A stale version is a conflict only when someone changed what the agent changes.
import { describe, expect, it } from "vitest";
import type { Ticket } from "../api/client";
import { fieldsOf, untouched } from "./changes";

const seen: Ticket = {
  id: "t",
  number: 1,
  subject: "Printer",
  status: "open",
  priority: "medium",
  requester: { id: "r", name: "Ana", email: "ana@example.com" },
  tags: ["a"],
  source: "api",
  version: 3,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  assignee_id: null,
};

describe("untouched", () => {
  it("is no conflict when only the version moved (a message) or another field changed", () => {
    expect(untouched({ status: "pending" }, seen, { ...seen, version: 5 })).toBe(true);
    expect(untouched({ status: "pending" }, seen, { ...seen, version: 5, priority: "high" })).toBe(true);
    expect(untouched("take", seen, { ...seen, version: 5, status: "pending" })).toBe(true);
    expect(untouched({ assign: null }, seen, { ...seen, version: 5, status: "pending" })).toBe(true);
  });

  it("is a conflict when someone changed the same field", () => {
    expect(untouched({ status: "pending" }, seen, { ...seen, version: 5, status: "resolved" })).toBe(false);
    expect(untouched({ tags: ["b"] }, seen, { ...seen, version: 5, tags: ["a", "c"] })).toBe(false);
    expect(untouched("take", seen, { ...seen, version: 5, assignee_id: "leo" })).toBe(false);
    expect(untouched({ assign: "ana" }, seen, { ...seen, version: 5, assignee_id: "leo" })).toBe(false);
  });
});

describe("fieldsOf", () => {
  it("names the fields a change sets as the history does", () => {
    expect(fieldsOf({ status: "pending", category_id: null })).toEqual(["status", "category"]);
    expect(fieldsOf("take")).toEqual(["assignee"]);
    expect(fieldsOf({ assign: null })).toEqual(["assignee"]);
  });
});
