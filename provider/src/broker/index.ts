export { Broker, BrokerOptions, BrokerLimits, DEFAULT_LIMITS, RunningBroker, startBroker, isLoopback } from "./server";
export { OPENAPI } from "./openapi";
export * from "./auth";
export { outbound, type Outbound, type OutboundOptions } from "./outbound";
