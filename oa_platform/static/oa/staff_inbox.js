// Staff inbox: live list and history over the staff WebSocket, replies without a page load.
(function () {
  const slug = document.body.dataset.slug;
  const current = document.body.dataset.conversation;
  const base = "/staff/" + slug + "/";
  const csrf = (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value;
  const history = document.getElementById("history");

  function li(m) {
    const el = document.createElement("li");
    el.className = m.direction + " " + m.sender;
    el.dataset.id = m.id;
    el.textContent = m.text;
    if (m.delivery_status === "failed" || (m.delivery_status === "queued" && m.delivery_attempts > 0)) {
      const d = document.createElement("span");
      d.className = "delivery";
      d.textContent = m.delivery_status + " (" + m.delivery_attempts + "): " + m.delivery_error;
      el.appendChild(d);
      const retry = document.createElement("button");
      retry.className = "retry";
      retry.textContent = "↻";
      retry.addEventListener("click", async function () {
        await fetch(base + "m/" + m.id + "/retry/", {method: "POST", headers: {Accept: "application/json", "X-CSRFToken": csrf}});
        refreshMessages();
      });
      el.appendChild(retry);
    }
    return el;
  }
  async function refreshMessages() {
    if (!current || !history) return;
    const r = await fetch(base + "c/" + current + "/messages.json", {headers: {Accept: "application/json"}});
    if (!r.ok) return;
    const data = await r.json();
    history.replaceChildren(...data.messages.map(li));
    history.scrollTop = history.scrollHeight;
    const status = document.getElementById("status");
    status.textContent = data.conversation.status;
    status.className = "badge " + data.conversation.status;
    document.getElementById("assignee").textContent = data.conversation.assigned_to || "";
  }
  async function refreshList() {
    const r = await fetch(base + "conversations.json", {headers: {Accept: "application/json"}});
    if (!r.ok) return;
    const data = await r.json();
    const box = document.getElementById("conversations");
    box.replaceChildren(...data.conversations.map(function (c) {
      const a = document.createElement("a");
      a.href = base + "c/" + c.id + "/";
      a.dataset.id = c.id;
      if (String(c.id) === current) a.className = "current";
      const b = document.createElement("span");
      b.className = "badge " + c.status;
      b.textContent = c.status;
      a.append(b, " " + c.citizen + " (" + c.channel + ")" + (c.assigned_to ? " · " + c.assigned_to : ""));
      if (c.undelivered) {
        const u = document.createElement("span");
        u.className = "badge undelivered";
        u.textContent = "!";
        a.append(" ", u);
      }
      return a;
    }));
  }
  function connect() {
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(proto + location.host + "/ws/staff/" + slug + "/");
    ws.onopen = function () { document.body.dataset.live = "1"; refreshList(); refreshMessages(); };
    ws.onmessage = function (e) {
      const data = JSON.parse(e.data);
      if (data.type !== "conversation.changed") return;
      refreshList();
      if (String(data.conversation_id) === current) refreshMessages();
    };
    ws.onclose = function () { document.body.dataset.live = ""; setTimeout(connect, 2000); };
  }
  const canned = document.getElementById("canned");
  if (canned) canned.addEventListener("change", function () {
    if (canned.value) document.getElementById("reply-text").value = canned.value;
  });
  const form = document.getElementById("reply-form");
  if (form) form.addEventListener("submit", async function (e) {
    e.preventDefault();
    const text = document.getElementById("reply-text");
    const r = await fetch(form.action, {
      method: "POST", headers: {Accept: "application/json", "X-CSRFToken": csrf},
      body: new URLSearchParams({text: text.value}),
    });
    if (r.ok) { text.value = ""; refreshMessages(); }
    else { const err = await r.json().catch(() => ({})); alert((err.error && err.error.message) || r.status); }
  });
  connect();
})();
