// Sales Coach web chat. Talks to the Rasa server's webchat channel over plain HTTP (relative URLs, same origin).
// Every bot and user text is put on the page with textContent: never as HTML.
(function () {
  "use strict";

  var MAX_TEXT = 8000;
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var sendButton = document.getElementById("send");
  var langButton = document.getElementById("lang");
  var whoButton = document.getElementById("who");
  var profileForm = document.getElementById("profile");
  var strings = { en: {}, zh: {} };
  var profile = { name: "", team: "" };
  var busy = false;
  var conversationStarted = false;

  var params = new URLSearchParams(location.search);
  var lang = pickLang();

  function pickLang() {
    var wanted = params.get("lang") || localStorage.getItem("coach_lang") ||
      ((navigator.language || "").toLowerCase().indexOf("zh") === 0 ? "zh" : "en");
    return wanted === "zh" ? "zh" : "en";
  }

  function t(key) { return (strings[lang] && strings[lang][key]) || (strings.en && strings.en[key]) || key; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // "**bold**" inside a line becomes <strong>; everything else stays plain text.
  function inline(parent, line) {
    var parts = line.split(/\*\*(.+?)\*\*/);
    for (var i = 0; i < parts.length; i++) {
      if (!parts[i]) continue;
      parent.appendChild(i % 2 ? el("strong", "", parts[i]) : document.createTextNode(parts[i]));
    }
  }

  // Lines starting with a bullet become a list; other lines, paragraphs.
  function formatted(text) {
    var box = document.createDocumentFragment();
    var list = null;
    text.split("\n").forEach(function (raw) {
      var line = raw.trimEnd();
      var bullet = /^\s*[•·\-\*]\s+(.*)$/.exec(line);
      if (bullet && !/^\s*\*\*/.test(line)) {
        if (!list) { list = el("ul"); box.appendChild(list); }
        var item = el("li");
        inline(item, bullet[1]);
        list.appendChild(item);
        return;
      }
      list = null;
      if (!line.trim()) return;
      var p = el("p");
      inline(p, line);
      box.appendChild(p);
    });
    return box;
  }

  function scrollDown() {
    requestAnimationFrame(function () { log.scrollTop = log.scrollHeight; });
  }

  function addUser(text) {
    log.appendChild(el("div", "msg user", text));
    scrollDown();
  }

  function addButtons(buttons) {
    if (!buttons || !buttons.length) return;
    var row = el("div", "buttons");
    buttons.forEach(function (b) {
      var button = el("button", "", b.title || b.payload);
      button.type = "button";
      button.addEventListener("click", function () { send(b.payload, b.title || b.payload); });
      row.appendChild(button);
    });
    log.appendChild(row);
  }

  // A bot message's bubble and buttons; returns the bubble (or the button row) it put first.
  function addBot(message, keepScroll) {
    var first = null;
    if (message.text) {
      first = el("div", "msg bot");
      first.appendChild(formatted(message.text));
      log.appendChild(first);
    }
    addButtons(message.buttons);
    if (!first && message.buttons && message.buttons.length) first = log.lastElementChild;
    if (!keepScroll) scrollDown();
    return first;
  }

  // A new answer is shown from its top (the headline: "Sounds like the ... type"), with the question above it
  // still in view when it fits; a short answer simply ends at the bottom.
  function showAnswer(first) {
    if (!first) { scrollDown(); return; }
    requestAnimationFrame(function () {
      var asked = first.previousElementSibling;
      var top = first.offsetTop - log.offsetTop - 8;
      if (asked && asked.classList.contains("user") && first.offsetTop - asked.offsetTop < log.clientHeight / 3) {
        top = asked.offsetTop - log.offsetTop - 8;
      }
      log.scrollTop = Math.min(Math.max(top, 0), log.scrollHeight);
    });
  }

  function addError(text) {
    log.appendChild(el("div", "msg error", text));
    scrollDown();
  }

  function showWelcome() {
    log.textContent = "";
    addBot({ text: t("welcome"), buttons: (t("welcome_buttons") || []).map(function (b) { return { title: b[0], payload: b[1] }; }) });
  }

  var typing = null;
  function setBusy(on) {
    busy = on;
    sendButton.disabled = on;
    if (on && !typing) {
      typing = el("div", "typing");
      typing.setAttribute("aria-label", t("typing"));
      typing.appendChild(el("span")); typing.appendChild(el("span")); typing.appendChild(el("span"));
      log.appendChild(typing);
      scrollDown();
    } else if (!on && typing) {
      typing.remove();
      typing = null;
    }
  }

  function api(path, body) {
    var options = body === undefined ? { credentials: "same-origin" } : {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    };
    return fetch(path, options).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
    });
  }

  // A lost or rejected cookie: ask for a (new) session once and try again.
  function withSession(call) {
    return call().then(function (res) {
      if (res.status !== 401) return res;
      return api("api/session").then(call);
    });
  }

  function send(text, title) {
    text = (text || "").trim();
    if (!text || busy) return;
    if (text.length > MAX_TEXT) { addError(t("too_long")); return; }
    if (!conversationStarted) { log.textContent = ""; conversationStarted = true; }
    addUser(title || text);
    setBusy(true);
    var body = { text: text, lang: lang };
    if (title) body.title = title;
    withSession(function () { return api("api/message", body); }).then(function (res) {
      setBusy(false);
      if (res.status !== 200) { addError(res.data.error || t("error")); return; }
      var first = null;
      (res.data.messages || []).forEach(function (m) { var shown = addBot(m, true); first = first || shown; });
      showAnswer(first);
    }).catch(function () {
      setBusy(false);
      addError(t("error"));
    });
  }

  function showProfile() {
    var label = [profile.name, profile.team].filter(Boolean).join(" · ");
    whoButton.textContent = label || t("profile");
    document.getElementById("team-link").hidden = !profile.manager;  // the team page is a manager's (403 otherwise)
  }

  function applyLang() {
    document.documentElement.lang = lang === "zh" ? "zh-Hans" : "en";
    document.title = t("title");
    document.getElementById("title").textContent = t("title");
    document.getElementById("new-customer").textContent = t("new_customer");
    var progress = document.getElementById("progress-link");
    progress.textContent = t("progress");
    progress.href = "progress?lang=" + lang;
    var teamLink = document.getElementById("team-link");
    teamLink.textContent = t("team_link");
    teamLink.href = "team?lang=" + lang;
    document.getElementById("name-label").textContent = t("name");
    document.getElementById("team-label").textContent = t("team");
    document.getElementById("profile-save").textContent = t("save");
    document.getElementById("profile-cancel").textContent = t("cancel");
    input.placeholder = t("placeholder");
    sendButton.textContent = t("send");
    langButton.textContent = lang === "zh" ? "English" : "中文";
    showProfile();
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    if (!text.trim() || busy) return;
    input.value = "";
    grow();
    send(text);
  });

  input.addEventListener("keydown", function (e) {
    // Enter sends, Shift+Enter is a new line; never while an input method (pinyin) is composing.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  function grow() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 140) + "px";
  }
  input.addEventListener("input", grow);

  langButton.addEventListener("click", function () {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("coach_lang", lang);
    applyLang();
    // No message is sent: every message carries the page's language (api/message "lang"), which the bot follows
    // for buttons and for text too short to tell; what the user writes still decides for text.
    if (!conversationStarted) showWelcome();
  });

  document.getElementById("new-customer").addEventListener("click", function () { send("/new_customer", t("new_customer")); });

  whoButton.addEventListener("click", function () {
    profileForm.hidden = !profileForm.hidden;
    if (!profileForm.hidden) {
      document.getElementById("name").value = profile.name;
      document.getElementById("team").value = "";
      document.getElementById("team").placeholder = profile.team || t("team_hint");
      document.getElementById("name").focus();
    }
  });
  document.getElementById("profile-cancel").addEventListener("click", function () { profileForm.hidden = true; });
  profileForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = { name: document.getElementById("name").value, invite: document.getElementById("team").value };
    withSession(function () { return api("api/profile", body); }).then(function (res) {
      if (res.status !== 200) { addError(res.data.error || t("error")); return; }
      profile = res.data.profile;
      profileForm.hidden = true;
      showProfile();
    }).catch(function () { addError(t("error")); });
  });

  if (window.visualViewport) window.visualViewport.addEventListener("resize", scrollDown);

  fetch("static/strings.json", { credentials: "same-origin" }).then(function (r) { return r.json(); })
    .then(function (s) { strings = s; applyLang(); })
    .then(function () { return api("api/session"); })
    .then(function (res) { if (res.data.profile) profile = res.data.profile; showProfile(); })
    .then(function () { return withSession(function () { return api("api/history"); }); })
    .then(function (res) {
      var messages = (res.data && res.data.messages) || [];
      if (!messages.length) { showWelcome(); } else {
        conversationStarted = true;
        messages.forEach(function (m) { if (m.from === "user") addUser(m.text); else addBot(m); });
      }
      var practise = params.get("practise");
      if (practise && /^[a-z_]{2,40}$/.test(practise)) {
        history.replaceState(null, "", location.pathname);
        var level = params.get("level");
        var at = level && /^(easy|normal|hard)$/.test(level) ? ', "level": "' + level + '"' : "";
        send('/start_practice{"type_id": "' + practise + '"' + at + "}", t("practise_it"));
      }
      document.body.setAttribute("data-ready", "1");
    })
    .catch(function () { addError(t("error")); document.body.setAttribute("data-ready", "1"); });
})();
