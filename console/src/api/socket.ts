// The realtime socket (/api/ws): it resumes from the last event id it saw, so no event is
// missed across a reconnect or a laptop's sleep, drops any event it has already delivered,
// and never stops retrying (1 s up to 30 s with jitter, at once when the page comes back).
import type { ClientFrame, ServerFrame } from "./client";

export type LiveState = "connecting" | "live" | "offline";

type EventFrame = Extract<ServerFrame, { type: "event" }>;
/** Presence, typing, acks and errors: every server frame but the event log's. */
export type SignalFrame = Exclude<ServerFrame, { type: "event" }>;

export interface LiveHandlers {
  /** An event of the log, each id once and in order. */
  event: (frame: EventFrame) => void;
  /** Presence, typing, acks and errors. */
  frame: (frame: SignalFrame) => void;
  state: (state: LiveState) => void;
  /**
   * Everything missed has been replayed. `resumed` is false on the first connection, which starts
   * from the newest event: what changed before it is only in a fresh REST answer.
   */
  ready: (resumed: boolean) => void;
}

/** The delay before retry number `attempt` (0-based): doubling from 1 s, capped at 30 s, jittered. */
export function backoff(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
  return Math.round(base / 2 + (random() * base) / 2);
}

export class Live {
  private socket: WebSocket | null = null;
  private lastEventId: number | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private readonly subscriptions = new Set<string>();
  private readonly wake = (): void => {
    if (!this.stopped && !this.socket && document.visibilityState === "visible") this.open();
  };

  constructor(
    private readonly token: () => string | null,
    private readonly renew: () => Promise<boolean>,
    private readonly on: LiveHandlers,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this.wake);
    window.addEventListener("focus", this.wake);
    document.addEventListener("visibilitychange", this.wake);
    this.open();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener("online", this.wake);
    window.removeEventListener("focus", this.wake);
    document.removeEventListener("visibilitychange", this.wake);
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
    this.lastEventId = null;
    this.subscriptions.clear();
  }

  /** Receives presence and typing for a ticket, now and after every reconnect. */
  subscribe(ticketId: string): void {
    this.subscriptions.add(ticketId);
    this.send({ type: "subscribe", ticket_id: ticketId });
  }

  unsubscribe(ticketId: string): void {
    this.subscriptions.delete(ticketId);
    this.send({ type: "unsubscribe", ticket_id: ticketId });
  }

  send(frame: ClientFrame): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  private open(): void {
    clearTimeout(this.timer);
    const token = this.token();
    if (!token) return;
    this.on.state("connecting");
    const url = new URL("/api/ws", window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const resumed = this.lastEventId !== null;
    if (resumed) url.searchParams.set("last_event_id", String(this.lastEventId));
    // The token goes in the subprotocol, not the URL, so that it stays out of access logs.
    const socket = new WebSocket(url, ["bearer", token]);
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      for (const ticketId of this.subscriptions) this.send({ type: "subscribe", ticket_id: ticketId });
    };
    socket.onmessage = (message: MessageEvent<string>) => {
      const frame = JSON.parse(message.data) as ServerFrame;
      if (frame.type === "event") {
        if (this.lastEventId !== null && frame.event.id <= this.lastEventId) return;
        this.lastEventId = frame.event.id;
        this.on.event(frame);
      } else if (frame.type === "ready") {
        this.lastEventId = Math.max(this.lastEventId ?? 0, frame.last_event_id);
        this.attempt = 0;
        this.on.state("live");
        this.on.ready(resumed);
      } else {
        this.on.frame(frame);
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      this.on.state("offline");
      const retry = async (): Promise<void> => {
        // A socket refused before it opened may be an expired token: renew it first.
        if (!opened) await this.renew();
        if (!this.stopped && !this.socket) this.open();
      };
      this.timer = setTimeout(() => void retry(), backoff(this.attempt++));
    };
  }
}
