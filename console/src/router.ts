// The URL holds the console's state: `/views/<view>` and `/views/<view>/tickets/<id>`, the
// dashboard, the profile and the admin pages (`/admin/<page>`), with `/sign-in` before the agent
// has signed in. The server answers these paths with the console.
import { ref } from "vue";
import { isView, type ViewId } from "./state/queue";

export const ADMIN_PAGES = ["users", "categories", "faqs", "widgets", "webhooks"] as const;
export type AdminPage = (typeof ADMIN_PAGES)[number];
/** The screens every agent has besides the queue. */
export const STAFF_PAGES = ["dashboard", "profile", "canned-replies"] as const;
/** A screen other than the queue; the queue's view is kept for the way back. */
export type Page = (typeof STAFF_PAGES)[number] | AdminPage;

export interface Route {
  view: ViewId;
  ticketId: string | null;
  page?: Page;
}

function isAdminPage(name: string): name is AdminPage {
  return (ADMIN_PAGES as readonly string[]).includes(name);
}

function isStaffPage(name: string): name is (typeof STAFF_PAGES)[number] {
  return (STAFF_PAGES as readonly string[]).includes(name);
}

export function parse(pathname: string): Route {
  const [, first, view, third, ticketId] = pathname.split("/");
  if (first === "views" && view && isView(view)) {
    return { view, ticketId: third === "tickets" && ticketId ? decodeURIComponent(ticketId) : null };
  }
  if (first && isStaffPage(first)) return { view: "mine", ticketId: null, page: first };
  if (first === "admin" && view && isAdminPage(view)) return { view: "mine", ticketId: null, page: view };
  return { view: "mine", ticketId: null };
}

export function href(route: Route): string {
  if (route.page) return isAdminPage(route.page) ? `/admin/${route.page}` : `/${route.page}`;
  const base = `/views/${route.view}`;
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

/** Opens a page, keeping the queue's view for the way back. */
export function openPage(page: Page): void {
  navigate({ view: route.value.view, ticketId: null, page });
}

window.addEventListener("popstate", () => {
  route.value = parse(window.location.pathname);
});
