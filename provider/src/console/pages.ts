import type { AuditEvent, Grant, Policy } from "../model";
import { LIVE_STATES } from "../model/grant";
import { Html, html, query } from "./html";

/** What every signed-in page shows in its header. */
export interface Frame {
  now: number;
  user?: { name: string; method: string; csrf: string };
  /** Which nav entries exist (the approvals inbox only where the broker has approvals). */
  approvals: boolean;
  current?: "vms" | "grants" | "approvals" | "audit";
}

export interface Message {
  kind: "error" | "notice";
  text: string;
}

const NAV: { key: NonNullable<Frame["current"]>; href: string; label: string }[] = [
  { key: "vms", href: "/console/", label: "Request access" },
  { key: "grants", href: "/console/grants", label: "My access" },
  { key: "approvals", href: "/console/approvals", label: "Approvals" },
  { key: "audit", href: "/console/audit", label: "Audit log" },
];

export function layout(frame: Frame, title: string, body: Html, message?: Message): Html {
  const nav = NAV.filter((n) => n.key !== "approvals" || frame.approvals);
  return html`<!doctype html>
<html lang="en" data-now="${new Date(frame.now).toISOString()}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · pulumi-jit</title>
<link rel="stylesheet" href="/console/static/console.css">
<script src="/console/static/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<span class="brand">pulumi-jit</span>
${
  frame.user
    ? html`<nav aria-label="Main"><ul>${nav.map((n) => html`<li><a href="${n.href}"${frame.current === n.key ? html` aria-current="page"` : ""}>${n.label}</a></li>`)}</ul></nav>
<form method="post" action="/console/signout"><input type="hidden" name="csrf" value="${frame.user.csrf}"><span>Signed in as <strong>${frame.user.name}</strong> <span class="muted">(${frame.user.method})</span></span><button type="submit" class="secondary">Sign out</button></form>`
    : ""
}
</header>
<main id="main">
<h1>${title}</h1>
${message ? messageBox(message) : ""}
${body}
</main>
</body>
</html>
`;
}

function messageBox(message: Message): Html {
  return message.kind === "error" ? html`<div class="error" role="alert" id="error"><strong>Not done:</strong> ${message.text}</div>` : html`<div class="notice" role="status">${message.text}</div>`;
}

export interface SignInChoices {
  csrf: string;
  /** Where to land once signed in (already checked to be a console page). */
  next?: string;
  dev?: string;
  azure: boolean;
  aws: boolean;
}

