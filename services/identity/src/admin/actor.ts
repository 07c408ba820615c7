/** Who performs an admin action, and the audit entry every admin action writes. */
import type { AuditService } from '../domain/audit.ts';

export interface Actor {
  sub: string;
  ip: string;
  userAgent?: string;
}

/** Records `action` on `target` by `actor`, with its user agent (cut to 200 characters) beside `detail`. */
export function recordAdminAction(
  audit: AuditService,
  actor: Actor,
  action: string,
  target: string | null,
  detail: Record<string, unknown>,
) {
  return audit.record({
    actor: actor.sub,
    action,
    target,
    ip: actor.ip,
    detail: { ...detail, ...(actor.userAgent ? { user_agent: actor.userAgent.slice(0, 200) } : {}) },
  });
}
