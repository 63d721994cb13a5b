import { randomBytes, timingSafeEqual } from "node:crypto";
import type { BrokerCaller } from "../broker/auth";

/**
 * Console sessions live in the broker's memory, not in the ledger: a session holds the caller's
 * proof (an Entra ID access token, kept to check the cloud's request permission as the API does),
 * and bearer tokens never go to durable storage. The price is that a broker restart signs everyone
 * out, which costs one redirect through the identity provider. The store is bounded: when it is
 * full the least recently used session goes first, so a flood of sign-ins cannot grow memory.
 */
export interface Session {
  /** The cookie value: 256 random bits. */
  id: string;
  /** The synchronizer token every form of this session carries. */
  csrf: string;
  caller?: BrokerCaller;
  /** How the caller signed in, for the header. */
  method?: "azure" | "aws" | "dev";
  createdAt: number;
  lastSeen: number;
  /** Absolute end: the sign-in proof's own expiry at the latest. */
  expiresAt: number;
}

/** A sign-in under way (Azure authorization code with PKCE): what the callback must match. */
export interface PendingSignIn {
  id: string;
  state: string;
  verifier: string;
  expiresAt: number;
  /** The console page to land on once signed in (a notification's link, say). */
  next?: string;
}

export interface SessionLimits {
  maxSessions: number;
  idleMs: number;
  absoluteMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { maxSessions: 10_000, idleMs: 30 * 60_000, absoluteMs: 8 * 3600_000 };

export const randomToken = (): string => randomBytes(32).toString("base64url");

/** Compares two secrets in constant time (for equal lengths; lengths are not secret). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A bounded map whose oldest entries (by last use) go first; a Map iterates in insertion order. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  get size(): number {
    return this.map.size;
  }
}

export class SessionStore {
  private readonly sessions: Lru<Session>;
  private readonly pending: Lru<PendingSignIn>;

  constructor(
    readonly limits: SessionLimits,
    private readonly now: () => number,
  ) {
    this.sessions = new Lru(limits.maxSessions);
    // Sign-ins under way are few and short; their own bound keeps them from evicting sessions.
    this.pending = new Lru(Math.max(16, Math.ceil(limits.maxSessions / 10)));
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A new session (signed out, or signed in as `caller` until `expiresAt` at the latest). */
  create(signedIn?: { caller: BrokerCaller; method: NonNullable<Session["method"]>; expiresAt?: number }): Session {
    const now = this.now();
    const session: Session = {
      id: randomToken(),
      csrf: randomToken(),
      createdAt: now,
      lastSeen: now,
      expiresAt: Math.min(now + this.limits.absoluteMs, signedIn?.expiresAt ?? Infinity),
      ...(signedIn ? { caller: signedIn.caller, method: signedIn.method } : {}),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session the cookie names, its idle clock restarted; an expired one is dropped. */
  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    const now = this.now();
    if (now >= session.expiresAt || now - session.lastSeen >= this.limits.idleMs) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  startSignIn(next?: string): PendingSignIn {
    const pending: PendingSignIn = { id: randomToken(), state: randomToken(), verifier: randomToken(), expiresAt: this.now() + 10 * 60_000, ...(next !== undefined ? { next } : {}) };
    this.pending.set(pending.id, pending);
    return pending;
  }

  /** The sign-in the cookie names, left in place (its state is the sign-in forms' token). */
  peekSignIn(id: string | undefined): PendingSignIn | undefined {
    const pending = id === undefined ? undefined : this.pending.get(id);
    return pending && this.now() < pending.expiresAt ? pending : undefined;
  }

  /** The sign-in the cookie names, once: a callback cannot be replayed. */
  takeSignIn(id: string | undefined): PendingSignIn | undefined {
    if (id === undefined) return undefined;
    const pending = this.pending.get(id);
    if (!pending) return undefined;
    this.pending.delete(id);
    return this.now() < pending.expiresAt ? pending : undefined;
  }
}
