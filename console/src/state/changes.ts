// When a change meets a newer version of the ticket (412), it is reapplied by itself only if
// nobody touched what it changes: another message or a change of another field is no conflict.
// Otherwise the agent sees what the ticket is now and chooses.
import type { Ticket, TicketChange } from "../api/client";
import type { Field } from "./history";

/** A change of fields, "take" (assign to me), or an assignment to someone (null: nobody). */
export type Change = TicketChange | "take" | { assign: string | null };

/** Whether the fields `change` sets are as the agent saw them in the ticket's newer version. */
export function untouched(change: Change, seen: Ticket, fresh: Ticket): boolean {
  if (change === "take" || "assign" in change) return seen.assignee_id === fresh.assignee_id;
  const fields = Object.keys(change) as (keyof TicketChange)[];
  return fields.every((field) => JSON.stringify(seen[field] ?? null) === JSON.stringify(fresh[field] ?? null));
}

const FIELDS: Record<keyof TicketChange, Field> = { status: "status", priority: "priority", category_id: "category", tags: "tags", subject: "subject" };

/** The fields `change` sets, as the history names them. */
export function fieldsOf(change: Change): Field[] {
  if (change === "take" || "assign" in change) return ["assignee"];
  return (Object.keys(change) as (keyof TicketChange)[]).map((field) => FIELDS[field]);
}
