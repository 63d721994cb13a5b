import { z } from "zod";

/** A policy port's protocol, as Defender spells it: TCP, UDP, or `*` for both. */
export const Protocol = z.enum(["TCP", "UDP", "*"]);
export type Protocol = z.infer<typeof Protocol>;
