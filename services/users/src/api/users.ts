/**
 * /api/v1/users: a user reads and edits their own profile (`/me`); an admin reads
 * anyone's by id. The profile is created the first time its owner calls, from the
 * token's `name`/`preferred_username` and `email` when present.
 */
import { type AccessClaims, isAdmin, needs } from '@portico/auth';
import { checkPreconditions, etagFor, isFresh, notModified, type Server } from '@portico/http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import type { Profile, ProfileService } from '../domain/profiles.ts';
import { errors } from '../errors.ts';
import { IdParams, Problem, ProfileEnvelope, ProfilePatch } from './schemas.ts';
import { profileChanges, profileJson } from './serialize.ts';

const USERS = { roles: ['customer', 'admin'] };
const problems = {
  400: Problem,
  401: Problem,
  403: Problem,
  404: Problem,
  409: Problem,
  412: Problem,
  415: Problem,
};

function seedFrom(auth: AccessClaims) {
  const p = auth.payload as Record<string, unknown>;
  const name = [p.name, p.preferred_username].find((v) => typeof v === 'string' && v.trim() !== '');
  const email = typeof p.email === 'string' && p.email.length <= 254 ? p.email : null;
  return { displayName: (name as string | undefined)?.slice(0, 100) ?? null, email };
}

const etag = (p: Profile) => etagFor(p.id, p.version);

function send(request: FastifyRequest, reply: FastifyReply, profile: Profile) {
  const tag = etag(profile);
  reply.header('etag', tag).header('cache-control', 'private, no-cache');
  if (request.method === 'GET' && isFresh(request, tag)) return notModified(reply);
  return reply.send(profileJson(profile));
}

export function userRoutes(server: Server, profiles: ProfileService) {
  const tags = ['users'];

  server.get(
    '/api/v1/users/me',
    {
      config: { access: needs('users:read', USERS) },
      schema: {
        tags,
        summary: 'Your profile (created on the first call)',
        response: { 200: ProfileEnvelope, 304: Type304(), ...problems },
      },
    },
    async (request, reply) => {
      const auth = request.auth!;
      return send(request, reply, await profiles.findOrCreate(auth.sub, seedFrom(auth)));
    },
  );

  server.patch(
    '/api/v1/users/me',
    {
      config: { access: needs('users:write', USERS) },
      schema: {
        tags,
        summary: 'Change your display name or email (If-Match supported)',
        body: ProfilePatch,
        response: { 200: ProfileEnvelope, ...problems },
      },
    },
    async (request, reply) => {
      const auth = request.auth!;
      const body = request.body as Static<typeof ProfilePatch>;
      await profiles.findOrCreate(auth.sub, seedFrom(auth));
      const updated = await profiles.update(auth.sub, profileChanges(body), (current) =>
        checkPreconditions(request, etag(current)),
      );
      return send(request, reply, updated);
    },
  );

  server.get(
    '/api/v1/users/:id',
    {
      config: { access: needs('users:read', USERS) },
      schema: {
        tags,
        summary: 'A profile by id: your own, or anyone’s for an admin',
        params: IdParams,
        response: { 200: ProfileEnvelope, 304: Type304(), ...problems },
      },
    },
    async (request, reply) => {
      const auth = request.auth!;
      const { id } = request.params as Static<typeof IdParams>;
      if (id === auth.sub) return send(request, reply, await profiles.findOrCreate(id, seedFrom(auth)));
      if (!isAdmin(auth)) throw errors.NOT_YOUR_PROFILE('You can read only your own profile');
      const profile = await profiles.find(id);
      if (!profile) throw errors.USER_NOT_FOUND(`User with id ${id} not found`);
      return send(request, reply, profile);
    },
  );
}

function Type304() {
  return { type: 'null', description: 'Not Modified' };
}
