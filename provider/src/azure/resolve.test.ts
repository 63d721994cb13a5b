import { test } from "node:test";
import assert from "node:assert/strict";
import { startAzureEmulator } from "../emulator/azure";
import { isJitError } from "../model";
import { AzureClients } from "./clients";
import { resolveConnection } from "./connection";
import { Resolver } from "./resolve";

test("a VM resolves to each NIC's path: subnet and its NSG, NIC NSG, private addresses and public IPs, wherever the NIC lives; once per operation", async () => {
  const emu = await startAzureEmulator();
  try {
    emu.seed.resourceGroup("app");
    emu.seed.resourceGroup("net");
    emu.seed.vnet("net", "vnet");
    const subnetNsg = emu.seed.nsg("net", "front-nsg");
    const front = emu.seed.subnet("net", "vnet", "front", { addressPrefix: "10.0.1.0/24", nsg: subnetNsg });
    const back = emu.seed.subnet("net", "vnet", "back", { addressPrefix: "10.0.2.0/24" });
    const nicNsg = emu.seed.nsg("net", "nic-nsg");
    const pip = emu.seed.publicIp("net", "pip", { ipAddress: "20.1.2.3" });
    const nic1 = emu.seed.nic("net", "nic1", { subnet: front, nsg: nicNsg, publicIp: pip, privateIp: "10.0.1.4" });
    const nic2 = emu.seed.nic("net", "nic2", { subnet: back, privateIp: "10.0.2.4" });
    const vmId = emu.seed.vm("app", { name: "vm1", os: "Linux", nics: [nic1, nic2] });

    const clients = new AzureClients(resolveConnection({ endpoint: emu.endpoint, ca: emu.clientOptions.tlsOptions.ca, credential: emu.credential }));
    const resolver = new Resolver(clients);
    const mark = emu.calls.mark();
    const vm = await resolver.vm(vmId);
    assert.deepEqual(vm, {
      id: vmId,
      name: "vm1",
      exists: true,
      paths: [
        { nicId: nic1, subnetId: front, subnetNsgId: subnetNsg, nicNsgId: nicNsg, addresses: ["10.0.1.4"], publicIpIds: [pip], applicationSecurityGroups: {} },
        { nicId: nic2, subnetId: back, addresses: ["10.0.2.4"], publicIpIds: [], applicationSecurityGroups: {} },
      ],
    });
    assert.equal(await resolver.publicAddress(pip), "20.1.2.3");
    await resolver.vm(vmId.replace("/resourceGroups/app/", "/resourceGroups/APP/").replace(/vm1$/, "VM1"));
    assert.deepEqual(emu.calls.byOperation({ since: mark }), { VirtualMachines_Get: 1, NetworkInterfaces_Get: 2, Subnets_Get: 2, PublicIPAddresses_Get: 1 }, "each read once, ids compared case-insensitively");
    await new Resolver(clients).vm(vmId);
    emu.calls.expect({ since: mark, operation: "VirtualMachines_Get" }, 2, "a new operation reads afresh");

    const missing = vmId.replace("vm1", "vm9");
    assert.deepEqual(await resolver.vm(missing), { id: missing, name: "vm9", exists: false, paths: [] }, "a VM that is gone is told apart from a failure");
    emu.faults.inject({ operation: "NetworkInterfaces_Get" }, { kind: "error", status: 404, code: "ResourceNotFound" });
    await assert.rejects(new Resolver(clients).vm(vmId), (e: unknown) => isJitError(e, "NotFound") && e.message === `network interface ${nic1} does not exist`);
  } finally {
    await emu.close();
  }
});
