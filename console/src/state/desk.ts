// The console's shared state: the session, the live connection, the queue of the current
// view, the counts and the notifications. Live events are batched: the tickets they touch are
// fetched once per batch and merged by the rules of queue.ts.
import { reactive, ref, shallowRef } from "vue";
import { Api, ApiError, type Category, type Message, type Notification, type Stats, type Ticket, type User } from "../api/client";
import { Live, type LiveState, type SignalFrame } from "../api/socket";
import { route } from "../router";
import { Drafts } from "./drafts";
import { append, belongs, DEFAULT_FILTERS, merge, release, viewQuery, type Filters, type QueueList } from "./queue";

export const api = new Api();
export const drafts = new Drafts(localStorage);
export const user = ref<User | null>(null);
export const sessionEnded = ref(false);
/** True until the refresh cookie has been tried, so that a reload shows no sign-in form first. */
export const resuming = ref(true);
export const liveState = ref<LiveState>("offline");
export const stats = ref<Stats | null>(null);
export const notifications = ref<Notification[]>([]);
export const categories = ref<Category[]>([]);
export const filters = reactive<Filters>({ ...DEFAULT_FILTERS });
export const queue = shallowRef<QueueList>({ items: [], nextCursor: null, held: [] });
export const queueLoading = ref(false);
export const queueError = ref<string | null>(null);
/** Rows changed live a moment ago, shown highlighted. */
export const highlighted = reactive(new Set<string>());
/** The agent is working the list: moves and inserts wait behind the "n updates" pill. */
export const holding = ref(false);

interface TicketWatcher {
  ticket: (ticket: Ticket) => void;
  message: (message: Message) => void;
  frame: (frame: SignalFrame) => void;
}
const watchers = new Set<TicketWatcher>();

/** Follows live changes of tickets (the open ticket page); returns the function that stops it. */
export function watchTickets(watcher: TicketWatcher): () => void {
  watchers.add(watcher);
  return () => watchers.delete(watcher);
}

const dirty = new Set<string>();
let flushTimer: ReturnType<typeof setTimeout> | undefined;
let statsTimer: ReturnType<typeof setTimeout> | undefined;

function touch(ticketId: string): void {
  dirty.add(ticketId);
  // One batch for a burst of events: each ticket is fetched once, however many events it had.
  flushTimer ??= setTimeout(() => void flush(), 50);
  clearTimeout(statsTimer);
  statsTimer = setTimeout(() => void loadStats(), 500);
}

async function flush(): Promise<void> {
  flushTimer = undefined;
  const ids = [...dirty];
  dirty.clear();
  await Promise.all(
    ids.map(async (id) => {
      try {
        const ticket = await api.ticket(id);
        mergeTicket(ticket);
        for (const watcher of watchers) watcher.ticket(ticket);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) dropTicket(id);
      }
    }),
  );
}

function options(hold: boolean): { sort: Filters["sort"]; order: Filters["order"]; hold: boolean } {
  return { sort: filters.sort, order: filters.order, hold };
}

function highlight(id: string): void {
  highlighted.add(id);
  setTimeout(() => highlighted.delete(id), 4000);
}

/** Merges a ticket's fresh state into the shown list (a live change or the agent's own). */
export function mergeTicket(ticket: Ticket): void {
  const me = user.value?.id ?? "";
  const before = queue.value;
  queue.value = merge(before, ticket, belongs(route.value.view, filters, ticket, me), options(holding.value));
  if (queue.value.items.some((item) => item.id === ticket.id) || queue.value.held.length !== before.held.length) highlight(ticket.id);
}

function dropTicket(id: string): void {
  const gone = queue.value.items.find((item) => item.id === id);
  if (gone) queue.value = merge(queue.value, gone, false, options(holding.value));
}

export function releaseHeld(): void {
  queue.value = release(queue.value, options(false));
}

