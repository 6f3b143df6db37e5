// Read marks in the loaded queue: a change's answer keeps the row's unread flag, opening a
// ticket clears it on its row and on a held change.
import { describe, expect, it } from "vitest";
import type { Ticket } from "../api/client";
import { ticket as fixture } from "./fixtures";
import type { QueueList } from "./queue";
import { keepUnread, markedRead } from "./reads";

const ticket = (number: number, changes: Partial<Ticket> = {}): Ticket => fixture(number, undefined, changes);

describe("keepUnread", () => {
  const list: QueueList = { items: [ticket(1, { unread: true }), ticket(2, { unread: false })], nextCursor: null, held: [{ ticket: ticket(3, { unread: true }), belongs: true }] };

  it("keeps the row's flag when a change's answer has none", () => {
    expect(keepUnread(list, ticket(1, { version: 2 })).unread).toBe(true);
    expect(keepUnread(list, ticket(2, { version: 2 })).unread).toBe(false);
    expect(keepUnread(list, ticket(3, { version: 2 })).unread).toBe(true);
  });

  it("takes the server's flag when the answer has one", () => {
    expect(keepUnread(list, ticket(1, { unread: false })).unread).toBe(false);
    expect(keepUnread(list, ticket(2, { unread: true })).unread).toBe(true);
  });

  it("leaves a ticket that is not shown as it came", () => {
    expect(keepUnread(list, ticket(4)).unread).toBeUndefined();
  });
});

describe("markedRead", () => {
  it("clears the flag on the ticket's row and held change only", () => {
    const list: QueueList = {
      items: [ticket(1, { unread: true }), ticket(2, { unread: true })],
      nextCursor: "next",
      held: [{ ticket: ticket(1, { unread: true, version: 2 }), belongs: true }],
    };
    const read = markedRead(list, ticket(1).id);
    expect(read.items.map((item) => item.unread)).toEqual([false, true]);
    expect(read.held[0]?.ticket.unread).toBe(false);
    expect(read.nextCursor).toBe("next");
  });
});
