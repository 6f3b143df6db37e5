// The queue's views and how live changes merge into a loaded list. Pure functions over plain
// data, so that the rules (rows update in place; inserts, moves and removals wait while the agent
// is working the list; nothing enters beyond the loaded page) are unit-tested without a browser.
import type { Priority, Stats, Ticket, TicketQuery, TicketStatus, ViewFilter } from "../api/client";

export const VIEWS = ["mine", "unassigned", "open", "pending", "done", "all"] as const;
export type ViewId = (typeof VIEWS)[number];

export function isView(value: string): value is ViewId {
  return (VIEWS as readonly string[]).includes(value);
}

const OPEN_WORK: TicketStatus[] = ["open", "pending", "in_progress"];
const DONE: TicketStatus[] = ["resolved", "closed"];

export type SortKey = NonNullable<TicketQuery["sort"]>;
export type SortOrder = NonNullable<TicketQuery["order"]>;

export interface Filters {
  priority: Priority | "";
  /** A category's id, or "" for any. */
  category: string;
  tag: string;
  q: string;
  sort: SortKey;
  order: SortOrder;
}

// Newest first by default: every view's index is ordered by creation, so at a million tickets a
// page takes milliseconds, where ordering by the last change sorts a whole view (BENCHMARKS.md,
// "Console").
export const DEFAULT_FILTERS: Filters = { priority: "", category: "", tag: "", q: "", sort: "created_at", order: "desc" };

interface ViewRule {
  statuses: TicketStatus[] | null;
  assignee: "me" | "none" | null;
}

const RULES: Record<ViewId, ViewRule> = {
  mine: { statuses: OPEN_WORK, assignee: "me" },
  unassigned: { statuses: OPEN_WORK, assignee: "none" },
  open: { statuses: OPEN_WORK, assignee: null },
  pending: { statuses: ["pending"], assignee: null },
  done: { statuses: DONE, assignee: null },
  all: { statuses: null, assignee: null },
};

/** A built-in view with the agent's filters, as a saved view keeps it. */
export function viewFilter(view: ViewId, filters: Filters): ViewFilter {
  const rule = RULES[view];
  const filter: ViewFilter = { sort: filters.sort, order: filters.order };
  if (rule.statuses) filter.status = rule.statuses;
  if (rule.assignee) filter.assignee_id = rule.assignee;
  if (filters.priority) filter.priority = filters.priority;
  if (filters.category) filter.category_id = filters.category;
  if (filters.tag.trim()) filter.tag = filters.tag.trim();
  if (filters.q.trim()) filter.q = filters.q.trim();
  return filter;
}

/** The list request of a filter (a saved view's, or a built-in view's with the agent's filters). */
export function filterQuery(filter: ViewFilter, cursor?: string): TicketQuery {
  const query: TicketQuery = { sort: filter.sort ?? "created_at", order: filter.order ?? "desc", limit: 50 };
  if (filter.status && filter.status.length > 0) query.status = filter.status;
  if (filter.assignee_id) query.assignee_id = filter.assignee_id;
  if (filter.priority) query.priority = filter.priority;
  if (filter.category_id) query.category_id = filter.category_id;
  if (filter.requester_id) query.requester_id = filter.requester_id;
  if (filter.tag) query.tag = filter.tag;
  if (filter.q) query.q = filter.q;
  if (cursor) query.cursor = cursor;
  return query;
}

/** The list request of a view with the agent's filters. */
export function viewQuery(view: ViewId, filters: Filters, cursor?: string): TicketQuery {
  return filterQuery(viewFilter(view, filters), cursor);
}

function sameId(a: string, b: string): boolean {
  const plain = (id: string): string => id.replace(/-/g, "").toLowerCase();
  return plain(a) === plain(b);
}

/**
 * Whether a ticket matches a filter: `null` when the console cannot tell (a full-text search,
 * which only the server evaluates), so that a live change may update a shown row but never adds
 * one.
 */
export function matches(filter: ViewFilter, ticket: Ticket, me: string): boolean | null {
  if (filter.status && filter.status.length > 0 && !filter.status.includes(ticket.status)) return false;
  const assignee = filter.assignee_id;
  if (assignee === "me" && ticket.assignee_id !== me) return false;
  if (assignee === "none" && ticket.assignee_id) return false;
  if (assignee && assignee !== "me" && assignee !== "none" && !(ticket.assignee_id && sameId(ticket.assignee_id, assignee))) return false;
  if (filter.priority && ticket.priority !== filter.priority) return false;
  if (filter.category_id && ticket.category_id !== filter.category_id) return false;
  if (filter.requester_id && !sameId(ticket.requester.id, filter.requester_id)) return false;
  const tag = filter.tag?.trim().toLowerCase();
  if (tag && !ticket.tags.includes(tag)) return false;
  return filter.q?.trim() ? null : true;
}

