// The email channel's shapes in the REST API (mailboxes, email templates, mail deliveries), from
// the generated OpenAPI types like the rest of the client, under the names the console uses.
import type { components } from "./schema";

type Schemas = components["schemas"];
export type MessageChannel = Schemas["MessageChannel"];
export type TransportSecurity = Schemas["TransportSecurity"];
export type AfterImport = Schemas["AfterImport"];
export type ImapSettings = Schemas["ImapSettings"];
export type SmtpSettings = Schemas["SmtpSettings"];
/** A mailbox as the API shows it: its passwords never, only whether each is set. */
export type Mailbox = Schemas["Mailbox"];
/** A new mailbox; a password in it: absent keeps the stored one, null removes it, a string sets it. */
export type NewMailbox = Schemas["CreateMailboxRequest"];
export type MailboxChange = Schemas["MailboxRequest"];
export type Check = Schemas["ConnectionCheck"];
export type ConnectionReport = Schemas["ConnectionReport"];
export type MailKind = Schemas["MailKind"];
export type DeliveryStatus = Schemas["MailDeliveryStatus"];
/** One outgoing mail of a ticket and how far it got. */
export type MailDelivery = Schemas["Delivery"];
export type EmailTemplate = Schemas["EmailTemplate"];
export type EmailTemplateChange = Schemas["EmailTemplateRequest"];
