// The composer's completions: where `/` and `@` start one, what choosing replaces, how canned
// replies' placeholders are filled, and how a colleague is written so the server hears a mention.
import { describe, expect, it } from "vitest";
import { complete, completionAt, fillPlaceholders, matchColleagues, mentionOf, type Colleague } from "./completion";

describe("completionAt", () => {
  it("finds `/` at the start of a line only", () => {
    expect(completionAt("/ref", 4, false)).toEqual({ kind: "reply", start: 0, query: "ref" });
    expect(completionAt("Hello\n/refund on", 16, false)).toEqual({ kind: "reply", start: 6, query: "refund on" });
    expect(completionAt("Hello\n/", 7, false)).toEqual({ kind: "reply", start: 6, query: "" });
    expect(completionAt("and/or", 6, false)).toBeNull();
    expect(completionAt(" /ref", 5, false)).toBeNull();
    expect(completionAt("/ref\nmore", 9, false)).toBeNull();
    expect(completionAt(`/${"x".repeat(101)}`, 102, false)).toBeNull();
  });

  it("finds `@` at the start of a word, in notes only", () => {
    expect(completionAt("ping @an", 8, true)).toEqual({ kind: "mention", start: 5, query: "an" });
    expect(completionAt("@", 1, true)).toEqual({ kind: "mention", start: 0, query: "" });
    expect(completionAt("ping @an", 8, false)).toBeNull();
    expect(completionAt("mail ana@example", 16, true)).toBeNull();
    expect(completionAt("ping @ana done", 14, true)).toBeNull();
  });
});

describe("complete", () => {
  it("replaces the trigger and the typed query, keeping what follows", () => {
    const text = "Hi\n/ref\nBye";
    const completion = completionAt(text, 7, false);
    expect(completion).not.toBeNull();
    expect(complete(text, 7, completion!, "Your refund is on its way.")).toEqual({ text: "Hi\nYour refund is on its way.\nBye", caret: 29 });
  });
});

describe("fillPlaceholders", () => {
  it("fills the three placeholders, spaces inside the braces allowed, and leaves others", () => {
    const body = "Hello {{requester.name}}, ticket #{{ ticket.number }} is done. {{unknown}} — {{agent.name}}";
    expect(fillPlaceholders(body, { requesterName: "Vera", ticketNumber: 42, agentName: "Ana" })).toBe("Hello Vera, ticket #42 is done. {{unknown}} — Ana");
  });

  it("inserts names as they are, never reading them as patterns", () => {
    expect(fillPlaceholders("{{requester.name}}", { requesterName: "$& {{agent.name}}", ticketNumber: 1, agentName: "Ana" })).toBe("$& {{agent.name}}");
  });
});

describe("colleagues", () => {
  const ana: Colleague = { id: "1", name: "Ana López", email: "ana@example.com" };
  const bo: Colleague = { id: "2", name: "Bo", email: "bo@example.com" };
  const otherBo: Colleague = { id: "3", name: "Bo Two", email: "bo@other.example" };
  const dotted: Colleague = { id: "4", name: "Dee", email: "dee.@example.com" };

  it("match by name or email, case and accents aside, leaving the agent out", () => {
    expect(matchColleagues([bo, ana], "LOPEZ", null)).toEqual([ana]);
    expect(matchColleagues([bo, ana], "", null)).toEqual([ana, bo]);
    expect(matchColleagues([bo, ana], "", "1")).toEqual([bo]);
    expect(matchColleagues([bo, ana], "example.com", null)).toEqual([ana, bo]);
  });

  it("are mentioned by their email's local part when it is theirs alone, else by the email", () => {
    expect(mentionOf(ana, [ana, bo])).toBe("@ana");
    expect(mentionOf(bo, [ana, bo, otherBo])).toBe("@bo@example.com");
    expect(mentionOf(dotted, [dotted])).toBe("@dee.@example.com");
  });
});
