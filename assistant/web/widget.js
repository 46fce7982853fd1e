/* News archive assistant: chat bubble widget.
   Usage: <script src="http://HOST:PORT/widget.js"></script>
   Adds a bubble (bottom right) that opens the assistant's compact view (/embed) in an iframe. */
(function () {
  "use strict";
  if (window.__newsAssistantWidget) return;
  window.__newsAssistantWidget = true;
  var script = document.currentScript;
  var base = script && script.src ? new URL(script.src).origin : window.location.origin;

  function start() {
    var bubble = document.createElement("button");
    bubble.type = "button";
    bubble.id = "news-assistant-bubble";
    bubble.setAttribute("aria-label", "Ask the news archive");
    bubble.textContent = "Ask the archive";
    bubble.style.cssText = "position:fixed;right:20px;bottom:20px;z-index:2147483646;border:0;" +
      "border-radius:24px;padding:12px 18px;background:#1f4e8c;color:#fff;font:600 15px system-ui,sans-serif;" +
      "box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer";

    var panel = document.createElement("div");
    panel.id = "news-assistant-panel";
    panel.style.cssText = "position:fixed;right:20px;bottom:76px;z-index:2147483647;width:380px;" +
      "max-width:calc(100vw - 40px);height:560px;max-height:calc(100vh - 100px);display:none;" +
      "border-radius:12px;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.3);background:#fff";

    var frame = null;
    bubble.addEventListener("click", function () {
      if (!frame) {
        frame = document.createElement("iframe");
        frame.id = "news-assistant-frame";
        frame.title = "News archive assistant";
        frame.src = base + "/embed";
        frame.style.cssText = "border:0;width:100%;height:100%";
        panel.appendChild(frame);
      }
      var open = panel.style.display !== "none";
      panel.style.display = open ? "none" : "block";
      bubble.setAttribute("aria-expanded", String(!open));
    });
    document.body.appendChild(panel);
    document.body.appendChild(bubble);
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
