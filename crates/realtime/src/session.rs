//! One WebSocket session: resume, then live events, chat, typing and presence.

use std::collections::HashSet;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as Frame, WebSocket};
use futures_util::{SinkExt as _, StreamExt as _};
use growdesk_service::messages::MessageDraft;
use growdesk_service::policy::{receives, shows_as_viewer};
use growdesk_service::widgets::Visitor;
use growdesk_service::{Principal, Service, ServiceError};
use growdesk_store::events::Span;
use std::net::IpAddr;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use uuid::Uuid;

use crate::frames::{ClientFrame, EventFrame, Person, ServerFrame};
use crate::hub::{Registration, Signal};
use crate::relay::signals_for;

/// Close codes (RFC 6455 §7.4.1 and the IANA registry).
const GOING_AWAY: u16 = 1001;
const POLICY_VIOLATION: u16 = 1008;
const TRY_AGAIN_LATER: u16 = 1013;

/// Events read per query while catching up.
const BACKLOG_BATCH: u32 = 500;

/// How a session behaves.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    /// The server pings this often; a client silent for two intervals is dropped.
    pub ping_interval: Duration,
    /// Frames queued for a client before it counts as too slow and is closed.
    pub send_queue: usize,
}

/// Who is on the other end of a socket.
#[derive(Debug, Clone)]
pub enum Audience {
    /// A signed-in user (staff or customer) on `/api/ws`.
    User(Principal),
    /// A widget visitor on `/widget/ws`, writing from `ip`.
    Visitor {
        visitor: Visitor,
        name: String,
        ip: IpAddr,
    },
}

impl Audience {
    fn person(&self) -> Person {
        match self {
            Self::User(principal) => Person {
                id: principal.user.id,
                name: principal.user.name.clone(),
            },
            Self::Visitor { visitor, name, .. } => Person {
                id: visitor.visitor_id,
                name: name.clone(),
            },
        }
    }

    fn expires_at(&self) -> time::OffsetDateTime {
        match self {
            Self::User(principal) => principal.access_expires_at,
            Self::Visitor { visitor, .. } => {
                time::OffsetDateTime::from_unix_timestamp(visitor.expires_at)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            }
        }
    }

    fn shows_as_viewer(&self) -> bool {
        matches!(self, Self::User(principal) if shows_as_viewer(principal))
    }
}

/// Why the session ended, for the log.
#[derive(Debug)]
enum End {
    Closed(u16, &'static str),
    ClientLeft,
}

struct Session {
    service: Service,
    audience: Audience,
    registration: Registration,
    out: mpsc::Sender<Frame>,
    /// The id of the last event sent (or skipped): nothing at or below it is sent again.
    last_event_id: i64,
    subscriptions: HashSet<Uuid>,
}

fn text(frame: &ServerFrame) -> Frame {
    Frame::Text(serde_json::to_string(frame).unwrap_or_default().into())
}

/// Runs a session until the client leaves, the session is revoked, its token expires, the
/// client stops answering or cannot keep up, or the server shuts down. `resume_after` is the
/// last event id the client saw; without one, only events from now on are sent.
pub async fn run(
    socket: WebSocket,
    service: Service,
    audience: Audience,
    registration: Registration,
    resume_after: Option<i64>,
    settings: SessionSettings,
) {
    let (mut sink, mut stream) = socket.split();
    let (out, mut queue) = mpsc::channel::<Frame>(settings.send_queue.max(1));
    // One writer per socket: frames reach the client in the order they were queued.
    let writer = tokio::spawn(async move {
        while let Some(frame) = queue.recv().await {
            let closing = matches!(frame, Frame::Close(_));
            if sink.send(frame).await.is_err() || closing {
                break;
            }
        }
        let _ = sink.close().await;
    });
    // Subscribe before reading the backlog, so no event falls between the two.
    let signals = registration.hub().subscribe();
    let user_id = audience.person().id;
    let mut session = Session {
        service,
        audience,
        registration,
        out,
        last_event_id: 0,
        subscriptions: HashSet::new(),
    };
    // The start and the handling of a request run service calls whose futures are large;
    // boxed, they take memory while they run instead of in every idle session's state
    // (about 45 KiB per socket before).
    let end = match Box::pin(session.start(resume_after)).await {
        Ok(()) => session.live(signals, &mut stream, settings).await,
        Err(error) => {
            tracing::warn!(%error, "could not resume a socket");
            End::Closed(TRY_AGAIN_LATER, "try again later")
        }
    };
    tracing::debug!(%user_id, ?end, "socket closed");
    match end {
        End::Closed(code, reason) => {
            let close = Frame::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            }));
            if session.out.try_send(close).is_err() {
                // The queue is full (a slow client): do not wait for it.
                writer.abort();
            }
        }
        End::ClientLeft => {}
    }
    drop(session);
    let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
}

