// What the ticket page shows of mail: the delivery of the mail a message caused (the newest word
// on it: the ticket's delivery list when read, else what the message carried), and when the list
// is worth reading again (some mail still queued).
import type { Message } from "../api/client";
import type { DeliveryStatus, MailDelivery } from "../api/email";

/** How often the ticket's deliveries are read again while one of them is still queued. */
export const QUEUED_REFRESH_MS = 15_000;

/** The latest known delivery of the mail a message caused, or null when it caused none. */
export function deliveryOf(message: Message, deliveries: readonly MailDelivery[]): MailDelivery | null {
  const own = message.delivery ?? null;
  if (!own) return null;
  return deliveries.find((delivery) => delivery.mail_id === own.mail_id) ?? own;
}

/** Some mail is still on its way: its status may change without an event of the ticket. */
export function awaitingDelivery(deliveries: readonly MailDelivery[], messages: readonly Message[] = []): boolean {
  return deliveries.some((delivery) => delivery.status === "queued") || messages.some((message) => deliveryOf(message, deliveries)?.status === "queued");
}

/** Settled mail says so loudly when it did not arrive. */
export function failed(status: DeliveryStatus): boolean {
  return status === "failed" || status === "bounced";
}

/** The deliveries newest first, as the ticket's "Mail" section lists them. */
export function newestFirst(deliveries: readonly MailDelivery[]): MailDelivery[] {
  return [...deliveries].sort((a, b) => b.created_at.localeCompare(a.created_at) || b.mail_id.localeCompare(a.mail_id));
}
