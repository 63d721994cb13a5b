import { parsePrefix } from "../../model/address";
import { Json, checkName, fail, invalidRequest, isObject, parseEnum } from "./arm";
import type { RuleDoc, RuleProps } from "./store";

/**
 * Validation of security rules as NRP does it, with NRP's error codes and messages (as observed in
 * the field; see the project's cloud API notes). Pure: callers decide what the rules are checked
 * against.
 */
const PROTOCOLS = ["Tcp", "Udp", "Icmp", "Esp", "*", "Ah"] as const;
const ACCESSES = ["Allow", "Deny"] as const;
const DIRECTIONS = ["Inbound", "Outbound"] as const;

const MAX_RULES_PER_NSG = 1000;
const MAX_ADDRESSES_AND_PORTS = 4000;
const MIN_PRIORITY = 100;
const MAX_PRIORITY = 4096;
const MAX_DESCRIPTION = 140;

/**
 * Service tags usable as a rule's single address prefix (matched case-insensitively, optionally
 * with a region: `Storage.EastUS`). From the Azure service tags overview.
 */
const SERVICE_TAGS = [
  "ActionGroup", "ApiManagement", "AppConfiguration", "AppService", "AppServiceManagement", "AzureActiveDirectory",
  "AzureActiveDirectoryDomainServices", "AzureAdvancedThreatProtection", "AzureArcInfrastructure", "AzureAttestation",
  "AzureBackup", "AzureBotService", "AzureCloud", "AzureCognitiveSearch", "AzureConnectors", "AzureContainerAppsService",
  "AzureContainerRegistry", "AzureCosmosDB", "AzureDatabricks", "AzureDataExplorerManagement", "AzureDataLake",
  "AzureDevOps", "AzureDevSpaces", "AzureDigitalTwins", "AzureEventGrid", "AzureFrontDoor.Frontend",
  "AzureFrontDoor.Backend", "AzureFrontDoor.FirstParty", "AzureHealthcareAPIs", "AzureInformationProtection",
  "AzureIoTHub", "AzureKeyVault", "AzureLoadBalancer", "AzureMachineLearning", "AzureMonitor", "AzureOpenDatasets",
  "AzurePlatformDNS", "AzurePlatformIMDS", "AzurePlatformLKM", "AzureResourceManager", "AzureSignalR",
  "AzureSiteRecovery", "AzureSphere", "AzureSpringCloud", "AzureStack", "AzureTrafficManager", "AzureUpdateDelivery",
  "AzureWebPubSub", "BatchNodeManagement", "ChaosStudio", "CognitiveServicesFrontend", "CognitiveServicesManagement",
  "CorpNetPublic", "CorpNetSaw", "DataFactory", "DataFactoryManagement", "Dynamics365ForMarketingEmail", "EventHub",
  "GatewayManager", "GuestAndHybridManagement", "HDInsight", "Internet", "LogicApps", "LogicAppsManagement",
  "M365ManagementActivityApi", "MicrosoftAzureFluidRelay", "MicrosoftCloudAppSecurity", "MicrosoftContainerRegistry",
  "MicrosoftDefenderForEndpoint", "MicrosoftPurviewPolicyDistribution", "PowerBI", "PowerPlatformInfra",
  "PowerPlatformPlex", "PowerQueryOnline", "Scuba", "ServiceBus", "ServiceFabric", "Sql", "SqlManagement", "Storage",
  "StorageSyncService", "VirtualNetwork", "WindowsAdminCenter", "WindowsVirtualDesktop",
].map((t) => t.toLowerCase());

function isServiceTag(value: string): boolean {
  const v = value.toLowerCase();
  if (SERVICE_TAGS.includes(v)) return true;
  const dot = v.lastIndexOf(".");
  return dot > 0 && SERVICE_TAGS.includes(v.slice(0, dot)) && /^[a-z0-9]+$/.test(v.slice(dot + 1));
}

function isPrefix(value: string): boolean {
  try {
    return parsePrefix(value).kind === "cidr";
  } catch {
    return false;
  }
}

const PORT_RANGE = /^(\d{1,5})(?:-(\d{1,5}))?$/;

function isPortRange(value: string): boolean {
  if (value === "*") return true;
  const m = PORT_RANGE.exec(value);
  if (!m) return false;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  return from <= 65535 && to <= 65535 && from <= to;
}

/** A JSON number where NRP expects a string is read as its text (Newtonsoft does the same). */
function text(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  return undefined;
}

