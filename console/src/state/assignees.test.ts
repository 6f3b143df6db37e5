// The assignee picker's options: staff only, the agent first, type-ahead over names and emails
// without case or accents, and "nobody" always last.
import { describe, expect, it } from "vitest";
import type { User } from "../api/client";
import { assigneeOptions } from "./assignees";

function person(id: string, name: string, changes: Partial<User> = {}): User {
  return {
    id,
    name,
    email: `${id}@example.com`,
    role: "agent",
    active: true,
    notify_new_tickets: false,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    ...changes,
  };
}

const people = [
  person("zoe", "Zoë Martín"),
  person("ana", "Ana"),
  person("leo", "Léo", { role: "admin" }),
  person("old", "Olga", { active: false }),
  person("cy", "Cy", { role: "customer" }),
];

describe("assigneeOptions", () => {
  it("offers active staff, the agent first then by name, and nobody last", () => {
    const ids = assigneeOptions(people, "zoe", "", null).map((option) => option.id);
    expect(ids).toEqual(["zoe", "ana", "leo", null]);
  });

  it("narrows by name or email, ignoring case and accents", () => {
    expect(assigneeOptions(people, "ana", "LEO", null).map((option) => option.id)).toEqual(["leo", null]);
    expect(assigneeOptions(people, "ana", "martin", null).map((option) => option.id)).toEqual(["zoe", null]);
    expect(assigneeOptions(people, "ana", "ana@", null).map((option) => option.id)).toEqual(["ana", null]);
    expect(assigneeOptions(people, "ana", "olga", null).map((option) => option.id)).toEqual([null]);
  });

  it("marks the current assignee, nobody included", () => {
    expect(assigneeOptions(people, "ana", "", "leo").filter((option) => option.current).map((option) => option.id)).toEqual(["leo"]);
    expect(assigneeOptions(people, "ana", "", null).filter((option) => option.current).map((option) => option.id)).toEqual([null]);
  });

  it("lists a person once however often they come", () => {
    expect(assigneeOptions([...people, person("ana", "Ana")], "ana", "", null).filter((option) => option.id === "ana")).toHaveLength(1);
  });
});
