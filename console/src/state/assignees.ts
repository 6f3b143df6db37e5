// Whom the assignee picker offers: the staff who may hold tickets (active agents and admins),
// the agent first and then by name, narrowed by what the agent typed (name or email, ignoring
// case and accents), and always "nobody" last to unassign. Pure, so it is unit-tested.
import type { User } from "../api/client";

export interface AssigneeOption {
  /** The user's id; null for nobody (unassign). */
  id: string | null;
  name: string;
  /** The ticket's assignee now. */
  current: boolean;
}

function fold(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLocaleLowerCase();
}

export function assigneeOptions(people: User[], me: string, query: string, current: string | null): AssigneeOption[] {
  const wanted = fold(query.trim());
  const seen = new Set<string>();
  const matching = people.filter((person) => {
    if (!person.active || person.role === "customer" || seen.has(person.id)) return false;
    seen.add(person.id);
    return !wanted || fold(person.name).includes(wanted) || fold(person.email).includes(wanted);
  });
  matching.sort((a, b) => Number(b.id === me) - Number(a.id === me) || a.name.localeCompare(b.name));
  const options = matching.map((person) => ({ id: person.id, name: person.name, current: person.id === current }));
  return [...options, { id: null, name: "", current: current === null }];
}
