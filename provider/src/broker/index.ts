export { Broker, BrokerOptions, BrokerLimits, BrokerRequest, BrokerResponse, DEFAULT_LIMITS, RunningBroker, jsonBody, startBroker, isLoopback } from "./server";
export { OPENAPI } from "./openapi";
export * from "./auth";
export { outbound, type Outbound, type OutboundOptions } from "./outbound";
