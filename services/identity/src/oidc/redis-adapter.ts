/**
 * oidc-provider's storage contract on Redis, for deployments that want the provider's
 * short-lived artefacts (sessions, interactions, codes, grants, refresh tokens) out of
 * the SQL database. Accounts stay in SQL.
 *
 * - each artefact is a hash (`payload`, and `consumed` once used) with Redis expiry;
 * - `consume` is `HSETNX`: of two concurrent uses exactly one wins, the loser is a replay
 *   (the grant goes, the request fails), as in the SQL adapter;
 * - a list per grant remembers its artefacts for `revokeByGrantId`; uid and user-code
 *   lookups are plain keys pointing at the artefact id.
 */
import { Redis } from 'ioredis';
import { type Adapter, type AdapterConstructor, type AdapterPayload, errors } from 'oidc-provider';

export interface RedisAdapterOptions {
  url: string;
  /** Prefix for every key, so several deployments (or tests) can share one Redis. */
  prefix: string;
}

export interface RedisAdapterFactory {
  Adapter: AdapterConstructor;
  /** The connection, for other identity state that should be shared (login throttling). */
  client: Redis;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function redisAdapter(options: RedisAdapterOptions): RedisAdapterFactory {
  const redis = new Redis(options.url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  const { prefix } = options;
  const grantKey = (grantId: string) => `${prefix}grant:${grantId}`;

  async function revokeGrant(grantId: string) {
    const key = grantKey(grantId);
    const members = await redis.lrange(key, 0, -1);
    await redis.del(...members, key, `${prefix}Grant:${grantId}`);
  }

  class RedisAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    key(id: string) {
      return `${prefix}${this.model}:${id}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const key = this.key(id);
      const multi = redis.multi().del(key).hset(key, 'payload', JSON.stringify(payload));
      if (expiresIn) multi.expire(key, expiresIn);
      if (typeof payload.grantId === 'string') {
        const grant = grantKey(payload.grantId);
        multi.rpush(grant, key);
        // The index lives as long as the longest-lived artefact of the grant.
        if (expiresIn) multi.expire(grant, expiresIn, 'GT').expire(grant, expiresIn, 'NX');
      }
      for (const index of [
        typeof payload.uid === 'string' ? `${prefix}uid:${payload.uid}` : undefined,
        typeof payload.userCode === 'string' ? `${prefix}userCode:${payload.userCode}` : undefined,
      ]) {
        if (index && expiresIn) multi.set(index, id, 'EX', expiresIn);
        else if (index) multi.set(index, id);
      }
      await multi.exec();
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const found = await redis.hgetall(this.key(id));
      if (!found.payload) return undefined;
      const payload = JSON.parse(found.payload) as AdapterPayload;
      return found.consumed ? { ...payload, consumed: Number(found.consumed) } : payload;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const id = await redis.get(`${prefix}uid:${uid}`);
      return id ? this.find(id) : undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const id = await redis.get(`${prefix}userCode:${userCode}`);
      return id ? this.find(id) : undefined;
    }

    async consume(id: string): Promise<void> {
      const key = this.key(id);
      const won = await redis.hsetnx(key, 'consumed', Math.floor(Date.now() / 1000));
      if (won === 1) return;
      const found = await redis.hget(key, 'payload');
      const grantId = found ? (JSON.parse(found) as AdapterPayload).grantId : undefined;
      if (grantId) await revokeGrant(grantId);
      throw new errors.InvalidGrant(`${this.model} already consumed`);
    }

    async destroy(id: string): Promise<void> {
      await redis.del(this.key(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const key = grantKey(grantId);
      const members = await redis.lrange(key, 0, -1);
      const mine = members.filter((m) => m.startsWith(`${prefix}${this.model}:`));
      if (mine.length > 0) await redis.del(...mine);
    }
  }

  return {
    Adapter: RedisAdapter,
    client: redis,
    async ping() {
      await redis.ping();
    },
    async close() {
      await redis.quit();
    },
  };
}