impl Session {
    /// Sends what the client missed since `resume_after`, then `ready`.
    async fn start(&mut self, resume_after: Option<i64>) -> Result<(), ServiceError> {
        // Read after subscribing: the relay publishes what lies beyond these ids after now (see
        // `relay`), so replaying the log up to them loses nothing.
        let settled = self.service.store().events().settled().await?.events;
        self.last_event_id = resume_after.map_or(settled, |id| id.max(0));
        loop {
            let span = Span {
                after: self.last_event_id,
                upto: settled,
            };
            let feed = match &self.audience {
                Audience::User(principal) => {
                    self.service
                        .tickets()
                        .missed_events(principal, span, BACKLOG_BATCH)
                        .await?
                }
                Audience::Visitor { visitor, .. } => {
                    self.service
                        .visitors()
                        .missed_events(visitor, span, BACKLOG_BATCH)
                        .await?
                }
            };
            let complete = feed.len() < BACKLOG_BATCH as usize;
            for signal in signals_for(self.service.store(), feed).await? {
                // Catching up waits for the client rather than dropping it.
                if let Some(frame) = self.frame_for(&signal)
                    && self.out.send(text(&frame)).await.is_err()
                {
                    return Ok(());
                }
            }
            if complete {
                break;
            }
        }
        if let Audience::Visitor { .. } = self.audience {
            let agents = ServerFrame::Agents {
                online: self.registration.hub().staff_online(),
            };
            let _ = self.out.send(text(&agents)).await;
        }
        let ready = ServerFrame::Ready {
            last_event_id: self.last_event_id,
        };
        let _ = self.out.send(text(&ready)).await;
        Ok(())
    }

