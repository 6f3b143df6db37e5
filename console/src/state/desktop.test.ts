// Desktop notifications: shown only when the agent opted in, the browser allows them and the tab
// is hidden; the choice is kept on the device.
import { describe, expect, it } from "vitest";
import { choose, DESKTOP_KEY, optedIn, shouldNotify } from "./desktop";

function memory(): Storage {
  const values = new Map<string, string>();
  return {
    get length() {
      return values.size;
    },
    clear: () => values.clear(),
    getItem: (key) => values.get(key) ?? null,
    key: (index) => [...values.keys()][index] ?? null,
    removeItem: (key) => void values.delete(key),
    setItem: (key, value) => void values.set(key, value),
  };
}

describe("shouldNotify", () => {
  it("notifies an agent who opted in, in a hidden tab, when the browser allows it", () => {
    expect(shouldNotify(true, "granted", true)).toBe(true);
  });

  it("stays silent otherwise", () => {
    expect(shouldNotify(false, "granted", true)).toBe(false);
    expect(shouldNotify(true, "granted", false)).toBe(false);
    expect(shouldNotify(true, "denied", true)).toBe(false);
    expect(shouldNotify(true, "default", true)).toBe(false);
    expect(shouldNotify(true, "unsupported", true)).toBe(false);
  });
});

describe("the choice", () => {
  it("is off until chosen, and turning it off forgets it", async () => {
    const storage = memory();
    expect(optedIn(storage)).toBe(false);
    storage.setItem(DESKTOP_KEY, "on");
    expect(optedIn(storage)).toBe(true);
    // Without the Notification API (as here, in Node) it cannot be turned on, and off is off.
    expect(await choose(storage, true)).toBe(false);
    expect(optedIn(storage)).toBe(false);
    storage.setItem(DESKTOP_KEY, "on");
    expect(await choose(storage, false)).toBe(false);
    expect(optedIn(storage)).toBe(false);
  });
});
