/*
 * Beacon support chat widget — plain JavaScript, no build step, no dependencies.
 *
 * Embed with one script tag:
 *
 *   <script src="https://example.com/widget/beacon-widget.js"
 *           data-bot-url="https://bot.example.com" defer></script>
 *
 * Optional attributes: data-title (panel heading), data-launcher-label (button
 * text), data-timeout-ms (how long to wait for an answer, default 30000).
 * Without data-bot-url the widget reads window.BEACON_WIDGET_CONFIG.botUrl
 * (what the Beacon widget server's /config.js sets).
 *
 * It talks to Rasa's REST channel (POST {bot}/webhooks/rest/webhook) as a
 * customer: it never sends a token. The conversation id and the message history
 * are kept in localStorage, so the conversation survives page reloads. Bot text
 * is always inserted as text (never as HTML).
 */
(function () {
  "use strict";

  var VERSION = 1;
  var MAX_HISTORY = 200;
  var DEFAULT_TIMEOUT_MS = 30000;
  var PLACEHOLDER = "%BEACON_BOT_URL%";

  var script =
    document.currentScript ||
    document.querySelector('script[src*="beacon-widget.js"]');
  if (!script || window.__beaconWidgetLoaded) {
    return;
  }
  window.__beaconWidgetLoaded = true;

  function attr(name, fallback) {
    var value = script.getAttribute(name);
    return value && value.trim() ? value.trim() : fallback;
  }

  var globalConfig = window.BEACON_WIDGET_CONFIG || {};
  var rawBotUrl = attr("data-bot-url", globalConfig.botUrl || "");
  var botUrl = /^https?:\/\/[^\s]+$/.test(rawBotUrl) && rawBotUrl.indexOf(PLACEHOLDER) < 0
    ? rawBotUrl.replace(/\/+$/, "")
    : "";
  var title = attr("data-title", "Support chat");
  var launcherLabel = attr("data-launcher-label", "Chat with us");
  var timeoutMs = parseInt(attr("data-timeout-ms", String(DEFAULT_TIMEOUT_MS)), 10);
  if (!(timeoutMs > 0)) {
    timeoutMs = DEFAULT_TIMEOUT_MS;
  }
  var storageKey = "beacon-widget:v" + VERSION + ":" + (botUrl || "unconfigured");

  // ---- storage (falls back to memory when localStorage is blocked) -------------
  var memoryStore = {};
  function loadState() {
    var raw = null;
    try {
      raw = window.localStorage.getItem(storageKey);
    } catch (e) {
      raw = memoryStore[storageKey] || null;
    }
    var state = null;
    try {
      state = raw ? JSON.parse(raw) : null;
    } catch (e) {
      state = null;
    }
    if (!state || typeof state.sender !== "string" || !Array.isArray(state.messages)) {
      state = { sender: newSenderId(), messages: [], open: false };
    }
    return state;
  }
  function saveState() {
    state.messages = state.messages.slice(-MAX_HISTORY);
    var raw = JSON.stringify(state);
    try {
      window.localStorage.setItem(storageKey, raw);
    } catch (e) {
      memoryStore[storageKey] = raw;
    }
  }
  function newSenderId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return "web-" + window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "web-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  var state = loadState();
  var pending = false;
  var lastFailed = null;

  // ---- DOM helpers ----------------------------------------------------------------
  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (key === "text") {
        node.textContent = props[key];
      } else if (key === "className") {
        node.className = props[key];
      } else if (key === "hidden") {
        node.hidden = props[key];
      } else {
        node.setAttribute(key, props[key]);
      }
    });
    (children || []).forEach(function (child) {
      node.appendChild(child);
    });
    return node;
  }

  // Text with http(s) links made clickable, built from text nodes (no innerHTML).
  function richText(text) {
    var fragment = document.createDocumentFragment();
    var pattern = /https?:\/\/[^\s<>"')\]]+/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
      fragment.appendChild(
        el("a", { href: match[0], target: "_blank", rel: "noopener noreferrer", text: match[0] })
      );
      last = match.index + match[0].length;
    }
    fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  function safeImageUrl(url) {
    try {
      var parsed = new URL(url, window.location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "bw-launcher-icon");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "22");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute(
      "d",
      "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 " +
        "1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 " +
        "1 0 0 3 1.5 1.5 0 0 0 0-3z"
    );
    svg.appendChild(path);
    return svg;
  }

  // ---- markup ------------------------------------------------------------------------
  var ids = {
    panel: "bw-panel",
    title: "bw-title",
    input: "bw-input",
    log: "bw-log",
  };
  var launcher = el("button", {
    type: "button",
    className: "bw-launcher",
    "aria-controls": ids.panel,
    "aria-expanded": "false",
  }, [
    chatIcon(),
    el("span", { className: "bw-launcher-text", text: launcherLabel }),
  ]);
  var closeButton = el("button", {
    type: "button",
    className: "bw-close",
    "aria-label": "Close support chat",
  }, [el("span", { "aria-hidden": "true", text: "\u00D7" })]);
  var log = el("ol", {
    id: ids.log,
    className: "bw-messages",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": "Conversation",
    tabindex: "0",
  });
  var emptyHint = el("p", {
    className: "bw-hint",
    text: "Ask us about orders, shipping, returns, sizing or caring for your gear.",
  });
  var typing = el("div", { className: "bw-typing", role: "status", hidden: true }, [
    el("span", { className: "bw-dots", "aria-hidden": "true" }, [
      el("span"), el("span"), el("span"),
    ]),
    el("span", { className: "bw-typing-text", text: "Support is typing\u2026" }),
  ]);
  var errorText = el("span", { className: "bw-error-text" });
  var retryButton = el("button", { type: "button", className: "bw-retry", text: "Try again" });
  var errorBox = el("div", { className: "bw-error", role: "alert", hidden: true }, [
    errorText, retryButton,
  ]);
  var input = el("input", {
    id: ids.input,
    className: "bw-input",
    type: "text",
    autocomplete: "off",
    maxlength: "1000",
    placeholder: "Type your question\u2026",
  });
  var sendButton = el("button", { type: "submit", className: "bw-send", text: "Send" });
  var form = el("form", { className: "bw-form", novalidate: "novalidate" }, [
    el("label", { for: ids.input, className: "bw-visually-hidden", text: "Your message" }),
    input,
    sendButton,
  ]);
  var panel = el("section", {
    id: ids.panel,
    className: "bw-panel",
    role: "dialog",
    "aria-modal": "false",
    "aria-labelledby": ids.title,
    hidden: true,
  }, [
    el("header", { className: "bw-header" }, [
      el("h2", { id: ids.title, className: "bw-title", text: title }),
      closeButton,
    ]),
    el("div", { className: "bw-body" }, [emptyHint, log]),
    typing,
    errorBox,
    form,
  ]);
  var root = el("div", { className: "beacon-widget", "data-beacon-widget": "" }, [panel, launcher]);

  // ---- rendering ---------------------------------------------------------------------
  function renderMessage(message, index) {
    var from = message.from === "user" ? "user" : "bot";
    var item = el("li", { className: "bw-message bw-message--" + from });
    item.appendChild(el("span", {
      className: "bw-visually-hidden",
      text: from === "user" ? "You said: " : "Support said: ",
    }));
    if (message.text) {
      var bubble = el("p", { className: "bw-text" });
      bubble.appendChild(richText(message.text));
      item.appendChild(bubble);
    }
    var src = message.image ? safeImageUrl(message.image) : null;
    if (src) {
      var image = el("img", {
        className: "bw-image",
        src: src,
        alt: message.alt || "Image sent by support (opens full size in a new tab)",
      });
      image.addEventListener("load", scrollToEnd);
      item.appendChild(el("a", {
        className: "bw-image-link",
        href: src,
        target: "_blank",
        rel: "noopener noreferrer",
      }, [image]));
    }
    if (Array.isArray(message.buttons) && message.buttons.length) {
      var group = el("div", {
        className: "bw-buttons",
        role: "group",
        "aria-label": "Suggested replies",
      });
      message.buttons.forEach(function (button) {
        var choice = el("button", {
          type: "button",
          className: "bw-quick-reply",
          text: String(button.title || button.payload || ""),
        });
        if (message.used) {
          choice.disabled = true;
        }
        choice.addEventListener("click", function () {
          if (pending) {
            return;
          }
          state.messages[index].used = true;
          saveState();
          Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) {
            b.disabled = true;
          });
          send(String(button.payload || button.title || ""), String(button.title || ""));
        });
        group.appendChild(choice);
      });
      item.appendChild(group);
    }
    if (message.failed) {
      item.classList.add("bw-message--failed");
      item.appendChild(el("span", { className: "bw-status", text: "Not delivered" }));
    }
    return item;
  }

  function renderAll() {
    while (log.firstChild) {
      log.removeChild(log.firstChild);
    }
    state.messages.forEach(function (message, index) {
      log.appendChild(renderMessage(message, index));
    });
    emptyHint.hidden = state.messages.length > 0;
    scrollToEnd();
  }

  function append(message) {
    state.messages.push(message);
    saveState();
    log.appendChild(renderMessage(message, state.messages.length - 1));
    emptyHint.hidden = true;
    scrollToEnd();
  }

  function scrollToEnd() {
    var body = log.parentNode;
    if (body) {
      body.scrollTop = body.scrollHeight;
    }
  }

  function setPending(value) {
    pending = value;
    typing.hidden = !value;
    sendButton.disabled = value;
    log.setAttribute("aria-busy", value ? "true" : "false");
    if (value) {
      scrollToEnd();
    }
  }

  function showError(text, retryable) {
    errorText.textContent = text;
    retryButton.hidden = !retryable;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.hidden = true;
    errorText.textContent = "";
  }

  // ---- talking to the bot ---------------------------------------------------------
  function post(text) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = setTimeout(function () {
      if (controller) {
        controller.abort();
      }
    }, timeoutMs);
    return fetch(botUrl + "/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender, message: text }),
      signal: controller ? controller.signal : undefined,
      credentials: "omit",
    }).then(function (response) {
      if (!response.ok) {
        var error = new Error("HTTP " + response.status);
        error.status = response.status;
        throw error;
      }
      return response.json();
    }).finally(function () {
      clearTimeout(timer);
    });
  }

  function describe(error) {
    if (error && error.name === "AbortError") {
      return "Support took too long to answer. Please try again.";
    }
    if (error && error.status === 429) {
      return "You're sending messages faster than I can answer. Please wait a few seconds and try again.";
    }
    if (error && error.status >= 400 && error.status < 500) {
      return "Support couldn't read that message (error " + error.status + ").";
    }
    if (error && error.status) {
      return "Support had a problem answering (error " + error.status + "). Please try again in a minute.";
    }
    return "Can't reach support right now. Check your connection and try again.";
  }

  function send(payload, shownText) {
    if (pending) {
      return;
    }
    clearError();
    lastFailed = null;
    if (!botUrl) {
      showError("This chat isn't set up yet (no bot address configured).", false);
      return;
    }
    var userMessage = { from: "user", text: shownText || payload, time: Date.now() };
    append(userMessage);
    var userIndex = state.messages.length - 1;
    setPending(true);
    post(payload).then(function (replies) {
      setPending(false);
      lastFailed = null;
      (Array.isArray(replies) ? replies : []).forEach(function (reply) {
        if (!reply || (!reply.text && !reply.image && !reply.buttons)) {
          return;
        }
        append({
          from: "bot",
          text: typeof reply.text === "string" ? reply.text : "",
          image: typeof reply.image === "string" ? reply.image : null,
          buttons: Array.isArray(reply.buttons) ? reply.buttons : null,
          time: Date.now(),
        });
      });
    }).catch(function (error) {
      setPending(false);
      state.messages[userIndex].failed = true;
      saveState();
      renderAll();
      lastFailed = { payload: payload, shownText: shownText, index: userIndex };
      // A 429 is worth retrying once the wait is over; other 4xx are not.
      var retryable = !(error && error.status >= 400 && error.status < 500) || error.status === 429;
      showError(describe(error), retryable);
    });
  }

  // ---- opening, closing, keyboard -------------------------------------------------
  function isOpen() {
    return !panel.hidden;
  }

  function open(focusInput) {
    panel.hidden = false;
    root.classList.add("bw-open");
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    saveState();
    scrollToEnd();
    if (focusInput) {
      input.focus();
    }
  }

  function close() {
    panel.hidden = true;
    root.classList.remove("bw-open");
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    saveState();
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (isOpen()) {
      close();
    } else {
      open(true);
    }
  });
  closeButton.addEventListener("click", close);
  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen()) {
      event.preventDefault();
      close();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || pending) {
      return;
    }
    input.value = "";
    send(text);
    input.focus();
  });
  retryButton.addEventListener("click", function () {
    if (!lastFailed) {
      return;
    }
    var again = lastFailed;
    state.messages.splice(again.index, 1);
    saveState();
    renderAll();
    send(again.payload, again.shownText);
    input.focus();
  });

  // Another tab of the same site talked to support: show the same conversation here.
  window.addEventListener("storage", function (event) {
    if (event.key !== storageKey || pending || !event.newValue) {
      return;
    }
    var wasOpen = isOpen();
    state = loadState();
    state.open = wasOpen;
    renderAll();
  });

  function mount() {
    document.body.appendChild(root);
    renderAll();
    if (!botUrl) {
      showError("This chat isn't set up yet (no bot address configured).", false);
    }
    if (state.open) {
      open(false);
    }
  }

  // The stylesheet sits next to the script.
  // Hidden until it is styled, so the page never shows it unstyled (shown anyway if the
  // stylesheet fails: unstyled but usable).
  if (!document.querySelector("link[data-beacon-widget]")) {
    root.style.visibility = "hidden";
    var css = el("link", {
      rel: "stylesheet",
      href: new URL("beacon-widget.css", script.src).href,
      "data-beacon-widget": "",
    });
    var reveal = function () {
      root.style.visibility = "";
      scrollToEnd();
    };
    css.addEventListener("load", reveal);
    css.addEventListener("error", reveal);
    document.head.appendChild(css);
  }
  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }

  // A small API for the host page (and tests): open, close, reset the conversation.
  window.BeaconWidget = {
    open: function () { open(true); },
    close: close,
    reset: function () {
      state = { sender: newSenderId(), messages: [], open: isOpen() };
      saveState();
      clearError();
      renderAll();
    },
    sender: function () { return state.sender; },
  };
})();
