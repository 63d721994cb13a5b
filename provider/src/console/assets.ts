/**
 * The console's only script and style sheet, served by the broker itself (the CSP allows scripts
 * and styles from 'self' only, and nothing inline). The script does one thing: it turns each
 * `<time data-countdown>` into a live "mm:ss left", correcting for the browser's clock with the
 * server's time on `<html data-now>`. Every page works without it.
 */
export const SCRIPT = `"use strict";
(function () {
  var server = Date.parse(document.documentElement.getAttribute("data-now") || "");
  var skew = isNaN(server) ? 0 : server - Date.now();
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function left(ms) {
    var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h > 0 ? h + ":" + two(m) : String(m)) + ":" + two(s % 60) + " left";
  }
  function tick() {
    var nodes = document.querySelectorAll("time[data-countdown]");
    for (var i = 0; i < nodes.length; i++) {
      var ms = Date.parse(nodes[i].getAttribute("datetime") || "") - (Date.now() + skew);
      nodes[i].textContent = isNaN(ms) ? nodes[i].textContent : ms > 0 ? left(ms) : "ended";
    }
  }
  tick();
  setInterval(tick, 1000);
})();
`;

export const STYLE = `:root { color-scheme: light; --fg: #1b1f24; --muted: #4b5563; --line: #d0d7de; --accent: #0b5cad; --bad: #a40e26; --ok: #116329; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #fff; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible, select:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; z-index: 1; }
header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: .75rem 1.5rem; border-bottom: 1px solid var(--line); background: #f6f8fa; }
header .brand { font-weight: 700; margin-right: 1rem; }
header nav ul { display: flex; gap: 1rem; list-style: none; margin: 0; padding: 0; }
header nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
header form { margin-left: auto; display: flex; gap: .75rem; align-items: center; }
main { padding: 1rem 1.5rem 3rem; max-width: 72rem; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f6f8fa; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
label { display: block; font-weight: 600; margin-top: 1rem; }
.hint { display: block; color: var(--muted); font-size: .9rem; margin-top: .15rem; }
input[type="text"], input[type="number"], input[type="search"], textarea, select { font: inherit; padding: .4rem .5rem; border: 1px solid #6e7781; border-radius: 4px; width: 100%; max-width: 32rem; }
fieldset { border: 1px solid var(--line); border-radius: 4px; margin-top: 1rem; max-width: 32rem; }
fieldset label { display: inline-flex; gap: .4rem; font-weight: 400; margin: .25rem 1rem .25rem 0; }
legend { font-weight: 600; }
button, .button { font: inherit; padding: .4rem .9rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; }
.actions form { margin: 0; }
.inline { display: flex; gap: .5rem; align-items: end; flex-wrap: wrap; }
.inline label { margin-top: 0; }
.error { border: 2px solid var(--bad); border-radius: 4px; padding: .6rem .9rem; color: var(--bad); background: #fff5f5; max-width: 48rem; }
.notice { border: 2px solid var(--ok); border-radius: 4px; padding: .6rem .9rem; color: var(--ok); background: #f0fff4; max-width: 48rem; }
.state { font-weight: 600; }
.signin { display: grid; gap: 1.5rem; max-width: 40rem; }
.signin section { border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.25rem; }
.signin h2 { margin-top: 0; }
`;
