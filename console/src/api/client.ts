// The typed client of the public REST API. Every request and answer type comes from the
// generated OpenAPI types (schema.ts), so a change of the API that breaks the console fails
// `vue-tsc`. The access token lives in this object only; the refresh token never reaches
// JavaScript: sign-in asks the server to keep it in an HttpOnly cookie scoped to the refresh
// path, and a refresh sends that cookie with the CSRF header the server requires.
import type { components, operations } from "./schema";
import type { ConnectionReport, EmailTemplate, EmailTemplateChange, MailDelivery, Mailbox, MailboxChange, MailKind, NewMailbox } from "./email";

type Schemas = components["schemas"];
export type Ticket = Schemas["Ticket"];
export type Message = Schemas["Message"];
export type TicketEvent = Schemas["TicketEvent"];
export type User = Schemas["User"];
export type Notification = Schemas["Notification"];
export type TicketStatus = Schemas["TicketStatus"];
export type Priority = Schemas["Priority"];
export type Stats = Schemas["StatsResponse"];
export type Problem = Schemas["Problem"];
export type ServerFrame = Schemas["ServerFrame"];
export type ClientFrame = Schemas["ClientFrame"];
export type Person = Schemas["Person"];
export type Attachment = Schemas["Attachment"];
export type Category = Schemas["Category"];
export type TicketQuery = NonNullable<operations["list_tickets"]["parameters"]["query"]>;
export type TicketChange = Schemas["UpdateTicketRequest"];
export type Role = Schemas["Role"];
export type NewUser = Schemas["CreateUserRequest"];
export type UserChange = Schemas["UpdateUserRequest"];
export type MyChange = Schemas["UpdateMeRequest"];
export type NewCategory = Schemas["CreateCategoryRequest"];
export type CategoryChange = Schemas["CategoryRequest"];
export type Widget = Schemas["WidgetView"];
export type NewWidget = Schemas["CreateWidgetRequest"];
export type WidgetChange = Schemas["WidgetRequest"];
export type Webhook = Schemas["Webhook"];
export type NewWebhook = Schemas["CreateWebhookRequest"];
export type WebhookChange = Schemas["WebhookRequest"];
export type Delivery = Schemas["WebhookDelivery"];
export type CannedReply = Schemas["CannedReply"];
export type NewCannedReply = Schemas["CreateCannedReplyRequest"];
export type CannedReplyChange = Schemas["UpdateCannedReplyRequest"];
export type SavedView = Schemas["SavedView"];
export type ViewFilter = Schemas["ViewFilter"];
export type NewView = Schemas["CreateViewRequest"];
export type ViewChange = Schemas["UpdateViewRequest"];
export type Faq = Schemas["Faq"];
export type NewFaq = Schemas["CreateFaqRequest"];
export type FaqChange = Schemas["FaqRequest"];
type TokenPair = Schemas["TokenResponse"];
type Page<T> = { items: T[]; next_cursor?: string | null };

/** A refused request: the status, and the problem document when the server sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
  ) {
    super(problem?.detail ?? `HTTP ${status}`);
  }
}

type Query = Record<string, string | number | boolean | string[] | undefined>;

function queryString(query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === "" || (Array.isArray(value) && value.length === 0)) continue;
    params.set(name, Array.isArray(value) ? value.join(",") : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

interface Options {
  query?: Query;
  body?: unknown;
  /** A multipart body (files); the browser writes its content type with the boundary. */
  form?: FormData;
  headers?: Record<string, string>;
}

export interface Answer<T> {
  data: T;
  etag: string | null;
}

/** The API as the signed-in agent; `onSignedOut` runs when the session cannot be renewed. */
export class Api {
  private access: string | null = null;
  private renewing: Promise<boolean> | null = null;
  private renewTimer: ReturnType<typeof setTimeout> | undefined;
  onSignedOut: () => void = () => {};

  get accessToken(): string | null {
    return this.access;
  }

  async signIn(email: string, password: string): Promise<User> {
    const body: Schemas["LoginRequest"] = { email, password, cookie: true };
    const { data } = await this.call<TokenPair>("POST", "/api/auth/login", { body }, false);
    this.keep(data);
    return data.user;
  }