/** Whether a ticket belongs in a built-in view with the agent's filters (see `matches`). */
export function belongs(view: ViewId, filters: Filters, ticket: Ticket, me: string): boolean | null {
  return matches(viewFilter(view, filters), ticket, me);
}

/** A view's count from the stats endpoint. */
export function viewCount(view: ViewId, stats: Stats): number {
  const of = (statuses: TicketStatus[]): number => statuses.reduce((sum, status) => sum + (stats.by_status[status] ?? 0), 0);
  switch (view) {
    case "mine":
      return stats.assigned_to_me;
    case "unassigned":
      return stats.unassigned;
    case "open":
      return of(OPEN_WORK);
    case "pending":
      return of(["pending"]);
    case "done":
      return of(DONE);
    case "all":
      return of([...OPEN_WORK, ...DONE]);
  }
}

const PRIORITY_RANK: Record<Priority, number> = { low: 0, medium: 1, high: 2, urgent: 3 };

/** The list's order: the sort key, then the id, as the server's keyset pages are ordered. */
export function compare(sort: SortKey, order: SortOrder): (a: Ticket, b: Ticket) => number {
  const key = (ticket: Ticket): number => {
    switch (sort) {
      case "created_at":
        return Date.parse(ticket.created_at);
      case "updated_at":
        return Date.parse(ticket.updated_at);
      case "priority":
        return PRIORITY_RANK[ticket.priority];
      case "number":
        return ticket.number;
    }
  };
  const sign = order === "asc" ? 1 : -1;
  return (a, b) => sign * (key(a) - key(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A change that waits for the agent (the "n updates" pill) instead of moving rows now. */
export interface Held {
  ticket: Ticket;
  belongs: boolean | null;
}

export interface QueueList {
  items: Ticket[];
  nextCursor: string | null;
  held: Held[];
}

export interface MergeOptions {
  sort: SortKey;
  order: SortOrder;
  /** The agent is working the list (focus, pointer or scrolled): only in-place updates now. */
  hold: boolean;
}

function place(items: Ticket[], ticket: Ticket, nextCursor: string | null, options: MergeOptions): Ticket[] {
  const order = compare(options.sort, options.order);
  const index = items.findIndex((other) => order(ticket, other) < 0);
  // Past the last loaded row the ticket belongs to a page not loaded yet: "load more" brings it.
  if (index === -1) return nextCursor === null ? [...items, ticket] : items;
  return [...items.slice(0, index), ticket, ...items.slice(index)];
}

/** Merges the fresh state of one ticket into the list. */
export function merge(list: QueueList, ticket: Ticket, fits: boolean | null, options: MergeOptions): QueueList {
  const index = list.items.findIndex((item) => item.id === ticket.id);
  const held = list.held.filter((entry) => entry.ticket.id !== ticket.id);
  if (index === -1) {
    if (fits !== true) return { ...list, held };
    if (options.hold) return { ...list, held: [...held, { ticket, belongs: fits }] };
    return { ...list, held, items: place(list.items, ticket, list.nextCursor, options) };
  }
  const updated = list.items.map((item) => (item.id === ticket.id ? ticket : item));
  const without = list.items.filter((item) => item.id !== ticket.id);
  const settled = fits === false ? without : place(without, ticket, list.nextCursor, options);
  const moves = settled.length !== updated.length || settled.some((item, i) => item.id !== updated[i]?.id);
  if (!moves) return { ...list, held, items: updated };
  if (options.hold) return { ...list, items: updated, held: [...held, { ticket, belongs: fits }] };
  return { ...list, held, items: settled };
}

/** Applies every held change (the agent pressed `.` or the pill). */
export function release(list: QueueList, options: Omit<MergeOptions, "hold">): QueueList {
  return list.held.reduce<QueueList>(
    (current, entry) => merge(current, entry.ticket, entry.belongs, { ...options, hold: false }),
    { ...list, held: [] },
  );
}

/** Appends the next page, leaving out rows a live change has already added. */
export function append(list: QueueList, items: Ticket[], nextCursor: string | null): QueueList {
  const shown = new Set(list.items.map((item) => item.id));
  return { ...list, items: [...list.items, ...items.filter((item) => !shown.has(item.id))], nextCursor };
}
