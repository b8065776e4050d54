/* Elder-friendly public pages (templates/public/layout.html), issue 8.
   - Large type: a toggle that scales the page's type; remembered in localStorage, applied
     before the page paints (this script is loaded in <head>).
   - Read aloud: on the household page, a button reads the household's score, rank and recent
     entries with the browser's speech synthesis (zh-CN). Only on a tap, never by itself; a
     second tap stops. Hidden where the browser has no speech synthesis.
   No pop-ups, no downloads: it works inside WeChat's browser. */
(function () {
  "use strict";
  var KEY = "jf-large-type";
  var root = document.documentElement;
  function stored() { try { return window.localStorage.getItem(KEY) === "1"; } catch (e) { return false; } }
  function store(on) { try { window.localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* private mode */ } }
  if (stored()) { root.classList.add("large-type"); }

  function text(el) { return el ? el.textContent.replace(/\s+/g, " ").trim() : ""; }

  function speech(bar) {
    function t(name, n) { return (bar.getAttribute("data-t-" + name) || "").replace("{n}", n); }
    var parts = [];
    var name = document.querySelector("[data-testid=masked-name]");
    // the mask's asterisks are not read out ("张*明" is read 张某明; English pages skip them)
    var someone = /^zh/i.test(document.documentElement.lang || "") ? "某" : "";
    if (name) { parts.push(text(name).replace(/[*＊]+/g, someone)); }
    var earned = document.querySelector("[data-testid=earned]");
    if (earned) { parts.push(t("earned", text(earned))); }
    var rank = document.querySelector("[data-testid=rank]");
    if (rank && rank.firstChild && /\d/.test(rank.firstChild.textContent)) {
      var of = rank.querySelector("small");
      parts.push(t("rank", rank.firstChild.textContent.trim()) +
                 (of ? t("of", text(of).replace(/[^\d]/g, "")) : ""));
    }
    // punctuation of the page's language (English pages are read with English stops)
    function mark(name, fallback) { return bar.getAttribute("data-t-" + name) || fallback; }
    var comma = mark("comma", "，"), semi = mark("semicolon", "；");
    var colon = mark("colon", "："), stop = mark("stop-mark", "。");
    // entries that count: not reversed, cancelled or declined, nor a reversal itself
    var entries = document.querySelectorAll("[data-testid=entries] > li[data-counts='1']");
    var said = [];
    Array.prototype.slice.call(entries, 0, 5).forEach(function (li) {
      var what = li.querySelector(".fs-5");
      var when = li.querySelector(".small");
      var pts = li.querySelector(".fs-4");
      if (!what || !pts) { return; }
      var p = text(pts);
      var amount = p.replace(/^[+\-−]/, "");
      var day = text(when).split("·")[0].trim();
      var status = li.querySelector(".badge");  // not yet counted: under notice, held, ...
      said.push(day + comma + text(what) + comma + (/^[\-−]/.test(p) ? t("minus", amount) : t("plus", amount)) +
                (status ? comma + text(status) : ""));
    });
    if (said.length) { parts.push(t("recent") + colon + said.join(semi)); }
    return parts.join(stop) + stop;
  }

  function ready() {
    var bar = document.getElementById("elder-bar");
    if (!bar) { return; }
    var large = bar.querySelector("[data-large-type]");
    large.setAttribute("aria-pressed", root.classList.contains("large-type") ? "true" : "false");
    large.addEventListener("click", function () {
      var on = root.classList.toggle("large-type");
      store(on);
      large.setAttribute("aria-pressed", on ? "true" : "false");
    });
    var read = bar.querySelector("[data-read-aloud]");
    var synth = window.speechSynthesis;
    if (!read || !synth || typeof window.SpeechSynthesisUtterance === "undefined" ||
        !document.querySelector("[data-testid=earned]")) { return; }
    read.classList.remove("d-none");
    var label = read.textContent;
    read.addEventListener("click", function () {
      if (synth.speaking) {
        synth.cancel();
        read.textContent = label;
        return;
      }
      var u = new window.SpeechSynthesisUtterance(speech(bar));
      u.lang = bar.getAttribute("data-speech-lang") || "zh-CN";
      u.rate = 0.85;  // slower, for older ears
      u.onend = u.onerror = function () { read.textContent = label; };
      read.textContent = bar.getAttribute("data-t-stop");
      synth.speak(u);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