function texts(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.map((item) => text(item) ?? String(item));
}

const capital = (side: string) => side[0].toUpperCase() + side.slice(1);

interface RuleCheck {
  ruleId: string;
  props: Json;
  singularAndPlural: "reject" | "accept";
}

function missing(ruleId: string, parameter: string): never {
  return fail(400, "SecurityRuleParameterMissing", `Required security rule parameter ${parameter} is missing for security rule with Id: ${ruleId}.`);
}

function bothGiven(ruleId: string, singular: string, plural: string): never {
  return invalidRequest(`Security rule ${ruleId} specifies both ${capital(singular)} and ${capital(plural)}; specify one or the other.`);
}

function portRanges(c: RuleCheck, side: "source" | "destination"): Partial<RuleProps> {
  const singularKey = `${side}PortRange`;
  const pluralKey = `${side}PortRanges`;
  const single = text(c.props[singularKey]);
  const plural = texts(c.props[pluralKey]);
  const hasPlural = plural !== undefined && plural.length > 0;
  if (single !== undefined && hasPlural && c.singularAndPlural === "reject") bothGiven(c.ruleId, singularKey, pluralKey);
  if (single === undefined && !hasPlural) missing(c.ruleId, capital(singularKey));
  for (const value of [...(single === undefined ? [] : [single]), ...(plural ?? [])]) {
    if (!isPortRange(value)) {
      fail(
        400,
        "SecurityRuleInvalidPortRange",
        `Security rule has invalid Port range. Value provided: ${value}. Value should be an integer OR integer range with '-' delimiter. Valid range 0-65535.`,
      );
    }
  }
  return { ...(single === undefined ? {} : { [singularKey]: single }), ...(plural === undefined ? {} : { [pluralKey]: plural }) };
}

function addressPrefixes(c: RuleCheck, side: "source" | "destination"): Partial<RuleProps> {
  const singularKey = `${side}AddressPrefix`;
  const pluralKey = `${side}AddressPrefixes`;
  const asgKey = `${side}ApplicationSecurityGroups`;
  const single = text(c.props[singularKey]);
  const plural = texts(c.props[pluralKey]);
  const asgs = c.props[asgKey];
  const hasPlural = plural !== undefined && plural.length > 0;
  const hasAsgs = Array.isArray(asgs) && asgs.length > 0;
  if (single !== undefined && hasPlural && c.singularAndPlural === "reject") bothGiven(c.ruleId, singularKey, pluralKey);
  if (single === undefined && !hasPlural && !hasAsgs) {
    const Side = capital(side);
    fail(
      400,
      "SecurityRuleParametersMissing",
      `Required security rule parameters are missing for security rule with Id: ${c.ruleId}. Security rule must specify ${Side}AddressPrefixes, ${Side}AddressPrefix, or ${Side}ApplicationSecurityGroups.`,
    );
  }
  const invalid = (value: string): never =>
    fail(400, "SecurityRuleInvalidAddressPrefix", `Security rule ${c.ruleId} has invalid Address prefix. Value provided: ${value}.`);
  if (single !== undefined && single !== "*" && !isServiceTag(single) && !isPrefix(single)) invalid(single);
  for (const value of plural ?? []) {
    if (value === "*" || isServiceTag(value)) {
      fail(
        400,
        "SecurityRuleParameterContainsUnsupportedValue",
        `Security rule parameter ${capital(singularKey)} for rule with Id ${c.ruleId} cannot specify existing VIRTUALNETWORK, INTERNET, AZURELOADBALANCER, '*' or system tags. Unsupported value used: ${value}.`,
      );
    }
    if (!isPrefix(value)) invalid(value);
  }
  return {
    ...(single === undefined ? {} : { [singularKey]: single }),
    ...(plural === undefined ? {} : { [pluralKey]: plural }),
    ...(asgs === undefined ? {} : { [asgKey]: asgs }),
  };
}

/**
 * One address family per rule, sources and destinations together: NRP answers 400
 * `ResourceCannotContainAddressPrefixesFromDifferentAddressFamilies` (as recorded in
 * terraform-provider-azurerm#12534, Azure/AKS#3136). `*` and service tags belong to no family.
 */
