// The URL holds the console's state: `/views/<view>` and `/views/<view>/tickets/<id>` (a saved
// view is `/views/saved/<view id>`), the dashboard, the profile, the canned replies and the admin
// pages (`/admin/<page>`), with `/sign-in` before the agent has signed in and the pages of a
// forgotten password (`/forgot-password`, `/reset-password?token=…`, the link mailed) at any
// time. The server answers these paths with the console.
import { ref } from "vue";
import { isView, type ViewId } from "./state/queue";

export const ADMIN_PAGES = ["users", "categories", "faqs", "widgets", "webhooks", "mailboxes", "email-templates"] as const;
export type AdminPage = (typeof ADMIN_PAGES)[number];
/** The screens every agent has besides the queue. */
export const STAFF_PAGES = ["dashboard", "profile", "canned-replies"] as const;
/** A screen other than the queue; the queue's view is kept for the way back. */
export type Page = (typeof STAFF_PAGES)[number] | AdminPage;
/** The pages of a forgotten password, shown signed in or not. */
export const ACCOUNT_PAGES = ["forgot-password", "reset-password"] as const;
export type AccountPage = (typeof ACCOUNT_PAGES)[number];

export interface Route {
  /** The built-in view; with `saved`, the one to go back to when the saved view is gone. */
  view: ViewId;
  /** A saved view's id, shown in place of the built-in view. */
  saved?: string;
  ticketId: string | null;
  page?: Page;
  account?: AccountPage;
}

function isAdminPage(name: string): name is AdminPage {
  return (ADMIN_PAGES as readonly string[]).includes(name);
}

function isAccountPage(name: string): name is AccountPage {
  return (ACCOUNT_PAGES as readonly string[]).includes(name);
}

function isStaffPage(name: string): name is (typeof STAFF_PAGES)[number] {
  return (STAFF_PAGES as readonly string[]).includes(name);
}

export function parse(pathname: string): Route {
  const [, first, view, third, fourth, fifth] = pathname.split("/");
  const ticket = (marker: string | undefined, id: string | undefined): string | null => (marker === "tickets" && id ? decodeURIComponent(id) : null);
  if (first === "views" && view === "saved" && third) return { view: "all", saved: decodeURIComponent(third), ticketId: ticket(fourth, fifth) };
  if (first === "views" && view && isView(view)) return { view, ticketId: ticket(third, fourth) };
  if (first && isAccountPage(first) && view === undefined) return { view: "mine", ticketId: null, account: first };
  if (first && isStaffPage(first)) return { view: "mine", ticketId: null, page: first };
  if (first === "admin" && view && isAdminPage(view)) return { view: "mine", ticketId: null, page: view };
  return { view: "mine", ticketId: null };
}

export function href(route: Route): string {
  if (route.account) return `/${route.account}`;
  if (route.page) return isAdminPage(route.page) ? `/admin/${route.page}` : `/${route.page}`;
  const base = route.saved ? `/views/saved/${encodeURIComponent(route.saved)}` : `/views/${route.view}`;
  return route.ticketId ? `${base}/tickets/${encodeURIComponent(route.ticketId)}` : base;
}

export const route = ref<Route>(parse(window.location.pathname));

export function navigate(next: Route, replace = false): void {
  const target = href(next);
  if (target !== window.location.pathname) {
    if (replace) history.replaceState(null, "", target);
    else history.pushState(null, "", target);
  }
  route.value = next;
}

/** The current view (built-in or saved) with `ticketId` open, or none. */
export function inView(ticketId: string | null): Route {
  return { view: route.value.view, saved: route.value.saved, ticketId };
}

/** Opens a page, keeping the queue's view for the way back. */
export function openPage(page: Page): void {
  navigate({ view: route.value.view, ticketId: null, page });
}

window.addEventListener("popstate", () => {
  route.value = parse(window.location.pathname);
});
