/**
 * The session cookie and what a request sees of its session.
 * - cookie: httpOnly, SameSite=Lax, Path=/; Secure and the `__Host-` prefix when the
 *   console is served over https (the prefix pins it to this host, path / and Secure)
 * - a new id at sign-in (no fixation) and none at all after sign-out
 * - sliding expiry, written back at most once a minute so reads stay reads
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Session, SessionData, SessionStore } from './store.ts';

export interface SessionOptions {
  secure: boolean;
  idleSeconds: number;
  absoluteSeconds: number;
}

const TOUCH_AFTER_MS = 60_000;

export type Sessions = ReturnType<typeof createSessions>;

export function createSessions(store: SessionStore, options: SessionOptions) {
  const cookieName = options.secure ? '__Host-portico_session' : 'portico_session';
  const cache = new WeakMap<FastifyRequest, Session | null>();

  function setCookie(reply: FastifyReply, value: string, maxAge: number): void {
    reply.setCookie(cookieName, value, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: options.secure,
      maxAge,
    });
  }

  function expiryFrom(createdAt: number, now = Date.now()): number {
    return Math.min(now + options.idleSeconds * 1000, createdAt + options.absoluteSeconds * 1000);
  }

  return {
    cookieName,

    /** The request's session, or undefined; expired or unknown ids read as none. */
    async read(request: FastifyRequest): Promise<Session | undefined> {
      const cached = cache.get(request);
      if (cached !== undefined) return cached ?? undefined;
      const id = request.cookies[cookieName];
      const session = id ? await store.get(id) : undefined;
      if (session && Date.now() - session.updatedAt > TOUCH_AFTER_MS) {
        session.expiresAt = expiryFrom(session.createdAt);
        await store.touch(session);
      }
      cache.set(request, session ?? null);
      return session;
    },

    /** Starts a session (replacing any the request had) and sets its cookie. */
    async start(
      request: FastifyRequest,
      reply: FastifyReply,
      data: Partial<SessionData> = {},
    ): Promise<Session> {
      const old = await this.read(request);
      if (old) await store.destroy(old.id);
      const now = Date.now();
      const session = await store.create(
        { csrf: randomBytes(32).toString('base64url'), ...data },
        expiryFrom(now, now),
      );
      setCookie(reply, session.id, Math.ceil((session.expiresAt - now) / 1000));
      cache.set(request, session);
      return session;
    },

    /** The request's session, started when there is none. */
    async ensure(request: FastifyRequest, reply: FastifyReply): Promise<Session> {
      return (await this.read(request)) ?? this.start(request, reply);
    },

    async save(session: Session): Promise<void> {
      await store.save(session);
    },

    async end(request: FastifyRequest, reply: FastifyReply): Promise<Session | undefined> {
      const session = await this.read(request);
      if (session) await store.destroy(session.id);
      cache.set(request, null);
      setCookie(reply, '', 0);
      return session;
    },
  };
}
