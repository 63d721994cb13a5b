import { test } from "node:test";
import assert from "node:assert/strict";
import { isBroadSource } from "../../provider/src/scan";

test("broad sources: the Internet, wide public prefixes, and tags standing for public ranges", () => {
  const broad = ["*", "Any", "Internet", "internet", "0.0.0.0/0", "0.0.0.0/1", "52.0.0.0/8", "52.1.0.0/16", "::/0", "2001:db8::/32", "AzureCloud", "Storage.WestEurope"];
  const narrow = ["52.1.2.0/24", "52.1.0.0/17", "203.0.113.7", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8", "fc00::/7", "fe80::/10", "2001:db8::/48", "VirtualNetwork", "AzureLoadBalancer", "/subscriptions/x/resourceGroups/app/providers/Microsoft.Network/applicationSecurityGroups/admins"];
  for (const s of broad) assert.equal(isBroadSource(s), true, s);
  for (const s of narrow) assert.equal(isBroadSource(s), false, s);
  assert.equal(isBroadSource("10.0.0.0/7"), true, "reaches past private space into 11.0.0.0/8");
  assert.equal(isBroadSource("52.1.2.0/24", { v4: 24, v6: 32 }), true, "the limits are the caller's");
  assert.equal(isBroadSource("0.0.0.0/0", { v4: 0, v6: 0 }), true);
});