function checkOneFamily(ruleId: string, props: Partial<RuleProps>): void {
  const values = [props.sourceAddressPrefix, ...(props.sourceAddressPrefixes ?? []), props.destinationAddressPrefix, ...(props.destinationAddressPrefixes ?? [])];
  const families = new Set(values.flatMap((v) => (v !== undefined && isPrefix(v) ? [(parsePrefix(v) as { family: 4 | 6 }).family] : [])));
  if (families.size > 1) {
    fail(
      400,
      "ResourceCannotContainAddressPrefixesFromDifferentAddressFamilies",
      `Security rule ${ruleId} contains IP addresses or prefixes that belong to different address families. All IP addresses or prefixes in the resource should belong to the same address family.`,
    );
  }
}

/**
 * Checks one rule of a PUT (its own, or inside an NSG's `securityRules`) and returns it in the
 * form it is stored and answered: enum values in their canonical casing, only the fields given.
 */
export function validateRule(
  ruleId: string,
  name: string,
  properties: unknown,
  path: string,
  singularAndPlural: "reject" | "accept",
): RuleDoc {
  checkName(name);
  const props = isObject(properties) ? properties : {};
  const c: RuleCheck = { ruleId, props, singularAndPlural };
  if (props.protocol === undefined) missing(ruleId, "Protocol");
  const protocol = parseEnum(props.protocol, PROTOCOLS, "SecurityRuleProtocol", `${path}.protocol`);
  if (props.access === undefined) missing(ruleId, "Access");
  const access = parseEnum(props.access, ACCESSES, "SecurityRuleAccess", `${path}.access`);
  if (props.direction === undefined) missing(ruleId, "Direction");
  const direction = parseEnum(props.direction, DIRECTIONS, "SecurityRuleDirection", `${path}.direction`);
  // An absent priority reaches NRP's range check as 0, which is what its message then shows.
  const priority = props.priority === undefined ? 0 : props.priority;
  if (typeof priority !== "number" || !Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
    fail(400, "SecurityRuleInvalidPriority", `Security rule has invalid Priority. Value provided: ${String(priority)} Allowed range ${MIN_PRIORITY}-${MAX_PRIORITY}.`);
  }
  const description = props.description;
  if (description !== undefined && (typeof description !== "string" || description.length > MAX_DESCRIPTION)) {
    invalidRequest(`Security rule ${ruleId} has a description longer than ${MAX_DESCRIPTION} characters.`);
  }
  const addresses = { ...addressPrefixes(c, "source"), ...addressPrefixes(c, "destination") };
  checkOneFamily(ruleId, addresses);
  return {
    name,
    properties: {
      ...(description === undefined ? {} : { description }),
      protocol,
      ...portRanges(c, "source"),
      ...portRanges(c, "destination"),
      ...addresses,
      access,
      priority,
      direction,
    },
  };
}

/** What a rule counts towards the NSG's addresses-and-ports limit: each source and destination prefix and port range. */
function addressesAndPorts(p: RuleProps): number {
  const count = (single: string | undefined, plural: readonly string[] | undefined) => (plural && plural.length > 0 ? plural.length : single === undefined ? 0 : 1);
  return (
    count(p.sourceAddressPrefix, p.sourceAddressPrefixes) +
    count(p.destinationAddressPrefix, p.destinationAddressPrefixes) +
    count(p.sourcePortRange, p.sourcePortRanges) +
    count(p.destinationPortRange, p.destinationPortRanges)
  );
}

/**
 * NSG-wide limits: at most 1,000 rules, at most 4,000 source and destination addresses and ports
 * over all of them, and one rule per priority and direction.
 */
export function checkRuleSet(rules: readonly RuleDoc[]): void {
  if (rules.length > MAX_RULES_PER_NSG) {
    fail(400, "SecurityRuleCountLimitReached", `A security group cannot have more than ${MAX_RULES_PER_NSG} security rules.`);
  }
  const listed = rules.reduce((sum, r) => sum + addressesAndPorts(r.properties), 0);
  if (listed > MAX_ADDRESSES_AND_PORTS) {
    fail(
      400,
      "SecurityRuleAddressesOrPortsPerSecurityGroupLimitReached",
      `A security group cannot have more than ${MAX_ADDRESSES_AND_PORTS} source and destination addresses and ports in its security rules; this one would have ${listed}.`,
    );
  }
  const seen = new Map<string, string>();
  for (const rule of rules) {
    const slot = `${rule.properties.direction}/${rule.properties.priority}`;
    const other = seen.get(slot);
    if (other !== undefined) {
      fail(400, "SecurityRuleConflict", `Security rule ${rule.name} conflicts with rule ${other}. Rules cannot have the same Priority and Direction.`);
    }
    seen.set(slot, rule.name);
  }
}
