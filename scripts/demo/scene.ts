import { isDeepStrictEqual } from "node:util";
import { requestAccess, sweep } from "../../provider/src/access";
import { Column, formatTable } from "../../provider/src/cli/output";
import type { CallLog } from "../../provider/src/emulator";
import { Cloud, Grant, isJitError } from "../../provider/src/model";
import type { PolicyResourceInputs } from "../../provider/src/pulumi/inputs";
import type { PolicyResourceOutputs } from "../../provider/src/pulumi/runtime";
import { policyProviderShim } from "../../provider/src/pulumi/shim";

/**
 * One cloud's part of the demo: a VM on a local endpoint, and what the story needs to show and
 * say about it. The story itself (`playScene`) is the same for every cloud. Prose is given as
 * paragraphs; leading spaces indent a paragraph further.
 */
export interface Scene {
  cloud: Cloud;
  /** "Azure", "AWS". */
  name: string;
  /** What is on stage, for the heading. */
  title: string;
  /** Which calls are counted, for the summary: "ARM calls, ...". */
  callsCounted: string;
  calls: CallLog;
  /** The JitPolicy resource's inputs, as a Pulumi program would give them. */
  policy: PolicyResourceInputs;
  vmId: string;
  /** The port the story asks for. */
  port: number;
  intro: string[];
  flows: SampleFlow[];
  /** The VM's rule tables as they are now, read from the endpoint's state (no API call). */
  tables(): string;
  /** Decides flows against the state as it is now, with the evaluator the planners use (no API call). */
  evaluator(): (flow: SampleFlow) => Verdict;
  /** What the baseline did and why. */
  explainBaseline(outs: PolicyResourceOutputs): string[];
  explainGrant(grant: Grant): string[];
  explainDelete: string;
  /** Everything the policy's delete must leave as it found it, and what that covers, in words. */
  snapshot(): unknown;
  snapshotCovers: string;
}

export interface SampleFlow {
  /** "Internet 198.51.100.9". */
  who: string;
  source: string;
  port: number;
}

export interface Verdict {
  allowed: boolean;
  /** The rule(s) that decided, in words. */
  by: string;
}

/** The demo's clock: requests and sweeps run on it, so an hour can pass in an instant. */
export interface Clock {
  now(): Date;
  advanceTo(t: Date): void;
}

export interface StageCalls {
  stage: string;
  calls: number;
  writes: number;
}

/** Where requests come from: the requester, and an address outside the policy's allowed prefix. */
export const REQUESTER = "203.0.113.7";
export const STRANGER = "198.51.100.9";
const DURATION = "PT1H";
const WIDTH = 100;

export const out = (...lines: string[]): void => console.log(lines.join("\n"));
const indent = (text: string, by = "  "): string => text.replace(/^(?=.)/gm, by);

