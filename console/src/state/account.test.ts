// A forgotten password's refusals: the link's (400), the password's (422, with the server's
// reasons), too many tries (429); and the token read from the link.
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { resetRefusal, tokenOf } from "./account";

const problem = (status: number, errors?: { field: string; message: string }[]) => new ApiError(status, { type: "about:blank", title: "", status, detail: "the link is invalid or has expired", errors });

describe("resetRefusal", () => {
  it("blames the link for a 400", () => {
    expect(resetRefusal(problem(400))).toEqual({ kind: "link" });
  });

  it("gives the password's reasons for a 422", () => {
    expect(resetRefusal(problem(422, [{ field: "password", message: "must be at least 8 characters" }]))).toEqual({ kind: "password", reason: "must be at least 8 characters" });
  });

  it("asks to wait on a 429 and passes anything else on", () => {
    expect(resetRefusal(problem(429))).toEqual({ kind: "busy" });
    expect(resetRefusal(new ApiError(503, null))).toEqual({ kind: "other", reason: "HTTP 503" });
    expect(resetRefusal(new TypeError("Failed to fetch"))).toEqual({ kind: "other", reason: "Failed to fetch" });
  });
});

describe("tokenOf", () => {
  it("reads the token of a reset link, and none from a link without one", () => {
    expect(tokenOf("?token=abc_DEF-123")).toBe("abc_DEF-123");
    expect(tokenOf("?token=")).toBeNull();
    expect(tokenOf("")).toBeNull();
  });
});
