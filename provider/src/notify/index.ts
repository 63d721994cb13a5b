export { Notifier, type NotifierOptions, type SinkStatus } from "./notifier";
export { SinkConfig, render, requestLink, signature, summary, verifySignature, type Rendered } from "./sinks";
