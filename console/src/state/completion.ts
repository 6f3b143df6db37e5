// The composer's completions, as pure functions over the text and the caret: `/` at the start of
// a line looks up canned replies by title or shortcut, `@` at the start of a word (in notes)
// looks up colleagues; choosing one replaces what was typed since the trigger. Canned replies'
// placeholders are filled here, from the ticket and the agent at hand.

/** What the agent is completing: the trigger's kind, where it starts and what follows it. */
export interface Completion {
  kind: "reply" | "mention";
  /** The index of the `/` or `@`. */
  start: number;
  /** The text between the trigger and the caret. */
  query: string;
}

/** The server matches a canned reply's prefix of at most this many characters. */
export const MAX_PREFIX = 100;

/** The completion the caret is in, if any: mentions only where `mentions` (internal notes). */
export function completionAt(text: string, caret: number, mentions: boolean): Completion | null {
  const before = text.slice(0, caret);
  const lineStart = before.lastIndexOf("\n") + 1;
  if (before[lineStart] === "/") {
    const query = before.slice(lineStart + 1);
    if (query.length <= MAX_PREFIX) return { kind: "reply", start: lineStart, query };
  }
  if (!mentions) return null;
  const at = before.lastIndexOf("@");
  if (at === -1 || (at > 0 && !/\s/.test(before[at - 1] ?? ""))) return null;
  const query = before.slice(at + 1);
  return /\s/.test(query) ? null : { kind: "mention", start: at, query };
}

/** The text with `replacement` in place of the completion (trigger to caret), and the new caret. */
export function complete(text: string, caret: number, completion: Completion, replacement: string): { text: string; caret: number } {
  const next = text.slice(0, completion.start) + replacement + text.slice(caret);
  return { text: next, caret: completion.start + replacement.length };
}

/** What a canned reply's placeholders stand for. */
export interface PlaceholderValues {
  requesterName: string;
  ticketNumber: number;
  agentName: string;
}

/**
 * The reply with `{{requester.name}}`, `{{ticket.number}}` and `{{agent.name}}` filled in
 * (spaces inside the braces allowed); any other `{{…}}` is left as written, for the agent to see.
 */
export function fillPlaceholders(body: string, values: PlaceholderValues): string {
  const known: Record<string, string> = {
    "requester.name": values.requesterName,
    "ticket.number": String(values.ticketNumber),
    "agent.name": values.agentName,
  };
  return body.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, name: string) => known[name] ?? whole);
}

/** A colleague as completion offers them. */
export interface Colleague {
  id: string;
  name: string;
  email: string;
}

function folded(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/** The colleagues whose name or email contains the query (case and accents aside), by name. */
export function matchColleagues(colleagues: Colleague[], query: string, me: string | null): Colleague[] {
  const wanted = folded(query);
  return colleagues
    .filter((person) => person.id !== me && (folded(person.name).includes(wanted) || folded(person.email).includes(wanted)))
    .sort((a, b) => a.name.localeCompare(b.name) || a.email.localeCompare(b.email));
}

/**
 * What to write to mention `person`, as the server reads mentions: `@` and the part of the email
 * before `@` when it names nobody else and ends in a letter or digit (the server trims what
 * follows a word), or else the whole email.
 */
export function mentionOf(person: Colleague, colleagues: Colleague[]): string {
  const local = person.email.split("@")[0] ?? "";
  const shared = colleagues.some((other) => other.id !== person.id && other.email.split("@")[0]?.toLowerCase() === local.toLowerCase());
  const handle = local && !shared && /[\p{L}\p{N}]$/u.test(local) ? local : person.email;
  return `@${handle}`;
}
