// Staff inbox (templates/staff/inbox.html): live list and history over the staff WebSocket, replies without
// a page load. Every label comes translated from the server (conversations.json carries the list as HTML,
// messages.json the labels and the buttons the conversation's state allows), so nothing here is in one
// language only.
(function () {
  const body = document.body;
  const slug = body.dataset.slug;
  const current = body.dataset.conversation;
  const filter = body.dataset.filter || "all";
  const base = "/staff/" + slug + "/";
  const csrf = (document.querySelector("meta[name=csrf-token]") || {}).content ||
    (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value;
  const history = document.getElementById("history");

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function li(m) {
    const row = el("li", "msg-row " + m.direction + " " + m.sender);
    row.dataset.id = m.id;
    const who = el("span", "who-line", m.sender_label + " · ");
    const time = el("time", "", m.time);
    time.dateTime = m.created_at;
    who.appendChild(time);
    row.append(who, el("span", "text", m.text));
    if (m.undelivered) {
      row.appendChild(el("span", "delivery", m.delivery_label + " (" + m.delivery_attempts + "): " + m.delivery_error));
      const retry = el("button", "btn small retry", "↻");
      retry.type = "button";
      retry.addEventListener("click", async function () {
        await fetch(base + "m/" + m.id + "/retry/", {method: "POST", headers: {Accept: "application/json", "X-CSRFToken": csrf}});
        refreshMessages();
      });
      row.appendChild(retry);
    }
    return row;
  }
  function show(selector, visible) {
    const node = document.querySelector(selector);
    if (node) node.hidden = !visible;
  }
  function applyState(c) {
    const status = document.getElementById("status");
    if (!status) return;
    status.textContent = c.status_label;
    status.className = "pill " + c.status;
    document.getElementById("assignee").textContent = c.assigned_to || "";
    show("#assignee-box", !!c.assigned_to);
    show("form[data-action=assign]", c.actions.assign);
    show("form[data-action=reopen]", c.actions.reopen);
    show("form[data-action=close]", c.actions.close);
    show("#reply-form", c.actions.reply);
    show("#closed-note", !c.actions.reply);
  }
  async function refreshMessages() {
    if (!current || !history) return;
    const r = await fetch(base + "c/" + current + "/messages.json", {headers: {Accept: "application/json"}});
    if (!r.ok) return;
    const data = await r.json();
    const stick = history.scrollHeight - history.scrollTop - history.clientHeight < 40;
    history.replaceChildren(...data.messages.map(li));
    if (stick) history.scrollTop = history.scrollHeight;
    applyState(data.conversation);
  }
  async function refreshList() {
    const url = base + "conversations.json?f=" + encodeURIComponent(filter) + "&current=" + encodeURIComponent(current || "");
    const r = await fetch(url, {headers: {Accept: "application/json"}});
    if (!r.ok) return;
    const data = await r.json();
    // Server-rendered from the same template as the page (escaped there).
    document.getElementById("conversations").innerHTML = data.html;
    document.querySelectorAll(".filters a[data-filter]").forEach(function (a) {
      const n = a.querySelector(".count-n");
      if (n && data.counts[a.dataset.filter] !== undefined) n.textContent = data.counts[a.dataset.filter];
    });
  }
  function connect() {
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(proto + location.host + "/ws/staff/" + slug + "/");
    ws.onopen = function () { body.dataset.live = "1"; refreshList(); refreshMessages(); };
    ws.onmessage = function (e) {
      const data = JSON.parse(e.data);
      if (data.type !== "conversation.changed") return;
      refreshList();
      if (String(data.conversation_id) === current) refreshMessages();
    };
    ws.onclose = function () { body.dataset.live = ""; setTimeout(connect, 2000); };
  }
  const canned = document.getElementById("canned");
  if (canned) canned.addEventListener("change", function () {
    if (canned.value) document.getElementById("reply-text").value = canned.value;
  });
  const form = document.getElementById("reply-form");
  const error = document.getElementById("reply-error");
  if (form) form.addEventListener("submit", async function (e) {
    e.preventDefault();
    const text = document.getElementById("reply-text");
    const r = await fetch(form.action, {
      method: "POST", headers: {Accept: "application/json", "X-CSRFToken": csrf},
      body: new URLSearchParams({text: text.value}),
    });
    if (r.ok) { text.value = ""; error.hidden = true; refreshMessages(); refreshList(); }
    else {
      const err = await r.json().catch(function () { return {}; });
      error.textContent = (err.error && err.error.message) || String(r.status);
      error.hidden = false;
    }
  });
  if (history) history.scrollTop = history.scrollHeight;
  connect();
})();
