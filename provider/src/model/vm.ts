import { z } from "zod";
import { JitError } from "./errors";
import { viaParser } from "./validate";

export const Cloud = z.enum(["azure", "aws"]);
export type Cloud = z.infer<typeof Cloud>;

/** What a VM id names: an Azure VM by its resource id, or an EC2 instance by its id or ARN. */
export type VmRef =
  | { cloud: "azure"; subscriptionId: string; resourceGroup: string; name: string }
  | { cloud: "aws"; instanceId: string; region?: string; account?: string };

// ARM matches the fixed segments case-insensitively, and so do we.
const AZURE_VM_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESOURCE_GROUP = /^[-\w.()\p{L}\p{N}]{1,90}$/u;
// The Linux rules, which are the looser ones; VM names also end up in rule names and tags.
const AZURE_VM_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_])?$/;
const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const INSTANCE_ARN = /^arn:aws[a-z-]*:ec2:([a-z0-9-]+):(\d{12}):instance\/(.*)$/;

/** Parses a VM id, or throws an `InvalidInput` error naming `field` and saying which part is wrong. */
export function parseVmId(id: string, field = "id"): VmRef {
  const fail = (why: string): never => {
    throw new JitError("InvalidInput", why, { field });
  };
  const azure = AZURE_VM_ID.exec(id);
  if (azure) {
    const [, subscriptionId, resourceGroup, name] = azure;
    if (!GUID.test(subscriptionId)) fail(`"${subscriptionId}" in "${id}" is not a subscription id (a GUID)`);
    if (!RESOURCE_GROUP.test(resourceGroup) || resourceGroup.endsWith(".")) {
      fail(`"${resourceGroup}" in "${id}" is not a resource group name: 1-90 letters, digits, ".", "_", "-", "(" or ")", not ending in "."`);
    }
    if (!AZURE_VM_NAME.test(name)) {
      fail(`"${name}" in "${id}" is not a VM name: 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit and not ending in "." or "-"`);
    }
    return { cloud: "azure", subscriptionId, resourceGroup, name };
  }
  const arn = INSTANCE_ARN.exec(id);
  const instanceId = arn ? arn[3] : id;
  if (INSTANCE_ID.test(instanceId)) {
    return arn ? { cloud: "aws", instanceId, region: arn[1], account: arn[2] } : { cloud: "aws", instanceId };
  }
  if (arn || id.startsWith("i-")) fail(`"${instanceId}" is not an EC2 instance id: "i-" and 8 or 17 lowercase hexadecimal digits`);
  return fail(
    `"${id}" is not a VM id: expected an Azure VM resource id (/subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.Compute/virtualMachines/<name>), an EC2 instance id (i-0123456789abcdef0) or an EC2 instance ARN (arn:aws:ec2:<region>:<account>:instance/<id>)`,
  );
}

/** The VM's short name: the last segment of an Azure id, or the instance id. */
export function vmName(ref: VmRef): string {
  return ref.cloud === "azure" ? ref.name : ref.instanceId;
}

/** The short name of the VM a valid id names (see `vmName`). */
export function vmNameOf(id: string): string {
  return vmName(parseVmId(id));
}

/**
 * One spelling per VM, for comparing ids and indexing: Azure ids are case-insensitive, and an
 * instance ARN names the same VM as its bare instance id.
 */
export function vmKey(ref: VmRef): string {
  if (ref.cloud === "aws") return ref.instanceId;
  return `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${ref.name}`.toLowerCase();
}

/** A VM id (Azure resource id, EC2 instance id or instance ARN), validated and kept as written. */
export const VmId = z.string().superRefine(viaParser(parseVmId));
