/* GrowDesk chat widget. Embed with:
 *   <script src="https://YOUR-GROWDESK/widget.js" data-key="WIDGET-KEY" async></script>
 * Plain JavaScript, no dependencies. Its styles live in a shadow root, so the page's CSS and
 * the widget's cannot clash. Text is always inserted as text, never as HTML.
 * /widget/preview loads it with data-preview (the config to draw, instead of a key): it then
 * draws itself opened and talks to no server, for the console's widget editor. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !(script.getAttribute("data-key") || script.getAttribute("data-preview"))) { return; }
  var key = script.getAttribute("data-key");
  var preview = script.getAttribute("data-preview");
  var base = new URL(script.src, location.href).origin;
  var storageKey = "growdesk:" + key;
  var saved = {};
  if (!preview) {
    try { saved = JSON.parse(localStorage.getItem(storageKey) || "{}") || {}; } catch (e) { saved = {}; }
  }
  function save() { try { localStorage.setItem(storageKey, JSON.stringify(saved)); } catch (e) { /* private mode */ } }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function api(method, path, body, extraHeaders) {
    var headers = { "X-Widget-Key": key };
    if (saved.token) { headers.Authorization = "Bearer " + saved.token; }
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    Object.keys(extraHeaders || {}).forEach(function (name) { headers[name] = extraHeaders[name]; });
    return fetch(base + path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (response) {
        return response.text().then(function (text) {
          var data = text ? JSON.parse(text) : null;
          if (!response.ok) {
            var error = new Error((data && data.detail) || ("HTTP " + response.status));
            error.status = response.status;
            throw error;
          }
          return data;
        });
      });
  }

  var host = el("div", { "data-growdesk": "widget" });
  var root = host.attachShadow({ mode: "open" });
  var style = el("style");
  style.textContent = [
    ":host{all:initial}",
    "[hidden]{display:none!important}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif}",
    ".launcher{position:fixed;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;cursor:pointer;box-shadow:0 4px 12px rgba(0,0,0,.25);z-index:2147483646;display:flex;align-items:center;justify-content:center}",
    ".panel{position:fixed;bottom:88px;width:340px;max-width:calc(100vw - 40px);height:480px;max-height:calc(100vh - 120px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden;z-index:2147483647}",
    ".panel[hidden]{display:none}",
    "header{padding:12px 14px}",
    "header h2{margin:0;font-size:16px}",
    ".status{font-size:12px;margin-top:2px}",
    ".log{flex:1;overflow-y:auto;padding:12px;background:#f7f7f8;display:flex;flex-direction:column;gap:8px}",
    ".bubble{max-width:85%;padding:8px 10px;border-radius:10px;font-size:14px;white-space:pre-wrap;word-wrap:break-word}",
    ".mine{align-self:flex-end;background:#dbeafe}",
    ".theirs{align-self:flex-start;background:#fff;border:1px solid #e5e7eb}",
    ".who{display:block;font-size:11px;color:#4b5563;margin-bottom:2px}",
    "form{display:flex;flex-direction:column;gap:6px;padding:10px;border-top:1px solid #e5e7eb}",
    "input,textarea{width:100%;padding:8px;border:1px solid #d1d5db;border-radius:6px;font-size:14px}",
    "textarea{resize:none;height:60px}",
    "button.send{padding:8px;border:0;border-radius:6px;font-size:14px;cursor:pointer}",
    "button:focus-visible,input:focus-visible,textarea:focus-visible{outline:2px solid #111;outline-offset:2px}",
    ".typing{font-size:12px;color:#4b5563;padding:0 12px 6px;min-height:18px;background:#f7f7f8}",
    ".error{color:#b91c1c;font-size:12px}"
  ].join("\n");
  root.appendChild(style);

  var launcher = el("button", { "class": "launcher", "type": "button", "aria-label": "Open chat", "aria-expanded": "false" });
  var svg = "http://www.w3.org/2000/svg";
  var icon = document.createElementNS(svg, "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("width", "26");
  icon.setAttribute("height", "26");
  icon.setAttribute("aria-hidden", "true");
  var bubblePath = document.createElementNS(svg, "path");
  bubblePath.setAttribute("fill", "currentColor");
  bubblePath.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  icon.appendChild(bubblePath);
  launcher.appendChild(icon);
  var panel = el("section", { "class": "panel", "role": "dialog", "aria-label": "Chat" });
  panel.hidden = true;
  var header = el("header");
  var title = el("h2", {}, "Support");
  var status = el("div", { "class": "status", "role": "status" }, "");
  header.appendChild(title);
  header.appendChild(status);
  var log = el("div", { "class": "log", "role": "log", "aria-live": "polite" });
  var typing = el("div", { "class": "typing", "aria-live": "polite" }, "");
  var error = el("div", { "class": "error", "role": "alert" }, "");

  var start = el("form", { "class": "start", "aria-label": "Start a conversation" });
  var nameInput = el("input", { "name": "name", "placeholder": "Your name", "aria-label": "Your name", "required": "", "maxlength": "200" });
  var emailInput = el("input", { "name": "email", "type": "email", "placeholder": "Your email", "aria-label": "Your email", "required": "", "maxlength": "254" });
  var firstInput = el("textarea", { "name": "message", "placeholder": "How can we help?", "aria-label": "Your message", "required": "", "maxlength": "5000" });
  var startButton = el("button", { "class": "send", "type": "submit" }, "Start chat");
  [nameInput, emailInput, firstInput, startButton].forEach(function (node) { start.appendChild(node); });

  var composer = el("form", { "class": "composer", "aria-label": "Reply" });
  var replyInput = el("textarea", { "name": "reply", "placeholder": "Write a reply…", "aria-label": "Your reply", "maxlength": "5000" });
  var sendButton = el("button", { "class": "send", "type": "submit" }, "Send");
  composer.appendChild(replyInput);
  composer.appendChild(sendButton);

  [header, log, typing, error, start, composer].forEach(function (node) { panel.appendChild(node); });
  root.appendChild(launcher);
  root.appendChild(panel);

  var config = null;
  var rendered = {};
  var socket = null;
  var retry = 0;
  var online = false;

  function showStatus() {
    if (!config) { return; }
    status.textContent = online ? "We're online" : config.settings.offline_message;
  }

  function render(message) {
    if (!message || rendered[message.id] || message.ticket_id !== saved.ticketId) { return; }
    rendered[message.id] = true;
    var mine = message.author.role === "customer";
    var bubble = el("div", { "class": "bubble " + (mine ? "mine" : "theirs"), "data-message-id": message.id });
    bubble.appendChild(el("span", { "class": "who" }, mine ? "You" : message.author.name));
    bubble.appendChild(document.createTextNode(message.body));
    log.appendChild(bubble);
    log.scrollTop = log.scrollHeight;
  }

  function showConversation() {
    start.hidden = true;
    composer.hidden = false;
  }

  function loadHistory() {
    return api("GET", "/widget/tickets/" + saved.ticketId + "/messages?limit=100").then(function (page) {
      page.items.forEach(render);
    });
  }

  function connect() {
    if (!saved.token || socket) { return; }
    var url = base.replace(/^http/, "ws") + "/widget/ws?key=" + encodeURIComponent(key) +
      "&visitor_token=" + encodeURIComponent(saved.token) +
      (saved.lastEventId ? "&last_event_id=" + saved.lastEventId : "");
    socket = new WebSocket(url);
    socket.onopen = function () {
      retry = 0;
      socket.send(JSON.stringify({ type: "subscribe", ticket_id: saved.ticketId }));
    };
    socket.onmessage = function (incoming) {
      var frame = JSON.parse(incoming.data);
      if (frame.type === "event") {
        saved.lastEventId = frame.event.id;
        save();
        if (frame.message) { render(frame.message); }
      } else if (frame.type === "ack") {
        render(frame.message);
      } else if (frame.type === "agents") {
        online = frame.online;
        showStatus();
      } else if (frame.type === "typing") {
        typing.textContent = frame.typing ? frame.user.name + " is typing…" : "";
      } else if (frame.type === "error") {
        error.textContent = frame.detail;
      }
    };
    socket.onclose = function () {
      socket = null;
      retry = Math.min(retry + 1, 5);
      setTimeout(connect, 1000 * retry);
    };
  }

  var typingTimer = null;
  replyInput.addEventListener("input", function () {
    if (!socket || socket.readyState !== 1) { return; }
    if (!typingTimer) { socket.send(JSON.stringify({ type: "typing", ticket_id: saved.ticketId, typing: true })); }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () {
      typingTimer = null;
      if (socket && socket.readyState === 1) {
        socket.send(JSON.stringify({ type: "typing", ticket_id: saved.ticketId, typing: false }));
      }
    }, 3000);
  });

  start.addEventListener("submit", function (submitted) {
    submitted.preventDefault();
    if (preview) { return; }
    error.textContent = "";
    startButton.disabled = true;
    api("POST", "/widget/tickets", {
      name: nameInput.value,
      email: emailInput.value,
      message: firstInput.value,
      page_url: location.href.slice(0, 2000),
      user_agent: navigator.userAgent.slice(0, 2000)
    }, { "Idempotency-Key": uuid() }).then(function (opened) {
      saved.token = opened.visitor_token;
      saved.ticketId = opened.ticket.id;
      save();
      showConversation();
      return loadHistory().then(connect);
    }).catch(function (failure) {
      error.textContent = failure.message;
    }).then(function () { startButton.disabled = false; });
  });

  composer.addEventListener("submit", function (submitted) {
    submitted.preventDefault();
    var body = replyInput.value.trim();
    if (!body) { return; }
    error.textContent = "";
    replyInput.value = "";
    var reference = uuid();
    if (socket && socket.readyState === 1) {
      socket.send(JSON.stringify({ type: "message", ref: reference, ticket_id: saved.ticketId, body: body }));
    } else {
      api("POST", "/widget/tickets/" + saved.ticketId + "/messages", { body: body }, { "Idempotency-Key": reference })
        .then(render)
        .catch(function (failure) { error.textContent = failure.message; });
    }
  });
  replyInput.addEventListener("keydown", function (pressed) {
    if (pressed.key === "Enter" && !pressed.shiftKey) {
      pressed.preventDefault();
      composer.requestSubmit();
    }
  });

  function show(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? "Close chat" : "Open chat");
  }
  function toggle(open) {
    show(open);
    if (open) { (saved.ticketId ? replyInput : nameInput).focus(); }
  }
  launcher.addEventListener("click", function () { toggle(panel.hidden); });
  panel.addEventListener("keydown", function (pressed) {
    if (pressed.key === "Escape") { toggle(false); launcher.focus(); }
  });

  // The brand colour behind the text colour the server chose for it (black or white, whichever
  // contrasts more), so any colour an admin picks stays readable.
  function paint() {
    var side = config.settings.position === "left" ? "left" : "right";
    [launcher, header, startButton, sendButton].forEach(function (node) {
      node.style.background = config.settings.color;
      node.style.color = config.text_color;
    });
    launcher.style[side] = "20px";
    panel.style[side] = "20px";
    title.textContent = config.settings.brand_name;
  }

  function greet() {
    log.appendChild(el("div", { "class": "bubble theirs" }, config.settings.welcome_message));
    composer.hidden = true;
  }

  function boot() {
    document.body.appendChild(host);
    if (preview) {
      config = JSON.parse(preview);
      paint();
      showStatus();
      greet();
      show(true);
      return;
    }
    api("GET", "/widget/config").then(function (loaded) {
      config = loaded;
      paint();
      online = config.agents_online;
      showStatus();
      if (saved.token && saved.ticketId) {
        showConversation();
        loadHistory().then(connect).catch(function () {
          saved = {};
          save();
          start.hidden = false;
          composer.hidden = true;
        });
      } else {
        greet();
      }
    }).catch(function (failure) {
      error.textContent = failure.message;
    });
  }
  if (document.body) { boot(); } else { document.addEventListener("DOMContentLoaded", boot); }
})();
