// A history entry in words ("Ana changed the priority from Medium to Urgent"), in the agent's
// language: for the ticket's timeline and for the conflict that names who changed what.
import type { Ticket, User } from "../api/client";
import { list, t } from "../i18n";
import { categories } from "./desk";
import type { HistoryEntry } from "./history";

/** The name of an event's actor: the requester, a colleague, the system, or someone unknown. */
export function actorName(id: string | null, ticket: Ticket, people: User[]): string {
  if (id === null) return t("history.system");
  if (id === ticket.requester.id) return ticket.requester.name;
  return people.find((person) => person.id === id)?.name ?? t("history.someone");
}

export function historyWords(item: HistoryEntry, ticket: Ticket, people: User[]): string {
  const actor = actorName(item.actor, ticket, people);
  const what = item.happening;
  switch (what.kind) {
    case "created":
      return t("history.created", { actor });
    case "status":
      return t(what.automatic ? "history.statusAutomatic" : "history.status", { actor, from: t(`status.${what.from}`), to: t(`status.${what.to}`) });
    case "priority":
      return t("history.priority", { actor, from: t(`priority.${what.from}`), to: t(`priority.${what.to}`) });
    case "assignee":
      return what.to === null ? t("history.unassigned", { actor }) : t("history.assigned", { actor, assignee: actorName(what.to, ticket, people) });
    case "category": {
      if (what.to === null) return t("history.categoryRemoved", { actor });
      const category = categories.value.find((known) => known.id === what.to)?.name ?? t("history.unknownCategory");
      return t("history.category", { actor, category });
    }
    case "tags":
      return what.to.length === 0 ? t("history.tagsRemoved", { actor }) : t("history.tags", { actor, tags: list(what.to) });
    case "subject":
      return t("history.subject", { actor, subject: what.to });
    case "message":
      return t(what.internal ? "history.note" : "history.reply", { actor });
    case "attachment":
      return t("history.attachment", { actor, filename: what.filename });
  }
}
