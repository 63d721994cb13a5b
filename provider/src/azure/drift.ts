/** A difference between the cloud and what the baseline should be, and the rule (NSG|name, or firewall|collection|name) it is about. */
export interface Drift {
  key: string;
  message: string;
}
