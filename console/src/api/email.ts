// The email channel's shapes in the REST API (mailboxes, email templates, mail deliveries and a
// message's channel), written from the API's contract until the generated schema carries them;
// each name is the one the OpenAPI document gives it, so switching to `Schemas[...]` is one line.
import type { Message, Priority } from "./client";

export type MessageChannel = "web" | "widget" | "email" | "api" | "import" | "system";
export type TransportSecurity = "tls" | "starttls" | "none";
export type AfterImport = { action: "seen" } | { action: "move"; folder: string };

export interface ImapSettings {
  host: string;
  port: number;
  security: TransportSecurity;
  username: string;
  folder: string;
  after_import: AfterImport;
}

export interface SmtpSettings {
  host: string;
  port: number;
  security: TransportSecurity;
  username: string;
}

/** A mailbox as the API shows it: its passwords never, only whether each is set. */
export interface Mailbox {
  id: string;
  address: string;
  display_name: string;
  imap: ImapSettings | null;
  smtp: SmtpSettings | null;
  has_imap_password: boolean;
  has_smtp_password: boolean;
  default_category_id: string | null;
  default_priority: Priority;
  acknowledge: boolean;
  active: boolean;
  created_at: string;
  updated_at: string;
}

/** A password in a request: absent keeps the stored one, null removes it, a string sets it. */
export type PasswordChange = { password?: string | null };

export interface MailboxRequest {
  address: string;
  display_name: string;
  imap: (ImapSettings & PasswordChange) | null;
  smtp: (SmtpSettings & PasswordChange) | null;
  default_category_id: string | null;
  default_priority: Priority;
  acknowledge: boolean;
  active: boolean;
}

export interface Check {
  ok: boolean;
  error: string | null;
}

export interface ConnectionReport {
  imap: Check;
  smtp: Check;
}

export type MailKind = "reply" | "acknowledgement" | "resolved" | "password_reset";
export type DeliveryStatus = "queued" | "sent" | "failed" | "bounced";

/** One outgoing mail of a ticket and how far it got. */
export interface MailDelivery {
  mail_id: string;
  kind: MailKind;
  recipient: string;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface EmailTemplate {
  kind: MailKind;
  locale: string;
  subject: string;
  text_body: string;
  html_body: string;
  customised: boolean;
}

export type EmailTemplateChange = Pick<EmailTemplate, "subject" | "text_body" | "html_body">;

/** A message with the channel it came by and, for staff, the mail it caused. */
export type ChannelMessage = Message & { channel?: MessageChannel; delivery?: MailDelivery | null };
