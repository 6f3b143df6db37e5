// The keyboard map: single keys outside text fields only, no Alt or browser chords, Ctrl/Cmd+K
// everywhere, `g` sequences, and the off switch.
import { describe, expect, it } from "vitest";
import { ShortcutReader, SHORTCUTS, type KeyInput } from "./shortcuts";

function key(value: string, extra: Partial<KeyInput> = {}): KeyInput {
  return { key: value, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, inTextField: false, ...extra };
}

describe("shortcuts", () => {
  it("maps the agent's keys", () => {
    const reader = new ShortcutReader();
    const pressed = ["j", "k", "Enter", "r", "n", "a", "s", "e", "/", "?", "."].map((value) => reader.read(key(value)));
    expect(pressed).toEqual(["next", "previous", "open", "reply", "note", "assignToMe", "status", "resolve", "search", "help", "release"]);
    expect(reader.read(key("A", { shiftKey: true }))).toBe("assignee");
  });

  it("opens the palette with Ctrl+K or Cmd+K, even in a text field", () => {
    const reader = new ShortcutReader();
    expect(reader.read(key("k", { ctrlKey: true, inTextField: true }))).toBe("palette");
    expect(reader.read(key("k", { metaKey: true }))).toBe("palette");
    expect(reader.read(key("K", { ctrlKey: true }))).toBe("palette");
  });

  it("leaves single keys to text fields, Alt (AltGr) and browser chords", () => {
    const reader = new ShortcutReader();
    expect(reader.read(key("j", { inTextField: true }))).toBeNull();
    expect(reader.read(key("e", { altKey: true }))).toBeNull();
    expect(reader.read(key("k", { ctrlKey: true, altKey: true }))).toBeNull();
    expect(reader.read(key("n", { ctrlKey: true }))).toBeNull();
    expect(reader.read(key("t", { metaKey: true }))).toBeNull();
  });

  it("reads Escape everywhere, as back", () => {
    expect(new ShortcutReader().read(key("Escape", { inTextField: true }))).toBe("back");
  });

  it("reads g sequences, and forgets a g followed by anything else", () => {
    const reader = new ShortcutReader();
    expect(reader.read(key("g"))).toBeNull();
    expect(reader.read(key("m"))).toBe("goMine");
    expect(reader.read(key("g"))).toBeNull();
    expect(reader.read(key("u"))).toBe("goUnassigned");
    expect(reader.read(key("g"))).toBeNull();
    expect(reader.read(key("x"))).toBeNull();
    expect(reader.read(key("j"))).toBe("next");
  });

  it("turns single keys off with one switch, keeping the palette", () => {
    const reader = new ShortcutReader(false);
    expect(reader.read(key("j"))).toBeNull();
    expect(reader.read(key("k", { ctrlKey: true }))).toBe("palette");
  });

  it("names a key for every action", () => {
    expect(Object.values(SHORTCUTS).every((shortcut) => shortcut.length > 0)).toBe(true);
  });
});