  async signOut(): Promise<void> {
    try {
      if (this.access) await this.call<unknown>("POST", "/api/auth/logout", {}, true);
    } finally {
      this.forget();
    }
  }

  forget(): void {
    clearTimeout(this.renewTimer);
    this.access = null;
  }

  /** The session the refresh cookie still holds (after a reload), or null when there is none. */
  async resume(): Promise<User | null> {
    try {
      return (await this.refresh()).user;
    } catch {
      return null;
    }
  }

  private async refresh(): Promise<TokenPair> {
    const body: Schemas["RefreshRequest"] = {};
    const { data } = await this.call<TokenPair>("POST", "/api/auth/refresh", { body, headers: { "X-GrowDesk-CSRF": "1" } }, false);
    this.keep(data);
    return data;
  }

  private keep(pair: TokenPair): void {
    this.access = pair.access_token;
    clearTimeout(this.renewTimer);
    // Renew a little before expiry, so that no request of a working agent meets a 401.
    const lead = Math.max(5, Math.floor(pair.expires_in * 0.8));
    this.renewTimer = setTimeout(() => void this.renew(), lead * 1000);
  }

  /** Refreshes the session once, however many requests ask at the same time. */
  renew(): Promise<boolean> {
    if (!this.renewing) {
      this.renewing = this.exchange().finally(() => {
        this.renewing = null;
      });
    }
    return this.renewing;
  }

  private async exchange(): Promise<boolean> {
    if (!this.access) return false;
    try {
      await this.refresh();
      return true;
    } catch (error) {
      // Only a refusal ends the session; a network failure leaves it to the next try.
      if (error instanceof ApiError) {
        this.forget();
        this.onSignedOut();
      }
      return false;
    }
  }

  private async call<T>(method: string, path: string, options: Options, auth: boolean): Promise<Answer<T>> {
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (auth && this.access) headers.Authorization = `Bearer ${this.access}`;
    const response = await fetch(path + queryString(options.query), {
      method,
      headers,
      body: options.form ?? (options.body === undefined ? null : JSON.stringify(options.body)),
      credentials: "same-origin",
    });
    if (!response.ok) {
      let problem: Problem | null = null;
      try {
        problem = (await response.json()) as Problem;
      } catch {
        problem = null;
      }
      throw new ApiError(response.status, problem);
    }
    // A 202 or 204 may come without a body.
    const text = response.status === 204 ? "" : await response.text();
    const data = (text ? JSON.parse(text) : undefined) as T;
    return { data, etag: response.headers.get("ETag") };
  }

