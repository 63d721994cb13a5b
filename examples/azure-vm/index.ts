// A Linux VM on Azure whose SSH port is locked by a pulumi-jit policy: closed by a deny rule in
// both NSGs on its inbound path (the subnet's and the NIC's), and opened for one address for a
// while by `jit request`.
import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/azure-native/compute";
import * as network from "@pulumi/azure-native/network";
import * as resources from "@pulumi/azure-native/resources";
import { azure } from "pulumi-jit";

const config = new pulumi.Config();
/** The SSH public key of the VM's admin user (an OpenSSH `ssh-ed25519 …` or `ssh-rsa …` line). */
const sshPublicKey = config.require("sshPublicKey");
const adminUsername = config.get("adminUsername") ?? "azureuser";
const vmSize = config.get("vmSize") ?? "Standard_B1s";
/** Who may ask for SSH: CIDR blocks such as your office range. Unset, any source may be requested. */
const allowedSourcePrefixes = config.getObject<string[]>("allowedSourcePrefixes");
const maxAccess = config.get("maxAccess") ?? "PT3H";
/** Requests name the policy; one per stack, as policy names are unique in a ledger. */
const policyName = config.get("policyName") ?? `${pulumi.getProject()}-${pulumi.getStack()}`;

const group = new resources.ResourceGroup("jit-example");
const resourceGroupName = group.name;

// Security rules are separate SecurityRule resources, never inline `securityRules` on the NSG: an
// NSG that lists its rules owns the whole list, and an update would delete the JIT deny rule and any
// grant's allow rule (see README.md).
const subnetNsg = new network.NetworkSecurityGroup("subnet-nsg", { resourceGroupName });
const nicNsg = new network.NetworkSecurityGroup("nic-nsg", { resourceGroupName });

// The VM serves HTTP; both NSGs on its path must allow it. Port 22 has no allow rule at all: only
// a JIT grant opens it.
const userRules = [subnetNsg, nicNsg].map(
  (nsg, i) =>
    new network.SecurityRule(`allow-http-${i === 0 ? "subnet" : "nic"}`, {
      resourceGroupName,
      networkSecurityGroupName: nsg.name,
      priority: 1000,
      direction: "Inbound",
      access: "Allow",
      protocol: "Tcp",
      sourceAddressPrefix: "Internet",
      sourcePortRange: "*",
      destinationAddressPrefix: "*",
      destinationPortRange: "80",
    }),
);

// Subnets as separate resources too, for the same reason.
const vnet = new network.VirtualNetwork("vnet", {
  resourceGroupName,
  addressSpace: { addressPrefixes: ["10.0.0.0/16"] },
});
const subnet = new network.Subnet("vms", {
  resourceGroupName,
  virtualNetworkName: vnet.name,
  addressPrefix: "10.0.1.0/24",
  networkSecurityGroup: { id: subnetNsg.id },
});

const publicIp = new network.PublicIPAddress("vm-ip", {
  resourceGroupName,
  sku: { name: "Standard" },
  publicIPAllocationMethod: "Static",
});

const nic = new network.NetworkInterface("vm-nic", {
  resourceGroupName,
  networkSecurityGroup: { id: nicNsg.id },
  ipConfigurations: [
    {
      name: "primary",
      primary: true,
      subnet: { id: subnet.id },
      privateIPAllocationMethod: "Dynamic",
      publicIPAddress: { id: publicIp.id },
    },
  ],
});

const vm = new compute.VirtualMachine("vm", {
  resourceGroupName,
  hardwareProfile: { vmSize },
  networkProfile: { networkInterfaces: [{ id: nic.id, primary: true }] },
  osProfile: {
    computerName: "jit-example",
    adminUsername,
    linuxConfiguration: {
      disablePasswordAuthentication: true,
      ssh: { publicKeys: [{ path: `/home/${adminUsername}/.ssh/authorized_keys`, keyData: sshPublicKey }] },
    },
  },
  storageProfile: {
    imageReference: { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" },
    osDisk: { createOption: "FromImage", deleteOption: "Delete", managedDisk: { storageAccountType: "Standard_LRS" } },
  },
});

// The policy: port 22 of the VM, TCP, requested from the allowed prefixes for at most `maxAccess`.
// It depends on the user rules so that it sees them when it places its deny rules (they keep
// precedence over it, and it takes no priority they need).
const policy = new azure.JitPolicy(
  "ssh",
  {
    policyName,
    resourceGroupName,
    virtualMachines: [
      {
        id: vm.id,
        ports: [
          {
            number: 22,
            protocol: "TCP",
            ...(allowedSourcePrefixes ? { allowedSourceAddressPrefixes: allowedSourcePrefixes } : {}),
            maxRequestAccessDuration: maxAccess,
          },
        ],
      },
    ],
  },
  { dependsOn: userRules },
);

export const resourceGroup = group.name;
export const vmName = vm.name;
export const publicIpAddress = publicIp.ipAddress;
export const jitPolicyName = policy.policyName;
/** Per VM: protected, exposed (by which rule), or not applicable. */
export const protection = policy.vms;
/** Opens SSH from your public address for an hour. */
export const jitRequest = pulumi.interpolate`jit request --policy ${policy.policyName} --vm ${vm.name} --port 22 --duration PT1H --justification "maintenance"`;
export const sshCommand = pulumi.interpolate`ssh ${adminUsername}@${publicIp.ipAddress}`;
