// The URL holds the console's state: `/views/<view>` and `/views/<view>/tickets/<id>`, with
// `/sign-in` before the agent has signed in. The server answers these paths with the console.
import { ref } from "vue";
import { isView, type ViewId } from "./state/queue";

export interface Route {
  view: ViewId;
  ticketId: string | null;
}

export function parse(pathname: string): Route {
  const [, first, view, third, ticketId] = pathname.split("/");
  if (first === "views" && view && isView(view)) {
    return { view, ticketId: third === "tickets" && ticketId ? decodeURIComponent(ticketId) : null };
  }
  return { view: "mine", ticketId: null };
}

export function href(route: Route): string {
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

window.addEventListener("popstate", () => {
  route.value = parse(window.location.pathname);
});
