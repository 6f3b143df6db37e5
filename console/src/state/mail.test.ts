// A message's mail on the ticket page: the newest word on a mail wins, and the list is read again
// only while some mail is queued.
import { describe, expect, it } from "vitest";
import type { Message } from "../api/client";
import type { MailDelivery } from "../api/email";
import { awaitingDelivery, deliveryOf, failed, newestFirst } from "./mail";

const delivery = (mail: string, status: MailDelivery["status"], created = "2026-12-02T10:00:00Z"): MailDelivery => ({
  mail_id: mail,
  kind: "reply",
  recipient: "carla@example.test",
  status,
  attempts: status === "queued" ? 0 : 1,
  last_error: status === "failed" ? "550 mailbox unavailable" : null,
  created_at: created,
  sent_at: status === "sent" ? created : null,
});

const message = (changes: Partial<Message> = {}): Message => ({
  id: "m1",
  ticket_id: "t1",
  author: { id: "u1", name: "Ana", role: "agent" } as Message["author"],
  channel: "web",
  body: "Hello",
  internal: false,
  attachments: [],
  created_at: "2026-12-02T10:00:00Z",
  ...changes,
});

describe("deliveryOf", () => {
  it("is none for a message that caused no mail", () => {
    expect(deliveryOf(message(), [delivery("a", "sent")])).toBeNull();
    expect(deliveryOf(message({ delivery: null }), [])).toBeNull();
  });

  it("takes the ticket's newer word on the mail over what the message carried", () => {
    const sent = message({ delivery: delivery("a", "queued") });
    expect(deliveryOf(sent, [])?.status).toBe("queued");
    expect(deliveryOf(sent, [delivery("b", "failed"), delivery("a", "sent")])?.status).toBe("sent");
  });
});

describe("awaitingDelivery", () => {
  it("waits while a mail of the list or of a message is queued, and not once all are settled", () => {
    expect(awaitingDelivery([delivery("a", "sent"), delivery("b", "queued")])).toBe(true);
    expect(awaitingDelivery([delivery("a", "sent"), delivery("b", "failed"), delivery("c", "bounced")])).toBe(false);
    expect(awaitingDelivery([], [message({ delivery: delivery("a", "queued") })])).toBe(true);
    expect(awaitingDelivery([delivery("a", "sent")], [message({ delivery: delivery("a", "queued") })])).toBe(false);
    expect(awaitingDelivery([])).toBe(false);
  });
});

describe("failed and newestFirst", () => {
  it("calls failed and bounced mail failures, queued and sent not", () => {
    expect(["queued", "sent", "failed", "bounced"].filter((status) => failed(status as MailDelivery["status"]))).toEqual(["failed", "bounced"]);
  });

  it("lists the newest mail first without changing the list it was given", () => {
    const given = [delivery("a", "sent", "2026-12-02T09:00:00Z"), delivery("b", "queued", "2026-12-02T11:00:00Z"), delivery("c", "sent", "2026-12-02T10:00:00Z")];
    expect(newestFirst(given).map((item) => item.mail_id)).toEqual(["b", "c", "a"]);
    expect(given.map((item) => item.mail_id)).toEqual(["a", "b", "c"]);
  });
});
