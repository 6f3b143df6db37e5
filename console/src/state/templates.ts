// The email templates' editor logic: the placeholders a template may use, a preview of it filled
// with sample values (escaped in HTML, as the server fills them), and the placeholders the server
// would refuse.
import type { MailKind } from "../api/email";

export const MAIL_KINDS: MailKind[] = ["acknowledgement", "reply", "resolved", "password_reset"];

export const PLACEHOLDERS = ["requester.name", "ticket.number", "ticket.subject", "message.body", "agent.name", "unsubscribe_url", "reset_url"] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

const PATTERN = /\{\{\s*([^{}]*?)\s*\}\}/g;

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

function isPlaceholder(name: string): name is Placeholder {
  return (PLACEHOLDERS as readonly string[]).includes(name);
}

/** The template with each known placeholder replaced by its sample (HTML-escaped in HTML); unknown ones stay as written. */
export function fill(template: string, samples: Record<Placeholder, string>, html: boolean): string {
  return template.replace(PATTERN, (whole, name: string) => {
    if (!isPlaceholder(name)) return whole;
    return html ? escapeHtml(samples[name]) : samples[name];
  });
}

/** The placeholders in `texts` that no template knows, each once, in the order written. */
export function unknownPlaceholders(...texts: string[]): string[] {
  const unknown = new Set<string>();
  for (const text of texts) {
    for (const [, name] of text.matchAll(PATTERN)) {
      if (name !== undefined && !isPlaceholder(name)) unknown.add(name);
    }
  }
  return [...unknown];
}
