// The console's paths: the admin's mail pages, and the pages of a forgotten password, which
// round-trip through parse and href like every other screen.
import { describe, expect, it, vi } from "vitest";

// The router reads the address bar once when it loads; these tests start from the root.
vi.stubGlobal("window", { location: { pathname: "/" }, addEventListener: () => undefined });
const { href, parse } = await import("./router");

describe("the email channel's paths", () => {
  it("opens the mailboxes and the email templates as admin pages", () => {
    for (const page of ["mailboxes", "email-templates"] as const) {
      expect(parse(`/admin/${page}`)).toEqual({ view: "mine", ticketId: null, page });
      expect(href({ view: "open", ticketId: null, page })).toBe(`/admin/${page}`);
    }
  });

  it("opens the pages of a forgotten password, and back", () => {
    for (const account of ["forgot-password", "reset-password"] as const) {
      const route = parse(`/${account}`);
      expect(route).toEqual({ view: "mine", ticketId: null, account });
      expect(href(route)).toBe(`/${account}`);
    }
  });

  it("takes a longer path under them for the queue", () => {
    expect(parse("/reset-password/more")).toEqual({ view: "mine", ticketId: null });
    expect(parse("/admin/forgot-password")).toEqual({ view: "mine", ticketId: null });
  });
});
