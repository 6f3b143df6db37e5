// Drafts survive per ticket and mode, keep their id (the send's Idempotency-Key) across edits,
// and are deleted only when the server confirmed that very draft.
import { describe, expect, it } from "vitest";
import { Drafts, type DraftStorage } from "./drafts";

function memory(): DraftStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
    key: (index) => [...data.keys()][index] ?? null,
    get length() {
      return data.size;
    },
  };
}

function store(storage = memory()): Drafts {
  let next = 0;
  return new Drafts(storage, () => `draft-${++next}`, () => 1000);
}

describe("drafts", () => {
  it("keeps a draft per ticket and mode, with one id across edits", () => {
    const drafts = store();
    drafts.save("t1", "reply", "Hello");
    drafts.save("t1", "reply", "Hello there");
    drafts.save("t1", "note", "Check the order");
    expect(drafts.get("t1", "reply")).toEqual({ id: "draft-1", text: "Hello there", updatedAt: 1000 });
    expect(drafts.get("t1", "note")?.text).toBe("Check the order");
    expect(drafts.get("t2", "reply")).toBeNull();
  });

  it("survives a reload: a new store over the same storage finds it", () => {
    const storage = memory();
    store(storage).save("t1", "reply", "Half written");
    expect(store(storage).get("t1", "reply")?.text).toBe("Half written");
  });

  it("deletes an emptied draft", () => {
    const drafts = store();
    drafts.save("t1", "reply", "x");
    expect(drafts.save("t1", "reply", "   ")).toBeNull();
    expect(drafts.get("t1", "reply")).toBeNull();
  });

  it("deletes a sent draft only if it is the one the server confirmed", () => {
    const drafts = store();
    const sent = drafts.ensure("t1", "reply", "First");
    drafts.sent("t1", "reply", "another-id");
    expect(drafts.get("t1", "reply")?.id).toBe(sent.id);
    drafts.sent("t1", "reply", sent.id);
    expect(drafts.get("t1", "reply")).toBeNull();
  });

  it("lists the tickets with drafts and clears them all, touching nothing else", () => {
    const storage = memory();
    storage.setItem("growdesk.theme", "dark");
    const drafts = store(storage);
    drafts.save("t1", "reply", "a");
    drafts.save("t1", "note", "b");
    drafts.save("t2", "note", "c");
    expect(drafts.tickets().sort()).toEqual(["t1", "t2"]);
    drafts.clear();
    expect(drafts.tickets()).toEqual([]);
    expect(storage.getItem("growdesk.theme")).toBe("dark");
  });

  it("ignores a damaged entry", () => {
    const storage = memory();
    storage.setItem("growdesk.draft.t1.reply", "{not json");
    expect(store(storage).get("t1", "reply")).toBeNull();
  });
});
