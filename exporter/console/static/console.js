// jobmon console: keeps the page live without reloading it.
//
// Every few seconds (body[data-refresh-seconds]) it fetches the page's own URL
// (body[data-refresh-url]) and swaps each element marked [data-refresh] for the element with
// the same id in the fresh document. Focus, scroll, the search box and anything typed stay as
// they are; nothing is fetched while the tab is hidden. The name search filters as you type.
// Times are shown in the reader's own zone. No library, no inline code (the CSP forbids it).
(function () {
  "use strict";

  var body = document.body;
  var seconds = Number(body.getAttribute("data-refresh-seconds")) || 0;
  var url = body.getAttribute("data-refresh-url") || location.pathname + location.search;
  var state = document.getElementById("refresh-state");
  var live = document.getElementById("live");
  var timer = null;
  var busy = false;
  var again = false;
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // "2026-12-04 16:03:12" in the reader's zone; the ISO UTC time stays in [datetime].
  function localTimes(root) {
    var times = root.querySelectorAll("time.when[datetime]");
    for (var i = 0; i < times.length; i++) {
      var d = new Date(times[i].getAttribute("datetime"));
      if (isNaN(d.getTime())) continue;
      times[i].textContent = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" +
        pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" +
        pad(d.getSeconds());
    }
  }

  function say(text) {
    if (state) state.textContent = text;
  }

  // Where the focus is inside a region that is about to be replaced: its id, or its position.
  function focusPlace(region) {
    var active = document.activeElement;
    if (!active || active === body || !region.contains(active)) return null;
    if (active.id) return { id: active.id };
    var all = region.querySelectorAll(FOCUSABLE);
    return { index: Array.prototype.indexOf.call(all, active) };
  }

  function restoreFocus(region, place) {
    var target = place.id ? document.getElementById(place.id)
      : region.querySelectorAll(FOCUSABLE)[place.index];
    if (target) target.focus({ preventScroll: true });
  }

  function swap(fresh) {
    var x = window.scrollX, y = window.scrollY;
    var regions = document.querySelectorAll("[data-refresh][id]");
    for (var i = 0; i < regions.length; i++) {
      var old = regions[i];
      var next = fresh.getElementById(old.id);
      if (!next || next.innerHTML === old.innerHTML) continue;
      var place = focusPlace(old);
      var copy = document.importNode(next, true);
      localTimes(copy);
      old.replaceWith(copy);
      if (place) restoreFocus(copy, place);
    }
    window.scrollTo(x, y);
  }

  function refresh() {
    if (document.hidden) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    var asked = url;
    fetch(asked, { headers: { Accept: "text/html" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (text) {
        if (asked !== url) return; // the search changed meanwhile: this answer is stale
        swap(new DOMParser().parseFromString(text, "text/html"));
        say("· updated " + new Date().toLocaleTimeString());
        body.removeAttribute("data-refresh-failed");
      })
      .catch(function (error) {
        say("· could not refresh (" + error.message + "); retrying");
        body.setAttribute("data-refresh-failed", "");
      })
      .then(function () {
        busy = false;
        if (again || asked !== url) {
          again = false;
          refresh();
        }
      });
  }

  function schedule() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    if (seconds > 0 && !document.hidden) timer = setInterval(refresh, seconds * 1000);
    if (live) live.hidden = timer === null;
  }

  // The name search: the list follows the box as you type, the URL stays shareable.
  function searchAsYouType() {
    var form = document.getElementById("job-search");
    var box = document.getElementById("q");
    if (!form || !box) return;
    var wait = null;
    box.addEventListener("input", function () {
      clearTimeout(wait);
      wait = setTimeout(function () {
        var params = new URLSearchParams(new FormData(form));
        if (!box.value) params.delete("q");
        url = form.getAttribute("action") + (params.toString() ? "?" + params : "");
        history.replaceState(null, "", url);
        refresh();
      }, 250);
    });
  }

  document.addEventListener("visibilitychange", function () {
    schedule();
    if (!document.hidden) refresh();
  });
  localTimes(document);
  searchAsYouType();
  schedule();
})();
