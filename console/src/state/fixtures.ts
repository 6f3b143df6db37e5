// Tickets for the state modules' unit tests: a ticket as the API lists it, with what a test
// needs changed.
import type { Ticket } from "../api/client";

export function ticket(number: number, updated = "2026-01-01T00:00:00Z", changes: Partial<Ticket> = {}): Ticket {
  return {
    id: `00000000-0000-7000-8000-${String(number).padStart(12, "0")}`,
    number,
    subject: `Ticket ${number}`,
    status: "open",
    priority: "medium",
    requester: { id: "r", name: "Ana", email: "ana@example.com" },
    tags: [],
    source: "api",
    version: 1,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: updated,
    assignee_id: null,
    ...changes,
  };
}
