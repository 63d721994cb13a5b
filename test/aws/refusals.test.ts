import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_REQUEST_ACTIONS, requestAccess } from "../../provider/src/access";
import { openLedger } from "../../provider/src/ledger";
import { JitError, PolicyInput } from "../../provider/src/model";
import { driverFor, grantGroups, withAws } from "./support";

const ALLOW_ALL = { name: "Admin", type: "aws-managed" as const, document: { Version: "2012-10-17" as const, Statement: [{ Effect: "Allow" as const, Action: "*", Resource: "*" }] } };
const PRINCIPALS = [
  { name: "admin", policies: [ALLOW_ALL] },
  {
    name: "viewer",
    policies: [{ name: "ReadOnly", document: { Statement: [{ Effect: "Allow" as const, Action: ["ec2:Describe*", "iam:SimulatePrincipalPolicy"], Resource: "*" }] } }],
  },
  {
    name: "Ops",
    type: "role" as const,
    sessionName: "ana@example.com",
    policies: [
      { name: "Jit", document: { Statement: [{ Effect: "Allow" as const, Action: [...DEFAULT_REQUEST_ACTIONS.aws], Resource: "arn:aws:ec2:us-east-1:123456789012:instance/*" }] } },
      // Direct mode writes with the requester's own credentials, and checks them by simulation.
      { name: "DirectWrites", document: { Statement: [{ Effect: "Allow" as const, Action: ["ec2:*", "iam:SimulatePrincipalPolicy"], Resource: "*" }] } },
    ],
  },
];

function refused(code: string, message: RegExp) {
  return (e: unknown) => e instanceof JitError && e.code === code && message.test(e.message);
}

test("refused requests say why and make no write call; an allowed role session gets through", () =>
  withAws({ principals: PRINCIPALS }, async (emu) => {
    const web = emu.seed.securityGroup({ name: "web" });
    const vm = emu.seed.instance({ groupIds: [web.id] });
    const input: PolicyInput = {
      name: "web",
      virtualMachines: [{ id: vm.id, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT1H" }] }],
    };
    const ledger = await openLedger(":memory:");
    await ledger.putPolicy({ policy: input, baseline: {} });
    const ask = (principal: string, port: Record<string, unknown>) =>
      requestAccess({ policy: "web", virtualMachines: [{ id: vm.id, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7", ...port } as never] }] }, { ledger, drivers: { aws: driverFor(emu, { principal }) } });

    const mark = emu.calls.mark();
    await assert.rejects(ask("admin", { number: 3389 }), refused("RequestNotAllowed", /port 3389 of VM "i-[0-9a-f]+" is not in policy "web"; it allows ports 22/));
    await assert.rejects(ask("admin", { duration: "PT2H" }), refused("RequestNotAllowed", /access for PT2H is longer than the PT1H that policy "web" allows/));
    await assert.rejects(ask("admin", { allowedSourceAddressPrefix: "198.51.100.7" }), refused("RequestNotAllowed", /"198\.51\.100\.7" is not inside the source prefixes .*: 203\.0\.113\.0\/24/));
    await assert.rejects(
      ask("viewer", {}),
      refused("Unauthorized", new RegExp(`viewer \\(arn:aws:iam::123456789012:user/viewer\\) lacks ${DEFAULT_REQUEST_ACTIONS.aws.filter((a) => a !== "ec2:DescribeInstances").join(", ")} on ${vm.id}`)),
    );
    emu.calls.expect({ since: mark, write: true }, 0, "a refused request writes nothing");
    emu.calls.expect({ since: mark, operation: "SimulatePrincipalPolicy" }, 1, "the policy checks come first; IAM is asked only for the viewer");
    assert.deepEqual(await ledger.listGrants(), []);
    assert.equal((await ledger.listAudit({ action: "grant.refuse" })).length, 4);

    // Requesters named by the policy: the role session is checked as its role.
    await ledger.putPolicy({ policy: { ...input, requesters: ["arn:aws:iam::123456789012:role/Ops"] }, baseline: {} });
    await assert.rejects(ask("admin", {}), refused("Unauthorized", /admin \(arn:aws:iam::123456789012:user\/admin\) is not among the requesters of policy "web"/));
    emu.calls.expect({ since: mark, write: true }, 0);
    const grant = await ask("Ops", {});
    assert.equal(grant.requester, "arn:aws:iam::123456789012:role/Ops");
    assert.equal(grant.state, "active");
    assert.equal(grantGroups(emu).length, 1);
  }));