export const live = new Live(
  () => api.accessToken,
  () => api.renew(),
  {
    event(frame) {
      const event = frame.event;
      if (event.kind === "notification_created") {
        const notification = frame.notification;
        if (notification && !notifications.value.some((known) => known.id === notification.id)) {
          notifications.value = [notification, ...notifications.value];
        }
        return;
      }
      if (frame.message) {
        const message = frame.message;
        for (const watcher of watchers) watcher.message(message);
      }
      touch(event.ticket_id);
    },
    frame(frame) {
      for (const watcher of watchers) watcher.frame(frame);
    },
    state(state) {
      liveState.value = state;
    },
    ready(resumed) {
      void loadStats();
      // The list may have been read before the socket's starting point: read it again once.
      if (!resumed) void loadQueue();
    },
  },
);

let queueRequest = 0;

export async function loadQueue(): Promise<void> {
  const request = ++queueRequest;
  queueLoading.value = true;
  queueError.value = null;
  try {
    const page = await api.tickets(viewQuery(route.value.view, filters));
    if (request !== queueRequest) return;
    queue.value = { items: page.items, nextCursor: page.next_cursor ?? null, held: [] };
  } catch (error) {
    if (request === queueRequest) queueError.value = reason(error);
  } finally {
    if (request === queueRequest) queueLoading.value = false;
  }
}

export async function loadMore(): Promise<void> {
  const cursor = queue.value.nextCursor;
  if (!cursor || queueLoading.value) return;
  const request = queueRequest;
  queueLoading.value = true;
  try {
    const page = await api.tickets(viewQuery(route.value.view, filters, cursor));
    if (request === queueRequest) queue.value = append(queue.value, page.items, page.next_cursor ?? null);
  } catch (error) {
    queueError.value = reason(error);
  } finally {
    queueLoading.value = false;
  }
}

export async function loadStats(): Promise<void> {
  try {
    stats.value = await api.stats();
  } catch {
    // The counts are kept as they were; the next event tries again.
  }
}

async function loadNotifications(): Promise<void> {
  try {
    notifications.value = (await api.notifications()).items;
  } catch {
    notifications.value = [];
  }
}

export async function markRead(notification: Notification): Promise<void> {
  if (notification.read_at) return;
  await api.markRead(notification.id);
  const now = new Date().toISOString();
  notifications.value = notifications.value.map((item) => (item.id === notification.id ? { ...item, read_at: now } : item));
}

export async function markAllRead(): Promise<void> {
  await api.markAllRead();
  const now = new Date().toISOString();
  notifications.value = notifications.value.map((item) => ({ ...item, read_at: item.read_at ?? now }));
}

/** A short reason for an error, for a toast or a line under a form. */
export function reason(error: unknown): string {
  if (error instanceof ApiError) return error.problem?.detail ?? `HTTP ${error.status}`;
  return error instanceof Error ? error.message : String(error);
}

let colleagues: Promise<User[]> | null = null;

/** The active staff, read once per session (for mentions); a failed read is tried again next time. */
export function staff(): Promise<User[]> {
  colleagues ??= api.staff().catch((error: unknown) => {
    colleagues = null;
    throw error;
  });
  return colleagues;
}

function start(signedIn: User): void {
  user.value = signedIn;
  sessionEnded.value = false;
  live.start();
  void loadStats();
  void loadNotifications();
  void reloadCategories();
}

/** Reads the categories again (at sign-in, and after an admin changed them). */
export async function reloadCategories(): Promise<void> {
  try {
    categories.value = await api.categories();
  } catch {
    categories.value = [];
  }
}

function stop(): void {
  live.stop();
  user.value = null;
  stats.value = null;
  notifications.value = [];
  categories.value = [];
  colleagues = null;
  queue.value = { items: [], nextCursor: null, held: [] };
}

api.onSignedOut = () => {
  stop();
  sessionEnded.value = true;
};

/** Signs in; only staff may use the console. */
export async function signIn(email: string, password: string): Promise<"ok" | "customer"> {
  const signedIn = await api.signIn(email, password);
  if (signedIn.role === "customer") {
    await api.signOut();
    return "customer";
  }
  start(signedIn);
  return "ok";
}

/** Picks up the session a reload left in the refresh cookie, when it is still valid. */
export async function resume(): Promise<void> {
  const kept = await api.resume();
  if (kept && kept.role !== "customer") start(kept);
  resuming.value = false;
}

export async function signOut(): Promise<void> {
  stop();
  drafts.clear();
  await api.signOut();
}
