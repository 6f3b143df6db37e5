// The keyboard map. Single keys act only outside text fields and never with Alt (AltGr
// layouts type characters with it) or Ctrl/Cmd (browser chords stay the browser's); the one
// chord taken is Ctrl/Cmd+K for the palette. `g` starts a two-key "go to" sequence.
export type Action =
  | "next"
  | "previous"
  | "open"
  | "back"
  | "reply"
  | "note"
  | "assignToMe"
  | "assignee"
  | "status"
  | "resolve"
  | "search"
  | "help"
  | "palette"
  | "release"
  | "goMine"
  | "goUnassigned"
  | "goOpen"
  | "goPending";

export interface KeyInput {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  /** The key was typed into an input, a text area or an editable element. */
  inTextField: boolean;
}

const SINGLE: Record<string, Action> = {
  j: "next",
  k: "previous",
  Enter: "open",
  r: "reply",
  n: "note",
  a: "assignToMe",
  A: "assignee",
  s: "status",
  e: "resolve",
  "/": "search",
  "?": "help",
  ".": "release",
};

const GO: Record<string, Action> = { m: "goMine", u: "goUnassigned", a: "goOpen", p: "goPending" };

/** Every shortcut as the help sheet and the palette show it. */
export const SHORTCUTS: Record<Action, string> = {
  next: "j",
  previous: "k",
  open: "Enter",
  back: "Esc",
  reply: "r",
  note: "n",
  assignToMe: "a",
  assignee: "Shift A",
  status: "s",
  resolve: "e",
  search: "/",
  help: "?",
  palette: "Ctrl K",
  release: ".",
  goMine: "g m",
  goUnassigned: "g u",
  goOpen: "g a",
  goPending: "g p",
};

/** Reads key presses one at a time; it remembers a pending `g`. */
export class ShortcutReader {
  private awaitingGo = false;

  constructor(public enabled = true) {}

  read(input: KeyInput): Action | null {
    const modifier = input.ctrlKey || input.metaKey;
    if (modifier && !input.altKey && !input.shiftKey && input.key.toLowerCase() === "k") {
      this.awaitingGo = false;
      return "palette";
    }
    if (input.key === "Escape") {
      this.awaitingGo = false;
      return "back";
    }
    if (!this.enabled || input.inTextField || modifier || input.altKey) {
      this.awaitingGo = false;
      return null;
    }
    if (this.awaitingGo) {
      this.awaitingGo = false;
      return GO[input.key] ?? null;
    }
    if (input.key === "g") {
      this.awaitingGo = true;
      return null;
    }
    return SINGLE[input.key] ?? null;
  }
}
