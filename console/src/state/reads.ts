// Read marks in the loaded queue: a row is bold with a dot while its ticket is unread for the
// agent (someone else wrote in public since the agent last opened it, as the server says).
// Pure functions over the list, unit-tested without a browser.
import type { Ticket } from "../api/client";
import type { QueueList } from "./queue";

function shown(list: QueueList, id: string): Ticket | undefined {
  return list.items.find((item) => item.id === id) ?? list.held.find((entry) => entry.ticket.id === id)?.ticket;
}

/**
 * A ticket's fresh state, keeping the row's unread flag when the answer has none: the answer to
 * a change (PATCH, assign) carries no `unread`, and a change says nothing about what was read.
 */
export function keepUnread(list: QueueList, ticket: Ticket): Ticket {
  if (ticket.unread !== undefined) return ticket;
  const unread = shown(list, ticket.id)?.unread;
  return unread === undefined ? ticket : { ...ticket, unread };
}

/** The list with ticket `id` read, wherever it is shown (a row or a held change). */
export function markedRead(list: QueueList, id: string): QueueList {
  const read = (ticket: Ticket): Ticket => (ticket.id === id && ticket.unread ? { ...ticket, unread: false } : ticket);
  return {
    ...list,
    items: list.items.map(read),
    held: list.held.map((entry) => ({ ...entry, ticket: read(entry.ticket) })),
  };
}
