import { runShard } from "./shards";

runShard(__filename);
