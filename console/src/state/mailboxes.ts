// The mailbox form's logic: a mailbox as the form's fields, the fields as the API's request (with
// passwords write-only: a blank field keeps the stored one, "remove" clears it), and the fields a
// 422 problem names, each with its reason, shown at that field.
import type { Priority, Problem } from "../api/client";
import type { Mailbox, NewMailbox, TransportSecurity } from "../api/email";

export const SECURITIES: TransportSecurity[] = ["tls", "starttls", "none"];

/** The ports each side's security usually takes, offered when the admin picks the security. */
export const DEFAULT_PORTS: Record<"imap" | "smtp", Record<TransportSecurity, number>> = {
  imap: { tls: 993, starttls: 143, none: 143 },
  smtp: { tls: 465, starttls: 587, none: 25 },
};

export interface PasswordField {
  /** A new password typed; blank keeps the stored one. */
  value: string;
  /** Whether one is stored now (the API says so; it never says which). */
  stored: boolean;
  /** The admin asked to remove the stored one. */
  remove: boolean;
}

export interface MailboxForm {
  address: string;
  displayName: string;
  imapEnabled: boolean;
  imapHost: string;
  imapPort: string;
  imapSecurity: TransportSecurity;
  imapUsername: string;
  imapPassword: PasswordField;
  imapFolder: string;
  afterImport: "seen" | "move";
  moveFolder: string;
  smtpEnabled: boolean;
  smtpHost: string;
  smtpPort: string;
  smtpSecurity: TransportSecurity;
  smtpUsername: string;
  smtpPassword: PasswordField;
  categoryId: string;
  priority: Priority;
  acknowledge: boolean;
  active: boolean;
}

export function emptyForm(): MailboxForm {
  return {
    address: "",
    displayName: "",
    imapEnabled: true,
    imapHost: "",
    imapPort: String(DEFAULT_PORTS.imap.tls),
    imapSecurity: "tls",
    imapUsername: "",
    imapPassword: { value: "", stored: false, remove: false },
    imapFolder: "INBOX",
    afterImport: "seen",
    moveFolder: "",
    smtpEnabled: true,
    smtpHost: "",
    smtpPort: String(DEFAULT_PORTS.smtp.starttls),
    smtpSecurity: "starttls",
    smtpUsername: "",
    smtpPassword: { value: "", stored: false, remove: false },
    categoryId: "",
    priority: "medium",
    acknowledge: true,
    active: true,
  };
}

export function formOf(mailbox: Mailbox): MailboxForm {
  const empty = emptyForm();
  const { imap, smtp } = mailbox;
  return {
    ...empty,
    address: mailbox.address,
    displayName: mailbox.display_name,
    imapEnabled: Boolean(imap),
    ...(imap && {
      imapHost: imap.host,
      imapPort: String(imap.port),
      imapSecurity: imap.security,
      imapUsername: imap.username,
      imapFolder: imap.folder,
      afterImport: imap.after_import.action,
      moveFolder: imap.after_import.action === "move" ? imap.after_import.folder : "",
    }),
    imapPassword: { value: "", stored: mailbox.has_imap_password, remove: false },
    smtpEnabled: Boolean(smtp),
    ...(smtp && { smtpHost: smtp.host, smtpPort: String(smtp.port), smtpSecurity: smtp.security, smtpUsername: smtp.username }),
    smtpPassword: { value: "", stored: mailbox.has_smtp_password, remove: false },
    categoryId: mailbox.default_category_id ?? "",
    priority: mailbox.default_priority,
    acknowledge: mailbox.acknowledge,
    active: mailbox.active,
  };
}

/** What the request says of a password: a typed one sets it, "remove" clears it, else nothing. */
function passwordChange(field: PasswordField): { password?: string | null } {
  if (field.value !== "") return { password: field.value };
  return field.remove && field.stored ? { password: null } : {};
}

/** A port as typed; anything but a port number goes as 0, which the server refuses at the field. */
function port(text: string): number {
  const value = Number(text.trim());
  return Number.isInteger(value) && value >= 0 && value <= 65_535 ? value : 0;
}

export function requestOf(form: MailboxForm): NewMailbox {
  return {
    address: form.address.trim(),
    display_name: form.displayName.trim(),
    imap: form.imapEnabled
      ? {
          host: form.imapHost.trim(),
          port: port(form.imapPort),
          security: form.imapSecurity,
          username: form.imapUsername.trim(),
          folder: form.imapFolder.trim() || "INBOX",
          after_import: form.afterImport === "move" ? { action: "move", folder: form.moveFolder.trim() } : { action: "seen" },
          ...passwordChange(form.imapPassword),
        }
      : null,
    smtp: form.smtpEnabled
      ? { host: form.smtpHost.trim(), port: port(form.smtpPort), security: form.smtpSecurity, username: form.smtpUsername.trim(), ...passwordChange(form.smtpPassword) }
      : null,
    default_category_id: form.categoryId || null,
    default_priority: form.priority,
    acknowledge: form.acknowledge,
    active: form.active,
  };
}

/** The form's field each request field is typed into (the API names fields by their JSON path). */
const FIELDS: Record<string, keyof MailboxForm> = {
  address: "address",
  display_name: "displayName",
  "imap.host": "imapHost",
  "imap.port": "imapPort",
  "imap.security": "imapSecurity",
  "imap.username": "imapUsername",
  "imap.password": "imapPassword",
  "imap.folder": "imapFolder",
  "imap.after_import": "moveFolder",
  "imap.after_import.folder": "moveFolder",
  "smtp.host": "smtpHost",
  "smtp.port": "smtpPort",
  "smtp.security": "smtpSecurity",
  "smtp.username": "smtpUsername",
  "smtp.password": "smtpPassword",
  default_category_id: "categoryId",
  default_priority: "priority",
};

export type FieldErrors = Partial<Record<keyof MailboxForm, string>>;

/**
 * The reasons a problem gives, by the form's field; a reason for a field the form does not show
 * (or for the request as a whole) comes back in `rest`, to show under the form.
 */
export function fieldErrors(problem: Problem | null): { fields: FieldErrors; rest: string[] } {
  const fields: FieldErrors = {};
  const rest: string[] = [];
  for (const error of problem?.errors ?? []) {
    const field = FIELDS[error.field];
    if (field) fields[field] = fields[field] ? `${fields[field]} ${error.message}` : error.message;
    else rest.push(`${error.field}: ${error.message}`);
  }
  return { fields, rest };
}
