/* The compact chat inside the widget's iframe. Everything from the server or the user is
   inserted with textContent (never innerHTML), so article text cannot run code. */
(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("q");
  var send = document.getElementById("send");
  var history = [];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function sourceUrl(c) {
    return "/source/" + encodeURIComponent(c.article_id) + "?start=" + encodeURIComponent(c.start) +
      "&end=" + encodeURIComponent(c.end) + "#quote";
  }
  function citeLink(c) {
    var a = el("a", "cite", "[" + c.id + "]");
    a.href = sourceUrl(c);
    a.target = "_blank";
    a.rel = "noopener";
    a.title = (c.title || c.source || "") + (c.outlet ? " — " + c.outlet : "") + (c.date ? ", " + c.date : "");
    return a;
  }
  function render(data) {
    var box = el("div", "msg bot answer");
    var byId = {};
    (data.citations || []).forEach(function (c) { byId[c.id] = c; });
    var text = String(data.answer || "");
    var re = /\[(\d+)\]/g, pos = 0, m;
    while ((m = re.exec(text)) !== null) {
      box.appendChild(document.createTextNode(text.slice(pos, m.index)));
      var c = byId[Number(m[1])];
      box.appendChild(c && c.article_id ? citeLink(c) : document.createTextNode(m[0]));
      pos = m.index + m[0].length;
    }
    box.appendChild(document.createTextNode(text.slice(pos)));
    if (data.notice) box.appendChild(el("div", "notice", data.notice));
    if ((data.citations || []).length) {
      var ul = el("ul", "sources");
      data.citations.forEach(function (c) {
        var li = el("li");
        li.appendChild(citeLink(c));
        var meta = [c.outlet, c.date].filter(Boolean).join(", ");
        li.appendChild(document.createTextNode(" " + (c.title || c.source) + (meta ? " (" + meta + ")" : "")));
        li.appendChild(el("span", "quote", "\u201C" + c.quote + "\u201D"));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    return box;
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = input.value.trim();
    if (!q) return;
    log.appendChild(el("div", "msg user", q));
    var pending = el("div", "msg bot pending", "\u2026");
    log.appendChild(pending);
    log.scrollTop = log.scrollHeight;
    input.value = "";
    send.disabled = true;
    fetch("/api/ask", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({question: q, history: history.slice(-10)})
    }).then(function (r) {
      return r.json().then(function (data) { return {ok: r.ok, data: data}; });
    }).then(function (res) {
      if (!res.ok) throw new Error(res.data && res.data.error ? res.data.error : "request failed");
      history.push(q);
      var box = render(res.data);
      log.replaceChild(box, pending);
      pending = box;
    }).catch(function (err) {
      var errBox = el("div", "msg bot error", "\u26A0\uFE0F " + (err && err.message ? err.message : "request failed"));
      log.replaceChild(errBox, pending);
      pending = errBox;
    }).finally(function () {
      send.disabled = false;
      log.scrollTop = Math.max(0, pending.offsetTop - log.offsetTop - 48);  // the answer's start
      input.focus();
    });
  });
  document.getElementById("new").addEventListener("click", function () {
    history = [];
    while (log.children.length > 1) log.removeChild(log.lastChild);
  });
})();
