import { app } from "@azure/functions";
import { expireHandler, httpHandler, sweepHandler } from "./functions";

/**
 * The Functions app's entry (dist/serverless/azure/index.js). Routes are served from the root
 * (host.json sets no `api/` prefix); the broker authenticates every caller itself, so the function
 * key is not what protects it. The timer schedule and queue name come from app settings.
 */
app.http("broker", { route: "{*path}", methods: ["GET", "POST"], authLevel: "anonymous", handler: httpHandler });
app.timer("sweep", { schedule: "%JIT_SWEEP_SCHEDULE%", handler: async (timer, ctx) => void (await sweepHandler(timer, ctx)) });
app.storageQueue("expire", { queueName: "%JIT_EXPIRY_QUEUE_NAME%", connection: "JIT_STORAGE", handler: async (message, ctx) => void (await expireHandler(message, ctx)) });

export { clientAddress, expireHandler, httpHandler, sweepHandler } from "./functions";
