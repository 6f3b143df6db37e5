// Desktop notifications: the browser's own, for new bell notifications while the console's tab
// is hidden. Opt-in on this device; permission is asked for only when the agent clicks to turn
// them on, and nothing is shown while the browser denies them (or has none).
export const DESKTOP_KEY = "growdesk.desktop-notifications";

export type Permission = NotificationPermission | "unsupported";

/** What the browser allows now. */
export function permission(): Permission {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

/** Whether a new bell notification becomes a desktop one. */
export function shouldNotify(optedIn: boolean, allowed: Permission, hidden: boolean): boolean {
  return optedIn && allowed === "granted" && hidden;
}

/** The agent's choice on this device. */
export function optedIn(storage: Pick<Storage, "getItem">): boolean {
  return storage.getItem(DESKTOP_KEY) === "on";
}

/**
 * Turns desktop notifications on or off on this device; turning them on asks the browser (so
 * call it from a click). Whether they are on afterwards.
 */
export async function choose(storage: Pick<Storage, "setItem" | "removeItem">, on: boolean): Promise<boolean> {
  if (!on || permission() === "unsupported") {
    storage.removeItem(DESKTOP_KEY);
    return false;
  }
  const answer = Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
  if (answer !== "granted") {
    storage.removeItem(DESKTOP_KEY);
    return false;
  }
  storage.setItem(DESKTOP_KEY, "on");
  return true;
}

/** Shows a desktop notification; a click brings the console back and runs `open`. */
export function show(title: string, body: string, tag: string, open: () => void): void {
  const shown = new Notification(title, { body, tag });
  shown.onclick = () => {
    window.focus();
    open();
    shown.close();
  };
}