  /** An authenticated request; a 401 renews the token once and tries again. */
  private async send<T>(method: string, path: string, options: Options = {}): Promise<Answer<T>> {
    try {
      return await this.call<T>(method, path, options, true);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401 && (await this.renew())) {
        return this.call<T>(method, path, options, true);
      }
      throw error;
    }
  }

  async me(): Promise<User> {
    return (await this.send<User>("GET", "/api/auth/me")).data;
  }

  async updateMe(change: MyChange): Promise<User> {
    return (await this.send<User>("PATCH", "/api/auth/me", { body: change })).data;
  }

  async users(search: string): Promise<User[]> {
    const query = { limit: 100, q: search || undefined } satisfies NonNullable<operations["list_users"]["parameters"]["query"]>;
    return (await this.send<Page<User>>("GET", "/api/users", { query })).data.items;
  }

  /** The active agents and admins: whom a note mentions. Agents may list these only. */
  async staff(): Promise<User[]> {
    const all: User[] = [];
    for (const role of ["agent", "admin"] as const) {
      let cursor: string | undefined;
      do {
        const query = { role, active: true, limit: 100, cursor } satisfies NonNullable<operations["list_users"]["parameters"]["query"]>;
        const page = (await this.send<Page<User>>("GET", "/api/users", { query })).data;
        all.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
    }
    return all;
  }

  async createUser(request: NewUser): Promise<User> {
    return (await this.send<User>("POST", "/api/users", { body: request })).data;
  }

  async updateUser(id: string, change: UserChange): Promise<User> {
    return (await this.send<User>("PATCH", `/api/users/${encodeURIComponent(id)}`, { body: change })).data;
  }

  async createCategory(request: NewCategory): Promise<Category> {
    return (await this.send<Category>("POST", "/api/categories", { body: request })).data;
  }

  async updateCategory(id: string, change: CategoryChange): Promise<Category> {
    return (await this.send<Category>("PATCH", `/api/categories/${encodeURIComponent(id)}`, { body: change })).data;
  }

  async deleteCategory(id: string): Promise<void> {
    await this.send<unknown>("DELETE", `/api/categories/${encodeURIComponent(id)}`);
  }

  async widgets(): Promise<Widget[]> {
    return (await this.send<Page<Widget>>("GET", "/api/widgets")).data.items;
  }

  async createWidget(request: NewWidget): Promise<Widget> {
    return (await this.send<Widget>("POST", "/api/widgets", { body: request })).data;
  }

  async updateWidget(id: string, change: WidgetChange): Promise<Widget> {
    return (await this.send<Widget>("PATCH", `/api/widgets/${encodeURIComponent(id)}`, { body: change })).data;
  }

  async regenerateKey(id: string): Promise<Widget> {
    return (await this.send<Widget>("POST", `/api/widgets/${encodeURIComponent(id)}/regenerate-key`)).data;
  }

  async webhooks(): Promise<Webhook[]> {
    return (await this.send<Page<Webhook>>("GET", "/api/webhooks")).data.items;
  }

  async createWebhook(request: NewWebhook): Promise<Webhook> {
    return (await this.send<Webhook>("POST", "/api/webhooks", { body: request })).data;
  }

  async updateWebhook(id: string, change: WebhookChange): Promise<Webhook> {
    return (await this.send<Webhook>("PATCH", `/api/webhooks/${encodeURIComponent(id)}`, { body: change })).data;
  }

  async deleteWebhook(id: string): Promise<void> {
    await this.send<unknown>("DELETE", `/api/webhooks/${encodeURIComponent(id)}`);
  }

  async deliveries(webhookId: string): Promise<Delivery[]> {
    const query = { limit: 50 } satisfies NonNullable<operations["list_deliveries"]["parameters"]["query"]>;
    return (await this.send<Page<Delivery>>("GET", `/api/webhooks/${encodeURIComponent(webhookId)}/deliveries`, { query })).data.items;
  }

  /** Every FAQ, published or not, in the order the widget lists them (by position). */
  async faqs(): Promise<Faq[]> {
    const all: Faq[] = [];
    let cursor: string | undefined;
    do {
      const query = { limit: 100, cursor } satisfies NonNullable<operations["list_faqs"]["parameters"]["query"]>;
      const page = (await this.send<Page<Faq>>("GET", "/api/faqs", { query })).data;
      all.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return all;
  }

  async createFaq(request: NewFaq): Promise<Faq> {
    return (await this.send<Faq>("POST", "/api/faqs", { body: request })).data;
  }

  async updateFaq(id: string, change: FaqChange): Promise<Faq> {
    return (await this.send<Faq>("PATCH", `/api/faqs/${encodeURIComponent(id)}`, { body: change })).data;
  }

  async deleteFaq(id: string): Promise<void> {
    await this.send<unknown>("DELETE", `/api/faqs/${encodeURIComponent(id)}`);
  }

  async mailboxes(): Promise<Mailbox[]> {
    return (await this.send<Page<Mailbox>>("GET", "/api/mailboxes")).data.items;
  }

  async createMailbox(request: NewMailbox): Promise<Mailbox> {
    return (await this.send<Mailbox>("POST", "/api/mailboxes", { body: request })).data;
  }

  async updateMailbox(id: string, change: MailboxChange): Promise<Mailbox> {
    return (await this.send<Mailbox>("PATCH", `/api/mailboxes/${encodeURIComponent(id)}`, { body: change })).data;
  }

  async deleteMailbox(id: string): Promise<void> {
    await this.send<unknown>("DELETE", `/api/mailboxes/${encodeURIComponent(id)}`);
  }

  /** Connects to the mailbox's IMAP and SMTP servers with its stored settings and says how each went. */
  async testMailbox(id: string): Promise<ConnectionReport> {
    return (await this.send<ConnectionReport>("POST", `/api/mailboxes/${encodeURIComponent(id)}/test`)).data;
  }

  /** Every kind of mail in every language, as sent now: the built-in text or the admin's. */
  async emailTemplates(): Promise<EmailTemplate[]> {
    return (await this.send<Page<EmailTemplate>>("GET", "/api/email-templates")).data.items;
  }

  async putEmailTemplate(kind: MailKind, locale: string, change: EmailTemplateChange): Promise<EmailTemplate> {
    return (await this.send<EmailTemplate>("PUT", `/api/email-templates/${encodeURIComponent(kind)}/${encodeURIComponent(locale)}`, { body: change })).data;
  }

  /** Drops the admin's version: the built-in one is sent again. */
  async revertEmailTemplate(kind: MailKind, locale: string): Promise<void> {
    await this.send<unknown>("DELETE", `/api/email-templates/${encodeURIComponent(kind)}/${encodeURIComponent(locale)}`);
  }

  /** The mail a ticket caused (acknowledgement, replies, resolved notice) and how far each got. */
  /** Every mail of a ticket, newest first, read a page at a time. */
  async ticketDeliveries(ticketId: string): Promise<MailDelivery[]> {
    const all: MailDelivery[] = [];
    let cursor: string | undefined;
    do {
      const query = { limit: 100, cursor } satisfies NonNullable<operations["list_ticket_deliveries"]["parameters"]["query"]>;
      const page = (await this.send<Page<MailDelivery>>("GET", `/api/tickets/${encodeURIComponent(ticketId)}/deliveries`, { query })).data;
      all.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return all;
  }

  /** Asks for a reset link by mail; the server answers the same whether the address is known or not. */
  async requestPasswordReset(email: string): Promise<void> {
    await this.call<unknown>("POST", "/api/auth/password-reset", { body: { email } }, false);
  }

  /** Sets a new password with the link's token (400 when the link is invalid, used or expired). */
  async confirmPasswordReset(token: string, password: string): Promise<void> {
    await this.call<unknown>("POST", "/api/auth/password-reset/confirm", { body: { token, password } }, false);
  }

  async tickets(query: TicketQuery): Promise<Page<Ticket>> {
    return (await this.send<Page<Ticket>>("GET", "/api/tickets", { query })).data;
  }

  async ticket(id: string): Promise<Ticket> {
    return (await this.send<Ticket>("GET", `/api/tickets/${encodeURIComponent(id)}`)).data;
  }

  /** A page of the ticket's event log, oldest first, after `cursor`. */
  async events(ticketId: string, cursor?: string): Promise<Page<TicketEvent>> {
    const query = { limit: 100, cursor } satisfies NonNullable<operations["ticket_events"]["parameters"]["query"]>;
    return (await this.send<Page<TicketEvent>>("GET", `/api/tickets/${encodeURIComponent(ticketId)}/events`, { query })).data;
  }

  /** Marks the ticket read by the agent up to its latest event (its `unread` clears). */
  async markTicketRead(id: string): Promise<void> {
    await this.send<unknown>("PUT", `/api/tickets/${encodeURIComponent(id)}/read`);
  }

  async categories(): Promise<Category[]> {
    return (await this.send<Page<Category>>("GET", "/api/categories")).data.items;
  }

  async stats(): Promise<Stats> {
    return (await this.send<Stats>("GET", "/api/tickets/stats")).data;
  }

  async messages(ticketId: string, cursor?: string): Promise<Page<Message>> {
    const query = { limit: 100, cursor } satisfies NonNullable<operations["list_messages"]["parameters"]["query"]>;
    return (await this.send<Page<Message>>("GET", `/api/tickets/${encodeURIComponent(ticketId)}/messages`, { query })).data;
  }

  /**
   * Posts a reply or a note, with its files as one multipart request; `key` makes a retry of the
   * same draft post it only once.
   */
  async postMessage(ticketId: string, body: string, internal: boolean, key: string, files: File[] = []): Promise<Message> {
    const path = `/api/tickets/${encodeURIComponent(ticketId)}/messages`;
    const headers = { "Idempotency-Key": key };
    if (files.length === 0) {
      const request: Schemas["MessageRequest"] = { body, internal };
      return (await this.send<Message>("POST", path, { body: request, headers })).data;
    }
    const form = new FormData();
    // As a Blob, the text goes as written: a string field's line breaks become CRLF in a form.
    form.append("body", new Blob([body], { type: "text/plain; charset=utf-8" }));
    form.append("internal", String(internal));
    for (const file of files) form.append("files", file, file.name);
    return (await this.send<Message>("POST", path, { form, headers })).data;
  }

  /** Changes a ticket based on the version the agent saw (412 when someone changed it since). */
  async update(ticket: Ticket, change: TicketChange): Promise<Ticket> {
    const path = `/api/tickets/${encodeURIComponent(ticket.id)}`;
    return (await this.send<Ticket>("PATCH", path, { body: change, headers: { "If-Match": `"${ticket.version}"` } })).data;
  }

  async assign(ticket: Ticket, assigneeId: string | null): Promise<Ticket> {
    const body: Schemas["AssignRequest"] = { assignee_id: assigneeId };
    const path = `/api/tickets/${encodeURIComponent(ticket.id)}/assign`;
    return (await this.send<Ticket>("POST", path, { body, headers: { "If-Match": `"${ticket.version}"` } })).data;
  }

  /** An attachment's bytes, fetched with the agent's token (a plain link would carry none). */
  async attachment(id: string): Promise<Blob> {
    const path = `/api/attachments/${encodeURIComponent(id)}`;
    const fetchIt = (): Promise<Response> => fetch(path, { headers: { Authorization: `Bearer ${this.access ?? ""}` } });
    let response = await fetchIt();
    if (response.status === 401 && (await this.renew())) response = await fetchIt();
    if (!response.ok) throw new ApiError(response.status, null);
    return response.blob();
  }

  /** The canned replies whose title or shortcut starts with `prefix` (all with none), by title. */
  async cannedReplies(prefix?: string, cursor?: string): Promise<Page<CannedReply>> {
    const query = { prefix: prefix || undefined, limit: 100, cursor } satisfies NonNullable<operations["list_canned_replies"]["parameters"]["query"]>;
    return (await this.send<Page<CannedReply>>("GET", "/api/canned-replies", { query })).data;
  }

  async createCannedReply(request: NewCannedReply): Promise<CannedReply> {
    return (await this.send<CannedReply>("POST", "/api/canned-replies", { body: request })).data;
  }

  async updateCannedReply(id: string, change: CannedReplyChange): Promise<CannedReply> {
    return (await this.send<CannedReply>("PATCH", `/api/canned-replies/${encodeURIComponent(id)}`, { body: change })).data;
  }

  async deleteCannedReply(id: string): Promise<void> {
    await this.send<unknown>("DELETE", `/api/canned-replies/${encodeURIComponent(id)}`);
  }

  /** The agent's saved views and the shared ones, by name. */
  async views(cursor?: string): Promise<Page<SavedView>> {
    const query = { limit: 100, cursor } satisfies NonNullable<operations["list_views"]["parameters"]["query"]>;
    return (await this.send<Page<SavedView>>("GET", "/api/views", { query })).data;
  }

  async createView(request: NewView): Promise<SavedView> {
    return (await this.send<SavedView>("POST", "/api/views", { body: request })).data;
  }

  async updateView(id: string, change: ViewChange): Promise<SavedView> {
    return (await this.send<SavedView>("PATCH", `/api/views/${encodeURIComponent(id)}`, { body: change })).data;
  }

  async deleteView(id: string): Promise<void> {
    await this.send<unknown>("DELETE", `/api/views/${encodeURIComponent(id)}`);
  }

  async notifications(): Promise<Page<Notification>> {
    const query = { limit: 50 } satisfies NonNullable<operations["list_notifications"]["parameters"]["query"]>;
    return (await this.send<Page<Notification>>("GET", "/api/notifications", { query })).data;
  }

  async markRead(id: string): Promise<void> {
    await this.send<unknown>("POST", `/api/notifications/${encodeURIComponent(id)}/read`);
  }

  async markAllRead(): Promise<void> {
    await this.send<unknown>("POST", "/api/notifications/read-all");
  }
}
