// Drafts per ticket and mode (reply or note), kept in the browser's storage so that a reload or
// a crash loses no typed text. Only drafts are stored here: never a token. A draft's id is sent
// as the message's Idempotency-Key, so a retried send can never post twice; the draft is
// deleted only once the server has confirmed the message.
export type Mode = "reply" | "note";

export interface Draft {
  id: string;
  text: string;
  updatedAt: number;
}

/** The part of `Storage` the store needs (localStorage in the browser, a map in tests). */
export type DraftStorage = Pick<Storage, "getItem" | "setItem" | "removeItem" | "key" | "length">;

const PREFIX = "growdesk.draft.";

function keyOf(ticketId: string, mode: Mode): string {
  return `${PREFIX}${ticketId}.${mode}`;
}

function parse(raw: string | null): Draft | null {
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as Partial<Draft>;
    if (typeof value.id === "string" && typeof value.text === "string" && typeof value.updatedAt === "number") {
      return { id: value.id, text: value.text, updatedAt: value.updatedAt };
    }
  } catch {
    // A damaged entry is no draft.
  }
  return null;
}

export class Drafts {
  constructor(
    private readonly storage: DraftStorage,
    private readonly newId: () => string = () => crypto.randomUUID(),
    private readonly now: () => number = Date.now,
  ) {}

  get(ticketId: string, mode: Mode): Draft | null {
    return parse(this.storage.getItem(keyOf(ticketId, mode)));
  }

  /** Saves the text, keeping the draft's id; empty text deletes the draft. */
  save(ticketId: string, mode: Mode, text: string): Draft | null {
    if (!text.trim()) {
      this.storage.removeItem(keyOf(ticketId, mode));
      return null;
    }
    const draft: Draft = { id: this.get(ticketId, mode)?.id ?? this.newId(), text, updatedAt: this.now() };
    try {
      this.storage.setItem(keyOf(ticketId, mode), JSON.stringify(draft));
    } catch {
      // Storage full or denied: the text stays in the composer.
    }
    return draft;
  }

  /** The draft to send: its id is the Idempotency-Key of the message. */
  ensure(ticketId: string, mode: Mode, text: string): Draft {
    return this.save(ticketId, mode, text) ?? { id: this.newId(), text, updatedAt: this.now() };
  }

  /** Deletes the draft the server has confirmed, unless the agent has typed a newer one since. */
  sent(ticketId: string, mode: Mode, id: string): void {
    if (this.get(ticketId, mode)?.id === id) this.storage.removeItem(keyOf(ticketId, mode));
  }

  /** Every ticket with an unsent draft. */
  tickets(): string[] {
    const found = new Set<string>();
    for (let index = 0; index < this.storage.length; index++) {
      const key = this.storage.key(index);
      if (key?.startsWith(PREFIX)) found.add(key.slice(PREFIX.length).split(".")[0] ?? "");
    }
    found.delete("");
    return [...found];
  }

  clear(): void {
    for (const ticketId of this.tickets()) {
      this.storage.removeItem(keyOf(ticketId, "reply"));
      this.storage.removeItem(keyOf(ticketId, "note"));
    }
  }
}
