// The lists of the views an agent has left, so that coming back to one shows its rows at once
// (the server's fresh first page follows and replaces them). Live changes are merged into each
// kept list by its own filter meanwhile, so what shows on the way back is as current as the
// events. At most `capacity` lists are kept, the least recently shown forgotten first.
import type { Ticket, ViewFilter } from "../api/client";
import { filterQuery, matches, merge, release, type QueueList } from "./queue";

interface Kept {
  filter: ViewFilter;
  list: QueueList;
}

/** The order a filter's list is in, as the server sorts it. */
function order(filter: ViewFilter): { sort: NonNullable<ViewFilter["sort"]>; order: NonNullable<ViewFilter["order"]> } {
  return { sort: filter.sort ?? "created_at", order: filter.order ?? "desc" };
}

/** Lists are the same when their requests are: the key is the first page's query. */
export function listKey(filter: ViewFilter): string {
  return JSON.stringify(filterQuery(filter));
}

export class KeptLists {
  private readonly lists = new Map<string, Kept>();

  constructor(private readonly capacity: number) {}

  /** The list kept for `filter`, if any. */
  get(filter: ViewFilter): QueueList | null {
    const key = listKey(filter);
    const kept = this.lists.get(key);
    if (!kept) return null;
    // Map keeps insertion order: moved to the end, it is the most recently shown.
    this.lists.delete(key);
    this.lists.set(key, kept);
    return kept.list;
  }

  /** Keeps the list the agent leaves, with the changes it held for them applied. */
  keep(filter: ViewFilter, list: QueueList): void {
    const key = listKey(filter);
    this.lists.delete(key);
    this.lists.set(key, { filter, list: release(list, order(filter)) });
    for (const oldest of this.lists.keys()) {
      if (this.lists.size <= this.capacity) break;
      this.lists.delete(oldest);
    }
  }

  /** Merges a ticket's fresh state into every kept list, as into the one on screen. */
  merge(ticket: Ticket, me: string): void {
    for (const kept of this.lists.values()) {
      kept.list = merge(kept.list, ticket, matches(kept.filter, ticket, me), { ...order(kept.filter), hold: false });
    }
  }

  /** Forgets a ticket that is gone (deleted, or no longer visible to the agent). */
  drop(id: string): void {
    for (const kept of this.lists.values()) {
      const gone = kept.list.items.find((item) => item.id === id);
      if (gone) kept.list = merge(kept.list, gone, false, { ...order(kept.filter), hold: false });
    }
  }

  clear(): void {
    this.lists.clear();
  }
}
