// A ticket's event log in words: each event the history shows, read from its stored data into
// what changed, from what to what, and by whom. Events it does not show (notifications, the
// deletion) or whose data is not what their kind writes are left out rather than guessed at.
// Pure, so it is unit-tested; the component puts names and words on it.
import type { Priority, TicketEvent, TicketStatus } from "../api/client";

const STATUSES: readonly string[] = ["open", "pending", "in_progress", "resolved", "closed"];
const PRIORITIES: readonly string[] = ["low", "medium", "high", "urgent"];

export type Happening =
  | { kind: "created" }
  | { kind: "status"; from: TicketStatus; to: TicketStatus; automatic: boolean }
  | { kind: "priority"; from: Priority; to: Priority }
  /** The new assignee's id; null: unassigned. */
  | { kind: "assignee"; to: string | null }
  /** The new category's id; null: removed. */
  | { kind: "category"; to: string | null }
  | { kind: "tags"; to: string[] }
  | { kind: "subject"; to: string }
  | { kind: "message"; internal: boolean }
  | { kind: "attachment"; filename: string };

export interface HistoryEntry {
  id: number;
  at: string;
  /** Who did it; null for the system (the auto-close job, an import). */
  actor: string | null;
  happening: Happening;
}

type Data = Record<string, unknown>;

const isStatus = (value: unknown): value is TicketStatus => typeof value === "string" && STATUSES.includes(value);
const isPriority = (value: unknown): value is Priority => typeof value === "string" && PRIORITIES.includes(value);
const isIdOrNull = (value: unknown): value is string | null => value === null || typeof value === "string";
const isTags = (value: unknown): value is string[] => Array.isArray(value) && value.every((tag) => typeof tag === "string");

function happening(kind: TicketEvent["kind"], data: Data, internal: boolean): Happening | null {
  switch (kind) {
    case "created":
      return { kind: "created" };
    case "status_changed":
      return isStatus(data.from) && isStatus(data.to) ? { kind: "status", from: data.from, to: data.to, automatic: data.automatic === true } : null;
    case "priority_changed":
      return isPriority(data.from) && isPriority(data.to) ? { kind: "priority", from: data.from, to: data.to } : null;
    case "assignee_changed":
      return isIdOrNull(data.to) ? { kind: "assignee", to: data.to } : null;
    case "category_changed":
      return isIdOrNull(data.to) ? { kind: "category", to: data.to } : null;
    case "tags_changed":
      return isTags(data.to) ? { kind: "tags", to: data.to } : null;
    case "subject_changed":
      return typeof data.to === "string" ? { kind: "subject", to: data.to } : null;
    case "message_created":
      return { kind: "message", internal };
    case "attachment_added":
      return typeof data.filename === "string" ? { kind: "attachment", filename: data.filename } : null;
    case "deleted":
    case "notification_created":
      return null;
  }
}

/** The history entry of an event, or null for one the history does not show. */
export function entry(event: TicketEvent): HistoryEntry | null {
  if (event.recipient_id) return null;
  const data: Data = typeof event.data === "object" && event.data !== null ? (event.data as Data) : {};
  const what = happening(event.kind, data, event.internal);
  return what && { id: event.id, at: event.created_at, actor: event.actor_id ?? null, happening: what };
}

/** `entries` with the entries of `events` added once each, in the log's order. */
export function mergeEntries(entries: HistoryEntry[], events: TicketEvent[]): HistoryEntry[] {
  const known = new Set(entries.map((item) => item.id));
  const added = events.map(entry).filter((item): item is HistoryEntry => item !== null && !known.has(item.id));
  return added.length === 0 ? entries : [...entries, ...added].sort((a, b) => a.id - b.id);
}

/** A field a change sets, named as the history's kinds of change. */
export type Field = "status" | "priority" | "assignee" | "category" | "tags" | "subject";

/** The latest entry changing each of `fields`, in the log's order: who left the ticket as it is. */
export function latestChanges(entries: HistoryEntry[], fields: Field[]): HistoryEntry[] {
  const latest = new Map<string, HistoryEntry>();
  for (const item of entries) {
    if ((fields as string[]).includes(item.happening.kind)) latest.set(item.happening.kind, item);
  }
  return [...latest.values()].sort((a, b) => a.id - b.id);
}
