import { replayAll as replayAzure } from "../test/conformance/replay";
import { replayAll as replayEc2 } from "../test/conformance/ec2-replay";
import type { Measured, Scenario } from "./harness";

/**
 * The conformance figures: every in-scope exchange recorded from the real cloud (specs/recordings/)
 * replayed against the local endpoint; units are the exchanges, the note how many conform by the
 * rules in docs/emulator-conformance.md.
 */
function figure(outcomes: { differences: string[] }[], writes: number): Measured {
  const conforming = outcomes.filter((o) => o.differences.length === 0).length;
  const percent = ((100 * conforming) / outcomes.length).toFixed(1);
  return { calls: outcomes.length, writes, units: outcomes.length, note: `${conforming}/${outcomes.length} exchanges conform (${percent} %)` };
}

const ec2Reads = /^(Describe|Get)/;

export const scenarios: Scenario[] = [
  {
    api: "ARM",
    name: "conformance to recorded Azure traffic",
    run: async () => {
      const outcomes = await replayAzure();
      return figure(outcomes, outcomes.filter((o) => !o.request.startsWith("GET ")).length);
    },
  },
  {
    api: "EC2",
    name: "conformance to recorded and documented EC2 traffic",
    run: async () => {
      const outcomes = await replayEc2();
      return figure(outcomes, outcomes.filter((o) => !ec2Reads.test(o.request)).length);
    },
  },
];
