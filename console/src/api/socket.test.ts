// The reconnect delay: doubling from 1 s, capped at 30 s, jittered, and never giving up.
import { describe, expect, it } from "vitest";
import { backoff } from "./socket";

describe("backoff", () => {
  it("doubles from about a second and stays under 30 s forever", () => {
    expect(backoff(0, () => 0)).toBe(500);
    expect(backoff(0, () => 1)).toBe(1000);
    expect(backoff(3, () => 1)).toBe(8000);
    expect(backoff(10, () => 1)).toBe(30_000);
    expect(backoff(10_000, () => 0.5)).toBe(22_500);
  });
});