export function signInPage(frame: Frame, choices: SignInChoices, message?: Message): Html {
  const none = !choices.dev && !choices.azure && !choices.aws;
  return layout(
    frame,
    "Sign in",
    html`<div class="signin">
${choices.azure ? html`<section aria-labelledby="azure"><h2 id="azure">Azure</h2><p>Sign in with your Microsoft Entra ID account; the broker checks your token as it checks the API's.</p><p><a class="button" href="/console/auth/azure${query({ next: choices.next })}">Sign in with Microsoft</a></p></section>` : ""}
${
  choices.aws
    ? html`<section aria-labelledby="aws"><h2 id="aws">AWS</h2><form method="post" action="/console/auth/aws"><input type="hidden" name="csrf" value="${choices.csrf}">
<label for="proof">Signed identity proof</label><span class="hint" id="proof-hint">A signed STS GetCallerIdentity request for this broker, as the jit CLI sends it (the value after <code>JIT-AWS-STS</code>). It proves who you are without any secret, and it is only good for a few minutes.</span>
<textarea id="proof" name="proof" rows="4" required aria-describedby="proof-hint" spellcheck="false" autocomplete="off"></textarea>
<p><button type="submit">Sign in with AWS</button></p></form></section>`
    : ""
}
${
  choices.dev
    ? html`<section aria-labelledby="dev"><h2 id="dev">Local development</h2><p>This broker runs with a development identity on a loopback address: anyone who can reach it is <strong>${choices.dev}</strong>.</p><form method="post" action="/console/auth/dev"><input type="hidden" name="csrf" value="${choices.csrf}"><button type="submit">Continue as ${choices.dev}</button></form></section>`
    : ""
}
${none ? html`<p>This broker accepts no sign-in method the console can use. Configure Azure sign-in (console.azure), an AWS identity verifier, or run with --dev-identity on a loopback address.</p>` : ""}
</div>`,
    message,
  );
}

export type RequestablePolicy = Policy & { cloud: string };

const vmName = (id: string): string => id.slice(id.lastIndexOf("/") + 1);

export function vmsPage(frame: Frame, policies: RequestablePolicy[], message?: Message): Html {
  const rows = policies.flatMap((p) =>
    p.virtualMachines.map(
      (vm) => html`<tr><td>${p.name}</td><td>${p.cloud}</td><td><strong>${vmName(vm.id)}</strong><br><span class="mono muted">${vm.id}</span></td>
<td>${vm.ports.map((port) => html`<div>${port.number}/${port.protocol} <span class="muted">up to ${port.maxRequestAccessDuration}</span></div>`)}</td>
<td><a href="/console/request${query({ policy: p.name, vm: vm.id })}">Request<span class="skip"> access to ${vmName(vm.id)}</span></a></td></tr>`,
    ),
  );
  return layout(
    { ...frame, current: "vms" },
    "Request access",
    rows.length === 0
      ? html`<p>There is no VM you may request access to. A policy lists who may request (its requesters), and on Azure you also need the request permission on the VM.</p>`
      : html`<p>The VMs and ports you may request access to.</p><table><caption class="skip">Requestable VMs</caption><thead><tr><th scope="col">Policy</th><th scope="col">Cloud</th><th scope="col">VM</th><th scope="col">Ports</th><th scope="col"><span class="skip">Action</span></th></tr></thead><tbody>${rows}</tbody></table>`,
    message,
  );
}

export interface RequestForm {
  ports: number[];
  minutes: number;
  source: string;
  justification: string;
}

export function requestPage(frame: Frame, policy: RequestablePolicy, vm: Policy["virtualMachines"][number], form: RequestForm, message?: Message, field?: string): Html {
  const maxMinutes = Math.min(...vm.ports.map((p) => minutesOf(p.maxRequestAccessDuration)));
  const invalid = (name: string) => (field !== undefined && field.toLowerCase().includes(name) ? html` aria-invalid="true" aria-describedby="error"` : "");
  return layout(
    { ...frame, current: "vms" },
    `Request access to ${vmName(vm.id)}`,
    html`<p class="muted">Policy <strong>${policy.name}</strong> · <span class="mono">${vm.id}</span></p>
<form method="post" action="/console/request">
<input type="hidden" name="csrf" value="${frame.user?.csrf ?? ""}">
<input type="hidden" name="policy" value="${policy.name}">
<input type="hidden" name="vm" value="${vm.id}">
<fieldset><legend>Ports</legend>
${vm.ports.map((p) => html`<label><input type="checkbox" name="port" value="${p.number}"${form.ports.includes(p.number) ? html` checked` : ""}> ${p.number}/${p.protocol} <span class="muted">(up to ${p.maxRequestAccessDuration})</span></label>`)}
</fieldset>
<label for="minutes">Duration in minutes</label><span class="hint" id="minutes-hint">At most ${maxMinutes} for these ports.</span>
<input type="number" id="minutes" name="minutes" min="1" max="${maxMinutes}" step="1" value="${form.minutes}" required aria-describedby="minutes-hint"${invalid("duration")}>
<label for="source">Your address</label><span class="hint" id="source-hint">The address the broker sees you come from; change it if you connect from another one (an IP address or CIDR block the policy allows).</span>
<input type="text" id="source" name="source" value="${form.source}" required maxlength="64" autocomplete="off" spellcheck="false" aria-describedby="source-hint"${invalid("source")}>
<label for="justification">Justification</label><span class="hint" id="justification-hint">Why you need access (a ticket number helps the approvers and the audit log).</span>
<textarea id="justification" name="justification" rows="3" maxlength="1000" aria-describedby="justification-hint"${invalid("justification")}>${form.justification}</textarea>
<p><button type="submit">Request access</button> <a href="/console/">Cancel</a></p>
</form>`,
    message,
  );
}

export function minutesOf(duration: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(duration);
  if (!m) return 60;
  return Number(m[1] ?? 0) * 1440 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) + Math.floor(Number(m[4] ?? 0) / 60);
}

const LIVE = new Set<string>(LIVE_STATES);

function portsOf(grant: Grant): Html {
  return html`${grant.virtualMachines.map((vm) => html`<div><strong>${vmName(vm.id)}</strong> ${vm.ports.map((p) => html`<span class="mono">${p.number}/${p.protocol} from ${p.sourceAddressPrefix}</span> `)}</div>`)}`;
}

export interface GrantActions {
  extend: boolean;
  /** Grants the caller may act on (their own, or any for an admin). */
  mine: (grant: Grant) => boolean;
}

export function grantsPage(frame: Frame, grants: Grant[], showEnded: boolean, actions: GrantActions, message?: Message): Html {
  const csrf = frame.user?.csrf ?? "";
  const rows = grants.map((g) => {
    const live = LIVE.has(g.state);
    const waiting = g.state === "awaiting-approval";
    return html`<tr id="grant-${g.id}"><td class="mono">${g.id}</td><td>${g.policy}</td><td>${portsOf(g)}</td><td>${g.justification ?? ""}</td>
<td><span class="state">${waiting ? "waiting for approval" : g.state}</span>${waiting && g.approval ? html`<br><span class="muted">${approvalProgress(g.approval)}</span>` : ""}${g.reason ? html`<br><span class="muted">${g.reason}</span>` : ""}${g.error ? html`<br><span class="muted">${g.error}</span>` : ""}</td>
<td>${live && !waiting ? html`<time datetime="${g.endTimeUtc}" data-countdown role="timer">until ${g.endTimeUtc}</time>` : html`<span class="muted">${waiting ? "starts when approved" : `ended ${g.endTimeUtc}`}</span>`}</td>
<td>${
      live && actions.mine(g)
        ? html`<div class="actions">${
            actions.extend && g.state === "active"
              ? html`<form method="post" action="/console/grants/${g.id}/extend" class="inline"><input type="hidden" name="csrf" value="${csrf}"><label for="extend-${g.id}">Minutes</label><input type="number" id="extend-${g.id}" name="minutes" min="1" value="30" required><button type="submit" class="secondary">Extend<span class="skip"> ${g.id}</span></button></form>`
              : ""
          }<form method="post" action="/console/grants/${g.id}/revoke"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="danger">${waiting ? "Withdraw" : "Revoke"}<span class="skip"> ${g.id}</span></button></form></div>`
        : ""
    }</td></tr>`;
  });
  return layout(
    { ...frame, current: "grants" },
    showEnded ? "All access" : "My access",
    html`<p><a href="/console/grants${showEnded ? "" : "?state=all"}">${showEnded ? "Show live access only" : "Show ended access too"}</a></p>
${
  rows.length === 0
    ? html`<p>${showEnded ? "No access yet." : "No live access."} <a href="/console/">Request access</a></p>`
    : html`<table><caption class="skip">Grants</caption><thead><tr><th scope="col">Grant</th><th scope="col">Policy</th><th scope="col">VMs and ports</th><th scope="col">Justification</th><th scope="col">State</th><th scope="col">Time left</th><th scope="col"><span class="skip">Actions</span></th></tr></thead><tbody>${rows}</tbody></table>`
}`,
    message,
  );
}

function approvalProgress(approval: NonNullable<Grant["approval"]>): string {
  const approvals = approval.votes.filter((v) => v.decision === "approve");
  const by = approvals.map((v) => v.name ?? v.approver).join(", ");
  return `${approvals.length} of ${approval.required} approvals${by ? ` (${by})` : ""}; expires unless decided by ${approval.expiresAt}`;
}

export function approvalsPage(frame: Frame, requests: Grant[], message?: Message): Html {
  const csrf = frame.user?.csrf ?? "";
  const rows = requests.map(
    (g) => html`<tr id="approval-${g.id}"><td class="mono">${g.id}</td><td>${g.requester}</td><td>${g.policy}</td><td>${portsOf(g)}</td><td>${g.justification ?? ""}</td><td>${g.approval ? approvalProgress(g.approval) : ""}</td>
<td><div class="actions"><form method="post" action="/console/approvals/${g.id}/approve"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Approve<span class="skip"> ${g.id}</span></button></form><form method="post" action="/console/approvals/${g.id}/deny"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="danger">Deny<span class="skip"> ${g.id}</span></button></form></div></td></tr>`,
  );
  return layout(
    { ...frame, current: "approvals" },
    "Approvals",
    rows.length === 0
      ? html`<p>Nothing waits for your approval.</p>`
      : html`<p>Requests that wait for your approval. Access starts at the last approval the policy needs; one deny ends the request.</p><table><caption class="skip">Requests waiting for approval</caption><thead><tr><th scope="col">Request</th><th scope="col">Requester</th><th scope="col">Policy</th><th scope="col">VMs and ports</th><th scope="col">Justification</th><th scope="col">Progress</th><th scope="col"><span class="skip">Decision</span></th></tr></thead><tbody>${rows}</tbody></table>`,
    message,
  );
}

export interface AuditSearch {
  q: string;
  policy: string;
  grant: string;
}

/** Whether an event matches a free-text search: any of its words, case-insensitive, in the fields a person reads. */
export function auditMatches(event: AuditEvent, q: string): boolean {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const text = [event.actor, event.action, event.outcome, event.target.policy, event.target.grant, event.target.vm, event.justification, event.sourceAddress, event.code, event.message].filter(Boolean).join(" ").toLowerCase();
  return words.every((w) => text.includes(w));
}

export function auditPage(frame: Frame, search: AuditSearch, events: AuditEvent[] | undefined, message?: Message): Html {
  const form = html`<form method="get" action="/console/audit" class="inline" role="search">
<div><label for="q">Search</label><input type="search" id="q" name="q" value="${search.q}" maxlength="200"></div>
<div><label for="policy">Policy</label><input type="text" id="policy" name="policy" value="${search.policy}" maxlength="128"></div>
<div><label for="grant">Grant</label><input type="text" id="grant" name="grant" value="${search.grant}" maxlength="64"></div>
<button type="submit">Search</button></form>`;
  const rows = (events ?? []).map(
    (e) => html`<tr><td class="mono">${e.time}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.target.policy ?? ""}${e.target.grant ? html`<br><span class="mono">${e.target.grant}</span>` : ""}</td><td>${e.outcome}${e.code ? html` <span class="muted">(${e.code})</span>` : ""}</td><td>${e.justification ?? ""}${e.message ? html`<br><span class="muted">${e.message}</span>` : ""}</td></tr>`,
  );
  return layout(
    { ...frame, current: "audit" },
    "Audit log",
    html`${form}
${
  events === undefined
    ? ""
    : rows.length === 0
      ? html`<p>No event matches.</p>`
      : html`<p class="muted">${rows.length} event${rows.length === 1 ? "" : "s"}, newest first.</p><table><caption class="skip">Audit events</caption><thead><tr><th scope="col">Time (UTC)</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Outcome</th><th scope="col">Details</th></tr></thead><tbody>${rows}</tbody></table>`
}`,
    message,
  );
}

export function errorPage(frame: Frame, status: number, text: string): Html {
  return layout(frame, status === 404 ? "Not found" : status === 403 ? "Refused" : status === 401 ? "Sign in again" : "Something went wrong", html`<p><a href="/console/">Back to the console</a></p>`, { kind: "error", text });
}

/** The page a sign-in callback answers with: the session cookie is SameSite=Strict, which a cross-site redirect chain would not send, so the browser moves on from this same-site page. */
export function continuePage(next: string): Html {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${next}"><title>Signed in · pulumi-jit</title><link rel="stylesheet" href="/console/static/console.css"></head><body><main id="main"><h1>Signed in</h1><p><a href="${next}">Continue to the console</a></p></main></body></html>`;
}
