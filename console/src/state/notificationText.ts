// A bell notification in words, for the bell's list and the browser's desktop notification.
import type { Notification } from "../api/client";
import { t } from "../i18n";
import type { Key } from "../i18n/messages";

const KINDS = ["assigned", "customer_replied", "new_ticket", "mentioned", "sla_breach"] as const;

export function notificationText(notification: Notification): string {
  const data = notification.data as { number?: number; subject?: string };
  const kind = (KINDS as readonly string[]).includes(notification.kind) ? notification.kind : "other";
  return t(`notifications.${kind}` as Key, { number: data.number ?? "", subject: data.subject ?? "" });
}