/** A paragraph, wrapped to the page and indented two spaces more than it starts with. */
function wrap(paragraph: string): string {
  const lead = `  ${/^ */.exec(paragraph)?.[0] ?? ""}`;
  const lines: string[] = [];
  let line = "";
  for (const word of paragraph.trim().split(/ +/)) {
    if (line && lead.length + line.length + 1 + word.length > WIDTH) {
      lines.push(lead + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, lead + line].join("\n");
}

export const say = (...paragraphs: string[]): void => out(...paragraphs.map(wrap));

export function heading(text: string, underline: "=" | "-"): void {
  out("", text, underline.repeat(text.length));
}

export function table<T>(rows: T[], columns: Column<T>[]): string {
  return indent(formatTable(rows, columns));
}

export const hhmm = (iso: string | Date): string => new Date(iso).toISOString().slice(11, 16) + " UTC";

function showState(scene: Scene): void {
  const decide = scene.evaluator();
  out(
    "",
    scene.tables(),
    "",
    table(scene.flows, [
      { header: "flow", value: (f) => `${f.who} → :${f.port}` },
      { header: "verdict", value: (f) => (decide(f).allowed ? "allowed" : "denied") },
      { header: "decided by", value: (f) => decide(f).by },
    ]),
  );
}

/**
 * The whole life of a policy on one cloud: `pulumi up` places the baseline, a person asks for
 * access, the grant expires and `jit sweep` closes it, `pulumi destroy` takes the policy away, and
 * the network is compared with how it started. Returns the API calls of each stage.
 */
export async function playScene(scene: Scene, clock: Clock): Promise<StageCalls[]> {
  const counted: StageCalls[] = [];
  const stage = async <T>(title: string, label: string, work: () => Promise<T>): Promise<T> => {
    heading(title, "-");
    const mark = scene.calls.mark();
    const result = await work();
    const calls = scene.calls.count({ since: mark });
    const writes = scene.calls.count({ since: mark, write: true });
    counted.push({ stage: label, calls, writes });
    showState(scene);
    out("");
    say(`${calls} ${scene.name} API calls in this step, ${writes} of them writes.`);
    return result;
  };

  heading(`${scene.name}: ${scene.title}`, "=");
  const before = scene.snapshot();
  heading("1. Before: no policy", "-");
  say(...scene.intro);
  showState(scene);

  // The provider object Pulumi serialises into the state; each method loads pulumi-jit's runtime.
  const provider = policyProviderShim(scene.cloud);
  const outs = await stage(`2. pulumi up: a JitPolicy "${scene.policy.policyName}" for port ${scene.port}`, "policy create (pulumi up)", async () => {
    const checked = await provider.check!({}, scene.policy);
    if (checked.failures?.length) throw new Error(`the policy's inputs were refused: ${checked.failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
    const created = (await provider.create(checked.inputs)) as { id: string; outs: PolicyResourceOutputs };
    say(...scene.explainBaseline(created.outs));
    return created.outs;
  });

  const grant = await stage(`3. jit request: ${REQUESTER} asks for port ${scene.port}, for an hour`, "request (one refused, one granted)", async () => {
    const ask = (allowedSourceAddressPrefix?: string) =>
      requestAccess(
        {
          policy: scene.policy.policyName,
          virtualMachines: [{ id: scene.vmId, ports: [{ number: scene.port, duration: DURATION, ...(allowedSourceAddressPrefix ? { allowedSourceAddressPrefix } : {}) }] }],
          justification: "INC-1234",
        },
        // With no source named, the caller's own address is used; the demo says what it is rather than asking echo services.
        { now: clock.now, sourceAddress: REQUESTER },
      );
    const refusal = await ask(STRANGER).then(
      () => undefined,
      (err: unknown) => (isJitError(err) ? err : Promise.reject(err)),
    );
    if (!refusal) throw new Error(`a request from ${STRANGER}, outside the policy's prefixes, was granted`);
    const granted = await ask();
    say(
      `A request from ${STRANGER} is refused before anything changes (${refusal.code}): ${refusal.message}.`,
      `The request from ${REQUESTER} is granted: grant ${granted.id}, until ${hhmm(granted.endTimeUtc)}.`,
      ...scene.explainGrant(granted),
    );
    return granted;
  });

  await stage("4. An hour later: the grant expires, jit sweep closes it", "expiry (jit sweep)", async () => {
    clock.advanceTo(new Date(Date.parse(grant.endTimeUtc) + 60_000));
    const report = await sweep({ now: clock.now });
    const ended = report.restored.find((r) => r.grantId === grant.id);
    if (!ended || report.failed.length) throw new Error(`sweep did not end grant ${grant.id}: ${JSON.stringify(report)}`);
    say(
      `It is ${hhmm(clock.now())}. Sweep found grant ${grant.id} due and removed exactly what it had added; the grant is ${ended.state}.`,
      "Connections already open stay up: the rules are stateful and only refuse new ones.",
    );
  });

  await stage(`5. pulumi destroy: the policy is deleted`, "policy delete (pulumi destroy)", async () => {
    await provider.delete!(scene.policy.policyName, outs);
    say(scene.explainDelete);
  });

  if (!isDeepStrictEqual(scene.snapshot(), before)) {
    throw new Error(`${scene.name}: the network is not as it was before the policy:\nbefore: ${JSON.stringify(before)}\nafter:  ${JSON.stringify(scene.snapshot())}`);
  }
  out("");
  say(`✓ ${scene.name}: back exactly as it was. ${scene.snapshotCovers}`);
  return counted;
}
