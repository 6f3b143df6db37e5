// The console's shared state: the session, the live connection, the queue of the current
// view, the counts and the notifications. Live events are batched: the tickets they touch are
// fetched once per batch and merged by the rules of queue.ts.
import { reactive, ref, shallowRef } from "vue";
import { Api, ApiError, type Category, type Message, type Notification, type SavedView, type Stats, type Ticket, type User, type ViewFilter } from "../api/client";
import type { TicketEvent } from "../api/client";
import { Live, type LiveState, type SignalFrame } from "../api/socket";
import { t } from "../i18n";
import { inView, navigate, route } from "../router";
import { Drafts } from "./drafts";
import { KeptLists, listKey } from "./lists";
import { keepUnread, markedRead } from "./reads";
import { optedIn, permission, shouldNotify, show } from "./desktop";
import { notificationText } from "./notificationText";
import { append, DEFAULT_FILTERS, filterQuery, matches, merge, release, viewFilter, type Filters, type QueueList } from "./queue";

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
/** The agent's saved views and the shared ones; null until they are read. */
export const savedViews = ref<SavedView[] | null>(null);
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
  /** Each event of a ticket's log as it arrives (the ticket's history). */
  event?: (event: TicketEvent) => void;
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

/** The queue's filter: the saved view's, or the built-in view's with the agent's filters. */
export function currentFilter(): ViewFilter {
  const saved = route.value.saved && savedViews.value?.find((view) => view.id === route.value.saved);
  return saved ? saved.filter : viewFilter(route.value.view, filters);
}

function options(hold: boolean): { sort: Filters["sort"]; order: Filters["order"]; hold: boolean } {
  const filter = currentFilter();
  return { sort: filter.sort ?? "created_at", order: filter.order ?? "desc", hold };
}

function highlight(id: string): void {
  highlighted.add(id);
  setTimeout(() => highlighted.delete(id), 4000);
}

/** Merges a ticket's fresh state into the shown list (a live change or the agent's own). */
export function mergeTicket(ticket: Ticket): void {
  const me = user.value?.id ?? "";
  const before = queue.value;
  queue.value = merge(before, keepUnread(before, ticket), matches(currentFilter(), ticket, me), options(holding.value));
  keptLists.merge(ticket, me);
  if (queue.value.items.some((item) => item.id === ticket.id) || queue.value.held.length !== before.held.length) highlight(ticket.id);
}

/**
 * Marks a ticket read for the agent: its row loses the unread dot at once, then the server is
 * told, and the row is cleared again for a page of the list read before the mark was stored.
 */
export async function markTicketRead(id: string): Promise<void> {
  queue.value = markedRead(queue.value, id);
  await api.markTicketRead(id);
  queue.value = markedRead(queue.value, id);
}

function dropTicket(id: string): void {
  const gone = queue.value.items.find((item) => item.id === id);
  if (gone) queue.value = merge(queue.value, gone, false, options(holding.value));
  keptLists.drop(id);
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
          if (shouldNotify(optedIn(localStorage), permission(), document.visibilityState === "hidden")) {
            show(t("app.name"), notificationText(notification), notification.id, () => navigate(inView(notification.ticket_id)));
          }
        }
        return;
      }
      for (const watcher of watchers) watcher.event?.(event);
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
/** The lists of views the agent left, shown at once on the way back (see lists.ts). */
const keptLists = new KeptLists(8);
/** The filter of the rows on screen, kept with them when the agent leaves for another list. */
let shownFilter: ViewFilter | null = null;
/** The request whose answer is on screen. */
let shownRequest = 0;

export async function loadQueue(): Promise<void> {
  const request = ++queueRequest;
  // A saved view's filter is known once the views are read, which reads the queue then.
  if (route.value.saved && savedViews.value === null) return;
  const filter = currentFilter();
  if (shownFilter && listKey(shownFilter) !== listKey(filter)) {
    keptLists.keep(shownFilter, queue.value);
    const kept = keptLists.get(filter);
    if (kept) {
      queue.value = kept;
      shownFilter = filter;
    }
  }
  queueLoading.value = true;
  queueError.value = null;
  try {
    const page = await api.tickets(filterQuery(filter));
    // An earlier request of the list on screen shows until a later one answers (at sign-in the
    // socket's first `ready` asks again, and the rows need not wait for it); an answer for
    // another list, or older than the one shown, is dropped.
    if (request < shownRequest || listKey(filter) !== listKey(currentFilter())) return;
    queue.value = { items: page.items, nextCursor: page.next_cursor ?? null, held: [] };
    shownFilter = filter;
    shownRequest = request;
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
    const page = await api.tickets(filterQuery(currentFilter(), cursor));
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

/** Reads the saved views again (at sign-in, and after the agent changed one). */
export async function reloadSavedViews(): Promise<void> {
  const waiting = savedViews.value === null;
  let views = savedViews.value ?? [];
  try {
    const all: SavedView[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.views(cursor);
      all.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    views = all;
  } catch {
    // The views are kept as they were; the next change reads them again.
  }
  savedViews.value = views;
  const saved = route.value.saved;
  // A saved view deleted meanwhile (or a stale link) shows its built-in view instead.
  if (saved && !views.some((view) => view.id === saved)) navigate({ view: route.value.view, ticketId: route.value.ticketId }, true);
  else if (saved && waiting) void loadQueue();
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
  void reloadSavedViews();
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
  savedViews.value = null;
  colleagues = null;
  queue.value = { items: [], nextCursor: null, held: [] };
  keptLists.clear();
  shownFilter = null;
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
