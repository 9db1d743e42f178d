// Staff console, notices: the live audience count and the area filter on the audience step, and the progress
// poll on a notice being sent. The pages work without this script (plain form posts, a server-rendered count).
(function () {
  "use strict";

  function fold(text) {
    // The server's ascii_fold: no tones or marks, đ -> d, lower case ("Hồ Chí Minh" -> "ho chi minh").
    return (text || "").replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/\s+/g, " ").trim();
  }

  var form = document.getElementById("audience-form");
  var countBox = document.getElementById("audience-count");
  if (form && countBox) {
    var timer = null;
    var rows = function (tbody, items) {
      while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
      if (!items.length) {
        var tr = document.createElement("tr"), td = document.createElement("td");
        td.colSpan = 2; td.textContent = "—"; tr.appendChild(td); tbody.appendChild(tr);
        return;
      }
      items.forEach(function (item) {
        var tr = document.createElement("tr"), th = document.createElement("th"), td = document.createElement("td");
        th.scope = "row"; th.textContent = item.label; td.textContent = item.count;
        tr.appendChild(th); tr.appendChild(td); tbody.appendChild(tr);
      });
    };
    var refresh = function () {
      var params = new URLSearchParams();
      form.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
        params.append(box.name === "all" ? "all" : box.name, box.value);
      });
      fetch(countBox.dataset.url + "?" + params.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          countBox.querySelector('[data-count="total"]').textContent = data.total;
          rows(countBox.querySelector('[data-count="by_channel"]'), data.by_channel);
          rows(countBox.querySelector('[data-count="by_language"]'), data.by_language);
        })
        .catch(function () { /* the server-rendered number stays */ });
    };
    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.name === "all" && target.checked) {
        form.querySelectorAll('input[name="topics"]').forEach(function (box) { box.checked = false; });
      } else if (target.name === "topics" && target.checked) {
        var all = form.querySelector('input[name="all"]');
        if (all) all.checked = false;
      }
      if (target.id === "province") {
        var button = document.getElementById("show-wards");
        if (button && target.value) { if (form.requestSubmit) form.requestSubmit(button); else button.click(); }
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(refresh, 150);
    });

    var q = document.getElementById("area-q");
    if (q) {
      q.addEventListener("input", function () {
        var wanted = fold(q.value);
        var details = form.querySelector("details.province-list");
        if (details && wanted) details.open = true;
        form.querySelectorAll("[data-filterable] li[data-fold]").forEach(function (li) {
          li.hidden = wanted !== "" && li.dataset.fold.indexOf(wanted) === -1;
        });
      });
    }
  }

  var progress = document.getElementById("progress");
  if (progress && progress.dataset.url && !progress.dataset.final) {
    var POLL_MS = 3000, MAX_POLLS = 1200;  // an hour at most; a reload starts again
    var polls = 0;
    var poll = function () {
      polls += 1;
      fetch(progress.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          // A new status changes more than the panel (buttons, the status pill): the whole page is read again.
          if (data && data.status !== progress.dataset.status) { window.location.reload(); return; }
          if (data) progress.innerHTML = data.html;  // rendered and escaped by the server
          if (data && data.final) return;
          if (polls < MAX_POLLS) setTimeout(poll, POLL_MS);
        })
        .catch(function () { if (polls < MAX_POLLS) setTimeout(poll, POLL_MS * 2); });
    };
    setTimeout(poll, POLL_MS);
  }
})();