    async fn live(
        &mut self,
        mut signals: broadcast::Receiver<std::sync::Arc<Signal>>,
        stream: &mut futures_util::stream::SplitStream<WebSocket>,
        settings: SessionSettings,
    ) -> End {
        let mut ping = tokio::time::interval_at(
            Instant::now() + settings.ping_interval,
            settings.ping_interval,
        );
        let mut last_heard = Instant::now();
        let expiry = self.audience.expires_at() - time::OffsetDateTime::now_utc();
        let expires = tokio::time::sleep(expiry.try_into().unwrap_or(Duration::ZERO));
        tokio::pin!(expires);
        let closer = self.registration.closer().clone();
        loop {
            tokio::select! {
                () = closer.cancelled() => {
                    return if self.registration.hub().is_shutting_down() {
                        End::Closed(GOING_AWAY, "the server is shutting down")
                    } else {
                        End::Closed(POLICY_VIOLATION, "the session has ended")
                    };
                }
                () = &mut expires => return End::Closed(POLICY_VIOLATION, "the access token expired; reconnect with a new one"),
                _ = ping.tick() => {
                    if last_heard.elapsed() > settings.ping_interval * 2 {
                        return End::Closed(GOING_AWAY, "no answer to pings");
                    }
                    if !self.queue(Frame::Ping(Vec::new().into())) {
                        return End::Closed(TRY_AGAIN_LATER, "too slow");
                    }
                }
                signal = signals.recv() => match signal {
                    Ok(signal) => {
                        if let Some(frame) = self.frame_for(&signal)
                            && !self.queue(text(&frame))
                        {
                            return End::Closed(TRY_AGAIN_LATER, "too slow; reconnect and resume");
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        return End::Closed(TRY_AGAIN_LATER, "too slow; reconnect and resume");
                    }
                    Err(broadcast::error::RecvError::Closed) => return End::Closed(GOING_AWAY, "the server is shutting down"),
                },
                incoming = stream.next() => match incoming {
                    None | Some(Err(_)) | Some(Ok(Frame::Close(_))) => return End::ClientLeft,
                    Some(Ok(frame)) => {
                        last_heard = Instant::now();
                        let reply = match frame {
                            Frame::Text(body) => Box::pin(self.handle(body.as_str())).await,
                            Frame::Binary(_) => Some(ServerFrame::Error {
                                reference: None,
                                code: "bad-request",
                                detail: "frames are JSON text".into(),
                            }),
                            _ => None,
                        };
                        if let Some(reply) = reply
                            && !self.queue(text(&reply))
                        {
                            return End::Closed(TRY_AGAIN_LATER, "too slow");
                        }
                    }
                },
            }
        }
    }

    /// Queues a frame without waiting; `false` when the client is too far behind.
    fn queue(&self, frame: Frame) -> bool {
        self.out.try_send(frame).is_ok()
    }

    /// The frame this session's client gets for a signal, if any.
    fn frame_for(&mut self, signal: &Signal) -> Option<ServerFrame> {
        match signal {
            Signal::Event(signal) => {
                let event = &signal.feed.event;
                if event.id <= self.last_event_id {
                    return None;
                }
                self.last_event_id = event.id;
                let receives = match &self.audience {
                    Audience::User(principal) => {
                        receives(principal, event, signal.feed.requester_id)
                    }
                    Audience::Visitor { visitor, .. } => visitor.receives(&signal.feed),
                };
                receives.then(|| {
                    ServerFrame::Event(Box::new(EventFrame {
                        event: event.clone(),
                        message: signal.message.clone(),
                        notification: signal.notification.clone(),
                    }))
                })
            }
            Signal::Typing {
                ticket_id,
                user,
                typing,
            } => (self.subscriptions.contains(ticket_id) && user.id != self.audience.person().id)
                .then(|| ServerFrame::Typing {
                    ticket_id: *ticket_id,
                    user: user.clone(),
                    typing: *typing,
                }),
            Signal::AgentsOnline(online) => matches!(self.audience, Audience::Visitor { .. })
                .then_some(ServerFrame::Agents { online: *online }),
            Signal::Presence { ticket_id, viewers } => {
                self.subscriptions
                    .contains(ticket_id)
                    .then(|| ServerFrame::Presence {
                        ticket_id: *ticket_id,
                        viewers: viewers.clone(),
                    })
            }
        }
    }

    /// Answers one client frame.
    async fn handle(&mut self, body: &str) -> Option<ServerFrame> {
        let frame = match serde_json::from_str::<ClientFrame>(body) {
            Ok(frame) => frame,
            Err(error) => {
                return Some(ServerFrame::Error {
                    reference: None,
                    code: "bad-request",
                    detail: error.to_string(),
                });
            }
        };
        let refused = |reference: Option<String>, error: ServiceError| ServerFrame::Error {
            reference,
            code: error.code(),
            detail: error.to_string(),
        };
        let hub = self.registration.hub().clone();
        match frame {
            ClientFrame::Subscribe { ticket_id } => {
                if let Err(error) = self.may_see(ticket_id).await {
                    return Some(refused(None, error));
                }
                self.subscriptions.insert(ticket_id);
                if self.audience.shows_as_viewer() {
                    hub.set_viewing(
                        ticket_id,
                        self.registration.id(),
                        Some(self.audience.person()),
                    );
                }
                Some(ServerFrame::Presence {
                    ticket_id,
                    viewers: hub.viewers(ticket_id),
                })
            }
            ClientFrame::Unsubscribe { ticket_id } => {
                self.subscriptions.remove(&ticket_id);
                hub.set_viewing(ticket_id, self.registration.id(), None);
                None
            }
            ClientFrame::Typing { ticket_id, typing } => {
                if !self.subscriptions.contains(&ticket_id) {
                    return Some(refused(
                        None,
                        ServiceError::Conflict("subscribe to the ticket first".to_owned()),
                    ));
                }
                hub.publish(Signal::Typing {
                    ticket_id,
                    user: self.audience.person(),
                    typing,
                });
                None
            }
            ClientFrame::Message {
                reference,
                ticket_id,
                body,
                internal,
            } => {
                // The frame's ref doubles as the idempotency key: a resend after a drop is safe.
                let key = format!("ws:{reference}");
                let posted = match &self.audience {
                    Audience::User(principal) => {
                        let draft = MessageDraft {
                            body,
                            internal,
                            files: Vec::new(),
                        };
                        self.service
                            .messages()
                            .post(principal, ticket_id, draft, Some(&key))
                            .await
                    }
                    Audience::Visitor { .. } if internal => {
                        Err(ServiceError::Forbidden("only staff write internal notes"))
                    }
                    Audience::Visitor { visitor, ip, .. } => {
                        self.service
                            .visitors()
                            .post_message(visitor, ticket_id, body, *ip, Some(&key))
                            .await
                    }
                };
                match posted {
                    Ok(message) => Some(ServerFrame::Ack {
                        reference,
                        message: Box::new(message),
                    }),
                    Err(error) => Some(refused(Some(reference), error)),
                }
            }
        }
    }

    /// Whether the other end may see `ticket_id`, as the REST API decides it.
    async fn may_see(&self, ticket_id: Uuid) -> Result<(), ServiceError> {
        match &self.audience {
            Audience::User(principal) => self
                .service
                .tickets()
                .get(principal, ticket_id)
                .await
                .map(drop),
            Audience::Visitor { visitor, .. } => self
                .service
                .visitors()
                .ticket(visitor, ticket_id)
                .await
                .map(drop),
        }
    }
}
